//! Start-up and shutdown: open the data directory, bring the fleet back,
//! seed the demo, serve until told to stop.

use std::sync::Arc;

use tokio::net::TcpListener;

use crate::api::auth::Token;
use crate::api::{self, canonical_path};
use crate::config::Config;
use crate::control::app::{App, SharedApp};
use crate::control::{ha, recovery, subscriptions};
use crate::dataplane::fleet::Fleet;
use crate::demo;
use crate::store::Store;

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
    // Listen before any node starts: a server that can't listen (the port
    // is taken) must not leave nodes behind.
    let listener = TcpListener::bind(config.listen).await?;
    let address = listener.local_addr()?;
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
            base_url: format!("http://{address}"),
        },
    );
    // Canonicalize ARM paths before routing (see api::normalize).
    let service = tower::util::MapRequestLayer::new(canonical_path).layer(router);

    tracing::info!(%address, data_dir = %data_dir.display(), "georep-server is serving");
    // The login URL goes to stdout only, never to the logs.
    println!("georep-server listening on http://{address}");
    println!(
        "Open the console: http://{address}/#token={}",
        token.expose()
    );

    let events = app.events.clone();
    axum::serve(listener, tower::make::Shared::new(service))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Open event streams would keep the server waiting forever.
            events.close();
        })
        .await?;

    tracing::info!("stopping the nodes");
    app.shutting_down();
    // Whatever the watchdog is doing finishes first (it holds the lock).
    drop(app.lock_changes().await);
    app.fleet.shutdown().await;
    Ok(())
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
