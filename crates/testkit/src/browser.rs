//! Headless Chromium through chromedriver, driven with `fantoccini`.
//!
//! A [`Chromedriver`] runs on a free port until its last handle is
//! dropped; each [`Browser`] it opens is a new Chromium with a fresh
//! profile (nothing cached: a cold load), started with the flags of the
//! repository's `webdriver.json` plus those of a quiet, first-run-free
//! profile. [`Browser::launch`] does both for one browser.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tempfile::TempDir;
use tokio::time::{sleep, Instant};

use crate::{paths, process};

/// Debian's chromedriver, unless `$CHROMEDRIVER` says otherwise.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's Chromium (used when it is there; otherwise chromedriver's own
/// choice).
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// A desktop window, as the walkthroughs use.
pub const DESKTOP: (u32, u32) = (1280, 800);
/// A phone's viewport.
pub const PHONE: (u32, u32) = (390, 844);

/// Flags beyond `webdriver.json`'s: no background traffic, no first-run
/// screens.
const QUIET: [&str; 4] = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
];

/// A running chromedriver; stopped when the last handle is dropped.
#[derive(Debug)]
pub struct Chromedriver {
    child: Mutex<Child>,
    port: u16,
}

impl Chromedriver {
    /// Starts chromedriver (`$CHROMEDRIVER`, else [`CHROMEDRIVER`]) on a
    /// free port and waits until it accepts connections.
    pub async fn start() -> Result<Arc<Chromedriver>> {
        let port = free_port()?;
        let program = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
        let child = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("{program} does not start (Debian's chromium-driver)"))?;
        let driver = Arc::new(Chromedriver {
            child: Mutex::new(child),
            port,
        });
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on port {port} within 30 s");
            }
            sleep(Duration::from_millis(50)).await;
        }
        Ok(driver)
    }

    /// A new headless Chromium with a fresh profile and a `window`-sized
    /// (width × height) window.
    pub async fn open(self: &Arc<Self>, window: (u32, u32)) -> Result<Browser> {
        let profile = TempDir::with_prefix("georep-chromium-")?;
        let mut options = json!({ "args": chromium_args(profile.path(), window)? });
        if Path::new(CHROMIUM).is_file() {
            options["binary"] = json!(CHROMIUM);
        }
        let mut capabilities = Capabilities::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        let browser = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await;
        // Whatever happens, the profile identifies our Chromium processes.
        let client = match browser {
            Ok(client) => client,
            Err(e) => {
                kill_chromium_of(profile.path());
                bail!("chromedriver could not start Chromium: {e}");
            }
        };
        Ok(Browser {
            client,
            profile,
            _driver: self.clone(),
        })
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(|e| e.into_inner());
        process::terminate(child, Duration::from_secs(10));
    }
}

/// A headless Chromium session. Dropping it kills any Chromium still using
/// its profile; [`Browser::close`] ends the session properly first.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    profile: TempDir,
    _driver: Arc<Chromedriver>,
}

impl Browser {
    /// Starts a chromedriver of its own and one Chromium in a [`DESKTOP`]
    /// window.
    pub async fn launch() -> Result<Browser> {
        Chromedriver::start().await?.open(DESKTOP).await
    }

    /// Resizes the window so that the page's viewport is `width` × `height`
    /// (the window is larger by whatever frame the browser keeps), and
    /// checks that it is.
    pub async fn set_viewport(&self, size: (u32, u32)) -> Result<()> {
        set_viewport(&self.client, size).await
    }

    /// Runs a synchronous `script` in the page and reads its result as `T`.
    pub async fn script<T: serde::de::DeserializeOwned>(&self, script: &str) -> Result<T> {
        let value = self
            .client
            .execute(script, vec![])
            .await
            .context("the page does not run a script")?;
        serde_json::from_value(value.clone()).with_context(|| format!("the script gave {value}"))
    }

    /// Ends the session, so Chromium quits; then the profile goes, and
    /// chromedriver stops if no other browser uses it.
    pub async fn close(self) {
        if let Err(e) = self.client.clone().close().await {
            eprintln!("closing the WebDriver session failed: {e}");
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Left behind when the session could not be ended, e.g. a failed
        // test; before the profile directory is removed.
        kill_chromium_of(self.profile.path());
    }
}

/// The flags Chromium runs with: `webdriver.json`'s, [`QUIET`], the
/// window's size and the profile.
fn chromium_args(profile: &Path, (width, height): (u32, u32)) -> Result<Vec<String>> {
    let mut args = paths::webdriver_args()?;
    for flag in QUIET {
        if !args.iter().any(|a| a == flag) {
            args.push(flag.to_owned());
        }
    }
    args.push(format!("--window-size={width},{height}"));
    args.push(format!("--user-data-dir={}", profile.display()));
    Ok(args)
}

/// Kills every process started with `profile` as its user data directory.
fn kill_chromium_of(profile: &Path) {
    let marker = format!("--user-data-dir={}", profile.display());
    for pid in process::with_argument_containing(&marker) {
        process::kill(pid);
    }
}

/// A port nobody listens on right now.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// [`Browser::set_viewport`] for any WebDriver session.
///
/// The window's frame is measured, the window sized to the viewport plus
/// the frame, and the viewport measured again; a window narrower than the
/// browser's minimum reports a frame that is too wide, so the size is then
/// corrected by what the viewport missed. A loaded machine may report the
/// old size for a while after a resize, so each reading waits until two in
/// a row agree.
pub async fn set_viewport(client: &Client, (width, height): (u32, u32)) -> Result<()> {
    let read = |script: &'static str| async move {
        let value = client
            .execute(script, vec![])
            .await
            .context("the page does not run a script")?;
        serde_json::from_value::<(i64, i64)>(value.clone())
            .with_context(|| format!("the script gave {value}"))
    };
    let settled = |script: &'static str| async move {
        let mut last = read(script).await?;
        for _ in 0..20 {
            sleep(Duration::from_millis(100)).await;
            let now = read(script).await?;
            if now == last {
                break;
            }
            last = now;
        }
        anyhow::Ok(last)
    };
    let frame = settled(
        "return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];",
    )
    .await?;
    let wanted = (i64::from(width), i64::from(height));
    let mut window = (wanted.0 + frame.0, wanted.1 + frame.1);
    let mut viewport = (0, 0);
    for _ in 0..5 {
        let size = |n: i64| u32::try_from(n.max(1)).unwrap_or(1);
        client
            .set_window_size(size(window.0), size(window.1))
            .await
            .context("resizing the window")?;
        viewport = settled("return [window.innerWidth, window.innerHeight];").await?;
        if viewport == wanted {
            return Ok(());
        }
        window = (
            window.0 + wanted.0 - viewport.0,
            window.1 + wanted.1 - viewport.1,
        );
    }
    bail!("the viewport is {viewport:?}, not {wanted:?}")
}
