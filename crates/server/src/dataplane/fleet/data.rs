//! A cache's data through files: a reboot that keeps it (save, stop,
//! start), export to RDB files, and import from them.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::{socket, Fleet, FleetError, Result, DUMP_FILE};
use crate::dataplane::node;
use crate::store::records::{CacheRecord, NodeSlot};

impl Fleet {
    /// Restarts `chosen` nodes of a cache, keeping their data, and rewires the cache.
    ///
    /// If a node can't confirm its save it keeps running and the reboot
    /// fails; the nodes already stopped are started again all the same.
    pub async fn reboot(
        &self,
        cache: &CacheRecord,
        nodes: &[NodeSlot],
        chosen: &[NodeSlot],
    ) -> Result<()> {
        let mut saved = Ok(());
        for slot in chosen {
            if slot.is_primary() {
                self.hand_over(nodes, *slot).await?;
            }
            saved = self.save_and_stop_node(slot.addr).await;
            if saved.is_err() {
                break;
            }
        }
        self.start(cache, nodes).await?;
        for slot in chosen {
            let _ = std::fs::remove_file(self.node_dir(slot.addr).join(DUMP_FILE));
        }
        saved
    }

    /// Writes one RDB file per shard into `dir`: `{prefix}.rdb`, or
    /// `{prefix}-shard{n}.rdb` for a clustered cache.
    pub async fn export(
        &self,
        cache: &CacheRecord,
        nodes: &[NodeSlot],
        dir: &Path,
        prefix: &str,
    ) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        for slot in nodes.iter().filter(|n| n.is_primary()) {
            self.save(slot.addr).await?;
            tracing::info!(addr = %slot.addr, "saved a snapshot to export");
            let dump = self.node_dir(slot.addr).join(DUMP_FILE);
            let name = if cache.shard_count > 0 {
                format!("{prefix}-shard{}.rdb", slot.shard)
            } else {
                format!("{prefix}.rdb")
            };
            // Under a name no import accepts (it starts with '.') until it
            // is renamed: an export cut short leaves no partial file that
            // an import would load.
            let partial = dir.join(format!(".{name}.partial"));
            let copied = copy_for_rename(&dump, &partial);
            // The snapshot was for the export; a restart must not reload it.
            let _ = std::fs::remove_file(&dump);
            copied?;
            std::fs::rename(&partial, dir.join(name))?;
        }
        Ok(())
    }

    /// After a restart cut an export short: waits out the `SAVE` the export
    /// may have left running on each primary node (a command queues behind
    /// it), then removes the snapshot it wrote, as the export would have.
    /// A node that comes back on its own later must not load it in place of
    /// newer data.
    pub async fn discard_export_snapshots(&self, nodes: &[NodeSlot]) {
        for slot in nodes.iter().filter(|n| n.is_primary()) {
            if !self.is_running(slot.addr).await {
                continue;
            }
            let waited = async {
                let mut conn = self
                    .credentials
                    .connect_with_timeouts(
                        socket(slot.addr),
                        std::time::Duration::from_secs(2),
                        node::SAVE_STOP_LIMIT,
                    )
                    .await?;
                redis::cmd("PING")
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(|e| FleetError::Other(format!("node {}: {e}", slot.addr)))
            };
            match waited.await {
                Ok(()) => self.discard_dump(slot.addr),
                Err(error) => {
                    tracing::warn!(node = %slot.addr, %error, "could not wait out an interrupted export's snapshot");
                }
            }
        }
    }

    /// `SAVE` on a node, waiting out a background save (a replica's full
    /// sync forks one) that makes Redis refuse it for a moment.
    async fn save(&self, addr: Ipv4Addr) -> Result<()> {
        let mut attempts = 0;
        loop {
            match self.command::<String>(addr, &redis::cmd("SAVE")).await {
                Err(FleetError::Other(why)) if why.contains("in progress") && attempts < 100 => {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                other => return other.map(|_| ()),
            }
        }
    }

    /// Replaces each shard's data with an RDB file (in shard order) by
    /// restarting its primary on the file; its replicas then resync.
    pub async fn import(
        &self,
        cache: &CacheRecord,
        nodes: &[NodeSlot],
        files: &[PathBuf],
    ) -> Result<()> {
        let mut nodes = nodes.to_vec();
        for slot in nodes.iter_mut().filter(|n| n.is_primary()).zip(files) {
            let (slot, file) = slot;
            self.stop_node(slot.addr).await;
            let dir = self.node_dir(slot.addr);
            std::fs::create_dir_all(&dir)?;
            // Beside the dump under another name until it is renamed: a
            // crash mid-copy leaves no truncated dump, on which Redis would
            // refuse to start ("Short read … loading DB") whatever role the
            // node restarts in, so the cache would never heal.
            let partial = dir.join(IMPORT_COPY);
            copy_for_rename(file, &partial)?;
            std::fs::rename(&partial, dir.join(DUMP_FILE))?;
            let started = self.start_node(cache, *slot, None).await?;
            let _ = std::fs::remove_file(self.node_dir(started).join(DUMP_FILE));
            slot.addr = started;
        }
        self.configure(cache, &nodes).await
    }

    /// After a restart cut an import short: removes the copy of its file
    /// the import may have left half-written beside the node's dump. Nothing
    /// loads it, but a large one would hold its disk space until the next
    /// import overwrote it.
    pub fn discard_import_copy(&self, addr: Ipv4Addr) {
        self.discard_node_file(addr, IMPORT_COPY, "an interrupted import's partial copy");
    }
}

/// The name under which an import copies its file into a node's directory
/// before renaming it to the node's dump.
const IMPORT_COPY: &str = ".dump.rdb.partial";

/// Copies `from` to `partial` and flushes it to disk, for the caller to
/// rename into place: a crash mid-copy then leaves only `partial`, under a
/// name nothing loads, never a truncated file where a whole one belongs.
fn copy_for_rename(from: &Path, partial: &Path) -> std::io::Result<()> {
    std::fs::copy(from, partial)?;
    std::fs::File::open(partial)?.sync_all()
}
