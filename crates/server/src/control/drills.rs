//! Disaster-recovery drills (`/x-georep/drills`): a rehearsed failover,
//! measured.
//!
//! A drill runs its own writer through the link's geo-primary URL (see
//! [`crate::dataplane::drill_writer`]), under the reserved prefix
//! `georep:drill:{id}:`. It writes for a third of its `seconds` (the
//! warm-up), fails over through the same path the API's `PUT` in reverse
//! takes ([`failover::request`]), keeps writing for a third, optionally
//! fails back (a planned failover), writes for the last third, and stops.
//! It then checks its ledger of acknowledged writes against the final
//! geo-primary, verifies the two sides ([`verify::verify`]), and deletes its
//! keys through the geo-primary URL, so the deletion replicates.
//!
//! It succeeds only if it found what its kind promises: a planned drill
//! lost no acknowledged write, a forced one lost no more replication-stream
//! bytes than the failover reported, and the sides are consistent.
//! Otherwise it fails, with the report kept. Every wait is bounded, so a
//! drill always ends. One that was running when the server stopped is
//! marked failed on start ([`recover`]) and its keys are removed.

use std::time::Duration;

use georep_core::arm::{ErrorDetail, FailoverSummary};
use georep_core::link::{Event, FailoverKind, FailoverPhase, LinkState};
use tokio::time::Instant;

use crate::control::{failover, links, verify, ControlError, SharedApp};
use crate::dataplane::addresses::socket;
use crate::dataplane::drill_writer::{self, DrillWriter, Ledger, Target};
use crate::live::timeline::Step;
use crate::store::drills::{
    key_prefix, DrillKind, DrillRecord, DrillReport, DrillStatus, DrillStep, DrillVerification,
};
use crate::store::records::{now, AddressRole, LinkRecord};

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

/// The error and its sources, for a drill's error message.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
    })
}

/// One drill as it runs.
struct Run {
    app: SharedApp,
    record: DrillRecord,
    start: Instant,
    last_saved: Instant,
}

impl Run {
    fn new(app: SharedApp, record: DrillRecord) -> Run {
        let start = Instant::now();
        Run {
            app,
            record,
            start,
            last_saved: start,
        }
    }

    fn step(&mut self, name: impl Into<String>) {
        let at_ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.record.report.steps.push(DrillStep {
            name: name.into(),
            at_ms,
        });
        self.save();
    }

    fn save(&mut self) {
        self.last_saved = Instant::now();
        if let Err(error) = self.app.store.update_drill(&self.record) {
            tracing::error!(%error, drill = %self.record.id, "could not record the drill");
        }
    }

    /// Keeps what the writer has done so far, for a `GET` while it runs.
    fn progress(&mut self, writer: &DrillWriter) {
        if self.last_saved.elapsed() < PROGRESS_EVERY {
            return;
        }
        let (acked, gap) = writer.progress();
        let report = &mut self.record.report;
        report.acked_writes = acked;
        report.rto_ms = ceil_ms(gap);
        let seconds = self.start.elapsed().as_secs_f64();
        report.writes_per_second = if seconds > 0.0 {
            acked as f64 / seconds
        } else {
            0.0
        };
        self.save();
    }

    /// Lets the writer write for `time`, saving its progress meanwhile.
    async fn write_for(&mut self, writer: &DrillWriter, time: Duration) {
        let until = Instant::now() + time;
        while Instant::now() < until {
            tokio::time::sleep((until - Instant::now()).min(PROGRESS_EVERY)).await;
            self.progress(writer);
        }
    }

    /// Runs the drill to its end, whatever happens, and records the outcome.
    async fn go(mut self) {
        let writing = Duration::from_secs(u64::from(self.record.seconds));
        let limit = writing + SETTLE_LIMIT * 2 + CHECK_LIMIT;
        let outcome = match tokio::time::timeout(limit, self.rehearse()).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::new(
                "DrillTimedOut",
                format!("The drill did not end within {} s.", limit.as_secs()),
            )),
        };
        let cleaned = self.clean_up().await;
        self.finish(outcome.and(cleaned));
    }

    async fn rehearse(&mut self) -> Result<(), Failure> {
        let kind: FailoverKind = self.record.kind.into();
        let prefix = self.record.key_prefix();
        let mut target = self.link_target()?;
        let third = Duration::from_secs(u64::from(self.record.seconds)) / 3;

        let writer = DrillWriter::start(target.clone(), prefix.clone(), self.start);
        self.step("writer started");
        self.write_for(&writer, third).await;
        let summary = self.fail_over(&writer, kind, "failover").await?;
        if let Some(summary) = summary {
            self.record.report.bytes_possibly_lost = summary.bytes_possibly_lost;
            self.record.report.partial_resync = summary.partial_resync;
        }
        self.write_for(&writer, third).await;
        if self.record.failback {
            self.fail_over(&writer, FailoverKind::Planned, "failback")
                .await?;
        }
        self.write_for(&writer, third).await;
        let ledger = writer.stop().await;
        self.step("writer stopped");
        self.measure(&ledger);
        if ledger.acked.is_empty() {
            return Err(Failure::new(
                "DrillNoWrites",
                "The geo-primary URL acknowledged no write; nothing was measured.",
            ));
        }

        let missing = self.read_back(&mut target, &prefix, &ledger).await?;
        let lost_bytes: u64 = missing
            .iter()
            .map(|&n| drill_writer::set_bytes(&prefix, n))
            .sum();
        self.record.report.lost_writes = Some(missing.len() as u64);
        self.record.report.lost_bytes = Some(lost_bytes);
        self.step("ledger checked");

        let found = verify::verify(&self.app, &self.record.link)
            .await
            .map_err(|e| Failure::new("DrillVerificationFailed", chain(&e)))?;
        let consistent = found.consistent;
        self.record.report.verification = Some(DrillVerification {
            consistent: found.consistent,
            keys_primary: found.keys_primary,
            keys_secondary: found.keys_secondary,
            sampled: found.sampled,
            compared: found.compared,
            mismatches: found.mismatches,
        });
        self.step("verified");
        self.judge(kind, missing.len() as u64, lost_bytes, consistent)
    }

    /// Fills the report from the stopped writer's ledger.
    fn measure(&mut self, ledger: &Ledger) {
        let report = &mut self.record.report;
        report.acked_writes = ledger.acked.len() as u64;
        report.rto_ms = ceil_ms(ledger.longest_gap());
        let span = match (ledger.ack_times.first(), ledger.ack_times.last()) {
            (Some(first), Some(last)) => last.saturating_sub(*first).as_secs_f64(),
            _ => 0.0,
        };
        report.writes_per_second = if span > 0.0 {
            ledger.acked.len() as f64 / span
        } else {
            0.0
        };
    }

    /// What a drill of `kind` must have found.
    fn judge(
        &self,
        kind: FailoverKind,
        lost: u64,
        lost_bytes: u64,
        consistent: bool,
    ) -> Result<(), Failure> {
        if kind == FailoverKind::Planned && lost > 0 {
            return Err(Failure::new(
                "DrillLostWrites",
                format!("A planned failover lost {lost} acknowledged write(s)."),
            ));
        }
        if let Some(reported) = self.record.report.bytes_possibly_lost {
            if lost_bytes > reported {
                return Err(Failure::new(
                    "DrillLossUnderstated",
                    format!("The failover reported {reported} byte(s) possibly lost, but {lost} acknowledged write(s) of {lost_bytes} byte(s) are missing."),
                ));
            }
        }
        if !consistent {
            return Err(Failure::new(
                "DrillInconsistent",
                "After the drill the geo-secondary does not hold the geo-primary's data (see the verification).",
            ));
        }
        Ok(())
    }

    fn link_target(&self) -> Result<Target, Failure> {
        links::find(&self.app, &self.record.link)
            .and_then(|link| target(&self.app, &link))
            .map_err(|e| Failure::new("DrillLinkUnavailable", chain(&e)))
    }

    /// Fails over (`label`: failover or failback) through the API's path,
    /// and waits until the link has settled; the failover's summary.
    async fn fail_over(
        &mut self,
        writer: &DrillWriter,
        kind: FailoverKind,
        label: &str,
    ) -> Result<Option<FailoverSummary>, Failure> {
        let before = {
            let _changes = self.app.lock_changes().await;
            let not_started = |e: ControlError| {
                Failure::new(
                    "DrillFailoverNotStarted",
                    format!("The {label} could not start: {}", chain(&e)),
                )
            };
            let link = links::find(&self.app, &self.record.link).map_err(not_started)?;
            if link.pair.state != LinkState::Linked {
                return Err(Failure::new(
                    "DrillFailoverNotStarted",
                    format!(
                        "The {label} could not start: the link is {}.",
                        link.pair.state
                    ),
                ));
            }
            failover::request(&self.app, &link, link.secondary(), kind)
                .await
                .map_err(not_started)?;
            link
        };
        let kind_name = match kind {
            FailoverKind::Planned => "planned",
            FailoverKind::Forced => "forced",
        };
        self.step(format!("{label} requested ({kind_name})"));
        let deadline = Instant::now() + SETTLE_LIMIT;
        let mut promoted = false;
        loop {
            tokio::time::sleep(POLL).await;
            self.progress(writer);
            let link = match self.app.store.link_of(&before.first) {
                Ok(Some(link)) => link,
                Ok(None) => {
                    return Err(Failure::new(
                        "DrillFailoverFailed",
                        format!("The link was removed during the {label}."),
                    ))
                }
                Err(e) => return Err(Failure::new("DrillFailoverFailed", chain(&e))),
            };
            let swapped = link.pair.primary != before.pair.primary;
            if swapped && !promoted {
                promoted = true;
                self.step(format!("{label}: promoted"));
            }
            match link.pair.state {
                LinkState::Linked if swapped => {
                    self.step(format!("{label} completed"));
                    return Ok(link.last_failover);
                }
                LinkState::Linked => {
                    return Err(Failure::new(
                        "DrillFailoverAborted",
                        format!("The {label} did not happen and nothing changed (the link's timeline says why)."),
                    ))
                }
                LinkState::FailingOver {
                    phase: FailoverPhase::Deleting | FailoverPhase::Creating,
                    ..
                } => {}
                other => {
                    return Err(Failure::new(
                        "DrillFailoverFailed",
                        format!("The link is {other} after the {label}."),
                    ))
                }
            }
            if Instant::now() >= deadline {
                return Err(Failure::new(
                    "DrillTimedOut",
                    format!(
                        "The {label} did not settle within {} s.",
                        SETTLE_LIMIT.as_secs()
                    ),
                ));
            }
        }
    }

    /// The acknowledged writes missing on the final geo-primary, read
    /// again for a while if the geo-primary URL does not answer yet.
    async fn read_back(
        &mut self,
        target: &mut Target,
        prefix: &str,
        ledger: &Ledger,
    ) -> Result<Vec<u64>, Failure> {
        let deadline = Instant::now() + RETRY_LIMIT;
        loop {
            match drill_writer::missing(target, prefix, ledger).await {
                Ok(missing) => return Ok(missing),
                Err(e) if Instant::now() >= deadline => {
                    return Err(Failure::new(
                        "DrillLedgerUnreadable",
                        format!("The final geo-primary could not be read back: {e}"),
                    ))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    /// Removes the drill's keys through the geo-primary URL.
    async fn clean_up(&mut self) -> Result<(), Failure> {
        let removed = remove_keys(&self.app, &self.record).await?;
        self.step(format!("keys removed ({removed})"));
        Ok(())
    }

    fn finish(mut self, outcome: Result<(), Failure>) {
        self.record.finished_at = Some(now());
        let report = &self.record.report;
        let sentence = match &outcome {
            Ok(()) => {
                self.record.status = DrillStatus::Succeeded;
                format!(
                    "succeeded: RTO {} ms, {} acknowledged write(s), {} lost; the sides are consistent.",
                    report.rto_ms,
                    report.acked_writes,
                    report.lost_writes.unwrap_or_default()
                )
            }
            Err(failure) => {
                self.record.status = DrillStatus::Failed;
                self.record.error = Some(ErrorDetail::new(failure.code, failure.message.clone()));
                format!("failed: {}", failure.message)
            }
        };
        tracing::info!(drill = %self.record.id, outcome = %sentence, "drill finished");
        self.save();
        announce_finish(&self.app, &self.record, sentence);
    }
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

/// Milliseconds, rounded up: any gap at all is at least 1 ms.
fn ceil_ms(time: Duration) -> u64 {
    u64::try_from(time.as_micros().div_ceil(1000)).unwrap_or(u64::MAX)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_round_up_to_whole_milliseconds() {
        assert_eq!(ceil_ms(Duration::from_micros(1)), 1);
        assert_eq!(ceil_ms(Duration::from_micros(7_001)), 8);
        assert_eq!(ceil_ms(Duration::ZERO), 0);
    }
}
