//! HAProxy in TCP mode in front of one node: the proxy a user would put
//! in front of a primary themselves, and so the geo-primary URL's peer.
//! The bench starts its own (`/usr/sbin/haproxy -db -f …`, with its own
//! config in the run's scratch directory), never the system's service,
//! and kills it when dropped.

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// Debian's haproxy, which `cargo xtask setup` installs.
pub const BINARY: &str = "/usr/sbin/haproxy";

/// A running HAProxy.
pub struct Haproxy {
    child: Child,
    /// Its frontend.
    pub addr: SocketAddr,
    /// Its version line (`HAProxy version 2.6.12-1+deb12u4 …`).
    pub version: String,
}

/// The config: one TCP frontend on `frontend`, one backend server.
pub fn config(frontend: SocketAddr, backend: SocketAddr) -> String {
    let mut text = String::new();
    let mut line = |l: &str| {
        let _ = writeln!(text, "{l}");
    };
    line("# Written by georep-bench for one run.");
    line("global");
    line("    maxconn 4096");
    line("defaults");
    line("    mode tcp");
    line("    timeout connect 5s");
    line("    timeout client 1m");
    line("    timeout server 1m");
    line("frontend redis");
    line(&format!("    bind {frontend}"));
    line("    default_backend primary");
    line("backend primary");
    line(&format!("    server primary {backend}"));
    text
}

impl Haproxy {
    /// Starts HAProxy on a free 127.0.0.1 port in front of `backend`,
    /// with its config and log in `dir` (created); waits until its
    /// frontend accepts connections. Fails (with the reason) if Debian's
    /// haproxy is not installed.
    pub fn start(dir: &Path, backend: SocketAddr) -> Result<Haproxy> {
        if !Path::new(BINARY).is_file() {
            bail!("{BINARY} is not installed (Debian's haproxy; `cargo xtask setup` installs it)");
        }
        let version = Command::new(BINARY)
            .arg("-v")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|text| text.lines().next().map(str::to_owned))
            .unwrap_or_default();
        std::fs::create_dir_all(dir)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let path: PathBuf = dir.join("haproxy.cfg");
        std::fs::write(&path, config(addr, backend))?;
        let log = std::fs::File::create(dir.join("haproxy.log"))?;
        let child = Command::new(BINARY)
            .arg("-db")
            .arg("-f")
            .arg(&path)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {BINARY}"))?;
        let mut proxy = Haproxy {
            child,
            addr,
            version,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
            if let Ok(Some(status)) = proxy.child.try_wait() {
                let log = std::fs::read_to_string(dir.join("haproxy.log")).unwrap_or_default();
                bail!("haproxy exited ({status}): {}", log.trim());
            }
            if Instant::now() > deadline {
                bail!("haproxy did not listen on {addr} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(proxy)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_is_one_tcp_frontend_and_one_server() {
        let text = config(
            "127.0.0.1:40000".parse().unwrap(),
            "127.9.0.3:6379".parse().unwrap(),
        );
        assert!(text.contains("    mode tcp\n"), "{text}");
        assert!(text.contains("    bind 127.0.0.1:40000\n"), "{text}");
        assert!(
            text.contains("    server primary 127.9.0.3:6379\n"),
            "{text}"
        );
    }
}
