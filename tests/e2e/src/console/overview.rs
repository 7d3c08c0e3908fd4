//! A cache's Overview, as a user sees it: its geo-replication role, the
//! address and connection string applications use, and its nodes.

use fantoccini::Locator;
use serde::Deserialize;

use super::{Console, UI};

/// A node as the Overview lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NodeShown {
    /// Its own address, `host:port`.
    pub address: String,
    /// "Shard 0", …
    pub shard: String,
    /// Whether it is marked its shard's primary.
    pub primary: bool,
}

/// The Overview's geo-replication status, address and nodes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OverviewShown {
    /// "Geo-primary (read-write)", or `""` when not linked.
    pub role: String,
    /// The link's status badge.
    pub link_status: String,
    /// The address clients use.
    pub address: String,
    /// The `rediss://` connection string.
    pub connection_string: String,
    /// Where "download ca.pem" points.
    pub ca_href: String,
    /// Every node listed.
    pub nodes: Vec<NodeShown>,
}

const OVERVIEW: &str = "const text = el => el ? el.innerText.replace(/\\s+/g, ' ').trim() : '';
  const ca = document.querySelector('a.ca-download');
  return {
    role: text(document.querySelector('dd.role')),
    link_status: text(document.querySelector('.essentials .badge')),
    address: text(document.querySelector('code.cache-address-value')),
    connection_string: text(document.querySelector('code.connection-string')),
    ca_href: ca ? ca.href : '',
    nodes: [...document.querySelectorAll('ul.nodes li.node')].map(li => ({
      address: text(li.querySelector('.node-address')),
      shard: text(li.querySelector('.node-shard')),
      primary: li.dataset.primary === 'true',
    })),
  };";

impl Console {
    /// Opens the cache page's tab named `tab` ("Overview",
    /// "Geo-replication") and waits for its heading, `heading`.
    pub async fn open_cache_tab(&self, tab: &str, heading: &str) {
        let xpath = format!("//nav[@aria-label='Cache']/a[normalize-space()='{tab}']");
        self.click(&format!("the {tab} tab"), Locator::XPath(&xpath))
            .await;
        self.wait_for_heading(heading).await;
    }

    /// The Overview once `ready` holds of it.
    pub async fn overview_until(
        &self,
        what: &str,
        ready: impl Fn(&OverviewShown) -> bool,
    ) -> OverviewShown {
        self.wait_for(what, UI, OVERVIEW, vec![], ready).await
    }
}
