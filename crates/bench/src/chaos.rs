//! Chaos, measured: the seeded chaos run of the test suite
//! (`georep_testkit::chaos`: node kills, server crashes, planned and forced
//! failovers, reboots, unlinks and relinks on a linked pair under a writer
//! through the geo-primary URL), longer, on its own server, and its ledger
//! as figures: events run, writes acknowledged, acknowledged writes missing
//! at the end, and those missing that nothing reported (must be 0).

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Result};
use georep_testkit::chaos::{self, Config, Victims};
use georep_testkit::Server;

use crate::report::{Figure, Figures, Key};

/// The figures of this benchmark.
pub const KEYS: [Key; 4] = [
    Key::ChaosEvents,
    Key::ChaosAckedWrites,
    Key::ChaosLostWrites,
    Key::ChaosUnreportedLostWrites,
];

/// What the run found beyond its figures, for the report's details.
pub struct Details {
    /// The outcome's one-line summary (seed, kinds of events, bytes).
    pub summary: String,
    /// Whether the processes matched the API at the end; what differed.
    pub processes: Result<(), String>,
}

/// Runs `events` chaos events (at most; no new one after `time`) on a
/// fresh `binary` server in `home`, replica nodes killed too.
pub async fn measure(
    binary: &Path,
    home: &Path,
    events: usize,
    time: Duration,
) -> Result<(Figures, Details)> {
    let server = Server::builder().binary(binary).home(home).start()?;
    // Any seed will do; it is printed (and reported) for a replay.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let config = Config {
        seed,
        events,
        time,
        victims: Victims::AnyNode,
    };
    // A pair that does not converge panics in the run (naming the event);
    // the bench reports that instead of stopping.
    let outcome = tokio::spawn(chaos::run(server, config))
        .await
        .map_err(|e| {
            let why = e
                .try_into_panic()
                .ok()
                .and_then(|p| {
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                })
                .unwrap_or_else(|| "cancelled".to_owned());
            let first = why.lines().next().unwrap_or_default().to_owned();
            anyhow!("the chaos run (seed {seed}) failed: {first}")
        })?;
    let count = |n: usize| Figure::Measured(n as f64);
    let figures = vec![
        (Key::ChaosEvents, count(outcome.happened.len())),
        (Key::ChaosAckedWrites, count(outcome.acked)),
        (Key::ChaosLostWrites, count(outcome.missing.len())),
        (
            Key::ChaosUnreportedLostWrites,
            count(outcome.unreported.len()),
        ),
    ];
    Ok((
        figures,
        Details {
            summary: outcome.summary(),
            processes: outcome.processes,
        },
    ))
}
