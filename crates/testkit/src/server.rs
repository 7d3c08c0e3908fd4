//! The real `georep-server` binary on a free port (`--listen
//! 127.0.0.1:0`), in a data directory of its own: started, read (its
//! printed address, and its token from `DATA_DIR/api-token`), restarted on
//! the same data, `kill -9`ed, and killed with every node it started when
//! dropped.
//!
//! A server lives in a *home* directory: `HOME/data` is its `--data-dir`
//! and `HOME/server.log` its stderr (appended to across restarts). The
//! home is a fresh temporary directory, removed on drop, unless
//! [`ServerBuilder::home`] names one.
//!
//! [`Server`] dereferences to its [`Api`] client, so `server.get(path)`
//! and `server.call(…)` speak to it directly.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::api::Api;
use crate::{paths, process};

/// What the server prints once it serves: `… http://127.0.0.1:PORT`.
const LISTENING: &str = "georep-server listening on ";
/// What it prints with `--listen-tls`: `… https://127.0.0.1:PORT`.
const LISTENING_TLS: &str = "georep-server listening (TLS) on ";
/// What it prints next: the console's login URL.
const LOGIN: &str = "Open the console: ";
/// The file in the data directory that holds the API token.
const TOKEN_FILE: &str = "api-token";
/// How long [`Server::shutdown`] lets processes in the data directory
/// finish exiting after the server has.
pub const LEFT_GRACE: Duration = Duration::from_secs(5);

/// How to start a server; [`Server::builder`] makes one.
#[derive(Debug, Clone)]
pub struct ServerBuilder {
    binary: Option<PathBuf>,
    home: Option<PathBuf>,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    startup: Duration,
    shutdown: Duration,
}

impl ServerBuilder {
    /// The binary to run; by default [`paths::server_binary`].
    pub fn binary(mut self, binary: impl Into<PathBuf>) -> Self {
        self.binary = Some(binary.into());
        self
    }

    /// The home directory (created if missing, kept afterwards) instead of
    /// a temporary one.
    pub fn home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.home = Some(dir.into());
        self
    }

    /// One more environment variable for the server (e.g. `RUST_LOG`).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// One more command-line argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// `--demo`: the demo fleet is seeded at start.
    pub fn demo(self) -> Self {
        self.arg("--demo")
    }

    /// `--listen-tls 127.0.0.1:0`: the server also serves the API over
    /// HTTPS on a free port ([`Server::tls_base`]), with its local CA's
    /// certificate (`DATA_DIR/ca.pem`).
    pub fn tls(self) -> Self {
        self.arg("--listen-tls").arg("127.0.0.1:0")
    }

    /// `--static-dir DIR`: the server serves the built console from `dir`.
    pub fn static_dir(self, dir: &Path) -> Self {
        self.arg("--static-dir").arg(dir)
    }

    /// How long the server may take to print its address (default 120 s,
    /// enough to seed the demo fleet on a busy machine).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup = timeout;
        self
    }

    /// How long [`Server::terminate`] waits for a graceful stop before it
    /// kills the server (default 120 s: it saves every node first).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown = timeout;
        self
    }

    /// Starts the server and waits until it serves.
    pub fn start(self) -> Result<Server> {
        let binary = match &self.binary {
            Some(binary) => binary.clone(),
            None => paths::server_binary()?,
        };
        let home = match &self.home {
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                Home::Kept(dir.canonicalize()?)
            }
            None => Home::Temporary(TempDir::with_prefix("georep-testkit-")?),
        };
        let mut server = Server {
            child: None,
            api: Api::new("", ""),
            tls_base: None,
            binary,
            spec: self,
            home,
        };
        server.launch()?;
        Ok(server)
    }
}

/// Where a server's data and log live.
#[derive(Debug)]
enum Home {
    Temporary(TempDir),
    Kept(PathBuf),
}

impl Home {
    fn path(&self) -> &Path {
        match self {
            Home::Temporary(dir) => dir.path(),
            Home::Kept(dir) => dir,
        }
    }
}

/// A running `georep-server`. Dropping it kills it (`SIGKILL`) and every
/// node still running in its data directory; [`Server::terminate`] and
/// [`Server::shutdown`] stop it gracefully instead.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    api: Api,
    tls_base: Option<String>,
    binary: PathBuf,
    spec: ServerBuilder,
    // Last, so the directory outlives the processes that write in it.
    home: Home,
}

impl Server {
    /// How to start one: binary, home, arguments, timeouts.
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            binary: None,
            home: None,
            args: Vec::new(),
            envs: Vec::new(),
            startup: Duration::from_secs(120),
            shutdown: Duration::from_secs(120),
        }
    }

    /// A server with no extra arguments in a fresh temporary home.
    pub fn start() -> Result<Server> {
        Server::builder().start()
    }

    /// Spawns the process and reads where it listens and its token.
    fn launch(&mut self) -> Result<()> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .context("opening the server log")?;
        let mut child = Command::new(&self.binary)
            // Port 0: the kernel picks a free port, and the server prints it.
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(self.data_dir())
            .args(&self.spec.args)
            .envs(self.spec.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("{} does not start", self.binary.display()))?;
        let printed = read_address(&mut child, self.spec.startup);
        self.child = Some(child);
        let (base, tls_base, login) = match printed {
            Ok(printed) => printed,
            Err(e) => {
                self.kill();
                bail!("{e:#}; the server's log:\n{}", self.log_tail());
            }
        };
        let token_file = self.data_dir().join(TOKEN_FILE);
        let token = std::fs::read_to_string(&token_file)
            .with_context(|| format!("reading {}", token_file.display()))?
            .trim()
            .to_owned();
        if login != format!("{base}/#token={token}") {
            bail!("the printed login URL {login} does not carry the token of {TOKEN_FILE}");
        }
        self.api = Api::new(base, token);
        self.tls_base = tls_base;
        Ok(())
    }

    /// `https://127.0.0.1:PORT`, when started with [`ServerBuilder::tls`].
    pub fn tls_base(&self) -> Option<&str> {
        self.tls_base.as_deref()
    }

    /// `DATA_DIR/ca.pem`: the local CA clients trust for [`Server::tls_base`].
    pub fn ca_pem(&self) -> PathBuf {
        self.data_dir().join("ca.pem")
    }

    /// `DATA_DIR/azure-env.sh`: what the Azure tools need, as `(name,
    /// value)` pairs of its `export NAME='value'` lines.
    pub fn azure_env(&self) -> Result<Vec<(String, String)>> {
        let path = self.data_dir().join("azure-env.sh");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        text.lines()
            .filter_map(|line| line.strip_prefix("export "))
            .map(|assignment| {
                let (name, value) = assignment
                    .split_once('=')
                    .with_context(|| format!("no `=` in `{assignment}`"))?;
                let value = value
                    .strip_prefix('\'')
                    .and_then(|v| v.strip_suffix('\''))
                    .with_context(|| format!("`{name}` is not single-quoted"))?;
                Ok((name.to_owned(), value.replace(r"'\''", "'")))
            })
            .collect()
    }

    /// Its API client (also reachable through `Deref`).
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// `http://127.0.0.1:PORT` (a restart may change the port).
    pub fn base(&self) -> &str {
        self.api.base()
    }

    /// The API token (kept in the data directory across restarts).
    pub fn token(&self) -> &str {
        self.api.token()
    }

    /// The console's login URL, `http://127.0.0.1:PORT/#token=…`, as printed.
    pub fn login_url(&self) -> String {
        format!("{}/#token={}", self.base(), self.token())
    }

    /// The home directory (holds `data/` and `server.log`).
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// The data directory the server was given (`--data-dir`).
    pub fn data_dir(&self) -> PathBuf {
        self.home().join("data")
    }

    /// The control plane's own password on the node at `node`, read from the
    /// node's config file in the data directory: what an operator of this
    /// machine can do, and an application (an access key) can't. Each cache
    /// has its own.
    pub fn internal_password(&self, node: SocketAddr) -> Result<String> {
        let path = self
            .data_dir()
            .join("nodes")
            .join(node.ip().to_string())
            .join("redis.conf");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        text.lines()
            .find_map(|line| line.strip_prefix("user georep on >"))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_owned)
            .with_context(|| format!("{} names no internal user", path.display()))
    }

    /// The server's log (its stderr), across restarts.
    pub fn log_path(&self) -> PathBuf {
        self.home().join("server.log")
    }

    /// The log's last 80 lines, without the line per successful request.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log
            .lines()
            .filter(|line| !line.contains(" answered status="))
            .collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }

    /// The server process's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The `redis-server` nodes running in its data directory.
    pub fn node_pids(&self) -> Vec<u32> {
        process::without_forks(process::redis_servers_in(&self.data_dir()))
    }

    /// The process serving the node whose own address is `addr` (as a
    /// cache's `instances[]` list it: `host`, `nonSslPort`; each node runs
    /// in `DATA_DIR/nodes/{its address}`), if exactly one does.
    pub fn node_pid(&self, addr: SocketAddr) -> Option<u32> {
        let dir = self.data_dir().join("nodes").join(addr.ip().to_string());
        match process::without_forks(process::redis_servers_in(&dir))[..] {
            [pid] => Some(pid),
            _ => None,
        }
    }

    /// `kill -9` of the server process only: its nodes keep running, as
    /// after a crash of the control plane. Does nothing if it is stopped.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `kill -9` of every process still running in the data directory
    /// (nodes, and their forks).
    pub fn kill_nodes(&self) {
        for pid in process::working_in(&self.data_dir()) {
            process::kill(pid);
        }
    }

    /// Stops the server with SIGTERM and waits (up to the shutdown
    /// timeout, then kills it); it saves and stops its nodes itself. How it
    /// ended; `None` if it was not running.
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        let grace = self.spec.shutdown;
        self.child
            .take()
            .and_then(|mut child| process::terminate(&mut child, grace))
    }

    /// Starts the server again on the same data directory with the same
    /// arguments, after stopping it gracefully if it still runs (call
    /// [`Server::kill`] first for a crash). Its address may change; its
    /// token stays.
    pub fn restart(&mut self) -> Result<()> {
        self.terminate();
        self.launch()
    }

    /// The processes still running in the data directory once those that
    /// are only finishing have had [`LEFT_GRACE`] to exit: a node's fork
    /// (e.g. `redis-rdb-to-slaves`, which starts with its node's command
    /// line) can outlive its node by a moment.
    fn processes_left(&self) -> Vec<u32> {
        let deadline = Instant::now() + LEFT_GRACE;
        loop {
            let left = process::working_in(&self.data_dir());
            if left.is_empty() || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server gracefully and fails unless it exited cleanly and
    /// left no process running in its data directory (after
    /// [`LEFT_GRACE`]); kills whatever is left either way.
    pub fn shutdown(mut self) -> Result<()> {
        let status = self.terminate();
        let left = self.processes_left();
        let described: Vec<String> = left.iter().map(|&pid| process::describe(pid)).collect();
        self.kill_nodes();
        if !status.is_some_and(|s| s.success()) {
            bail!(
                "georep-server did not stop cleanly ({status:?}); its log:\n{}",
                self.log_tail()
            );
        }
        if !left.is_empty() {
            bail!(
                "georep-server left processes running in its data directory: {}; its log:\n{}",
                described.join("; "),
                self.log_tail()
            );
        }
        Ok(())
    }
}

impl Deref for Server {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            eprintln!("georep-server's log (last lines):\n{}", self.log_tail());
        }
        self.kill();
        self.kill_nodes();
    }
}

/// Reads the server's stdout until it has said where it listens and given
/// its login URL; the rest of its output is drained in the background so
/// the server never blocks on it. `(base, HTTPS base if any, login URL)`.
fn read_address(child: &mut Child, timeout: Duration) -> Result<(String, Option<String>, String)> {
    let stdout = child.stdout.take().context("no stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            // Once nobody listens, keep reading so the server never blocks.
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + timeout;
    let mut base = None;
    let mut tls_base = None;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            let status = child.try_wait().ok().flatten();
            bail!("georep-server printed no address within {timeout:?} (exited: {status:?})");
        };
        if let Some(address) = line.strip_prefix(LISTENING) {
            base = Some(address.trim().to_owned());
        } else if let Some(address) = line.strip_prefix(LISTENING_TLS) {
            tls_base = Some(address.trim().to_owned());
        } else if let Some(url) = line.strip_prefix(LOGIN) {
            let base = base.context("the login URL came before the address")?;
            return Ok((base, tls_base, url.trim().to_owned()));
        }
    }
}
