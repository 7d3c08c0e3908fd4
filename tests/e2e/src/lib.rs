//! The end-to-end walkthroughs' own pieces (tests/): the built console
//! (`$GEOREP_DIST`) as a page object, the demo server's API as the
//! walkthrough reads it, and numbered screenshots. Everything else — the
//! server process, the browser, Redis, waits, paths — is `georep-testkit`.
//!
//! - [`server`] starts `georep-server --demo` and reads its fleet;
//! - [`console`] is the console as a page object;
//! - [`screenshots`] numbers the walkthrough's screenshots;
//! - [`static_host`] serves the built console as any static host would.

pub mod console;
pub mod screenshots;
pub mod server;
pub mod static_host;
