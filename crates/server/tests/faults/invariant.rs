//! No automatic action replaces data with emptiness: a geo-secondary is
//! never pointed at a geo-primary that came back empty.

use std::time::Duration;

use georep_testkit::process;
use georep_testkit::wait::eventually;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_geo_primary_that_lost_every_node_fails_the_link_and_the_secondary_keeps_its_data() {
    let mut server = server();
    let primary = premium(&server, "inv-primary", "westeurope").await;
    let secondary = premium(&server, "inv-secondary", "northeurope").await;
    link(&server, &primary, &secondary).await;
    let primary_key = key(&server, &primary).await;
    let secondary_key = key(&server, &secondary).await;
    fill(address(&server, &primary).await, &primary_key, 3_000).await;
    let secondary_addr = address(&server, &secondary).await;
    eventually(
        "the secondary has the data",
        Duration::from_secs(30),
        || async { (dbsize(secondary_addr, &secondary_key).await == Some(3_000)).then_some(()) },
    )
    .await;

    // The control plane dies, and so does every node of the geo-primary.
    let lost: Vec<u32> = instances(&server, &primary)
        .await
        .into_iter()
        .map(|(addr, _)| server.node_pid(addr).expect("a node's process"))
        .collect();
    server.kill();
    for pid in lost {
        process::kill(pid);
    }
    server.restart().expect("the server starts again");

    let link = linked_server(&server, &primary, "inv-secondary").await;
    assert_eq!(link["properties"]["provisioningState"], "Failed", "{link}");
    // The geo-secondary was not pointed at the empty geo-primary.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(dbsize(secondary_addr, &secondary_key).await, Some(3_000));
    // Unlinking leaves it standing alone, data and all, and writable.
    let response = server
        .api()
        .delete(&format!("{primary}/linkedServers/inv-secondary"))
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    server
        .api()
        .wait_operation(&response)
        .await
        .expect("unlinked");
    assert_eq!(dbsize(secondary_addr, &secondary_key).await, Some(3_000));
    assert_eq!(role(secondary_addr, &secondary_key).await, "master");
}
