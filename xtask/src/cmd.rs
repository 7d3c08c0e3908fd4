//! Running external commands: each one is echoed before it runs, and a
//! failure becomes an error that names the command.

use std::ffi::OsStr;
use std::io::{self, BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::project;

/// A command to run from the repository root, with a printable form.
pub struct Cmd {
    command: Command,
    shown: String,
}

impl Cmd {
    /// A command that runs `program` in the repository root, with no stdin.
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let program = program.as_ref();
        let mut command = Command::new(program);
        command.current_dir(project::root()).stdin(Stdio::null());
        Self {
            command,
            shown: quote(program),
        }
    }

    /// A `cargo` command, using the cargo that runs us (same toolchain),
    /// shown simply as `cargo`.
    pub fn cargo() -> Self {
        let mut cmd = Self::new(project::cargo());
        cmd.shown = "cargo".to_owned();
        cmd
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.shown.push(' ');
        self.shown.push_str(&quote(arg.as_ref()));
        self.command.arg(arg);
        self
    }

    /// Adds several arguments.
    pub fn args<I>(self, args: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<OsStr>,
    {
        args.into_iter().fold(self, Cmd::arg)
    }

    /// Sets an environment variable for the command (shown as a prefix).
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.shown = format!("{key}={} {}", quote(value.as_ref()), self.shown);
        self.command.env(key, value);
        self
    }

    /// Echoes and runs the command; fails unless it exits successfully.
    pub fn run(mut self) -> Result<()> {
        echo(&self.shown);
        let status = self
            .command
            .status()
            .with_context(|| format!("cannot start `{}`", self.shown))?;
        if !status.success() {
            bail!("`{}` failed ({status})", self.shown);
        }
        Ok(())
    }

    /// Like [`Cmd::run`], but also hands every line the command prints on
    /// stdout to `on_line` (after printing it), e.g. to count test results.
    pub fn run_watching_stdout(mut self, mut on_line: impl FnMut(&str)) -> Result<()> {
        echo(&self.shown);
        let mut child = self
            .command
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start `{}`", self.shown))?;
        if let Some(stdout) = child.stdout.take() {
            forward_lines(stdout, &mut on_line)
                .with_context(|| format!("reading the output of `{}`", self.shown))?;
        }
        let status = child
            .wait()
            .with_context(|| format!("waiting for `{}`", self.shown))?;
        if !status.success() {
            bail!("`{}` failed ({status})", self.shown);
        }
        Ok(())
    }

    /// Runs the command quietly, as a probe: its stdout if it exits
    /// successfully, `None` if it fails or cannot start.
    pub fn probe_output(mut self) -> Option<String> {
        let output = self.command.stderr(Stdio::null()).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Runs the command quietly, as a probe: whether it exits successfully.
    pub fn probe(self) -> bool {
        self.probe_output().is_some()
    }
}

/// Prints a line to stdout (flushed, so it keeps its place among the
/// output of the commands we run).
pub fn say(line: impl AsRef<str>) {
    if cfg!(test) {
        // Let the test harness capture it.
        println!("{}", line.as_ref());
        return;
    }
    let mut stdout = io::stdout().lock();
    // A closed stdout is no reason to stop the build.
    let _ = writeln!(stdout, "{}", line.as_ref());
    let _ = stdout.flush();
}

/// Prints a command before it runs.
fn echo(shown: &str) {
    say(format!("$ {shown}"));
}

/// Copies a child's output to our stdout line by line, calling `on_line`.
fn forward_lines(source: impl io::Read, on_line: &mut impl FnMut(&str)) -> io::Result<()> {
    let mut reader = BufReader::new(source);
    let mut raw = Vec::new();
    while reader.read_until(b'\n', &mut raw)? > 0 {
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end_matches(['\n', '\r']);
        say(line);
        on_line(line);
        raw.clear();
    }
    Ok(())
}

/// Shell-like quoting for display only.
fn quote(word: &OsStr) -> String {
    let word = word.to_string_lossy();
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@~+,%".contains(c));
    if plain {
        word.into_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_command_with_its_environment_and_quoting() {
        let cmd = Cmd::new("cargo")
            .args(["install", "trunk", "--version", "~0.21"])
            .arg("two words")
            .env("CHROMEDRIVER", "/usr/bin/chromedriver");
        assert_eq!(
            cmd.shown,
            "CHROMEDRIVER=/usr/bin/chromedriver cargo install trunk --version ~0.21 'two words'"
        );
    }

    #[test]
    fn probes_report_success_and_output() {
        assert_eq!(
            Cmd::new("sh").args(["-c", "echo hi"]).probe_output(),
            Some("hi\n".to_owned())
        );
        assert!(!Cmd::new("sh").args(["-c", "exit 3"]).probe());
        assert!(!Cmd::new("/nonexistent/program").probe());
    }

    #[test]
    fn failures_name_the_command() {
        let err = Cmd::new("sh").args(["-c", "exit 3"]).run().unwrap_err();
        assert!(err.to_string().contains("`sh -c 'exit 3'` failed"), "{err}");
    }

    #[test]
    fn watching_stdout_sees_every_line() {
        let mut seen = Vec::new();
        Cmd::new("sh")
            .args(["-c", "printf 'a\\nb\\n'"])
            .run_watching_stdout(|line| seen.push(line.to_owned()))
            .unwrap();
        assert_eq!(seen, ["a", "b"]);
    }
}
