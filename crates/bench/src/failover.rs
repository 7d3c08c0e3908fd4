//! Planned failovers under a steady write load, and their peer: the same
//! writer and load on two bare `redis-server`s failing over with a plain
//! `FAILOVER TO host port TIMEOUT 5000`.
//!
//! Each failover's figure is the longest time during which the writer got
//! no acknowledgement, counted from the request (the reverse `PUT`, or
//! `FAILOVER`) until the pair has settled again (the link `Succeeded` with
//! the roles swapped; the old primary a replica of the new one with its
//! link up), the gap still open then running until the next
//! acknowledgement. A write that blocks counts until it returns.
//!
//! Through the geo-primary URL the writer has one address and tries both
//! caches' access keys on each new connection (after a failover the URL
//! reaches the other cache, whose keys differ). Against the bare pair it
//! has both addresses and takes whichever says it is the primary.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use redis::aio::MultiplexedConnection;

use crate::arm::Arm;
use crate::bare::{self, BareRedis, Settings};
use crate::say;
use crate::stats::percentile;
use crate::writer::{self, Target, Writer};

/// How long the writer may wait for its next acknowledgement after the
/// pair settled.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);
/// How long one failover may take to settle.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a raw failover may take to settle (`FAILOVER … TIMEOUT 5000`
/// gives up after 5 s, and the old primary then stays primary).
const RAW_SETTLE_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the link (or the bare nodes' roles) is read while failing
/// over.
const POLL: Duration = Duration::from_millis(10);
/// The steady load before each failover.
const LOAD_BEFORE: Duration = Duration::from_secs(1);

/// One linked pair, as the benchmark sees it.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The caches' names and regions, the geo-primary first.
    pub caches: [(String, String); 2],
    /// Their primary access keys, in the same order.
    pub keys: [String; 2],
}

/// What the failovers measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The longest gap without an acknowledgement, per failover (ms).
    pub gaps: Vec<f64>,
    /// From the request until the pair had settled, per failover (ms).
    pub settled: Vec<f64>,
    /// Acknowledged writes missing from the final primary.
    pub lost: usize,
    /// Writes acknowledged in all.
    pub acknowledged: usize,
    /// Writes that failed (and were not counted).
    pub failed: usize,
    /// Acknowledged writes per second over the whole run.
    pub rate: f64,
}

impl Outcome {
    /// The median failover's gap.
    pub fn p50(&self) -> Option<f64> {
        percentile(&self.gaps, 50.0)
    }

    /// The longest gap.
    pub fn max(&self) -> Option<f64> {
        self.gaps.iter().copied().reduce(f64::max)
    }

    /// One line: each failover's gap and settle time, and the writes.
    pub fn summary(&self) -> String {
        format!(
            "{} failovers, longest write gap each: {} ms (settled after {} ms); {} writes acknowledged ({:.0}/s; {} failed and were not counted), {} acknowledged writes lost",
            self.gaps.len(),
            join(&self.gaps),
            join(&self.settled),
            self.acknowledged,
            self.rate,
            self.failed,
            self.lost
        )
    }
}

fn join(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.0}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The list the geo writer appends to.
const GEO_LIST: &str = "bench:failover";
/// The list the bare pair's writer appends to.
const RAW_LIST: &str = "bench:raw-failover";

/// Runs `count` planned failovers of `pair` (alternating direction) with
/// the writer aimed at the geo-primary URL `geo`.
pub async fn geo(server: &Arm, pair: &Pair, geo: SocketAddr, count: usize) -> Result<Outcome> {
    let writer = Writer::start(
        GEO_LIST,
        Target {
            addrs: vec![geo],
            passwords: pair.keys.iter().cloned().map(Some).collect(),
            require_primary: false,
        },
    );
    let started = Instant::now();
    let result = geo_failovers(server, pair, &writer, count).await;
    let log = writer.stop();
    let seconds = started.elapsed().as_secs_f64();
    let (gaps, settled) = result?;
    // The pair swapped `count` times.
    let primary = count % 2;
    let addr = server.node_addr(&pair.caches[primary].0).await?;
    let stored = writer::stored_at(addr, Some(pair.keys[primary].clone()), GEO_LIST).await?;
    Ok(Outcome {
        gaps,
        settled,
        lost: log.missing(&stored, &Default::default()),
        acknowledged: log.acks.len(),
        failed: log.failed,
        rate: log.acks.len() as f64 / seconds,
    })
}

/// The failovers themselves, with the writer running.
async fn geo_failovers(
    server: &Arm,
    pair: &Pair,
    writer: &Writer,
    count: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut gaps, mut settled) = (Vec::new(), Vec::new());
    for round in 0..count {
        let (primary, secondary) = if round % 2 == 0 { (0, 1) } else { (1, 0) };
        let (primary_name, primary_location) = &pair.caches[primary];
        let (secondary_name, _) = &pair.caches[secondary];
        server
            .wait_for_link(
                primary_name,
                secondary_name,
                Duration::from_millis(100),
                SETTLE_TIMEOUT,
            )
            .await?;
        // Let the steady load run on the settled link first.
        tokio::time::sleep(LOAD_BEFORE).await;
        let asked = Instant::now();
        server
            .put_link(secondary_name, primary_name, primary_location)
            .await?;
        // Settled: the new primary's link is Succeeded, and names the old
        // primary its geo-secondary.
        server
            .wait_for_roles(secondary_name, primary_name, POLL, SETTLE_TIMEOUT)
            .await
            .with_context(|| format!("failover {}", round + 1))?;
        let done = Instant::now();
        let gap = writer
            .longest_gap(asked, done, ACK_TIMEOUT)
            .await
            .with_context(|| format!("failover {} to {secondary_name}", round + 1))?;
        say(format!(
            "    failover {} ({primary_name} → {secondary_name}): longest write gap {:.0} ms, settled after {:.0} ms",
            round + 1,
            millis(gap),
            millis(done - asked)
        ));
        gaps.push(millis(gap));
        settled.push(millis(done - asked));
    }
    Ok((gaps, settled))
}

/// Runs `count` plain `FAILOVER TO`s between two bare `redis-server`s
/// with the nodes' replication settings, back and forth, under the same
/// writer and load.
pub async fn raw(work: &Path, count: usize) -> Result<Outcome> {
    let nodes = [
        BareRedis::start(&work.join("failover-a"), Settings::Nodes).await?,
        BareRedis::start(&work.join("failover-b"), Settings::Nodes).await?,
    ];
    let mut connections = [nodes[0].connect().await?, nodes[1].connect().await?];
    redis::cmd("REPLICAOF")
        .arg(nodes[0].addr.ip().to_string())
        .arg(nodes[0].addr.port())
        .query_async::<()>(&mut connections[1])
        .await?;
    let writer = Writer::start(
        RAW_LIST,
        Target {
            addrs: nodes.iter().map(|n| n.addr).collect(),
            passwords: vec![None],
            require_primary: true,
        },
    );
    let started = Instant::now();
    let result = raw_failovers(&nodes, &mut connections, &writer, count).await;
    let log = writer.stop();
    let seconds = started.elapsed().as_secs_f64();
    let (gaps, settled) = result?;
    let primary = count % 2;
    let stored = writer::stored_at(nodes[primary].addr, None, RAW_LIST).await?;
    Ok(Outcome {
        gaps,
        settled,
        lost: log.missing(&stored, &Default::default()),
        acknowledged: log.acks.len(),
        failed: log.failed,
        rate: log.acks.len() as f64 / seconds,
    })
}

async fn raw_failovers(
    nodes: &[BareRedis; 2],
    connections: &mut [MultiplexedConnection; 2],
    writer: &Writer,
    count: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut gaps, mut settled) = (Vec::new(), Vec::new());
    for round in 0..count {
        let (primary, replica) = if round % 2 == 0 { (0, 1) } else { (1, 0) };
        wait_settled(connections, primary, replica, SETTLE_TIMEOUT).await?;
        tokio::time::sleep(LOAD_BEFORE).await;
        let to = nodes[replica].addr;
        let asked = Instant::now();
        redis::cmd("FAILOVER")
            .arg("TO")
            .arg(to.ip().to_string())
            .arg(to.port())
            .arg("TIMEOUT")
            .arg(5000)
            .query_async::<()>(&mut connections[primary])
            .await
            .context("FAILOVER TO")?;
        wait_settled(connections, replica, primary, RAW_SETTLE_TIMEOUT)
            .await
            .with_context(|| format!("raw failover {}", round + 1))?;
        let done = Instant::now();
        let gap = writer
            .longest_gap(asked, done, ACK_TIMEOUT)
            .await
            .with_context(|| format!("raw failover {}", round + 1))?;
        say(format!(
            "    raw FAILOVER TO {}: longest write gap {:.0} ms, settled after {:.0} ms",
            round + 1,
            millis(gap),
            millis(done - asked)
        ));
        gaps.push(millis(gap));
        settled.push(millis(done - asked));
    }
    Ok((gaps, settled))
}

/// Waits until node `primary` is a primary and node `replica` its
/// replica, link up and sync done.
async fn wait_settled(
    connections: &mut [MultiplexedConnection; 2],
    primary: usize,
    replica: usize,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let p = bare::replication(&mut connections[primary]).await;
        let r = bare::replication(&mut connections[replica]).await;
        if let (Ok(p), Ok(r)) = (p, r) {
            if p.get("role") == Some("master") && bare::replica_in_sync(&r) {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("the bare pair did not settle within {timeout:?}");
        }
        tokio::time::sleep(POLL).await;
    }
}
