//! The command line: where to listen, where to keep state, what to serve.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// A local control plane speaking ARM's `Microsoft.Cache/redis` API over real
/// `redis-server` processes.
#[derive(Debug, Clone, Parser)]
#[command(name = "georep-server", version, about)]
pub struct Config {
    /// The address to serve the API (and the console) on. Port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Also serve the API over HTTPS here (e.g. `127.0.0.1:8443`), with a
    /// certificate from the local CA in the data directory (`ca.pem`): the
    /// az CLI and the Azure SDKs send tokens over HTTPS only.
    #[arg(long)]
    pub listen_tls: Option<SocketAddr>,

    /// Where the token, the control-plane database and the nodes' files live.
    #[arg(long)]
    pub data_dir: PathBuf,

    /// A built console (Trunk's `dist/`) to serve at `/`.
    #[arg(long)]
    pub static_dir: Option<PathBuf>,

    /// Seed a demonstration fleet on first start; later starts keep what is there.
    #[arg(long)]
    pub demo: bool,

    /// An origin allowed to call the API from a browser (repeatable), e.g. `http://127.0.0.1:8081`.
    #[arg(long = "allow-origin")]
    pub allow_origins: Vec<String>,

    /// The `redis-server` executable to run the caches with.
    #[arg(long, default_value = "redis-server")]
    pub redis_server: PathBuf,
}
