//! Kill points, denser: the crash-safety sweeps of the test suite
//! (`georep_testkit::killpoint::pair`: link, planned and forced failover,
//! unlink, a geo-primary's reboot and `regenerateKey` on a linked pair
//! under a writer), each killed at every step its log names and at more
//! evenly spaced points over its first 500 ms than the suite's ten. Each
//! operation sweeps on a server of its own. The figures: how many runs
//! (request, `kill -9`, restart, checks) and how many failed (must be 0).

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Result};
use georep_testkit::chaos::World;
use georep_testkit::killpoint::pair::{self, Density, PairOp};
use georep_testkit::Server;

use crate::report::{Figure, Figures, Key};

/// The figures of this benchmark.
pub const KEYS: [Key; 2] = [Key::KillpointRuns, Key::KillpointFailures];

/// Over how long from the request the evenly spaced points fall.
const SPREAD: Duration = Duration::from_millis(500);

/// What the sweeps found beyond their figures, for the report.
pub struct Details {
    /// Runs and failures of each operation, in one line.
    pub summary: String,
    /// The failures, one line each.
    pub failures: Vec<String>,
}

/// Sweeps every pair operation at `points` evenly spaced kill points
/// (plus its logged steps), each on a fresh `binary` server under `home`.
pub async fn measure(binary: &Path, home: &Path, points: u32) -> Result<(Figures, Details)> {
    let density = Density {
        points,
        spread: SPREAD,
    };
    let mut runs = 0;
    let mut failures = Vec::new();
    let mut per_op = Vec::new();
    for op in PairOp::ALL {
        crate::say(format!(
            "    {}: {} kill points",
            op.name(),
            op.points(density).len()
        ));
        let server = Server::builder()
            .binary(binary)
            .home(home.join(op.name().replace(' ', "-")))
            // The sweeps kill at the steps the server logs at `info`.
            .env("RUST_LOG", "info")
            .start()?;
        // A pair that can't even be set up panics in the test kit; that
        // counts as one failed run of this operation, and the others go on.
        let swept = tokio::spawn(async move {
            let mut world = World::start(server).await;
            pair::sweep(&mut world, op, density).await
        })
        .await;
        match swept {
            Ok(outcome) => {
                per_op.push(format!(
                    "{} {} runs ({} failed)",
                    op.name(),
                    outcome.runs,
                    outcome.failures.len()
                ));
                runs += outcome.runs;
                failures.extend(outcome.failures);
            }
            Err(e) => {
                let why = panic_text(e);
                per_op.push(format!("{} stopped", op.name()));
                runs += 1;
                failures.push(format!("{}: {why}", op.name()));
            }
        }
    }
    if runs == 0 {
        return Err(anyhow!("no kill point ran"));
    }
    let count = |n: usize| Figure::Measured(n as f64);
    Ok((
        vec![
            (Key::KillpointRuns, count(runs)),
            (Key::KillpointFailures, count(failures.len())),
        ],
        Details {
            summary: format!("{points} points/op + logged steps: {}", per_op.join(", ")),
            failures,
        },
    ))
}

/// The first line of a sweep's panic.
fn panic_text(e: tokio::task::JoinError) -> String {
    e.try_into_panic()
        .ok()
        .and_then(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        })
        .unwrap_or_else(|| "cancelled".to_owned())
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
