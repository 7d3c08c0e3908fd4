//! How the control plane reaches a node, and which password opens it as
//! the control plane's own user.
//!
//! Every cache has its own internal password (kept by the store), so a
//! credential read off one cache's nodes opens that cache and no other. The
//! data plane works on node addresses, so the password is looked up by the
//! address being reached, at the moment it is reached: a node that moved, or
//! an address a deleted cache gave back, can never be reached with a stale
//! password.
//!
//! Replication authenticates with the password of the node it replicates
//! from (`masterauth`), which is the other cache's on a geo-replication
//! link: [`Credentials::replicate_from`] sets it right before every
//! `REPLICAOF` and `FAILOVER TO` that could point a node at another cache.
//!
//! The fleet's nodes are reached on their unix sockets, and replicate from
//! each other over TLS ([`Credentials::replication_addr`]): with a cache's
//! plain port closed (`enableNonSslPort` false) both still work.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use crate::dataplane::node::{self, Info, NodeError, Via, SOCKET_FILE};
use crate::store::Store;

/// Where the internal passwords come from.
#[derive(Clone)]
enum Source {
    /// One password for every node, for nodes started by hand (the data
    /// plane's own tests, say), reached on their plain ports and replicating
    /// over them.
    Shared(Arc<str>),
    /// Each node's cache's password, as the store says; each node reached
    /// on the socket in its directory under `nodes_dir`, and replicating
    /// over TLS.
    PerCache {
        store: Arc<Store>,
        nodes_dir: Arc<PathBuf>,
    },
}

/// The internal passwords of the nodes the data plane may reach. Cheap to clone.
#[derive(Clone)]
pub struct Credentials(Source);

// Hand-written so no password can reach a log line.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.0 {
            Source::Shared(_) => "shared",
            Source::PerCache { .. } => "per cache",
        };
        f.debug_tuple("Credentials").field(&kind).finish()
    }
}

impl Credentials {
    /// One password for every node.
    pub fn shared(password: &str) -> Credentials {
        Credentials(Source::Shared(password.into()))
    }

    /// The password of each node's cache, read from the store, for nodes
    /// whose directories are `nodes_dir/<address>`.
    pub fn per_cache(store: Arc<Store>, nodes_dir: PathBuf) -> Credentials {
        Credentials(Source::PerCache {
            store,
            nodes_dir: Arc::new(nodes_dir),
        })
    }

    /// Where a node names `upstream` to replicate from it: its TLS port for
    /// the fleet's nodes, its plain one for nodes started by hand.
    pub fn replication_addr(&self, upstream: SocketAddr) -> SocketAddr {
        let tls = matches!(self.0, Source::PerCache { .. });
        SocketAddr::new(upstream.ip(), node::replication_port(tls, upstream.port()))
    }

    /// The socket the node at `addr` answers the control plane on, if it has one.
    fn socket_of(&self, addr: SocketAddr) -> Option<PathBuf> {
        match &self.0 {
            Source::Shared(_) => None,
            Source::PerCache { nodes_dir, .. } => {
                Some(nodes_dir.join(addr.ip().to_string()).join(SOCKET_FILE))
            }
        }
    }

    /// The internal password of the node at `addr`.
    pub fn of(&self, addr: SocketAddr) -> Result<String, NodeError> {
        self.lookup(addr)?
            .ok_or_else(|| no_credential(addr, "no stored cache has a node there"))
    }

    /// The internal password of the node at `addr`, or `None` if no stored
    /// cache has a node there.
    fn lookup(&self, addr: SocketAddr) -> Result<Option<String>, NodeError> {
        match &self.0 {
            Source::Shared(password) => Ok(Some(password.to_string())),
            Source::PerCache { store, .. } => {
                let std::net::IpAddr::V4(ip) = addr.ip() else {
                    return Ok(None);
                };
                store
                    .node_internal_password(ip)
                    .map_err(|error| no_credential(addr, &error.to_string()))
            }
        }
    }

    /// A control connection to the node at `addr` as the internal user.
    pub async fn connect(&self, addr: SocketAddr) -> Result<MultiplexedConnection, NodeError> {
        self.connect_with_timeouts(addr, node::CONNECT_TIMEOUT, node::RESPONSE_TIMEOUT)
            .await
    }

    /// [`Credentials::connect`], with explicit bounds on connecting and on each reply.
    pub async fn connect_with_timeouts(
        &self,
        addr: SocketAddr,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<MultiplexedConnection, NodeError> {
        let password = self.of(addr)?;
        let socket = self.socket_of(addr);
        let via = socket.as_deref().map_or(Via::Plain, Via::socket_or_plain);
        node::connect_with_timeouts(addr, via, &password, connect_timeout, response_timeout).await
    }

    /// `INFO` of the given sections from the node at `addr`, over a fresh connection.
    pub async fn info(&self, addr: SocketAddr, sections: &[&str]) -> Result<Info, NodeError> {
        let mut conn = self.connect(addr).await?;
        node::info_on(&mut conn, addr, sections).await
    }

    /// Makes the node on `conn` (at `addr`) authenticate to `upstream` with
    /// `upstream`'s password when it replicates from it. Call it before
    /// `REPLICAOF upstream` or `FAILOVER TO upstream`.
    pub async fn replicate_from(
        &self,
        conn: &mut MultiplexedConnection,
        addr: SocketAddr,
        upstream: SocketAddr,
    ) -> Result<(), NodeError> {
        let Some(password) = self.lookup(upstream)? else {
            // No node is there: the address that listens nowhere, which cuts
            // a link on purpose. There is nothing to authenticate to.
            return Ok(());
        };
        if password == self.of(addr)? {
            // Same cache (or one shared password): the node's own config already has it.
            return Ok(());
        }
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("masterauth")
            .arg(password)
            .query_async::<()>(conn)
            .await
            .map_err(|e| NodeError::Command {
                addr,
                command: "CONFIG SET masterauth",
                // Never the reply's text, which could quote the password.
                source: redis::RedisError::from((e.kind(), "CONFIG SET masterauth refused")),
            })
    }
}

fn no_credential(addr: SocketAddr, reason: &str) -> NodeError {
    NodeError::NoCredential {
        addr,
        reason: reason.to_owned(),
    }
}
