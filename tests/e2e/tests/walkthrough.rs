//! The console's whole geo-replication workflow, as a user walks it: the
//! built console (`$GEOREP_DIST`), the real `georep-server --demo`, real
//! Redis nodes, headless Chromium through WebDriver. A screenshot is saved
//! at every step, at 1280×800 and again at 390×844 (`NN-step-phone.png`),
//! into `target/e2e-screenshots/`, or `$GEOREP_SCREENSHOTS_DIR` (the README's
//! are taken with `GEOREP_SCREENSHOTS_DIR=docs/screenshots`).
//!
//! 1. open the login URL: the demo caches are listed, the token leaves the
//!    address bar;
//! 2. pick a region on the map: the list is filtered; pick it again: not;
//! 3. a firewall rule added to a Premium cache through the API, then its
//!    geo-replication page → "Add cache replication link": incompatible
//!    caches, each with its reasons in words;
//! 4. link a compatible pair through the wizard (the confirmation warns that
//!    the secondary's data is removed and that the primary has firewall
//!    rules): `Creating`, then `Succeeded`;
//! 5. the primary's Overview: its role, the address and `rediss://`
//!    connection string applications use, the CA it offers for download,
//!    and its nodes, the one marked primary being the one `INFO
//!    replication` calls master;
//! 6. the endpoints panel; a write through the geo-primary endpoint is read
//!    back from the geo-secondary;
//! 7. the dashboard: the link's card, its figures agreeing with what the
//!    two caches' `INFO replication` says, and the map marking the pair's
//!    two regions only;
//! 8. a planned failover from the UI (its checklist sees the two caches'
//!    firewall rules differ): the current primary and secondary swap, the
//!    geo-primary URLs stay;
//! 9. unlink from the UI: both caches unlinked, the secondary writable.
//!
//! And the cache list once more, on a phone-sized screen.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use georep_e2e::console::{Console, Endpoints, UI};
use georep_e2e::screenshots::{self, Screenshots};
use georep_e2e::server::{Cache, Server};
use georep_testkit::browser::{Browser, PHONE};
use georep_testkit::paths;
use georep_testkit::redis_client::RedisClient;
use georep_testkit::wait::{self, Poll};

/// The demo pair the walkthrough links: both Premium P1, so it can fail over.
const PRIMARY: &str = "orders-weu";
const SECONDARY: &str = "orders-neu";
/// A region on the map with two demo caches and no near neighbour: its
/// ARM name, its display name, its caches.
const REGION: &str = "eastus";
const REGION_NAME: &str = "East US";
/// The linked pair's regions, as the dashboard's map marks them (sorted).
const PAIR_REGIONS: [&str; 2] = ["northeurope", "westeurope"];
const IN_REGION: [&str; 2] = ["catalog-std", "sessions-eus"];

/// What the walkthrough writes through the geo-primary endpoint.
const KEY: &str = "walkthrough";
const VALUE: &[u8] = b"written through the geo-primary URL";

/// Linking runs a full sync; a failover runs two role changes.
const LINKING: Duration = Duration::from_secs(180);
const FAILOVER: Duration = Duration::from_secs(180);
/// Replication to the secondary.
const REPLICATION: Duration = Duration::from_secs(30);

/// The data the primary holds before linking, so the full sync has
/// something to move and its progress shows: 48 MiB.
const PRELOAD: (usize, usize) = (768, 64 * 1024);

/// What the steps share.
struct Walkthrough {
    server: Server,
    console: Console,
    primary: Cache,
    secondary: Cache,
}

#[tokio::test(flavor = "current_thread")]
async fn a_user_links_fails_over_and_unlinks_two_caches_in_the_console() {
    let dist = paths::dist_dir();
    let server = Server::start(&dist);
    let fleet = server.wait_for_fleet().await;
    let (browser, console) =
        Console::launch(Screenshots::new(screenshots::screenshots_dir())).await;
    let console = console.with_phone_screenshots();
    let mut walk = Walkthrough {
        primary: server.cache(PRIMARY).await,
        secondary: server.cache(SECONDARY).await,
        server,
        console,
    };

    let outcome = AssertUnwindSafe(async {
        walk.step_1_open_the_login_url(&fleet).await;
        walk.step_2_filter_by_region().await;
        walk.step_3_see_why_caches_are_incompatible().await;
        walk.step_4_link_a_compatible_pair().await;
        walk.step_5_see_the_primary_s_overview().await;
        let endpoints = walk.step_6_write_through_the_geo_primary_endpoint().await;
        walk.step_7_watch_the_link_on_the_dashboard().await;
        walk.step_8_fail_over(&endpoints).await;
        walk.step_9_unlink().await;
        walk.the_cache_list_on_a_phone(&browser).await;
    })
    .catch_unwind()
    .await;

    if let Err(panic) = outcome {
        walk.console.screenshot_failure().await;
        browser.close().await;
        std::panic::resume_unwind(panic);
    }
    browser.close().await;
    walk.server.shutdown();
}

impl Walkthrough {
    async fn step_1_open_the_login_url(&mut self, fleet: &[Cache]) {
        let console = &mut self.console;
        console.open(&self.server.login_url()).await;

        let expected: BTreeSet<&str> = fleet.iter().map(|c| c.name.as_str()).collect();
        let rows = console
            .cache_rows_until("every demo cache in the list", |rows| {
                rows.iter()
                    .map(|r| r.name.as_str())
                    .collect::<BTreeSet<_>>()
                    == expected
            })
            .await;
        assert!(
            rows.iter().all(|r| r.geo == "Not linked"),
            "no demo cache is linked yet: {rows:?}"
        );

        let address = console.address_bar().await;
        assert!(
            !address.contains("token"),
            "the token left the address bar: {address}"
        );
        assert_eq!(address, format!("{}/", self.server.base()));
        console.screenshot("cache-list").await;
    }

    async fn step_2_filter_by_region(&mut self) {
        let console = &mut self.console;
        let all = console.cache_rows(IN_REGION.len() + 1).await.len();
        console.click_region(REGION, true).await;
        let rows = console
            .cache_rows_until(&format!("only {REGION_NAME}'s caches"), |rows| {
                rows.len() == IN_REGION.len()
            })
            .await;
        let names: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, BTreeSet::from(IN_REGION));
        assert!(rows.iter().all(|r| r.location == REGION_NAME), "{rows:?}");
        let caption = console.map_filter_caption().await;
        assert!(
            caption.contains(&format!("Showing {REGION_NAME}")),
            "the map says what it filters: {caption:?}"
        );
        console.screenshot("region-filter").await;

        // A second click on the region clears the filter.
        console.click_region(REGION, false).await;
        console
            .cache_rows_until("every cache again", |rows| rows.len() == all)
            .await;
    }

    async fn step_3_see_why_caches_are_incompatible(&mut self) {
        // A firewall rule on the primary, letting the secondary in, made
        // after the console's first load: the fleet's loads fetch the rules
        // of linked caches only, so the wizard must ask for the primary's.
        let secondary_ip = self.secondary.address.split(':').next().unwrap_or_default();
        self.server
            .add_firewall_rule(&self.primary, "allow_orders_neu", secondary_ip)
            .await;
        let console = &mut self.console;
        console.open_geo_replication(PRIMARY).await;
        console.wait_for_no_link().await;
        console.add_cache_replication_link().await;

        let candidates = console.candidates().await;
        assert!(
            candidates.compatible.contains_key(SECONDARY),
            "{SECONDARY} is compatible: {candidates:?}"
        );
        assert!(
            !candidates.incompatible.is_empty(),
            "the demo has incompatible caches"
        );
        for (name, reasons) in &candidates.incompatible {
            assert!(!reasons.is_empty(), "{name} says why it is incompatible");
            for reason in reasons {
                assert!(
                    reason.starts_with(name.as_str()) && reason.ends_with('.'),
                    "{name}'s reason is a sentence about it: {reason:?}"
                );
            }
        }
        let reasons_of = |name: &str| candidates.incompatible[name].join(" ");
        for (name, words) in [
            ("legacy-v4", ["Redis 4", "same version"]),
            ("catalog-std", ["Standard", "Premium tier"]),
            ("orders-stg", ["subscription", "same"]),
        ] {
            let reasons = reasons_of(name);
            assert!(
                words.iter().all(|w| reasons.contains(w)),
                "{name}'s reasons mention {words:?}: {reasons}"
            );
        }
        console.scroll_to("li.incompatible").await;
        console.screenshot("incompatible-reasons").await;
    }

    async fn step_4_link_a_compatible_pair(&mut self) {
        // Data in the primary, so the full sync moves something and the
        // progress bar has bytes to show.
        let key = self.server.access_key(&self.primary).await;
        let primary = RedisClient::connect(&self.primary.address, &key)
            .await
            .expect("the primary answers");
        let (count, size) = PRELOAD;
        primary
            .fill("preload", count, size)
            .await
            .expect("the primary takes writes");

        let console = &mut self.console;
        console.choose_secondary(SECONDARY).await;
        let warnings = console.confirmation_warnings().await;
        let warning = |code: &str| {
            warnings
                .iter()
                .find(|w| w.code == code)
                .unwrap_or_else(|| panic!("the confirmation warns {code}: {warnings:?}"))
                .text
                .clone()
        };
        let removal = warning("SecondaryDataRemoved");
        assert!(
            removal.contains(&format!("All data in {SECONDARY} will be removed")),
            "{removal}"
        );
        let egress = warning("CrossRegionEgress");
        assert!(egress.contains("different regions"), "{egress}");
        let firewall = warning("FirewallRuleNeeded");
        assert!(
            firewall.contains(&format!("{PRIMARY} has firewall rules")),
            "{firewall}"
        );
        console.screenshot("confirm-link").await;

        console.record_link_statuses().await;
        console.confirm_link().await;
        console
            .wait_for_heading(&format!("{PRIMARY} | Geo-replication"))
            .await;
        let creating = console
            .link_row_until("the link to be Creating", LINKING, |row| {
                row.status == "Creating"
            })
            .await;
        let progress = creating.progress.unwrap_or_default();
        assert!(
            progress.starts_with("Full sync"),
            "a progress bar follows the full sync: {progress:?}"
        );
        console.screenshot("linking").await;
        let linked = console
            .link_row_until("the link to be Succeeded", LINKING, |row| {
                row.status == "Succeeded"
            })
            .await;
        assert_eq!(
            (linked.peer.as_str(), linked.role.as_str()),
            (SECONDARY, "Geo-secondary"),
            "{linked:?}"
        );
        let statuses = console.recorded_link_statuses().await;
        let creating_at = statuses.iter().position(|s| s == "Creating");
        let succeeded_at = statuses.iter().rposition(|s| s == "Succeeded");
        assert!(
            matches!((creating_at, succeeded_at), (Some(c), Some(s)) if c < s),
            "the link showed Creating, then Succeeded: {statuses:?}"
        );
        console.screenshot("linked").await;
    }

    async fn step_5_see_the_primary_s_overview(&mut self) {
        let console = &mut self.console;
        console.open_cache_tab("Overview", PRIMARY).await;
        let overview = console
            .overview_until("the primary's role and nodes", |o| {
                o.role == "Geo-primary (read-write)" && !o.nodes.is_empty()
            })
            .await;
        assert_eq!(overview.link_status, "Succeeded", "{overview:?}");
        let tls_address = &self.primary.tls_address;
        assert_eq!(&overview.address, tls_address, "the address clients use");
        assert_eq!(
            overview.connection_string,
            format!("rediss://:<access key>@{tls_address}")
        );
        // The CA download is a plain link: it answers without the token,
        // with the very certificate the cache's TLS port is signed by.
        let (status, pem) = self.server.download(&overview.ca_href).await;
        assert_eq!(
            (status, pem),
            (200, self.server.ca_pem()),
            "download ca.pem ({})",
            overview.ca_href
        );

        // Which node is primary is what the nodes themselves say now.
        let key = self.server.access_key(&self.primary).await;
        for node in &overview.nodes {
            let client = RedisClient::connect(&node.address, &key)
                .await
                .unwrap_or_else(|e| panic!("node {}: {e}", node.address));
            let info = client.info("replication").await.expect("INFO replication");
            let role = if node.primary { "master" } else { "slave" };
            assert_eq!(
                info.get("role"),
                Some(role),
                "{} is shown as {}",
                node.address,
                if node.primary { "primary" } else { "replica" }
            );
        }
        assert_eq!(
            overview.nodes.iter().filter(|n| n.primary).count(),
            1,
            "one primary node: {overview:?}"
        );
        console.scroll_to("ul.nodes").await;
        console.screenshot("overview").await;

        console
            .open_cache_tab("Geo-replication", &format!("{PRIMARY} | Geo-replication"))
            .await;
    }

    async fn step_6_write_through_the_geo_primary_endpoint(&mut self) -> Endpoints {
        let console = &mut self.console;
        let endpoints = console
            .endpoints_until("the endpoints of the pair", |e| e.geo_primary.len() == 2)
            .await;
        assert_eq!(
            endpoints.current_primary,
            (PRIMARY.to_owned(), self.primary.tls_address.clone())
        );
        assert_eq!(
            endpoints.current_secondary,
            (SECONDARY.to_owned(), self.secondary.tls_address.clone())
        );
        let geo_url = endpoints.geo_primary[PRIMARY].clone();
        assert_ne!(
            geo_url, self.primary.tls_address,
            "the geo-primary URL is an endpoint of its own"
        );
        console.scroll_to("dl.endpoints").await;
        console.screenshot("endpoints").await;

        let primary_cache_key = self.server.access_key(&self.primary).await;
        let secondary_cache_key = self.server.access_key(&self.secondary).await;
        // As an application does: over TLS, to the address shown.
        let geo = self.server.connect_tls(&geo_url, &primary_cache_key).await;
        geo.set(KEY, VALUE)
            .await
            .expect("the geo-primary endpoint takes writes");

        let secondary = self
            .server
            .connect_tls(&endpoints.current_secondary.1, &secondary_cache_key)
            .await;
        read_back(&secondary, KEY, VALUE).await;
        let refused = secondary.set(KEY, b"not here").await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.code() == Some("READONLY")),
            "the geo-secondary refuses writes: {refused:?}"
        );
        endpoints
    }

    async fn step_7_watch_the_link_on_the_dashboard(&mut self) {
        let console = &mut self.console;
        console.open_dashboard().await;
        let title = format!("{PRIMARY} ⇄ {SECONDARY}");
        // Nothing is being written, so the secondary has caught up; the full
        // sync of step 4 ran within the figures' last 5 minutes.
        let dashboard = console
            .dashboard_until("the link's card with its figures", |d| {
                d.cards.iter().any(|c| {
                    c.title == title
                        && c.figure("Data sync offset") == "0 B"
                        && c.figure("Full syncs started / finished") == "1 / 1"
                })
            })
            .await;
        assert_eq!(dashboard.cards.len(), 1, "one link: {dashboard:?}");
        let card = &dashboard.cards[0];
        assert_eq!(card.badges, ["Succeeded", "Healthy"], "{card:?}");
        for side in ["Healthy, from the primary", "Healthy, from the secondary"] {
            assert_eq!(card.figure(side), "Healthy", "{side}: {card:?}");
        }
        assert_eq!(
            dashboard.regions, PAIR_REGIONS,
            "the map marks the linked caches' regions only"
        );

        // What the card shows is what the caches say now: the secondary has
        // every byte the primary has, but for at most one replication PING
        // (the guide's 14 bytes) sent since the card's sample.
        let primary = self
            .server
            .connect_tls(
                &self.primary.tls_address,
                &self.server.access_key(&self.primary).await,
            )
            .await;
        let secondary = self
            .server
            .connect_tls(
                &self.secondary.tls_address,
                &self.server.access_key(&self.secondary).await,
            )
            .await;
        let sent = offset(&primary, "master_repl_offset").await;
        let received = offset(&secondary, "slave_repl_offset").await;
        assert!(
            sent.abs_diff(received) <= 14,
            "INFO replication: the primary sent {sent} bytes, the secondary has {received}"
        );
        console.screenshot("dashboard").await;

        console.open_link_from_dashboard(&title).await;
        console
            .wait_for_heading(&format!("{PRIMARY} | Geo-replication"))
            .await;
    }

    async fn step_8_fail_over(&mut self, before: &Endpoints) {
        let console = &mut self.console;
        let dialog = console.open_failover().await;
        assert_eq!(dialog.checklist.len(), 3, "{dialog:?}");
        for item in ["Firewall", "port and TLS", "Access keys"] {
            assert!(
                dialog.checklist.iter().any(|c| c.contains(item)),
                "the checklist covers {item}: {:?}",
                dialog.checklist
            );
        }
        // Nothing is being written, so the live offset falls below the
        // guide's 14 bytes (its first samples may still hold the full sync);
        // the access keys are compared in the background.
        let dialog = console
            .dialog_until("the offset and the checklist to be ready", UI, |d| {
                let ready = d
                    .offset
                    .as_deref()
                    .is_some_and(|o| o.contains("Ready: fewer than 14 bytes remain"));
                ready && d.checklist.iter().all(|c| !c.contains('…'))
            })
            .await;
        // The linked pair's rules are in the fleet's loads: the primary has
        // the one rule step 3 added, the secondary none.
        assert!(
            dialog
                .checklist
                .iter()
                .any(|c| c.contains("Firewall") && c.contains("they differ")),
            "the checklist compares the two caches' rules: {:?}",
            dialog.checklist
        );
        assert!(
            dialog
                .checklist
                .iter()
                .any(|c| c.contains("different access keys")),
            "the demo caches have keys of their own: {:?}",
            dialog.checklist
        );
        console.choose_planned_failover().await;
        console.screenshot("failover-dialog").await;

        console.fail_over().await;
        // The dialog follows the failover live: Deleting, Creating, Done.
        let done = console
            .dialog_until("the failover's steps to be done", FAILOVER, |d| {
                d.done_steps == ["Deleting", "Creating", "Done"]
            })
            .await;
        let status = done.status.unwrap_or_default();
        assert!(
            status.starts_with("Failover complete")
                && status.contains(&format!("{SECONDARY} is the geo-primary")),
            "the dialog says the roles swapped: {status:?}"
        );
        console.screenshot("failover-complete").await;
        console.close_dialog().await;

        let after = console
            .endpoints_until("the endpoints to swap", |e| {
                e.current_primary.0 == SECONDARY
            })
            .await;
        assert_eq!(after.current_primary, before.current_secondary);
        assert_eq!(after.current_secondary, before.current_primary);
        assert_eq!(
            after.geo_primary, before.geo_primary,
            "the geo-primary URLs stay"
        );
        console
            .link_row_until("the link to settle", FAILOVER, |row| {
                row.status == "Succeeded" && row.role == "Geo-primary"
            })
            .await;
        console.scroll_to("dl.endpoints").await;
        console.screenshot("endpoints-swapped").await;

        // The geo-primary URL now reaches the new primary, with the data of
        // the old one (a planned failover loses nothing).
        let new_primary_key = self.server.access_key(&self.secondary).await;
        let geo = self
            .server
            .connect_tls(&after.geo_primary[PRIMARY], &new_primary_key)
            .await;
        read_back(&geo, KEY, VALUE).await;
        assert_eq!(geo.role().await.expect("ROLE"), "master");
    }

    async fn step_9_unlink(&mut self) {
        let console = &mut self.console;
        let dialog = console.unlink().await;
        assert!(
            dialog.text.contains("accepts reads and writes"),
            "the confirmation says what unlinking does: {}",
            dialog.text
        );
        console.wait_for_no_link().await;
        console.back_to_cache_list().await;
        let rows = console
            .cache_rows_until("both caches to show unlinked", |rows| {
                [PRIMARY, SECONDARY].iter().all(|name| {
                    rows.iter()
                        .any(|r| r.name == *name && r.geo == "Not linked")
                })
            })
            .await;
        assert!(rows.iter().all(|r| r.geo == "Not linked"), "{rows:?}");
        console
            .scroll_to(&format!("tr[data-cache='{PRIMARY}']"))
            .await;
        console.screenshot("unlinked").await;

        // The secondary when unlinked (the old primary, after the failover)
        // takes writes again and kept the replicated data.
        let key = self.server.access_key(&self.primary).await;
        let former_secondary = RedisClient::connect(&self.primary.address, &key)
            .await
            .expect("the former geo-secondary answers");
        assert_eq!(
            former_secondary.get(KEY).await.expect("GET"),
            Some(VALUE.to_vec())
        );
        former_secondary
            .set(KEY, b"writable again")
            .await
            .expect("the former geo-secondary takes writes");
    }

    async fn the_cache_list_on_a_phone(&mut self, browser: &Browser) {
        browser
            .set_viewport(PHONE)
            .await
            .expect("the phone viewport");
        // A reload keeps the session: the token lives on in session storage.
        self.console.reload().await;
        // Every screenshot is taken at this size too; this step checks that
        // the list still reads after a reload on a phone.
        let rows = self.console.cache_rows(2).await;
        assert!(rows.iter().any(|r| r.name == PRIMARY), "{rows:?}");
    }
}

/// The replication offset `field` of `client`'s `INFO replication`.
async fn offset(client: &RedisClient, field: &str) -> u64 {
    let info = client.info("replication").await.expect("INFO replication");
    info.number(field)
        .unwrap_or_else(|| panic!("{field} in INFO replication of {}", client.address()))
}

/// Waits until `key` reads `value` on `client` (replication is asynchronous).
async fn read_back(client: &RedisClient, key: &str, value: &[u8]) {
    let address = client.address().to_owned();
    wait::until(
        &format!("{key} to read back on {address}"),
        REPLICATION,
        || async {
            match client.get(key).await {
                Ok(Some(v)) if v == value => Poll::Ready(()),
                other => Poll::Pending(format!("{other:?}")),
            }
        },
    )
    .await;
}
