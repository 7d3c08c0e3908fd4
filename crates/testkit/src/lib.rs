//! `georep-testkit`: one harness for everything that starts the real
//! `georep-server` — the API tests, the end-to-end walkthroughs and the
//! benchmarks.
//!
//! - [`server`] starts the binary on a free port in a temporary data
//!   directory, reads its address and token, restarts it, `kill -9`s it,
//!   and kills it and its nodes on drop;
//! - [`api`] is an HTTP client for its ARM API (Bearer token, api-version,
//!   long-running operations);
//! - [`redis_client`] connects to the caches' endpoints with the maintained
//!   `redis` crate and reads `INFO`;
//! - [`browser`] runs headless Chromium through chromedriver (fantoccini),
//!   with the flags of the repository's `webdriver.json`;
//! - [`chaos`] is the seeded chaos run (faults and operations on a linked
//!   pair under a writer, and what it lost), for the chaos test and the
//!   bench;
//! - [`load`] is a writer under load with its ledger of acknowledged
//!   writes, and the check that none went missing;
//! - [`killpoint`] kills the server at a logged step or a set time into
//!   an operation, for the crash-safety sweeps, and checks afterwards that
//!   the nodes running are the ones the API lists; [`killpoint::pair`]
//!   sweeps a linked pair's operations with it, for the fault tests and
//!   (denser) the bench;
//! - [`wait`] polls a condition until it holds or a deadline passes (no
//!   test asserts how long something took);
//! - [`paths`] and [`process`] are plumbing: where the repository, the
//!   target directory and the binary are, and processes found by pid.
//!
//! Fallible operations return [`anyhow::Result`] with a message that says
//! what failed, so a test can `.expect()` them and a benchmark can report
//! them and go on. The HTTP verbs of [`api::Api`] (`get`, `put`, …) are the
//! exception: a test sends hundreds of them, so they panic when the request
//! cannot be sent at all, and return the response whatever its status.

pub mod api;
pub mod browser;
pub mod chaos;
pub mod killpoint;
pub mod load;
pub mod paths;
pub mod process;
pub mod redis_client;
pub mod server;
pub mod wait;

pub use api::{Api, API_VERSION};
pub use browser::{Browser, Chromedriver};
pub use server::{Server, ServerBuilder};
pub use wait::Poll;
