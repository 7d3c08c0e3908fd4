//! What the console knows about the fleet, built from ARM resources.
//!
//! Pure data and derivations, no HTTP and no signals, so components and
//! tests can build a [`Fleet`] from fixtures. Every geo-replication rule
//! comes from `georep-core`; this module only joins ARM's separate resources
//! (cache, firewall rules, linked servers) into the views the pages show.

mod cache;
mod endpoints;
mod fleet;
mod format;
mod health;
mod link;

pub use cache::{CacheEntry, Node};
pub use endpoints::{EndpointAddress, Endpoints};
pub use fleet::Fleet;
pub use format::{format_bytes, format_time};
pub use health::Health;
pub use link::{pair_key, LinkView, PrimaryOffset};
