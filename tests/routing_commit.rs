//! Nothing published that was not stored: when the store refuses an engine batch,
//! nothing of it is stored — the chat and its task are one transaction — and no
//! desk or customer hears of it; the engine halts, and a restart routes again.

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::{token_auth, SioClient};

const T: Duration = Duration::from_secs(10);

async fn run_sql(server: &TestServer, sql: &'static str) {
    server
        .running
        .as_ref()
        .unwrap()
        .store
        .write(move |c| {
            c.execute_batch(sql)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// A widget asks for a chat; its answer.
async fn chat(server: &TestServer, customer: &str) -> Value {
    let w = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": customer}),
    )
    .await
    .unwrap();
    let answer = w.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    // The widget stays connected for the rest of the test.
    std::mem::forget(w);
    answer[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_the_store_refuses_reaches_no_desk() {
    let server = TestServer::start().await;
    let running = server.running.as_ref().unwrap();
    let token = server.login("agent1", "agent1").await;
    let desk = SioClient::connect(server.addr, "/", token_auth(&token))
        .await
        .unwrap();
    desk.expect("agentPresence", T).await.unwrap();
    let ready = desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": "READY"}}),
        )
        .await
        .unwrap();
    assert_eq!(ready[0]["state"]["name"], "READY", "{ready:?}");
    desk.expect("agentPresence", T).await.unwrap();

    // The store refuses every reservation: the batch that enqueues and offers the
    // first chat fails as a whole.
    run_sql(
        &server,
        "CREATE TRIGGER refuse_offer_insert BEFORE INSERT ON task_media
             WHEN NEW.state = 'RESERVED'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;
         CREATE TRIGGER refuse_offer_update BEFORE UPDATE ON task_media
             WHEN NEW.state = 'RESERVED'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
    )
    .await;
    let answer = chat(&server, "refused-offer").await;
    // The chat's step (conversation, greeting, task, offer) was one write, refused
    // as a whole: the customer is told, and nothing of the chat is stored.
    assert!(answer.get("conversationId").is_none(), "{answer}");
    assert!(answer["code"].is_string(), "{answer}");
    // The engine took the chat in before the store refused it, so it halts: it
    // decides nothing more on a state the store does not have.
    tokio::time::timeout(T, running.halted())
        .await
        .expect("the engine halts");
    let stored: (i64, i64) = running
        .store
        .read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM conversations)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(stored, (0, 0), "the refused batch left rows");
    // The desk never heard the refused offer.
    while let Ok(event) = desk.next_event(Duration::from_millis(500)).await {
        assert_ne!(
            event.name, "taskRequest",
            "an offer the store refused was published: {:?}",
            event.args
        );
    }
    desk.close().await;

    // The store accepts again; started again, the appliance routes the next chat.
    run_sql(
        &server,
        "DROP TRIGGER refuse_offer_insert; DROP TRIGGER refuse_offer_update;",
    )
    .await;
    let server = server.restart().await;
    let token = server.login("agent1", "agent1").await;
    let (desk, _) = support::chat::ready_desk(server.addr, &token).await;
    let answer = chat(&server, "after-restart").await;
    let offer = desk.expect("taskRequest", T).await.unwrap();
    assert_eq!(offer["conversationId"], answer["conversationId"], "{offer}");
}
