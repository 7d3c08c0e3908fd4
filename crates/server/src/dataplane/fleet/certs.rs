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
    /// The addresses every node of `cache` may be reached by besides its
    /// own: the cache's, and the geo-primary URLs of its link.
    fn cache_names(&self, cache: &CacheId) -> Result<BTreeSet<Ipv4Addr>> {
        let mut names: BTreeSet<Ipv4Addr> = self
            .store
            .address(cache, AddressRole::Cache)?
            .into_iter()
            .collect();
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
        let (cert_file, key_file) = self.write_certificate(node, self.cache_names(cache)?)?;
        Ok(NodeTls {
            cert_file,
            key_file,
            ca_file: PathBuf::from(self.ca.cert_path()),
            minimum_version: minimum_version.to_owned(),
        })
    }

    /// Writes a certificate for `node` and `names` (and a fresh key) into
    /// the node's directory, and remembers what it names; the files' paths.
    fn write_certificate(
        &self,
        node: Ipv4Addr,
        mut names: BTreeSet<Ipv4Addr>,
    ) -> Result<(PathBuf, PathBuf)> {
        names.insert(node);
        let ips: Vec<IpAddr> = names.iter().copied().map(IpAddr::V4).collect();
        let issued = self.ca.issue(&ips, &[])?;
        let dir = self.node_dir(node);
        std::fs::create_dir_all(&dir)?;
        let (cert_file, key_file) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
        // The key first: a node reloading between the two writes would
        // otherwise pair a new certificate with the old key.
        crate::tls::write_file(&key_file, &issued.key_pem, 0o600)?;
        crate::tls::write_file(&cert_file, &issued.cert_pem, 0o600)?;
        self.certified_guard().insert(node, names);
        Ok((cert_file, key_file))
    }

    /// Gives every running node of `cache` whose certificate lacks an
    /// address it may now be reached by a new one, loaded at once.
    pub(super) async fn renew_certificates(&self, cache: &CacheId) -> Result<()> {
        let names = self.cache_names(cache)?;
        for slot in self.store.nodes(cache)? {
            let covered = self
                .certified_guard()
                .get(&slot.addr)
                .is_some_and(|had| had.contains(&slot.addr) && names.is_subset(had));
            if covered || !self.is_running(slot.addr).await {
                continue;
            }
            let (cert_file, key_file) = self.write_certificate(slot.addr, names.clone())?;
            let mut reload = redis::cmd("CONFIG");
            reload
                .arg("SET")
                .arg("tls-key-file")
                .arg(path_arg(&key_file)?)
                .arg("tls-cert-file")
                .arg(path_arg(&cert_file)?);
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

    /// The local CA's certificate (PEM), which every node's certificate chains to.
    pub fn ca_pem(&self) -> &str {
        self.ca.cert_pem()
    }

    /// Makes the running nodes accept TLS from `minimum_version` up, at once
    /// (new connections; open ones keep theirs).
    pub async fn set_minimum_tls(&self, nodes: &[NodeSlot], minimum_version: &str) -> Result<()> {
        self.config_set_running(nodes, "tls-protocols", tls_protocols(minimum_version))
            .await
    }

    /// `CONFIG SET parameter value` on every running node of `nodes`. A node
    /// that isn't running reads the setting from its config when it starts.
    pub(super) async fn config_set_running(
        &self,
        nodes: &[NodeSlot],
        parameter: &str,
        value: &str,
    ) -> Result<()> {
        for slot in nodes {
            if !self.is_running(slot.addr).await {
                continue;
            }
            let mut conn = self.credentials.connect(socket(slot.addr)).await?;
            redis::cmd("CONFIG")
                .arg("SET")
                .arg(parameter)
                .arg(value)
                .query_async::<()>(&mut conn)
                .await
                .map_err(|e| FleetError::Other(format!("node {}: {parameter}: {e}", slot.addr)))?;
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
