//! Planned and forced geo-failover against real `redis-server` processes.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use georep_server::dataplane::node::listen;
use georep_server::dataplane::node::{self, Role};
use georep_server::dataplane::replication::{self, ReplicationError};
use georep_server::dataplane::sampler::{
    LinkNodes, MetricsQuery, Sample, Sampler, SamplerConfig, SamplerError,
};
use redis::aio::MultiplexedConnection;
use redis::AsyncCommands;

async fn sync_full(addr: SocketAddr) -> u64 {
    node::info(addr, INTERNAL, &["stats"])
        .await
        .unwrap()
        .sync_full()
        .unwrap()
}

/// Moves the address `geo` from the node `from` to the node `to`, as the
/// fleet does on a failover.
async fn move_address(geo: std::net::Ipv4Addr, from: SocketAddr, to: SocketAddr) {
    let mut from_conn = node::connect(from, INTERNAL).await.unwrap();
    let mut to_conn = node::connect(to, INTERNAL).await.unwrap();
    listen::move_address(geo, (&mut from_conn, from), (&mut to_conn, to))
        .await
        .unwrap();
}

async fn role(addr: SocketAddr) -> Role {
    node::info(addr, INTERNAL, &["replication"])
        .await
        .unwrap()
        .role()
        .unwrap()
}

/// Waits for `key` to reach the node behind `client` (the old primary,
/// resyncing from the new one); returns its value.
async fn resynced(client: &MultiplexedConnection, key: &str) -> u64 {
    eventually("the old primary to resync", Duration::from_secs(10), || {
        let mut client = client.clone();
        async move { client.get::<_, Option<u64>>(key).await.ok().flatten() }
    })
    .await
}

#[tokio::test]
async fn planned_failover_loses_no_acknowledged_write_and_resyncs_partially() {
    let (a, b) = linked_pair().await;
    let (full_a, full_b) = (sync_full(a.addr()).await, sync_full(b.addr()).await);

    let stop = Arc::new(AtomicBool::new(false));
    // Straight to the primary: it stops at the first refused write.
    let target = a.addr();
    let writes = writer(
        move || app_client(target, KEY1),
        OnFailure::Stop,
        stop.clone(),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    let report = replication::planned_failover(
        &[a.addr()],
        &[b.addr()],
        &internal(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    stop.store(true, Ordering::Relaxed);
    let acked = writes.await.unwrap().acked;
    assert!(!acked.is_empty(), "the writer never got going");

    assert_eq!(report.shards.len(), 1);
    assert!(report.all_partial(), "{report:?}");
    assert_eq!(report.shards[0].new_primary, b.addr());
    assert_eq!(role(a.addr()).await, Role::Replica);
    assert_eq!(role(b.addr()).await, Role::Primary);
    // Partial resync: neither node served a full sync.
    assert_eq!(sync_full(a.addr()).await, full_a);
    assert_eq!(sync_full(b.addr()).await, full_b);

    assert_all_present(&mut b.client(KEY1).await, &acked, &b.addr().to_string()).await;
    // The new primary takes writes; the old one refuses them.
    let _: () = b.client(KEY1).await.set("after", 1).await.unwrap();
    let err = a
        .client(KEY1)
        .await
        .set::<_, _, ()>("after", 2)
        .await
        .unwrap_err();
    assert_eq!(error_text(&err), READONLY);

    // And back again: roles swap once more, still without a full sync.
    let back = replication::planned_failover(
        &[b.addr()],
        &[a.addr()],
        &internal(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert!(back.all_partial());
    assert_eq!(role(a.addr()).await, Role::Primary);
    assert_eq!(sync_full(a.addr()).await, full_a);
    assert_eq!(sync_full(b.addr()).await, full_b);
    let after: u64 = a.client(KEY1).await.get("after").await.unwrap();
    assert_eq!(after, 1);
}

/// The geo-primary URL is an address of its own that the primary's
/// `redis-server` listens on; each failover moves it as the fleet does.
#[tokio::test]
async fn twenty_planned_failovers_through_a_moving_address_lose_nothing() {
    let (a, b) = linked_pair().await;
    let full = (sync_full(a.addr()).await, sync_full(b.addr()).await);
    let geo = free_addr();
    move_address(geo, b.addr(), a.addr()).await;
    let stop = Arc::new(AtomicBool::new(false));
    // Through the moving address, connecting again whenever a write fails.
    let through = SocketAddr::from((geo, 6379));
    let writes = writer(
        move || app_client(through, KEY1),
        OnFailure::Reconnect,
        stop.clone(),
    );

    let (mut primary, mut secondary) = (a.addr(), b.addr());
    for round in 0..20 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let report = replication::planned_failover(
            &[primary],
            &[secondary],
            &internal(),
            Duration::from_secs(5),
        )
        .await
        .unwrap_or_else(|e| panic!("round {round}: {e}"));
        assert!(report.all_partial(), "round {round}: {report:?}");
        move_address(geo, primary, secondary).await;
        std::mem::swap(&mut primary, &mut secondary);
        assert_eq!(role(primary).await, Role::Primary, "round {round}");
        assert_eq!(role(secondary).await, Role::Replica, "round {round}");
        // The address reaches the primary, served by its own process.
        let mut conn = app_client(through, KEY1).await.unwrap();
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert!(info.contains("role:master"), "round {round}: {info}");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, Ordering::Relaxed);
    let acked = writes.await.unwrap().acked;

    // Twenty swaps end where they began.
    assert_eq!(primary, a.addr());
    assert!(acked.len() > 20, "only {} writes went through", acked.len());
    assert_all_present(
        &mut app_client(primary, KEY1).await.unwrap(),
        &acked,
        &primary.to_string(),
    )
    .await;
    // Partial resyncs only.
    assert_eq!((sync_full(a.addr()).await, sync_full(b.addr()).await), full);
}

#[tokio::test]
async fn planned_failover_needs_a_streaming_secondary() {
    let a = TestNode::start().await;
    let b = TestNode::start().await;
    let err = replication::planned_failover(
        &[a.addr()],
        &[b.addr()],
        &internal(),
        Duration::from_secs(1),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, ReplicationError::NotReplicaOf { .. }),
        "{err}"
    );
    assert_eq!(role(a.addr()).await, Role::Primary);
    assert_eq!(role(b.addr()).await, Role::Primary);
}

/// Holds back the secondary's replication: with writes paused, a replica
/// reads its primary's stream but does not apply it, so its offset lags.
async fn stall_replication(node: &TestNode) {
    let mut control = node.node().connect().await.unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(10_000)
        .arg("WRITE")
        .query_async(&mut control)
        .await
        .unwrap();
}

async fn resume_replication(node: &TestNode) {
    let mut control = node.node().connect().await.unwrap();
    let _: () = redis::cmd("CLIENT")
        .arg("UNPAUSE")
        .query_async(&mut control)
        .await
        .unwrap();
}

#[tokio::test]
async fn planned_failover_gives_up_when_the_secondary_cannot_catch_up() {
    let (a, b) = linked_pair().await;
    stall_replication(&b).await;
    let mut client = a.client(KEY1).await;
    let _: () = client.set("unreplicated", 1).await.unwrap();

    let result = replication::planned_failover(
        &[a.addr()],
        &[b.addr()],
        &internal(),
        Duration::from_millis(300),
    )
    .await;
    resume_replication(&b).await;

    let err = result.unwrap_err();
    assert!(
        matches!(err, ReplicationError::FailoverFailed { .. }),
        "{err}"
    );
    // Nothing changed: the primary is still the primary and takes writes.
    assert_eq!(role(a.addr()).await, Role::Primary);
    let _: () = client.set("still-writable", 1).await.unwrap();
    let b_info = node::info(b.addr(), INTERNAL, &["replication"])
        .await
        .unwrap();
    assert!(b_info.is_replica_of(a.addr()));
}

#[tokio::test]
async fn forced_failover_after_the_primary_is_killed() {
    let (mut a, b) = linked_pair().await;
    let mut client = a.client(KEY1).await;
    fill(&mut client, "before", 200, 16).await;
    // Let the secondary catch up, then remember the primary's offset, as the
    // sampler would have.
    let offset = eventually(
        "the secondary to catch up",
        Duration::from_secs(10),
        || async {
            let p = node::info(a.addr(), INTERNAL, &["replication"])
                .await
                .ok()?;
            let s = node::info(b.addr(), INTERNAL, &["replication"])
                .await
                .ok()?;
            (p.master_repl_offset() == s.slave_repl_offset()).then(|| p.master_repl_offset())?
        },
    )
    .await;

    a.kill9().await;
    let report =
        replication::forced_failover(&[a.addr()], &[b.addr()], &internal(), &[Some(offset)])
            .await
            .unwrap();
    let shard = &report.shards[0];
    assert_eq!(shard.primary_offset, Some(offset));
    // The last sample is a lower bound of what the dead primary took: it
    // can't bound the loss, so the loss is unknown rather than understated.
    assert_eq!(shard.bytes_maybe_lost, None, "{report:?}");
    assert!(!report.loss_is_known());
    assert_eq!(report.pending_rejoin(), vec![0]);

    // The new primary has everything and takes writes.
    let mut b_client = b.client(KEY1).await;
    let value: String = b_client.get("before:199").await.unwrap();
    assert_eq!(value.len(), 16);
    let _: () = b_client.set("after-forced", 1).await.unwrap();

    // The old primary comes back (empty, as a restarted cache does) and rejoins.
    a.restart(None).await;
    let rejoined = replication::rejoin(&[a.addr()], &[b.addr()], &internal())
        .await
        .unwrap();
    assert_eq!(rejoined, vec![true]);
    let mut a_client = a.client(KEY1).await;
    let value = resynced(&a_client, "after-forced").await;
    assert_eq!(value, 1);
    let err = a_client.set::<_, _, ()>("x", 1).await.unwrap_err();
    assert_eq!(error_text(&err), READONLY);
}

#[tokio::test]
async fn forced_failover_reports_loss_and_demotes_a_reachable_primary() {
    let (a, b) = linked_pair().await;
    // A write the secondary receives but never applies before its promotion.
    stall_replication(&b).await;
    let mut client = a.client(KEY1).await;
    let _: () = client.set("lost", "x".repeat(100)).await.unwrap();

    let report = replication::forced_failover(&[a.addr()], &[b.addr()], &internal(), &[])
        .await
        .unwrap();
    resume_replication(&b).await;

    let shard = &report.shards[0];
    let lost = shard.bytes_maybe_lost.unwrap();
    assert!(lost > 100, "the unreplicated SET must count: {report:?}");
    assert!(shard.old_primary_rejoined);
    assert_eq!(role(b.addr()).await, Role::Primary);
    let a_info = node::info(a.addr(), INTERNAL, &["replication"])
        .await
        .unwrap();
    assert!(a_info.is_replica_of(b.addr()));
    // The lost write is really gone, on both sides once the old primary resyncs.
    let mut b_client = b.client(KEY1).await;
    let _: () = b_client.set("marker", 1).await.unwrap();
    let mut a_client = a.client(KEY1).await;
    resynced(&a_client, "marker").await;
    let lost: Option<String> = a_client.get("lost").await.unwrap();
    assert_eq!(lost, None);
}

// ---------------------------------------------------------------- metrics

/// Ticks the sampler until `link`'s latest sample satisfies `wanted`.
async fn tick_until(
    sampler: &Sampler,
    link: &str,
    what: &str,
    wanted: impl Fn(&Sample) -> bool,
) -> Sample {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        sampler.tick().await;
        let sample = sampler.latest(link).unwrap();
        if wanted(&sample) {
            return sample;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never saw {what}: {sample:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn metrics_follow_the_loss_and_return_of_the_primary() {
    let mut primary = TestNode::start().await;
    let secondary = TestNode::start().await;
    fill(&mut primary.client(KEY1).await, "k", 500, 100).await;
    let sampler = Sampler::new(&internal(), SamplerConfig::default());
    let mut events = sampler.subscribe();
    let nodes = LinkNodes {
        primary: vec![primary.addr()],
        secondary: vec![secondary.addr()],
    };

    // Registered before linking: not healthy yet, and the full sync to come is counted.
    let first = sampler.register("pair", nodes.clone()).await.unwrap();
    assert!(!first.healthy);
    assert!(first.primary_reachable && first.secondary_reachable);
    replication::link(&nodes.primary, &nodes.secondary, &internal())
        .await
        .unwrap();
    let healthy = tick_until(&sampler, "pair", "a healthy link", |s| s.healthy).await;
    assert!(healthy.connectivity_lag_seconds <= 1.0, "{healthy:?}");
    let history = sampler.history("pair").unwrap();
    let started: u64 = history.iter().map(|s| s.full_sync_started).sum();
    let finished: u64 = history.iter().map(|s| s.full_sync_finished).sum();
    assert_eq!((started, finished), (1, 1), "{history:?}");
    let _: () = primary
        .client(KEY1)
        .await
        .set("after-link", 1)
        .await
        .unwrap();
    // Caught up.
    let synced = tick_until(&sampler, "pair", "the offsets to meet", |s| {
        s.data_sync_offset_bytes == 0
    })
    .await;
    assert!(synced.healthy);

    // kill -9 the primary: unhealthy within two samples, and the lag keeps rising.
    primary.kill9().await;
    sampler.tick().await;
    let one = sampler.latest("pair").unwrap();
    sampler.tick().await;
    let two = sampler.latest("pair").unwrap();
    assert!(
        !one.healthy || !two.healthy,
        "still healthy after two samples"
    );
    assert!(!two.healthy);
    assert!(!two.primary_reachable);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    sampler.tick().await;
    let three = sampler.latest("pair").unwrap();
    assert!(!three.healthy);
    assert!(
        three.connectivity_lag_seconds > two.connectivity_lag_seconds,
        "{two:?} then {three:?}"
    );
    // The forced-failover offsets remember the dead primary's last offset.
    let offsets = sampler.last_primary_offsets("pair").unwrap();
    assert!(offsets[0].is_some_and(|o| o > 0));

    // The node comes back (empty, as a restarted cache does): the secondary
    // resyncs in full and the link is healthy again.
    primary.restart(None).await;
    let back = tick_until(&sampler, "pair", "the link to recover", |s| s.healthy).await;
    assert!(back.primary_reachable);
    let history = sampler.history("pair").unwrap();
    let started: u64 = history.iter().map(|s| s.full_sync_started).sum();
    assert!(started >= 2, "the resync after the restart was not counted");

    // The live stream carried the samples, with both health changes marked.
    let mut changes = Vec::new();
    while let Ok(event) = events.try_recv() {
        assert_eq!(event.link, "pair");
        if event.health_changed {
            changes.push(event.sample.healthy);
        }
    }
    assert_eq!(changes, vec![true, false, true]);

    // And Azure Monitor's view of it, second by second.
    let query = MetricsQuery::parse(
        Some("GeoReplicationHealthy,GeoReplicationConnectivityLag"),
        None,
        Some("PT1S"),
        Some("minimum,maximum"),
        time::OffsetDateTime::now_utc() + time::Duration::seconds(2),
    )
    .unwrap();
    let response = sampler
        .query(
            "pair",
            &query,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a",
            "westeurope",
        )
        .unwrap();
    let points = &response.value[0].timeseries[0].data;
    assert!(points.iter().any(|p| p.minimum == Some(0.0)));
    assert!(points.iter().any(|p| p.maximum == Some(1.0)));
    assert_eq!(response.value[1].unit, "Seconds");
    assert!(matches!(
        sampler.query("nope", &query, "/r", "westeurope"),
        Err(SamplerError::UnknownLink(_))
    ));
}

#[tokio::test]
async fn metrics_continue_across_a_planned_failover() {
    let (a, b) = linked_pair().await;
    let sampler = Sampler::new(&internal(), SamplerConfig::default());
    let forward = LinkNodes {
        primary: vec![a.addr()],
        secondary: vec![b.addr()],
    };
    assert!(sampler.register("pair", forward).await.unwrap().healthy);

    replication::planned_failover(
        &[a.addr()],
        &[b.addr()],
        &internal(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    // Before the sampler learns of the swap, the link looks wrong way round.
    sampler.tick().await;
    assert!(!sampler.latest("pair").unwrap().healthy);
    let swapped = LinkNodes {
        primary: vec![b.addr()],
        secondary: vec![a.addr()],
    };
    let after = sampler.register("pair", swapped).await.unwrap();
    assert!(after.healthy, "{after:?}");
    assert_eq!(after.full_sync_started, 0);
    assert_eq!(sampler.history("pair").unwrap().len(), 3);

    assert!(sampler.unregister("pair"));
    assert!(sampler.latest("pair").is_none());
    assert!(!sampler.unregister("pair"));
}

#[tokio::test]
async fn the_running_sampler_broadcasts_every_period() {
    let (a, b) = linked_pair().await;
    let sampler = Sampler::new(
        &internal(),
        SamplerConfig {
            period: Duration::from_millis(100),
            ..SamplerConfig::default()
        },
    );
    let mut events = sampler.subscribe();
    sampler
        .register(
            "pair",
            LinkNodes {
                primary: vec![a.addr()],
                secondary: vec![b.addr()],
            },
        )
        .await
        .unwrap();
    let running = sampler.spawn();
    for _ in 0..3 {
        let event = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("a sample")
            .unwrap();
        assert!(event.sample.healthy);
    }
    running.abort();
    assert!(matches!(
        sampler
            .register(
                "bad",
                LinkNodes {
                    primary: vec![a.addr()],
                    secondary: vec![]
                }
            )
            .await,
        Err(SamplerError::BadNodes { .. })
    ));
}
