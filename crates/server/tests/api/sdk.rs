//! Conformance with the official Azure SDK for Python (`azure-mgmt-redis`):
//! tests/sdk/conformance.py lists caches, reads keys, and creates, gets,
//! lists and deletes a linked server against a live server, through the
//! SDK's own long-running-operation poller.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{Server, RG, SUB};
use serde_json::json;

/// The venv `cargo xtask setup` makes, with the SDK installed. Set-up
/// installs it, so a missing SDK fails the test rather than skipping it.
fn sdk_python() -> PathBuf {
    let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/venv/bin/python");
    let has_sdk = Command::new(&python)
        .args(["-c", "import azure.mgmt.redis, azure.core"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_sdk,
        "the Azure SDK conformance test needs {} with azure-mgmt-redis: run `cargo xtask setup`",
        python.display()
    );
    python
}

#[tokio::test]
async fn the_official_python_sdk_manages_caches_and_links() {
    let python = sdk_python();
    let server = Server::start();
    server
        .create_cache(&Server::cache_path("sdk-primary"), "westeurope", json!({}))
        .await;
    server
        .create_cache(
            &Server::cache_path("sdk-secondary"),
            "northeurope",
            json!({}),
        )
        .await;
    server
        .create_cache(
            &Server::cache_path("sdk-standard"),
            "eastus",
            json!({"sku": {"name": "Standard", "family": "C", "capacity": 3}}),
        )
        .await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/conformance.py");
    let output = tokio::process::Command::new(python)
        .arg(script)
        .env("GEOREP_URL", server.base())
        .env("GEOREP_TOKEN", server.token())
        .env("GEOREP_SUBSCRIPTION", SUB)
        .env("GEOREP_RESOURCE_GROUP", RG)
        .env("GEOREP_PRIMARY", "sdk-primary")
        .env("GEOREP_SECONDARY", "sdk-secondary")
        .env("GEOREP_INCOMPATIBLE", "sdk-standard")
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the SDK script failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"));
}
