//! In-cache HA: a Premium cache with one replica and a writer through the
//! cache's own address (`hostName`); its primary node is `kill -9`ed, and
//! the figure is the time from the kill until a write through the cache's
//! address is acknowledged by another node (the replica that took over).
//! Between rounds the bench waits until the killed node is back, as a
//! replica in sync (the API's `instances[]` list it not primary, and it
//! answers as a replica with its link up).
//!
//! Lost writes are acknowledged numbers missing at the end, excluding the
//! last write each killed node acknowledged: the kill may land before the
//! replica received it (Redis replicates asynchronously), which no
//! failover can help.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use georep_testkit::process;
use georep_testkit::redis_client::connect;

use crate::arm::{Arm, Tier};
use crate::bare;
use crate::say;
use crate::stats::percentile;
use crate::writer::{self, Target, Writer};

/// The cache the benchmark kills nodes of.
const CACHE: (&str, &str) = ("bench-ha", "uksouth");
/// The list the writer appends to.
const LIST: &str = "bench:ha";
/// How long a replica may take to answer writes after the kill.
const RECOVERY_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the killed node may take to come back as a replica.
const RETURN_TIMEOUT: Duration = Duration::from_secs(120);
/// The steady load before each kill.
const LOAD_BEFORE: Duration = Duration::from_secs(1);

/// What the kills measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Kill to the first write acknowledged by another node, per kill (ms).
    pub millis: Vec<f64>,
    /// Kill until the killed node was back as a replica in sync (ms).
    pub returned: Vec<f64>,
    /// Acknowledged writes missing at the end, the excused ones left out.
    pub lost: usize,
    /// Of the excused writes (the last each killed node acknowledged),
    /// how many were missing.
    pub excused_missing: usize,
    /// Writes acknowledged in all.
    pub acknowledged: usize,
    /// Writes that failed (and were not counted).
    pub failed: usize,
}

impl Outcome {
    pub fn p50(&self) -> Option<f64> {
        percentile(&self.millis, 50.0)
    }

    pub fn max(&self) -> Option<f64> {
        self.millis.iter().copied().reduce(f64::max)
    }
}

/// Creates the cache, kills its primary node `rounds` times under the
/// writer's load, then deletes it.
pub async fn run(server: &Arm, rounds: usize) -> Result<Outcome> {
    let (name, region) = CACHE;
    server.create_cache(name, region, Tier::Premium).await?;
    server
        .wait_until_running(&[name], Duration::from_secs(120))
        .await?;
    let outcome = measure(server, name, rounds).await;
    if let Err(err) = server.delete_cache(name).await {
        say(format!("    could not delete {name}: {err:#}"));
    }
    outcome
}

async fn measure(server: &Arm, name: &str, rounds: usize) -> Result<Outcome> {
    let address = server.node_addr(name).await?;
    let key = server.primary_key(name).await?;
    wait_for_replica(server, name, &key, None).await?;
    let writer = Writer::start(
        LIST,
        Target {
            addrs: vec![address],
            passwords: vec![Some(key.clone())],
            require_primary: false,
        },
    );
    let mut killed_nodes: Vec<Arc<str>> = Vec::new();
    let result = kills(server, name, &key, &writer, rounds, &mut killed_nodes).await;
    let log = writer.stop();
    let (millis, returned) = result?;
    let stored = writer::stored_at(address, Some(key), LIST).await?;
    // The last write each killed node acknowledged.
    let excused: HashSet<u64> = killed_nodes
        .iter()
        .filter_map(|node| {
            log.acks
                .iter()
                .filter(|a| a.node == *node)
                .map(|a| a.seq)
                .max()
        })
        .collect();
    let excused_missing = excused.iter().filter(|n| !stored.contains(n)).count();
    Ok(Outcome {
        millis,
        returned,
        lost: log.missing(&stored, &excused),
        excused_missing,
        acknowledged: log.acks.len(),
        failed: log.failed,
    })
}

async fn kills(
    server: &Arm,
    name: &str,
    key: &str,
    writer: &Writer,
    rounds: usize,
    killed_nodes: &mut Vec<Arc<str>>,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut millis, mut returned) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        tokio::time::sleep(LOAD_BEFORE).await;
        let primary = server.primary_instance(name).await?;
        let node = writer::run_id_at(primary, Some(key.to_owned())).await?;
        let pid = server
            .node_pid(primary)
            .with_context(|| format!("no single redis-server serves the node {primary}"))?;
        if writer.last_ack().is_none_or(|a| a.node != node) {
            bail!("the writer is not writing to the primary node {primary}");
        }
        process::kill(pid);
        let killed = Instant::now();
        killed_nodes.push(node.clone());
        let ack = writer
            .first_ack(killed, |a| a.node != node, RECOVERY_TIMEOUT)
            .await
            .with_context(|| {
                format!(
                    "kill {}: no write through {name}'s address was acknowledged within {RECOVERY_TIMEOUT:?}",
                    round + 1
                )
            })?;
        let ms = (ack.at - killed).as_secs_f64() * 1000.0;
        wait_for_replica(server, name, key, Some(primary))
            .await
            .with_context(|| format!("kill {}: the killed node did not come back", round + 1))?;
        let back = killed.elapsed().as_secs_f64() * 1000.0;
        say(format!(
            "    kill {} of {primary} (pid {pid}): first write acknowledged after {ms:.0} ms; the node was back as a replica after {back:.0} ms",
            round + 1
        ));
        millis.push(ms);
        returned.push(back);
    }
    Ok((millis, returned))
}

/// Waits until the cache lists one primary and its replica (`node`, if
/// given, must be the replica), and the replica answers as one, in sync.
async fn wait_for_replica(
    server: &Arm,
    name: &str,
    key: &str,
    node: Option<SocketAddr>,
) -> Result<()> {
    let deadline = Instant::now() + RETURN_TIMEOUT;
    loop {
        let seen = match replica_state(server, name, key, node).await {
            Ok(()) => return Ok(()),
            Err(err) => format!("{err:#}"),
        };
        if Instant::now() > deadline {
            bail!("{name}'s replica was not back in sync within {RETURN_TIMEOUT:?} (last seen: {seen})");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn replica_state(
    server: &Arm,
    name: &str,
    key: &str,
    node: Option<SocketAddr>,
) -> Result<()> {
    let instances = server.instances(name).await?;
    if instances.iter().filter(|(_, primary)| *primary).count() != 1 {
        bail!("instances {instances:?}");
    }
    let replica = match node {
        Some(addr) => match instances.iter().find(|(a, _)| *a == addr) {
            Some((_, false)) => addr,
            other => bail!("{addr} is listed as {other:?}"),
        },
        None => instances
            .iter()
            .find_map(|(a, primary)| (!primary).then_some(*a))
            .context("no replica listed")?,
    };
    let mut connection = connect(replica, key, Duration::from_secs(2)).await?;
    let info = bare::replication(&mut connection).await?;
    if !bare::replica_in_sync(&info) {
        bail!("{replica} answers but is not a replica in sync");
    }
    Ok(())
}
