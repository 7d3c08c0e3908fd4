//! `cargo xtask bench [--quick]`: the set-up and the builds, then the
//! benchmarks themselves, which live in `crates/bench` (`georep-bench`):
//! `cargo run --release -p georep-bench -- [--quick] …`, told where the
//! built console and server are, or why they are not there. It prints a
//! table and writes `target/bench/latest.json` and `latest.md`.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::cmd::{say, Cmd};
use crate::{console, project, setup};

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The reduced run: under 5 minutes once built.
    pub quick: bool,
}

impl Options {
    /// Parses `[--quick]`.
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut quick = false;
        for arg in args {
            match arg.as_str() {
                "--quick" => quick = true,
                other => bail!("`bench` does not know the argument `{other}` (try --quick)"),
            }
        }
        Ok(Self { quick })
    }
}

/// Sets up, builds the console and the server (not timed), then runs the
/// benchmarks. A build that fails is reported by the benchmarks (its
/// figures are `n/a`, with the reason); the others still run.
pub fn run(options: &Options) -> Result<()> {
    setup::run()?;
    say("\n==> bench: building the console and georep-server (not timed)");
    let dist = console::build_dist();
    let server = build_server();

    let mut bench = Cmd::cargo().args(["run", "--release", "--package", "georep-bench", "--"]);
    if options.quick {
        bench = bench.arg("--quick");
    }
    bench = match dist {
        Ok(dir) => bench.arg("--dist").arg(dir),
        Err(err) => bench.arg("--no-dist").arg(format!("{err:#}")),
    };
    bench = match server {
        Ok(binary) => bench.arg("--server-bin").arg(binary),
        Err(err) => bench.arg("--no-server").arg(format!("{err:#}")),
    };
    bench.run()
}

/// `cargo build --release -p georep-server`; the binary's path.
fn build_server() -> Result<PathBuf> {
    Cmd::cargo()
        .args(["build", "--release", "-p", "georep-server"])
        .run()?;
    let binary = project::target_dir().join("release").join("georep-server");
    if !binary.is_file() {
        bail!("the build left no {}", binary.display());
    }
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options> {
        let args: Vec<String> = args.iter().map(|&a| a.to_owned()).collect();
        Options::parse(&args)
    }

    #[test]
    fn quick_is_the_only_option() {
        assert!(!parse(&[]).unwrap().quick);
        assert!(parse(&["--quick"]).unwrap().quick);
        assert!(parse(&["--fast"]).is_err());
    }
}
