//! The data-plane tests: the library's nodes, links, geo-primary endpoints,
//! failovers and metrics sampler, driven directly against real
//! `redis-server` processes (no control-plane process).
//!
//! One test binary holds every area as a module, so a test's path names its
//! area, e.g. `failover::twenty_planned_failovers_through_a_moving_address_lose_nothing`.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod failover;
mod listeners;
mod replication;
