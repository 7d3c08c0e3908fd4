//! The console in headless Chromium (through `georep-testkit`'s
//! chromedriver and fantoccini). The figures come from the page's own
//! performance marks (`src/perf.rs`):
//!
//! - `georep:list-rendered`, set after the first paint of the cache list
//!   with data; its `startTime` counts from navigation start;
//! - `georep:list-filtered`, set after the paint that follows a change of
//!   the region filter. The benchmark marks the click itself (`georep:filter-click`)
//!   in the same task that dispatches it, and measures between the two.
//!
//! A click's time is split in three: the script (the click's handlers,
//! the DOM updates they make and the microtasks they queue, up to a
//! microtask queued after them); the wait for the browser's next frame (up
//! to an animation-frame callback asked for before the click, which runs
//! first in that frame); and the frame, the browser's style, layout and
//! paint of the result. Chromium starts frames on a 60 Hz clock, so a click
//! that lands just after a frame waits up to 16.7 ms for the next, whatever
//! the page does: the dot's peer clicks show that wait alone.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use fantoccini::wd::TimeoutConfiguration;
use georep_testkit::wait::{self, Poll};
use georep_testkit::{Browser, Chromedriver};
use serde_json::{json, Value};

/// The benchmark's window.
const WINDOW: (u32, u32) = (1366, 900);
/// How long the console may take to show its list (and a script to run).
const LOAD_TIMEOUT: Duration = Duration::from_secs(180);

/// Reads the first-paint mark, if set yet.
const READ_LIST_RENDERED: &str = "\
const mark = performance.getEntriesByName('georep:list-rendered', 'mark')[0];
return mark ? mark.startTime : null;";

/// Where a cold load's time went, from the browser's resource timings:
/// when the wasm had arrived, when the last answer the list needs (the
/// subscriptions' cache lists) had arrived, and how many requests the
/// console made before its first paint of the list.
const READ_LOAD_STAGES: &str = "\
const painted = performance.getEntriesByName('georep:list-rendered', 'mark')[0]?.startTime ?? null;
const resources = performance.getEntriesByType('resource');
const end = (test) => Math.max(0, ...resources.filter(r => test(r.name)).map(r => r.responseEnd));
return {
  wasm: end(name => name.endsWith('.wasm')),
  lists: end(name => /\\/providers\\/Microsoft\\.Cache\\/redis\\?/.test(name)),
  requests: resources.filter(r => painted !== null && r.startTime < painted && r.initiatorType === 'fetch').length,
};";

/// The regions the map offers as filter chips.
const READ_REGIONS: &str = "\
return [...document.querySelectorAll('.region-chips button[data-region]')]
    .map(button => button.dataset.region);";

/// Clicks one region chip and answers the time from the click to the
/// console's `georep:list-filtered` mark, and the rows then shown.
const CLICK_REGION: &str = "\
const [region, done] = [arguments[0], arguments[arguments.length - 1]];
const button = document.querySelector(`.region-chips button[data-region=\"${region}\"]`);
if (!button) { done({ error: `no chip for ${region}` }); return; }
performance.clearMarks('georep:list-filtered');
performance.clearMarks('georep:filter-click');
const observer = new PerformanceObserver(() => {
  const end = performance.getEntriesByName('georep:list-filtered', 'mark')[0];
  if (!end) return;
  observer.disconnect();
  const measure = performance.measure('georep:filter', 'georep:filter-click', 'georep:list-filtered');
  // Only a window of the list is in the document; the table counts the
  // whole list (and its header row) for screen readers.
  const count = document.querySelector('table[aria-label=\"Caches\"]')?.getAttribute('aria-rowcount');
  const rows = count ? Number(count) - 1 : 0;
  done({ ms: measure.duration, script, frame, rows });
});
let [script, frame] = [null, null];
observer.observe({ type: 'mark' });
performance.mark('georep:filter-click');
const start = performance.now();
requestAnimationFrame(() => { frame = performance.now() - start; });
button.click();
queueMicrotask(() => { script = performance.now() - start; });";

/// The peer of [`CLICK_REGION`]: clicks a 4-pixel dot the script adds to
/// the page (once), whose handler only recolours it and marks the paint
/// that follows as the console's marks are set (`src/perf.rs`). Its time
/// is the least any click's result takes to be seen on this page, under
/// this load: the wait for the next frame, that frame's paint, the timeout.
const CLICK_DOT: &str = "\
const done = arguments[arguments.length - 1];
let dot = document.getElementById('georep-bench-dot');
if (!dot) {
  dot = document.createElement('div');
  dot.id = 'georep-bench-dot';
  dot.style.cssText = 'position:fixed;right:0;bottom:0;width:4px;height:4px;background:#000';
  dot.addEventListener('click', () => {
    dot.style.background = dot.style.background === 'rgb(0, 0, 0)' ? '#fff' : '#000';
    requestAnimationFrame(() => setTimeout(() => performance.mark('georep:dot-painted')));
  });
  document.body.appendChild(dot);
}
performance.clearMarks('georep:dot-painted');
performance.clearMarks('georep:dot-click');
const observer = new PerformanceObserver(() => {
  if (!performance.getEntriesByName('georep:dot-painted', 'mark')[0]) return;
  observer.disconnect();
  done({ ms: performance.measure('georep:dot', 'georep:dot-click', 'georep:dot-painted').duration, frame });
});
let frame = null;
observer.observe({ type: 'mark' });
performance.mark('georep:dot-click');
const start = performance.now();
requestAnimationFrame(() => { frame = performance.now() - start; });
dot.click();";

/// A new browser with a fresh profile (nothing cached: a cold load), its
/// script and page-load timeouts set for the benchmark.
pub async fn session(driver: &Arc<Chromedriver>) -> Result<Browser> {
    let browser = driver.open(WINDOW).await?;
    browser
        .client
        .update_timeouts(TimeoutConfiguration::new(
            Some(LOAD_TIMEOUT),
            Some(LOAD_TIMEOUT),
            None,
        ))
        .await
        .context("setting the WebDriver timeouts")?;
    Ok(browser)
}

/// Loads `url` (returns once the document has loaded).
pub async fn navigate(browser: &Browser, url: &str) -> Result<()> {
    browser
        .client
        .goto(url)
        .await
        .with_context(|| format!("loading {url}"))
}

/// Waits for the console's first paint of the cache list; its time from
/// navigation start, in ms.
pub async fn list_rendered_ms(browser: &Browser) -> Result<f64> {
    let what = "the console to show its cache list";
    wait::poll(what, LOAD_TIMEOUT, Duration::from_millis(50), || async {
        match browser.client.execute(READ_LIST_RENDERED, vec![]).await {
            Ok(Value::Number(ms)) => Poll::Ready(ms.as_f64().context("a mark's time")),
            Ok(other) => Poll::Pending(other.to_string()),
            Err(e) => Poll::Ready(Err(e).context("reading the list-rendered mark")),
        }
    })
    .await?
}

/// Where a cold load's time went (call after [`list_rendered_ms`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoadStages {
    /// The wasm had arrived, ms from navigation start.
    pub wasm_ms: f64,
    /// The cache lists had arrived, ms from navigation start.
    pub lists_ms: f64,
    /// Requests the console made before the list's first paint.
    pub requests: u64,
}

/// Reads where the cold load's time went.
pub async fn load_stages(browser: &Browser) -> Result<LoadStages> {
    let stages = browser.client.execute(READ_LOAD_STAGES, vec![]).await?;
    let ms = |key: &str| {
        stages[key]
            .as_f64()
            .with_context(|| format!("the load's {key} time in {stages}"))
    };
    Ok(LoadStages {
        wasm_ms: ms("wasm")?,
        lists_ms: ms("lists")?,
        requests: stages["requests"].as_u64().unwrap_or(0),
    })
}

/// The regions the map's chips offer.
pub async fn regions(browser: &Browser) -> Result<Vec<String>> {
    let regions = browser.client.execute(READ_REGIONS, vec![]).await?;
    Ok(regions
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// What one click on a region chip took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Click {
    /// From the click to the paint of the filtered list, in ms.
    pub ms: f64,
    /// The part of it spent in script, in ms.
    pub script_ms: f64,
    /// From the click to the start of the frame that painted it, in ms:
    /// the script, then the wait for the browser's next frame.
    pub frame_start_ms: f64,
    /// The rows the filtered list then holds (the document holds only
    /// those in and near the viewport).
    pub rows: u64,
}

/// Clicks `region`'s chip and times it.
pub async fn filter(browser: &Browser, region: &str) -> Result<Click> {
    let answer = browser
        .client
        .execute_async(CLICK_REGION, vec![json!(region)])
        .await
        .with_context(|| format!("clicking the {region} chip"))?;
    if let Some(error) = answer["error"].as_str() {
        bail!("{error}");
    }
    let ms = answer["ms"].as_f64().context("no filter time")?;
    Ok(Click {
        ms,
        script_ms: answer["script"].as_f64().context("no script time")?,
        frame_start_ms: answer["frame"].as_f64().context("no frame's start")?,
        rows: answer["rows"].as_u64().unwrap_or(0),
    })
}

/// What one click on the dot of [`CLICK_DOT`] took.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dot {
    /// From the click to its paint, in ms.
    pub ms: f64,
    /// From the click to the start of the frame that painted it, in ms.
    pub frame_start_ms: f64,
}

/// Clicks the dot of [`CLICK_DOT`] and times it.
pub async fn click_dot(browser: &Browser) -> Result<Dot> {
    let answer = browser
        .client
        .execute_async(CLICK_DOT, vec![])
        .await
        .context("clicking the bench's dot")?;
    Ok(Dot {
        ms: answer["ms"]
            .as_f64()
            .context("no time for the dot's click")?,
        frame_start_ms: answer["frame"].as_f64().context("no frame's start")?,
    })
}
