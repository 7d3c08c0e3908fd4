//! The console hosted as a static site elsewhere, and its walkthrough
//! followed from there: the built console (`$GEOREP_DIST`) served by a
//! plain static file server under `/sub/` on an origin of its own, a real
//! `georep-server` that allows that origin (`--allow-origin`), real Redis
//! nodes, headless Chromium through WebDriver.
//!
//! 1. the server answers the static host's origin, and no other one (CORS);
//! 2. `http://127.0.0.1:STATIC/sub/#api=…&token=…` lists the two caches
//!    created through the API, its styles and map load from the static
//!    host, the header never says Polling, the token leaves the address bar;
//!    the cache list fetched the main wasm module and no page's chunk;
//! 3. the walkthrough starts with nothing ticked, its chunk fetched from
//!    the static host when it was first shown;
//! 4. linking the two in the wizard: the link is Succeeded in the console
//!    and in the API, and the "Linking started" notice says it is done;
//! 5. the walkthrough ticks Link and Provisioning, and shows the
//!    geo-primary's replication offset as `INFO replication` has it;
//! 6. a write through the geo-primary URL (a real Redis client) ticks the
//!    write step;
//! 7. a planned failover in the console ticks Fail over;
//! 8. unlinking in the console ticks Unlink: every step is ticked;
//! 9. the server still serves the console at `/`, a deep route included.
//!
//! Screenshots of the walkthrough at 1280×800 and 390×844 go to
//! `target/e2e-screenshots/hosted/` (or `$GEOREP_SCREENSHOTS_DIR/hosted`).

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use georep_e2e::console::{Console, UI};
use georep_e2e::screenshots::{self, Screenshots};
use georep_e2e::server::{Cache, Server};
use georep_e2e::static_host::StaticHost;
use georep_testkit::paths;
use georep_testkit::redis_client::RedisClient;
use georep_testkit::wait::{self, Poll};

/// The pair, created through the API: Premium P1 in two regions.
const PRIMARY: (&str, &str) = ("hosted-weu", "westeurope");
const SECONDARY: (&str, &str) = ("hosted-neu", "northeurope");
/// The path the static host serves the console under.
const SUB_PATH: &str = "/sub";

/// The walkthrough's steps, by title.
const LINK: &str = "Link two caches";
const PROVISIONING: &str = "Watch provisioning";
const WRITE: &str = "Write through the geo-primary URL";
const FAIL_OVER: &str = "Fail over";
const UNLINK: &str = "Unlink";

/// Linking (no data to sync), a failover's two role changes.
const LINKING: Duration = Duration::from_secs(120);
const FAILOVER: Duration = Duration::from_secs(180);

struct Hosted {
    host: StaticHost,
    server: Server,
    console: Console,
    primary: Cache,
    secondary: Cache,
}

#[tokio::test(flavor = "current_thread")]
async fn a_console_hosted_elsewhere_links_and_its_walkthrough_ticks_every_step() {
    let dist = paths::dist_dir();
    let host = StaticHost::serve(&dist, SUB_PATH);
    let server = Server::start_for_origin(&dist, host.origin());
    let primary = server.create_cache(PRIMARY.0, PRIMARY.1).await;
    let secondary = server.create_cache(SECONDARY.0, SECONDARY.1).await;

    let (browser, console) = Console::launch(Screenshots::new(
        screenshots::screenshots_dir().join("hosted"),
    ))
    .await;
    let console = console.with_phone_screenshots();
    let mut walk = Hosted {
        host,
        server,
        console,
        primary,
        secondary,
    };

    let outcome = AssertUnwindSafe(async {
        walk.step_1_only_the_static_hosts_origin_is_allowed().await;
        walk.step_2_open_the_hosted_console().await;
        walk.step_3_the_walkthrough_starts_unticked().await;
        walk.step_4_link_the_pair().await;
        let geo_url = walk.step_5_linked_and_the_offset_shown().await;
        walk.step_6_write_through_the_geo_primary_url(&geo_url)
            .await;
        walk.step_7_fail_over().await;
        walk.step_8_unlink().await;
        walk.step_9_the_server_still_serves_the_console().await;
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

impl Hosted {
    async fn step_1_only_the_static_hosts_origin_is_allowed(&mut self) {
        let http = self.server.api().http();
        let url = format!(
            "{}/subscriptions?api-version=2022-12-01",
            self.server.base()
        );
        let allowed_for = |origin: String| {
            let request = http
                .request("OPTIONS".parse().expect("a method"), &url)
                .header("Origin", origin)
                .header("Access-Control-Request-Method", "GET")
                .header("Access-Control-Request-Headers", "authorization");
            async move {
                let response = request.send().await.expect("the preflight is answered");
                response
                    .headers()
                    .get("access-control-allow-origin")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            }
        };
        assert_eq!(
            allowed_for(self.host.origin().to_owned()).await.as_deref(),
            Some(self.host.origin()),
            "the static host's origin may call the API"
        );
        assert_eq!(
            allowed_for("http://127.0.0.1:1".to_owned()).await,
            None,
            "another origin may not"
        );
    }

    async fn step_2_open_the_hosted_console(&mut self) {
        let url = self.server.login_url_at(&self.host.url());
        let console = &mut self.console;
        console.open(&url).await;
        // From the first second: Connecting…, then Live; never Polling
        // while the stream opens.
        let seen = RefCell::new(Vec::<String>::new());
        wait::until("the header to say Live", UI, || async {
            let state = console.live_state().await;
            let mut seen = seen.borrow_mut();
            if seen.last() != Some(&state) {
                seen.push(state.clone());
            }
            Poll::from_option((state == "Live").then_some(()), state)
        })
        .await;
        let seen = seen.into_inner();
        assert!(
            !seen.iter().any(|s| s == "Polling"),
            "the header said Polling while the stream opened: {seen:?}"
        );

        let names = [PRIMARY.0, SECONDARY.0];
        let rows = console
            .cache_rows_until("both caches in the list", |rows| {
                names
                    .iter()
                    .all(|name| rows.iter().any(|r| r.name == *name))
            })
            .await;
        assert!(rows.iter().all(|r| r.geo == "Not linked"), "{rows:?}");
        assert_eq!(
            console.address_bar().await,
            self.host.url(),
            "the token and the API address left the address bar"
        );
        let assets = wait::until("the styles and the map to load", UI, || async {
            match console.assets_loaded(true).await {
                Ok(assets) => Poll::Ready(assets),
                Err(missing) => Poll::Pending(missing),
            }
        })
        .await;
        assert!(
            assets.iter().all(|a| a.starts_with(&self.host.url())),
            "every file comes from the static host's /sub/: {assets:?}"
        );
        let wasm = console.wasm_fetched().await;
        assert!(
            !wasm.is_empty()
                && wasm
                    .iter()
                    .all(|w| w.starts_with(&self.host.url()) && w.ends_with("_bg.wasm")),
            "the cache list loads the main module alone, from the static host: {wasm:?}"
        );
        console.screenshot("hosted-cache-list").await;
    }

    async fn step_3_the_walkthrough_starts_unticked(&mut self) {
        let console = &mut self.console;
        console.open_walkthrough().await;
        let tour = console
            .tour_until("the walkthrough's five steps", UI, |t| t.steps.len() == 5)
            .await;
        assert!(tour.ticked().is_empty(), "nothing done yet: {tour:?}");
        assert!(
            console.address_bar().await.starts_with(&self.host.url()),
            "the route stays under the static host's path"
        );
        let wasm = console.wasm_fetched().await;
        let chunks: Vec<&String> = wasm.iter().filter(|w| !w.ends_with("_bg.wasm")).collect();
        assert!(
            !chunks.is_empty() && chunks.iter().all(|c| c.starts_with(&self.host.url())),
            "the walkthrough's code is a chunk fetched from the static host when it was shown: {wasm:?}"
        );
        console.screenshot("walkthrough-start").await;
    }

    async fn step_4_link_the_pair(&mut self) {
        let console = &mut self.console;
        console.open_caches().await;
        console.open_geo_replication(PRIMARY.0).await;
        assert!(
            console
                .address_bar()
                .await
                .starts_with(&format!("{}caches/", self.host.url())),
            "the geo-replication page is under the static host's path"
        );
        console.wait_for_no_link().await;
        console.add_cache_replication_link().await;
        console.choose_secondary(SECONDARY.0).await;
        console.confirm_link().await;
        console
            .wait_for_heading(&format!("{} | Geo-replication", PRIMARY.0))
            .await;
        let linked = console
            .link_row_until("the link to be Succeeded", LINKING, |row| {
                row.status == "Succeeded"
            })
            .await;
        assert_eq!(linked.peer, SECONDARY.0, "{linked:?}");

        let link = self
            .server
            .api()
            .get_json(&format!(
                "{}/linkedServers/{}",
                self.primary.id, self.secondary.name
            ))
            .await;
        assert_eq!(
            link["properties"]["provisioningState"], "Succeeded",
            "the API says the link is done: {link}"
        );

        let notice = console
            .notice_until("the notice to say the link is done", |n| {
                n.contains("are linked")
            })
            .await;
        assert!(
            notice.starts_with(&format!("{} and {} are linked", PRIMARY.0, SECONDARY.0)),
            "{notice}"
        );
    }

    async fn step_5_linked_and_the_offset_shown(&mut self) -> String {
        let console = &mut self.console;
        let endpoints = console
            .endpoints_until("the endpoints of the pair", |e| e.geo_primary.len() == 2)
            .await;
        let geo_url = endpoints.geo_primary[PRIMARY.0].clone();

        console.open_walkthrough().await;
        let tour = console
            .tour_until("Link and Provisioning ticked, the offset shown", UI, |t| {
                t.ticked() == [LINK, PROVISIONING] && t.primary_offset.is_some()
            })
            .await;
        let shown = tour.primary_offset.unwrap_or_default();

        // The figure is the primary's own: Redis is never behind it, and a
        // later sample reaches what Redis said.
        let key = self.server.access_key(&self.primary).await;
        let primary = RedisClient::connect(&self.primary.address, &key)
            .await
            .expect("the geo-primary answers");
        let info = primary.info("replication").await.expect("INFO replication");
        let offset = info
            .number("master_repl_offset")
            .expect("master_repl_offset");
        assert!(shown <= offset, "shown {shown}, Redis says {offset}");
        console
            .tour_until("the offset to reach INFO replication's", UI, |t| {
                t.primary_offset.is_some_and(|o| o >= offset)
            })
            .await;
        let evidence = tour.evidence.unwrap_or_default();
        assert!(
            evidence.contains("master_repl_offset") && evidence.contains("measured"),
            "the figure says what it is and how old: {evidence}"
        );
        console.screenshot("walkthrough-linked").await;
        geo_url
    }

    async fn step_6_write_through_the_geo_primary_url(&mut self, geo_url: &str) {
        let key = self.server.access_key(&self.primary).await;
        let geo = self.server.connect_tls(geo_url, &key).await;
        geo.set("greeting", b"hello from the hosted console")
            .await
            .expect("the geo-primary URL takes writes");
        let console = &mut self.console;
        let tour = console
            .tour_until("the write step to tick", UI, |t| t.done(WRITE))
            .await;
        assert_eq!(tour.ticked(), [LINK, PROVISIONING, WRITE]);
        let evidence = tour.evidence.unwrap_or_default();
        assert!(evidence.contains("a write went through"), "{evidence}");
        console.scroll_to("li.tour-step.done:nth-child(3)").await;
        console.screenshot("walkthrough-written").await;
    }

    async fn step_7_fail_over(&mut self) {
        let console = &mut self.console;
        console.open_caches().await;
        console.open_geo_replication(PRIMARY.0).await;
        console.open_failover().await;
        console
            .dialog_until("the offset and the checklist to be ready", UI, |d| {
                let ready = d
                    .offset
                    .as_deref()
                    .is_some_and(|o| o.contains("Ready: fewer than 14 bytes remain"));
                ready && d.checklist.iter().all(|c| !c.contains('…'))
            })
            .await;
        console.choose_planned_failover().await;
        console.fail_over().await;
        console
            .dialog_until("the failover's steps to be done", FAILOVER, |d| {
                d.done_steps == ["Deleting", "Creating", "Done"]
            })
            .await;
        console.close_dialog().await;
        console
            .link_row_until("the link to settle", FAILOVER, |row| {
                row.status == "Succeeded" && row.role == "Geo-primary"
            })
            .await;

        console.open_walkthrough().await;
        let tour = console
            .tour_until("Fail over to tick", UI, |t| t.done(FAIL_OVER))
            .await;
        assert_eq!(tour.ticked(), [LINK, PROVISIONING, WRITE, FAIL_OVER]);
    }

    async fn step_8_unlink(&mut self) {
        let console = &mut self.console;
        console.open_caches().await;
        console.open_geo_replication(PRIMARY.0).await;
        console.unlink().await;
        console.wait_for_no_link().await;
        for cache in [&self.primary, &self.secondary] {
            let links = self
                .server
                .api()
                .get_json(&format!("{}/linkedServers", cache.id))
                .await;
            assert_eq!(
                links["value"].as_array().map(Vec::len),
                Some(0),
                "{} has no link left: {links}",
                cache.name
            );
        }

        console.open_walkthrough().await;
        let tour = console
            .tour_until("Unlink to tick", UI, |t| t.done(UNLINK))
            .await;
        assert_eq!(
            tour.ticked(),
            [LINK, PROVISIONING, WRITE, FAIL_OVER, UNLINK],
            "every step is ticked"
        );
        let notice = console
            .notice_until("the notice to say the caches are unlinked", |n| {
                n.contains("are unlinked")
            })
            .await;
        assert!(!notice.contains("When it completes"), "{notice}");
        console.scroll_to("li.tour-step:last-child").await;
        console.screenshot("walkthrough-done").await;
    }

    async fn step_9_the_server_still_serves_the_console(&mut self) {
        let console = &mut self.console;
        // A deep route, as a reload there asks for it: the server answers
        // with index.html, whose files load from the console's root.
        let deep = format!(
            "{}{}/geo-replication#token={}",
            self.server.base(),
            route_of(&self.primary.id),
            self.server.token()
        );
        console.open(&deep).await;
        console
            .wait_for_heading(&format!("{} | Geo-replication", PRIMARY.0))
            .await;
        let assets = wait::until("the styles and the map to load", UI, || async {
            match console.assets_loaded(false).await {
                Ok(assets) => Poll::Ready(assets),
                Err(missing) => Poll::Pending(missing),
            }
        })
        .await;
        let root = format!("{}/", self.server.base());
        assert!(
            assets.iter().all(|a| a.starts_with(&root)),
            "every file comes from the server's root: {assets:?}"
        );
    }
}

/// The console's route of a cache's overview, from its ARM id:
/// `/caches/{subscription}/{group}/{name}`.
fn route_of(id: &str) -> String {
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    format!("/caches/{}/{}/{}", parts[1], parts[3], parts[7])
}
