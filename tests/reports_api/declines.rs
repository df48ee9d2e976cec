//! A declined offer counted as a reject for the agent, the queue and the console.

use super::T;
use crate::common::TestServer;
use crate::support::chat::{ready_desk, widget};
use crate::support::sio_client::{token_auth, SioClient};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_offer_counts_as_a_reject_for_the_agent_the_queue_and_the_console() {
    let server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let (desk, agent_id) = ready_desk(server.addr, &token).await;
    let (_customer, _) = widget(server.addr, "declined").await;
    let offer = desk.expect("taskRequest", T).await.unwrap();
    let task_id = offer["taskId"].as_str().unwrap().to_string();
    let rejected = desk
        .emit_ack("rejectTask", json!({"taskId": task_id}))
        .await
        .unwrap();
    assert_eq!(rejected[0]["status"], "rejected", "{rejected:?}");

    let supervisor = server.login("supervisor", "supervisor").await;
    let (status, agents) = server
        .get(
            &format!("/api/v1/reports/agents?interval=day&id={agent_id}"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 200, "{agents}");
    let agent = &agents["totals"][0];
    assert_eq!(
        (agent["rejects"].as_u64(), agent["ronas"].as_u64()),
        (Some(1), Some(0)),
        "{agent}"
    );
    assert_eq!(agent["offered"], 1, "{agent}");
    let (_, queues) = server
        .get("/api/v1/reports/queues?interval=day", Some(&supervisor))
        .await;
    let queue = queues["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["rejects"] == 1)
        .cloned()
        .unwrap_or_else(|| panic!("{queues}"));
    assert_eq!(
        queue["offered"], 1,
        "declined and waiting again is one offer: {queue}"
    );
    // The console's today agrees.
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
    assert_eq!(live["today"]["rejects"], 1, "{live}");
}
