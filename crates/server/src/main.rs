//! `georep-server --listen 127.0.0.1:8080 --data-dir DIR [--static-dir dist] [--demo]`

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use georep_server::config::Config;
use tracing_subscriber::EnvFilter;

/// The log filter unless `RUST_LOG` says otherwise.
const DEFAULT_LOG_FILTER: &str = "info,georep_server::dataplane=warn";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            // Node-level detail (listeners moved, nodes started, address
            // blocks) is for debugging: by default a newcomer sees the
            // control plane's steps, and the start-up box last.
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // One TLS provider for every client and server in the process (the
    // drills' Redis connections build their configs from the default), so
    // no dependency's feature choice can leave it ambiguous.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config = Config::parse();
    match georep_server::server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("georep-server: {error}");
            ExitCode::FAILURE
        }
    }
}
