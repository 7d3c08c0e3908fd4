//! The live event stream: opened with a single-use ticket (as a browser's
//! `EventSource`, which can't send the token, does), it carries link state
//! changes and metric samples.

use std::time::Duration;

use crate::support::{
    assert_arm_error, cache_path_in, create_pair, linked_server_id, same_id, Server, RG, SUB,
};
use reqwest::StatusCode;
use serde_json::Value;

/// Reads server-sent events off a response.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    fn new(response: reqwest::Response) -> EventStream {
        EventStream {
            response,
            buffer: String::new(),
        }
    }

    /// The next event: its name and its data as JSON. Comments (keep-alives) are skipped.
    async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data) = (None, String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        name = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push_str(value.trim_start());
                    }
                }
                if let Some(name) = name {
                    return Some((name, serde_json::from_str(&data).unwrap()));
                }
            }
            let chunk = self.response.chunk().await.ok()??;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Reads events until one named `name` satisfies `wanted`.
    async fn until(&mut self, name: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        let read = async {
            while let Some((got, data)) = self.next().await {
                if got == name && wanted(&data) {
                    return data;
                }
            }
            panic!("the stream ended before a {name} event");
        };
        tokio::time::timeout(Duration::from_secs(60), read)
            .await
            .unwrap_or_else(|_| panic!("no {name} event in time"))
    }
}

async fn ticket(server: &Server) -> Value {
    let response = server.post("/x-georep/events/ticket", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_stream_opens_with_a_ticket_and_carries_state_changes_and_samples() {
    let server = Server::start();
    create_pair(&server, "src", "dst").await;

    let issued = ticket(&server).await;
    let secret = issued["ticket"].as_str().unwrap().to_owned();
    assert_eq!(issued["expiresInSeconds"], 30);
    assert_eq!(issued["url"], format!("/x-georep/events?ticket={secret}"));
    // No Authorization header: what EventSource sends.
    let plain = reqwest::Client::new();
    let url = format!("{}{}", server.base(), issued["url"].as_str().unwrap());
    let response = plain.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut stream = EventStream::new(response);

    // The ticket opened one stream; it opens no other.
    let again = plain.get(&url).send().await.unwrap();
    assert_arm_error(again, StatusCode::UNAUTHORIZED, "AuthenticationFailed").await;

    let link_id = linked_server_id("src", "dst");
    let linking = server.put_link("src", "dst").await;
    assert_eq!(linking.status(), StatusCode::CREATED);
    let creating = stream
        .until("linkState", |e| same_id(&e["link"]["id"], &link_id))
        .await;
    assert_eq!(creating["type"], "linkState");
    assert_eq!(creating["provisioningState"], "Creating");
    assert_eq!(creating["linkState"]["state"], "Linking");
    let linked = stream
        .until("linkState", |e| e["linkState"]["state"] == "Linked")
        .await;
    assert_eq!(linked["provisioningState"], "Succeeded");
    assert!(same_id(
        &linked["link"]["peerId"],
        &linked_server_id("dst", "src")
    ));
    assert!(same_id(
        &linked["link"]["primary"],
        &cache_path_in(SUB, RG, "src")
    ));

    let sample = stream
        .until("metric", |e| {
            same_id(&e["link"]["id"], &link_id) && e["values"]["GeoReplicationHealthy"] == 1.0
        })
        .await;
    for metric in [
        "GeoReplicationConnectivityLag",
        "GeoReplicationDataSyncOffset",
        "GeoReplicationFullSyncEventStarted",
        "GeoReplicationFullSyncEventFinished",
    ] {
        assert!(sample["values"][metric].is_number(), "{metric}: {sample}");
    }
    assert!(sample["time"].is_string());

    // The geo-primary's replication offset rides along, and grows with a
    // write (what the console's walkthrough watches for).
    let before = sample["primaryOffset"]
        .as_u64()
        .unwrap_or_else(|| panic!("a primary offset: {sample}"));
    let mut src = server.redis("src").await;
    let _: () = redis::cmd("SET")
        .arg("walkthrough")
        .arg("a write through the geo-primary")
        .query_async(&mut src)
        .await
        .unwrap();
    // What `INFO replication` says right after the write, which a later
    // sample reaches (pings only add to it).
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query_async(&mut src)
        .await
        .unwrap();
    let written: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("master_repl_offset:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("master_repl_offset in {info}"));
    assert!(written > before, "{written} after {before}");
    let grown = stream
        .until("metric", |e| {
            same_id(&e["link"]["id"], &link_id)
                && e["primaryOffset"].as_u64().is_some_and(|o| o >= written)
        })
        .await;
    assert!(grown["primaryOffset"].as_u64() >= Some(written), "{grown}");
    drop(stream);

    // A new stream starts with the state of every link.
    let opened = plain
        .get(format!(
            "{}{}",
            server.base(),
            ticket(&server).await["url"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    let mut stream = EventStream::new(opened);
    let (name, first) = stream.next().await.unwrap();
    assert_eq!(name, "linkState");
    assert_eq!(first["linkState"]["state"], "Linked");

    // The ticket never reaches the logs.
    let log = std::fs::read_to_string(server.dir.path().join("server.log")).unwrap();
    assert!(!log.contains(&secret), "the ticket was logged");
    assert!(!log.contains(server.token()), "the token was logged");
}

#[tokio::test]
async fn without_a_valid_ticket_or_the_token_the_stream_is_refused() {
    let server = Server::start();
    let plain = reqwest::Client::new();
    let events = format!("{}/x-georep/events", server.base());

    let none = plain.get(&events).send().await.unwrap();
    assert_arm_error(none, StatusCode::UNAUTHORIZED, "AuthenticationFailed").await;
    let forged = plain
        .get(format!("{events}?ticket={}", "0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_arm_error(forged, StatusCode::UNAUTHORIZED, "AuthenticationFailed").await;
    let empty = plain.get(format!("{events}?ticket=")).send().await.unwrap();
    assert_arm_error(empty, StatusCode::UNAUTHORIZED, "AuthenticationFailed").await;
    // Asking for a ticket needs the token.
    let ticket = plain
        .post(format!("{}/x-georep/events/ticket", server.base()))
        .send()
        .await
        .unwrap();
    assert_arm_error(ticket, StatusCode::UNAUTHORIZED, "AuthenticationFailed").await;
    // A ticket is for the stream only.
    let issued = self::ticket(&server).await;
    let elsewhere = plain
        .get(format!(
            "{}/x-georep/candidates?ticket={}",
            server.base(),
            issued["ticket"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_arm_error(elsewhere, StatusCode::UNAUTHORIZED, "AuthenticationFailed").await;
    // The wrong verb on the ticket resource.
    let wrong = server.get("/x-georep/events/ticket").await;
    assert_arm_error(wrong, StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed").await;

    // With the token (curl, the SDK), no ticket is needed.
    let with_token = server.get("/x-georep/events?").await;
    assert_eq!(with_token.status(), StatusCode::OK);
    assert!(with_token.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
}
