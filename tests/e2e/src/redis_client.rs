//! A Redis client on an address the console shows (`127.0.0.1:PORT`),
//! authenticated with an access key from the API.

use redis::aio::MultiplexedConnection;
use redis::{AsyncCommands, IntoConnectionInfo, RedisResult};

/// One connection to a cache endpoint.
pub struct RedisClient {
    address: String,
    connection: MultiplexedConnection,
}

impl RedisClient {
    /// Connects to `address` (`host:port`) with `key` as the `default`
    /// user's password.
    pub async fn connect(address: &str, key: &str) -> RedisResult<Self> {
        let (host, port) = address
            .rsplit_once(':')
            .and_then(|(host, port)| Some((host.to_owned(), port.parse::<u16>().ok()?)))
            .unwrap_or_else(|| panic!("{address:?} is not host:port"));
        let info = (host, port).into_connection_info()?;
        let settings = info.redis_settings().clone().set_password(key);
        let client = redis::Client::open(info.set_redis_settings(settings))?;
        let connection = client.get_multiplexed_async_connection().await?;
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
    fn connection(&self) -> MultiplexedConnection {
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

    /// `ROLE`'s first element: `master` or `slave`.
    pub async fn role(&self) -> RedisResult<String> {
        let role: Vec<redis::Value> = redis::cmd("ROLE")
            .query_async(&mut self.connection())
            .await?;
        match role.first() {
            Some(redis::Value::BulkString(bytes)) => Ok(String::from_utf8_lossy(bytes).into()),
            Some(redis::Value::SimpleString(s)) => Ok(s.clone()),
            other => Ok(format!("{other:?}")),
        }
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
