//! The console's geo-replication pages, as a user sees them: the link
//! wizard, the linked-cache row, the endpoints panel, and the failover and
//! unlink dialogs.

use std::collections::BTreeMap;
use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;

use super::{Candidates, Console, Dialog, Endpoints, LinkRow, Warning, UI};

impl Console {
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
