//! Talking to a node: control connections as the internal user (on its
//! unix socket, or its plain port for nodes started by hand), `INFO`, and
//! setting its access keys.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, Client, ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo,
};
use tracing::info;

use super::{config, Info, NodeError, INTERNAL_USER};

/// How long opening a control connection may take, by default.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a control connection waits for each reply, by default.
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a control connection to a node goes.
#[derive(Debug, Clone, Copy)]
pub enum Via<'a> {
    /// The node's unix socket ([`NodeConfig::socket_path`]): the control
    /// plane's own way in, open whatever the node's ports and TLS are.
    Socket(&'a Path),
    /// Its plain port on its own address, for nodes started by hand.
    Plain,
}

impl<'a> Via<'a> {
    /// The socket at `path` if there is one, else the plain port: a node
    /// started by an older control plane, which gave nodes no socket, is
    /// still reached (and adopted, never doubled) until it restarts.
    pub fn socket_or_plain(path: &'a Path) -> Via<'a> {
        if path.exists() {
            Via::Socket(path)
        } else {
            Via::Plain
        }
    }
}

/// Opens a control connection to the node at `addr`, on its plain port, as
/// the internal user.
pub async fn connect(
    addr: SocketAddr,
    internal_password: &str,
) -> Result<MultiplexedConnection, NodeError> {
    connect_with_timeouts(
        addr,
        Via::Plain,
        internal_password,
        CONNECT_TIMEOUT,
        RESPONSE_TIMEOUT,
    )
    .await
}

/// Opens a control connection to the node at `addr` (reached `via` its
/// socket or its plain port), bounding the connect and each reply.
pub async fn connect_with_timeouts(
    addr: SocketAddr,
    via: Via<'_>,
    internal_password: &str,
    connect_timeout: Duration,
    response_timeout: Duration,
) -> Result<MultiplexedConnection, NodeError> {
    let connect_error = |source| NodeError::Connect { addr, source };
    let target = match via {
        Via::Socket(path) => ConnectionAddr::Unix(path.to_owned()),
        Via::Plain => ConnectionAddr::Tcp(addr.ip().to_string(), addr.port()),
    };
    let info = target
        .into_connection_info()
        .map_err(connect_error)?
        .set_redis_settings(
            RedisConnectionInfo::default()
                .set_username(INTERNAL_USER)
                .set_password(internal_password)
                // Redis 7.0 does not know CLIENT SETINFO.
                .set_skip_set_lib_name(),
        );
    let client = Client::open(info).map_err(connect_error)?;
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(response_timeout));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(connect_error)
}

/// `INFO` of the given sections from the node at `addr`, over a fresh
/// connection to its plain port.
pub async fn info(
    addr: SocketAddr,
    internal_password: &str,
    sections: &[&str],
) -> Result<Info, NodeError> {
    let mut conn = connect(addr, internal_password).await?;
    info_on(&mut conn, addr, sections).await
}

/// `INFO` of the given sections over an existing connection to `addr`.
pub async fn info_on(
    conn: &mut MultiplexedConnection,
    addr: SocketAddr,
    sections: &[&str],
) -> Result<Info, NodeError> {
    let text: String = redis::cmd("INFO")
        .arg(sections)
        .query_async(conn)
        .await
        .map_err(command_error(addr, "INFO"))?;
    Ok(Info::parse(&text))
}

/// Makes exactly `keys` the passwords of the `default` user of the node at
/// `addr`, on `conn` (`ACL SETUSER default resetpass >k1 >k2`). Open
/// connections stay authenticated; replication is unaffected because it
/// uses the internal user.
pub async fn set_access_keys(
    conn: &mut MultiplexedConnection,
    addr: SocketAddr,
    keys: &[String; 2],
) -> Result<(), NodeError> {
    config::check_secret("primary access key", &keys[0])?;
    config::check_secret("secondary access key", &keys[1])?;
    redis::cmd("ACL")
        .arg("SETUSER")
        .arg("default")
        .arg("on")
        .arg("resetpass")
        .arg(format!(">{}", keys[0]))
        .arg(format!(">{}", keys[1]))
        .query_async::<()>(conn)
        .await
        .map_err(|e| {
            // Redis may quote the failing argument, which would be a key:
            // keep only the error's kind and code.
            let detail = e.code().unwrap_or("failed").to_owned();
            NodeError::Command {
                addr,
                command: "ACL SETUSER",
                source: redis::RedisError::from((e.kind(), "ACL SETUSER refused", detail)),
            }
        })?;
    info!(%addr, "access keys updated");
    Ok(())
}

/// Maps a redis error to [`NodeError::Command`].
pub(crate) fn command_error(
    addr: SocketAddr,
    command: &'static str,
) -> impl FnOnce(redis::RedisError) -> NodeError {
    move |source| NodeError::Command {
        addr,
        command,
        source,
    }
}

/// The pid the server at `addr` (reached `via`) reports, if it answers the internal user.
pub(super) async fn server_pid(
    addr: SocketAddr,
    via: Via<'_>,
    internal_password: &str,
) -> Result<Option<u32>, NodeError> {
    let mut conn = connect_with_timeouts(
        addr,
        via,
        internal_password,
        Duration::from_millis(500),
        Duration::from_secs(2),
    )
    .await?;
    Ok(info_on(&mut conn, addr, &["server"]).await?.process_id())
}
