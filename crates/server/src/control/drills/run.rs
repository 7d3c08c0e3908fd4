//! One drill as it runs: the writer, the failover (and failback) through
//! the API's path, the ledger read back, verification, and the verdict.

use std::time::Duration;

use georep_core::arm::{ErrorDetail, FailoverSummary};
use georep_core::link::{FailoverKind, FailoverPhase, LinkState};
use georep_core::live::TimelineKind;
use tokio::time::Instant;

use super::{
    announce_finish, chain, remove_keys, target, Failure, CHECK_LIMIT, POLL, PROGRESS_EVERY,
    RETRY_LIMIT, SETTLE_LIMIT,
};
use crate::control::{failover, links, verify, ControlError, SharedApp};
use crate::dataplane::drill_writer::{self, DrillWriter, Ledger, Target};
use crate::store::drills::{DrillRecord, DrillStatus, DrillStep};
use crate::store::records::{now, LinkRecord};

/// One drill as it runs.
pub(super) struct Run {
    app: SharedApp,
    record: DrillRecord,
    start: Instant,
    last_saved: Instant,
}

impl Run {
    pub(super) fn new(app: SharedApp, record: DrillRecord) -> Run {
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
    pub(super) async fn go(mut self) {
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
        self.record.report.verification = Some(found);
        self.step("verified");
        self.judge(kind, missing.len() as u64, lost_bytes, consistent)
    }

    /// Fills the report from the stopped writer's ledger.
    fn measure(&mut self, ledger: &Ledger) {
        let report = &mut self.record.report;
        report.acked_writes = ledger.acked.len() as u64;
        report.rto_ms = ceil_ms(ledger.longest_gap());
        report.rto_at_ms = ledger
            .longest_gap_ending()
            .map(|(_, at)| u64::try_from(at.as_millis()).unwrap_or(u64::MAX));
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
                        format!(
                            "The {label} was aborted; the link's timeline says: {}",
                            self.why_aborted(&link)
                        ),
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

    /// What the link's timeline says of the last aborted failover.
    fn why_aborted(&self, link: &LinkRecord) -> String {
        self.app
            .timeline
            .entries(&link.key())
            .ok()
            .and_then(|entries| {
                entries
                    .into_iter()
                    .rev()
                    .find(|e| e.kind == TimelineKind::FailoverAborted)
            })
            .map(|e| e.message)
            .unwrap_or_else(|| "nothing changed (see the link's timeline).".into())
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

/// Milliseconds, rounded up: any gap at all is at least 1 ms.
fn ceil_ms(time: Duration) -> u64 {
    u64::try_from(time.as_micros().div_ceil(1000)).unwrap_or(u64::MAX)
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
