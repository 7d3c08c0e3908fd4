//! `POST /x-georep/verify` proves a link's two sides hold the same data,
//! and finds a difference planted on the geo-secondary.

use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn verification_finds_the_sides_equal_then_a_planted_difference() {
    let server = server();
    let primary = premium(&server, "verify-primary", "westeurope").await;
    let secondary = premium(&server, "verify-secondary", "northeurope").await;
    link(&server, &primary, &secondary).await;
    let key = key(&server, &primary).await;
    fill(address(&server, &primary).await, &key, 1_500).await;
    let link_id = linked_server(&server, &primary, "verify-secondary").await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let verify = || async {
        let response = server
            .api()
            .post("/x-georep/verify", Some(json!({ "link": link_id })))
            .await;
        assert_eq!(response.status(), 200);
        response.json::<serde_json::Value>().await.unwrap()
    };
    let found = verify().await;
    assert_eq!(found["consistent"], true, "{found}");
    assert_eq!(found["keysPrimary"], 1_500, "{found}");
    assert_eq!(found["keysSecondary"], 1_500, "{found}");
    assert_eq!(found["compared"], 1_500, "{found}");
    assert_eq!(found["sampled"], false, "{found}");

    // Plant a difference on the geo-secondary's node, as only the control
    // plane could (through the internal credential): a key's value changes.
    let (node, _) = instances(&server, &secondary)
        .await
        .into_iter()
        .find(|(_, primary)| *primary)
        .unwrap();
    let password = server.internal_password(node).unwrap();
    // The password is hex, so it needs no escaping in a URL.
    let url = format!("redis://georep:{password}@{node}/?protocol=resp2");
    let mut internal = redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("REPLICAOF")
        .arg("NO")
        .arg("ONE")
        .query_async(&mut internal)
        .await
        .unwrap();
    let _: () = redis::cmd("SET")
        .arg("k:7")
        .arg("planted")
        .query_async(&mut internal)
        .await
        .unwrap();
    let found = verify().await;
    assert_eq!(found["consistent"], false, "{found}");
    assert_eq!(found["mismatches"], json!(["k:7"]), "{found}");

    // A made-up link is a 404 with ARM's body.
    let response = server
        .api()
        .post(
            "/x-georep/verify",
            Some(json!({ "link": format!("{primary}/linkedServers/nope") })),
        )
        .await;
    assert_eq!(response.status(), 404);
}
