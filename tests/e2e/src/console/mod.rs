//! The console as a user sees it: one method per thing a user reads or
//! does, with the selectors in one place.
//!
//! Reading goes through small scripts that return plain JSON, so a read
//! never trips over an element Leptos has just re-rendered; clicks are real
//! WebDriver clicks, retried until the element is there and clickable.
//! Every wait is bounded.
//!
//! This module holds the shared reading and clicking, navigation and the
//! cache list with its map; `geo` the geo-replication pages (the link
//! wizard, endpoints, failover and unlink); `dashboard` the geo-replication
//! dashboard; `overview` a cache's Overview; `tour` the walkthrough page.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, Locator};
use georep_testkit::browser::{set_viewport, Browser, DESKTOP, PHONE};
use georep_testkit::wait::{self, Poll};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::screenshots::Screenshots;

mod dashboard;
mod drills;
mod geo;
mod overview;
mod tour;

pub use dashboard::{Dashboard, LinkCard};
pub use drills::{ReportShown, VerificationShown};
pub use overview::{NodeShown, OverviewShown};
pub use tour::Tour;

/// How long the console may take to show something after an action.
pub const UI: Duration = Duration::from_secs(60);

/// A row of the cache list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CacheRow {
    /// The cache's name.
    pub name: String,
    /// Its region, as displayed ("East US").
    pub location: String,
    /// The Geo-replication column: "Not linked", or the role and the link's
    /// status ("Geo-primary Succeeded").
    pub geo: String,
}

/// The caches the link wizard judged.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Candidates {
    /// Compatible caches, by name, with the codes of their warnings.
    pub compatible: BTreeMap<String, Vec<String>>,
    /// Incompatible caches, by name, with every reason in words.
    pub incompatible: BTreeMap<String, Vec<String>>,
}

/// A warning of the link confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Warning {
    /// `georep-core`'s code, e.g. `SecondaryDataRemoved`.
    pub code: String,
    /// What the user reads.
    pub text: String,
}

/// The linked-cache row of a geo-replication page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LinkRow {
    /// The other cache of the pair.
    pub peer: String,
    /// The other cache's role ("Geo-secondary").
    pub role: String,
    /// The link's provisioning status badge ("Creating", "Succeeded").
    pub status: String,
    /// The full-sync progress text, while there is one.
    pub progress: Option<String>,
}

/// The endpoints panel, as read off the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// Each cache's geo-primary URL, by cache name.
    pub geo_primary: BTreeMap<String, String>,
    /// The current geo-primary: `(cache, address)`.
    pub current_primary: (String, String),
    /// The current geo-secondary: `(cache, address)`.
    pub current_secondary: (String, String),
}

/// An open dialog.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Dialog {
    /// Its heading.
    pub title: String,
    /// The failover checklist's items, as read.
    pub checklist: Vec<String>,
    /// The live data sync offset and its verdict, when shown.
    pub offset: Option<String>,
    /// Whether "Planned" is the chosen kind of failover, when offered.
    pub planned: Option<bool>,
    /// The live status line of a running failover.
    pub status: Option<String>,
    /// The live steps marked done.
    pub done_steps: Vec<String>,
    /// The dialog's whole text.
    pub text: String,
}

/// The console in a WebDriver session.
pub struct Console {
    client: Client,
    shots: Screenshots,
    /// Whether each screenshot is taken at the phone size too.
    phone_too: bool,
    /// What the last [`Console::scroll_to`] brought into view, so that the
    /// phone-sized screenshot shows it too.
    scrolled_to: std::sync::Mutex<Option<String>>,
}

impl Console {
    /// The console in `client`'s browser; screenshots go to `shots`.
    pub fn new(client: Client, shots: Screenshots) -> Self {
        Self {
            client,
            shots,
            phone_too: false,
            scrolled_to: std::sync::Mutex::new(None),
        }
    }

    /// Launches headless Chromium with a [`DESKTOP`] viewport, and the
    /// console in it; screenshots go to `shots`.
    pub async fn launch(shots: Screenshots) -> (Browser, Console) {
        let browser = Browser::launch().await.expect("headless Chromium starts");
        browser
            .set_viewport(DESKTOP)
            .await
            .expect("the desktop viewport");
        let console = Console::new(browser.client.clone(), shots);
        (browser, console)
    }

    /// Takes every screenshot at [`DESKTOP`] and again at [`PHONE`]
    /// (`NN-step-phone.png`), the window put back to the desktop size after.
    pub fn with_phone_screenshots(mut self) -> Self {
        self.phone_too = true;
        self
    }

    // ---- generic -------------------------------------------------------

    /// Runs `script` in the page and reads its result as `T`.
    async fn eval<T: DeserializeOwned>(&self, script: &str, args: Vec<Value>) -> Result<T, String> {
        let value = self
            .client
            .execute(script, args)
            .await
            .map_err(|e| format!("script failed: {e}"))?;
        serde_json::from_value(value.clone()).map_err(|e| format!("{value} ({e})"))
    }

    /// Runs `script` until its result satisfies `ready`, for at most
    /// `timeout`; returns that result.
    async fn wait_for<T, P>(
        &self,
        what: &str,
        timeout: Duration,
        script: &str,
        args: Vec<Value>,
        ready: P,
    ) -> T
    where
        T: DeserializeOwned + std::fmt::Debug,
        P: Fn(&T) -> bool,
    {
        wait::until(what, timeout, || async {
            match self.eval::<T>(script, args.clone()).await {
                Ok(value) if ready(&value) => Poll::Ready(value),
                Ok(value) => Poll::Pending(format!("{value:?}")),
                Err(e) => Poll::Pending(e),
            }
        })
        .await
    }

    /// Clicks the navigation's entry that links to `href` (`what` names it
    /// in a timeout's message).
    async fn click_nav(&self, what: &str, href: &str) {
        let css = format!("nav a.nav-link[href='{href}']");
        self.click(what, Locator::Css(&css)).await;
    }

    /// Clicks the element `locator` finds, once it is there and clickable.
    async fn click(&self, what: &str, locator: Locator<'_>) {
        wait::until(&format!("to click {what}"), UI, || async {
            let clicked = match self.client.find(locator).await {
                Ok(element) => element.click().await,
                Err(e) => Err(e),
            };
            match clicked {
                Ok(()) => Poll::Ready(()),
                Err(e) => Poll::Pending(e.to_string()),
            }
        })
        .await;
    }

    /// Clicks a button that may be refused (`aria-disabled`), once it is
    /// allowed.
    async fn click_allowed(&self, what: &str, xpath: &str) {
        self.wait_for::<Option<String>, _>(
            &format!("{what} to be allowed"),
            UI,
            "const b = document.evaluate(arguments[0], document, null, \
             XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
             return b ? b.getAttribute('aria-disabled') : null;",
            vec![json!(xpath)],
            |disabled| disabled.as_deref() == Some("false"),
        )
        .await;
        self.click(what, Locator::XPath(xpath)).await;
    }

    /// Saves a screenshot of the viewport as the next numbered step (and
    /// one at the phone size, with [`Console::with_phone_screenshots`]).
    pub async fn screenshot(&mut self, step: &str) {
        let path = self.shots.next_path(step);
        if let Err(e) = self.save_screenshot(&path).await {
            panic!("{e}");
        }
        // Each step scrolls to what it shows; the next starts afresh.
        let scrolled_to = self.scrolled_to.lock().expect("not poisoned").take();
        if self.phone_too {
            self.resize(PHONE).await;
            self.scroll_again(scrolled_to.as_deref()).await;
            let path = self.shots.phone_path(step);
            if let Err(e) = self.save_screenshot(&path).await {
                panic!("{e}");
            }
            self.resize(DESKTOP).await;
            // Back where the desktop screenshot was, so that the step's next
            // click finds the page as it left it.
            self.scroll_again(scrolled_to.as_deref()).await;
        }
    }

    /// Brings `css` back into view after a resize, if a step scrolled to it.
    async fn scroll_again(&self, css: Option<&str>) {
        if let Some(css) = css {
            self.scroll_to(css).await;
            self.scrolled_to.lock().expect("not poisoned").take();
        }
    }

    /// Resizes the viewport and lets the page lay itself out again.
    async fn resize(&self, size: (u32, u32)) {
        set_viewport(&self.client, size)
            .await
            .unwrap_or_else(|e| panic!("the {size:?} viewport: {e:#}"));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }

    /// Saves a screenshot of whatever the page shows now as `failure.png`,
    /// if the browser can still take one.
    pub async fn screenshot_failure(&self) {
        if let Err(e) = self.save_screenshot(&self.shots.failure_path()).await {
            eprintln!("no screenshot of the failure: {e}");
        }
    }

    async fn save_screenshot(&self, path: &Path) -> Result<(), String> {
        let png = self
            .client
            .screenshot()
            .await
            .map_err(|e| format!("the browser took no screenshot: {e}"))?;
        std::fs::write(path, png).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("screenshot: {}", path.display());
        Ok(())
    }

    /// Scrolls so that the element `css` finds is in the middle of the view.
    pub async fn scroll_to(&self, css: &str) {
        let found: bool = self
            .eval(
                "const el = document.querySelector(arguments[0]);
                 if (el) el.scrollIntoView({block: 'center', behavior: 'instant'});
                 return !!el;",
                vec![json!(css)],
            )
            .await
            .unwrap_or(false);
        assert!(found, "nothing to scroll to: {css}");
        *self.scrolled_to.lock().expect("not poisoned") = Some(css.to_owned());
    }

    // ---- navigation ----------------------------------------------------

    /// Opens `url`.
    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("the page opens");
    }

    /// Reloads the page.
    pub async fn reload(&self) {
        self.client.refresh().await.expect("the page reloads");
    }

    /// What the address bar shows.
    pub async fn address_bar(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .to_string()
    }

    /// Goes to the cache list through the breadcrumb.
    pub async fn back_to_cache_list(&self) {
        self.click(
            "the Caches breadcrumb",
            Locator::Css("p.breadcrumb a[href='./']"),
        )
        .await;
        self.wait_for::<bool, _>(
            "the cache list",
            UI,
            "return !!document.querySelector('table[aria-label=\"Caches\"]');",
            vec![],
            |shown| *shown,
        )
        .await;
    }

    // ---- the cache list and its map ------------------------------------

    /// The rows of the cache list, once it lists at least `at_least`.
    pub async fn cache_rows(&self, at_least: usize) -> Vec<CacheRow> {
        self.wait_for(
            &format!("the cache list to show at least {at_least} caches"),
            UI,
            CACHE_ROWS,
            vec![],
            |rows: &Vec<CacheRow>| rows.len() >= at_least,
        )
        .await
    }

    /// Waits until the cache list's rows satisfy `ready`; returns them.
    pub async fn cache_rows_until(
        &self,
        what: &str,
        ready: impl Fn(&[CacheRow]) -> bool,
    ) -> Vec<CacheRow> {
        self.wait_for(what, UI, CACHE_ROWS, vec![], |rows: &Vec<CacheRow>| {
            ready(rows)
        })
        .await
    }

    /// Clicks a region's marker on the map (its ARM name, e.g. `eastus`),
    /// and waits until the marker's pressed state is `pressed`.
    pub async fn click_region(&self, region: &str, pressed: bool) {
        let marker = format!("g.map-marker[data-region='{region}']");
        self.click(&format!("the {region} marker"), Locator::Css(&marker))
            .await;
        let want = if pressed { "true" } else { "false" };
        self.wait_for::<Option<String>, _>(
            &format!("the {region} marker to be aria-pressed={want}"),
            UI,
            "const m = document.querySelector(arguments[0]);
             return m ? m.getAttribute('aria-pressed') : null;",
            vec![json!(marker)],
            |p| p.as_deref() == Some(want),
        )
        .await;
    }

    /// The map's caption about the region filter.
    pub async fn map_filter_caption(&self) -> String {
        self.eval(
            "const f = document.querySelector('.map-filter');
             return f ? f.innerText.replace(/\\s+/g, ' ').trim() : '';",
            vec![],
        )
        .await
        .unwrap_or_default()
    }

    /// Opens a cache's geo-replication page from its row in the list.
    pub async fn open_geo_replication(&self, cache: &str) {
        self.click(
            &format!("{cache}'s geo-replication cell"),
            Locator::Css(&format!("tr[data-cache='{cache}'] a.cell-link")),
        )
        .await;
        self.wait_for_heading(&format!("{cache} | Geo-replication"))
            .await;
    }

    /// Waits until the page's heading reads `heading`.
    pub async fn wait_for_heading(&self, heading: &str) {
        self.wait_for::<String, _>(
            &format!("the heading {heading:?}"),
            UI,
            "const h = document.querySelector('main h1');
             return h ? h.innerText.replace(/\\s+/g, ' ').trim() : '';",
            vec![],
            |h| h == heading,
        )
        .await;
    }
}

/// The rows of the cache list that show (the list keeps every row mounted
/// and hides those the region filter leaves out).
const CACHE_ROWS: &str = "return [...document.querySelectorAll(
      'table[aria-label=\"Caches\"] tbody tr[data-cache]:not([hidden])')].map(r => ({
    name: r.dataset.cache,
    location: r.cells[1].innerText.trim(),
    geo: r.cells[r.cells.length - 1].innerText.replace(/\\s+/g, ' ').trim(),
  }));";
