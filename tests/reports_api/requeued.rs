//! A chat answered, then put back in the queue when its agent is logged out, and left
//! by its customer before anyone answers again: the queue report counts it answered
//! once and not abandoned, and the drill-downs list it under the same figures.

use super::enc;
use super::T;
use crate::common::TestServer;
use crate::support::chat::{ready_desk, widget};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answered_chat_requeued_at_logout_and_left_is_answered_not_abandoned() {
    let server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let (desk, agent_id) = ready_desk(server.addr, &token).await;
    let (customer, conversation_id) = widget(server.addr, "requeued").await;
    let offer = desk.expect("taskRequest", T).await.unwrap();
    assert_eq!(offer["conversationId"], conversation_id);
    let joined = desk
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .unwrap();
    assert!(joined[0]["topicData"].is_object(), "{joined:?}");

    let supervisor = server.login("supervisor", "supervisor").await;
    let (status, body) = server
        .post(
            &format!("/api/v1/agents/{agent_id}/logout"),
            Some(&supervisor),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    desk.expect_disconnect(T).await.unwrap();
    customer.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    customer.expect("CHANNEL_SESSION_ENDED", T).await.unwrap();

    let admin = server.login("admin", "admin").await;
    let queue = wait_for_close(&server, &admin).await;
    assert_eq!(
        (queue["answered"].as_u64(), queue["abandoned"].as_u64()),
        (Some(1), Some(0)),
        "{queue}"
    );
    let window = format!(
        "since={}&until={}&queue={}",
        enc(queue["intervalStart"].as_str().unwrap()),
        enc(queue["intervalEnd"].as_str().unwrap()),
        queue["id"].as_str().unwrap()
    );
    for (outcome, expected) in [("answered", 1), ("abandoned", 0), ("shortAbandoned", 0)] {
        let (status, body) = server
            .get(
                &format!("/api/v1/reports/conversations?{window}&outcome={outcome}"),
                Some(&admin),
            )
            .await;
        assert_eq!(
            (status, body["total"].as_i64()),
            (200, Some(expected)),
            "{outcome}: {body}"
        );
    }
}

/// Today's total of the queue the chat went to, once its conversation closed.
async fn wait_for_close(server: &TestServer, token: &str) -> Value {
    for _ in 0..100 {
        let (_, closed) = server
            .get("/api/v1/reports/conversations?state=CLOSED", Some(token))
            .await;
        if closed["total"] == 1 {
            let (status, queues) = server
                .get("/api/v1/reports/queues?interval=day", Some(token))
                .await;
            assert_eq!(status, 200, "{queues}");
            return queues["totals"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["offered"] == 1)
                .cloned()
                .unwrap_or_else(|| panic!("{queues}"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (_, all) = server
        .get("/api/v1/reports/conversations", Some(token))
        .await;
    panic!("the chat did not close: {all}");
}
