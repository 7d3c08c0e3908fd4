//! Conformance with the official Azure SDK for Python (`azure-mgmt-redis`,
//! `azure-identity`): tests/sdk/conformance.py lists caches, reads keys, and
//! creates, gets, lists and deletes a linked server against a live server
//! over HTTPS, through the SDK's own long-running-operation poller and
//! bearer policy, with `DefaultAzureCredential` finding the server's
//! managed identity from `DATA_DIR/azure-env.sh`. The JavaScript SDK
//! (`@azure/arm-rediscache`, `@azure/identity`; tests/sdk/conformance.cjs)
//! does the same with Node, trusting the CA through `NODE_EXTRA_CA_CERTS`.

use std::path::PathBuf;

use crate::support::{venv_python, Server, RG, SUB};
use serde_json::json;

#[tokio::test]
async fn the_official_python_sdk_manages_caches_and_links() {
    let python = venv_python("azure.mgmt.redis, azure.core, azure.identity");
    let dir = std::sync::Arc::new(tempfile::TempDir::new().expect("temp dir"));
    let server = Server::start_with(dir, &["--listen-tls", "127.0.0.1:0"]);
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
    let output = sdk_script(python, "conformance.py", &server)
        .env("GEOREP_PRIMARY", "sdk-primary")
        .env("GEOREP_SECONDARY", "sdk-secondary")
        .env("GEOREP_INCOMPATIBLE", "sdk-standard")
        .output()
        .await
        .expect("python runs");
    assert_all_checks_passed(&output, "the SDK script");
}

/// `program tests/sdk/{script}` against `server`'s HTTPS API, with the
/// managed identity from its `azure-env.sh` as the only credential
/// `DefaultAzureCredential`'s chain can find.
fn sdk_script(
    program: impl AsRef<std::ffi::OsStr>,
    script: &str,
    server: &Server,
) -> tokio::process::Command {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sdk")
        .join(script);
    let env = server.azure_env().expect("the server wrote azure-env.sh");
    let mut command = tokio::process::Command::new(program);
    command
        .arg(path)
        .envs(env)
        .env_remove("AZURE_CLIENT_ID")
        .env_remove("AZURE_TENANT_ID")
        .env("AZURE_CONFIG_DIR", server.data_dir().join("no-az-login"))
        .env(
            "GEOREP_URL",
            server.tls_base().expect("the server serves HTTPS"),
        )
        .env("GEOREP_SUBSCRIPTION", SUB)
        .env("GEOREP_RESOURCE_GROUP", RG);
    command
}

/// The script exited 0 and said so.
fn assert_all_checks_passed(output: &std::process::Output, what: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{what} failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("all checks passed"));
}

/// The set-up's npm packages, with the JavaScript SDK. Set-up installs
/// it, so a missing SDK fails the test rather than skipping it.
fn js_node_modules() -> PathBuf {
    let modules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/node/node_modules");
    for package in ["@azure/identity", "@azure/arm-rediscache"] {
        assert!(
            modules.join(package).join("package.json").exists(),
            "the JavaScript SDK conformance test needs {package} in {}: run `cargo xtask setup`",
            modules.display()
        );
    }
    modules
}

#[tokio::test]
async fn the_official_javascript_sdk_lists_caches_and_links_a_pair() {
    let modules = js_node_modules();
    let dir = std::sync::Arc::new(tempfile::TempDir::new().expect("temp dir"));
    let server = Server::start_with(dir, &["--listen-tls", "127.0.0.1:0"]);
    for (name, location) in [
        ("js-primary", "westeurope"),
        ("js-secondary", "northeurope"),
    ] {
        server
            .create_cache(&Server::cache_path(name), location, json!({}))
            .await;
    }
    let output = sdk_script("node", "conformance.cjs", &server)
        .env("NODE_PATH", modules)
        .env("GEOREP_PRIMARY", "js-primary")
        .env("GEOREP_SECONDARY", "js-secondary")
        .output()
        .await
        .expect("node runs");
    assert_all_checks_passed(&output, "the JS SDK script");
}
