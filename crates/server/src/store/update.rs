//! A cache update's commit: its plan, the cache `Updating` with its new
//! settings, its new node layout and its operation, in one transaction. A
//! restart then finds all of them or none, never a cache `Updating` whose
//! nodes or plan are still the old ones.

use serde::Serialize;

use super::operations::put_operation_on;
use super::records::{CacheRecord, NodeSlot, OperationRecord};
use super::{put_cache_on, set_meta_on, set_nodes_on, to_json, Result, Store};

/// What an update commits, beside the cache record itself.
pub struct UpdateCommit<'a, P: Serialize> {
    /// The meta key the plan is kept under.
    pub plan_key: &'a str,
    /// What the update will do, which a restart resumes from.
    pub plan: &'a P,
    /// The cache's nodes from now on, if the update changes them.
    pub nodes: Option<&'a [NodeSlot]>,
    /// The update's long-running operation.
    pub operation: &'a OperationRecord,
}

impl Store {
    /// Writes `cache` and everything in `commit` at once.
    pub fn commit_update<P: Serialize>(
        &self,
        cache: &CacheRecord,
        commit: UpdateCommit<'_, P>,
    ) -> Result<()> {
        {
            let mut conn = self.conn();
            let tx = conn.transaction()?;
            set_meta_on(&tx, commit.plan_key, &to_json(commit.plan)?)?;
            put_cache_on(&tx, cache)?;
            if let Some(nodes) = commit.nodes {
                set_nodes_on(&tx, &cache.id, nodes)?;
            }
            put_operation_on(&tx, commit.operation)?;
            tx.commit()?;
        }
        self.changed();
        self.operation_written();
        Ok(())
    }
}
