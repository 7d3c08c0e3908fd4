//! Faults survived, nothing lost: the real server, real `redis-server`
//! nodes and `kill -9`, through the one test kit (`georep-testkit`).
//!
//! - [`drills`]: disaster-recovery drills: a planned one loses nothing, a
//!   forced one after a cut loses what it reported at most, a crash or a
//!   killed node ends one honestly, bad input gets ARM's errors.
//! - [`ha`]: a cache's primary node dies (under a writer) and its replica
//!   takes over; `forceReboot` of a primary node hands over first; a node
//!   lost while the control plane is down comes back as a replica.
//! - [`inject`]: faults on purpose: a cut link, restored; a killed node.
//! - [`invariant`]: no automatic action replaces data with emptiness: a
//!   geo-primary that lost every node fails its link, and the geo-secondary
//!   keeps its data.
//! - [`isolation`]: busy caches refuse operations with 409, response URLs
//!   never come from `Host`, and files holding secrets are the owner's only.
//! - [`sweep`]: the control plane killed at every logged step and ten
//!   evenly spaced points of the first 500 ms of a link, a planned and a
//!   forced failover, an unlink, a geo-primary's reboot and a key
//!   regeneration on a linked pair (the test kit's `killpoint::pair`, which
//!   the bench runs denser) converges from what Redis says, and loses
//!   nothing.
//! - [`sweep_cache`] and [`sweep_reboot`]: the same for create, update,
//!   delete, regenerateKey, import, export and each kind of forceReboot of
//!   a cache alone ([`sweep_check`] is what they share).
//! - [`verify`]: verification proves both sides equal, and finds a
//!   difference planted on the geo-secondary.

mod drills;
mod ha;
mod inject;
mod invariant;
mod isolation;
mod support;
mod sweep;
mod sweep_cache;
mod sweep_check;
mod sweep_reboot;
mod verify;
