//! The Drills view as a user walks it: the built console
//! (`$GEOREP_DIST`), the real `georep-server --demo`, real Redis nodes,
//! headless Chromium through WebDriver.
//!
//! 1. from a linked pair's geo-replication page to its Drills view;
//! 2. a planned drill from the form: it runs, then its report reads an
//!    RTO in milliseconds, no acknowledged write lost, and "Consistent";
//!    it is listed among the past drills;
//! 3. "Verify now": consistent, the same key counts on both sides;
//! 4. "Cut link" behind its warning: the cut is listed as active; a key
//!    written to the geo-primary meanwhile shows as a mismatch;
//! 5. "Restore link": the fault is gone, and verification is consistent
//!    again.
//!
//! Screenshots of the view at 1280×800 and 390×844 go to
//! `target/e2e-screenshots/drills/` (or `$GEOREP_SCREENSHOTS_DIR/drills`).

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use georep_e2e::console::Console;
use georep_e2e::screenshots::{self, Screenshots};
use georep_e2e::server::{Cache, Server};
use georep_testkit::browser::{Browser, PHONE};
use georep_testkit::paths;
use georep_testkit::redis_client::RedisClient;
use georep_testkit::wait::{self, Poll};

/// The demo pair: both Premium P1, so it can fail over.
const PRIMARY: &str = "orders-weu";
const SECONDARY: &str = "orders-neu";

/// Written to the geo-primary while the link is cut.
const WHILE_CUT: &str = "drills-e2e:written-while-cut";

/// A resync after the restore; a drill's writer, failover and failback.
const RESYNC: Duration = Duration::from_secs(90);
const DRILL: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "current_thread")]
async fn a_user_verifies_cuts_restores_and_drills_a_link_in_the_drills_view() {
    let dist = paths::dist_dir();
    let server = Server::start(&dist);
    server.wait_for_fleet().await;
    let primary = server.cache(PRIMARY).await;
    let secondary = server.cache(SECONDARY).await;
    server.link(&primary, &secondary).await;

    let (browser, mut console) = Console::launch(Screenshots::new(
        screenshots::screenshots_dir().join("drills"),
    ))
    .await;

    let outcome = AssertUnwindSafe(async {
        open_the_drills_view(&console, &server).await;
        run_a_planned_drill(&mut console).await;
        the_view_on_a_phone(&server, &primary).await;
        verify_cut_and_restore(&mut console, &server, &primary).await;
    })
    .catch_unwind()
    .await;

    if let Err(panic) = outcome {
        console.screenshot_failure().await;
        browser.close().await;
        std::panic::resume_unwind(panic);
    }
    browser.close().await;
    server.shutdown();
}

async fn open_the_drills_view(console: &Console, server: &Server) {
    console.open(&server.login_url()).await;
    console
        .cache_rows_until("the pair linked in the list", |rows| {
            rows.iter()
                .any(|r| r.name == PRIMARY && r.geo.contains("Succeeded"))
        })
        .await;
    console.open_geo_replication(PRIMARY).await;
    console.open_drills().await;
}

async fn verify_cut_and_restore(console: &mut Console, server: &Server, primary: &Cache) {
    let before = console.verify_now().await;
    assert!(before.consistent, "a fresh link is consistent: {before:?}");
    assert_eq!(before.verdict, "Consistent");
    assert_eq!(
        before.figures["keys-primary"], before.figures["keys-secondary"],
        "{before:?}"
    );
    assert!(before.mismatches.is_empty(), "{before:?}");

    let warning = console.inject_fault("Cut link", "Cut link").await;
    assert!(
        warning.contains(&format!("{SECONDARY} stops replicating {PRIMARY}"))
            && warning.contains("GeoReplicationHealthy falls to 0"),
        "the confirmation says what a cut does: {warning}"
    );
    console
        .active_faults_until("the cut to be listed as active", |kinds| {
            kinds == ["cut-link"]
        })
        .await;

    let key = server.access_key(primary).await;
    let client = RedisClient::connect(&primary.address, &key)
        .await
        .expect("the geo-primary accepts connections");
    client
        .set(WHILE_CUT, b"never reaches the secondary while cut")
        .await
        .expect("the geo-primary takes a write");
    let cut = console.verify_now().await;
    assert!(!cut.consistent, "a write the cut held back shows: {cut:?}");
    assert!(
        cut.mismatches.iter().any(|k| k == WHILE_CUT),
        "{WHILE_CUT} is listed as different: {cut:?}"
    );
    console.scroll_to(".drill-verify").await;
    console.screenshot("verification-while-cut").await;

    let warning = console.inject_fault("Restore link", "Restore link").await;
    assert!(
        warning.contains("partial resync") && warning.contains("full sync"),
        "the confirmation says how the link comes back: {warning}"
    );
    console
        .active_faults_until("no fault to be active", <[String]>::is_empty)
        .await;
    wait::until("verification to be consistent again", RESYNC, || async {
        let v = console.verify_now().await;
        if v.consistent {
            Poll::Ready(())
        } else {
            Poll::Pending(format!("{v:?}"))
        }
    })
    .await;
}

async fn run_a_planned_drill(console: &mut Console) {
    console.run_drill("planned", 3, true).await;
    console.live_status_until("Running", DRILL).await;
    console.scroll_to(".drill-live").await;
    console.screenshot("drill-running").await;

    let report = console.drill_report(DRILL).await;
    assert_eq!(report.status, "Succeeded", "{report:?}");
    assert_eq!(report.error, None, "{report:?}");
    let rto = &report.numbers["rto"];
    let ms: u64 = rto
        .strip_suffix(" ms")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the RTO reads in milliseconds: {rto:?}"));
    assert!(ms > 0, "a failover interrupts writes for a moment: {rto}");
    let rpo = &report.numbers["rpo"];
    assert!(
        rpo.starts_with("0 of ") && !rpo.starts_with("0 of 0 "),
        "a planned drill loses no acknowledged write: {rpo}"
    );
    let verification = report.verification.as_ref().expect("a verification");
    assert!(verification.consistent, "{report:?}");
    assert!(!report.steps.is_empty(), "the steps are listed: {report:?}");

    let past = console.past_drills().await;
    assert_eq!(past.len(), 1, "{past:?}");
    assert_eq!(past[0], ("Succeeded".to_owned(), rto.clone()), "{past:?}");
    console.scroll_to(".drill-report-card .drill-numbers").await;
    console.screenshot("drill-report").await;
}

/// The same view in a browser of its own on a phone-sized screen.
async fn the_view_on_a_phone(server: &Server, primary: &Cache) {
    let phone = Browser::launch().await.expect("headless Chromium starts");
    phone.set_viewport(PHONE).await.expect("the phone viewport");
    let mut console = Console::new(
        phone.client.clone(),
        Screenshots::new(screenshots::screenshots_dir().join("drills-phone")),
    );
    console.open(&server.login_url()).await;
    console.open_drills_at(server.base(), &primary.id).await;
    console.drill_report(DRILL).await;
    console.scroll_to(".drill-run").await;
    console.screenshot("phone-run").await;
    console.scroll_to(".drill-report-card").await;
    console.screenshot("phone-report").await;
    console.scroll_to(".drill-history").await;
    console.screenshot("phone-history").await;
    phone.close().await;
}
