//! What both test binaries (`api` and `nodes`) use, included by each as
//! `common`: Redis connections as an application (or the operator) makes
//! them, bounded polling, and a writer under load with the check that
//! nothing it was told was written went missing. All of it is the shared
//! test kit's (`georep-testkit`); only the panicking form of
//! `CONFIG SET rdb-key-save-delay` is this crate's.
#![allow(dead_code, unused_imports)]

use redis::aio::MultiplexedConnection;

pub use georep_testkit::load::{assert_all_present, writer, OnFailure, Written};
pub use georep_testkit::redis_client::{connect, connect_as};
pub use georep_testkit::wait::eventually;

/// `CONFIG SET rdb-key-save-delay {micros}`: how long the node spends on
/// each key of a snapshot, so a full sync can be made to last. Panics if
/// the node refuses.
pub async fn set_rdb_key_save_delay(con: &mut MultiplexedConnection, micros: u64) {
    georep_testkit::redis_client::set_rdb_key_save_delay(con, micros)
        .await
        .unwrap_or_else(|e| panic!("CONFIG SET rdb-key-save-delay {micros}: {e}"));
}
