//! Which addresses each node listens on, and moving them.
//!
//! A node always listens on its own address. The first shard's primary of
//! a cache also listens on the cache's address, and, while that cache is
//! the geo-primary of a link, on the geo-primary address of each cache of
//! the link. The store says who is primary and who is linked; Redis's
//! `bind` list says who listens where. [`Fleet::reconcile_listeners`]
//! makes the second match the first, which is how an address moves:
//!
//! 1. every node that should no longer hold an address drops it from its
//!    `bind` (`CONFIG SET bind`, which keeps established connections) and
//!    disconnects the clients that came in through it
//!    (`CLIENT KILL LADDR`, on 6379 and 6380), so they reconnect to its
//!    new holder;
//! 2. then every node that should hold it adds it.
//!
//! No client byte passes through georep-server, and after a crash the same
//! reconciliation, run from the store, puts every listener back.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use georep_core::CacheId;

use super::{Fleet, FleetError, Result, BIND_ATTEMPTS};
use crate::dataplane::addresses::{is_free, socket};
use crate::dataplane::node::{self, listen};
use crate::store::records::{AddressRole, NodeSlot};

/// What a node listens on now and should listen on.
struct Listeners {
    node: Ipv4Addr,
    actual: BTreeSet<Ipv4Addr>,
    wanted: BTreeSet<Ipv4Addr>,
}

impl Fleet {
    /// The addresses `slot` of `cache` should listen on besides its own.
    pub(super) fn extra_binds(&self, cache: &CacheId, slot: &NodeSlot) -> Result<Vec<Ipv4Addr>> {
        if !(slot.is_primary() && slot.shard == 0) {
            return Ok(vec![]);
        }
        let mut binds: Vec<Ipv4Addr> = self
            .store
            .address(cache, AddressRole::Cache)?
            .into_iter()
            .collect();
        if let Some(link) = self.store.link_of(cache)? {
            if link.primary() == cache {
                for member in link.caches() {
                    binds.extend(self.store.address(member, AddressRole::GeoPrimary)?);
                }
            }
        }
        Ok(binds)
    }

    /// Takes `cache`'s link's geo-primary addresses off every node of
    /// `cache` and disconnects their clients, before a planned failover
    /// hands the roles over: no client reaches a node that is stepping down.
    /// The next [`Fleet::reconcile_listeners`] puts them where the store says.
    pub async fn withdraw_geo_addresses(&self, cache: &CacheId) -> Result<()> {
        let Some(link) = self.store.link_of(cache)? else {
            return Ok(());
        };
        let mut geo = BTreeSet::new();
        for member in link.caches() {
            geo.extend(self.store.address(member, AddressRole::GeoPrimary)?);
        }
        for slot in self.store.nodes(cache)? {
            let Ok(actual) = self.binds(slot.addr).await else {
                continue;
            };
            if actual.is_disjoint(&geo) {
                continue;
            }
            let kept: BTreeSet<Ipv4Addr> = actual.difference(&geo).copied().collect();
            self.set_binds(slot.addr, &kept).await?;
            for dropped in actual.intersection(&geo) {
                self.disconnect_clients(slot.addr, *dropped).await?;
            }
        }
        Ok(())
    }

    /// The cache's address for `role`, handing out a new one the first time.
    pub fn assign_address(&self, cache: &CacheId, role: AddressRole) -> Result<Ipv4Addr> {
        if let Some(addr) = self.store.address(cache, role)? {
            return Ok(addr);
        }
        let addr = self.allocate(1)?[0];
        self.store.set_address(cache, role, addr)?;
        Ok(addr)
    }

    /// Makes every node of `caches` listen where the store says, moving
    /// addresses between them in the safe order (all drops, then all adds).
    /// An address someone else has bound is replaced by a fresh one.
    pub async fn reconcile_listeners(&self, caches: &[&CacheId]) -> Result<()> {
        let mut attempts = 0;
        loop {
            match self.try_reconcile(caches).await {
                Err(FleetError::Bind(why)) if attempts < BIND_ATTEMPTS => {
                    attempts += 1;
                    if !self.replace_taken_addresses(caches).await? {
                        return Err(FleetError::Bind(why));
                    }
                }
                other => return other,
            }
        }
    }

    async fn try_reconcile(&self, caches: &[&CacheId]) -> Result<()> {
        // Certificates first, so a node names an address before it listens on it.
        for cache in caches {
            self.renew_certificates(cache).await?;
        }
        let mut plan = Vec::new();
        for cache in caches {
            for slot in self.store.nodes(cache)? {
                let actual = match self.binds(slot.addr).await {
                    Ok(actual) => actual,
                    Err(error) => {
                        // A node that is down listens nowhere; it gets its
                        // listeners from its config when it starts again.
                        tracing::debug!(node = %slot.addr, %error, "node down; its listeners wait");
                        continue;
                    }
                };
                let wanted = std::iter::once(slot.addr)
                    .chain(self.extra_binds(cache, &slot)?)
                    .collect();
                plan.push(Listeners {
                    node: slot.addr,
                    actual,
                    wanted,
                });
            }
        }
        for node in plan.iter().filter(|n| !n.actual.is_subset(&n.wanted)) {
            let kept: BTreeSet<Ipv4Addr> =
                node.actual.intersection(&node.wanted).copied().collect();
            self.set_binds(node.node, &kept).await?;
            for dropped in node.actual.difference(&node.wanted) {
                self.disconnect_clients(node.node, *dropped).await?;
            }
            tracing::info!(node = %node.node, dropped = ?node.actual.difference(&node.wanted).collect::<Vec<_>>(), "listeners dropped");
        }
        for node in plan.iter().filter(|n| !n.wanted.is_subset(&n.actual)) {
            self.set_binds(node.node, &node.wanted).await?;
            tracing::info!(node = %node.node, added = ?node.wanted.difference(&node.actual).collect::<Vec<_>>(), "listeners added");
        }
        Ok(())
    }

    /// Replaces each cache or geo-primary address of `caches` that a
    /// process other than their nodes listens on; true if any was replaced.
    async fn replace_taken_addresses(&self, caches: &[&CacheId]) -> Result<bool> {
        let mut ours = BTreeSet::new();
        for cache in caches {
            for slot in self.store.nodes(cache)? {
                ours.extend(self.binds(slot.addr).await.unwrap_or_default());
            }
        }
        let mut replaced = false;
        for cache in caches {
            for role in [AddressRole::Cache, AddressRole::GeoPrimary] {
                let Some(addr) = self.store.address(cache, role)? else {
                    continue;
                };
                if !ours.contains(&addr) && !is_free(addr) {
                    let fresh = self.allocate(1)?[0];
                    tracing::warn!(%addr, %fresh, cache = %cache.name, "the address is taken; using another");
                    self.store.set_address(cache, role, fresh)?;
                    replaced = true;
                }
            }
        }
        Ok(replaced)
    }

    /// Opens or closes the plain port (6379) of every running node in
    /// `nodes`, as the cache's `enableNonSslPort` says, at once. Clients
    /// already connected through it stay connected, as on Azure.
    pub async fn set_plain_port(&self, nodes: &[NodeSlot], open: bool) -> Result<()> {
        self.config_set_running(nodes, "port", &node::plain_port(open).to_string())
            .await
    }

    /// The node's `bind` list now.
    async fn binds(&self, node: Ipv4Addr) -> Result<BTreeSet<Ipv4Addr>> {
        let mut conn = self.credentials.connect(socket(node)).await?;
        Ok(listen::binds(&mut conn, socket(node)).await?)
    }

    async fn set_binds(&self, node: Ipv4Addr, binds: &BTreeSet<Ipv4Addr>) -> Result<()> {
        let mut conn = self.credentials.connect(socket(node)).await?;
        listen::set_binds(&mut conn, socket(node), binds)
            .await
            .map_err(|e| FleetError::Bind(Box::new(e)))
    }

    async fn disconnect_clients(&self, node: Ipv4Addr, through: Ipv4Addr) -> Result<()> {
        let mut conn = self.credentials.connect(socket(node)).await?;
        let killed = listen::disconnect_clients(&mut conn, socket(node), through).await?;
        tracing::debug!(%node, %through, killed, "disconnected the clients of a moved address");
        Ok(())
    }
}
