//! Helpers for the data-plane tests: real `redis-server` nodes in temporary
//! directories, each on its own loopback address (from a block this test
//! process claims), killed when the test ends however it ends;
//! linked pairs of them; and (from `common`) bounded polling and a writer
//! under load.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use georep_server::dataplane::addresses::AddressBlock;
use georep_server::dataplane::credentials::Credentials;
use georep_server::dataplane::node::{Node, NodeConfig, DEFAULT_REDIS_SERVER};
use georep_server::dataplane::replication::{self, SyncState, SyncWatch};
use redis::aio::MultiplexedConnection;
use tempfile::TempDir;

pub use crate::common::{
    assert_all_present, eventually, set_rdb_key_save_delay, writer, OnFailure,
};

/// The internal password every hand-made node in these tests shares.
pub const INTERNAL: &str = "internal-Pa55word";

/// [`INTERNAL`], as the data plane's replication steps take it.
pub fn internal() -> Credentials {
    Credentials::shared(INTERNAL)
}
/// A cache's two access keys, as Azure makes them (base64).
pub const KEY1: &str = "pRimAry+Key/Number1=";
pub const KEY2: &str = "sEcondAry+Key/Number2=";
/// What a replica answers a write.
pub const READONLY: &str = "READONLY You can't write against a read only replica.";

/// The `redis-server` to run: `$REDIS_SERVER`, or Debian's.
pub fn redis_server() -> PathBuf {
    std::env::var_os("REDIS_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_REDIS_SERVER))
}

/// A loopback address nobody listens on, never handed out twice here.
pub fn free_addr() -> Ipv4Addr {
    static BLOCK: Mutex<Option<(AddressBlock, HashSet<Ipv4Addr>)>> = Mutex::new(None);
    let mut block = BLOCK.lock().unwrap_or_else(|p| p.into_inner());
    let (block, used) = block.get_or_insert_with(|| {
        (
            AddressBlock::claim(None).expect("a block of loopback addresses"),
            HashSet::new(),
        )
    });
    let addr = block.allocate(used, 1).expect("a free address")[0];
    used.insert(addr);
    addr
}

/// The settings of a node in `dir` on a fresh address, with the tests'
/// keys and internal password, a replica of `replica_of` if given.
pub fn node_config(dir: PathBuf, replica_of: Option<SocketAddr>) -> NodeConfig {
    NodeConfig {
        addr: free_addr(),
        plain_port: true,
        extra_binds: vec![],
        dir,
        access_keys: [KEY1.into(), KEY2.into()],
        internal_password: INTERNAL.into(),
        replica_of,
        replicated: true,
        tls: None,
    }
}

/// A node for one test; `SIGKILL`ed when dropped.
pub struct TestNode {
    pub config: NodeConfig,
    node: Option<Node>,
    _dir: Arc<TempDir>,
}

impl TestNode {
    /// A node that starts as a primary.
    pub async fn start() -> TestNode {
        TestNode::start_with(None).await
    }

    /// A node that starts as a replica of `replica_of`, if given.
    pub async fn start_with(replica_of: Option<SocketAddr>) -> TestNode {
        let dir = Arc::new(TempDir::new().expect("temp dir"));
        let config = node_config(dir.path().join("node"), replica_of);
        let node = Node::start(&redis_server(), &config)
            .await
            .expect("node starts");
        TestNode {
            config,
            node: Some(node),
            _dir: dir,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.config.socket()
    }

    pub fn node(&self) -> &Node {
        self.node.as_ref().expect("the node is running")
    }

    /// Takes the node out of the guard (the guard then kills nothing).
    pub fn take(&mut self) -> Node {
        self.node.take().expect("the node is running")
    }

    /// `kill -9`, and wait until the process is gone.
    pub async fn kill9(&mut self) {
        self.take().kill().await.expect("kill -9");
    }

    /// Starts the node again, on the same address and directory.
    pub async fn restart(&mut self, replica_of: Option<SocketAddr>) {
        assert!(self.node.is_none(), "kill the node first");
        self.config.replica_of = replica_of;
        let node = Node::start(&redis_server(), &self.config)
            .await
            .expect("node restarts");
        self.node = Some(node);
    }

    /// A connection as an application makes it: the `default` user with `key`.
    pub async fn client(&self, key: &str) -> MultiplexedConnection {
        app_client(self.addr(), key).await.expect("client connects")
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            let _ = node.kill_now();
        }
    }
}

/// Connects like `redis-cli -h ADDR -p 6379 -a KEY`.
pub async fn app_client(addr: SocketAddr, key: &str) -> redis::RedisResult<MultiplexedConnection> {
    crate::common::connect(addr, key, Duration::from_secs(2)).await
}

/// The error code and text of a failed command, e.g. `READONLY You can't…`.
pub fn error_text(err: &redis::RedisError) -> String {
    match (err.code(), err.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_owned(),
        _ => err.to_string(),
    }
}

/// Writes `count` keys of `size` bytes each, pipelined.
pub async fn fill(conn: &mut MultiplexedConnection, prefix: &str, count: usize, size: usize) {
    let value = "v".repeat(size);
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let mut pipe = redis::pipe();
        for i in chunk {
            pipe.cmd("SET")
                .arg(format!("{prefix}:{i}"))
                .arg(&value)
                .ignore();
        }
        pipe.query_async::<()>(conn).await.expect("fill");
    }
}

/// Waits until `watch` reports the link established.
pub async fn wait_linked(watch: &mut SyncWatch) -> SyncState {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let state = watch.poll().await;
        if state.done {
            return state;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the full sync never finished: {state:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Links shard i of `secondaries` to shard i of `primaries` and waits for
/// the full sync to finish.
pub async fn link_and_wait(primaries: &[SocketAddr], secondaries: &[SocketAddr]) -> SyncState {
    replication::link(primaries, secondaries, &internal())
        .await
        .unwrap();
    let mut watch = SyncWatch::new(primaries, secondaries, &internal()).unwrap();
    wait_linked(&mut watch).await
}

/// A linked pair of new nodes with its full sync finished.
pub async fn linked_pair() -> (TestNode, TestNode) {
    let primary = TestNode::start().await;
    let secondary = TestNode::start().await;
    link_and_wait(&[primary.addr()], &[secondary.addr()]).await;
    (primary, secondary)
}
