//! Redis-level replication steps.
