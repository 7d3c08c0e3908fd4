//! Geo-replication links through the API, checked on the data plane with a
//! Redis client: MASTERDOWN during the full sync, READONLY after, writable
//! with its data after unlink; and every restriction while linked.

use std::time::Duration;

use crate::support::{
    assert_arm_error, cache_address, cache_path_in, endpoint, eventually_get, get, link_body, set,
    slow_down_full_sync, OnGetError, Server, OTHER_SUB, RG, SUB,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn link_replicates_makes_the_secondary_read_only_and_unlink_keeps_its_data() {
    let server = Server::start();
    let a = Server::cache_path("primary-a");
    let b = Server::cache_path("secondary-b");
    server.create_cache(&a, "westeurope", json!({})).await;
    server.create_cache(&b, "northeurope", json!({})).await;
    let mut pa = server.redis("primary-a").await;
    let mut sb = server.redis("secondary-b").await;
    set(&mut pa, "greeting", "hello").await.unwrap();
    set(&mut sb, "old", "data").await.unwrap();

    let link = server.link("primary-a", "secondary-b").await;
    let p = &link["properties"];
    assert_eq!(link["name"], "secondary-b");
    assert_eq!(link["type"], "Microsoft.Cache/Redis/linkedServers");
    assert_eq!(p["provisioningState"], "Succeeded");
    assert_eq!(p["serverRole"], "Secondary");
    assert_eq!(p["linkedRedisCacheLocation"], "northeurope");
    // ARM's host names (no port, as Azure's): the link's geo-primary URL
    // and the current primary's own address, each a loopback address of
    // its own.
    let geo = endpoint(p, "geoPrimaryEndpoint");
    let primary = endpoint(p, "currentPrimaryEndpoint");
    assert_eq!(
        p["geoReplicatedPrimaryHostName"],
        geo.ip().to_string(),
        "{p}"
    );
    assert_eq!(p["primaryHostName"], primary.ip().to_string(), "{p}");
    assert_eq!(primary, cache_address(&server, "primary-a").await);
    assert_ne!(geo.ip(), primary.ip());
    assert!(
        p.get("syncProgress").is_none(),
        "progress only while Creating"
    );

    // Both caches list the link, and each names the other with its role.
    for (cache, peer, role) in [
        (&a, "secondary-b", "Secondary"),
        (&b, "primary-a", "Primary"),
    ] {
        let resource: Value = server.get_json(cache).await;
        assert_eq!(resource["properties"]["provisioningState"], "Succeeded");
        let links = resource["properties"]["linkedServers"].as_array().unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(
            links[0]["id"],
            format!("{cache}/linkedServers/{peer}").replace("/redis/", "/Redis/")
        );
        let list: Value = server.get_json(&format!("{cache}/linkedServers")).await;
        assert_eq!(list["value"][0]["properties"]["serverRole"], role);
    }

    // The secondary has the primary's data, not its own, and refuses writes.
    let mut sb = server.redis("secondary-b").await;
    assert_eq!(
        get(&mut sb, "greeting").await.unwrap().as_deref(),
        Some("hello")
    );
    assert_eq!(
        get(&mut sb, "old").await.unwrap(),
        None,
        "linking removed the secondary's data"
    );
    let refused = set(&mut sb, "x", "1").await.unwrap_err();
    assert_eq!(refused.code(), Some("READONLY"), "{refused}");
    // New writes on the primary arrive.
    set(&mut pa, "later", "yes").await.unwrap();
    let arrived = eventually_get(&mut sb, "later", OnGetError::Panic).await;
    assert_eq!(arrived.as_deref(), Some("yes"));

    // PUT again is idempotent.
    let again = server.put_link("primary-a", "secondary-b").await;
    assert_eq!(again.status(), StatusCode::OK);

    // Unlink from the secondary's side: it keeps the data and takes writes.
    let response = server.delete(&format!("{b}/linkedServers/primary-a")).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    server.wait_succeeded(&response).await;
    let mut sb = server.redis("secondary-b").await;
    set(&mut sb, "x", "1").await.expect("writable after unlink");
    assert_eq!(
        get(&mut sb, "greeting").await.unwrap().as_deref(),
        Some("hello")
    );
    assert_eq!(get(&mut sb, "later").await.unwrap().as_deref(), Some("yes"));
    for cache in [&a, &b] {
        let resource: Value = server.get_json(cache).await;
        assert!(resource["properties"]["linkedServers"]
            .as_array()
            .unwrap()
            .is_empty());
        let list: Value = server.get_json(&format!("{cache}/linkedServers")).await;
        assert!(list["value"].as_array().unwrap().is_empty());
    }
    let gone = server.get(&format!("{a}/linkedServers/secondary-b")).await;
    assert_arm_error(gone, StatusCode::NOT_FOUND, "ResourceNotFound").await;
}

#[tokio::test]
async fn the_secondary_answers_masterdown_while_the_full_sync_runs() {
    let server = Server::start();
    let a = Server::cache_path("big");
    let b = Server::cache_path("follower");
    server.create_cache(&a, "westeurope", json!({})).await;
    server.create_cache(&b, "eastus", json!({})).await;
    let mut pa = server.redis("big").await;
    // 3000 keys, each taking 1 ms to snapshot: the full sync lasts ~3 s.
    slow_down_full_sync(&server, "big", "key:", 3000).await;

    let response = server.put_link("big", "follower").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let operation = response.headers()["azure-asyncoperation"]
        .to_str()
        .unwrap()
        .to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["properties"]["provisioningState"], "Creating");

    // While syncing: the link is Creating with progress, both caches Linking,
    // the secondary answers MASTERDOWN and the primary keeps serving.
    let mut masterdown = None;
    let mut sb = server.redis("follower").await;
    for _ in 0..100 {
        match get(&mut sb, "key:1").await {
            Err(e) if e.code() == Some("MASTERDOWN") => {
                masterdown = Some(e.to_string());
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let masterdown = masterdown.expect("the secondary answered MASTERDOWN during the sync");
    assert!(
        masterdown.contains("replica-serve-stale-data"),
        "{masterdown}"
    );
    let link: Value = server
        .get_json(&format!("{a}/linkedServers/follower"))
        .await;
    assert_eq!(link["properties"]["provisioningState"], "Creating");
    assert!(
        link["properties"]["syncProgress"]["bytesRead"].is_u64(),
        "{link}"
    );
    for cache in [&a, &b] {
        let resource: Value = server.get_json(cache).await;
        assert_eq!(resource["properties"]["provisioningState"], "Linking");
    }
    assert_eq!(get(&mut pa, "key:1").await.unwrap().as_deref(), Some("1"));
    set(&mut pa, "during", "sync")
        .await
        .expect("the primary takes writes while linking");
    // Unlinking while the sync runs is refused: another operation is in progress.
    let busy = server.delete(&format!("{a}/linkedServers/follower")).await;
    assert_arm_error(busy, StatusCode::CONFLICT, "OperationInProgress").await;

    let op = server.wait_operation_at(&operation).await;
    assert_eq!(op["status"], "Succeeded", "{op}");
    let mut sb = server.redis("follower").await;
    assert_eq!(
        get(&mut sb, "key:2999").await.unwrap().as_deref(),
        Some("2999")
    );
    let link: Value = server
        .get_json(&format!("{a}/linkedServers/follower"))
        .await;
    assert_eq!(link["properties"]["provisioningState"], "Succeeded");
}

#[tokio::test]
async fn every_restriction_holds_while_linked() {
    let server = Server::start();
    let a = Server::cache_path("r-primary");
    let b = Server::cache_path("r-secondary");
    server.create_cache(&a, "westeurope", json!({})).await;
    server.create_cache(&b, "northeurope", json!({})).await;
    server.link("r-primary", "r-secondary").await;

    for cache in [&a, &b] {
        let scale = server
            .patch(
                cache,
                json!({"properties": {"sku": {"name": "Premium", "family": "P", "capacity": 2}}}),
            )
            .await;
        let body = assert_arm_error(scale, StatusCode::CONFLICT, "LinkedCacheCannotScale").await;
        assert!(
            body["error"]["message"].as_str().unwrap().contains("r-"),
            "names the link: {body}"
        );
        for (change, code) in [
            (
                json!({"properties": {"shardCount": 2}}),
                "LinkedCacheCannotChangeShardCount",
            ),
            (
                json!({"properties": {"redisConfiguration": {"rdb-backup-enabled": "true"}}}),
                "LinkedCacheCannotEnablePersistence",
            ),
            (
                json!({"properties": {"redisConfiguration": {"aof-backup-enabled": "true"}}}),
                "LinkedCacheCannotEnablePersistence",
            ),
        ] {
            let refused = server.patch(cache, change).await;
            assert_arm_error(refused, StatusCode::CONFLICT, code).await;
        }
        assert_arm_error(
            server.delete(cache).await,
            StatusCode::CONFLICT,
            "LinkedCacheCannotBeDeleted",
        )
        .await;
        let endpoint = server
            .put(
                &format!("{cache}/privateEndpointConnections/pe1"),
                json!({"properties": {}}),
            )
            .await;
        assert_arm_error(
            endpoint,
            StatusCode::CONFLICT,
            "LinkedCacheCannotAddPrivateEndpoint",
        )
        .await;
        // Export works from either side.
        let export = server
            .post(
                &format!("{cache}/export"),
                Some(json!({"prefix": "snap", "container": "c"})),
            )
            .await;
        assert_eq!(export.status(), StatusCode::ACCEPTED);
        server.wait_succeeded(&export).await;
    }
    // Tags and other settings may still change.
    let tags = server.patch(&a, json!({"tags": {"ok": "yes"}})).await;
    assert_eq!(tags.status(), StatusCode::ACCEPTED);
    server.wait_succeeded(&tags).await;

    // Import into the secondary is refused; into the primary it is allowed.
    let import = json!({"files": ["c/snap.rdb"]});
    let refused = server
        .post(&format!("{b}/import"), Some(import.clone()))
        .await;
    assert_arm_error(refused, StatusCode::CONFLICT, "LinkedSecondaryCannotImport").await;
    let allowed = server.post(&format!("{a}/import"), Some(import)).await;
    assert_eq!(allowed.status(), StatusCode::ACCEPTED);
    server.wait_succeeded(&allowed).await;

    // The resource group can't go while it holds linked caches.
    let group = server
        .delete(&format!(
            "/subscriptions/{SUB}/resourceGroups/{RG}?api-version=2021-04-01"
        ))
        .await;
    let body = assert_arm_error(
        group,
        StatusCode::CONFLICT,
        "LinkedCacheBlocksResourceGroupDelete",
    )
    .await;
    assert_eq!(
        body["error"]["details"].as_array().unwrap().len(),
        2,
        "{body}"
    );

    // Writes to the secondary are refused by the data plane itself.
    let mut sb = server.redis("r-secondary").await;
    let err = set(&mut sb, "k", "v").await.unwrap_err();
    assert_eq!(err.code(), Some("READONLY"));
    assert!(
        err.to_string()
            .contains("You can't write against a read only replica"),
        "{err}"
    );

    // A link needs both caches: neither can join another link.
    server
        .create_cache(&Server::cache_path("third"), "eastus", json!({}))
        .await;
    let third = server.put_link("r-primary", "third").await;
    let body = assert_arm_error(
        third,
        StatusCode::BAD_REQUEST,
        "GeoReplicationPrerequisitesNotMet",
    )
    .await;
    assert!(
        body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "AlreadyLinked"),
        "{body}"
    );
}

#[tokio::test]
async fn every_incompatible_pair_is_refused_with_its_reasons() {
    let server = Server::start();
    let p1 = json!({});
    server
        .create_cache(
            &Server::cache_path("prim"),
            "westeurope",
            json!({"sku": {"name": "Premium", "family": "P", "capacity": 2}}),
        )
        .await;
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "standard",
            json!({"sku": {"name": "Standard", "family": "C", "capacity": 5}}),
            &["NotPremium"],
        ),
        (
            "version4",
            json!({"sku": {"name": "Premium", "family": "P", "capacity": 2}, "redisVersion": "4"}),
            &["DifferentRedisVersion"],
        ),
        (
            "rdb",
            json!({"sku": {"name": "Premium", "family": "P", "capacity": 2}, "redisConfiguration": {"rdb-backup-enabled": "true"}}),
            &["PersistenceEnabled"],
        ),
        (
            "tworeplicas",
            json!({"sku": {"name": "Premium", "family": "P", "capacity": 2}, "replicasPerPrimary": 2}),
            &["TooManyReplicas"],
        ),
        ("smaller", p1.clone(), &["SecondarySmaller"]),
        (
            "clustered",
            json!({"sku": {"name": "Premium", "family": "P", "capacity": 2}, "shardCount": 2}),
            &["ClusteringMismatch"],
        ),
        (
            "many",
            json!({"sku": {"name": "Standard", "family": "C", "capacity": 1}, "redisVersion": "4"}),
            &["NotPremium", "DifferentRedisVersion", "SecondarySmaller"],
        ),
    ];
    for (name, props, _) in &cases {
        server
            .create_cache(&Server::cache_path(name), "eastus", props.clone())
            .await;
    }
    for (name, _, expected) in &cases {
        let response = server.put_link("prim", name).await;
        let body = assert_arm_error(
            response,
            StatusCode::BAD_REQUEST,
            "GeoReplicationPrerequisitesNotMet",
        )
        .await;
        let codes: Vec<&str> = body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, *expected, "{name}: {body}");
        assert!(body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["message"].as_str().is_some_and(|m| m.contains(name))));
    }

    // Clustered caches need the same shard count.
    server
        .create_cache(
            &Server::cache_path("c2"),
            "eastus",
            json!({"shardCount": 2}),
        )
        .await;
    server
        .create_cache(
            &Server::cache_path("c3"),
            "eastus",
            json!({"shardCount": 3}),
        )
        .await;
    let body = assert_arm_error(
        server.put_link("c2", "c3").await,
        StatusCode::BAD_REQUEST,
        "GeoReplicationPrerequisitesNotMet",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["code"], "ShardCountMismatch");

    // Another subscription.
    let other = cache_path_in(OTHER_SUB, RG, "elsewhere");
    server
        .create_cache(
            &other,
            "eastus",
            json!({"sku": {"name": "Premium", "family": "P", "capacity": 2}}),
        )
        .await;
    let response = server
        .put(
            &format!("{}/linkedServers/elsewhere", Server::cache_path("prim")),
            link_body(OTHER_SUB, "elsewhere", "eastus"),
        )
        .await;
    let body = assert_arm_error(
        response,
        StatusCode::BAD_REQUEST,
        "GeoReplicationPrerequisitesNotMet",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["code"], "DifferentSubscription");

    // Itself.
    let body = assert_arm_error(
        server.put_link("prim", "prim").await,
        StatusCode::BAD_REQUEST,
        "GeoReplicationPrerequisitesNotMet",
    )
    .await;
    assert_eq!(body["error"]["details"][0]["code"], "Itself");

    // The candidates extension lists everyone, compatible first, with the same reasons.
    let primary_id =
        format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Cache/Redis/prim");
    let judged: Value = server
        .get_json(&format!("/x-georep/candidates?primary={primary_id}"))
        .await;
    let value = judged["value"].as_array().unwrap();
    assert_eq!(value.len(), cases.len() + 4);
    let standard = value.iter().find(|c| c["name"] == "standard").unwrap();
    assert_eq!(standard["compatible"], false);
    assert_eq!(standard["reasons"][0]["code"], "NotPremium");
    assert!(standard["reasons"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Premium"));
    // No compatible cache here: every one failed a rule.
    assert!(value.iter().all(|c| c["compatible"] == false));
}

#[tokio::test]
async fn candidates_put_compatible_caches_first_with_their_warnings() {
    let server = Server::start();
    server
        .create_cache(&Server::cache_path("p"), "westeurope", json!({}))
        .await;
    server
        .create_cache(
            &Server::cache_path("bigger"),
            "eastus",
            json!({"sku": {"name": "Premium", "family": "P", "capacity": 2}}),
        )
        .await;
    let id = format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Cache/Redis/p");
    let judged: Value = server
        .get_json(&format!("/x-georep/candidates?primary={id}"))
        .await;
    let first = &judged["value"][0];
    assert_eq!(first["name"], "bigger");
    assert_eq!(first["compatible"], true);
    let warnings: Vec<&str> = first["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap())
        .collect();
    assert!(
        warnings.contains(&"SecondaryDataRemoved")
            && warnings.contains(&"SizeMismatch")
            && warnings.contains(&"CrossRegionEgress"),
        "{warnings:?}"
    );
    assert_eq!(judged["value"][1]["reasons"][0]["code"], "Itself");
    // The answer is kept while the store is unchanged, and judged anew
    // after a write.
    let path = format!("/x-georep/candidates?primary={id}");
    assert_eq!(server.get_json(&path).await, judged);
    server
        .create_cache(&Server::cache_path("third"), "westus2", json!({}))
        .await;
    let after: Value = server.get_json(&path).await;
    let names: Vec<&str> = after["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&"third"), "{names:?}");
    let gone = server
        .get(&format!("/x-georep/candidates?primary={id}-gone"))
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let bad = server.get("/x-georep/candidates?primary=nope").await;
    assert_arm_error(bad, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    let missing = server.get("/x-georep/candidates").await;
    assert_arm_error(missing, StatusCode::BAD_REQUEST, "InvalidParameter").await;
}

#[tokio::test]
async fn link_requests_are_checked_before_anything_changes() {
    let server = Server::start();
    let a = Server::cache_path("la");
    server.create_cache(&a, "westeurope", json!({})).await;
    // The linked cache must exist.
    let missing = server.put_link("la", "nowhere").await;
    assert_arm_error(missing, StatusCode::NOT_FOUND, "ResourceNotFound").await;
    // The name in the path must be the linked cache's.
    let mismatch = server
        .put(
            &format!("{a}/linkedServers/other"),
            link_body(SUB, "nowhere", "eastus"),
        )
        .await;
    assert_arm_error(mismatch, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    // The id must be a cache id.
    let bad_id = server
        .put(&format!("{a}/linkedServers/x"), json!({"properties": {"linkedRedisCacheId": "x", "linkedRedisCacheLocation": "eastus", "serverRole": "Secondary"}}))
        .await;
    assert_arm_error(bad_id, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    // The linked cache takes the Secondary role.
    let mut primary_role = link_body(SUB, "x", "eastus");
    primary_role["properties"]["serverRole"] = json!("Primary");
    let role = server
        .put(&format!("{a}/linkedServers/x"), primary_role)
        .await;
    assert_arm_error(role, StatusCode::BAD_REQUEST, "InvalidParameter").await;
    // Deleting a link that isn't there.
    let none = server.delete(&format!("{a}/linkedServers/x")).await;
    assert_arm_error(none, StatusCode::NOT_FOUND, "ResourceNotFound").await;
    // Linked servers of a missing cache.
    let no_cache = server
        .get(&format!("{}/linkedServers", Server::cache_path("ghost")))
        .await;
    assert_arm_error(no_cache, StatusCode::NOT_FOUND, "ResourceNotFound").await;
}
