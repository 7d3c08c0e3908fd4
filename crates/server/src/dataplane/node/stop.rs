//! Ending a node's process: stopping it for good, killing it, or saving its
//! data and stopping it to be started again; and the process-level checks
//! (signals, liveness) those rest on.

use std::process::ExitStatus;
use std::time::Duration;

use tokio::time::{sleep, timeout, Instant};
use tracing::{info, warn};

use super::{connect_with_timeouts, Node, NodeError, Via, CONNECT_TIMEOUT, POLL};

/// How long a node may take to exit after `SHUTDOWN`, and again after `SIGKILL`.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a node may take, retries included, to save its data and exit
/// when it is stopped to be started again ([`Node::save_and_stop`]).
///
/// Generous on purpose: writing a big dataset on a loaded machine takes a
/// while, and the alternative to waiting is losing the data.
pub const SAVE_STOP_LIMIT: Duration = Duration::from_secs(120);
/// The first pause after a `SHUTDOWN SAVE` that did not go through; it
/// doubles after each further failure, up to [`SAVE_RETRY_MAX`].
const SAVE_RETRY_FIRST: Duration = Duration::from_millis(250);
/// The longest pause between two `SHUTDOWN SAVE` attempts.
const SAVE_RETRY_MAX: Duration = Duration::from_secs(5);

impl Node {
    /// Stops the node and discards its data: `SHUTDOWN NOSAVE NOW`, then
    /// `SIGKILL` if it lingers. For a node that is going away; one that will
    /// be started again stops with [`Node::save_and_stop`].
    pub async fn stop(mut self) -> Result<(), NodeError> {
        if let Ok(mut conn) = self.connect().await {
            // The server exits instead of answering, so the error is expected.
            let _ = redis::cmd("SHUTDOWN")
                .arg("NOSAVE")
                .arg("NOW")
                .arg("FORCE")
                .query_async::<()>(&mut conn)
                .await;
        }
        if self.wait_exit(STOP_TIMEOUT).await {
            info!(addr = %self.ip(), pid = self.pid, "node stopped");
            return Ok(());
        }
        warn!(
            addr = %self.ip(),
            pid = self.pid,
            "node ignored SHUTDOWN; killing it"
        );
        self.kill().await
    }

    /// Kills the process with `SIGKILL` (as `kill -9` does) and waits until it is gone.
    pub async fn kill(mut self) -> Result<(), NodeError> {
        self.kill_now()?;
        if self.wait_exit(STOP_TIMEOUT).await {
            info!(addr = %self.ip(), pid = self.pid, "node killed");
            Ok(())
        } else {
            Err(NodeError::Timeout {
                addr: self.ip(),
                what: "stop",
                waited: STOP_TIMEOUT,
            })
        }
    }

    /// Sends `SIGKILL` without waiting: for drop guards and crash tests.
    pub fn kill_now(&self) -> Result<(), NodeError> {
        signal(self.pid, libc::SIGKILL)
    }

    /// Saves the node's data to `dump.rdb` in its directory and stops it, in
    /// one step: `SHUTDOWN SAVE NOW`. The next start of the node loads the
    /// data back.
    ///
    /// Why not `SAVE` and then `SHUTDOWN NOSAVE`:
    /// - `SAVE` is refused (`Background save already in progress`) while a
    ///   background save runs, and one runs whenever a replica is fed a full
    ///   sync: `repl-diskless-sync` forks a child to stream the snapshot. A
    ///   cache's own replica does that right after the cache is created or
    ///   started, so a stop soon after either met exactly that.
    /// - A replica whose primary is gone refuses `SAVE` with `MASTERDOWN`
    ///   (`replica-serve-stale-data no`); `SHUTDOWN` is allowed on it.
    /// - Writes landing between the two commands would be lost.
    ///
    /// `SHUTDOWN SAVE` stops a background save if one runs and saves in the
    /// foreground. Without `FORCE` it exits only if the save succeeded:
    /// otherwise it answers an error and keeps running, data and all. `NOW`
    /// skips waiting for lagging replicas, which the next start feeds again
    /// from the saved data. So the process ending after the command confirms
    /// that the data is on disk; for a process this run started, its exit
    /// status must say success too.
    ///
    /// A refused or unanswered attempt is retried, with growing pauses, until
    /// `limit` has passed. The node is never killed here: on `Err` it may still
    /// be running with its data, and the caller decides what to do with it.
    pub async fn save_and_stop(&mut self, limit: Duration) -> Result<(), NodeError> {
        let started = Instant::now();
        let deadline = started + limit;
        let mut pause = SAVE_RETRY_FIRST;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let last = match self.try_save_and_stop(deadline).await {
                SaveAttempt::Saved => {
                    info!(
                        addr = %self.ip(),
                        pid = self.pid,
                        attempts,
                        took_ms = started.elapsed().as_millis(),
                        "node saved its data and stopped"
                    );
                    return Ok(());
                }
                SaveAttempt::Ended(how) => {
                    return Err(NodeError::EndedWithoutSaving {
                        addr: self.ip(),
                        pid: self.pid,
                        how,
                    });
                }
                SaveAttempt::NotYet(why) => why,
            };
            let now = Instant::now();
            if now >= deadline {
                return Err(NodeError::SaveNotConfirmed {
                    addr: self.ip(),
                    pid: self.pid,
                    waited: now - started,
                    attempts,
                    last,
                });
            }
            warn!(
                addr = %self.ip(),
                pid = self.pid,
                attempts,
                reason = %last,
                "the node has not saved its data yet; it keeps running and will be asked again"
            );
            sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(SAVE_RETRY_MAX);
        }
    }

    /// One `SHUTDOWN SAVE NOW` attempt (see [`Node::save_and_stop`]).
    async fn try_save_and_stop(&mut self, deadline: Instant) -> SaveAttempt {
        // Never wait less than this for a step, so a last attempt made just
        // before the deadline still has a chance.
        const FLOOR: Duration = Duration::from_millis(100);
        let remaining = || {
            deadline
                .saturating_duration_since(Instant::now())
                .max(FLOOR)
        };

        // The reply may only come once the whole dataset is written: wait
        // for it as long as the deadline allows, not the usual few seconds.
        let connection = connect_with_timeouts(
            self.addr,
            Via::socket_or_plain(&self.socket()),
            &self.internal_password,
            CONNECT_TIMEOUT.min(remaining()),
            remaining(),
        )
        .await;
        let mut connection = match connection {
            Ok(connection) => connection,
            Err(error) => {
                if let Some(ended) = self.exit_status(Duration::ZERO).await {
                    // Gone before it was asked: it saved nothing now.
                    return SaveAttempt::Ended(describe_end(
                        ended,
                        "before it could be asked to save",
                    ));
                }
                return SaveAttempt::NotYet(format!("it does not answer: {error}"));
            }
        };
        let reply = redis::cmd("SHUTDOWN")
            .arg("SAVE")
            .arg("NOW")
            .query_async::<()>(&mut connection)
            .await;
        match reply {
            // A successful SHUTDOWN never answers. An error reply means the
            // save failed and the node kept running (Redis's log says why).
            Err(error) if error.code().is_some() => {
                return SaveAttempt::NotYet(format!("it refused: {error}"));
            }
            Ok(()) => return SaveAttempt::NotYet("it answered instead of exiting".into()),
            // The connection closed (how a successful SHUTDOWN ends) or the
            // reply timed out: whether the process ends tells which.
            Err(_) => {}
        }
        match self.exit_status(remaining()).await {
            None => SaveAttempt::NotYet("it is still running after SHUTDOWN SAVE".into()),
            // Adopted: not our child, so no status; ending after SHUTDOWN
            // SAVE (without FORCE) is the confirmation.
            Some(None) => SaveAttempt::Saved,
            Some(Some(status)) if status.success() => SaveAttempt::Saved,
            Some(status) => SaveAttempt::Ended(describe_end(status, "during SHUTDOWN SAVE")),
        }
    }

    /// Waits up to `limit` for the process to end; true if it did.
    async fn wait_exit(&mut self, limit: Duration) -> bool {
        self.exit_status(limit).await.is_some()
    }

    /// Waits up to `limit` for the process to end. `None` if it still runs;
    /// `Some(status)` once it has ended, with its exit status when this run
    /// started it (an adopted process is not our child, so its status is
    /// unknown).
    async fn exit_status(&mut self, limit: Duration) -> Option<Option<ExitStatus>> {
        if let Some(child) = self.child.as_mut() {
            // `timeout` polls the wait once even with a zero limit.
            return match timeout(limit, child.wait()).await {
                Ok(Ok(status)) => Some(Some(status)),
                // The status could not be read: fall back to looking at the pid.
                Ok(Err(_)) => (!process_alive(self.pid)).then_some(None),
                Err(_) => None,
            };
        }
        let deadline = Instant::now() + limit;
        while process_alive(self.pid) {
            if Instant::now() >= deadline {
                return None;
            }
            sleep(POLL).await;
        }
        Some(None)
    }
}

/// What one `SHUTDOWN SAVE` attempt came to.
enum SaveAttempt {
    /// The process ended as a successful `SHUTDOWN SAVE` ends it: the data is on disk.
    Saved,
    /// Not confirmed: refused, unanswered, or still running. Why, for the logs.
    NotYet(String),
    /// The process ended some other way, without saving. How, for the logs.
    Ended(String),
}

/// How a process ended, `when` something happened, for an error message.
fn describe_end(status: Option<ExitStatus>, when: &str) -> String {
    match status {
        Some(status) => format!("it ended {when} ({status})"),
        None => format!("it ended {when}"),
    }
}

/// Sends `signal` to `pid`.
fn signal(pid: u32, signal: libc::c_int) -> Result<(), NodeError> {
    let raw = libc::pid_t::try_from(pid).unwrap_or(0);
    if raw <= 0 {
        // kill(0 or negative) would hit whole process groups.
        return Err(NodeError::Signal {
            pid,
            source: std::io::Error::from(std::io::ErrorKind::InvalidInput),
        });
    }
    // SAFETY: kill(2) has no memory-safety preconditions.
    if unsafe { libc::kill(raw, signal) } == 0 {
        return Ok(());
    }
    let source = std::io::Error::last_os_error();
    if source.raw_os_error() == Some(libc::ESRCH) {
        // Already gone: what the caller wanted.
        return Ok(());
    }
    Err(NodeError::Signal { pid, source })
}

/// Whether `pid` is a running process (a zombie counts as ended).
pub fn process_alive(pid: u32) -> bool {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    // A process this one started (most nodes): the kernel says whether it
    // has exited, without reaping it (its `Child` still does), in one call.
    // The watchdog asks this of every node four times a second; reading
    // /proc for it was most of an idle server's CPU over 1,000 caches.
    if let Some(exited) = child_exited(raw) {
        return !exited;
    }
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(raw, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    // /proc/<pid>/stat is "pid (comm) S ...": the state follows the last ')'.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim_start().chars().next())
            .is_some_and(|state| state != 'Z' && state != 'X'),
        Err(_) => true,
    }
}

/// Whether the child `pid` of this process has exited (a zombie not yet
/// reaped), or `None` if `pid` is not a child of this process.
fn child_exited(pid: libc::pid_t) -> Option<bool> {
    let Ok(id) = libc::id_t::try_from(pid) else {
        return None;
    };
    // SAFETY: an all-zero siginfo_t is valid; `waitid` only writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` outlives the call. WNOWAIT leaves an exited child
    // waitable, so its `Child` still reaps it.
    let answered = unsafe {
        libc::waitid(
            libc::P_PID,
            id,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    } == 0;
    // SAFETY: `si_pid` is set by a successful `waitid`, and zero (as
    // initialised) when the child has not exited.
    answered.then(|| unsafe { info.si_pid() } != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_alive_until_it_exits_and_not_once_it_is_a_zombie() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep starts");
        let pid = child.id();
        assert!(process_alive(pid));
        // SAFETY: signalling the child this test started.
        assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) }, 0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while process_alive(pid) {
            assert!(
                std::time::Instant::now() < deadline,
                "the killed child still counts as alive"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // Still a zombie for its `Child` to reap: the check did not reap it.
        assert_eq!(child_exited(pid as libc::pid_t), Some(true));
        child.wait().expect("the child is reaped");
        assert!(!process_alive(pid));
    }

    #[test]
    fn own_process_is_alive_and_pid_zero_is_not() {
        assert!(process_alive(std::process::id()));
        assert!(!process_alive(0));
        assert!(!process_alive(u32::MAX));
    }

    #[test]
    fn refuses_to_signal_process_groups() {
        assert!(signal(0, 0).is_err());
    }
}
