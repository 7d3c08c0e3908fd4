//! Geo-primary endpoints.
//!
//! A [`GeoProxy`] is a TCP listener on 127.0.0.1 that forwards each
//! connection, byte for byte, to whichever node is the geo-primary now. It
//! speaks no Redis: clients authenticate to the node behind it with that
//! cache's access keys, exactly as they would directly.
//!
//! On a failover, [`GeoProxy::switch_to`] sends new connections to the new
//! primary and closes the ones still open to the old primary. Closing them
//! matters: writes held by the old primary's pause are answered `READONLY`
//! once it has stepped down, and a client that kept its connection would
//! keep writing to a replica. A closed connection makes it reconnect, and
//! reconnecting lands on the new primary.
//!
//! While a planned failover runs, [`GeoProxy::pause`] holds new connections
//! (they are accepted but not forwarded) so they reach the new primary rather
//! than the old one; [`GeoProxy::switch_to`] or [`GeoProxy::resume`] lets
//! them through.
//!
//! The forwarding itself is `tokio::io::copy_bidirectional` on sockets with
//! `TCP_NODELAY`: nothing is parsed or copied beyond that.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::io::copy_bidirectional_with_sizes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tracing::{debug, info, warn};

/// How long a connection may be held while the proxy is paused.
const MAX_HOLD: Duration = Duration::from_secs(30);
/// How long connecting to the node may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// The copy buffer, each way: large enough for pipelined batches.
const BUFFER: usize = 64 * 1024;

/// What can go wrong with a geo-primary endpoint.
#[derive(Debug, Error)]
pub enum ProxyError {
    /// The listening socket could not be opened (e.g. the port is taken).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
}

/// Where connections go, shared by the acceptor and every connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Route {
    /// The current geo-primary node.
    target: SocketAddr,
    /// Hold new connections instead of forwarding them.
    paused: bool,
    /// The endpoint is gone: close everything.
    closed: bool,
}

/// A geo-primary endpoint: a TCP listener forwarding to the current primary.
///
/// Dropping it stops the listener and closes its connections, like
/// [`GeoProxy::shutdown`] without waiting.
#[derive(Debug)]
pub struct GeoProxy {
    local_addr: SocketAddr,
    route: Arc<watch::Sender<Route>>,
    active: Arc<AtomicUsize>,
    acceptor: Option<JoinHandle<()>>,
}

impl GeoProxy {
    /// Listens on `127.0.0.1:port` (any free port for `None`) and forwards
    /// to `target`.
    ///
    /// Give the same port again after a control-plane restart to keep the
    /// endpoint's address stable.
    pub async fn bind(port: Option<u16>, target: SocketAddr) -> Result<GeoProxy, ProxyError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port.unwrap_or(0)));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ProxyError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ProxyError::Bind { addr, source })?;
        let (route, _) = watch::channel(Route {
            target,
            paused: false,
            closed: false,
        });
        let route = Arc::new(route);
        let active = Arc::new(AtomicUsize::new(0));
        let acceptor = tokio::spawn(accept_loop(listener, route.clone(), active.clone()));
        info!(endpoint = %local_addr, %target, "geo-primary endpoint listening");
        Ok(GeoProxy {
            local_addr,
            route,
            active,
            acceptor: Some(acceptor),
        })
    }

    /// The endpoint's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The endpoint's port.
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The node connections go to now.
    pub fn target(&self) -> SocketAddr {
        self.route.borrow().target
    }

    /// Whether new connections are being held.
    pub fn is_paused(&self) -> bool {
        self.route.borrow().paused
    }

    /// How many client connections are open (forwarded or held).
    pub fn active_connections(&self) -> usize {
        self.active.load(Ordering::Relaxed)
    }

    /// Sends new connections (and held ones) to `target`, closes the
    /// connections open to any other node, and ends a pause.
    pub fn switch_to(&self, target: SocketAddr) {
        let previous = self.route.borrow().target;
        self.route.send_modify(|route| {
            route.target = target;
            route.paused = false;
        });
        if previous != target {
            info!(endpoint = %self.local_addr, from = %previous, to = %target, "geo-primary endpoint switched");
        }
    }

    /// Holds new connections until [`GeoProxy::switch_to`] or
    /// [`GeoProxy::resume`] (at most 30 s each); open ones keep flowing.
    pub fn pause(&self) {
        self.route.send_modify(|route| route.paused = true);
        debug!(endpoint = %self.local_addr, "geo-primary endpoint paused");
    }

    /// Lets held and new connections through to the current target.
    pub fn resume(&self) {
        self.route.send_modify(|route| route.paused = false);
        debug!(endpoint = %self.local_addr, "geo-primary endpoint resumed");
    }

    /// Stops listening and closes every connection; the port is free when
    /// this returns.
    pub async fn shutdown(mut self) {
        self.close();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.await;
        }
        info!(endpoint = %self.local_addr, "geo-primary endpoint closed");
    }

    fn close(&self) {
        self.route.send_modify(|route| route.closed = true);
    }
}

impl Drop for GeoProxy {
    fn drop(&mut self) {
        self.close();
        if let Some(acceptor) = self.acceptor.take() {
            acceptor.abort();
        }
    }
}

/// Accepts clients until the endpoint closes; each gets its own task.
async fn accept_loop(
    listener: TcpListener,
    route: Arc<watch::Sender<Route>>,
    active: Arc<AtomicUsize>,
) {
    let mut closed = route.subscribe();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, peer)) => {
                    let connection = Connection::new(active.clone());
                    tokio::spawn(forward(client, peer, route.subscribe(), connection));
                }
                Err(e) => {
                    // Out of file descriptors, or the like: back off, go on.
                    warn!(error = %e, "geo-primary endpoint cannot accept");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = until(&mut closed, |r| r.closed) => break,
        }
    }
    // Dropping the listener here frees the port.
}

/// Counts a connection for as long as it lives.
struct Connection(Arc<AtomicUsize>);

impl Connection {
    fn new(active: Arc<AtomicUsize>) -> Connection {
        active.fetch_add(1, Ordering::Relaxed);
        Connection(active)
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Forwards one client to the current target until either side closes, or
/// the endpoint moves to another node or closes.
async fn forward(
    mut client: TcpStream,
    peer: SocketAddr,
    mut route: watch::Receiver<Route>,
    _connection: Connection,
) {
    // Hold the client while paused; give up if the endpoint closes or the
    // pause outlasts MAX_HOLD.
    let ready = timeout(MAX_HOLD, until(&mut route, |r| r.closed || !r.paused)).await;
    let target = {
        let route = *route.borrow();
        match ready {
            Ok(()) if !route.closed => route.target,
            _ => return,
        }
    };

    let mut upstream = match timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            debug!(%peer, %target, error = %e, "geo-primary unreachable; closing client");
            return;
        }
        Err(_) => {
            debug!(%peer, %target, "geo-primary did not accept in time; closing client");
            return;
        }
    };
    // Redis traffic is small request/response messages: send them at once.
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);

    tokio::select! {
        copied = copy_bidirectional_with_sizes(&mut client, &mut upstream, BUFFER, BUFFER) => {
            if let Err(e) = copied {
                debug!(%peer, %target, error = %e, "connection ended with an error");
            }
        }
        () = until(&mut route, |r| r.closed || r.target != target) => {
            debug!(%peer, %target, "closing connection to the former geo-primary");
        }
    }
    // Both sockets close when dropped here.
}

/// Resolves once the route satisfies `condition`, or the endpoint is gone.
async fn until(route: &mut watch::Receiver<Route>, condition: impl FnMut(&Route) -> bool) {
    // The guard `wait_for` returns is not `Send`: drop it at once.
    let _ = route.wait_for(condition).await.map(|_| ());
}
