//! Geo-replication metrics sampled from the real nodes.
