//! A snapshot of every cache with what is stored beside it, kept until the
//! next write.
//!
//! Listing caches, judging candidates and the watchdog read every cache at
//! once, many times a second under load; with a thousand caches, a query
//! and a JSON decode per cache and per table cost tens of milliseconds each
//! time. The snapshot is read with one query per table, and only again
//! after a write that changes what it holds (every such write bumps the
//! store's generation once it is done, so a snapshot is never older than
//! the generation it is filed under).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use georep_core::model::FirewallRule;
use georep_core::CacheId;

use super::records::{AddressRole, CacheRecord, LinkRecord, NodeSlot};
use super::{from_json, key, parse_addr, Result, Store};

/// One cache and what is stored beside it.
#[derive(Debug, Clone)]
pub struct StoredCache {
    /// The cache.
    pub record: CacheRecord,
    /// Its nodes, shard by shard, primary first.
    pub nodes: Vec<NodeSlot>,
    /// Its own address, once it has one.
    pub address: Option<Ipv4Addr>,
    /// Its geo-primary URL's address, while it is linked.
    pub geo_primary: Option<Ipv4Addr>,
    /// The link it is part of, on either side.
    pub link: Option<LinkRecord>,
    /// Its firewall rules, by name.
    pub firewall_rules: Vec<FirewallRule>,
}

/// Every cache, by id, as of one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The caches, ordered by their lower-cased ids.
    pub caches: Vec<StoredCache>,
    by_key: HashMap<String, usize>,
}

impl Snapshot {
    /// The cache with this id, if it existed then.
    pub fn cache(&self, id: &CacheId) -> Option<&StoredCache> {
        self.by_key.get(&key(id)).map(|&i| &self.caches[i])
    }

    /// The caches of a subscription, and of a resource group in it, if given
    /// (both compared as ARM does, without regard to case).
    pub fn caches_in<'a>(
        &'a self,
        subscription: Option<&'a str>,
        resource_group: Option<&'a str>,
    ) -> impl Iterator<Item = &'a StoredCache> + 'a {
        let matches =
            |want: Option<&str>, have: &str| want.is_none_or(|w| w.eq_ignore_ascii_case(have));
        self.caches.iter().filter(move |c| {
            matches(subscription, &c.record.id.subscription)
                && matches(resource_group, &c.record.id.resource_group)
        })
    }
}

impl Store {
    /// Says a write changed what a snapshot holds.
    pub(super) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// One cache with what is stored beside it, read now.
    pub fn stored(&self, record: &CacheRecord) -> Result<StoredCache> {
        Ok(StoredCache {
            nodes: self.nodes(&record.id)?,
            address: self.address(&record.id, AddressRole::Cache)?,
            geo_primary: self.address(&record.id, AddressRole::GeoPrimary)?,
            link: self.link_of(&record.id)?,
            firewall_rules: self.firewall_rules(&record.id)?,
            record: record.clone(),
        })
    }

    /// Every cache with its nodes, address, link and firewall rules: the
    /// last snapshot if nothing it holds was written since, else a new one.
    pub fn snapshot(&self) -> Result<Arc<Snapshot>> {
        let generation = self.generation.load(Ordering::SeqCst);
        let mut kept = self
            .snapshot
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((at, snapshot)) = kept.as_ref() {
            if *at == generation {
                return Ok(snapshot.clone());
            }
        }
        let snapshot = Arc::new(self.read_snapshot()?);
        *kept = Some((generation, snapshot.clone()));
        Ok(snapshot)
    }

    fn read_snapshot(&self) -> Result<Snapshot> {
        let conn = self.conn();
        let mut caches = Vec::new();
        let mut by_key = HashMap::new();
        {
            let mut statement = conn.prepare("SELECT key, record FROM caches ORDER BY key")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let key: String = row.get(0)?;
                let record: CacheRecord = from_json(&row.get::<_, String>(1)?)?;
                by_key.insert(key, caches.len());
                caches.push(StoredCache {
                    record,
                    nodes: Vec::new(),
                    address: None,
                    geo_primary: None,
                    link: None,
                    firewall_rules: Vec::new(),
                });
            }
        }
        let of = |key: &str| by_key.get(key).copied();
        {
            let mut statement = conn.prepare(
                "SELECT cache_key, shard, replica, addr FROM cache_nodes ORDER BY cache_key, shard, replica",
            )?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                if let Some(i) = of(&row.get::<_, String>(0)?) {
                    caches[i].nodes.push(NodeSlot {
                        shard: row.get(1)?,
                        replica: row.get(2)?,
                        addr: parse_addr(&row.get::<_, String>(3)?)?,
                    });
                }
            }
        }
        {
            let mut statement =
                conn.prepare("SELECT cache_key, role, addr FROM cache_addresses")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                if let Some(i) = of(&row.get::<_, String>(0)?) {
                    let addr = Some(parse_addr(&row.get::<_, String>(2)?)?);
                    let role: String = row.get(1)?;
                    if role == AddressRole::Cache.as_str() {
                        caches[i].address = addr;
                    } else if role == AddressRole::GeoPrimary.as_str() {
                        caches[i].geo_primary = addr;
                    }
                }
            }
        }
        {
            let mut statement = conn.prepare(
                "SELECT cache_key, name, start_ip, end_ip FROM firewall_rules ORDER BY cache_key, name",
            )?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                if let Some(i) = of(&row.get::<_, String>(0)?) {
                    caches[i].firewall_rules.push(FirewallRule {
                        name: row.get(1)?,
                        start_ip: row.get(2)?,
                        end_ip: row.get(3)?,
                    });
                }
            }
        }
        {
            let mut statement = conn.prepare("SELECT first_key, second_key, record FROM links")?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let link: LinkRecord = from_json(&row.get::<_, String>(2)?)?;
                for side in [row.get::<_, String>(0)?, row.get::<_, String>(1)?] {
                    if let Some(i) = of(&side) {
                        caches[i].link = Some(link.clone());
                    }
                }
            }
        }
        Ok(Snapshot { caches, by_key })
    }
}
