//! The harness of the end-to-end walkthroughs (tests/): the real
//! `georep-server` binary with its demo fleet, serving the built console
//! (`$GEOREP_DIST`), real Redis nodes, and headless Chromium driven through
//! chromedriver.
//!
//! - [`server`] starts and stops the server and calls its API;
//! - [`browser`] starts chromedriver and Chromium;
//! - [`console`] is the console as a page object;
//! - [`redis_client`] talks to the caches' endpoints;
//! - [`screenshots`], [`wait`], [`process`] and [`workspace`] are plumbing.

pub mod browser;
pub mod console;
pub mod process;
pub mod redis_client;
pub mod screenshots;
pub mod server;
pub mod wait;
pub mod workspace;
