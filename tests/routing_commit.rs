//! Nothing published that was not stored: when the store refuses a routing batch,
//! no desk hears of it (the routing driver publishes only after its commit, as the
//! conversation driver does).

mod common;
mod support;

use common::TestServer;
use serde_json::json;
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

async fn chat(server: &TestServer, customer: &str) -> String {
    let w = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": customer}),
    )
    .await
    .unwrap();
    let started = w.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    // The widget stays connected for the rest of the test.
    std::mem::forget(w);
    started[0]["conversationId"].as_str().unwrap().to_string()
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
    let refused = chat(&server, "refused-offer").await;
    // Wait until routing has handled (and failed to store) that batch: its task is
    // in the engine, reserved to agent1, and not in the store.
    let mut waited = Duration::ZERO;
    loop {
        let id = refused.clone();
        let reserved = running
            .routing
            .query(move |core, _| {
                core.tasks()
                    .any(|t| t.conversation_id == id && t.assigned_to.is_some())
            })
            .await
            .unwrap();
        if reserved {
            break;
        }
        assert!(waited < T, "routing never handled the chat");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    let id = refused.clone();
    let stored: i64 = running
        .store
        .read(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM tasks WHERE conversation_id = ?1",
                [&id],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(stored, 0, "the refused batch left a task row");

    // The store accepts again; the agent's next change is stored and published. The
    // desk hears it, and never heard the refused offer before it.
    run_sql(
        &server,
        "DROP TRIGGER refuse_offer_insert; DROP TRIGGER refuse_offer_update;",
    )
    .await;
    desk.emit_ack(
        "changeAgentState",
        json!({"action": "agentState", "state": {"name": "NOT_READY"}}),
    )
    .await
    .unwrap();
    loop {
        let event = desk.next_event(T).await.unwrap();
        assert_ne!(
            event.name, "taskRequest",
            "an offer the store refused was published: {:?}",
            event.args
        );
        if event.name == "agentPresence" && event.args[0]["state"]["name"] == "NOT_READY" {
            break;
        }
    }
}
