//! The geo-replication dashboard, as a user sees it: one card per link,
//! with the figures both caches report, and the map of the linked caches'
//! regions.

use std::collections::BTreeMap;

use fantoccini::Locator;
use serde::Deserialize;

use super::{Console, UI};

/// A link's card on the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LinkCard {
    /// Its title, `primary ⇄ secondary`.
    pub title: String,
    /// The link's status badge ("Succeeded"), then its health ("Healthy").
    pub badges: Vec<String>,
    /// Each figure as shown, by its label ("Data sync offset" → "0 B").
    pub figures: BTreeMap<String, String>,
}

impl LinkCard {
    /// The figure labelled `label`, or `""`.
    pub fn figure(&self, label: &str) -> &str {
        self.figures.get(label).map_or("", String::as_str)
    }
}

/// The dashboard's link cards, and the regions its map marks.
const DASHBOARD: &str = "const text = el => el ? el.innerText.replace(/\\s+/g, ' ').trim() : '';
  return {
    cards: [...document.querySelectorAll('article.link-card')].map(card => ({
      title: text(card.querySelector('h2')),
      badges: [...card.querySelectorAll('.badges .badge')].map(text),
      figures: Object.fromEntries([...card.querySelectorAll('dl.figures .kv')]
        .map(kv => [text(kv.querySelector('dt')), text(kv.querySelector('dd'))])),
    })),
    regions: [...document.querySelectorAll('g.map-marker[data-region]')]
      .map(m => m.dataset.region).sort(),
  };";

/// The dashboard as read: its cards and the regions on its map.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Dashboard {
    /// One card per link shown.
    pub cards: Vec<LinkCard>,
    /// The regions the map marks (ARM names, sorted).
    pub regions: Vec<String>,
}

impl Console {
    /// Opens the dashboard from the navigation.
    pub async fn open_dashboard(&self) {
        self.click_nav("the dashboard entry", "dashboard").await;
        self.wait_for_heading("Geo-replication dashboard").await;
    }

    /// Clicks the dashboard's entry in the navigation and returns the
    /// error the page shows instead of itself, once there is one.
    pub async fn dashboard_unavailable(&self) -> String {
        self.click_nav("the dashboard entry", "dashboard").await;
        self.wait_for::<String, _>(
            "the page's error",
            UI,
            "const e = document.querySelector('main .banner-error .banner-text');
             return e ? e.innerText.trim() : '';",
            vec![],
            |text| !text.is_empty(),
        )
        .await
    }

    /// The dashboard once `ready` holds of it.
    pub async fn dashboard_until(
        &self,
        what: &str,
        ready: impl Fn(&Dashboard) -> bool,
    ) -> Dashboard {
        self.wait_for(what, UI, DASHBOARD, vec![], ready).await
    }

    /// Opens the geo-replication page of the link whose card is titled
    /// `title`, through the title's link.
    pub async fn open_link_from_dashboard(&self, title: &str) {
        let xpath =
            format!("//article[contains(@class, 'link-card')]//h2/a[normalize-space()='{title}']");
        self.click(&format!("the card {title}"), Locator::XPath(&xpath))
            .await;
    }
}
