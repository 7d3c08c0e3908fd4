//! A page whose code never arrives: the built console (`$GEOREP_DIST`),
//! copied without the dashboard's wasm chunk (as a static host that was
//! redeployed with a newer build would answer an open tab), served by a
//! plain static file server, with a real `georep-server` and headless
//! Chromium.
//!
//! 1. the copy is the split build: it has exactly one dashboard chunk to
//!    remove;
//! 2. the cache list shows the cache created through the API;
//! 3. the dashboard says its code did not load, instead of stopping the
//!    console;
//! 4. the console still works: back to the cache list, which still lists
//!    the cache.

use std::path::Path;

use georep_e2e::console::Console;
use georep_e2e::screenshots::{self, Screenshots};
use georep_e2e::server::Server;
use georep_e2e::static_host::StaticHost;
use georep_testkit::paths;

const CACHE: (&str, &str) = ("chunkless-weu", "westeurope");

#[tokio::test(flavor = "current_thread")]
async fn a_page_whose_code_is_missing_says_so_and_the_console_keeps_working() {
    let dist = paths::dist_dir();
    let copy = std::env::temp_dir().join(format!("georep-e2e-chunkless-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    copy_dir(&dist, &copy);
    let dashboard_chunks: Vec<_> = std::fs::read_dir(&copy)
        .expect("the copy")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("split_dashboard") && n.ends_with(".wasm"))
        })
        .collect();
    assert_eq!(
        dashboard_chunks.len(),
        1,
        "the split build has one dashboard chunk: {dashboard_chunks:?}"
    );
    std::fs::remove_file(&dashboard_chunks[0]).expect("the chunk removed");

    let host = StaticHost::serve(&copy, "/sub");
    let server = Server::start_for_origin(&dist, host.origin());
    server.create_cache(CACHE.0, CACHE.1).await;
    let (browser, console) = Console::launch(Screenshots::new(
        screenshots::screenshots_dir().join("chunkless"),
    ))
    .await;
    console.open(&server.login_url_at(&host.url())).await;
    let listed = |rows: &[georep_e2e::console::CacheRow]| rows.iter().any(|r| r.name == CACHE.0);
    console
        .cache_rows_until("the cache in the list", |rows| listed(rows))
        .await;

    let error = console.dashboard_unavailable().await;
    assert!(
        error.contains("did not load") && error.contains("Reload"),
        "the dashboard says why it is missing: {error:?}"
    );

    console.open_caches().await;
    console
        .cache_rows_until("the cache still in the list", |rows| listed(rows))
        .await;

    browser.close().await;
    server.shutdown();
    let _ = std::fs::remove_dir_all(&copy);
}

/// Copies the directory `from` to `to`, subdirectories included.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the copy's directory");
    for entry in std::fs::read_dir(from).expect("the built console") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a file copied");
        }
    }
}
