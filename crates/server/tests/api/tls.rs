//! Used like Azure: the API over HTTPS with a certificate from the server's
//! local CA (trusted through `ca.pem` alone), ARM's cloud metadata, the
//! managed-identity endpoint, and its tokens accepted by the API.

use std::sync::Arc;

use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{assert_arm_error, Server, API, SUB};

fn tls_server() -> Server {
    Server::start_with(
        Arc::new(TempDir::new().expect("temp dir")),
        &["--listen-tls", "127.0.0.1:0"],
    )
}

/// A response read off the wire: status, headers (lower-case names), body.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over TLS to `base` (`https://ip:port`), trusting
/// only the server's `ca.pem` and checking the certificate's name is `host`.
async fn https(server: &Server, host: &str, request: &str) -> Raw {
    let base = server.tls_base().expect("the server serves HTTPS");
    let addr = base.trim_start_matches("https://").to_owned();
    let mut roots = rustls::RootCertStore::empty();
    let ca = std::fs::read(server.ca_pem()).expect("ca.pem");
    roots
        .add(CertificateDer::from_pem_slice(&ca).expect("a PEM certificate"))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let name = ServerName::try_from(host.to_owned()).unwrap();
    let mut stream = connector
        .connect(name, tcp)
        .await
        .expect("a TLS handshake trusting ca.pem");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn get(path: &str, token: Option<&str>) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: evil.example\r\n{auth}Connection: close\r\n\r\n")
}

#[tokio::test]
async fn https_serves_the_api_and_urls_name_the_listener_the_request_came_in_on() {
    let server = tls_server();
    let https_base = server.tls_base().unwrap().to_owned();
    assert!(https_base.starts_with("https://127.0.0.1:"));
    for host in ["127.0.0.1", "localhost"] {
        let metadata = https(
            &server,
            host,
            &get("//metadata/endpoints?api-version=2022-09-01", None),
        )
        .await;
        assert_eq!(metadata.status, 200, "{}", metadata.body);
        let doc: Value = serde_json::from_str(&metadata.body).unwrap();
        assert_eq!(doc["resourceManager"], format!("{https_base}/"));
        assert_eq!(
            doc["authentication"]["audiences"][0],
            "https://management.core.windows.net/"
        );
    }

    // A create over HTTPS is polled over HTTPS; over HTTP, over HTTP. The
    // request's Host (evil.example) never appears.
    let path = format!("/subscriptions/{SUB}/resourceGroups/rg-tls/providers/Microsoft.Cache/redis/tls-a?api-version={API}");
    let body = json!({"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1}}}).to_string();
    let put = format!(
        "PUT {path} HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.token(),
        body.len()
    );
    let created = https(&server, "127.0.0.1", &put).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let status_url = created
        .header("azure-asyncoperation")
        .expect("Azure-AsyncOperation");
    assert!(
        status_url.starts_with(&format!("{https_base}/subscriptions/")),
        "{status_url}"
    );
    assert!(created.header("location").unwrap().starts_with(&https_base));
    let over_http = server
        .put(
            &Server::cache_path("tls-b"),
            json!({"location": "westeurope", "properties": {"sku": {"name": "Premium", "family": "P", "capacity": 1}}}),
        )
        .await;
    let http_status = over_http.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        http_status.starts_with(&format!("{}/", server.base())),
        "{http_status}"
    );
    server.wait_operation(&over_http).await;
    assert!(!created
        .headers
        .iter()
        .any(|(_, v)| v.contains("evil.example")));
}

#[tokio::test]
async fn the_managed_identity_issues_tokens_the_api_accepts_and_bad_ones_get_arms_401() {
    let server = tls_server();
    let env: std::collections::HashMap<String, String> =
        server.azure_env().unwrap().into_iter().collect();
    for name in [
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "REQUESTS_CA_BUNDLE",
        "SSL_CERT_FILE",
        "NODE_EXTRA_CA_CERTS",
    ] {
        assert!(env.contains_key(name), "azure-env.sh exports {name}");
    }
    assert_eq!(
        env["REQUESTS_CA_BUNDLE"],
        server.ca_pem().display().to_string()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |f: &str| {
            std::fs::metadata(server.data_dir().join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("azure-env.sh"), 0o600);
        assert_eq!(mode("ca-key.pem"), 0o600);
        assert_eq!(mode("identity.json"), 0o600);
    }

    let endpoint = &env["IDENTITY_ENDPOINT"];
    let ask = |header: Option<&str>, resource: &str| {
        let mut request = server
            .http()
            .get(endpoint)
            .query(&[("resource", resource), ("api-version", "2019-08-01")]);
        if let Some(header) = header {
            request = request.header("X-IDENTITY-HEADER", header);
        }
        async move { request.send().await.expect("the identity endpoint answers") }
    };
    assert_arm_error(
        ask(None, "https://management.azure.com/").await,
        StatusCode::UNAUTHORIZED,
        "AuthenticationFailed",
    )
    .await;
    assert_arm_error(
        ask(Some("wrong"), "https://management.azure.com/").await,
        StatusCode::UNAUTHORIZED,
        "AuthenticationFailed",
    )
    .await;
    let secret = env["IDENTITY_HEADER"].as_str();
    assert_arm_error(
        ask(Some(secret), "https://vault.azure.net").await,
        StatusCode::BAD_REQUEST,
        "InvalidParameter",
    )
    .await;
    let issued: Value = ask(Some(secret), "https://management.azure.com/")
        .await
        .json()
        .await
        .unwrap();
    for key in [
        "access_token",
        "expires_on",
        "resource",
        "token_type",
        "client_id",
    ] {
        assert!(issued[key].is_string(), "App Service's {key}: {issued}");
    }
    let jwt = issued["access_token"].as_str().unwrap();
    assert_eq!(jwt.split('.').count(), 3, "a JWT");

    let subscriptions = |token: String| {
        server
            .http()
            .get(server.url("/subscriptions?api-version=2022-12-01"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        subscriptions(jwt.to_owned()).await.unwrap().status(),
        StatusCode::OK
    );
    // Over HTTPS too.
    let over_tls = https(
        &server,
        "127.0.0.1",
        &get("/subscriptions?api-version=2022-12-01", Some(jwt)),
    )
    .await;
    assert_eq!(over_tls.status, 200, "{}", over_tls.body);
    // A token whose signature no longer matches its claims.
    let (head, rest) = jwt.split_once('.').unwrap();
    let (_, signature) = rest.split_once('.').unwrap();
    let forged = format!("{head}.eyJhdWQiOiJodHRwczovL21hbmFnZW1lbnQuYXp1cmUuY29tLyIsImV4cCI6NDEwMjQ0NDgwMH0.{signature}");
    assert_arm_error(
        subscriptions(forged).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "AuthenticationFailed",
    )
    .await;
    // Another server's identity is another key.
    let other = tls_server();
    let other_env: std::collections::HashMap<String, String> =
        other.azure_env().unwrap().into_iter().collect();
    let foreign: Value = other
        .http()
        .get(&other_env["IDENTITY_ENDPOINT"])
        .query(&[
            ("resource", "https://management.azure.com/"),
            ("api-version", "2019-08-01"),
        ])
        .header("X-IDENTITY-HEADER", &other_env["IDENTITY_HEADER"])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let foreign = foreign["access_token"].as_str().unwrap().to_owned();
    assert_arm_error(
        subscriptions(foreign).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "AuthenticationFailed",
    )
    .await;
}
