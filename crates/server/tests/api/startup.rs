//! A server that fails to start leaves nothing running; one that starts
//! prints its box last, once the demo fleet is up.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::support::processes_under;
use tempfile::TempDir;

#[test]
fn a_server_that_cannot_listen_starts_no_node() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("a port to take");
    let address = taken.local_addr().unwrap().to_string();
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");

    // With --demo, a server that got as far as seeding would start a node
    // for every demo cache.
    let output = Command::new(env!("CARGO_BIN_EXE_georep-server"))
        .args(["--demo", "--listen", &address, "--data-dir"])
        .arg(&data)
        .stdin(Stdio::null())
        .output()
        .expect("georep-server runs");

    let left = processes_under(&data);
    for pid in &left {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(pid.to_string())
            .status();
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the server fails: {stderr}");
    assert!(stderr.contains("in use"), "it says why: {stderr}");
    assert!(left.is_empty(), "nodes left running: {left:?}");
}

/// How long seeding the demo fleet may take on a busy machine.
const DEMO_UP: Duration = Duration::from_secs(300);

#[tokio::test]
async fn the_box_comes_last_once_every_demo_cache_runs() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_georep-server"))
        .args(["--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("georep-server runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed = Vec::new();
    let box_end = loop {
        match rx.recv_timeout(DEMO_UP) {
            Ok(line) if line.starts_with('└') => break Some(line),
            Ok(line) => printed.push(line),
            Err(_) => break None,
        }
    };
    // Asked at once: a box printed before the fleet was up would find caches
    // still Creating (starting eleven caches' nodes takes seconds).
    let states = match printed
        .iter()
        .find_map(|l| l.strip_prefix("Open the console: "))
        .and_then(|url| url.split_once("/#token="))
    {
        Some((base, token)) if box_end.is_some() => {
            let api = georep_testkit::Api::new(base, token);
            let mut states = Vec::new();
            for subscription in api.subscription_ids().await.unwrap() {
                for cache in api.caches_in(&subscription).await.unwrap() {
                    states.push((
                        cache["name"].as_str().unwrap_or_default().to_owned(),
                        cache["properties"]["provisioningState"].clone(),
                    ));
                }
            }
            states
        }
        _ => Vec::new(),
    };
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    for pid in processes_under(&data) {
        let _ = Command::new("kill")
            .arg("-KILL")
            .arg(pid.to_string())
            .status();
    }
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    assert!(
        box_end.is_some(),
        "no box within {DEMO_UP:?}: {printed:?}\n{log}"
    );
    let text = printed.join("\n");
    for wanted in ["Console:", "source ", "az login --identity"] {
        assert!(text.contains(wanted), "{wanted} in the box:\n{text}");
    }
    assert!(states.len() >= 11, "the demo fleet: {states:?}");
    let not_running: Vec<_> = states.iter().filter(|(_, s)| s != "Succeeded").collect();
    assert!(
        not_running.is_empty(),
        "the box came before these demo caches ran: {not_running:?}"
    );
}
