//! Long-running operations as the store keeps them: one row per operation,
//! with a flag for the ones a restart must finish or fail. Every write is
//! announced on a watch channel, so a status poll that waits for a running
//! operation wakes when its record may have changed rather than reading
//! SQLite on a timer.

use rusqlite::{params, Connection, OptionalExtension};
use tokio::sync::watch;

use super::records::OperationRecord;
use super::{from_json, to_json, Result, Store};

impl Store {
    /// Inserts or replaces an operation.
    pub fn put_operation(&self, op: &OperationRecord) -> Result<()> {
        put_operation_on(&self.conn(), op)?;
        self.operation_written();
        Ok(())
    }

    /// Wakes the waiters of [`Store::operation_writes`]; after every
    /// operation write, once it is committed.
    pub(super) fn operation_written(&self) {
        self.operation_writes.send_modify(|writes| *writes += 1);
    }

    /// The operation with this id, if any.
    pub fn operation(&self, id: &str) -> Result<Option<OperationRecord>> {
        let text: Option<String> = self
            .conn()
            .query_row("SELECT record FROM operations WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        text.map(|t| from_json(&t)).transpose()
    }

    /// The operations that had not finished, oldest first.
    pub fn unfinished_operations(&self) -> Result<Vec<OperationRecord>> {
        let conn = self.conn();
        let mut statement =
            conn.prepare("SELECT record FROM operations WHERE finished = 0 ORDER BY rowid")?;
        let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|text| from_json(&text?)).collect()
    }

    /// A receiver that sees every later operation write (any operation's):
    /// subscribe before reading a record, then wait on `changed()`, and no
    /// write between the read and the wait is missed.
    pub fn operation_writes(&self) -> watch::Receiver<u64> {
        self.operation_writes.subscribe()
    }
}

/// [`Store::put_operation`] on `conn`, which may be a transaction; the
/// caller announces the write once it is committed.
pub(super) fn put_operation_on(conn: &Connection, op: &OperationRecord) -> Result<()> {
    conn.execute(
        "INSERT INTO operations (id, finished, record) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET finished = excluded.finished, record = excluded.record",
        params![op.id, op.is_finished(), to_json(op)?],
    )?;
    Ok(())
}
