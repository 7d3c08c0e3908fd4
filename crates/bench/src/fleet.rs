//! A fleet of 1,000 caches, created through the API, and the API's latency
//! over it: listing every cache of the subscription, and judging every
//! cache as a geo-secondary candidate, the two requests alternating.
//!
//! Every cache is real: each runs its own `redis-server` (two for the
//! Premium ones). An idle node costs about 3 MB of unshared memory, and a
//! Basic cache's node keeps house once a second, so a 1,000-cache fleet
//! fits this machine, and nothing about it is faked.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::arm::{Arm, Tier};
use crate::report::{Figure, Figures, Key};
use crate::say;
use crate::stats::percentile;

/// Caches in the fleet, counting the ones already there.
pub const SIZE: usize = 1000;
/// One cache in this many is Premium (a possible geo-secondary); the rest
/// are Basic, which the candidates list shows with their reasons.
const PREMIUM_EVERY: usize = 10;
/// The regions the fleet is spread over, unequally (see [`regions`]).
pub const REGIONS: [&str; 20] = [
    "westeurope",
    "northeurope",
    "uksouth",
    "francecentral",
    "germanywestcentral",
    "swedencentral",
    "eastus",
    "eastus2",
    "westus2",
    "centralus",
    "canadacentral",
    "brazilsouth",
    "southeastasia",
    "eastasia",
    "japaneast",
    "koreacentral",
    "australiaeast",
    "centralindia",
    "southafricanorth",
    "uaenorth",
];

/// The region of each of `count` caches, in the order they are created.
///
/// Region `k` of [`REGIONS`] gets a share proportional to
/// `REGIONS.len() - k` (over the fleet, about 95 caches down to 5), the
/// regions interleaved by smooth weighted round robin. Equal regions would
/// flatter the region filter: a click from one region to another would
/// never change the list's length, as it does in a real fleet, and with
/// it the page's height.
pub fn regions(count: usize) -> Vec<&'static str> {
    let weights: Vec<i64> = (1..=REGIONS.len() as i64).rev().collect();
    let total: i64 = weights.iter().sum();
    let mut credit = vec![0_i64; REGIONS.len()];
    (0..count)
        .map(|_| {
            for (c, w) in credit.iter_mut().zip(&weights) {
                *c += w;
            }
            // The first of the largest credits: `max_by_key` keeps the last.
            let next = (0..REGIONS.len())
                .rev()
                .max_by_key(|&k| credit[k])
                .unwrap_or(0);
            credit[next] -= total;
            REGIONS[next]
        })
        .collect()
}

/// The fewest and the most caches that [`regions`] puts in one region.
pub fn region_sizes(count: usize) -> (usize, usize) {
    let all = regions(count);
    let sizes = REGIONS.map(|r| all.iter().filter(|&&a| a == r).count());
    (
        sizes.iter().copied().min().unwrap_or(0),
        sizes.iter().copied().max().unwrap_or(0),
    )
}

/// The fleet cache whose candidates are judged (Premium, unlinked).
pub fn candidates_primary() -> String {
    name(0)
}

fn name(i: usize) -> String {
    format!("bench-{i:04}")
}

/// How creating the fleet went.
#[derive(Debug, Clone, PartialEq)]
pub struct Populated {
    /// From the first `PUT` until every cache had started or failed.
    pub took: Duration,
    /// The caches whose nodes did not start (they stay in the store, and in
    /// every list, as `Failed`).
    pub failed: Vec<String>,
}

/// Creates caches until the subscription holds [`SIZE`], and waits until
/// each of them runs or has failed.
pub async fn populate(server: &Arm, existing: usize) -> Result<Populated> {
    let started = Instant::now();
    let count = SIZE.saturating_sub(existing);
    say(format!(
        "    creating {count} caches through the API (every {PREMIUM_EVERY}th Premium, the rest Basic)"
    ));
    for (i, region) in regions(count).into_iter().enumerate() {
        let tier = if i % PREMIUM_EVERY == 0 {
            Tier::Premium
        } else {
            Tier::Basic
        };
        server.create_cache(&name(i), region, tier).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(1200);
    loop {
        let list = server.get(&server.list_path()).await?;
        let caches = list["value"].as_array().map_or(&[][..], Vec::as_slice);
        let state = |c: &serde_json::Value| c["properties"]["provisioningState"].clone();
        let settled = caches
            .iter()
            .filter(|c| state(c) == "Succeeded" || state(c) == "Failed")
            .count();
        if caches.len() >= SIZE && settled == caches.len() {
            let failed = caches
                .iter()
                .filter(|c| state(c) == "Failed")
                .filter_map(|c| c["name"].as_str().map(str::to_owned))
                .collect();
            return Ok(Populated {
                took: started.elapsed(),
                failed,
            });
        }
        if Instant::now() > deadline {
            bail!(
                "only {settled} of {} caches had started after 20 minutes",
                caches.len()
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The p99 latency of listing caches and of candidates, over `requests`
/// of each, alternating.
pub async fn api_latency(server: &Arm, requests: usize) -> Result<(Figures, String)> {
    let list = server.list_path();
    let candidates = server.candidates_path(&candidates_primary());
    // A few unmeasured requests first: connections, caches, allocator.
    for _ in 0..10 {
        server.timed_get(&list).await?;
        server.timed_get(&candidates).await?;
    }
    let mut list_ms = Vec::with_capacity(requests);
    let mut candidates_ms = Vec::with_capacity(requests);
    for _ in 0..requests {
        list_ms.push(server.timed_get(&list).await?.as_secs_f64() * 1000.0);
        candidates_ms.push(server.timed_get(&candidates).await?.as_secs_f64() * 1000.0);
    }
    let p = |samples: &[f64], q| percentile(samples, q).unwrap_or(f64::NAN);
    let note = format!(
        "API over {SIZE} caches, {requests} requests each: list p50 {:.1} ms, p99 {:.1} ms; candidates p50 {:.1} ms, p99 {:.1} ms",
        p(&list_ms, 50.0),
        p(&list_ms, 99.0),
        p(&candidates_ms, 50.0),
        p(&candidates_ms, 99.0),
    );
    Ok((
        vec![
            (
                Key::ApiListMsP99,
                Figure::from_option(percentile(&list_ms, 99.0), "no requests"),
            ),
            (
                Key::ApiCandidatesMsP99,
                Figure::from_option(percentile(&candidates_ms, 99.0), "no requests"),
            ),
        ],
        note,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_is_spread_unequally_over_every_region() {
        let all = regions(SIZE);
        assert_eq!(all.len(), SIZE);
        let (fewest, most) = region_sizes(SIZE);
        assert!(fewest >= 1, "a region is empty");
        assert!(most >= 10 * fewest, "{fewest} to {most}: nearly equal");
        // Interleaved: the first twenty caches are not all in one region.
        let first: std::collections::BTreeSet<_> = all[..20].iter().collect();
        assert!(first.len() > 5, "{first:?}");
    }
}
