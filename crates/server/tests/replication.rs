//! Nodes and geo-replication links against real `redis-server` processes.

mod support_nodes;

use std::time::Duration;

use georep_server::node::{self, Node, NodeConfig, NodeError, Role};
use redis::AsyncCommands;
use support_nodes::*;

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
        ("bind", "127.0.0.1"),
        ("masteruser", "georep"),
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
    let port = guard.addr().port();
    let pid = guard.node().pid();
    let mut client = guard.client(KEY1).await;
    let _: () = client.set("survives", "yes").await.unwrap();

    // The control plane "restarts": its handle is dropped, the process lives on.
    drop(guard.take());
    assert!(node::process_alive(pid));

    let wrong_pid = Node::adopt(port, pid + 1, INTERNAL).await;
    assert!(
        matches!(wrong_pid, Err(NodeError::NotAdoptable { .. })),
        "{wrong_pid:?}"
    );
    let wrong_password = Node::adopt(port, pid, "not-it").await;
    assert!(matches!(
        wrong_password,
        Err(NodeError::NotAdoptable { .. })
    ));

    let adopted = Node::adopt(port, pid, INTERNAL).await.unwrap();
    assert_eq!(adopted.pid(), pid);
    let value: String = guard.client(KEY2).await.get("survives").await.unwrap();
    assert_eq!(value, "yes");

    adopted.stop().await.unwrap();
    assert!(!node::process_alive(pid));
    assert!(Node::adopt(port, pid, INTERNAL).await.is_err());
}

#[tokio::test]
async fn stop_ends_the_process_and_frees_the_port() {
    let mut guard = TestNode::start().await;
    let pid = guard.node().pid();
    guard.take().stop().await.unwrap();
    assert!(!node::process_alive(pid));
    // Same port, same directory: it starts again.
    guard.restart(None).await;
    guard.node().ping().await.unwrap();
}

#[tokio::test]
async fn a_taken_port_is_reported() {
    let first = TestNode::start().await;
    let dir = tempfile::TempDir::new().unwrap();
    let config = NodeConfig {
        dir: dir.path().to_owned(),
        ..first.config.clone()
    };
    let err = Node::start(&redis_server(), &config).await.unwrap_err();
    assert!(
        matches!(err, NodeError::PortInUse { .. } | NodeError::Exited { .. }),
        "{err:?}"
    );
    first.node().ping().await.unwrap();
}

#[tokio::test]
async fn a_failed_start_shows_the_log_without_secrets() {
    let dir = tempfile::TempDir::new().unwrap();
    let config = NodeConfig {
        port: free_port(),
        dir: dir.path().join("node"),
        access_keys: [KEY1.into(), KEY2.into()],
        internal_password: INTERNAL.into(),
        replica_of: None,
    };
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
    let config = NodeConfig {
        port: free_port(),
        dir: dir.path().to_owned(),
        access_keys: [KEY1.into(), KEY2.into()],
        internal_password: INTERNAL.into(),
        replica_of: None,
    };
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
    assert_eq!(
        error_text(&err),
        "READONLY You can't write against a read only replica."
    );
}
