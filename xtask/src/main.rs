//! `cargo xtask`: the project's own automation, in Rust.
//!
//! Every command installs what it needs (see [`setup`]) and prints each
//! external command before it runs it, so a fresh machine needs nothing but
//! Rust and the commands in the README.

mod bench;
mod cmd;
mod console;
mod demo;
mod lockfile;
mod project;
mod setup;
mod split;
mod test;

use std::process::ExitCode;

use anyhow::{bail, Result};

const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  setup              Install the missing tools (Rust target, Debian packages,
                     trunk, wasm-bindgen-cli, wasm-opt, Python SDK venv)
  build-console      Build the console into dist/ with Trunk (release, offline)
  test               Set up, then run every test layer that exists
  demo [--listen ADDR]
                     Set up, build the console and run georep-server with demo
                     data (default ADDR: 127.0.0.1:8080)
  bench [--quick]    Set up, build, then measure the console, the API, the
                     proxy, full sync and failover; print a table and write
                     target/bench/latest.json (--quick: under 5 minutes)
  help               Show this message
";

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Setup,
    BuildConsole,
    Test,
    Demo(demo::Options),
    Bench(bench::Options),
    Help,
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Turns the arguments after `cargo xtask` into a [`Command`].
fn parse(mut args: impl Iterator<Item = String>) -> Result<Command> {
    let Some(name) = args.next() else {
        bail!("no command given\n\n{USAGE}");
    };
    let rest: Vec<String> = args.collect();
    let command = match name.as_str() {
        "setup" => Command::Setup,
        "build-console" => Command::BuildConsole,
        "test" => Command::Test,
        "demo" => return Ok(Command::Demo(demo::Options::parse(&rest)?)),
        "bench" => return Ok(Command::Bench(bench::Options::parse(&rest)?)),
        "help" | "--help" | "-h" => Command::Help,
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    };
    if let Some(extra) = rest.first() {
        bail!("`{name}` takes no arguments, got `{extra}`\n\n{USAGE}");
    }
    Ok(command)
}

/// Runs one command.
fn run(command: Command) -> Result<()> {
    project::extend_path()?;
    match command {
        Command::Setup => setup::run(),
        Command::BuildConsole => console::build(),
        Command::Test => test::run(),
        Command::Demo(options) => demo::run(&options),
        Command::Bench(options) => bench::run(&options),
        Command::Help => {
            print!("{USAGE}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command> {
        parse(line.split_whitespace().map(String::from))
    }

    #[test]
    fn parses_every_command() {
        assert_eq!(parse_str("setup").unwrap(), Command::Setup);
        assert_eq!(parse_str("build-console").unwrap(), Command::BuildConsole);
        assert_eq!(parse_str("test").unwrap(), Command::Test);
        assert_eq!(parse_str("help").unwrap(), Command::Help);
        assert!(matches!(parse_str("demo").unwrap(), Command::Demo(_)));
        assert_eq!(
            parse_str("bench --quick").unwrap(),
            Command::Bench(bench::Options { quick: true })
        );
    }

    #[test]
    fn rejects_unknown_commands_and_stray_arguments() {
        assert!(parse_str("").is_err());
        assert!(parse_str("bench --slow").is_err());
        assert!(parse_str("test --quick").is_err());
    }
}
