//! Proving that a link's two sides hold the same data.
//!
//! Shard by shard: wait until the geo-secondary has applied the
//! geo-primary's replication offset, compare the key counts of every
//! database, then compare the keys themselves by their serialized values
//! (`DUMP`, which is the same bytes for the same value on the same Redis).
//! Nothing is paused: `SCAN` and `DUMP` run between the primary's other
//! commands, so writes go on. A key written meanwhile can differ for a
//! moment; a difference counts only if it is still there after the
//! secondary has caught up again, a few times over.
//!
//! Above [`FULL_LIMIT`] keys per shard, only that many are compared (the
//! first ones `SCAN` returns), and the result says it was sampled.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use tokio::time::{sleep, Instant};

pub use georep_core::verification::Verification;

use crate::dataplane::credentials::Credentials;
use crate::dataplane::node::{command_error, info_on, NodeError, Role};

/// The most keys compared per shard; above it the comparison is a sample.
pub const FULL_LIMIT: usize = 10_000;
/// The most mismatching key names reported.
pub const MISMATCH_LIMIT: usize = 100;
/// How many times a difference is looked at again before it counts.
const RECHECKS: usize = 3;
/// How long the secondary may take to catch up before each look.
const CATCH_UP: Duration = Duration::from_secs(5);

/// Compares shard `i` of `secondary` with shard `i` of `primary`.
pub async fn verify(
    primary: &[SocketAddr],
    secondary: &[SocketAddr],
    credentials: &Credentials,
) -> Result<Verification, NodeError> {
    let mut total = Verification {
        consistent: true,
        ..Verification::default()
    };
    for (&p, &s) in primary.iter().zip(secondary) {
        let mut p_conn = credentials.connect(p).await?;
        let mut s_conn = credentials.connect(s).await?;
        let opened = open_stale_reads(&mut s_conn, s).await?;
        let shard = verify_shard(&mut p_conn, p, &mut s_conn, s).await;
        if opened {
            set_stale_reads(&mut s_conn, s, false).await?;
        }
        let shard = shard?;
        total.consistent &= shard.consistent;
        total.keys_primary += shard.keys_primary;
        total.keys_secondary += shard.keys_secondary;
        total.sampled |= shard.sampled;
        total.compared += shard.compared;
        let room = MISMATCH_LIMIT.saturating_sub(total.mismatches.len());
        total
            .mismatches
            .extend(shard.mismatches.into_iter().take(room));
    }
    Ok(total)
}

/// A geo-secondary whose link is down (cut on purpose, say) answers every
/// read with `MASTERDOWN` (`replica-serve-stale-data no`, as Azure's
/// passive geo-replication guide describes). To compare what it holds, it
/// serves its stale data to everyone for as long as the comparison runs;
/// true if it was told to, so the caller puts the setting back.
async fn open_stale_reads(
    conn: &mut MultiplexedConnection,
    addr: SocketAddr,
) -> Result<bool, NodeError> {
    let info = info_on(conn, addr, &["replication"]).await?;
    if info.role() != Some(Role::Replica) || info.master_link_up() {
        return Ok(false);
    }
    set_stale_reads(conn, addr, true).await?;
    Ok(true)
}

async fn set_stale_reads(
    conn: &mut MultiplexedConnection,
    addr: SocketAddr,
    serve: bool,
) -> Result<(), NodeError> {
    redis::cmd("CONFIG")
        .arg("SET")
        .arg("replica-serve-stale-data")
        .arg(if serve { "yes" } else { "no" })
        .query_async::<()>(conn)
        .await
        .map_err(command_error(addr, "CONFIG SET replica-serve-stale-data"))
}

async fn verify_shard(
    p: &mut MultiplexedConnection,
    p_addr: SocketAddr,
    s: &mut MultiplexedConnection,
    s_addr: SocketAddr,
) -> Result<Verification, NodeError> {
    catch_up(p, p_addr, s, s_addr).await?;
    let mut counts = (keyspace(p, p_addr).await?, keyspace(s, s_addr).await?);
    for _ in 0..RECHECKS {
        if counts.0 == counts.1 {
            break;
        }
        catch_up(p, p_addr, s, s_addr).await?;
        counts = (keyspace(p, p_addr).await?, keyspace(s, s_addr).await?);
    }
    let mut result = Verification {
        keys_primary: counts.0.values().sum(),
        keys_secondary: counts.1.values().sum(),
        ..Verification::default()
    };
    let mut differing = Vec::new();
    for &db in counts.0.keys() {
        select(p, p_addr, db).await?;
        select(s, s_addr, db).await?;
        let (keys, more) = scan(p, p_addr, FULL_LIMIT).await?;
        result.sampled |= more;
        result.compared += keys.len() as u64;
        for chunk in keys.chunks(500) {
            differing.extend(differ(p, p_addr, s, s_addr, chunk).await?);
        }
        // Look again at what differed, once the secondary has caught up.
        for _ in 0..RECHECKS {
            if differing.is_empty() {
                break;
            }
            catch_up(p, p_addr, s, s_addr).await?;
            differing = differ(p, p_addr, s, s_addr, &differing).await?;
        }
        result
            .mismatches
            .extend(differing.drain(..).map(|key| match db {
                0 => key,
                db => format!("db{db}:{key}"),
            }));
    }
    select(p, p_addr, 0).await?;
    select(s, s_addr, 0).await?;
    result.consistent = counts.0 == counts.1 && result.mismatches.is_empty();
    result.mismatches.truncate(MISMATCH_LIMIT);
    Ok(result)
}

/// Waits (bounded) until the secondary has applied the primary's offset.
async fn catch_up(
    p: &mut MultiplexedConnection,
    p_addr: SocketAddr,
    s: &mut MultiplexedConnection,
    s_addr: SocketAddr,
) -> Result<(), NodeError> {
    let deadline = Instant::now() + CATCH_UP;
    loop {
        let primary = info_on(p, p_addr, &["replication"]).await?;
        let secondary = info_on(s, s_addr, &["replication"]).await?;
        let target = primary.master_repl_offset().unwrap_or(0);
        let applied = match secondary.role() {
            // Cut off, it can't catch up: compare what it holds.
            Some(Role::Replica) if !secondary.master_link_up() => return Ok(()),
            Some(Role::Replica) => secondary.get_u64("slave_repl_offset").unwrap_or(0),
            _ => return Ok(()), // not replicating: compare as it is
        };
        if applied >= target || Instant::now() >= deadline {
            return Ok(());
        }
        sleep(Duration::from_millis(5)).await;
    }
}

/// Keys per database, from `INFO keyspace` (`db0:keys=12,expires=0,…`).
async fn keyspace(
    conn: &mut MultiplexedConnection,
    addr: SocketAddr,
) -> Result<BTreeMap<u32, u64>, NodeError> {
    let text: String = redis::cmd("INFO")
        .arg("keyspace")
        .query_async(conn)
        .await
        .map_err(command_error(addr, "INFO"))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let (db, rest) = line.trim().split_once(':')?;
            let db: u32 = db.strip_prefix("db")?.parse().ok()?;
            let keys = rest.split(',').find_map(|f| f.strip_prefix("keys="))?;
            Some((db, keys.parse().ok()?))
        })
        .collect())
}

async fn select(
    conn: &mut MultiplexedConnection,
    addr: SocketAddr,
    db: u32,
) -> Result<(), NodeError> {
    redis::cmd("SELECT")
        .arg(db)
        .query_async::<()>(conn)
        .await
        .map_err(command_error(addr, "SELECT"))
}

/// Up to `limit` key names, and whether there were more.
async fn scan(
    conn: &mut MultiplexedConnection,
    addr: SocketAddr,
    limit: usize,
) -> Result<(Vec<String>, bool), NodeError> {
    let mut keys = Vec::new();
    let mut cursor: u64 = 0;
    loop {
        let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .map_err(command_error(addr, "SCAN"))?;
        keys.extend(batch);
        if keys.len() >= limit {
            keys.truncate(limit);
            return Ok((keys, next != 0));
        }
        if next == 0 {
            return Ok((keys, false));
        }
        cursor = next;
    }
}

/// The keys of `keys` whose serialized values differ between the sides.
async fn differ(
    p: &mut MultiplexedConnection,
    p_addr: SocketAddr,
    s: &mut MultiplexedConnection,
    s_addr: SocketAddr,
    keys: &[String],
) -> Result<Vec<String>, NodeError> {
    let dumps = |conn: &mut MultiplexedConnection, addr: SocketAddr| {
        let mut pipe = redis::pipe();
        for key in keys {
            pipe.cmd("DUMP").arg(key);
        }
        let conn = conn.clone();
        async move {
            let mut conn = conn;
            pipe.query_async::<Vec<Option<Vec<u8>>>>(&mut conn)
                .await
                .map_err(|e| NodeError::Command {
                    addr,
                    command: "DUMP",
                    // One line, not one per key of the batch.
                    source: redis::RedisError::from((
                        e.kind(),
                        "DUMP of a batch of keys failed",
                        e.code().unwrap_or("no error code").to_owned(),
                    )),
                })
        }
    };
    let (ours, theirs) = futures::try_join!(dumps(p, p_addr), dumps(s, s_addr))?;
    Ok(keys
        .iter()
        .zip(ours.iter().zip(&theirs))
        .filter(|(_, (a, b))| a != b)
        .map(|(key, _)| key.clone())
        .collect())
}
