//! Disaster-recovery drills (`/x-georep/drills`) as the store keeps them:
//! one row per drill, looked up by its id or by either of its link's
//! linked-server ids, newest first. Past drills outlive a restart; one that
//! was running when the server stopped is found by [`Store::running_drills`]
//! and marked failed.

use georep_core::arm::ErrorDetail;
use georep_core::link::FailoverKind;
use georep_core::verification::Verification;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::{from_json, to_json, Result, Store};

/// The drills table; created beside the others when the store opens.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS drills (
    id       TEXT PRIMARY KEY,
    link     TEXT NOT NULL,                -- lower-cased linked-server id, first cache's side
    peer     TEXT NOT NULL,                -- lower-cased linked-server id, second cache's side
    running  INTEGER NOT NULL,
    record   TEXT NOT NULL                 -- DrillRecord as JSON
);
CREATE INDEX IF NOT EXISTS drills_by_link ON drills (link);
CREATE INDEX IF NOT EXISTS drills_by_peer ON drills (peer);
";

/// Where a drill stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrillStatus {
    /// Writing, failing over, checking.
    Running,
    /// It ran to the end and found what a drill of its kind should.
    Succeeded,
    /// It stopped on an error, or found what it must not (see `error`).
    Failed,
}

/// The failover a drill rehearses, as the drill API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrillKind {
    /// A planned failover: nothing may be lost.
    Planned,
    /// A forced failover: the loss must be within what it reported.
    Forced,
}

impl From<DrillKind> for FailoverKind {
    fn from(kind: DrillKind) -> Self {
        match kind {
            DrillKind::Planned => FailoverKind::Planned,
            DrillKind::Forced => FailoverKind::Forced,
        }
    }
}

/// One step of a drill, `at_ms` after it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillStep {
    /// What happened, e.g. `failover requested`.
    pub name: String,
    /// Milliseconds since the drill started.
    pub at_ms: u64,
}

/// What a drill measured; filled in as it runs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillReport {
    /// The longest time between two acknowledged writes, in milliseconds.
    pub rto_ms: u64,
    /// When that longest gap ended, in milliseconds since the drill
    /// started (to set beside the steps); `null` until the writer stopped.
    pub rto_at_ms: Option<u64>,
    /// Writes the geo-primary URL acknowledged.
    pub acked_writes: u64,
    /// Acknowledged writes missing (or changed) on the final geo-primary;
    /// `null` until checked.
    pub lost_writes: Option<u64>,
    /// The replication-stream bytes of the lost writes (each `SET` as RESP).
    pub lost_bytes: Option<u64>,
    /// What the failover reported it may have lost; `null` when unknown.
    pub bytes_possibly_lost: Option<u64>,
    /// Whether the failover reported the old primary rejoining by partial
    /// resync; `null` when it did not say (a forced failover).
    pub partial_resync: Option<bool>,
    /// Acknowledged writes per second over the drill.
    pub writes_per_second: f64,
    /// Both sides compared once the writer stopped.
    pub verification: Option<Verification>,
    /// Each step, with its time.
    pub steps: Vec<DrillStep>,
}

/// One drill, as the store keeps it and the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DrillRecord {
    /// A random id; its keys are `georep:drill:{id}:{n}`.
    pub id: String,
    /// The link's linked-server id, as the request named it.
    pub link: String,
    /// Planned or forced.
    pub kind: DrillKind,
    /// How long the writer writes, about, in seconds.
    pub seconds: u32,
    /// Whether it fails back (a planned failover) after the failover.
    pub failback: bool,
    /// Where it stands.
    pub status: DrillStatus,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it ended (RFC 3339).
    pub finished_at: Option<String>,
    /// What it measured.
    pub report: DrillReport,
    /// Why it failed, in ARM's shape.
    pub error: Option<ErrorDetail>,
}

impl DrillRecord {
    /// The prefix of every key the drill writes.
    pub fn key_prefix(&self) -> String {
        key_prefix(&self.id)
    }
}

/// The prefix of every key drill `id` writes: `georep:drill:{id}:`.
pub fn key_prefix(id: &str) -> String {
    format!("georep:drill:{id}:")
}

impl Store {
    /// Inserts or replaces a drill of the link named `link` and `peer`
    /// (its linked-server ids from either side).
    pub fn put_drill(&self, link: &str, peer: &str, drill: &DrillRecord) -> Result<()> {
        self.conn().execute(
            "INSERT INTO drills (id, link, peer, running, record) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET running = excluded.running, record = excluded.record",
            params![
                drill.id,
                link.to_ascii_lowercase(),
                peer.to_ascii_lowercase(),
                drill.status == DrillStatus::Running,
                to_json(drill)?
            ],
        )?;
        Ok(())
    }

    /// Records a drill's progress or end (it was put before).
    pub fn update_drill(&self, drill: &DrillRecord) -> Result<()> {
        self.conn().execute(
            "UPDATE drills SET running = ?2, record = ?3 WHERE id = ?1",
            params![
                drill.id,
                drill.status == DrillStatus::Running,
                to_json(drill)?
            ],
        )?;
        Ok(())
    }

    /// The drill with this id, if any.
    pub fn drill(&self, id: &str) -> Result<Option<DrillRecord>> {
        let text: Option<String> = self
            .conn()
            .query_row("SELECT record FROM drills WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        text.map(|t| from_json(&t)).transpose()
    }

    /// The drills of the link with this linked-server id (either side),
    /// newest first.
    pub fn drills_of(&self, linked_server_id: &str) -> Result<Vec<DrillRecord>> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT record FROM drills WHERE link = ?1 OR peer = ?1 ORDER BY rowid DESC",
        )?;
        let rows = statement.query_map([linked_server_id.to_ascii_lowercase()], |r| {
            r.get::<_, String>(0)
        })?;
        rows.map(|text| from_json(&text?)).collect()
    }

    /// Every drill still marked running.
    pub fn running_drills(&self) -> Result<Vec<DrillRecord>> {
        let conn = self.conn();
        let mut statement =
            conn.prepare("SELECT record FROM drills WHERE running = 1 ORDER BY rowid")?;
        let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|text| from_json(&text?)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drill(id: &str) -> DrillRecord {
        DrillRecord {
            id: id.into(),
            link: "/a/linkedServers/b".into(),
            kind: DrillKind::Planned,
            seconds: 3,
            failback: false,
            status: DrillStatus::Running,
            started_at: "2024-01-01T00:00:00Z".into(),
            finished_at: None,
            report: DrillReport::default(),
            error: None,
        }
    }

    #[test]
    fn drills_are_kept_newest_first_and_found_from_either_side() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .put_drill("/A/linkedServers/b", "/b/linkedServers/a", &drill("one"))
            .unwrap();
        let mut two = drill("two");
        store
            .put_drill("/a/linkedServers/b", "/b/linkedServers/a", &two)
            .unwrap();
        let ids = |link: &str| -> Vec<String> {
            store
                .drills_of(link)
                .unwrap()
                .into_iter()
                .map(|d| d.id)
                .collect()
        };
        assert_eq!(ids("/a/linkedServers/b"), ["two", "one"]);
        assert_eq!(ids("/B/linkedServers/A"), ["two", "one"]);
        assert!(ids("/c/linkedServers/a").is_empty());
        assert_eq!(store.running_drills().unwrap().len(), 2);

        two.status = DrillStatus::Failed;
        store.update_drill(&two).unwrap();
        let running: Vec<String> = store
            .running_drills()
            .unwrap()
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(running, ["one"]);
        assert_eq!(
            store.drill("two").unwrap().unwrap().status,
            DrillStatus::Failed
        );
        assert_eq!(store.drill("three").unwrap(), None);
        assert_eq!(drill("x").key_prefix(), "georep:drill:x:");
    }

    #[test]
    fn the_record_reads_in_camel_case_with_nulls_until_known() {
        let value = serde_json::to_value(drill("one")).unwrap();
        assert_eq!(value["status"], "Running");
        assert_eq!(value["kind"], "planned");
        assert_eq!(value["startedAt"], "2024-01-01T00:00:00Z");
        assert!(value["finishedAt"].is_null());
        assert!(value["report"]["lostWrites"].is_null());
        assert_eq!(value["report"]["rtoMs"], 0);
    }
}
