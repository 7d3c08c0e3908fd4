//! The control-plane store: an embedded SQLite database in the data
//! directory holding caches, their nodes' addresses and pids, the caches'
//! and geo-primary URLs' addresses, each cache's internal credential,
//! firewall rules, links, the links'
//! timelines and the long-running operations in flight.
//!
//! Records are kept as JSON beside the columns they are looked up by, so the
//! schema stays small while the wire types evolve. Every call is short, so
//! the connection sits behind a plain mutex (as tokio's docs advise for
//! short critical sections) and is used directly from async code.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use georep_core::model::FirewallRule;
use georep_core::CacheId;
use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

mod credentials;
pub mod drills;
mod operations;
pub mod records;
mod timeline;
mod update;
mod view;

use records::{AddressRole, CacheRecord, LinkRecord, NodeSlot};
pub use update::UpdateCommit;
pub use view::{Snapshot, StoredCache};

/// A failure of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A record could not be (de)serialized.
    #[error("record: {0}")]
    Json(#[from] serde_json::Error),
    /// Another server holds the database.
    #[error("another georep-server is already using {0}")]
    Locked(String),
    /// The database was written by a georep-server that ran caches on ports.
    #[error("{0} was made by an older georep-server (caches on ports, not addresses); move it away and start again")]
    OldSchema(String),
    /// A stored address is not an IPv4 address.
    #[error("stored address {0:?} is not an IPv4 address")]
    BadAddress(String),
}

/// The most timeline steps kept per link.
pub const TIMELINE_LIMIT: i64 = 1000;

/// The result of a store call.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The control-plane database.
pub struct Store {
    conn: Mutex<Connection>,
    /// Bumped after every write that changes what [`Store::snapshot`] holds.
    generation: std::sync::atomic::AtomicU64,
    /// The last snapshot, and the generation it was taken at.
    snapshot: Mutex<Option<(u64, std::sync::Arc<view::Snapshot>)>>,
    /// Counts operation writes, so a status poll waits for one instead of
    /// reading the record again and again.
    operation_writes: tokio::sync::watch::Sender<u64>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS caches (
    key            TEXT PRIMARY KEY,       -- the lower-cased ARM id
    subscription   TEXT NOT NULL COLLATE NOCASE,
    resource_group TEXT NOT NULL COLLATE NOCASE,
    record         TEXT NOT NULL           -- CacheRecord as JSON
);
CREATE TABLE IF NOT EXISTS cache_nodes (
    cache_key TEXT NOT NULL REFERENCES caches(key) ON DELETE CASCADE,
    shard     INTEGER NOT NULL,
    replica   INTEGER NOT NULL,            -- 0 for the shard's primary now
    addr      TEXT NOT NULL UNIQUE,        -- the node's own loopback address
    pid       INTEGER,                     -- the process, once started
    PRIMARY KEY (cache_key, shard, replica)
);
CREATE TABLE IF NOT EXISTS cache_addresses (
    cache_key TEXT NOT NULL REFERENCES caches(key) ON DELETE CASCADE,
    role      TEXT NOT NULL,               -- 'cache' or 'geo-primary'
    addr      TEXT NOT NULL UNIQUE,
    PRIMARY KEY (cache_key, role)
);
CREATE TABLE IF NOT EXISTS cache_credentials (
    cache_key TEXT PRIMARY KEY REFERENCES caches(key) ON DELETE CASCADE,
    password  TEXT NOT NULL                -- the internal user's password on this cache's nodes
);
CREATE TABLE IF NOT EXISTS firewall_rules (
    cache_key TEXT NOT NULL REFERENCES caches(key) ON DELETE CASCADE,
    name      TEXT NOT NULL COLLATE NOCASE,
    start_ip  TEXT NOT NULL,
    end_ip    TEXT NOT NULL,
    PRIMARY KEY (cache_key, name)
);
CREATE TABLE IF NOT EXISTS links (
    first_key  TEXT PRIMARY KEY,           -- the cache that was primary when linked
    second_key TEXT NOT NULL UNIQUE,
    record     TEXT NOT NULL               -- LinkRecord as JSON
);
CREATE TABLE IF NOT EXISTS timeline (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    link    TEXT NOT NULL,                 -- lower-cased linked-server id, first cache's side
    peer    TEXT NOT NULL,                 -- lower-cased linked-server id, second cache's side
    at_ms   INTEGER NOT NULL,              -- when it happened, in Unix milliseconds
    record  TEXT NOT NULL                  -- TimelineEntry as JSON (its id filled on read)
);
CREATE INDEX IF NOT EXISTS timeline_by_link ON timeline (link, at_ms);
CREATE INDEX IF NOT EXISTS timeline_by_peer ON timeline (peer, at_ms);
CREATE TABLE IF NOT EXISTS operations (
    id       TEXT PRIMARY KEY,
    finished INTEGER NOT NULL,
    record   TEXT NOT NULL                 -- OperationRecord as JSON
);
";

/// The key a cache is stored under: its id, lower-cased, as ARM compares ids.
pub fn key(id: &CacheId) -> String {
    id.to_string().to_ascii_lowercase()
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

fn parse_addr(text: &str) -> Result<Ipv4Addr> {
    text.parse()
        .map_err(|_| StoreError::BadAddress(text.to_owned()))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    Ok(serde_json::from_str(text)?)
}

impl Store {
    /// Opens (creating if needed) the database in `data_dir` and takes an
    /// exclusive lock on it, so a second server on the same directory can't
    /// start nodes twice.
    pub fn open(data_dir: &Path) -> Result<Store> {
        let path = data_dir.join("control-plane.sqlite");
        let conn = Connection::open(&path)?;
        conn.busy_timeout(std::time::Duration::from_millis(200))?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // The first write takes the exclusive lock and keeps it.
        conn.execute_batch(SCHEMA).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::DatabaseBusy
                    || f.code == rusqlite::ErrorCode::DatabaseLocked =>
            {
                StoreError::Locked(path.display().to_string())
            }
            other => StoreError::Sql(other),
        })?;
        conn.execute_batch(drills::SCHEMA)?;
        let ports_schema: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE name = 'nodes'",
            [],
            |r| r.get(0),
        )?;
        if ports_schema {
            return Err(StoreError::OldSchema(path.display().to_string()));
        }
        Ok(Store {
            conn: Mutex::new(conn),
            generation: Default::default(),
            snapshot: Mutex::new(None),
            operation_writes: tokio::sync::watch::Sender::new(0),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock can't leave SQLite half-written
        // (each call is one statement or one transaction), so go on.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    // ----- meta -----

    /// A value kept under `key`, if any.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// Keeps `value` under `key`.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        set_meta_on(&self.conn(), key, value)
    }

    /// A record kept as JSON under `key`, if any. A value that no longer
    /// reads as `T` is an error, never an empty default.
    pub fn meta_record<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.meta(key)?.map(|text| from_json(&text)).transpose()
    }

    /// Keeps `value` as JSON under `key`.
    pub fn set_meta_record<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        self.set_meta(key, &to_json(value)?)
    }

    // ----- caches -----

    /// Inserts or replaces a cache.
    pub fn put_cache(&self, cache: &CacheRecord) -> Result<()> {
        put_cache_on(&self.conn(), cache)?;
        self.changed();
        Ok(())
    }

    /// The cache with this id, if any.
    pub fn cache(&self, id: &CacheId) -> Result<Option<CacheRecord>> {
        let text: Option<String> = self
            .conn()
            .query_row("SELECT record FROM caches WHERE key = ?1", [key(id)], |r| {
                r.get(0)
            })
            .optional()?;
        text.map(|t| from_json(&t)).transpose()
    }

    /// Caches, optionally only those of a subscription and resource group,
    /// by id (from the [`Store::snapshot`]).
    pub fn caches(
        &self,
        subscription: Option<&str>,
        resource_group: Option<&str>,
    ) -> Result<Vec<CacheRecord>> {
        Ok(self
            .snapshot()?
            .caches_in(subscription, resource_group)
            .map(|c| c.record.clone())
            .collect())
    }

    /// Removes a cache with its nodes and firewall rules.
    pub fn delete_cache(&self, id: &CacheId) -> Result<()> {
        self.conn()
            .execute("DELETE FROM caches WHERE key = ?1", [key(id)])?;
        self.changed();
        Ok(())
    }

    // ----- nodes -----

    /// Replaces a cache's nodes.
    pub fn set_nodes(&self, id: &CacheId, nodes: &[NodeSlot]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        set_nodes_on(&tx, id, nodes)?;
        tx.commit()?;
        self.changed();
        Ok(())
    }

    /// A cache's nodes, shard by shard, primary first.
    pub fn nodes(&self, id: &CacheId) -> Result<Vec<NodeSlot>> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT shard, replica, addr FROM cache_nodes WHERE cache_key = ?1 ORDER BY shard, replica",
        )?;
        let rows = statement.query_map([key(id)], |r| {
            Ok((
                r.get::<_, u32>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        rows.map(|row| {
            let (shard, replica, addr) = row?;
            Ok(NodeSlot {
                shard,
                replica,
                addr: parse_addr(&addr)?,
            })
        })
        .collect()
    }

    /// Records the process that serves the node at `addr`.
    pub fn set_node_pid(&self, addr: Ipv4Addr, pid: Option<u32>) -> Result<()> {
        self.conn().execute(
            "UPDATE cache_nodes SET pid = ?2 WHERE addr = ?1",
            params![addr.to_string(), pid],
        )?;
        Ok(())
    }

    /// The process that served the node at `addr` when last seen.
    pub fn node_pid(&self, addr: Ipv4Addr) -> Result<Option<u32>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT pid FROM cache_nodes WHERE addr = ?1",
                [addr.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Moves the node recorded at `from` to the address `to` (its own was
    /// taken); it has no process yet.
    pub fn move_node(&self, from: Ipv4Addr, to: Ipv4Addr) -> Result<()> {
        self.conn().execute(
            "UPDATE cache_nodes SET addr = ?2, pid = NULL WHERE addr = ?1",
            params![from.to_string(), to.to_string()],
        )?;
        self.changed();
        Ok(())
    }

    /// Every address a node, a cache or a geo-primary URL holds.
    pub fn used_addresses(&self) -> Result<HashSet<Ipv4Addr>> {
        let conn = self.conn();
        let mut statement =
            conn.prepare("SELECT addr FROM cache_nodes UNION SELECT addr FROM cache_addresses")?;
        let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|row| parse_addr(&row?)).collect()
    }

    // ----- cache and geo-primary addresses -----

    /// The cache's address for `role`, if it has one.
    pub fn address(&self, id: &CacheId, role: AddressRole) -> Result<Option<Ipv4Addr>> {
        self.conn()
            .query_row(
                "SELECT addr FROM cache_addresses WHERE cache_key = ?1 AND role = ?2",
                params![key(id), role.as_str()],
                |r| r.get::<_, String>(0),
            )
            .optional()?
            .map(|addr| parse_addr(&addr))
            .transpose()
    }

    /// Records the cache's address for `role`.
    pub fn set_address(&self, id: &CacheId, role: AddressRole, addr: Ipv4Addr) -> Result<()> {
        self.conn().execute(
            "INSERT INTO cache_addresses (cache_key, role, addr) VALUES (?1, ?2, ?3)
             ON CONFLICT(cache_key, role) DO UPDATE SET addr = excluded.addr",
            params![key(id), role.as_str(), addr.to_string()],
        )?;
        self.changed();
        Ok(())
    }

    /// Forgets the cache's address for `role`.
    pub fn delete_address(&self, id: &CacheId, role: AddressRole) -> Result<()> {
        self.conn().execute(
            "DELETE FROM cache_addresses WHERE cache_key = ?1 AND role = ?2",
            params![key(id), role.as_str()],
        )?;
        self.changed();
        Ok(())
    }

    // ----- firewall rules -----

    /// Inserts or replaces a firewall rule.
    pub fn put_firewall_rule(&self, id: &CacheId, rule: &FirewallRule) -> Result<()> {
        self.conn().execute(
            "INSERT INTO firewall_rules (cache_key, name, start_ip, end_ip) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(cache_key, name) DO UPDATE SET start_ip = excluded.start_ip, end_ip = excluded.end_ip",
            params![key(id), rule.name, rule.start_ip, rule.end_ip],
        )?;
        self.changed();
        Ok(())
    }

    /// A cache's firewall rules, by name.
    pub fn firewall_rules(&self, id: &CacheId) -> Result<Vec<FirewallRule>> {
        let conn = self.conn();
        let mut statement = conn.prepare(
            "SELECT name, start_ip, end_ip FROM firewall_rules WHERE cache_key = ?1 ORDER BY name",
        )?;
        let rows = statement.query_map([key(id)], |r| {
            Ok(FirewallRule {
                name: r.get(0)?,
                start_ip: r.get(1)?,
                end_ip: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Removes a firewall rule; says whether it existed.
    pub fn delete_firewall_rule(&self, id: &CacheId, name: &str) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM firewall_rules WHERE cache_key = ?1 AND name = ?2",
            params![key(id), name],
        )?;
        self.changed();
        Ok(n > 0)
    }

    // ----- links -----

    /// Inserts or replaces a link.
    pub fn put_link(&self, link: &LinkRecord) -> Result<()> {
        self.conn().execute(
            "INSERT INTO links (first_key, second_key, record) VALUES (?1, ?2, ?3)
             ON CONFLICT(first_key) DO UPDATE SET record = excluded.record",
            params![key(&link.first), key(&link.second), to_json(link)?],
        )?;
        self.changed();
        Ok(())
    }

    /// The link a cache is part of, on either side.
    pub fn link_of(&self, id: &CacheId) -> Result<Option<LinkRecord>> {
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT record FROM links WHERE first_key = ?1 OR second_key = ?1",
                [key(id)],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| from_json(&t)).transpose()
    }

    /// Every link.
    pub fn links(&self) -> Result<Vec<LinkRecord>> {
        let conn = self.conn();
        let mut statement = conn.prepare("SELECT record FROM links ORDER BY first_key")?;
        let rows = statement.query_map([], |r| r.get::<_, String>(0))?;
        rows.map(|text| from_json(&text?)).collect()
    }

    /// Removes a link.
    pub fn delete_link(&self, link: &LinkRecord) -> Result<()> {
        self.conn()
            .execute("DELETE FROM links WHERE first_key = ?1", [key(&link.first)])?;
        self.changed();
        Ok(())
    }
}

/// [`Store::set_meta`] on `conn`, which may be a transaction.
fn set_meta_on(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// [`Store::put_cache`] on `conn`, which may be a transaction.
fn put_cache_on(conn: &Connection, cache: &CacheRecord) -> Result<()> {
    conn.execute(
        "INSERT INTO caches (key, subscription, resource_group, record) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(key) DO UPDATE SET record = excluded.record",
        params![
            key(&cache.id),
            cache.id.subscription,
            cache.id.resource_group,
            to_json(cache)?
        ],
    )?;
    Ok(())
}

/// [`Store::set_nodes`] on `conn`, inside the caller's transaction.
fn set_nodes_on(conn: &Connection, id: &CacheId, nodes: &[NodeSlot]) -> Result<()> {
    let pids: Vec<(String, Option<u32>)> = {
        let mut statement =
            conn.prepare("SELECT addr, pid FROM cache_nodes WHERE cache_key = ?1")?;
        let rows = statement.query_map([key(id)], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    conn.execute("DELETE FROM cache_nodes WHERE cache_key = ?1", [key(id)])?;
    for node in nodes {
        // A node that stays keeps its process.
        let addr = node.addr.to_string();
        let pid = pids
            .iter()
            .find(|(a, _)| *a == addr)
            .and_then(|(_, pid)| *pid);
        conn.execute(
            "INSERT INTO cache_nodes (cache_key, shard, replica, addr, pid) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key(id), node.shard, node.replica, addr, pid],
        )?;
    }
    Ok(())
}
