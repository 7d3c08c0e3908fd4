//! Disaster-recovery drills (`/x-georep/drills`): a rehearsed failover,
//! measured.
//!
//! A drill runs its own writer through the link's geo-primary URL (see
//! [`crate::dataplane::drill_writer`]), under the reserved prefix
//! `georep:drill:{id}:`. It writes for a third of its `seconds` (the
//! warm-up), fails over through the same path the API's `PUT` in reverse
//! takes ([`crate::control::failover::request`]), keeps writing for a
//! third, optionally fails back (a planned failover), writes for the last
//! third, and stops. It then checks its ledger of acknowledged writes
//! against the final geo-primary, verifies the two sides
//! ([`crate::control::verify::verify`]), and deletes its keys through the
//! geo-primary URL, so the deletion replicates.
//!
//! It succeeds only if it found what its kind promises: a planned drill
//! lost no acknowledged write, a forced one lost no more replication-stream
//! bytes than the failover reported, and the sides are consistent.
//! Otherwise it fails, with the report kept. Every wait is bounded, so a
//! drill always ends. One that was running when the server stopped is
//! marked failed on start ([`recover`]) and its keys are removed.

mod run;

use std::time::Duration;

use georep_core::arm::ErrorDetail;
use georep_core::link::{Event, LinkState};
use tokio::time::Instant;

use crate::control::{chain, links, ControlError, SharedApp};
use crate::dataplane::addresses::socket;
use crate::dataplane::drill_writer::{self, Target};
use crate::live::timeline::Step;
use crate::store::drills::{key_prefix, DrillKind, DrillRecord, DrillReport, DrillStatus};
use crate::store::records::{now, AddressRole, LinkRecord};
use run::Run;

/// The shortest drill, in seconds of writing.
pub const MIN_SECONDS: u32 = 1;
/// The longest drill, in seconds of writing.
pub const MAX_SECONDS: u32 = 300;
/// How long a failover (or failback) may take to settle.
const SETTLE_LIMIT: Duration = Duration::from_secs(180);
/// How long the checks and the clean-up may take beyond the writing and
/// the failovers, before the drill is given up.
const CHECK_LIMIT: Duration = Duration::from_secs(180);
/// How long reading the ledger back or removing the keys is retried
/// (the geo-primary URL may be moving).
const RETRY_LIMIT: Duration = Duration::from_secs(30);
/// How often the link is looked at while it fails over.
const POLL: Duration = Duration::from_millis(20);
/// How often a running drill's progress is saved for `GET`.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// What `POST /x-georep/drills` asks for.
#[derive(Debug, Clone)]
pub struct DrillRequest {
    /// The link's linked-server id, from either side.
    pub link: String,
    /// Planned or forced.
    pub kind: DrillKind,
    /// About how long the writer writes.
    pub seconds: u32,
    /// Whether to fail back after the failover.
    pub failback: bool,
}

/// Why a drill failed: its own code, and what happened.
#[derive(Debug)]
struct Failure {
    code: &'static str,
    message: String,
}

impl Failure {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

/// Starts a drill on a `Succeeded` link that has none running; it runs in
/// the background and is returned `Running`.
pub async fn start(app: &SharedApp, request: DrillRequest) -> Result<DrillRecord, ControlError> {
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&request.seconds) {
        return Err(ControlError::invalid(
            "seconds",
            format!(
                "A drill writes for {MIN_SECONDS} to {MAX_SECONDS} seconds; {} is out of range.",
                request.seconds
            ),
        ));
    }
    let _changes = app.lock_changes().await;
    let link = links::find(app, &request.link)?;
    if link.pair.state != LinkState::Linked {
        return Err(ControlError::conflict(
            "LinkNotSucceeded",
            format!(
                "The link is {}; a drill needs it Succeeded.",
                link.pair.state
            ),
        ));
    }
    if let Some(running) = app
        .store
        .drills_of(&link.key())?
        .into_iter()
        .find(|d| d.status == DrillStatus::Running)
    {
        return Err(ControlError::conflict(
            "DrillInProgress",
            format!(
                "Drill {} is running on this link; wait until it ends.",
                running.id
            ),
        ));
    }
    // The failover's own rules, checked before anything is written.
    let same_size = georep_core::compat::same_size(
        &app.core_view(&app.cache(&link.first)?)?,
        &app.core_view(&app.cache(&link.second)?)?,
    );
    link.pair.apply(Event::FailoverRequested {
        kind: request.kind.into(),
        same_size,
    })?;
    target(app, &link)?;

    let record = DrillRecord {
        id: crate::secrets::random_hex(8),
        link: request.link.trim_end_matches('/').to_owned(),
        kind: request.kind,
        seconds: request.seconds,
        failback: request.failback,
        status: DrillStatus::Running,
        started_at: now(),
        finished_at: None,
        report: DrillReport::default(),
        error: None,
    };
    let reference = link.reference();
    app.store
        .put_drill(&reference.id, &reference.peer_id, &record)?;
    app.timeline.record(
        &reference,
        Step::DrillStarted {
            id: record.id.clone(),
            kind: request.kind.into(),
        },
    );
    tracing::info!(drill = %record.id, kind = ?record.kind, seconds = record.seconds, "drill started");
    tokio::spawn(Run::new(app.clone(), record.clone()).go());
    Ok(record)
}

/// The writer's target for `link`: its geo-primary URL, with the access
/// keys of both caches (the geo-primary's first), since a failover moves
/// the URL to the other cache.
fn target(app: &SharedApp, link: &LinkRecord) -> Result<Target, ControlError> {
    let addr = app
        .store
        .address(link.primary(), AddressRole::GeoPrimary)?
        .ok_or_else(|| {
            ControlError::conflict("NoGeoPrimaryUrl", "The link has no geo-primary URL yet.")
        })?;
    let mut keys = Vec::new();
    for cache in [link.primary(), link.secondary()] {
        let keys_of = app.cache(cache)?.keys;
        keys.extend([keys_of.primary_key, keys_of.secondary_key]);
    }
    Ok(Target {
        addr: socket(addr),
        keys,
        ca_pem: app.fleet.ca_pem().into(),
    })
}

/// Puts the drill's end on its link's timeline, if the link is still there.
fn announce_finish(app: &SharedApp, record: &DrillRecord, outcome: String) {
    if let Ok(link) = links::find(app, &record.link) {
        app.timeline.record(
            &link.reference(),
            Step::DrillFinished {
                id: record.id.clone(),
                outcome,
            },
        );
    }
}

/// Deletes every key of drill `record` through its link's geo-primary URL,
/// trying again for a while; how many there were.
async fn remove_keys(app: &SharedApp, record: &DrillRecord) -> Result<u64, Failure> {
    let deadline = Instant::now() + RETRY_LIMIT;
    let prefix = key_prefix(&record.id);
    loop {
        let attempt = match links::find(app, &record.link).and_then(|l| target(app, &l)) {
            Ok(mut target) => drill_writer::remove_keys(&mut target, &prefix)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(chain(&e)),
        };
        match attempt {
            Ok(removed) => return Ok(removed),
            Err(why) if Instant::now() >= deadline => {
                return Err(Failure::new(
                    "DrillCleanupFailed",
                    format!("The drill's keys ({prefix}*) could not be removed: {why}"),
                ))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// On start: every drill the last run left running is marked failed, and
/// its keys are removed in the background once the link answers.
pub async fn recover(app: &SharedApp) {
    let running = match app.store.running_drills() {
        Ok(running) => running,
        Err(error) => {
            tracing::error!(%error, "could not read the drills left running");
            return;
        }
    };
    for mut record in running {
        let message = "The drill was interrupted by a restart of the server; its keys are removed.";
        record.status = DrillStatus::Failed;
        record.finished_at = Some(now());
        record.error = Some(ErrorDetail::new("DrillInterrupted", message));
        if let Err(error) = app.store.update_drill(&record) {
            tracing::error!(%error, drill = %record.id, "could not mark the drill failed");
            continue;
        }
        tracing::warn!(drill = %record.id, "a drill was interrupted by a restart");
        announce_finish(
            app,
            &record,
            "failed: it was interrupted by a restart of the server.".into(),
        );
        let app = app.clone();
        tokio::spawn(async move {
            match remove_keys(&app, &record).await {
                Ok(removed) => {
                    tracing::info!(drill = %record.id, removed, "an interrupted drill's keys were removed")
                }
                Err(failure) => {
                    tracing::error!(drill = %record.id, error = %failure.message, "an interrupted drill's keys remain")
                }
            }
        });
    }
}
