//! The walkthrough page and the things a hosted console shows about where
//! it is served from, as a user sees them.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{Console, UI};

/// The walkthrough as shown.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tour {
    /// Each step's title and whether it is ticked, in order.
    pub steps: Vec<(String, bool)>,
    /// The geo-primary's replication offset the write step shows, if any.
    pub primary_offset: Option<u64>,
    /// The write step's sentence about it.
    pub evidence: Option<String>,
}

impl Tour {
    /// Whether the step titled `title` is ticked.
    pub fn done(&self, title: &str) -> bool {
        self.steps.iter().any(|(t, done)| t == title && *done)
    }

    /// The titles of the ticked steps.
    pub fn ticked(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|(_, done)| *done)
            .map(|(t, _)| t.as_str())
            .collect()
    }
}

const TOUR: &str = "const text = el => el ? el.innerText.replace(/\\s+/g, ' ').trim() : null;
  const evidence = document.querySelector('.tour-evidence');
  return {
    steps: [...document.querySelectorAll('li.tour-step')].map(li => [
      [...li.querySelector('h2').childNodes]
        .filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join('').trim(),
      li.classList.contains('done'),
    ]),
    primaryOffset: evidence ? Number(evidence.dataset.primaryOffset) : null,
    evidence: text(evidence),
  };";

impl Console {
    /// Opens the walkthrough from the navigation.
    pub async fn open_walkthrough(&self) {
        self.click_nav("the Walkthrough entry", "walkthrough").await;
        self.wait_for_heading("Walkthrough").await;
    }

    /// Opens the cache list from the navigation.
    pub async fn open_caches(&self) {
        self.click_nav("the Caches entry", "./").await;
        self.wait_for::<bool, _>(
            "the cache list",
            UI,
            "return !!document.querySelector('table[aria-label=\"Caches\"]');",
            vec![],
            |shown| *shown,
        )
        .await;
    }

    /// The walkthrough once `ready` holds of it, within `timeout`.
    pub async fn tour_until(
        &self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&Tour) -> bool,
    ) -> Tour {
        self.wait_for(what, timeout, TOUR, vec![], ready).await
    }

    /// The header's word for how the console stays current (Live,
    /// Connecting…, Polling).
    pub async fn live_state(&self) -> String {
        self.eval(
            "const l = document.querySelector('.topbar .live');
             return l ? l.innerText.trim() : '';",
            vec![],
        )
        .await
        .unwrap_or_default()
    }

    /// The notice bar's text, or `""`.
    pub async fn notice_until(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.wait_for::<String, _>(
            what,
            UI,
            "const n = document.querySelector('main .banner .banner-text');
             return n ? n.innerText.trim() : '';",
            vec![],
            |n| ready(n),
        )
        .await
    }

    /// Whether every stylesheet loaded, and the map's land outline too if
    /// `with_map` (the cache list shows it), and where from: the static
    /// files a hosted console needs.
    pub async fn assets_loaded(&self, with_map: bool) -> Result<Vec<String>, String> {
        self.eval::<Vec<String>>(
            "const sheets = [...document.querySelectorAll('link[rel=stylesheet]')];
             const missing = sheets.filter(l => !l.sheet).map(l => l.href);
             const loaded = sheets.map(l => l.href);
             if (arguments[0]) {
               const land = document.querySelector('img.map-land');
               if (!land || !land.complete || land.naturalWidth === 0) missing.push('land: ' + (land && land.src));
               else loaded.push(land.src);
             }
             return missing.length ? missing.map(m => 'missing ' + m) : loaded;",
            vec![json!(with_map)],
        )
        .await
        .and_then(|loaded| {
            if loaded.iter().any(|l| l.starts_with("missing ")) {
                Err(format!("{loaded:?}"))
            } else {
                Ok(loaded)
            }
        })
    }

    /// Every wasm file the page has fetched so far, in order: the main
    /// module, then each page's chunks as they were first shown.
    pub async fn wasm_fetched(&self) -> Vec<String> {
        self.eval::<Vec<String>>(
            "return performance.getEntriesByType('resource')
               .map(e => e.name).filter(n => new URL(n).pathname.endsWith('.wasm'));",
            vec![],
        )
        .await
        .expect("the page's resource timings")
    }
}
