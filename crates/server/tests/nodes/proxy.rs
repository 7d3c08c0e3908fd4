//! Geo-primary endpoints in front of real `redis-server` processes.

use std::net::SocketAddr;
use std::time::Duration;

use crate::support::*;
use georep_server::dataplane::proxy::{GeoProxy, ProxyError};
use redis::AsyncCommands;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// A node that answers `GET who` with `name`.
async fn named_node(name: &str) -> TestNode {
    let node = TestNode::start().await;
    let _: () = node.client(KEY1).await.set("who", name).await.unwrap();
    node
}

/// A raw connection, authenticated, speaking inline Redis commands.
struct Raw(TcpStream);

impl Raw {
    async fn connect(addr: SocketAddr) -> Raw {
        let stream = timeout(Duration::from_secs(5), TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap();
        let mut raw = Raw(stream);
        assert_eq!(raw.command(&format!("AUTH {KEY1}")).await, "+OK\r\n");
        raw
    }

    /// Sends one inline command and reads one reply (small replies only).
    async fn command(&mut self, line: &str) -> String {
        self.0
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        let mut buf = vec![0; 512];
        let n = timeout(Duration::from_secs(10), self.0.read(&mut buf))
            .await
            .expect("no reply")
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// Waits for the other end to close the connection.
    async fn closed(&mut self) -> bool {
        let mut buf = [0; 64];
        matches!(
            timeout(Duration::from_secs(10), self.0.read(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }
}

#[tokio::test]
async fn a_redis_client_works_through_the_endpoint() {
    let node = named_node("a").await;
    let proxy = GeoProxy::bind(None, node.addr()).await.unwrap();
    assert_ne!(proxy.port(), 0);
    assert_eq!(proxy.target(), node.addr());

    // Exactly as `redis-cli -p PORT -a KEY` would.
    let mut client = app_client(proxy.local_addr(), KEY2).await.unwrap();
    let who: String = client.get("who").await.unwrap();
    assert_eq!(who, "a");
    let _: () = client.set("through", "proxy").await.unwrap();
    let value: String = node.client(KEY1).await.get("through").await.unwrap();
    assert_eq!(value, "proxy");
    // Bigger payloads and pipelines pass unchanged.
    let big = "x".repeat(1 << 20);
    let _: () = client.set("big", &big).await.unwrap();
    let back: String = client.get("big").await.unwrap();
    assert_eq!(back, big);
    // Wrong keys are refused by the node behind it.
    assert!(app_client(proxy.local_addr(), "wrong").await.is_err());
}

#[tokio::test]
async fn switching_moves_new_connections_and_closes_old_ones() {
    let a = named_node("a").await;
    let b = named_node("b").await;
    let proxy = GeoProxy::bind(None, a.addr()).await.unwrap();

    let mut old = Raw::connect(proxy.local_addr()).await;
    assert!(old.command("GET who").await.ends_with("a\r\n"));
    eventually(
        "the connection to be counted",
        Duration::from_secs(5),
        || async { (proxy.active_connections() == 1).then_some(()) },
    )
    .await;

    proxy.switch_to(b.addr());
    assert_eq!(proxy.target(), b.addr());
    assert!(
        old.closed().await,
        "the connection to the old primary stayed open"
    );

    let mut new = Raw::connect(proxy.local_addr()).await;
    assert!(new.command("GET who").await.ends_with("b\r\n"));
    let mut client = app_client(proxy.local_addr(), KEY1).await.unwrap();
    let who: String = client.get("who").await.unwrap();
    assert_eq!(who, "b");

    // Switching to the same node again closes nothing.
    proxy.switch_to(b.addr());
    assert!(new.command("PING").await.starts_with("+PONG"));
}

#[tokio::test]
async fn a_pause_holds_new_connections_until_the_switch() {
    let a = named_node("a").await;
    let b = named_node("b").await;
    let proxy = GeoProxy::bind(None, a.addr()).await.unwrap();
    let mut open = Raw::connect(proxy.local_addr()).await;

    proxy.pause();
    assert!(proxy.is_paused());
    // Open connections keep flowing.
    assert!(open.command("PING").await.starts_with("+PONG"));
    // A new one is accepted but not forwarded yet.
    let addr = proxy.local_addr();
    let held = tokio::spawn(async move {
        let mut raw = Raw::connect(addr).await;
        raw.command("GET who").await
    });
    eventually(
        "the held client to connect",
        Duration::from_secs(5),
        || async { (proxy.active_connections() == 2).then_some(()) },
    )
    .await;
    assert!(!held.is_finished());

    proxy.switch_to(b.addr());
    assert!(!proxy.is_paused());
    let reply = timeout(Duration::from_secs(10), held)
        .await
        .unwrap()
        .unwrap();
    assert!(reply.ends_with("b\r\n"), "{reply}");
}

#[tokio::test]
async fn resuming_sends_held_connections_to_the_unchanged_target() {
    let a = named_node("a").await;
    let proxy = GeoProxy::bind(None, a.addr()).await.unwrap();
    proxy.pause();
    let addr = proxy.local_addr();
    let held = tokio::spawn(async move { Raw::connect(addr).await.command("GET who").await });
    eventually(
        "the held client to connect",
        Duration::from_secs(5),
        || async { (proxy.active_connections() == 1).then_some(()) },
    )
    .await;
    proxy.resume();
    let reply = timeout(Duration::from_secs(10), held)
        .await
        .unwrap()
        .unwrap();
    assert!(reply.ends_with("a\r\n"), "{reply}");
}

#[tokio::test]
async fn shutdown_closes_everything_and_the_port_can_be_bound_again() {
    let a = named_node("a").await;
    let proxy = GeoProxy::bind(None, a.addr()).await.unwrap();
    let port = proxy.port();
    let mut open = Raw::connect(proxy.local_addr()).await;

    proxy.shutdown().await;
    assert!(open.closed().await);
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());

    // A restarted control plane gets the same address back.
    let again = GeoProxy::bind(Some(port), a.addr()).await.unwrap();
    assert_eq!(again.port(), port);
    let mut client = app_client(again.local_addr(), KEY1).await.unwrap();
    let who: String = client.get("who").await.unwrap();
    assert_eq!(who, "a");

    // A taken port is an error, not a panic.
    let taken = GeoProxy::bind(Some(port), a.addr()).await.unwrap_err();
    assert!(matches!(taken, ProxyError::Bind { .. }));
}

#[tokio::test]
async fn an_unreachable_primary_closes_the_client() {
    let proxy = GeoProxy::bind(None, SocketAddr::from(([127, 0, 0, 1], free_port())))
        .await
        .unwrap();
    let mut raw = TcpStream::connect(proxy.local_addr()).await.unwrap();
    let mut buf = [0; 16];
    let read = timeout(Duration::from_secs(10), raw.read(&mut buf))
        .await
        .unwrap();
    assert!(matches!(read, Ok(0) | Err(_)));
    eventually(
        "the connection to be dropped",
        Duration::from_secs(5),
        || async { (proxy.active_connections() == 0).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn dropping_the_endpoint_closes_its_connections() {
    let a = named_node("a").await;
    let proxy = GeoProxy::bind(None, a.addr()).await.unwrap();
    let mut open = Raw::connect(proxy.local_addr()).await;
    drop(proxy);
    assert!(open.closed().await);
}
