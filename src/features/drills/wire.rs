//! What the drill, verification and fault extensions (`/x-georep/drills`,
//! `/verify`, `/faults`) send and answer, as the console reads them.
//!
//! Every answer field has a default: a field the server leaves out (a
//! report still being written, an older server) reads as "not known yet"
//! instead of failing the whole answer.

use serde::{Deserialize, Serialize};

/// Planned or forced, as the drill API spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DrillKind {
    /// Waits until the secondary has every byte: nothing may be lost.
    #[default]
    Planned,
    /// Promotes the secondary at once: writes not yet replicated are lost.
    Forced,
}

impl DrillKind {
    /// A word for people.
    pub fn label(self) -> &'static str {
        match self {
            DrillKind::Planned => "Planned",
            DrillKind::Forced => "Forced",
        }
    }
}

/// The body of `POST /x-georep/drills`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrillRequest {
    /// The link's linked-server id.
    pub link: String,
    /// Planned or forced.
    pub kind: DrillKind,
    /// How long the drill's writer writes, in seconds.
    pub seconds: u32,
    /// Whether the drill fails back to the original geo-primary.
    pub failback: bool,
}

/// Where a drill stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
pub enum DrillStatus {
    /// Writing, failing over, verifying.
    #[default]
    Running,
    /// Finished; the report is complete.
    Succeeded,
    /// Stopped on an error; `error` says which.
    Failed,
}

impl DrillStatus {
    /// A word for people.
    pub fn label(self) -> &'static str {
        match self {
            DrillStatus::Running => "Running",
            DrillStatus::Succeeded => "Succeeded",
            DrillStatus::Failed => "Failed",
        }
    }

    /// The badge class suffix (`styles/components/status.css`).
    pub fn tone(self) -> &'static str {
        match self {
            DrillStatus::Running => "busy",
            DrillStatus::Succeeded => "healthy",
            DrillStatus::Failed => "unhealthy",
        }
    }
}

/// ARM's `{code, message}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct ArmError {
    /// E.g. `OperationInProgress`.
    pub code: String,
    /// What went wrong, in words.
    pub message: String,
}

/// One step of a drill, `atMs` after it started.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DrillStep {
    /// What happened, e.g. "failover started".
    pub name: String,
    /// When, in milliseconds since the drill started.
    pub at_ms: u64,
}

/// The answer of `POST /x-georep/verify`, also a drill report's last word:
/// the server's own type.
pub use georep_core::verification::Verification;

/// What a drill measured.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DrillReport {
    /// The longest time without an acknowledged write, in milliseconds.
    pub rto_ms: Option<u64>,
    /// When that longest gap ended, in milliseconds since the start.
    pub rto_at_ms: Option<u64>,
    /// Writes the geo-primary acknowledged.
    pub acked_writes: Option<u64>,
    /// Acknowledged writes missing at the end: the drill's RPO.
    pub lost_writes: Option<u64>,
    /// The replication-stream bytes of the lost writes.
    pub lost_bytes: Option<u64>,
    /// What the failover reported it might lose; `None` when unknown.
    pub bytes_possibly_lost: Option<u64>,
    /// Whether the old primary came back by partial resync.
    pub partial_resync: Option<bool>,
    /// Both sides compared at the end.
    pub verification: Option<Verification>,
    /// Each step, with its time.
    pub steps: Vec<DrillStep>,
    /// The writer's acknowledged writes per second over the drill.
    pub writes_per_second: Option<f64>,
}

/// A drill resource.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Drill {
    /// Its id, for `GET /x-georep/drills/{id}`.
    pub id: String,
    /// The link's linked-server id.
    pub link: String,
    /// Planned or forced.
    pub kind: DrillKind,
    /// Running, Succeeded or Failed.
    pub status: DrillStatus,
    /// RFC 3339.
    pub started_at: Option<String>,
    /// RFC 3339, once finished.
    pub finished_at: Option<String>,
    /// What it measured so far.
    pub report: Option<DrillReport>,
    /// Why it failed.
    pub error: Option<ArmError>,
}

impl Drill {
    /// Whether it is still running.
    pub fn running(&self) -> bool {
        self.status == DrillStatus::Running
    }
}

/// A kind of fault, as `POST /x-georep/faults` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// The geo-secondary stops replicating (and keeps its data).
    CutLink,
    /// The cut link replicates again.
    RestoreLink,
    /// One node is killed.
    KillNode,
    /// Every node of every cache in a region is killed.
    KillRegion,
}

/// The body of `POST /x-georep/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultRequest {
    /// The link's linked-server id.
    pub link: String,
    /// Which fault.
    pub kind: FaultKind,
    /// For `kill-node`: `primary` or `secondary`, the cache's role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<String>,
    /// For `kill-node`: `primary` or `replica`, the node's role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// For `kill-region`: the region, in ARM's form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl FaultRequest {
    /// A fault of `kind` on `link` with no parameters.
    pub fn new(link: impl Into<String>, kind: FaultKind) -> Self {
        Self {
            link: link.into(),
            kind,
            cache: None,
            role: None,
            region: None,
        }
    }
}

/// A fault still in force.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct ActiveFault {
    /// E.g. `cut-link`.
    pub kind: String,
    /// RFC 3339.
    pub since: Option<String>,
}

/// What `GET` and `POST /x-georep/faults` answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// What the fault did, in words (`POST` only).
    pub message: Option<String>,
    /// The faults still active.
    pub active: Vec<ActiveFault>,
}
