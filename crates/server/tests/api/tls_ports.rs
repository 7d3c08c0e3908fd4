//! Every node's TLS port (6380), reached with redis-py as an application
//! reaches it: `ssl=True`, the server's local CA (`DATA_DIR/ca.pem`), and
//! hostname checking on, through a cache's address and through the
//! geo-primary URLs, before and after a failover moves them.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde_json::Value;

use crate::support::{
    cache_address, endpoint, fail_over, link_of, linked_pair, primary_node, try_connect,
    venv_python, Server,
};

/// Writes through the first `host=password` and reads back through the
/// others over TLS; the addresses each host's certificate names.
async fn over_tls(server: &Server, targets: &[(SocketAddr, &str)]) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/tls_ports.py");
    let output = tokio::process::Command::new(venv_python("redis"))
        .arg(script)
        .arg(server.data_dir().join("ca.pem"))
        .args(
            targets
                .iter()
                .map(|(addr, key)| format!("{}={key}", addr.ip())),
        )
        .output()
        .await
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "redis-py over TLS failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("the script prints JSON")
}

#[tokio::test]
async fn redis_py_reaches_caches_and_geo_primary_urls_over_tls_with_hostname_checking() {
    let server = Server::start();
    linked_pair(&server, "tls-p", "tls-s").await;
    let (key_p, _) = server.keys("tls-p").await;
    let (key_s, _) = server.keys("tls-s").await;
    let cache_p = cache_address(&server, "tls-p").await;
    let cache_s = cache_address(&server, "tls-s").await;
    let geo_p = endpoint(
        &link_of(&server, "tls-p", "tls-s").await["properties"],
        "geoPrimaryEndpoint",
    );
    let geo_s = endpoint(
        &link_of(&server, "tls-s", "tls-p").await["properties"],
        "geoPrimaryEndpoint",
    );

    // Written through a geo-primary URL, read through the other one, both
    // caches' addresses and a node's own.
    let node_s = primary_node(&server, "tls-s").await;
    let names = over_tls(
        &server,
        &[
            (geo_p, &key_p),
            (geo_s, &key_p),
            (cache_p, &key_p),
            (cache_s, &key_s),
            (node_s, &key_s),
        ],
    )
    .await;
    let named = |host: SocketAddr| -> Vec<String> {
        names[host.ip().to_string()]
            .as_array()
            .unwrap_or_else(|| panic!("no names for {host}: {names}"))
            .iter()
            .map(|n| n.as_str().unwrap().to_owned())
            .collect()
    };
    // The primary node's certificate names every address it serves.
    for addr in [geo_p, geo_s, cache_p] {
        assert!(
            named(cache_p).contains(&addr.ip().to_string()),
            "{addr}: {names}"
        );
    }

    // A failover moves the geo-primary URLs to the other cache's node,
    // whose certificate already names them.
    fail_over(&server, "tls-s", "tls-p").await;
    over_tls(
        &server,
        &[(geo_s, &key_s), (geo_p, &key_s), (cache_p, &key_p)],
    )
    .await;
}

/// Whether anything accepts a plain TCP connection at `addr`.
fn plain_port_open(addr: SocketAddr) -> bool {
    std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(2)).is_ok()
}

/// With `enableNonSslPort` false (Azure's default) a cache takes TLS only,
/// on its address, its nodes' and its geo-primary URL, and still
/// geo-replicates and fails over: its nodes replicate over TLS. Turning the
/// setting on opens port 6379 at once, and off closes it again.
#[tokio::test]
async fn without_the_plain_port_a_pair_takes_only_tls_and_still_replicates_and_fails_over() {
    let server = Server::start();
    let tls_only = serde_json::json!({"enableNonSslPort": false});
    for (name, location) in [("only-p", "westeurope"), ("only-s", "northeurope")] {
        server
            .create_cache(&Server::cache_path(name), location, tls_only.clone())
            .await;
    }
    server.link("only-p", "only-s").await;
    let (key_p, _) = server.keys("only-p").await;
    let (key_s, _) = server.keys("only-s").await;
    let cache_p = cache_address(&server, "only-p").await;
    let cache_s = cache_address(&server, "only-s").await;
    let link = link_of(&server, "only-p", "only-s").await;
    let geo_p = endpoint(&link["properties"], "geoPrimaryEndpoint");
    // The endpoints name the TLS port beside the plain one, as a cache does.
    for name in [
        "geoPrimaryEndpoint",
        "currentPrimaryEndpoint",
        "currentSecondaryEndpoint",
    ] {
        assert_eq!(link["properties"][name]["sslPort"], 6380, "{name}: {link}");
    }
    let node_p = primary_node(&server, "only-p").await;
    for addr in [cache_p, cache_s, geo_p, node_p] {
        assert!(!plain_port_open(addr), "{addr} took a plain connection");
    }

    // Written through the geo-primary URL, read on the geo-secondary: the
    // link replicates over TLS.
    over_tls(&server, &[(geo_p, &key_p), (cache_s, &key_s)]).await;
    // And a planned failover, which names the replica by its TLS port.
    fail_over(&server, "only-s", "only-p").await;
    over_tls(&server, &[(geo_p, &key_s), (cache_p, &key_p)]).await;

    // The setting opens and closes the port on the running nodes.
    let path = Server::cache_path("only-p");
    let set = |open: bool| {
        let path = path.clone();
        let server = &server;
        async move {
            let body = serde_json::json!({"properties": {"enableNonSslPort": open}});
            let response = server.patch(&path, body).await;
            assert_eq!(response.status(), 202);
            server.wait_succeeded(&response).await;
        }
    };
    set(true).await;
    let mut plain = try_connect(cache_p, &key_p)
        .await
        .expect("the plain port takes the access key once it is on");
    let pong: String = redis::cmd("PING").query_async(&mut plain).await.unwrap();
    assert_eq!(pong, "PONG");
    set(false).await;
    assert!(!plain_port_open(cache_p), "the plain port stayed open");
    assert_eq!(
        server.get_json(&path).await["properties"]["enableNonSslPort"],
        false
    );
}

#[tokio::test]
async fn minimum_tls_version_is_what_the_nodes_accept_and_nothing_else_is_taken() {
    let server = Server::start();
    let path = Server::cache_path("tls-min");
    server
        .create_cache(
            &path,
            "westeurope",
            serde_json::json!({"minimumTlsVersion": "1.2"}),
        )
        .await;
    let node = primary_node(&server, "tls-min").await;
    assert_eq!(
        server.config_get(node, "tls-protocols").await,
        "TLSv1.2 TLSv1.3"
    );

    let lowered = server
        .patch(
            &path,
            serde_json::json!({"properties": {"minimumTlsVersion": "1.0"}}),
        )
        .await;
    assert_eq!(lowered.status(), 202);
    server.wait_succeeded(&lowered).await;
    assert_eq!(
        server.config_get(node, "tls-protocols").await,
        "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"
    );

    for bad in ["1.3", "TLS1_2", ""] {
        let refused = server
            .patch(
                &path,
                serde_json::json!({"properties": {"minimumTlsVersion": bad}}),
            )
            .await;
        crate::support::assert_arm_error(
            refused,
            reqwest::StatusCode::BAD_REQUEST,
            "InvalidParameter",
        )
        .await;
    }
    assert_eq!(
        server.get_json(&path).await["properties"]["minimumTlsVersion"],
        "1.0"
    );
}

#[tokio::test]
async fn the_local_ca_is_downloadable_without_a_token() {
    let server = Server::start();
    let response = reqwest::get(format!("{}/x-georep/ca.pem", server.base()))
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-pem-file");
    let served = response.text().await.unwrap();
    let kept = std::fs::read_to_string(server.data_dir().join("ca.pem")).unwrap();
    assert_eq!(served, kept);
    assert!(
        served.starts_with("-----BEGIN CERTIFICATE-----"),
        "{served}"
    );
    // Only the certificate: the CA's key never leaves the data directory.
    assert!(!served.contains("PRIVATE KEY"));
}
