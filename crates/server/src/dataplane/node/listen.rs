//! A node's listeners: the addresses in its `bind` list, changed at runtime.
//!
//! `CONFIG SET bind` rebinds without dropping established connections, so
//! moving an address away from a node also disconnects the clients that
//! came in through it (`CLIENT KILL LADDR`), which then reconnect to
//! whichever node holds it next.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use redis::aio::MultiplexedConnection;

use super::{command_error, NodeError, TLS_PORT};
use crate::store::records::REDIS_PORT;

/// The addresses the node at `node`, on `conn`, listens on now.
pub async fn binds(
    conn: &mut MultiplexedConnection,
    node: SocketAddr,
) -> Result<BTreeSet<Ipv4Addr>, NodeError> {
    let reply: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("bind")
        .query_async(conn)
        .await
        .map_err(command_error(node, "CONFIG GET bind"))?;
    Ok(reply
        .get(1)
        .map(|list| {
            list.split_whitespace()
                .filter_map(|a| a.parse().ok())
                .collect()
        })
        .unwrap_or_default())
}

/// How many times a `CONFIG SET bind` that could not bind is tried again.
const BIND_RETRIES: u32 = 20;
/// The pause before each of those tries.
const BIND_RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Makes the node at `node`, on `conn`, listen on exactly `addrs` (on
/// every port it has: 6379 if open, and 6380).
///
/// A refusal to bind is tried again for about a second: a child Redis has
/// just forked (a `BGSAVE`, or a replica's diskless full sync) holds the
/// parent's listening sockets until it closes them, moments later, and
/// Redis refuses the rebind meanwhile. It then falls back to its old
/// addresses, and if those cannot be bound either it listens on none, so
/// giving up at once could leave a node unreachable. An address held for
/// good by another process still fails, a second later.
pub async fn set_binds(
    conn: &mut MultiplexedConnection,
    node: SocketAddr,
    addrs: &BTreeSet<Ipv4Addr>,
) -> Result<(), NodeError> {
    let list: Vec<String> = addrs.iter().map(Ipv4Addr::to_string).collect();
    let list = list.join(" ");
    let mut retries = 0;
    loop {
        let set = redis::cmd("CONFIG")
            .arg("SET")
            .arg("bind")
            .arg(&list)
            .query_async::<()>(conn)
            .await;
        match set {
            Err(error) if retries < BIND_RETRIES && could_not_bind(&error) => {
                retries += 1;
                tracing::debug!(%node, retries, "CONFIG SET bind could not bind; trying again");
                tokio::time::sleep(BIND_RETRY_PAUSE).await;
            }
            other => return other.map_err(command_error(node, "CONFIG SET bind")),
        }
    }
}

/// Whether Redis refused a `CONFIG SET bind` because an address was in use.
fn could_not_bind(error: &redis::RedisError) -> bool {
    error.to_string().contains("Failed to bind")
}

/// Disconnects the clients of the node at `node`, on `conn`, that
/// connected through `through`, on either port; returns how many there were.
pub async fn disconnect_clients(
    conn: &mut MultiplexedConnection,
    node: SocketAddr,
    through: Ipv4Addr,
) -> Result<u64, NodeError> {
    let mut killed = 0;
    for port in [REDIS_PORT, TLS_PORT] {
        killed += redis::cmd("CLIENT")
            .arg("KILL")
            .arg("LADDR")
            .arg(format!("{through}:{port}"))
            .query_async::<u64>(conn)
            .await
            .map_err(command_error(node, "CLIENT KILL LADDR"))?;
    }
    Ok(killed)
}

/// Moves `addr` from the node `from` to the node `to` (each with its control
/// connection): drops it from `from`'s listeners, disconnects its clients
/// there, then adds it to `to`'s.
pub async fn move_address(
    addr: Ipv4Addr,
    (from_conn, from): (&mut MultiplexedConnection, SocketAddr),
    (to_conn, to): (&mut MultiplexedConnection, SocketAddr),
) -> Result<(), NodeError> {
    let mut old = binds(from_conn, from).await?;
    if old.remove(&addr) {
        set_binds(from_conn, from, &old).await?;
        disconnect_clients(from_conn, from, addr).await?;
    }
    let mut new = binds(to_conn, to).await?;
    if new.insert(addr) {
        set_binds(to_conn, to, &new).await?;
    }
    Ok(())
}
