//! Stopping nodes: for good (their data discarded), or saving their data
//! first so that the next start loads it, one node or the whole fleet.

use std::net::Ipv4Addr;

use futures::future::join_all;

use super::{Fleet, Result};
use crate::dataplane::node;
use crate::store::records::NodeSlot;

impl Fleet {
    /// Stops one node and discards its data.
    pub(super) async fn stop_node(&self, addr: Ipv4Addr) {
        let Some(node) = self.take(addr).await else {
            return;
        };
        if let Err(error) = node.stop().await {
            tracing::warn!(%addr, %error, "could not stop the node");
        }
        let _ = self.store.set_node_pid(addr, None);
    }

    /// Stops one node that will be started again: it saves its data to
    /// `dump.rdb` in its directory and exits, and its next start loads the
    /// data back (see [`Node::save_and_stop`]).
    ///
    /// A node that cannot confirm its save within [`node::SAVE_STOP_LIMIT`]
    /// is not killed, which would lose its data: it is left running and
    /// recorded, so the next start adopts it, data and all, and the error is
    /// returned. A node that is not running (a lost node, say) has nothing
    /// to save: that is not an error, and its next start begins empty.
    pub(super) async fn save_and_stop_node(&self, addr: Ipv4Addr) -> Result<()> {
        let Some(mut node) = self.take(addr).await else {
            // Neither ours nor adoptable: no running process holds data to save.
            return Ok(());
        };
        if !node.is_alive() {
            tracing::warn!(
                %addr,
                pid = node.pid(),
                "the node was not running, so it had no data to save"
            );
            self.store.set_node_pid(addr, None)?;
            return Ok(());
        }
        match node.save_and_stop(node::SAVE_STOP_LIMIT).await {
            Ok(()) => {
                self.store.set_node_pid(addr, None)?;
                Ok(())
            }
            Err(error) if node.is_alive() => {
                tracing::error!(
                    %addr,
                    pid = node.pid(),
                    %error,
                    "the node did not save its data; it is left running, so the next start adopts it with its data"
                );
                self.running.lock().await.insert(addr, node);
                Err(error.into())
            }
            Err(error) => {
                // It died while being asked: nothing is left to save or to
                // keep, and whoever stops it to start it again should.
                tracing::error!(
                    %addr,
                    pid = node.pid(),
                    %error,
                    "the node ended without saving its data; its next start begins empty"
                );
                self.store.set_node_pid(addr, None)?;
                Ok(())
            }
        }
    }

    /// Stops nodes without saving and removes their files.
    pub async fn stop_nodes(&self, nodes: &[NodeSlot]) {
        for slot in nodes {
            self.stop_node(slot.addr).await;
            let _ = std::fs::remove_dir_all(self.node_dir(slot.addr));
        }
    }

    /// Stops every node this run knows, each saving its data first (on a
    /// graceful shutdown); the next start loads the data back. A node whose
    /// save can't be confirmed is left running for the next start to adopt.
    pub async fn shutdown(&self) {
        let addrs: Vec<Ipv4Addr> = self.running.lock().await.keys().copied().collect();
        // All at once: each node's deadline then runs on its own, and the
        // whole stop takes as long as the slowest save, not their sum.
        let results = join_all(addrs.iter().map(|&addr| self.save_and_stop_node(addr))).await;
        let kept = results.iter().filter(|result| result.is_err()).count();
        if kept > 0 {
            // Each one was logged with its reason.
            tracing::error!(
                nodes = addrs.len(),
                failed = kept,
                "not every node confirmed saving its data"
            );
        }
    }
}
