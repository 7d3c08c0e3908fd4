//! The data plane: every cache's `redis-server` processes and what happens
//! between them. [`node`] is one process and the Redis client helpers that
//! talk to it; [`replication`] the Redis-level steps of a link (sync,
//! progress, planned and forced failover); [`sampler`] the metrics read from
//! the nodes every second; [`drill_writer`] a drill's writes through a
//! geo-primary URL and their ledger; [`addresses`] the loopback addresses every node,
//! cache and geo-primary URL listens on; [`credentials`] which password
//! opens which node; [`fleet`] all of a cache's nodes
//! together (their processes, their listeners, their replication), which is
//! what the control plane calls; [`verify`] compares a link's two sides.
//!
//! It knows nothing of ARM requests or HTTP; it fails with its own errors
//! ([`fleet::FleetError`] and those it wraps).

pub mod addresses;
pub mod credentials;
pub mod drill_writer;
pub mod fleet;
pub mod node;
pub mod replication;
pub mod sampler;
pub mod verify;
