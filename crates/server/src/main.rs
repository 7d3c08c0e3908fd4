//! `georep-server --listen 127.0.0.1:8080 --data-dir DIR [--static-dir dist] [--demo]`

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use georep_server::config::Config;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = Config::parse();
    match georep_server::server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("georep-server: {error}");
            ExitCode::FAILURE
        }
    }
}
