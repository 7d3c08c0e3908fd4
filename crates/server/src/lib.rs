//! `georep-server`: a local control plane for passive geo-replication.
//!
//! It speaks Azure Resource Manager's `Microsoft.Cache/redis` API and runs
//! every cache as real `redis-server` processes on this machine, so linking,
//! full sync, read-only secondaries, failover and unlink really happen.
//!
//! Module map (one job each):
//! - [`proxy`]: geo-primary endpoints, TCP listeners that forward to whichever cache is primary.
//! - [`replication`]: Redis-level replication steps (link, progress, planned and forced failover).
//! - [`sampler`]: geo-replication metrics sampled from the real nodes every second.
//!
//! The API, the cache fleet and the control-plane store are added beside these.

pub mod node;
pub mod proxy;
pub mod replication;
pub mod sampler;
