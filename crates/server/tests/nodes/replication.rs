//! Nodes and geo-replication links against real `redis-server` processes.

use std::time::Duration;

use crate::support::*;
use georep_server::dataplane::node::{self, Node, NodeConfig, NodeError, Role};
use georep_server::dataplane::replication::{self, ReplicationError, SyncPhase, SyncWatch};
use redis::AsyncCommands;

// ---------------------------------------------------------------- nodes

#[tokio::test]
async fn node_accepts_both_access_keys_and_the_internal_user_only() {
    let node = TestNode::start().await;

    let mut primary_key = node.client(KEY1).await;
    let _: () = primary_key.set("k", "v").await.unwrap();
    let mut secondary_key = node.client(KEY2).await;
    let value: String = secondary_key.get("k").await.unwrap();
    assert_eq!(value, "v");

    let err = app_client(node.addr(), "wrong-key").await.err().unwrap();
    assert_eq!(err.kind(), redis::ErrorKind::AuthenticationFailed, "{err}");
    // The internal password is not an access key.
    assert!(app_client(node.addr(), INTERNAL).await.is_err());

    let info = node.node().info(&["replication", "server"]).await.unwrap();
    assert_eq!(info.role(), Some(Role::Primary));
    assert_eq!(info.tcp_port(), Some(node.addr().port()));
    node.node().ping().await.unwrap();
}

/// As on Azure, an access key runs what applications run and none of the
/// admin commands: it can't read the control plane's credential, lock it
/// out, move the node's data elsewhere or stop it.
#[tokio::test]
async fn an_access_key_cannot_run_admin_commands() {
    let node = TestNode::start().await;
    let mut app = node.client(KEY1).await;
    for command in [
        vec!["CONFIG", "GET", "masterauth"],
        vec!["CONFIG", "SET", "bind", "127.0.0.1"],
        vec!["ACL", "LIST"],
        vec!["ACL", "SETUSER", "georep", "off"],
        vec!["REPLICAOF", "127.0.0.1", "1"],
        vec!["SLAVEOF", "127.0.0.1", "1"],
        vec!["FAILOVER"],
        vec!["SHUTDOWN", "NOSAVE"],
        vec!["DEBUG", "SLEEP", "0"],
        vec!["SAVE"],
        vec!["BGSAVE"],
        vec!["BGREWRITEAOF"],
        vec!["MIGRATE", "127.0.0.1", "1", "k", "0", "1000"],
        vec!["CLUSTER", "INFO"],
        vec!["MODULE", "LIST"],
        vec!["MONITOR"],
        vec!["SYNC"],
    ] {
        let err = redis::cmd(command[0])
            .arg(&command[1..])
            .query_async::<redis::Value>(&mut app)
            .await
            .expect_err(&format!("{command:?} must be refused"));
        // Redis refuses DEBUG before it asks the ACL; every other is NOPERM.
        let refused_by = if command[0] == "DEBUG" {
            "ERR"
        } else {
            "NOPERM"
        };
        assert_eq!(err.code(), Some(refused_by), "{command:?}: {err}");
    }
    // What applications use still works.
    let _: () = app.set("k", "v").await.unwrap();
    let info: String = redis::cmd("INFO").query_async(&mut app).await.unwrap();
    assert!(info.contains("redis_version"));
    let _: () = redis::cmd("FLUSHDB").query_async(&mut app).await.unwrap();
    let who: String = redis::cmd("ACL")
        .arg("WHOAMI")
        .query_async(&mut app)
        .await
        .unwrap();
    assert_eq!(who, "default");
    // And the node is untouched.
    node.node().ping().await.unwrap();
}

#[tokio::test]
async fn node_config_follows_the_conventions() {
    let node = TestNode::start().await;
    let mut conn = node.node().connect().await.unwrap();
    for (name, expected) in [
        ("save", ""),
        ("appendonly", "no"),
        ("replica-read-only", "yes"),
        ("replica-serve-stale-data", "no"),
        ("repl-diskless-sync-delay", "0"),
        ("protected-mode", "no"),
        ("repl-diskless-load", "swapdb"),
        ("masteruser", "georep"),
        ("bind", &node.config.addr.to_string()),
        ("port", "6379"),
        ("bind-source-addr", &node.config.addr.to_string()),
        ("replica-announce-ip", &node.config.addr.to_string()),
    ] {
        let (_, value): (String, String) = redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(value, expected, "{name}");
    }
    let mode = std::fs::metadata(node.config.config_path()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.permissions().mode() & 0o777, 0o600);
}

#[tokio::test]
async fn regenerated_keys_replace_the_old_ones() {
    let node = TestNode::start().await;
    let new_key = "bRand+New/Key=".to_owned();
    node.node()
        .set_access_keys(&[new_key.clone(), KEY2.into()])
        .await
        .unwrap();
    assert!(app_client(node.addr(), KEY1).await.is_err());
    node.client(&new_key).await;
    node.client(KEY2).await;
}

#[tokio::test]
async fn a_node_outlives_its_handle_and_is_adopted() {
    let mut guard = TestNode::start().await;
    let ip = guard.config.addr;
    let dir = guard.config.dir.clone();
    let pid = guard.node().pid();
    let mut client = guard.client(KEY1).await;
    let _: () = client.set("survives", "yes").await.unwrap();

    // The control plane "restarts": its handle is dropped, the process lives on.
    drop(guard.take());
    assert!(node::process_alive(pid));

    let wrong_pid = Node::adopt(ip, &dir, pid + 1, INTERNAL).await;
    assert!(
        matches!(wrong_pid, Err(NodeError::NotAdoptable { .. })),
        "{wrong_pid:?}"
    );
    let wrong_password = Node::adopt(ip, &dir, pid, "not-it").await;
    assert!(matches!(
        wrong_password,
        Err(NodeError::NotAdoptable { .. })
    ));

    let adopted = Node::adopt(ip, &dir, pid, INTERNAL).await.unwrap();
    assert_eq!(adopted.pid(), pid);
    let value: String = guard.client(KEY2).await.get("survives").await.unwrap();
    assert_eq!(value, "yes");

    adopted.stop().await.unwrap();
    assert!(!node::process_alive(pid));
    assert!(Node::adopt(ip, &dir, pid, INTERNAL).await.is_err());
}

/// The control plane reaches a node on its unix socket, and a node without
/// one (started by an older control plane) on its plain port: either way
/// it is adopted, never doubled.
#[tokio::test]
async fn a_node_is_reached_on_its_socket_or_else_its_plain_port() {
    let mut guard = TestNode::start().await;
    let ip = guard.config.addr;
    let dir = guard.config.dir.clone();
    let pid = guard.node().pid();
    let socket = guard.config.socket_path();
    assert!(socket.exists(), "{} is missing", socket.display());
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the socket is open to others: {mode:o}");
    drop(guard.take());

    let on_socket = Node::adopt(ip, &dir, pid, INTERNAL).await.unwrap();
    on_socket.ping().await.unwrap();
    drop(on_socket);

    // Without the socket file the node is still there on its plain port.
    std::fs::remove_file(&socket).unwrap();
    let on_port = Node::adopt(ip, &dir, pid, INTERNAL).await.unwrap();
    assert_eq!(
        on_port.info(&["server"]).await.unwrap().process_id(),
        Some(pid)
    );
    on_port.stop().await.unwrap();
    assert!(!node::process_alive(pid));
}

#[tokio::test]
async fn stop_ends_the_process_and_frees_the_address() {
    let mut guard = TestNode::start().await;
    let pid = guard.node().pid();
    guard.take().stop().await.unwrap();
    assert!(!node::process_alive(pid));
    // Same address, same directory: it starts again.
    guard.restart(None).await;
    guard.node().ping().await.unwrap();
}

#[tokio::test]
async fn a_taken_address_is_reported() {
    let first = TestNode::start().await;
    let dir = tempfile::TempDir::new().unwrap();
    let config = NodeConfig {
        dir: dir.path().to_owned(),
        ..first.config.clone()
    };
    let err = Node::start(&redis_server(), &config).await.unwrap_err();
    assert!(matches!(err, NodeError::AddressInUse { .. }), "{err:?}");
    first.node().ping().await.unwrap();
}

#[tokio::test]
async fn a_failed_start_shows_the_log_without_secrets() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = node_config(dir.path().join("node"), None);
    // A wrapper that breaks the config with a bad ACL line holding a key, the
    // kind of line Redis quotes in its fatal error.
    let wrapper = dir.path().join("broken-redis-server");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho 'user default on >{KEY1} >{INTERNAL} bogus-rule' >> \"$1\"\nexec {} \"$@\"\n",
            redis_server().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();

    let err = Node::start(&wrapper, &config).await.unwrap_err();
    let NodeError::Exited { log_tail, .. } = &err else {
        panic!("expected Exited, got {err:?}");
    };
    assert!(log_tail.contains("<redacted>"), "{log_tail}");
    let shown = err.to_string();
    assert!(!shown.contains(KEY1), "a key leaked: {shown}");
    assert!(!shown.contains(INTERNAL), "the internal password leaked");
}

#[tokio::test]
async fn a_missing_binary_is_a_spawn_error() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = node_config(dir.path().to_owned(), None);
    let err = Node::start(std::path::Path::new("/no/such/redis-server"), &config)
        .await
        .unwrap_err();
    assert!(matches!(err, NodeError::Spawn { .. }), "{err:?}");
}

#[tokio::test]
async fn a_node_started_as_replica_serves_its_primarys_data_read_only() {
    let primary = TestNode::start().await;
    let _: () = primary.client(KEY1).await.set("k", "v").await.unwrap();
    let replica = TestNode::start_with(Some(primary.addr())).await;
    let mut client = replica.client(KEY1).await;
    let value: String = eventually("the replica to sync", Duration::from_secs(10), || {
        let mut client = client.clone();
        async move { client.get::<_, String>("k").await.ok() }
    })
    .await;
    assert_eq!(value, "v");
    let err = client.set::<_, _, ()>("k", "w").await.unwrap_err();
    assert_eq!(error_text(&err), READONLY);
}

// ---------------------------------------------------------------- links

const MASTERDOWN: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

#[tokio::test]
async fn linking_replaces_the_secondarys_data_then_serves_reads_and_refuses_writes() {
    let primary = TestNode::start().await;
    let secondary = TestNode::start().await;
    let mut p = primary.client(KEY1).await;
    let mut s = secondary.client(KEY2).await;
    let _: () = p.set("from-primary", "1").await.unwrap();
    let _: () = s.set("only-on-secondary", "x").await.unwrap();

    let state = link_and_wait(&[primary.addr()], &[secondary.addr()]).await;
    assert_eq!(state.shards[0].phase, SyncPhase::Done);

    let value: String = s.get("from-primary").await.unwrap();
    assert_eq!(value, "1");
    let gone: Option<String> = s.get("only-on-secondary").await.unwrap();
    assert_eq!(
        gone, None,
        "the full sync must wipe the secondary's old data"
    );
    let err = s.set::<_, _, ()>("k", "v").await.unwrap_err();
    assert_eq!(error_text(&err), READONLY);

    // New writes keep flowing.
    let _: () = p.set("later", "2").await.unwrap();
    let later: String = eventually("a new write to replicate", Duration::from_secs(10), || {
        let mut s = s.clone();
        async move { s.get::<_, Option<String>>("later").await.ok().flatten() }
    })
    .await;
    assert_eq!(later, "2");
}

#[tokio::test]
async fn secondary_answers_masterdown_during_a_full_sync_and_reports_progress() {
    let primary = TestNode::start().await;
    let secondary = TestNode::start().await;
    let mut p = primary.client(KEY1).await;
    // About 6 MB, streamed slowly (2 ms per key) so the sync can be watched.
    fill(&mut p, "bulk", 6_000, 1_000).await;
    let mut control = primary.node().connect().await.unwrap();
    set_rdb_key_save_delay(&mut control, 2000).await;

    replication::link(&[primary.addr()], &[secondary.addr()], &internal())
        .await
        .unwrap();
    let mut watch = SyncWatch::new(&[primary.addr()], &[secondary.addr()], &internal()).unwrap();
    let mut s = secondary.client(KEY1).await;

    let mut saw_masterdown = false;
    let mut transferring = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let done = loop {
        let state = watch.poll().await;
        if state.done {
            break state;
        }
        if state.shards[0].phase == SyncPhase::Transferring {
            transferring.push(state.progress);
            match s.get::<_, Option<String>>("bulk:1").await {
                // MASTERDOWN until the snapshot arrives; while it loads
                // straight from the socket (slowed down here), LOADING or
                // no answer in time.
                Err(err) if err.is_timeout() => {}
                Err(err) => {
                    let text = error_text(&err);
                    assert!(text == MASTERDOWN || text.starts_with("LOADING"), "{text}");
                    saw_masterdown |= text == MASTERDOWN;
                }
                // The load just finished (the primary has yet to see it):
                // only ever the primary's data, never the old.
                Ok(value) => assert_eq!(value, Some("v".repeat(1_000))),
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sync never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    assert!(saw_masterdown, "the secondary never answered MASTERDOWN");
    assert!(
        transferring.iter().any(|p| p.bytes_read > 0),
        "no progress seen: {transferring:?}"
    );
    assert!(
        transferring.iter().any(|p| p.bytes_total > 0),
        "the snapshot size was never known: {transferring:?}"
    );
    for progress in &transferring {
        assert!(progress.bytes_total == 0 || progress.bytes_total >= progress.bytes_read);
    }
    // Reads only ever go forward within one sync.
    assert!(transferring
        .windows(2)
        .all(|w| w[0].bytes_read <= w[1].bytes_read));
    // Once done, the link counts as complete: everything read of everything.
    assert!(done.progress.bytes_read > 0);
    assert_eq!(done.progress.bytes_read, done.progress.bytes_total);
    assert_eq!(done.progress.fraction(), 1.0);

    set_rdb_key_save_delay(&mut control, 0).await;
    let value: String = s.get("bulk:5999").await.unwrap();
    assert_eq!(value.len(), 1_000);
}

#[tokio::test]
async fn unlinking_keeps_the_data_and_takes_writes() {
    let primary = TestNode::start().await;
    let secondary = TestNode::start().await;
    let mut p = primary.client(KEY1).await;
    fill(&mut p, "k", 100, 10).await;
    link_and_wait(&[primary.addr()], &[secondary.addr()]).await;

    replication::unlink(&[secondary.addr()], &internal())
        .await
        .unwrap();
    let mut s = secondary.client(KEY1).await;
    let value: String = s.get("k:99").await.unwrap();
    assert_eq!(value.len(), 10);
    let _: () = s.set("mine", "now").await.unwrap();
    let info = secondary.node().info(&["replication"]).await.unwrap();
    assert_eq!(info.role(), Some(Role::Primary));
    // The old primary no longer feeds it.
    let _: () = p.set("after-unlink", "x").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let missing: Option<String> = s.get("after-unlink").await.unwrap();
    assert_eq!(missing, None);
}

#[tokio::test]
async fn shard_i_replicates_shard_i() {
    let primaries = [TestNode::start().await, TestNode::start().await];
    let secondaries = [TestNode::start().await, TestNode::start().await];
    for (i, p) in primaries.iter().enumerate() {
        let _: () = p.client(KEY1).await.set("shard", i).await.unwrap();
    }
    let p: Vec<_> = primaries.iter().map(TestNode::addr).collect();
    let s: Vec<_> = secondaries.iter().map(TestNode::addr).collect();
    let state = link_and_wait(&p, &s).await;
    assert_eq!(state.shards.len(), 2);
    for (i, secondary) in secondaries.iter().enumerate() {
        let shard: usize = secondary.client(KEY1).await.get("shard").await.unwrap();
        assert_eq!(shard, i);
    }
}

#[tokio::test]
async fn linking_refuses_a_replica_as_primary_and_mismatched_shards() {
    let primary = TestNode::start().await;
    let replica = TestNode::start_with(Some(primary.addr())).await;
    let other = TestNode::start().await;
    let err = replication::link(&[replica.addr()], &[other.addr()], &internal())
        .await
        .unwrap_err();
    assert!(matches!(err, ReplicationError::NotPrimary(a) if a == replica.addr()));
    // Nothing changed on the would-be secondary.
    let info = other.node().info(&["replication"]).await.unwrap();
    assert_eq!(info.role(), Some(Role::Primary));

    let err = replication::link(&[primary.addr()], &[], &internal())
        .await
        .unwrap_err();
    assert!(matches!(err, ReplicationError::ShardMismatch { .. }));
}

#[tokio::test]
async fn sync_state_reports_an_unlinked_or_unreachable_secondary() {
    let primary = TestNode::start().await;
    let mut secondary = TestNode::start().await;
    let state = replication::sync_state(&[primary.addr()], &[secondary.addr()], &internal())
        .await
        .unwrap();
    assert!(!state.done);
    assert_eq!(state.shards[0].phase, SyncPhase::NotLinked);
    secondary.kill9().await;
    let state = replication::sync_state(&[primary.addr()], &[secondary.addr()], &internal())
        .await
        .unwrap();
    assert_eq!(state.shards[0].phase, SyncPhase::Unreachable);
}
