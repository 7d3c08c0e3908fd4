//! A node's listeners changed at runtime (`CONFIG SET bind`), as the fleet
//! moves cache and geo-primary addresses between nodes.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::time::Duration;

use crate::support::*;
use georep_server::dataplane::node::{self, listen};

/// Makes `node` listen on its own address and `extra`.
async fn bind_also(node: &TestNode, extra: Ipv4Addr) -> Result<(), node::NodeError> {
    let mut conn = node::connect(node.addr(), INTERNAL).await.unwrap();
    let wanted = BTreeSet::from([node.config.addr, extra]);
    listen::set_binds(&mut conn, node.addr(), &wanted).await
}

/// An address briefly held by another process (as a child Redis forked for
/// a `BGSAVE` or a replica's diskless sync holds its parent's sockets until
/// it closes them) is bound once it is free: the node ends up listening on
/// it, and on its own address.
#[tokio::test]
async fn an_address_held_for_a_moment_is_bound_once_free() {
    let node = TestNode::start().await;
    let extra = free_addr();
    let holder = TcpListener::bind(SocketAddr::from((extra, 6379))).unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(holder);
    });
    bind_also(&node, extra)
        .await
        .expect("the rebind goes through once the address is free");
    release.join().unwrap();
    let mut conn = node::connect(node.addr(), INTERNAL).await.unwrap();
    let binds = listen::binds(&mut conn, node.addr()).await.unwrap();
    assert_eq!(binds, BTreeSet::from([node.config.addr, extra]));
    for addr in [node.config.addr, extra] {
        let mut client = app_client(SocketAddr::from((addr, 6379)), KEY1)
            .await
            .unwrap_or_else(|e| panic!("{addr} answers: {e}"));
        let pong: String = redis::cmd("PING").query_async(&mut client).await.unwrap();
        assert_eq!(pong, "PONG");
    }
}

/// An address another process keeps is refused, and the node still
/// listens on its own address.
#[tokio::test]
async fn an_address_held_for_good_is_refused_and_the_node_keeps_its_own() {
    let node = TestNode::start().await;
    let extra = free_addr();
    let _holder = TcpListener::bind(SocketAddr::from((extra, 6379))).unwrap();
    let error = bind_also(&node, extra).await.unwrap_err();
    assert!(
        error.to_string().contains("CONFIG SET bind"),
        "the error names the command: {error}"
    );
    let mut client = node.client(KEY1).await;
    let pong: String = redis::cmd("PING").query_async(&mut client).await.unwrap();
    assert_eq!(pong, "PONG");
}
