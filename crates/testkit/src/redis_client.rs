//! The data plane through the maintained `redis` crate: connections to a
//! cache's endpoints as an application makes them (`redis-cli -h HOST -p
//! PORT -a KEY`, the `default` user, or as a named user), async or
//! blocking, a small client for the walkthroughs, and `INFO` read field by
//! field.

use std::net::SocketAddr;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncCommands, AsyncConnectionConfig, Client, ConnectionAddr, ConnectionInfo,
    IntoConnectionInfo, RedisConnectionInfo, RedisResult,
};

/// How long a reply may take on the connections made here.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection settings for `addr`, authenticated with `password` (if
/// any) as the `default` user.
pub fn connection_info(addr: SocketAddr, password: Option<&str>) -> RedisResult<ConnectionInfo> {
    host_connection_info(&addr.ip().to_string(), addr.port(), password)
}

/// The connection settings for `host:port` (a name or an address),
/// authenticated with `password` (if any) as the `default` user.
pub fn host_connection_info(
    host: &str,
    port: u16,
    password: Option<&str>,
) -> RedisResult<ConnectionInfo> {
    let mut settings = RedisConnectionInfo::default().set_skip_set_lib_name();
    if let Some(password) = password {
        settings = settings.set_password(password);
    }
    Ok(ConnectionAddr::Tcp(host.to_owned(), port)
        .into_connection_info()?
        .set_redis_settings(settings))
}

/// Connects to `addr` like `redis-cli -h HOST -p PORT -a PASSWORD`, giving
/// up on connecting after `connect_timeout`; replies may take up to
/// [`RESPONSE_TIMEOUT`].
pub async fn connect(
    addr: SocketAddr,
    password: &str,
    connect_timeout: Duration,
) -> RedisResult<MultiplexedConnection> {
    connect_info(connection_info(addr, Some(password))?, connect_timeout).await
}

/// Connects to `addr` as `user` with `password`, like `redis-cli -h HOST
/// -p PORT --user USER --pass PASSWORD` (e.g. the control plane's own
/// user, for what an access key may not run), giving up on connecting
/// after `connect_timeout`; replies may take up to [`RESPONSE_TIMEOUT`].
pub async fn connect_as(
    addr: SocketAddr,
    user: &str,
    password: &str,
    connect_timeout: Duration,
) -> RedisResult<MultiplexedConnection> {
    let info = connection_info(addr, Some(password))?;
    let settings = info.redis_settings().clone().set_username(user);
    connect_info(info.set_redis_settings(settings), connect_timeout).await
}

/// Connects to `addr` with whichever of `keys` it takes (tried in order),
/// each attempt giving up after `connect_timeout`: after a failover a
/// geo-primary address reaches the other cache, whose keys differ. The
/// last attempt's error if none does.
pub async fn connect_with_any<K: AsRef<str>>(
    addr: SocketAddr,
    keys: &[K],
    connect_timeout: Duration,
) -> RedisResult<MultiplexedConnection> {
    let mut last = None;
    for key in keys {
        match connect(addr, key.as_ref(), connect_timeout).await {
            Ok(connection) => return Ok(connection),
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| redis::RedisError::from((redis::ErrorKind::Io, "no key given"))))
}

/// Connects with `info` (e.g. [`connection_info`] without a password, for
/// a bare `redis-server`), giving up on connecting after
/// `connect_timeout`; replies may take up to [`RESPONSE_TIMEOUT`].
pub async fn connect_info(
    info: ConnectionInfo,
    connect_timeout: Duration,
) -> RedisResult<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(connect_timeout))
        .set_response_timeout(Some(RESPONSE_TIMEOUT));
    Client::open(info)?
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// A blocking connection to `addr` (authenticated if `password` is given),
/// for a thread of its own, e.g. a writer at a steady pace; connecting and
/// every reply may take up to `timeout`.
pub fn connect_blocking(
    addr: SocketAddr,
    password: Option<&str>,
    timeout: Duration,
) -> RedisResult<redis::Connection> {
    let connection =
        Client::open(connection_info(addr, password)?)?.get_connection_with_timeout(timeout)?;
    connection.set_read_timeout(Some(timeout))?;
    connection.set_write_timeout(Some(timeout))?;
    Ok(connection)
}

/// `CONFIG SET rdb-key-save-delay {micros}`: how long the node spends on
/// each key of a snapshot, so a full sync can be made to last.
pub async fn set_rdb_key_save_delay(
    con: &mut MultiplexedConnection,
    micros: u64,
) -> RedisResult<()> {
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("rdb-key-save-delay")
        .arg(micros)
        .query_async(con)
        .await
}

/// `INFO section`, parsed.
pub async fn info(con: &mut MultiplexedConnection, section: &str) -> RedisResult<Info> {
    let text: String = redis::cmd("INFO").arg(section).query_async(con).await?;
    Ok(Info(text))
}

/// The text `INFO` answers, read field by field.
#[derive(Debug, Clone)]
pub struct Info(pub String);

impl Info {
    /// The value of `field`, if present.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.lines().find_map(|line| {
            line.strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(str::trim)
        })
    }

    /// `field` as a number.
    pub fn number(&self, field: &str) -> Option<u64> {
        self.get(field)?.parse().ok()
    }

    /// Every line that starts with `prefix` (e.g. `slave` for each replica).
    pub fn lines_starting<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> {
        self.0.lines().filter(move |l| l.starts_with(prefix))
    }
}

/// `host:port` split in two; a test's own input, so anything else is a bug.
fn split_address(address: &str) -> (&str, u16) {
    address
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
        .unwrap_or_else(|| panic!("{address:?} is not host:port"))
}

/// One connection to a cache endpoint, as the console shows it
/// (`127.0.0.1:PORT`), authenticated with an access key from the API.
pub struct RedisClient {
    address: String,
    connection: MultiplexedConnection,
}

impl RedisClient {
    /// Connects to `address` (`host:port`) with `key` as the `default`
    /// user's password.
    pub async fn connect(address: &str, key: &str) -> RedisResult<Self> {
        let (host, port) = split_address(address);
        let info = host_connection_info(host, port, Some(key))?;
        let connection = connect_info(info, Duration::from_secs(30)).await?;
        Ok(Self {
            address: address.to_owned(),
            connection,
        })
    }

    /// Connects to `address` (`host:port`, the TLS port) over TLS, as
    /// `redis-cli --tls --cacert CA` does: the certificate must chain to
    /// the server's local CA (`ca_pem`, its text) and name `host`.
    pub async fn connect_tls(address: &str, key: &str, ca_pem: &str) -> RedisResult<Self> {
        // The first TLS client of a test process picks its provider, as
        // georep-server's `main` does; a second install is a no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let (host, port) = split_address(address);
        let info = ConnectionAddr::TcpTls {
            host: host.to_owned(),
            port,
            insecure: false,
            tls_params: None,
        }
        .into_connection_info()?
        .set_redis_settings(
            RedisConnectionInfo::default()
                .set_password(key)
                .set_skip_set_lib_name(),
        );
        let certificates = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca_pem.as_bytes().to_vec()),
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(30)))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let connection = Client::build_with_tls(info, certificates)?
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        Ok(Self {
            address: address.to_owned(),
            connection,
        })
    }

    /// The address it is connected to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// A handle on the connection; cheap, and shared by every command.
    pub fn connection(&self) -> MultiplexedConnection {
        self.connection.clone()
    }

    /// `SET key value`.
    pub async fn set(&self, key: &str, value: &[u8]) -> RedisResult<()> {
        self.connection().set(key, value).await
    }

    /// `GET key`.
    pub async fn get(&self, key: &str) -> RedisResult<Option<Vec<u8>>> {
        self.connection().get(key).await
    }

    /// The node's replication role, `master` or `slave`, from `INFO
    /// replication` (`ROLE` is an admin command, which access keys may not
    /// run).
    pub async fn role(&self) -> RedisResult<String> {
        let info = self.info("replication").await?;
        Ok(info.get("role").unwrap_or("unknown").to_owned())
    }

    /// `INFO section`, parsed.
    pub async fn info(&self, section: &str) -> RedisResult<Info> {
        info(&mut self.connection(), section).await
    }

    /// Writes `count` values of `size` bytes under `prefix:N`, pipelined.
    pub async fn fill(&self, prefix: &str, count: usize, size: usize) -> RedisResult<()> {
        let value = vec![b'x'; size];
        for chunk in (0..count).collect::<Vec<_>>().chunks(64) {
            let mut pipe = redis::pipe();
            for i in chunk {
                pipe.set(format!("{prefix}:{i}"), &value).ignore();
            }
            pipe.query_async::<()>(&mut self.connection()).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_info_fields() {
        let info = Info("# Replication\r\nrole:master\r\nslave0:ip=127.0.0.1,port=1,state=online,offset=9,lag=0\r\nmaster_repl_offset:9\r\n".into());
        assert_eq!(info.get("role"), Some("master"));
        assert_eq!(info.number("master_repl_offset"), Some(9));
        assert_eq!(info.lines_starting("slave").count(), 1);
        assert_eq!(info.get("missing"), None);
    }
}
