//! The API tests: the real `georep-server` binary on a free port, spoken to
//! over HTTP as ARM clients do, with real `redis-server` nodes behind it.
//!
//! One test binary (one link of the server and its dependencies) holds every
//! area as a module, so a test's path names its area, e.g.
//! `links::every_restriction_holds_while_linked`.

#[path = "../common/mod.rs"]
mod common;
mod support;

mod addresses;
mod azcli;
mod bad_input;
mod caches;
mod demo;
mod failover;
mod fidelity;
mod geo_endpoints;
mod geo_events;
mod geo_failover;
mod geo_metrics;
mod geo_refusals;
mod geo_timeline;
mod links;
mod restart;
mod sdk;
mod startup;
mod tls;
mod tls_ports;
