//! `georep-server`: a local control plane for passive geo-replication.
//!
//! It speaks Azure Resource Manager's `Microsoft.Cache/redis` API and runs
//! every cache as real `redis-server` processes on this machine, so linking,
//! full sync, read-only secondaries, failover and unlink really happen.
//!
//! The crate is in layers, each a folder, and each imports only the layers
//! below it (`docs/architecture.md` has the code map and the invariants):
//!
//! - [`api`]: the HTTP edge: routes, extractors, auth, and the one mapping
//!   of errors to ARM's error body. The only place HTTP types exist.
//! - [`control`]: the control plane: the shared app state, caches, links,
//!   failover, recovery and subscriptions, with their [`control::ControlError`].
//! - [`live`]: what the console watches: the event hub, tickets, the links'
//!   timelines and their health.
//! - [`dataplane`]: the `redis-server` nodes, replication, the metrics
//!   sampler, the geo-primary endpoints and the fleet.
//! - [`store`]: the SQLite control-plane database and the records it keeps.
//!
//! Beside them, leaves every layer may use: [`secrets`] (random tokens and
//! keys), [`tls`] (the local certificate authority) and [`identity`] (the
//! managed identity's signed tokens); and the
//! binary's start-up: [`config`] (the command line), [`server`] (start,
//! serve, shut down) and [`demo`] (the demonstration fleet).

pub mod api;
pub mod control;
pub mod dataplane;
pub mod live;
pub mod store;

pub mod config;
pub mod demo;
pub mod identity;
pub mod secrets;
pub mod server;
pub mod tls;
