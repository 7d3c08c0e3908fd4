//! The console in headless Chromium, driven over WebDriver (Debian's
//! `chromedriver`, plain HTTP on loopback). The figures come from the
//! page's own performance marks (`src/perf.rs`):
//!
//! - `georep:list-rendered`, set after the first paint of the cache list
//!   with data; its `startTime` counts from navigation start;
//! - `georep:list-filtered`, set after the paint that follows a change of
//!   the region filter. The benchmark marks the click itself (`georep:filter-click`)
//!   in the same task that dispatches it, and measures between the two.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use crate::cmd::say;

/// Debian's chromium-driver.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long the console may take to show its list.
const LOAD_TIMEOUT: Duration = Duration::from_secs(180);

/// Reads the first-paint mark, if set yet.
const READ_LIST_RENDERED: &str = "\
const mark = performance.getEntriesByName('georep:list-rendered', 'mark')[0];
return mark ? mark.startTime : null;";

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
  const rows = document.querySelectorAll('table[aria-label=\"Caches\"] tbody tr').length;
  done({ ms: measure.duration, rows });
});
observer.observe({ type: 'mark' });
performance.mark('georep:filter-click');
button.click();";

/// A running chromedriver, stopped when dropped.
pub struct Driver {
    child: Child,
    base: String,
    agent: ureq::Agent,
    work: PathBuf,
    sessions: usize,
}

impl Driver {
    /// Starts chromedriver on a free port; browsers' profiles go in `work`.
    pub fn start(work: &Path) -> Result<Driver> {
        std::fs::create_dir_all(work)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = std::fs::File::create(work.join("chromedriver.log"))?;
        say(format!("$ {CHROMEDRIVER} --port={port}"));
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("cannot start chromedriver (Debian's chromium-driver)")?;
        let driver = Driver {
            child,
            base: format!("http://127.0.0.1:{port}"),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(300)))
                .build()
                .into(),
            work: work.to_owned(),
            sessions: 0,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(status) = driver.call("GET", "/status", None) {
                if status["ready"] == json!(true) {
                    return Ok(driver);
                }
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not get ready");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new browser with a fresh profile: nothing cached, a cold load.
    pub fn session(&mut self) -> Result<Session<'_>> {
        self.sessions += 1;
        let profile = self.work.join(format!("profile-{}", self.sessions));
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    "--window-size=1366,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
            "timeouts": {"script": LOAD_TIMEOUT.as_millis() as u64,
                         "pageLoad": LOAD_TIMEOUT.as_millis() as u64},
        }}});
        let created = self.call("POST", "/session", Some(&capabilities))?;
        let id = created["sessionId"]
            .as_str()
            .context("chromedriver gave no session id")?
            .to_owned();
        Ok(Session {
            driver: self,
            id,
            profile,
        })
    }

    /// One WebDriver command; its `value`, or the WebDriver error.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .send_json(body.cloned().unwrap_or_else(|| json!({}))),
        };
        let mut response = response.with_context(|| format!("WebDriver {method} {path}"))?;
        let answer: Value = response.body_mut().read_json()?;
        let value = answer["value"].clone();
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            let message = value["message"].as_str().unwrap_or("");
            bail!("WebDriver {method} {path}: {error}: {message}");
        }
        Ok(value)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser; closed (and its profile removed) when dropped.
pub struct Session<'a> {
    driver: &'a Driver,
    id: String,
    profile: PathBuf,
}

impl Session<'_> {
    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        self.driver
            .call(method, &format!("/session/{}{path}", self.id), body)
    }

    /// Loads `url` (returns once the document has loaded).
    pub fn navigate(&self, url: &str) -> Result<()> {
        self.command("POST", "/url", Some(&json!({ "url": url })))
            .map(drop)
    }

    /// Runs a synchronous script.
    pub fn execute(&self, script: &str, args: Value) -> Result<Value> {
        self.command(
            "POST",
            "/execute/sync",
            Some(&json!({"script": script, "args": args})),
        )
    }

    /// Runs a script that answers through its last argument, a callback.
    pub fn execute_async(&self, script: &str, args: Value) -> Result<Value> {
        self.command(
            "POST",
            "/execute/async",
            Some(&json!({"script": script, "args": args})),
        )
    }

    /// Waits for the console's first paint of the cache list; its time
    /// from navigation start, in ms.
    pub fn list_rendered_ms(&self) -> Result<f64> {
        let deadline = Instant::now() + LOAD_TIMEOUT;
        loop {
            if let Some(ms) = self.execute(READ_LIST_RENDERED, json!([]))?.as_f64() {
                return Ok(ms);
            }
            if Instant::now() > deadline {
                bail!("the console did not show its cache list within {LOAD_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The regions the map's chips offer.
    pub fn regions(&self) -> Result<Vec<String>> {
        let regions = self.execute(READ_REGIONS, json!([]))?;
        Ok(regions
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Clicks `region`'s chip; the time to the filtered list's paint (ms)
    /// and the rows it shows.
    pub fn filter(&self, region: &str) -> Result<(f64, u64)> {
        let answer = self.execute_async(CLICK_REGION, json!([region]))?;
        if let Some(error) = answer["error"].as_str() {
            bail!("{error}");
        }
        let ms = answer["ms"].as_f64().context("no filter time")?;
        Ok((ms, answer["rows"].as_u64().unwrap_or(0)))
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self.command("DELETE", "", None);
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
