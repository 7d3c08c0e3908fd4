//! Each cache's internal credential: the password of the control plane's
//! own user on that cache's nodes.
//!
//! It is per cache so that one leaked credential opens one cache, and it is
//! looked up by a node's address because the data plane works on addresses:
//! a node's cache is whatever `cache_nodes` says it is at that moment.

use std::net::Ipv4Addr;

use georep_core::CacheId;
use rusqlite::{params, OptionalExtension};

use super::{key, Result, Store};

impl Store {
    /// The cache's internal password, storing `fresh()` first if it has none.
    /// The cache must be stored.
    pub fn ensure_internal_password(
        &self,
        id: &CacheId,
        fresh: impl FnOnce() -> String,
    ) -> Result<String> {
        let conn = self.conn();
        let known: Option<String> = conn
            .query_row(
                "SELECT password FROM cache_credentials WHERE cache_key = ?1",
                [key(id)],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(password) = known {
            return Ok(password);
        }
        let password = fresh();
        conn.execute(
            "INSERT INTO cache_credentials (cache_key, password) VALUES (?1, ?2)",
            params![key(id), password],
        )?;
        Ok(password)
    }

    /// The internal password of the cache whose node is at `addr`, if the
    /// address is a stored node's and its cache has one.
    pub fn node_internal_password(&self, addr: Ipv4Addr) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT c.password FROM cache_nodes n
                 JOIN cache_credentials c ON c.cache_key = n.cache_key
                 WHERE n.addr = ?1",
                [addr.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Gives every stored cache without an internal password this one: what
    /// an older server, with one fleet-wide password, left running.
    pub fn adopt_fleet_password(&self, password: &str) -> Result<usize> {
        Ok(self.conn().execute(
            "INSERT INTO cache_credentials (cache_key, password)
             SELECT key, ?1 FROM caches WHERE key NOT IN (SELECT cache_key FROM cache_credentials)",
            [password],
        )?)
    }
}
