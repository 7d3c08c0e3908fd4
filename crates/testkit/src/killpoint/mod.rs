//! Kill points: where a crash-safety sweep `kill -9`s the server during an
//! operation — when its log says it reached a step, or a fixed time after
//! the operation was asked for — and the checks every sweep makes after
//! the restart that the processes running are the ones the store records.
//! [`pair`] sweeps the operations on a linked pair with them, for the fault
//! tests and the bench alike.

pub mod pair;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::time::Instant;

use crate::Server;

/// How long a logged step may take to appear before the sweep gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the log is read while waiting for a step.
const LOG_POLL: Duration = Duration::from_millis(2);

/// One place to kill the server during an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KillPoint {
    /// As soon as the `nth` (from 1) log line containing `step` appears
    /// after the operation was asked for.
    Logged {
        /// Text of the log line (a `tracing` message).
        step: &'static str,
        /// Which occurrence.
        nth: usize,
    },
    /// This long after the operation was asked for.
    After(Duration),
}

impl std::fmt::Display for KillPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KillPoint::Logged { step, nth } => write!(f, "at \"{step}\" #{nth}"),
            KillPoint::After(pause) => write!(f, "after {} ms", pause.as_millis()),
        }
    }
}

/// The kill points of a sweep: each logged step (`(text, occurrence)`),
/// then `points` evenly spaced over the first `spread`, from 0.
pub fn sweep(steps: &[(&'static str, usize)], points: u32, spread: Duration) -> Vec<KillPoint> {
    let logged = steps
        .iter()
        .map(|&(step, nth)| KillPoint::Logged { step, nth });
    let timed = (0..points).map(|i| KillPoint::After(spread * i / points));
    logged.chain(timed).collect()
}

/// Where the server's log ends now: what a later [`KillPoint::Logged`]
/// counts from.
pub fn log_mark(server: &Server) -> u64 {
    std::fs::metadata(server.log_path()).map_or(0, |m| m.len())
}

/// How many lines of the server's log after `mark` contain `step`.
fn logged_since(server: &Server, mark: u64, step: &str) -> usize {
    let log = std::fs::read(server.log_path()).unwrap_or_default();
    let from = usize::try_from(mark).unwrap_or(usize::MAX).min(log.len());
    String::from_utf8_lossy(&log[from..])
        .lines()
        .filter(|line| line.contains(step))
        .count()
}

impl KillPoint {
    /// Waits for this point (counting from `asked`, when the operation was
    /// asked for, and the log from `mark`), then `kill -9`s the server. Fails
    /// if a logged step never came.
    pub async fn kill(&self, server: &mut Server, mark: u64, asked: Instant) -> Result<(), String> {
        match self {
            KillPoint::After(pause) => tokio::time::sleep_until(asked + *pause).await,
            KillPoint::Logged { step, nth } => {
                let deadline = Instant::now() + STEP_TIMEOUT;
                while logged_since(server, mark, step) < *nth {
                    if Instant::now() >= deadline {
                        server.kill();
                        return Err(format!(
                            "the server never logged \"{step}\" {nth} time(s); its log:\n{}",
                            server.log_tail()
                        ));
                    }
                    tokio::time::sleep(LOG_POLL).await;
                }
            }
        }
        server.kill();
        Ok(())
    }
}

/// Kills the server at `point` of an operation asked for at `asked` (its
/// log counted from `mark`), and starts it again on the same data.
pub async fn crash_at(
    server: &mut Server,
    point: &KillPoint,
    mark: u64,
    asked: Instant,
) -> Result<(), String> {
    point.kill(server, mark, asked).await?;
    crash_and_restart(server);
    Ok(())
}

/// Sends a request off the caller's flow, so the server can be killed
/// while it answers (a synchronous operation's answer dies with it): its
/// status and JSON body (`null` if none), or `None` if the server died
/// first.
pub fn send_detached(
    server: &Server,
    method: reqwest::Method,
    path: String,
    body: Option<serde_json::Value>,
) -> tokio::task::JoinHandle<Option<(reqwest::StatusCode, serde_json::Value)>> {
    let api = server.api().clone();
    tokio::spawn(async move {
        let response = api.send(method, &path, body.as_ref()).await.ok()?;
        let status = response.status();
        let body = response.json().await.unwrap_or(serde_json::Value::Null);
        Some((status, body))
    })
}

/// `kill -9` of the server and a start on the same data, off the async
/// threads (both wait on the process).
pub fn crash_and_restart(server: &mut Server) {
    tokio::task::block_in_place(|| {
        server.kill();
        server.restart().expect("the server starts again");
    });
}

/// Whether the `redis-server` processes in the server's data directory are
/// exactly the nodes `listed` (every node of every cache, as the API lists
/// them): one process serves each, none serves two, and none runs that is
/// not listed. What differs, if anything.
pub fn processes_match(server: &Server, listed: &[SocketAddr]) -> Result<(), String> {
    let mut pids = BTreeSet::new();
    for addr in listed {
        let pid = server
            .node_pid(*addr)
            .ok_or_else(|| format!("not exactly one redis-server serves {addr}"))?;
        if !pids.insert(pid) {
            return Err(format!("process {pid} serves two listed nodes"));
        }
    }
    let running: BTreeSet<u32> = server.node_pids().into_iter().collect();
    if running != pids {
        let stray: Vec<String> = running
            .difference(&pids)
            .map(|&pid| crate::process::describe(pid))
            .collect();
        return Err(format!(
            "redis-server processes {running:?}, the API lists {pids:?}; not listed: {stray:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_steps_come_first_then_even_spacing() {
        let points = sweep(&[("a", 1), ("a", 2)], 10, Duration::from_millis(500));
        assert_eq!(points.len(), 12);
        assert_eq!(points[1], KillPoint::Logged { step: "a", nth: 2 });
        assert_eq!(points[2], KillPoint::After(Duration::ZERO));
        assert_eq!(points[11], KillPoint::After(Duration::from_millis(450)));
        assert_eq!(points[3].to_string(), "after 50 ms");
    }
}
