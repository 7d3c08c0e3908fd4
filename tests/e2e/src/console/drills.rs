//! A link's Drills view, as a user sees it: running a drill and reading
//! its report and the past drills, verification on demand, and faults
//! injected and undone through their confirmations.

use std::collections::BTreeMap;
use std::time::Duration;

use fantoccini::Locator;
use serde::Deserialize;
use serde_json::Value;

use super::{Console, UI};

/// A verification as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct VerificationShown {
    /// Whether the badge says "Consistent".
    pub consistent: bool,
    /// The badge's text.
    pub verdict: String,
    /// The key-count figures, by `data-figure`.
    pub figures: BTreeMap<String, String>,
    /// The keys listed as different.
    pub mismatches: Vec<String>,
}

/// A drill's report as the view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ReportShown {
    /// The status badge: `Succeeded` or `Failed`.
    pub status: String,
    /// Each number's value, by `data-figure` (`rto`, `rpo`, …).
    pub numbers: BTreeMap<String, String>,
    /// The verification at the end, when shown.
    pub verification: Option<VerificationShown>,
    /// The steps' names, in order.
    pub steps: Vec<String>,
    /// An error banner's text, when the drill failed.
    pub error: Option<String>,
}

/// Reads the `.verification` element `v` (in a script).
const READ_VERIFICATION: &str = "const readVerification = v => v && ({
    consistent: v.dataset.consistent === 'true',
    verdict: v.querySelector('.verification-verdict').innerText.trim(),
    figures: Object.fromEntries([...v.querySelectorAll('[data-figure]')]
      .map(f => [f.dataset.figure, f.querySelector('dd').innerText.trim()])),
    mismatches: [...v.querySelectorAll('.mismatch')].map(m => m.innerText.trim()),
  });";

impl Console {
    /// Follows the geo-replication page's link to the Drills view.
    pub async fn open_drills(&self) {
        self.click(
            "Drills, verification and faults",
            Locator::Css("p.drills-entry a"),
        )
        .await;
        self.wait_for::<bool, _>(
            "the Drills view",
            UI,
            "return !!document.querySelector('.drills .drill-run')
                 && location.pathname.endsWith('/geo-replication/drills');",
            vec![],
            |shown| *shown,
        )
        .await;
    }

    /// Opens the Drills view of the cache `cache_id` (an ARM id) by its
    /// address, as a bookmark would, on the server at `base`.
    pub async fn open_drills_at(&self, base: &str, cache_id: &str) {
        let parts: Vec<&str> = cache_id.split('/').collect();
        let [_, "subscriptions", sub, "resourceGroups", rg, "providers", _, _, name] = parts[..]
        else {
            panic!("not a cache id: {cache_id}");
        };
        self.open(&format!(
            "{base}/caches/{sub}/{rg}/{name}/geo-replication/drills"
        ))
        .await;
        self.wait_for::<bool, _>(
            "the Drills view",
            UI,
            "return !!document.querySelector('.drills .drill-run');",
            vec![],
            |shown| *shown,
        )
        .await;
    }

    /// "Verify now", then the verification it shows.
    pub async fn verify_now(&self) -> VerificationShown {
        // Each answer is numbered, so only a new one counts.
        let before: Value = self
            .eval(
                "const a = document.querySelector('.drill-verify .verification-answer');
                 return a ? Number(a.dataset.answer) : 0;",
                vec![],
            )
            .await
            .expect("reading the answer number");
        let before = before.as_u64().unwrap_or(0);
        self.scroll_to(".drill-verify-button").await;
        self.click_allowed(
            "Verify now",
            "//section[contains(@class,'drill-verify')]//button[normalize-space()='Verify now']",
        )
        .await;
        let script = format!(
            "{READ_VERIFICATION}
             const answer = document.querySelector('.drill-verify .verification-answer');
             if (!answer || Number(answer.dataset.answer) <= {before}) return {{shown: null}};
             const error = answer.querySelector('.banner-error');
             if (error) return {{error: error.innerText.trim()}};
             return {{shown: readVerification(answer.querySelector('.verification'))}};"
        );
        let answer: Value = self
            .wait_for("a verification", UI, &script, vec![], |v: &Value| {
                !v["error"].is_null() || !v["shown"].is_null()
            })
            .await;
        assert!(
            answer["error"].is_null(),
            "the verification failed: {}",
            answer["error"]
        );
        serde_json::from_value(answer["shown"].clone()).expect("a verification")
    }

    /// Opens the fault behind `button`, returns its warning, and confirms
    /// it with `confirm`.
    pub async fn inject_fault(&self, button: &str, confirm: &str) -> String {
        self.scroll_to(".drill-faults").await;
        self.click_allowed(
            button,
            &format!(
                "//section[contains(@class,'drill-faults')]//button[normalize-space()='{button}']"
            ),
        )
        .await;
        let warning: String = self
            .wait_for(
                &format!("the {button} confirmation"),
                UI,
                "const w = document.querySelector('div.dialog[role=dialog] .fault-warning');
                 return w ? w.innerText.replace(/\\s+/g, ' ').trim() : '';",
                vec![],
                |w: &String| !w.is_empty(),
            )
            .await;
        self.click_allowed(
            confirm,
            &format!("//div[@role='dialog']//button[normalize-space()='{confirm}']"),
        )
        .await;
        warning
    }

    /// Waits until the active faults (their kinds) satisfy `ready`; fails
    /// at once if the faults card shows an error.
    pub async fn active_faults_until(
        &self,
        what: &str,
        ready: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let answer: Value = self
            .wait_for(
                what,
                UI,
                "const card = document.querySelector('.drill-faults');
                 const error = card && card.querySelector('.banner-error');
                 if (error) return {error: error.innerText.trim()};
                 if (!card || !(card.querySelector('.active-faults') || card.querySelector('.faults-none')))
                   return {};
                 return {kinds: [...card.querySelectorAll('.active-fault')].map(f => f.dataset.kind)};",
                vec![],
                |v: &Value| {
                    !v["error"].is_null()
                        || serde_json::from_value::<Vec<String>>(v["kinds"].clone())
                            .is_ok_and(|k| ready(&k))
                },
            )
            .await;
        assert!(
            answer["error"].is_null(),
            "the fault failed: {}",
            answer["error"]
        );
        serde_json::from_value(answer["kinds"].clone()).expect("the active faults")
    }

    /// Fills in the drill form and clicks "Run drill".
    pub async fn run_drill(&self, kind: &str, seconds: u32, failback: bool) {
        self.scroll_to(".drill-run").await;
        self.click(
            &format!("the {kind} drill"),
            Locator::Css(&format!("input[name=drill-kind][value={kind}]")),
        )
        .await;
        let field = self
            .client
            .find(Locator::Css("input[name=drill-seconds]"))
            .await
            .expect("the seconds field");
        field.clear().await.expect("the seconds field clears");
        field
            .send_keys(&seconds.to_string())
            .await
            .expect("typing the seconds");
        let checked: bool = self
            .eval(
                "return document.querySelector('input[name=drill-failback]').checked;",
                vec![],
            )
            .await
            .expect("the failback box");
        if checked != failback {
            self.click("Fail back", Locator::Css("input[name=drill-failback]"))
                .await;
        }
        self.click_allowed(
            "Run drill",
            "//section[contains(@class,'drill-run')]//button[normalize-space()='Run drill']",
        )
        .await;
    }

    /// Waits until the Live card shows a drill whose status is `status`.
    pub async fn live_status_until(&self, status: &str, timeout: Duration) {
        self.wait_for::<Option<String>, _>(
            &format!("the live drill to be {status}"),
            timeout,
            "const b = document.querySelector('.drill-live [data-status]');
             return b ? b.dataset.status : null;",
            vec![],
            |s| s.as_deref() == Some(status),
        )
        .await;
    }

    /// Waits until the Report card shows a finished drill; returns it.
    pub async fn drill_report(&self, timeout: Duration) -> ReportShown {
        let script = format!(
            "{READ_VERIFICATION}
             const r = document.querySelector('.drill-report-card .drill-report');
             if (!r) return null;
             const error = r.querySelector('.banner-error');
             return {{
               status: r.querySelector('[data-status]').dataset.status,
               numbers: Object.fromEntries([...r.querySelectorAll('.drill-number')]
                 .map(n => [n.dataset.figure, n.querySelector('.drill-number-value').innerText.trim()])),
               verification: readVerification(r.querySelector('.verification')),
               steps: [...r.querySelectorAll('.drill-step-name')].map(s => s.innerText.trim()),
               error: error ? error.innerText.trim() : null,
             }};"
        );
        self.wait_for(
            "a finished drill's report",
            timeout,
            &script,
            vec![],
            |r: &Option<ReportShown>| r.is_some(),
        )
        .await
        .expect("a report")
    }

    /// The past drills' rows: `(status, RTO)` each, newest first.
    pub async fn past_drills(&self) -> Vec<(String, String)> {
        self.eval(
            "return [...document.querySelectorAll('.drill-history tr.drill-row')]
               .map(r => [r.cells[2].innerText.trim(), r.cells[3].innerText.trim()]);",
            vec![],
        )
        .await
        .expect("the past drills")
    }
}
