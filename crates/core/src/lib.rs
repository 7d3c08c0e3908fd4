//! The domain of passive geo-replication for Redis caches, shared by the
//! console (for instant feedback) and the server (for enforcement).
//!
//! Everything here is pure: no I/O, no async runtime, and it builds for both
//! `wasm32-unknown-unknown` and native targets. The reference behaviour is
//! Microsoft's "Configure passive geo-replication for Premium Azure Cache for
//! Redis instances".

pub mod arm;
pub mod compat;
pub mod failover;
pub mod id;
pub mod link;
pub mod live;
pub mod metrics;
pub mod model;
pub mod names;
pub mod regions;
pub mod restrict;
pub mod verification;
pub mod words;

pub use compat::{candidates, check_pair, Candidate, Reason, Warning};
pub use id::CacheId;
pub use link::{Event, LinkState, Pair, Refusal};
pub use model::{Cache, ProvisioningState, ServerRole, Sku, SkuFamily, SkuName};
pub use restrict::{check_change, Change, Restriction};
