//! The data-plane tests: the library's nodes, links, geo-primary endpoints,
//! failovers and metrics sampler, driven directly against real
//! `redis-server` processes (no control-plane process).
//!
//! One test binary holds every area as a module, so a test's path names its
//! area, e.g. `proxy::a_pause_holds_new_connections_until_the_switch`.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod failover;
mod proxy;
mod replication;
