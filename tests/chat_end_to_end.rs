//! One chat from first message to closed, through the public protocols only: a
//! customer widget on `/customer` and an agent desk on `/`, both over Socket.IO.

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::{token_auth, SioClient};

const T: Duration = Duration::from_secs(10);

async fn desk(server: &TestServer, user: &str) -> SioClient {
    let token = server.login(user, user).await;
    let desk = SioClient::connect(server.addr, "/", token_auth(&token))
        .await
        .expect("desk connects");
    let presence = desk.expect("agentPresence", T).await.unwrap();
    assert_eq!(presence["agent"]["keycloakUser"]["username"], user);
    desk
}

/// The agent's user id, from its latest presence.
async fn presence_id(desk: &SioClient) -> String {
    let ack = desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": "READY"}}),
        )
        .await
        .unwrap();
    ack[0]["agent"]["id"].as_str().unwrap().to_string()
}

async fn ready(desk: &SioClient) -> Value {
    let ack = desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": "READY"}}),
        )
        .await
        .unwrap();
    assert_eq!(ack[0]["state"]["name"], "READY", "{ack:?}");
    ack[0].clone()
}

async fn widget(server: &TestServer, customer: &str) -> SioClient {
    SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": customer}),
    )
    .await
    .expect("widget connects")
}

fn plain(id: &str, text: &str) -> Value {
    json!({"id": id, "body": {"type": "PLAIN", "markdownText": text}})
}

fn agent_message(conversation_id: &str, text: &str) -> Value {
    json!({
        "conversationId": conversation_id,
        "cimEvent": {
            "id": uuid::Uuid::new_v4().to_string(),
            "name": "AGENT_MESSAGE",
            "type": "MESSAGE",
            "timestamp": 1,
            "conversationId": conversation_id,
            "data": {
                "id": uuid::Uuid::new_v4().to_string(),
                "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": 1},
                "body": {"type": "PLAIN", "markdownText": text}
            }
        }
    })
}

/// Waits for the next onCimEvent named `name`, skipping others.
async fn cim_event(desk: &SioClient, name: &str) -> Value {
    loop {
        let e = desk.expect("onCimEvent", T).await.unwrap();
        if e["name"] == name {
            return e;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_from_first_message_to_closed() {
    let server = TestServer::start().await;
    let agent = desk(&server, "agent1").await;
    ready(&agent).await;

    let customer = widget(&server, "cust-e2e-1").await;
    let started = customer
        .emit_ack(
            "CHAT_REQUESTED",
            json!({"additionalAttributes": {"locale": {"language": "en"}}}),
        )
        .await
        .unwrap();
    let conversation_id = started[0]["conversationId"].as_str().unwrap().to_string();
    let session_started = customer.expect("CHANNEL_SESSION_STARTED", T).await.unwrap();
    assert_eq!(session_started["conversationId"], conversation_id);

    // The conversation manager asks for an agent; the desk is offered the task.
    let offer = agent.expect("taskRequest", T).await.unwrap();
    assert_eq!(offer["conversationId"], conversation_id);
    assert_eq!(offer["task"]["activeMedia"][0]["state"], "RESERVED");

    // The customer writes before the agent accepted: stored and acked once.
    let ack = customer
        .emit_ack("MESSAGE_RECEIVED", plain("m-1", "Hello?"))
        .await
        .unwrap();
    assert_eq!(ack[0]["status"], "ok");
    assert_eq!(ack[0]["duplicate"], false);
    let first_seq = ack[0]["seq"].as_u64().unwrap();
    let again = customer
        .emit_ack("MESSAGE_RECEIVED", plain("m-1", "Hello?"))
        .await
        .unwrap();
    assert_eq!(
        again[0]["duplicate"], true,
        "a retried message id is stored once"
    );
    assert_eq!(again[0]["seq"].as_u64().unwrap(), first_seq);

    // Accept: onTopicData carries the conversation and its history in order.
    let topic = agent
        .emit_ack("topicSubscription", json!({"conversationId": conversation_id, "topicParticipant": {"type": "AGENT", "role": "PRIMARY"}}))
        .await
        .unwrap();
    let topic = &topic[0];
    assert_eq!(topic["conversationId"], conversation_id);
    let history = topic["topicData"]["events"].as_array().unwrap();
    let seqs: Vec<u64> = history.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let customer_messages: Vec<&Value> = history
        .iter()
        .filter(|e| e["name"] == "CUSTOMER_MESSAGE")
        .collect();
    assert_eq!(customer_messages.len(), 1, "the retry was not stored twice");
    assert_eq!(topic["topicData"]["conversation"]["state"], "ACTIVE");

    // Messages both ways.
    customer
        .emit_ack("MESSAGE_RECEIVED", plain("m-2", "My order is late"))
        .await
        .unwrap();
    let seen = cim_event(&agent, "CUSTOMER_MESSAGE").await;
    assert_eq!(seen["data"]["body"]["markdownText"], "My order is late");
    assert!(seen["seq"].as_u64().unwrap() > first_seq);

    let ack = agent
        .emit_ack(
            "publishCimEvent",
            agent_message(&conversation_id, "Let me check"),
        )
        .await
        .unwrap();
    assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    let reply = loop {
        let m = customer.expect("MESSAGE_RECEIVED", T).await.unwrap();
        if m["name"] == "AGENT_SUBSCRIBED" {
            // The widget's "agent1 joined" line: the name, nothing of the user.
            assert_eq!(m["data"]["agentParticipant"]["senderName"], "agent1");
            assert!(m["data"]["agentParticipant"].get("participant").is_none());
            continue;
        }
        if m["name"] != "BOT_MESSAGE" {
            break m;
        }
        assert!(m["data"]["body"]["markdownText"]
            .as_str()
            .unwrap()
            .contains("Finding an agent"));
    };
    assert_eq!(reply["name"], "AGENT_MESSAGE");
    assert_eq!(reply["data"]["body"]["markdownText"], "Let me check");

    // The agent leaves and wraps up; the customer, still there, is offered to someone else.
    let left = agent
        .emit_ack(
            "topicUnsubscription",
            json!({"conversationId": conversation_id, "reason": "DONE"}),
        )
        .await
        .unwrap();
    assert_eq!(left[0]["status"], "success", "{left:?}");
    let wrapup = agent.expect("wrapupTimerStarted", T).await.unwrap();
    assert_eq!(wrapup["conversationId"], conversation_id);
    let closed = agent
        .emit_ack(
            "closeWrapup",
            json!({
                "agentId": presence_id(&agent).await,
                "conversationId": conversation_id,
                "cimEvent": {
                    "id": uuid::Uuid::new_v4().to_string(),
                    "name": "AGENT_MESSAGE",
                    "type": "MESSAGE",
                    "timestamp": 1,
                    "conversationId": conversation_id,
                    "data": {
                        "id": uuid::Uuid::new_v4().to_string(),
                        "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": 1},
                        "body": {"type": "WRAPUP", "wrapups": [{"categoryName": "Support", "value": "Issue resolved"}], "note": "ok"}
                    }
                }
            }),
        )
        .await
        .unwrap();
    assert_eq!(closed[0]["status"], "ok", "{closed:?}");
    customer.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    customer.expect("CHANNEL_SESSION_ENDED", T).await.unwrap();

    // Every routing task of the conversation ends: the wrapped-up one and the new
    // request made while the customer was still there.
    let supervisor = server.login("supervisor", "supervisor").await;
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let (status, tasks) = server.get("/api/v1/tasks", Some(&supervisor)).await;
        assert_eq!(status, 200, "{tasks}");
        let open: Vec<&Value> = tasks
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["conversationId"] == conversation_id)
            .collect();
        if open.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "tasks left open: {open:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The transcript is stored.
    let stored: i64 = server
        .running
        .as_ref()
        .unwrap()
        .store
        .read(move |c| {
            Ok(c.query_row(
                "SELECT COUNT(*) FROM cim_events WHERE name IN ('CUSTOMER_MESSAGE', 'AGENT_MESSAGE')",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    // Hello (once), the late order, the agent's answer, and the wrap-up record.
    assert_eq!(stored, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_conversations_bad_payloads_and_unknown_events_get_errors() {
    let server = TestServer::start().await;
    let agent1 = desk(&server, "agent1").await;
    let agent2 = desk(&server, "agent2").await;
    ready(&agent1).await;
    let customer = widget(&server, "cust-e2e-2").await;
    let started = customer
        .emit_ack("CHAT_REQUESTED", json!({}))
        .await
        .unwrap();
    let conversation_id = started[0]["conversationId"].as_str().unwrap().to_string();
    agent1.expect("taskRequest", T).await.unwrap();

    // agent2 was not offered this conversation: it may neither join nor write to it.
    let refused = agent2
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .unwrap();
    assert_eq!(refused[0]["status"], "error");
    assert_eq!(refused[0]["code"], "no_task");
    let err = agent2.expect("errors", T).await.unwrap();
    assert_eq!(err["event"], "topicSubscription");
    let refused = agent2
        .emit_ack("publishCimEvent", agent_message(&conversation_id, "sneaky"))
        .await
        .unwrap();
    assert_eq!(refused[0]["status"], "error", "{refused:?}");
    agent2.expect("errors", T).await.unwrap();

    // Malformed requests and unknown events.
    let bad = agent1
        .emit_ack("changeAgentState", json!({"state": {"name": "DANCING"}}))
        .await
        .unwrap();
    assert_eq!(bad[0]["code"], "invalid_payload");
    let bad = agent1
        .emit_ack(
            "publishCimEvent",
            json!({"cimEvent": {"name": "AGENT_MESSAGE"}}),
        )
        .await
        .unwrap();
    assert_eq!(bad[0]["status"], "error");
    let bad = agent1.emit_ack("noSuchEvent", json!({})).await.unwrap();
    assert_eq!(bad[0]["code"], "unknown_event");
    let bad = agent1
        .emit_ack("changeAgentState", json!("READY"))
        .await
        .unwrap();
    assert_eq!(bad[0]["code"], "invalid_payload");
    let bad = customer
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "m-x", "body": {"type": "PLAIN"}}),
        )
        .await
        .unwrap();
    assert_eq!(bad[0]["status"], "error", "{bad:?}");
    customer.expect("ERRORS", T).await.unwrap();

    // A message id is one customer's idempotency key: another customer reusing it is
    // refused and learns nothing of the first conversation.
    let ok = customer
        .emit_ack("MESSAGE_RECEIVED", plain("shared-id", "mine"))
        .await
        .unwrap();
    assert_eq!(ok[0]["status"], "ok");
    let other = widget(&server, "cust-e2e-3").await;
    let refused = other
        .emit_ack("MESSAGE_RECEIVED", plain("shared-id", "theirs"))
        .await
        .unwrap();
    assert_eq!(refused[0]["status"], "error", "{refused:?}");
    assert_eq!(refused[0]["code"], "id_in_use");
    assert!(refused[0].get("conversationId").is_none());

    // Nothing of that was stored; the desk still works.
    let topic = agent1
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .unwrap();
    let events = topic[0]["topicData"]["events"].as_array().unwrap();
    assert!(events.iter().all(|e| e["name"] != "AGENT_MESSAGE"));
    let customer_messages: Vec<&Value> = events
        .iter()
        .filter(|e| e["name"] == "CUSTOMER_MESSAGE")
        .collect();
    assert_eq!(
        customer_messages.len(),
        1,
        "only the valid message was stored"
    );
    assert_eq!(customer_messages[0]["data"]["body"]["markdownText"], "mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_at_connect_and_admins_take_no_chats() {
    let server = TestServer::start().await;
    let err = SioClient::connect(server.addr, "/", token_auth("nope")).await;
    assert!(err.is_err());
    // An admin's desk is a monitoring desk (to join conversations from the console):
    // it connects, but is no agent and never goes READY.
    let admin = server.login("admin", "admin").await;
    let admin_desk = SioClient::connect(server.addr, "/", token_auth(&admin))
        .await
        .expect("an admin opens a monitoring desk");
    let ready = admin_desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": "READY"}}),
        )
        .await
        .unwrap();
    assert_eq!(ready[0]["status"], "error", "{ready:?}");
    let unknown = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "9999", "channelCustomerIdentifier": "c"}),
    )
    .await;
    assert!(unknown.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_tab_takes_over_the_session() {
    let server = TestServer::start().await;
    let first = desk(&server, "agent3").await;
    let second = desk(&server, "agent3").await;
    let removed = first.expect("socketSessionRemoved", T).await.unwrap();
    assert_eq!(
        removed["agentId"],
        second
            .expect("agentPresence", Duration::from_millis(1))
            .await
            .map(|p| p["agent"]["id"].clone())
            .unwrap_or(removed["agentId"].clone())
    );
    first.expect_disconnect(T).await.unwrap();
    // The new tab works.
    ready(&second).await;
}
