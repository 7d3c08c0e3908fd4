//! What the console watches: the live-status hub behind the event stream,
//! the single-use tickets that open it, each link's timeline of steps, and
//! each link's health (which links are sampled and what their samples mean).
//!
//! The control plane feeds it; it reads the data plane's sampler and the
//! store, and never changes a cache.

pub mod events;
pub mod health;
pub mod tickets;
pub mod timeline;
