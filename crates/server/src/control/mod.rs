//! The control plane: what each API call and each background task does to
//! the caches, their links and their operations. Every rule comes from
//! georep-core; every effect on Redis goes through [`crate::dataplane`];
//! everything the console should see is handed to [`crate::live`].
//!
//! Nothing here knows HTTP: operations fail with [`ControlError`], which the
//! API maps to ARM's error body once, in `api/error.rs`.

pub mod app;
pub mod caches;
pub mod drills;
mod error;
pub mod failover;
pub mod faults;
pub mod ha;
pub mod links;
pub mod ops;
pub mod recovery;
pub mod shape;
pub mod subscriptions;
pub mod update;
pub mod verify;

pub use app::{App, SharedApp};
pub use error::{chain, ControlError, Result};
