//! Each node's TLS certificate.
//!
//! A node presents, on its TLS port, a certificate from the server's local
//! CA naming every address it may be reached by: its own, its cache's, and
//! the geo-primary URLs of its cache's link. A replica is covered too, since
//! it may be promoted and take the cache's address over; so a failover,
//! which only moves addresses, never waits on a new certificate. A link made
//! or a cache's address changed adds names: the node then gets a new
//! certificate, which Redis loads at once (`CONFIG SET tls-cert-file`)
//! without dropping a connection.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use georep_core::CacheId;

use super::{Fleet, FleetError, Result};
use crate::dataplane::addresses::socket;
use crate::dataplane::node::{tls_protocols, NodeTls};
use crate::store::records::{AddressRole, NodeSlot};

/// The node's certificate and key, inside its directory.
const CERT_FILE: &str = "tls.crt";
const KEY_FILE: &str = "tls.key";

impl Fleet {
    /// Every address a node of `cache` may be reached by.
    fn names(&self, cache: &CacheId, node: Ipv4Addr) -> Result<BTreeSet<Ipv4Addr>> {
        let mut names = BTreeSet::from([node]);
        names.extend(self.store.address(cache, AddressRole::Cache)?);
        if let Some(link) = self.store.link_of(cache)? {
            for member in link.caches() {
                names.extend(self.store.address(member, AddressRole::GeoPrimary)?);
            }
        }
        Ok(names)
    }

    /// Issues the node at `node` of `cache` a certificate for every address
    /// it may be reached by, into its directory; what its TLS port needs.
    pub(super) fn issue_certificate(
        &self,
        cache: &CacheId,
        node: Ipv4Addr,
        minimum_version: &str,
    ) -> Result<NodeTls> {
        let names = self.names(cache, node)?;
        let ips: Vec<IpAddr> = names.iter().copied().map(IpAddr::V4).collect();
        let issued = self.ca.issue(&ips, &[])?;
        let dir = self.node_dir(node);
        std::fs::create_dir_all(&dir)?;
        let tls = NodeTls {
            cert_file: dir.join(CERT_FILE),
            key_file: dir.join(KEY_FILE),
            ca_file: PathBuf::from(self.ca.cert_path()),
            minimum_version: minimum_version.to_owned(),
        };
        // The key first: a node reloading between the two writes would
        // otherwise pair a new certificate with the old key.
        crate::tls::write_file(&tls.key_file, &issued.key_pem, 0o600)?;
        crate::tls::write_file(&tls.cert_file, &issued.cert_pem, 0o600)?;
        self.certified_guard().insert(node, names);
        Ok(tls)
    }

    /// Gives every running node of `cache` whose certificate lacks an
    /// address it may now be reached by a new one, loaded at once.
    pub(super) async fn renew_certificates(&self, cache: &CacheId) -> Result<()> {
        for slot in self.store.nodes(cache)? {
            let wanted = self.names(cache, slot.addr)?;
            let covered = self
                .certified_guard()
                .get(&slot.addr)
                .is_some_and(|names| wanted.is_subset(names));
            if covered || !self.is_running(slot.addr).await {
                continue;
            }
            let minimum = self
                .store
                .cache(cache)?
                .and_then(|c| c.minimum_tls_version)
                .unwrap_or_else(|| georep_core::arm::minimum_tls_or_default(None));
            let tls = self.issue_certificate(cache, slot.addr, &minimum)?;
            let mut reload = redis::cmd("CONFIG");
            reload
                .arg("SET")
                .arg("tls-key-file")
                .arg(path_arg(&tls.key_file)?)
                .arg("tls-cert-file")
                .arg(path_arg(&tls.cert_file)?);
            let mut conn = self.credentials.connect(socket(slot.addr)).await?;
            reload.query_async::<()>(&mut conn).await.map_err(|e| {
                FleetError::Other(format!(
                    "node {}: reloading its certificate: {e}",
                    slot.addr
                ))
            })?;
            tracing::debug!(node = %slot.addr, "the node's certificate names its new addresses");
        }
        Ok(())
    }

    /// Makes the running nodes accept TLS from `minimum_version` up, at once
    /// (new connections; open ones keep theirs).
    pub async fn set_minimum_tls(&self, nodes: &[NodeSlot], minimum_version: &str) -> Result<()> {
        for slot in nodes {
            if !self.is_running(slot.addr).await {
                continue; // It reads the setting from its config when it starts.
            }
            let mut conn = self.credentials.connect(socket(slot.addr)).await?;
            redis::cmd("CONFIG")
                .arg("SET")
                .arg("tls-protocols")
                .arg(tls_protocols(minimum_version))
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| {
                    FleetError::Other(format!("node {}: tls-protocols: {e}", slot.addr))
                })?;
        }
        Ok(())
    }

    fn certified_guard(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<Ipv4Addr, BTreeSet<Ipv4Addr>>> {
        self.certified
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn path_arg(path: &std::path::Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| FleetError::Other(format!("{} is not UTF-8", path.display())))
}
