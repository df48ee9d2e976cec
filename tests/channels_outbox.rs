//! Outbound messages to a connector channel's providerWebhook, through the persisted
//! outbox, against real HTTP receivers started by the tests: delivered once, retried
//! with backoff while the receiver is down, dead-lettered and retried through the API,
//! and picked up again after a restart.

use crate::channels_support;
use crate::common;

use channels_support::{
    accept, answer, connector_message, create_webhook_channel, desk, free_port, poll_api,
    post_message, set_state, Receiver,
};
use common::{test_config, TestServer};
use serde_json::Value;
use std::time::Duration;
use switchboard::config::Config;

const SID: &str = "wa-7700";

fn fast_retries(c: &mut Config) {
    c.outbox.initial_backoff_ms = 50;
    c.outbox.max_backoff_ms = 200;
    c.outbox.max_attempts = 100;
}

/// Starts a conversation through the connector; returns its id.
async fn customer_writes(server: &TestServer, message_id: &str, customer: &str) -> String {
    let (status, ack) = post_message(
        server,
        &connector_message(message_id, SID, customer, "Where is my order?"),
    )
    .await;
    assert_eq!(status, 202, "{ack}");
    ack["conversationId"].as_str().unwrap().to_string()
}

fn entries_of<'a>(list: &'a Value, conversation_id: &str) -> Vec<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["conversationId"] == conversation_id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_answer_reaches_the_webhook_exactly_once() {
    let server = TestServer::start_with(fast_retries).await;
    let receiver = Receiver::start(0).await;
    create_webhook_channel(&server, SID, &receiver.url()).await;
    let (agent, _) = desk(&server, "agent1").await;
    set_state(&agent, "READY").await;

    let conversation_id = customer_writes(&server, "wa-m1", "+15551001").await;
    accept(&agent, &conversation_id).await;
    answer(&agent, &conversation_id, "Let me check that for you").await;

    receiver
        .wait_for("the agent's answer", |r| {
            r.iter().any(|r| r.body["name"] == "AGENT_MESSAGE")
        })
        .await;
    // Give a duplicate every chance to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answers = receiver.delivered(&conversation_id, "AGENT_MESSAGE");
    assert_eq!(answers.len(), 1, "{:#?}", receiver.received());
    let delivered = &answers[0];
    assert_eq!(
        delivered.body["data"]["body"]["markdownText"],
        "Let me check that for you"
    );
    assert_eq!(delivered.body["type"], "MESSAGE");
    // The connector gets the customer's view: the sender is only {id, type, senderName},
    // nothing of the agent's user, nor the channel's configuration.
    let sender = delivered.body["data"]["header"]["sender"]
        .as_object()
        .expect("a sender");
    let mut keys: Vec<&str> = sender.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["id", "senderName", "type"], "{sender:?}");
    assert_eq!(sender["type"], "AGENT");
    assert_eq!(sender["senderName"], "agent1");
    let text = delivered.body.to_string();
    for hidden in [
        "keycloakUser",
        "permittedResources",
        "realm",
        "providerWebhook",
        "routingPolicy",
        "channelSession",
    ] {
        assert!(
            !text.contains(hidden),
            "{hidden} reached the connector: {text}"
        );
    }
    assert_eq!(
        delivered.idempotency_key.as_deref(),
        delivered.body["id"].as_str(),
        "the idempotency key is the event id"
    );
    // The built-in flow's greeting went out the same way, before the answer.
    let order: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.body["name"].as_str().unwrap_or_default().to_string())
        .collect();
    let greeting = order.iter().position(|n| n == "BOT_MESSAGE");
    let reply = order.iter().position(|n| n == "AGENT_MESSAGE");
    assert!(greeting.is_some() && greeting < reply, "{order:?}");
    // The customer's own message is not echoed back to its channel.
    assert!(receiver
        .delivered(&conversation_id, "CUSTOMER_MESSAGE")
        .is_empty());

    // The outbox shows every delivery done in one attempt.
    let supervisor = server.login("supervisor", "supervisor").await;
    let list = poll_api(
        &server,
        &format!("/api/v1/outbox?conversationId={conversation_id}"),
        &supervisor,
        "delivered rows",
        |l| {
            let rows = entries_of(l, &conversation_id);
            rows.len() >= 2 && rows.iter().all(|e| e["state"] == "DELIVERED")
        },
    )
    .await;
    for entry in entries_of(&list, &conversation_id) {
        assert_eq!(entry["attempts"], 1, "no retry without a failure: {entry}");
        assert!(entry["deliveredAt"].as_i64().is_some());
        assert_eq!(entry["url"], receiver.url());
    }
    assert_eq!(
        receiver.received().len(),
        entries_of(&list, &conversation_id).len(),
        "one request per outbox row"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_is_down_gets_the_message_once_it_is_back() {
    let server = TestServer::start_with(fast_retries).await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    create_webhook_channel(&server, SID, &url).await;
    let (agent, _) = desk(&server, "agent2").await;
    set_state(&agent, "READY").await;
    let supervisor = server.login("supervisor", "supervisor").await;

    let conversation_id = customer_writes(&server, "wa-m2", "+15551002").await;
    accept(&agent, &conversation_id).await;
    answer(&agent, &conversation_id, "Sorry for the wait").await;

    // While nothing listens, the attempts pile up, visible through the API.
    let path = format!("/api/v1/outbox?state=PENDING&conversationId={conversation_id}");
    let pending = poll_api(&server, &path, &supervisor, "failed attempts", |l| {
        entries_of(l, &conversation_id)
            .iter()
            .any(|e| e["attempts"].as_u64().unwrap_or(0) >= 3)
    })
    .await;
    let failing = entries_of(&pending, &conversation_id)
        .into_iter()
        .find(|e| e["attempts"].as_u64().unwrap_or(0) >= 3)
        .unwrap()
        .clone();
    assert!(
        failing["lastError"].as_str().is_some_and(|e| !e.is_empty()),
        "{failing}"
    );
    assert!(failing["nextAttemptAt"].as_i64().is_some());

    // The receiver comes up: every message arrives once, in order, and is marked delivered.
    let receiver = Receiver::start(port).await;
    receiver
        .wait_for("the agent's answer", |r| {
            r.iter().any(|r| r.body["name"] == "AGENT_MESSAGE")
        })
        .await;
    let all = format!("/api/v1/outbox?conversationId={conversation_id}");
    let done = poll_api(&server, &all, &supervisor, "all delivered", |l| {
        let rows = entries_of(l, &conversation_id);
        !rows.is_empty() && rows.iter().all(|e| e["state"] == "DELIVERED")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.delivered(&conversation_id, "AGENT_MESSAGE").len(),
        1
    );
    assert_eq!(receiver.delivered(&conversation_id, "BOT_MESSAGE").len(), 1);
    assert_eq!(
        receiver.received().len(),
        entries_of(&done, &conversation_id).len(),
        "exactly one successful request per message"
    );
    let greeting = entries_of(&done, &conversation_id)
        .into_iter()
        .find(|e| e["id"] == failing["id"])
        .unwrap()
        .clone();
    assert!(greeting["attempts"].as_u64().unwrap() >= 4, "{greeting}");
    let names: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.body["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        names.iter().position(|n| n == "BOT_MESSAGE"),
        Some(0),
        "a conversation's messages keep their order across retries: {names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_dead_letters_and_retry_delivers() {
    let server = TestServer::start_with(|c| {
        c.outbox.initial_backoff_ms = 20;
        c.outbox.max_backoff_ms = 50;
        c.outbox.max_attempts = 3;
    })
    .await;
    // Something listens but always fails.
    let receiver = Receiver::start(0).await;
    receiver.answer_with(503);
    create_webhook_channel(&server, SID, &receiver.url()).await;
    let supervisor = server.login("supervisor", "supervisor").await;
    let conversation_id = customer_writes(&server, "wa-m3", "+15551003").await;

    let dead = poll_api(
        &server,
        &format!("/api/v1/outbox?state=DEAD&conversationId={conversation_id}"),
        &supervisor,
        "a dead letter",
        |l| !entries_of(l, &conversation_id).is_empty(),
    )
    .await;
    let entry = entries_of(&dead, &conversation_id)[0].clone();
    assert_eq!(entry["attempts"], 3);
    assert_eq!(entry["lastError"], "HTTP 503 Service Unavailable");
    assert_eq!(entry["payload"]["name"], "BOT_MESSAGE");
    let id = entry["id"].as_i64().unwrap();
    let attempts_seen = receiver.received().len();
    assert!(attempts_seen >= 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver
            .received()
            .iter()
            .filter(|r| r.body["id"] == entry["payload"]["id"])
            .count(),
        3,
        "a dead letter is not tried again on its own"
    );

    // Permissions and bad input on the outbox API.
    let agent = server.login("agent1", "agent1").await;
    let (status, _) = server.get("/api/v1/outbox", Some(&agent)).await;
    assert_eq!(status, 403);
    let (status, _) = server
        .post(
            &format!("/api/v1/outbox/{id}/retry"),
            Some(&agent),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = server.get("/api/v1/outbox", None).await;
    assert_eq!(status, 401);
    let (status, err) = server
        .get("/api/v1/outbox?state=LOST", Some(&supervisor))
        .await;
    assert_eq!(status, 400);
    assert!(
        err["message"].as_str().unwrap().contains("`state`"),
        "{err}"
    );
    let (status, err) = server
        .get("/api/v1/outbox?limit=0", Some(&supervisor))
        .await;
    assert_eq!(status, 400);
    assert!(
        err["message"].as_str().unwrap().contains("`limit`"),
        "{err}"
    );
    let (status, _) = server
        .post(
            "/api/v1/outbox/999999/retry",
            Some(&supervisor),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .post("/api/v1/outbox/abc/retry", Some(&supervisor), &Value::Null)
        .await;
    assert_eq!(status, 400);

    // The receiver is fixed; an admin puts the dead letter back in line.
    receiver.answer_with(200);
    let admin = server.login("admin", "admin").await;
    let (status, retried) = server
        .post(
            &format!("/api/v1/outbox/{id}/retry"),
            Some(&admin),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["state"], "PENDING");
    assert_eq!(retried["attempts"], 0);
    let delivered = poll_api(
        &server,
        &format!("/api/v1/outbox/{id}"),
        &supervisor,
        "the retried delivery",
        |e| e["state"] == "DELIVERED",
    )
    .await;
    assert_eq!(delivered["attempts"], 1);
    assert_eq!(receiver.delivered(&conversation_id, "BOT_MESSAGE").len(), 1);
    // Only dead letters can be retried.
    let (status, err) = server
        .post(
            &format!("/api/v1/outbox/{id}/retry"),
            Some(&admin),
            &Value::Null,
        )
        .await;
    assert_eq!(status, 409, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_deliveries_survive_a_restart() {
    let mut server = TestServer::start_with(fast_retries).await;
    let port = free_port();
    create_webhook_channel(&server, SID, &format!("http://127.0.0.1:{port}/hook")).await;
    let supervisor = server.login("supervisor", "supervisor").await;
    let conversation_id = customer_writes(&server, "wa-m4", "+15551004").await;
    let pending = poll_api(
        &server,
        &format!("/api/v1/outbox?state=PENDING&conversationId={conversation_id}"),
        &supervisor,
        "a failed attempt",
        |l| {
            entries_of(l, &conversation_id)
                .iter()
                .any(|e| e["attempts"].as_u64().unwrap_or(0) >= 1)
        },
    )
    .await;
    let ids: Vec<i64> = entries_of(&pending, &conversation_id)
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();

    // Down with the appliance; the receiver comes up while it is stopped.
    server.stop().await;
    let receiver = Receiver::start(port).await;
    let dir = server.dir;
    let mut config = test_config(dir.path());
    fast_retries(&mut config);
    let server = TestServer::start_in(dir, config).await;

    receiver
        .wait_for("the greeting after the restart", |r| {
            r.iter().any(|r| r.body["name"] == "BOT_MESSAGE")
        })
        .await;
    let supervisor = server.login("supervisor", "supervisor").await;
    for id in ids {
        poll_api(
            &server,
            &format!("/api/v1/outbox/{id}"),
            &supervisor,
            "delivered after the restart",
            |e| e["state"] == "DELIVERED",
        )
        .await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.delivered(&conversation_id, "BOT_MESSAGE").len(), 1);
    assert_eq!(
        server
            .running
            .as_ref()
            .unwrap()
            .health
            .snapshot()
            .get("outbox")
            .copied(),
        Some(switchboard::health::ComponentStatus::Running)
    );
}
