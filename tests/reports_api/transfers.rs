//! A direct transfer the other agent declines: the agent who asked keeps the
//! customer, so the request is offered but not abandoned, in the queue report, the
//! live console's today and the drill-down alike.

use super::enc;
use super::T;
use crate::common::TestServer;
use crate::support::chat::{place_direct_transfer, ready_desk, widget};
use crate::support::sio_client::{token_auth, SioClient};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_transfer_request_is_offered_and_not_abandoned() {
    let server = TestServer::start().await;
    let t1 = server.login("agent1", "agent1").await;
    let (agent1, _) = ready_desk(server.addr, &t1).await;
    let (_customer, conversation_id) = widget(server.addr, "transfer-declined").await;
    let offer = agent1.expect("taskRequest", T).await.unwrap();
    assert_eq!(offer["conversationId"], conversation_id);
    let joined = agent1
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .unwrap();
    let conversation = joined[0]["topicData"]["conversation"].clone();
    let t2 = server.login("agent2", "agent2").await;
    let (agent2, agent2_id) = ready_desk(server.addr, &t2).await;

    place_direct_transfer(&agent1, &conversation, &conversation_id, &agent2_id).await;
    let request = agent2.expect("taskRequest", T).await.unwrap();
    let declined = agent2
        .emit_ack("rejectTask", json!({"taskId": request["taskId"]}))
        .await
        .unwrap();
    assert_eq!(declined[0]["status"], "rejected", "{declined:?}");

    let admin = server.login("admin", "admin").await;
    let mut queue = json!(null);
    for _ in 0..100 {
        let (status, queues) = server
            .get("/api/v1/reports/queues?interval=day", Some(&admin))
            .await;
        assert_eq!(status, 200, "{queues}");
        queue = queues["totals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["offered"] == 2)
            .cloned()
            .unwrap_or(json!(null));
        if !queue.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        (queue["answered"].as_u64(), queue["abandoned"].as_u64()),
        (Some(1), Some(0)),
        "the chat and the declined request: {queue}"
    );
    assert_eq!(queue["transfersIn"], 1, "{queue}");
    let window = format!(
        "since={}&until={}&queue={}",
        enc(queue["intervalStart"].as_str().unwrap()),
        enc(queue["intervalEnd"].as_str().unwrap()),
        queue["id"].as_str().unwrap()
    );
    let (status, body) = server
        .get(
            &format!("/api/v1/reports/conversations?{window}&outcome=abandoned"),
            Some(&admin),
        )
        .await;
    assert_eq!((status, body["total"].as_i64()), (200, Some(0)), "{body}");
    let supervisor = server.login("supervisor", "supervisor").await;
    let console = SioClient::connect(server.addr, "/supervisor", token_auth(&supervisor))
        .await
        .unwrap();
    let snapshot = console.expect("supervisor:snapshot", T).await.unwrap();
    let live = snapshot["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == queue["id"])
        .cloned()
        .unwrap();
    assert_eq!(live["today"]["abandoned"], 0, "{live}");
    assert_eq!(live["today"]["offered"], 2, "{live}");
}
