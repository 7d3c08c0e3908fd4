//! The console as a user sees it: one method per thing a user reads or
//! does, with the selectors in one place.
//!
//! Reading goes through small scripts that return plain JSON, so a read
//! never trips over an element Leptos has just re-rendered; clicks are real
//! WebDriver clicks, retried until the element is there and clickable.
//! Every wait is bounded.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use fantoccini::{Client, Locator};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::screenshots::Screenshots;
use georep_testkit::wait::{self, Poll};

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
}

impl Console {
    /// The console in `client`'s browser; screenshots go to `shots`.
    pub fn new(client: Client, shots: Screenshots) -> Self {
        Self { client, shots }
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

    /// Saves a screenshot of the viewport as the next numbered step.
    pub async fn screenshot(&mut self, step: &str) {
        let path = self.shots.next_path(step);
        if let Err(e) = self.save_screenshot(&path).await {
            panic!("{e}");
        }
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
            Locator::Css("p.breadcrumb a[href='/']"),
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

    // ---- the link wizard -------------------------------------------------

    /// "Add cache replication link": opens the wizard.
    pub async fn add_cache_replication_link(&self) {
        self.click_allowed(
            "Add cache replication link",
            "//button[normalize-space()='Add cache replication link']",
        )
        .await;
    }

    /// The wizard's judged caches, once it lists some.
    pub async fn candidates(&self) -> Candidates {
        self.wait_for(
            "the compatible and incompatible caches",
            UI,
            "const byName = (nodes, f) => Object.fromEntries([...nodes].map(n => [n.dataset.cache, f(n)]));
             return {
               compatible: byName(
                 document.querySelectorAll('table.compatible-list tbody tr[data-cache]'),
                 r => [...r.querySelectorAll('li.note')].map(n => n.dataset.warning)),
               incompatible: byName(
                 document.querySelectorAll('li.incompatible[data-cache]'),
                 li => [...li.querySelectorAll('li.reason')].map(r => r.innerText.trim())),
             };",
            vec![],
            |c: &Candidates| !c.compatible.is_empty() || !c.incompatible.is_empty(),
        )
        .await
    }

    /// Chooses `secondary` through its row's context menu → Link.
    pub async fn choose_secondary(&self, secondary: &str) {
        self.click(
            &format!("the actions of {secondary}"),
            Locator::Css(&format!("button[aria-label='Actions for {secondary}']")),
        )
        .await;
        self.click(
            "Link in the row's menu",
            Locator::XPath(
                "//ul[@role='menu']//button[@role='menuitem'][normalize-space()='Link']",
            ),
        )
        .await;
    }

    /// The confirmation step's warnings, once it shows.
    pub async fn confirmation_warnings(&self) -> Vec<Warning> {
        self.wait_for(
            "the link confirmation",
            UI,
            "const c = document.querySelector('section.confirm');
             if (!c) return null;
             return [...c.querySelectorAll('[data-warning]')].map(w => ({
               code: w.dataset.warning,
               text: w.innerText.replace(/\\s+/g, ' ').trim(),
             }));",
            vec![],
            |w: &Option<Vec<Warning>>| w.is_some(),
        )
        .await
        .unwrap_or_default()
    }

    /// Records every status the link's badge shows from now on, so that a
    /// short-lived one is not missed between two polls.
    pub async fn record_link_statuses(&self) {
        let _: Value = self
            .eval(
                "window.__georepStatuses = [];
                 const note = () => {
                   const b = document.querySelector('table.links-table .badge');
                   const seen = window.__georepStatuses;
                   if (b && seen[seen.length - 1] !== b.innerText.trim()) seen.push(b.innerText.trim());
                 };
                 new MutationObserver(note).observe(document.body,
                   {subtree: true, childList: true, characterData: true, attributes: true});
                 return null;",
                vec![],
            )
            .await
            .expect("the status recorder installs");
    }

    /// Every status the link's badge showed since
    /// [`record_link_statuses`](Self::record_link_statuses), in order.
    pub async fn recorded_link_statuses(&self) -> Vec<String> {
        self.eval("return window.__georepStatuses || [];", vec![])
            .await
            .expect("the recorded statuses")
    }

    /// Confirms: clicks Link.
    pub async fn confirm_link(&self) {
        self.click(
            "Link",
            Locator::XPath(
                "//section[contains(@class,'confirm')]//button[normalize-space()='Link']",
            ),
        )
        .await;
    }

    // ---- the geo-replication page --------------------------------------

    /// Waits until the linked-cache row satisfies `ready`; returns it.
    pub async fn link_row_until(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&LinkRow) -> bool,
    ) -> LinkRow {
        self.wait_for(
            what,
            timeout,
            "const row = document.querySelector('table.links-table tbody tr');
             if (!row) return null;
             const text = el => el ? el.innerText.trim() : null;
             return {
               peer: row.dataset.cache,
               role: text(row.cells[2]),
               status: text(row.querySelector('.badge')),
               progress: text(row.querySelector('.progress-text')),
             };",
            vec![],
            |row: &Option<LinkRow>| row.as_ref().is_some_and(&ready),
        )
        .await
        .expect("a row")
    }

    /// Waits until the page says the cache has no link.
    pub async fn wait_for_no_link(&self) {
        self.wait_for::<bool, _>(
            "the page to show no geo-replication link",
            UI,
            "return !document.querySelector('table.links-table')
                 && [...document.querySelectorAll('.empty-title')]
                      .some(e => e.innerText.trim() === 'No geo-replication link');",
            vec![],
            |none| *none,
        )
        .await;
    }

    /// Waits until the endpoints panel satisfies `ready`; returns it.
    pub async fn endpoints_until(
        &self,
        what: &str,
        ready: impl Fn(&Endpoints) -> bool,
    ) -> Endpoints {
        let rows: Vec<(String, String)> = self
            .wait_for(
                what,
                UI,
                "return [...document.querySelectorAll('dl.endpoints .endpoint')].map(e => [
                   e.querySelector('dt').firstChild.textContent.trim(),
                   e.querySelector('code.endpoint-value').innerText.trim(),
                 ]);",
                vec![],
                |rows: &Vec<(String, String)>| parse_endpoints(rows).is_some_and(|e| ready(&e)),
            )
            .await;
        parse_endpoints(&rows).expect("parsed above")
    }

    /// Opens the Failover dialog of the link.
    pub async fn open_failover(&self) -> Dialog {
        self.click_allowed(
            "Failover",
            "//table[contains(@class,'links-table')]//button[normalize-space()='Failover']",
        )
        .await;
        self.dialog_until("the Failover dialog", UI, |d| {
            d.title == "Failover" && !d.checklist.is_empty()
        })
        .await
    }

    /// Chooses a planned failover in the open dialog.
    pub async fn choose_planned_failover(&self) {
        self.click(
            "Planned",
            Locator::XPath(
                "//div[@role='dialog']//label[.//strong[normalize-space()='Planned']]//input",
            ),
        )
        .await;
        self.dialog_until("Planned to be chosen", UI, |d| d.planned == Some(true))
            .await;
    }

    /// Starts the failover from the open dialog.
    pub async fn fail_over(&self) {
        self.click_allowed(
            "Fail over",
            "//div[@role='dialog']//button[normalize-space()='Fail over']",
        )
        .await;
    }

    /// Waits until the open dialog satisfies `ready`; returns it.
    pub async fn dialog_until(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&Dialog) -> bool,
    ) -> Dialog {
        self.wait_for(
            what,
            timeout,
            "const d = document.querySelector('div.dialog[role=dialog]');
             if (!d) return null;
             const text = el => el ? el.innerText.replace(/\\s+/g, ' ').trim() : null;
             const kind = d.querySelector('input[name=failover-kind]');
             return {
               title: text(d.querySelector('h2')),
               checklist: [...d.querySelectorAll('ul.checklist li')].map(text),
               offset: text(d.querySelector('.offset')),
               planned: kind ? kind.checked : null,
               status: text(d.querySelector('.failover-status')),
               done_steps: [...d.querySelectorAll('.live-step.done strong')].map(text),
               text: text(d),
             };",
            vec![],
            |d: &Option<Dialog>| d.as_ref().is_some_and(&ready),
        )
        .await
        .expect("a dialog")
    }

    /// Closes the open dialog with its Close (or Cancel) button.
    pub async fn close_dialog(&self) {
        self.click(
            "Close",
            Locator::XPath("//div[@role='dialog']//div[@class='actions']/button[normalize-space()='Close' or normalize-space()='Cancel']"),
        )
        .await;
        self.wait_for::<bool, _>(
            "the dialog to close",
            UI,
            "return !document.querySelector('div.dialog[role=dialog]');",
            vec![],
            |closed| *closed,
        )
        .await;
    }

    /// Unlinks through "Unlink caches" and its confirmation.
    pub async fn unlink(&self) -> Dialog {
        self.click_allowed(
            "Unlink caches",
            "//table[contains(@class,'links-table')]//button[normalize-space()='Unlink caches']",
        )
        .await;
        let dialog = self
            .dialog_until("the unlink confirmation", UI, |d| {
                d.title == "Unlink caches"
            })
            .await;
        self.click_allowed(
            "Unlink",
            "//div[@role='dialog']//button[normalize-space()='Unlink']",
        )
        .await;
        dialog
    }
}

/// The rows of the cache list.
const CACHE_ROWS: &str = "return [...document.querySelectorAll(
      'table[aria-label=\"Caches\"] tbody tr[data-cache]')].map(r => ({
    name: r.dataset.cache,
    location: r.cells[1].innerText.trim(),
    geo: r.cells[r.cells.length - 1].innerText.replace(/\\s+/g, ' ').trim(),
  }));";

/// Reads the endpoints panel's `(label, address)` rows: "Geo-primary URL
/// (cache)" once per cache, "Current geo-primary (cache)", "Current
/// geo-secondary (cache)".
fn parse_endpoints(rows: &[(String, String)]) -> Option<Endpoints> {
    let mut geo_primary = BTreeMap::new();
    let (mut current_primary, mut current_secondary) = (None, None);
    for (label, address) in rows {
        let (kind, cache) = label.strip_suffix(')')?.split_once(" (")?;
        let entry = (cache.to_owned(), address.clone());
        match kind {
            "Geo-primary URL" => {
                geo_primary.insert(entry.0, entry.1);
            }
            "Current geo-primary" => current_primary = Some(entry),
            "Current geo-secondary" => current_secondary = Some(entry),
            _ => return None,
        }
    }
    Some(Endpoints {
        geo_primary,
        current_primary: current_primary?,
        current_secondary: current_secondary?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoints_panel_reads_by_label() {
        let rows = [
            ("Geo-primary URL (a)", "127.0.0.1:1"),
            ("Geo-primary URL (b)", "127.0.0.1:2"),
            ("Current geo-primary (a)", "127.0.0.1:3"),
            ("Current geo-secondary (b)", "127.0.0.1:4"),
        ]
        .map(|(l, a)| (l.to_owned(), a.to_owned()));
        let e = parse_endpoints(&rows).unwrap();
        assert_eq!(e.geo_primary["b"], "127.0.0.1:2");
        assert_eq!(e.current_primary, ("a".into(), "127.0.0.1:3".into()));
        assert_eq!(e.current_secondary, ("b".into(), "127.0.0.1:4".into()));
        assert!(parse_endpoints(&rows[..3]).is_none());
    }
}
