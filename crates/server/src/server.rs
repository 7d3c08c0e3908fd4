//! Start-up and shutdown: open the data directory, bring the fleet back,
//! seed the demo, serve until told to stop.

use std::future::IntoFuture;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use tokio::net::TcpListener;

use crate::api::auth::Token;
use crate::api::{self, canonical_path, Urls};
use crate::config::Config;
use crate::control::app::{App, SharedApp};
use crate::control::{ha, recovery, subscriptions};
use crate::dataplane::fleet::Fleet;
use crate::demo;
use crate::identity::Identity;
use crate::store::Store;
use crate::tls::LocalCa;

/// The file in the data directory with the environment for the Azure tools.
pub const AZURE_ENV_FILE: &str = "azure-env.sh";

/// Why the server could not run.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), Error> {
    // Every file this server and its nodes write (the store with the keys,
    // node configs, logs, snapshots, exports) is readable by its owner only.
    // SAFETY: umask(2) only sets the process's file-mode mask.
    unsafe {
        libc::umask(0o077);
    }
    std::fs::create_dir_all(&config.data_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let data_dir = std::fs::canonicalize(&config.data_dir)?;
    let token = Token::load_or_create(&data_dir)?;
    let ca = LocalCa::load_or_create(&data_dir)?;
    // Listen before any node starts: a server that can't listen (the port
    // is taken) must not leave nodes behind.
    let listener = TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
    let tls_listener = match config.listen_tls {
        Some(addr) => {
            let listener = std::net::TcpListener::bind(addr)?;
            listener.set_nonblocking(true)?;
            Some(listener)
        }
        None => None,
    };
    let urls = Urls {
        http: url("http", address),
        https: match &tls_listener {
            Some(l) => Some(url("https", l.local_addr()?)),
            None => None,
        },
    };
    let own_urls: Vec<String> = [Some(urls.http.clone()), urls.https.clone()]
        .into_iter()
        .flatten()
        .collect();
    let identity = Arc::new(Identity::load_or_create(
        &data_dir,
        subscriptions::TENANT,
        &own_urls,
    )?);
    let env_file = write_azure_env(&data_dir, &urls, &identity, &ca)?;

    let store = Arc::new(Store::open(&data_dir)?);
    let fleet = Fleet::new(&data_dir, &config.redis_server, store.clone())?;
    let app: SharedApp = Arc::new(App::new(store, fleet, data_dir.clone()));
    app.monitor.start();

    subscriptions::ensure_default(&app)?;
    recovery::resume(&app).await?;
    ha::start(app.clone());
    if config.demo {
        demo::seed(&app).await?;
    }

    let router = api::router(
        app.clone(),
        api::Options {
            token: token.clone(),
            static_dir: config.static_dir.clone(),
            allow_origins: config.allow_origins.clone(),
            identity: identity.clone(),
            urls: urls.clone(),
        },
    );
    // Canonicalize ARM paths before routing (see api::normalize).
    let service = tower::util::MapRequestLayer::new(canonical_path)
        .layer(api::at(router.clone(), urls.http.clone()));

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let tls_task = match (tls_listener, &urls.https) {
        (Some(listener), Some(base)) => {
            let tls = RustlsConfig::from_config(ca.server_config(listener.local_addr()?.ip())?);
            // axum-server hands over hyper's body; the router reads axum's.
            let service = tower::util::MapRequestLayer::new(
                |request: axum::http::Request<hyper::body::Incoming>| {
                    canonical_path(request.map(axum::body::Body::new))
                },
            )
            .layer(api::at(router, base.clone()));
            let handle = axum_server::Handle::new();
            let server = axum_server::from_tcp_rustls(listener, tls)?.handle(handle.clone());
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let _ = stop.wait_for(|s| *s).await;
                handle.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
            });
            Some(tokio::spawn(
                server.serve(tower::make::Shared::new(service)),
            ))
        }
        _ => None,
    };

    tracing::info!(%address, data_dir = %data_dir.display(), "georep-server is serving");
    // The login URL goes to stdout only, never to the logs.
    let login = format!("{}/#token={}", urls.http, token.expose());
    println!("georep-server listening on {}", urls.http);
    if let Some(https) = &urls.https {
        println!("georep-server listening (TLS) on {https}");
    }
    println!("Open the console: {login}");

    let events = app.events.clone();
    let mut stop = stop_rx.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        // Open event streams would keep the server waiting forever.
        events.close();
        let _ = stop_tx.send(true);
    });
    let serving = tokio::spawn(
        axum::serve(listener, tower::make::Shared::new(service))
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .into_future(),
    );
    // The box comes last, once the demo fleet is up (the API serves
    // meanwhile, so the console can watch it start), not above the lines
    // of the caches starting.
    let mut stopping = stop_rx;
    let ready = async {
        if config.demo {
            demo::wait_until_up(&app).await?;
        }
        println!("{}", banner(&login, &urls, &env_file));
        Ok::<(), Error>(())
    };
    tokio::select! {
        ready = ready => ready?,
        _ = stopping.wait_for(|s| *s) => {}
    }
    serving.await??;
    if let Some(task) = tls_task {
        task.await??;
    }

    tracing::info!("stopping the nodes");
    app.shutting_down();
    // Whatever the watchdog is doing finishes first (it holds the lock).
    drop(app.lock_changes().await);
    app.fleet.shutdown().await;
    Ok(())
}

/// `scheme://addr` for clients: a wildcard listen address is reached at 127.0.0.1.
fn url(scheme: &str, addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        ip => ip,
    };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}

/// Writes `DATA_DIR/azure-env.sh` (0600: it holds the identity's header
/// secret): what the az CLI and the Azure SDKs need to reach this server
/// as if it were Azure. Its path.
fn write_azure_env(
    data_dir: &Path,
    urls: &Urls,
    identity: &Identity,
    ca: &LocalCa,
) -> Result<PathBuf, Error> {
    let path = data_dir.join(AZURE_ENV_FILE);
    let ca_pem = ca.cert_path().display().to_string();
    let quoted = |v: &str| format!("'{}'", v.replace('\'', r"'\''"));
    let mut text = String::from(
        "# georep-server: `source` this file, then the az CLI and the Azure SDKs\n\
         # (DefaultAzureCredential) reach this server as if it were Azure.\n",
    );
    let identity_endpoint = format!("{}{}", urls.http, api::cloud::IDENTITY_PATH);
    for (name, value) in [
        ("IDENTITY_ENDPOINT", identity_endpoint.as_str()),
        ("IDENTITY_HEADER", identity.header_secret()),
        ("REQUESTS_CA_BUNDLE", ca_pem.as_str()),
        ("SSL_CERT_FILE", ca_pem.as_str()),
        ("NODE_EXTRA_CA_CERTS", ca_pem.as_str()),
    ] {
        text.push_str(&format!("export {name}={}\n", quoted(value)));
    }
    crate::tls::write_file(&path, &text, 0o600)?;
    Ok(path)
}

/// The box printed last at start-up: where to go and what to type.
fn banner(login: &str, urls: &Urls, env_file: &Path) -> String {
    let api = format!("{}/", urls.resource_manager());
    let mut lines = vec![
        "georep-server is ready".to_owned(),
        String::new(),
        format!("Console:  {login}"),
        format!("ARM API:  {api}"),
        String::new(),
        "Use the az CLI and the Azure SDKs:".to_owned(),
        format!("  source {}", env_file.display()),
        format!("  az cloud register -n georep --endpoint-resource-manager {api}"),
        "  az cloud set -n georep".to_owned(),
        "  az login --identity".to_owned(),
    ];
    if urls.https.is_none() {
        lines.push("  (the az CLI needs HTTPS: start with --listen-tls 127.0.0.1:8443)".to_owned());
    }
    let width = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let mut out = format!("┌{}┐\n", "─".repeat(width + 2));
    for line in &lines {
        let pad = width - line.chars().count();
        out.push_str(&format!("│ {line}{} │\n", " ".repeat(pad)));
    }
    out.push_str(&format!("└{}┘", "─".repeat(width + 2)));
    out
}

use tower::Layer;

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_boxes_the_login_the_api_and_the_az_steps() {
        let urls = Urls {
            http: "http://127.0.0.1:8080".into(),
            https: Some("https://127.0.0.1:8443".into()),
        };
        let text = banner(
            "http://127.0.0.1:8080/#token=t",
            &urls,
            Path::new("/d/azure-env.sh"),
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with('┌') && lines.last().unwrap().starts_with('└'));
        let width = lines[0].chars().count();
        assert!(lines.iter().all(|l| l.chars().count() == width), "{text}");
        for wanted in [
            "http://127.0.0.1:8080/#token=t",
            "https://127.0.0.1:8443/",
            "source /d/azure-env.sh",
            "az cloud register -n georep --endpoint-resource-manager https://127.0.0.1:8443/",
            "az login --identity",
        ] {
            assert!(text.contains(wanted), "{wanted} in\n{text}");
        }
        assert_eq!(
            url("http", "0.0.0.0:80".parse().unwrap()),
            "http://127.0.0.1:80"
        );
    }
}
