//! Headless Chromium through chromedriver, which this harness starts on a
//! free port and stops on drop, with a fresh profile each time.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;
use tempfile::TempDir;

use crate::process;

/// Debian's chromedriver, unless `$CHROMEDRIVER` says otherwise.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's Chromium.
const CHROMIUM: &str = "/usr/bin/chromium";
/// The desktop viewport the walkthrough runs in.
pub const DESKTOP: (u32, u32) = (1280, 800);
/// A phone's viewport.
pub const PHONE: (u32, u32) = (390, 844);

/// A headless Chromium session and the chromedriver that runs it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    // Dropped after `client`: stops chromedriver and any Chromium left.
    processes: Processes,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a fresh profile.
    pub async fn launch() -> Browser {
        let profile = TempDir::with_prefix("georep-e2e-chromium-").expect("a profile directory");
        let port = free_port();
        let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{chromedriver} does not start: {e}"));
        let processes = Processes { driver, profile };
        wait_for_port(port, Duration::from_secs(30));

        let mut options = json!({ "args": chromium_args(processes.profile.path()) });
        if Path::new(CHROMIUM).is_file() {
            options["binary"] = json!(CHROMIUM);
        }
        let mut capabilities = Capabilities::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| panic!("chromedriver could not start Chromium: {e}"));
        Browser { client, processes }
    }

    /// Resizes the window so that the page's viewport is `width` × `height`
    /// (the window is larger by whatever frame the browser keeps).
    pub async fn set_viewport(&self, (width, height): (u32, u32)) {
        let frame: (u32, u32) = self
            .script("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];")
            .await;
        self.client
            .set_window_size(width + frame.0, height + frame.1)
            .await
            .expect("the window resizes");
        let viewport: (u32, u32) = self
            .script("return [window.innerWidth, window.innerHeight];")
            .await;
        assert_eq!(viewport, (width, height), "the viewport's size");
    }

    async fn script<T: serde::de::DeserializeOwned>(&self, script: &str) -> T {
        let value = self
            .client
            .execute(script, vec![])
            .await
            .expect("the page runs a script");
        serde_json::from_value(value).expect("the script's result")
    }

    /// Ends the session, so Chromium quits, then stops chromedriver.
    pub async fn close(self) {
        let Browser { client, processes } = self;
        if let Err(e) = client.close().await {
            eprintln!("closing the WebDriver session failed: {e}");
        }
        drop(processes);
    }
}

/// The flags Chromium runs with.
fn chromium_args(profile: &Path) -> Vec<String> {
    let (width, height) = DESKTOP;
    [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([
        format!("--window-size={width},{height}"),
        format!("--user-data-dir={}", profile.display()),
    ])
    .collect()
}

/// Chromedriver, and the profile that tells our Chromium processes apart.
struct Processes {
    driver: Child,
    profile: TempDir,
}

impl Drop for Processes {
    /// Stops chromedriver, then any Chromium still using the profile (left
    /// behind when the session could not be ended, e.g. a failed test).
    fn drop(&mut self) {
        process::terminate(&mut self.driver, Duration::from_secs(10));
        let marker = format!("--user-data-dir={}", self.profile.path().display());
        for pid in process::with_argument_containing(&marker) {
            process::signal(pid, libc::SIGKILL);
        }
    }
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Waits until something accepts connections on `port`.
fn wait_for_port(port: u16, timeout: Duration) {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + timeout;
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on port {port} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
