//! A node's listeners: the addresses in its `bind` list, changed at runtime.
//!
//! `CONFIG SET bind` rebinds without dropping established connections, so
//! moving an address away from a node also disconnects the clients that
//! came in through it (`CLIENT KILL LADDR`), which then reconnect to
//! whichever node holds it next.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};

use super::{command_error, connect, NodeError};
use crate::store::records::REDIS_PORT;

/// The addresses the node at `node` listens on now.
pub async fn binds(
    node: SocketAddr,
    internal_password: &str,
) -> Result<BTreeSet<Ipv4Addr>, NodeError> {
    let mut conn = connect(node, internal_password).await?;
    let reply: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("bind")
        .query_async(&mut conn)
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

/// Makes the node listen on exactly `addrs` (on port 6379).
pub async fn set_binds(
    node: SocketAddr,
    internal_password: &str,
    addrs: &BTreeSet<Ipv4Addr>,
) -> Result<(), NodeError> {
    let list: Vec<String> = addrs.iter().map(Ipv4Addr::to_string).collect();
    let mut conn = connect(node, internal_password).await?;
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("bind")
        .arg(list.join(" "))
        .query_async::<()>(&mut conn)
        .await
        .map_err(command_error(node, "CONFIG SET bind"))
}

/// Disconnects the node's clients that connected through `through`;
/// returns how many there were.
pub async fn disconnect_clients(
    node: SocketAddr,
    internal_password: &str,
    through: Ipv4Addr,
) -> Result<u64, NodeError> {
    let mut conn = connect(node, internal_password).await?;
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("LADDR")
        .arg(format!("{through}:{REDIS_PORT}"))
        .query_async(&mut conn)
        .await
        .map_err(command_error(node, "CLIENT KILL LADDR"))
}

/// Moves `addr` from the node `from` to the node `to`: drops it from
/// `from`'s listeners, disconnects its clients there, then adds it to `to`'s.
pub async fn move_address(
    addr: Ipv4Addr,
    from: SocketAddr,
    to: SocketAddr,
    internal_password: &str,
) -> Result<(), NodeError> {
    let mut old = binds(from, internal_password).await?;
    if old.remove(&addr) {
        set_binds(from, internal_password, &old).await?;
        disconnect_clients(from, internal_password, addr).await?;
    }
    let mut new = binds(to, internal_password).await?;
    if new.insert(addr) {
        set_binds(to, internal_password, &new).await?;
    }
    Ok(())
}
