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
//! - [`config`]: the command line.
//! - [`server`]: start-up, serving and shutdown.
//! - [`auth`]: the API token and the middleware that requires it.
//! - [`api`]: routes, extractors and the one error-to-response mapping.
//! - [`app`]: the state handlers share, and the views of a cache.
//! - [`cache`]: a cache as the store records it, and its ARM and rules views.
//! - [`caches`]: cache operations (create, update, delete, keys, export, import, reboot).
//! - [`links`]: geo-replication links (create, read, unlink).
//! - [`failover`]: failover, the link created in reverse (planned or forced).
//! - [`geo`]: each linked cache's geo-primary endpoint, following the link.
//! - [`monitor`]: which links are sampled, and what their samples mean.
//! - [`timeline`]: each link's timeline of steps.
//! - [`events`]: the live-status hub behind the event stream.
//! - [`tickets`]: single-use tickets that open the event stream.
//! - [`ops`]: long-running operations and ARM's polling protocol.
//! - [`fleet`]: the `redis-server` processes of every cache.
//! - [`store`]: the SQLite control-plane database.
//! - [`recovery`]: what a start does with what the last run left.
//! - [`subscriptions`]: the subscriptions clients can discover.
//! - [`demo`]: the demonstration fleet `--demo` seeds.

pub mod node;
pub mod proxy;
pub mod replication;
pub mod sampler;

pub mod api;
pub mod app;
pub mod auth;
pub mod cache;
pub mod caches;
pub mod config;
pub mod demo;
pub mod events;
pub mod failover;
pub mod fleet;
pub mod geo;
pub mod links;
pub mod monitor;
pub mod ops;
pub mod recovery;
pub mod server;
pub mod store;
pub mod subscriptions;
pub mod tickets;
pub mod timeline;
