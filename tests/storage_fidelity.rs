//! What readers of the store are served, byte for byte, on a real server: the
//! history API (transcript and conversation), a desk's `onTopicData` and a
//! reconnecting widget's replay, for a chat that emits the appliance's events
//! (session start, studio greeting, routing, reservation, subscription, customer,
//! agent, whisper, typing and delivery events, unsubscription, session end), before
//! and after a restart. The snapshots were recorded from the store layout before
//! shared objects were stored by reference, then re-recorded once when the newer seed
//! shapes were emitted (`channel.calendarId`, `task.activeMedia[].channelSessions`,
//! `channelData.customerFirstName` / `customerLastName` null when not given;
//! nothing else changed), and once more when typing became ephemeral (the published
//! TYPING_STARTED is no longer stored, so it is in none of them and later seqs moved
//! down by one); only ids and times (random per run) are normalised, everything else,
//! key order included, must match exactly.

use crate::channels_support;
use crate::common;
use crate::support;

use channels_support::{accept, answer, desk, publish, set_state, T};
use common::TestServer;
use serde_json::{json, Value};
use std::collections::HashMap;
use support::sio_client::{token_auth, SioClient};
use switchboard::clock::now_ms;

/// Replaces ids (UUIDs, 32-hex ids) with `<id-N>` numbered by first appearance and
/// epoch-millisecond times with `<ts>`, so two runs of the same scenario compare.
fn normalise(text: &str) -> String {
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric();
    let is_uuid = |s: &[u8]| {
        s.len() == 36
            && s.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !word(bytes[i - 1]);
        let ends_word = |n: usize| bytes.get(i + n).is_none_or(|b| !word(*b));
        let id_len = if starts_word
            && bytes.len() >= i + 36
            && is_uuid(&bytes[i..i + 36])
            && ends_word(36)
        {
            36
        } else if starts_word
            && bytes.len() >= i + 32
            && bytes[i..i + 32].iter().all(u8::is_ascii_hexdigit)
            && ends_word(32)
        {
            32
        } else {
            0
        };
        if id_len > 0 {
            let id = &text[i..i + id_len];
            let n = seen.len();
            let n = *seen.entry(id.to_string()).or_insert(n);
            out.push_str(&format!("<id-{n}>"));
            i += id_len;
        } else if starts_word
            && bytes.len() >= i + 13
            && bytes[i] == b'1'
            && bytes[i..i + 13].iter().all(u8::is_ascii_digit)
            && ends_word(13)
        {
            out.push_str("<ts>");
            i += 13;
        } else {
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

async fn raw_get(server: &TestServer, path: &str, token: &str) -> String {
    let resp = server
        .http
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200, "{path}");
    resp.text().await.expect("body")
}

/// The served texts of one conversation: transcript, conversation, and the
/// `onTopicData` a newly connected desk of `agent` receives (when it is a participant).
async fn served(server: &TestServer, conversation_id: &str, agent: Option<&str>) -> String {
    let supervisor = server.login("supervisor", "supervisor").await;
    let events = raw_get(
        server,
        &format!("/api/v1/conversations/{conversation_id}/events"),
        &supervisor,
    )
    .await;
    let conversation = raw_get(
        server,
        &format!("/api/v1/conversations/{conversation_id}"),
        &supervisor,
    )
    .await;
    let mut out = format!("events: {events}\nconversation: {conversation}\n");
    if let Some(agent) = agent {
        let token = server.login(agent, agent).await;
        let desk = SioClient::connect(server.addr, "/", token_auth(&token))
            .await
            .expect("desk connects");
        let topic = desk.expect("onTopicData", T).await.expect("onTopicData");
        out.push_str(&format!("onTopicData: {topic}\n"));
        desk.close().await;
    }
    normalise(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn served_events_match_the_recorded_shapes() {
    let server = TestServer::start().await;
    let (agent, _agent_id) = desk(&server, "agent1").await;
    set_state(&agent, "READY").await;

    // A widget customer on the demo web channel.
    let widget = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": "fidelity-1"}),
    )
    .await
    .expect("widget connects");
    let chat = widget
        .emit_ack(
            "CHAT_REQUESTED",
            json!({"additionalAttributes": {"locale": {"language": "en"}}}),
        )
        .await
        .expect("chat ack");
    let conversation_id = chat[0]["conversationId"]
        .as_str()
        .unwrap_or_else(|| panic!("conversation id: {chat:?}"))
        .to_string();
    accept(&agent, &conversation_id).await;
    let sent = widget
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "fid-c-1", "body": {"type": "PLAIN", "markdownText": "Hello"}}),
        )
        .await
        .expect("message ack");
    assert!(sent[0]["seq"].is_u64(), "{sent:?}");
    answer(&agent, &conversation_id, "Hi, how can I help?").await;
    publish(
        &agent,
        &conversation_id,
        "WHISPER_MESSAGE",
        "MESSAGE",
        json!({"id": "fid-w-1", "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": now_ms()},
               "body": {"type": "PLAIN", "markdownText": "note to self"}}),
    )
    .await;
    publish(
        &agent,
        &conversation_id,
        "TYPING_STARTED",
        "ACTIVITY",
        Value::Null,
    )
    .await;
    publish(
        &agent,
        &conversation_id,
        "MESSAGE_DELIVERY_NOTIFICATION",
        "NOTIFICATION",
        json!({"id": "fid-d-1", "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": now_ms()},
               "body": {"type": "DELIVERYNOTIFICATION", "messageId": "fid-c-1", "status": "READ"}}),
    )
    .await;
    let live = served(&server, &conversation_id, Some("agent1")).await;
    insta::assert_snapshot!("live_chat", live);

    // The agent (signed in again: the desk above took over its session) leaves, the
    // customer ends the chat.
    agent.close().await;
    let (agent, _) = desk(&server, "agent1").await;
    let left = agent
        .emit_ack(
            "topicUnsubscription",
            json!({"conversationId": conversation_id, "reason": "DONE"}),
        )
        .await
        .expect("unsubscribe ack");
    assert!(left[0].is_object(), "{left:?}");
    let ended = widget
        .emit_ack("CHAT_ENDED", json!({}))
        .await
        .expect("chat ended ack");
    assert_eq!(ended[0]["status"], "ok", "{ended:?}");
    widget.close().await;
    agent.close().await;
    let ended = served(&server, &conversation_id, None).await;
    insta::assert_snapshot!("ended_chat", ended);

    // After a restart the same history is served from the store alone.
    let server = server.restart().await;
    let restarted = served(&server, &conversation_id, None).await;
    assert_eq!(restarted, ended, "the history after a restart");
}
