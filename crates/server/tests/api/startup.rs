//! A server that fails to start leaves nothing running.

use std::net::TcpListener;
use std::process::{Command, Stdio};

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
