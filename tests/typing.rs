//! Typing indicators on a real server: delivered live both ways without a `seq`, never
//! stored (not in the events API, not in a desk's topic), a whisperer's typing kept
//! from the customer, typing outside a chat refused, and a flood thinned.

use crate::channels_support;
use crate::common;
use crate::support;

use channels_support::{accept, answer, desk, set_state, widget_on, T};
use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::SioClient;
use switchboard::clock::now_ms;

fn typing_event(conversation: &str, name: &str) -> Value {
    json!({
        "conversationId": conversation,
        "cimEvent": {
            "id": uuid::Uuid::new_v4().to_string(),
            "name": name,
            "type": "NOTIFICATION",
            "timestamp": now_ms(),
            "conversationId": conversation,
            "data": {
                "id": uuid::Uuid::new_v4().to_string(),
                "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": now_ms()},
                "body": {"type": "NOTIFICATION", "notificationType": name}
            }
        }
    })
}

fn widget_typing(name: &str) -> Value {
    json!({"id": uuid::Uuid::new_v4().to_string(), "body": {"type": "NOTIFICATION", "notificationType": name}})
}

/// `desk` publishes a typing indicator; returns its ack.
async fn desk_types(desk: &SioClient, conversation: &str, name: &str) -> Value {
    let ack = desk
        .emit_ack("publishCimEvent", typing_event(conversation, name))
        .await
        .expect("publishCimEvent ack");
    assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    ack[0].clone()
}

/// `widget` asks for a chat and agent1 accepts it: (agent desk, conversation id).
async fn accepted(server: &TestServer, widget: &SioClient) -> (SioClient, String) {
    let started = widget.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    let conversation = started[0]["conversationId"].as_str().unwrap().to_owned();
    let (agent, _) = desk(server, "agent1").await;
    set_state(&agent, "READY").await;
    accept(&agent, &conversation).await;
    (agent, conversation)
}

/// The next `event` whose payload has `name`, skipping others.
async fn next_named(client: &SioClient, event: &str, name: &str) -> Value {
    loop {
        let got = client.expect(event, T).await.expect(event);
        if got["name"] == name {
            return got;
        }
    }
}

#[tokio::test]
async fn typing_is_delivered_live_both_ways_and_never_stored() {
    let server = TestServer::start().await;
    let widget = widget_on(&server, "1122", "typing-cust").await;
    // Typing before any chat starts none.
    let refused = widget
        .emit_ack("MESSAGE_RECEIVED", widget_typing("TYPING_STARTED"))
        .await
        .unwrap();
    assert_eq!(refused[0]["code"], "wrong_state", "{refused:?}");
    let (agent, conversation) = accepted(&server, &widget).await;

    // Agent → customer.
    let ack = desk_types(&agent, &conversation, "TYPING_STARTED").await;
    assert!(ack.get("seq").is_none(), "typing is not stored: {ack:?}");
    let seen = next_named(&widget, "MESSAGE_RECEIVED", "TYPING_STARTED").await;
    assert!(seen.get("seq").is_none(), "{seen}");
    assert_eq!(seen["eventEmitter"]["senderName"], "agent1", "{seen}");
    assert!(
        seen["eventEmitter"].get("additionalDetail").is_none(),
        "the customer's view: {seen}"
    );

    // Customer → agent.
    let ack = widget
        .emit_ack("MESSAGE_RECEIVED", widget_typing("TYPING_STARTED"))
        .await
        .unwrap();
    assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    assert!(ack[0].get("seq").is_none(), "{ack:?}");
    let seen = next_named(&agent, "onCimEvent", "TYPING_STARTED").await;
    assert!(seen.get("seq").is_none(), "{seen}");
    assert_eq!(seen["eventEmitter"]["type"], "CUSTOMER");
    assert_eq!(seen["conversationId"], conversation.as_str());

    // A flood of the same indicator is thinned: one goes out, the rest are acked.
    for _ in 0..50 {
        let ack = widget
            .emit_ack("MESSAGE_RECEIVED", widget_typing("TYPING_STARTED"))
            .await
            .unwrap();
        assert_eq!(ack[0]["status"], "ok");
    }
    let ack = widget
        .emit_ack("MESSAGE_RECEIVED", widget_typing("TYPING_STOPPED"))
        .await
        .unwrap();
    assert_eq!(ack[0]["status"], "ok");
    // The stop is the next typing event the desk sees: the 50 repeats were dropped.
    loop {
        let got = agent.expect("onCimEvent", T).await.unwrap();
        if got["name"] == "TYPING_STARTED" {
            panic!("a repeat within the interval went out: {got}");
        }
        if got["name"] == "TYPING_STOPPED" {
            break;
        }
    }

    // A message after the typing: seqs carry on without a gap for the typing.
    let before = agent
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation, "lastSeq": 0}),
        )
        .await
        .unwrap();
    let last_seq = before[0]["lastSeq"].as_u64().expect("lastSeq");
    answer(&agent, &conversation, "hello").await;
    let message = next_named(&widget, "MESSAGE_RECEIVED", "AGENT_MESSAGE").await;
    assert_eq!(message["seq"].as_u64(), Some(last_seq + 1), "{message}");

    // Nothing of the typing is stored: not in the events API, not in a topic.
    let token = server.login("supervisor", "supervisor").await;
    let (status, events) = server
        .get(
            &format!("/api/v1/conversations/{conversation}/events"),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{events}");
    let names: Vec<&str> = events["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("TYPING")), "{names:?}");
    assert!(names.contains(&"AGENT_MESSAGE"), "{names:?}");
    let topic = agent
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation, "lastSeq": 0}),
        )
        .await
        .unwrap();
    assert!(!topic[0].to_string().contains("TYPING_"), "{topic:?}");
    let stored = channels_support::count(&server, "cim_events", "name LIKE 'TYPING%'").await;
    assert_eq!(stored, 0);
    widget.close().await;
    agent.close().await;
}

#[tokio::test]
async fn a_whisperers_typing_reaches_the_agents_not_the_customer() {
    let server = TestServer::start().await;
    let widget = widget_on(&server, "1122", "typing-cust-2").await;
    let (agent, conversation) = accepted(&server, &widget).await;
    let (supervisor, _) = desk(&server, "supervisor").await;
    let joined = supervisor
        .emit_ack("joinAsWhisper", json!({"conversationId": conversation}))
        .await
        .unwrap();
    assert!(joined[0].get("code").is_none(), "{joined:?}");
    desk_types(&supervisor, &conversation, "TYPING_STARTED").await;
    let seen = next_named(&agent, "onCimEvent", "TYPING_STARTED").await;
    assert!(seen.get("seq").is_none());
    // The customer hears nothing of it; the next thing they get is the agent's message.
    answer(&agent, &conversation, "still here").await;
    loop {
        let got = widget
            .expect("MESSAGE_RECEIVED", Duration::from_secs(10))
            .await
            .unwrap();
        assert_ne!(got["name"], "TYPING_STARTED", "{got}");
        if got["name"] == "AGENT_MESSAGE" {
            break;
        }
    }
}
