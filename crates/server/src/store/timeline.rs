//! Links' timelines as the store keeps them: one row per step, named by
//! both of the link's linked-server ids, so either side's id finds it, and
//! only the newest [`TIMELINE_LIMIT`] steps of a link are kept.

use georep_core::live::TimelineEntry;
use rusqlite::params;

use super::{from_json, to_json, Result, Store, TIMELINE_LIMIT};

impl Store {
    /// Appends a step to a link's timeline, named by both of its
    /// linked-server ids; returns the step's id. Keeps the newest
    /// [`TIMELINE_LIMIT`] steps per link.
    pub fn add_timeline_entry(
        &self,
        link: &str,
        peer: &str,
        at_ms: i64,
        entry: &TimelineEntry,
    ) -> Result<u64> {
        let (link, peer) = (link.to_ascii_lowercase(), peer.to_ascii_lowercase());
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO timeline (link, peer, at_ms, record) VALUES (?1, ?2, ?3, ?4)",
            params![link, peer, at_ms, to_json(entry)?],
        )?;
        let id = tx.last_insert_rowid();
        tx.execute(
            "DELETE FROM timeline WHERE link = ?1 AND id NOT IN
               (SELECT id FROM timeline WHERE link = ?1 ORDER BY id DESC LIMIT ?2)",
            params![link, TIMELINE_LIMIT],
        )?;
        tx.commit()?;
        Ok(u64::try_from(id).unwrap_or_default())
    }

    /// A link's timeline, oldest first, by either of its linked-server ids.
    pub fn timeline(&self, linked_server_id: &str) -> Result<Vec<TimelineEntry>> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT id, record FROM timeline WHERE link = ?1 OR peer = ?1 ORDER BY at_ms, id",
        )?;
        let rows = statement.query_map([linked_server_id.to_ascii_lowercase()], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        rows.map(|row| {
            let (id, text) = row?;
            let mut entry: TimelineEntry = from_json(&text)?;
            entry.id = u64::try_from(id).unwrap_or_default();
            Ok(entry)
        })
        .collect()
    }
}
