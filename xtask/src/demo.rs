//! `cargo xtask demo`: the console and the server, with demo data: the
//! console and the API on one port, and the API over HTTPS on another for
//! the az CLI and the Azure SDKs.

use anyhow::{bail, Context, Result};

use crate::cmd::{say, Cmd};
use crate::{console, setup};

/// Where the demo server listens unless `--listen` says otherwise.
const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Where it serves HTTPS unless `--listen-tls` says otherwise.
const DEFAULT_LISTEN_TLS: &str = "127.0.0.1:8443";

/// The demo's control-plane data, relative to the repository root.
const DATA_DIR: &str = ".data/demo";

/// Options of `cargo xtask demo`.
#[derive(Debug, PartialEq, Eq)]
pub struct Options {
    /// The address the server listens on.
    pub listen: String,
    /// The address it serves HTTPS on.
    pub listen_tls: String,
}

impl Options {
    /// Parses `[--listen ADDR | --listen=ADDR] [--listen-tls ADDR | --listen-tls=ADDR]`.
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut listen = DEFAULT_LISTEN.to_owned();
        let mut listen_tls = DEFAULT_LISTEN_TLS.to_owned();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            if arg == "--listen" {
                listen = args.next().context("`--listen` needs an address")?.clone();
            } else if let Some(value) = arg.strip_prefix("--listen=") {
                listen = value.to_owned();
            } else if arg == "--listen-tls" {
                listen_tls = args
                    .next()
                    .context("`--listen-tls` needs an address")?
                    .clone();
            } else if let Some(value) = arg.strip_prefix("--listen-tls=") {
                listen_tls = value.to_owned();
            } else {
                bail!(
                    "`demo` does not know the argument `{arg}` (try --listen ADDR, --listen-tls ADDR)"
                );
            }
        }
        Ok(Self { listen, listen_tls })
    }
}

/// Sets up, builds the console, then runs the server until it is stopped.
pub fn run(options: &Options) -> Result<()> {
    setup::run()?;
    let dist = console::build_dist()?;
    say(format!(
        "==> demo: starting georep-server on http://{} and https://{} (Ctrl-C stops it)",
        options.listen, options.listen_tls
    ));
    Cmd::cargo()
        .args(["run", "--release", "-p", "georep-server", "--"])
        .args(["--listen", &options.listen])
        .args(["--listen-tls", &options.listen_tls])
        .args(["--data-dir", DATA_DIR])
        .arg("--static-dir")
        .arg(dist)
        .arg("--demo")
        .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        Options::parse(&args)
    }

    #[test]
    fn listens_on_the_default_address_unless_told() {
        assert_eq!(parse(&[]).unwrap().listen, DEFAULT_LISTEN);
        assert_eq!(
            parse(&["--listen", "0.0.0.0:9000"]).unwrap().listen,
            "0.0.0.0:9000"
        );
        assert_eq!(
            parse(&["--listen=127.0.0.1:1"]).unwrap().listen,
            "127.0.0.1:1"
        );
    }

    #[test]
    fn serves_https_beside_http_unless_told() {
        assert_eq!(parse(&[]).unwrap().listen_tls, DEFAULT_LISTEN_TLS);
        assert_eq!(
            parse(&["--listen-tls", "127.0.0.1:9443"])
                .unwrap()
                .listen_tls,
            "127.0.0.1:9443"
        );
        assert_eq!(
            parse(&["--listen-tls=127.0.0.1:1"]).unwrap().listen_tls,
            "127.0.0.1:1"
        );
    }

    #[test]
    fn rejects_unknown_or_incomplete_arguments() {
        assert!(parse(&["--listen-tls"]).is_err());
        assert!(parse(&["--listen"]).is_err());
        assert!(parse(&["--port", "1"]).is_err());
    }
}
