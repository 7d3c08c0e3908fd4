//! Processes the harness started, directly or through a child, found and
//! stopped by pid (never by name).

use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

/// Sends `signal` (e.g. `libc::SIGTERM`) to one process.
pub fn signal(pid: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(pid, signal);
    }
}

/// `kill -9` of one process.
pub fn kill(pid: u32) {
    signal(pid, libc::SIGKILL);
}

/// Asks `child` to stop with SIGTERM and waits up to `grace` for it; kills
/// it if it is still running then. Returns how it ended.
pub fn terminate(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(status)) = child.try_wait() {
        return Some(status);
    }
    signal(child.id(), libc::SIGTERM);
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(_) => break,
        }
    }
    eprintln!(
        "process {} ignored SIGTERM for {grace:?}; killing it",
        child.id()
    );
    let _ = child.kill();
    child.wait().ok()
}

/// The pids of the processes whose working directory is inside `dir` (the
/// server runs each Redis node in its own directory under the data dir).
pub fn working_in(dir: &Path) -> Vec<u32> {
    let Ok(dir) = dir.canonicalize() else {
        return Vec::new();
    };
    pids_where(|proc_dir| {
        std::fs::read_link(proc_dir.join("cwd")).is_ok_and(|cwd| cwd.starts_with(&dir))
    })
}

/// The `redis-server` processes working inside `dir`: the nodes, without
/// their short-lived forks (e.g. `redis-rdb-to-slaves` streaming a full
/// sync), which share a node's directory but are not nodes.
pub fn redis_servers_in(dir: &Path) -> Vec<u32> {
    let Ok(dir) = dir.canonicalize() else {
        return Vec::new();
    };
    pids_where(|proc_dir| {
        let in_dir =
            std::fs::read_link(proc_dir.join("cwd")).is_ok_and(|cwd| cwd.starts_with(&dir));
        in_dir
            && std::fs::read(proc_dir.join("cmdline")).is_ok_and(|cmdline| {
                cmdline
                    .split(|b| *b == 0 || *b == b' ')
                    .next()
                    .is_some_and(|program| program.ends_with(b"redis-server"))
            })
    })
}

/// `pid` and its command line, e.g. `1234 (redis-server 127.1.0.2:6379)`.
pub fn describe(pid: u32) -> String {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<String> = cmdline
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    format!("{pid} ({})", words.join(" "))
}

/// The pids of the processes whose command line contains `needle`.
pub fn with_argument_containing(needle: &str) -> Vec<u32> {
    pids_where(|proc_dir| {
        std::fs::read(proc_dir.join("cmdline"))
            .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(needle))
    })
}

fn pids_where(matches: impl Fn(&Path) -> bool) -> Vec<u32> {
    let own = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            (pid != own && matches(&entry.path())).then_some(pid)
        })
        .collect()
}

/// `pids` less those whose parent is among them: a node forking for a full
/// sync has a child that runs as `redis-server`, holding the node's
/// listening sockets, for a moment before it renames itself and closes
/// them. It is not a second node.
pub fn without_forks(pids: Vec<u32>) -> Vec<u32> {
    pids.iter()
        .copied()
        .filter(|pid| !parent_of(*pid).is_some_and(|parent| pids.contains(&parent)))
        .collect()
}

/// The parent of process `pid`, from `/proc/{pid}/status`.
fn parent_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("PPid:"))
        .and_then(|ppid| ppid.trim().parse().ok())
}
