//! The widget's identity (issue 11): a handshake writes no customer, chat requests
//! are limited per address, and a running chat is resumed only with the session secret
//! its widget was given, also after a restart (only its digest is stored).

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::{SioClient, SioClientError};

const T: Duration = Duration::from_secs(10);

async fn widget(server: &TestServer, auth: Value) -> Result<SioClient, SioClientError> {
    SioClient::connect(server.addr, "/customer", auth).await
}

fn auth(customer: &str) -> Value {
    json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": customer})
}

fn count(server: &TestServer, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(server.data_dir().join("switchboard.db")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

async fn request_chat(client: &SioClient, first_name: &str) -> Value {
    let ack = client
        .emit_ack(
            "CHAT_REQUESTED",
            json!({"additionalAttributes": {"formData": {"attributes": [
                {"key": "firstName", "value": first_name, "type": "string"},
                {"key": "lastName", "value": "Tester", "type": "string"}
            ]}}}),
        )
        .await
        .unwrap();
    ack[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_write_no_customer_and_a_chat_request_writes_one() {
    let server = TestServer::start().await;
    let before = count(&server, "SELECT COUNT(*) FROM customers");
    for i in 0..30 {
        let w = widget(&server, auth(&format!("drive-by-{i}")))
            .await
            .unwrap();
        w.close().await;
    }
    assert_eq!(count(&server, "SELECT COUNT(*) FROM customers"), before);

    let w = widget(&server, auth("real-customer")).await.unwrap();
    let started = request_chat(&w, "Jane").await;
    assert!(started["conversationId"].is_string(), "{started}");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM customers"), before + 1);
    // The customer is named from the form, and the session's channelData says so too.
    assert_eq!(started["channelSession"]["customer"]["firstName"], "Jane");
    assert_eq!(started["channelSession"]["customer"]["lastName"], "Tester");
    assert_eq!(
        started["channelSession"]["channelData"]["customerFirstName"],
        "Jane"
    );
    assert_eq!(
        started["channelSession"]["channelData"]["customerLastName"],
        "Tester"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_requests_are_limited_per_address_when_asked() {
    let server = TestServer::start_with(|c| {
        c.channels.limit_loopback = true;
        c.channels.chat_requests_per_minute = 1;
        c.channels.chat_request_burst = 2;
    })
    .await;
    let before = count(&server, "SELECT COUNT(*) FROM customers");
    for i in 0..2 {
        let w = widget(&server, auth(&format!("burst-{i}"))).await.unwrap();
        let ack = request_chat(&w, "A").await;
        assert!(ack["conversationId"].is_string(), "{ack}");
    }
    let w = widget(&server, auth("one-too-many")).await.unwrap();
    let refused = request_chat(&w, "B").await;
    assert_eq!(refused["status"], "error", "{refused}");
    assert_eq!(refused["code"], "rate_limited");
    // A first message is a chat request too.
    let by_message = w
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "m-1", "body": {"type": "PLAIN", "markdownText": "hi"}}),
        )
        .await
        .unwrap();
    assert_eq!(by_message[0]["code"], "rate_limited", "{by_message:?}");
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM customers"),
        before + 2,
        "a refused request writes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_secret_survives_a_restart_and_is_stored_only_as_a_digest() {
    let server = TestServer::start().await;
    let w = widget(&server, auth("keeps-secret")).await.unwrap();
    let started = request_chat(&w, "Kim").await;
    let secret = started["sessionSecret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    assert!(secret.len() >= 32, "{secret}");
    let said = w
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "ks-1", "body": {"type": "PLAIN", "markdownText": "remember me"}}),
        )
        .await
        .unwrap();
    assert_eq!(said[0]["status"], "ok", "{said:?}");
    assert!(said[0].get("sessionSecret").is_none(), "issued once");
    w.close().await;
    let digests = count(
        &server,
        &format!("SELECT COUNT(*) FROM widget_secrets WHERE secret_hash = '{secret}'"),
    );
    assert_eq!(digests, 0, "the secret itself is not stored");
    let server = server.restart().await;

    let refused = widget(&server, auth("keeps-secret")).await;
    assert!(
        matches!(&refused, Err(SioClientError::ConnectRefused { message, .. }) if message.contains("sessionSecret")),
        "{:?}",
        refused.err()
    );
    let mut wrong = auth("keeps-secret");
    wrong["sessionSecret"] = json!("not-the-secret");
    assert!(widget(&server, wrong).await.is_err());

    let mut right = auth("keeps-secret");
    right["sessionSecret"] = json!(secret);
    right["lastSeq"] = json!(0);
    let back = widget(&server, right)
        .await
        .expect("the secret resumes the chat");
    let replayed = loop {
        let event = back
            .expect("MESSAGE_RECEIVED", T)
            .await
            .expect("its history is replayed");
        if event["data"]["id"] == "ks-1" {
            break event;
        }
    };
    assert_eq!(replayed["data"]["body"]["markdownText"], "remember me");
    let again = back
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "ks-2", "body": {"type": "PLAIN", "markdownText": "still me"}}),
        )
        .await
        .unwrap();
    assert_eq!(again[0]["conversationId"], started["conversationId"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tabs_resuming_while_messages_flow_get_each_once_and_in_order() {
    const N: usize = 80;
    let server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let (desk, _) = support::chat::ready_desk(server.addr, &token).await;
    let w = widget(&server, auth("busy")).await.unwrap();
    let started = request_chat(&w, "Lee").await;
    let secret = started["sessionSecret"]
        .as_str()
        .expect("a secret")
        .to_owned();
    let conversation_id = started["conversationId"].as_str().unwrap().to_owned();
    desk.expect("taskRequest", T).await.unwrap();
    let joined = desk
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .unwrap();
    assert!(joined[0]["topicData"].is_object(), "{joined:?}");
    let writer = tokio::spawn(async move {
        let mut last = String::new();
        for _ in 0..N {
            let message = support::chat::agent_message(
                &conversation_id,
                json!({"type": "PLAIN", "markdownText": "more"}),
            );
            last = message["data"]["id"].as_str().unwrap().to_owned();
            let sent = desk
                .emit_ack(
                    "publishCimEvent",
                    json!({"conversationId": conversation_id, "cimEvent": message}),
                )
                .await
                .unwrap();
            assert_eq!(sent[0]["status"], "ok", "{sent:?}");
        }
        (desk, last)
    });
    // Tabs come back one after another while the agent writes: each replays from the
    // start, then goes on live, and must see every event once, in seq order.
    let mut tabs = Vec::new();
    for _ in 0..4 {
        let mut resume = auth("busy");
        resume["sessionSecret"] = json!(secret);
        resume["lastSeq"] = json!(0);
        tabs.push(widget(&server, resume).await.expect("resumed"));
    }
    let (_desk, last_id) = writer.await.unwrap();
    for tab in &tabs {
        let mut seqs = Vec::new();
        loop {
            let event = tab
                .expect("MESSAGE_RECEIVED", T)
                .await
                .unwrap_or_else(|e| panic!("until the last: {e:?} after {seqs:?}"));
            seqs.push(event["seq"].as_u64().expect("a seq"));
            if event["data"]["id"] == last_id.as_str() {
                break;
            }
        }
        assert!(
            seqs.windows(2).all(|pair| pair[0] < pair[1]),
            "twice or out of order: {seqs:?}"
        );
    }
    w.close().await;
}

/// A `MESSAGE_RECEIVED` of `text` with client id `id`; its ack.
async fn say(client: &SioClient, id: &str, text: &str) -> Value {
    let ack = client
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": id, "body": {"type": "PLAIN", "markdownText": text}}),
        )
        .await
        .unwrap();
    ack[0].clone()
}

/// `sql` run on the server's database from a connection of the test's own.
fn execute(server: &TestServer, sql: &str) {
    let conn = rusqlite::Connection::open(server.data_dir().join("switchboard.db")).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_whose_commit_failed_is_stored_when_sent_again_after_the_restart() {
    let server = TestServer::start().await;
    let w = widget(&server, auth("commit-fails")).await.unwrap();
    let started = request_chat(&w, "Ida").await;
    let secret = started["sessionSecret"].as_str().unwrap().to_owned();
    let conversation_id = started["conversationId"].as_str().unwrap().to_owned();
    assert_eq!(say(&w, "cf-1", "before").await["status"], "ok");

    // The disk refuses the next message's events (as a full disk would).
    execute(
        &server,
        "CREATE TRIGGER refuse_events BEFORE INSERT ON cim_event_rows
         BEGIN SELECT RAISE(ABORT, 'injected write failure'); END",
    );
    let refused = say(&w, "cf-2", "the one the disk refused").await;
    assert_eq!(refused["status"], "error", "{refused}");
    assert_eq!(refused["code"], "unavailable", "{refused}");
    // The engine took the message in before the store refused it: it stops rather
    // than answer the customer's retry as a duplicate of what was never stored.
    let running = server.running.as_ref().unwrap();
    tokio::time::timeout(T, running.halted())
        .await
        .expect("the engine halts after a failed commit");
    let retried = say(&w, "cf-2", "the one the disk refused").await;
    assert_eq!(retried["status"], "error", "{retried}");
    let (ready, _) = server.get("/readyz", None).await;
    assert_eq!(ready, 503, "a halted engine is not ready");
    w.close().await;

    // The disk is fine again; the service manager starts the appliance again.
    execute(&server, "DROP TRIGGER refuse_events");
    let server = server.restart().await;
    let mut resume = auth("commit-fails");
    resume["sessionSecret"] = json!(secret);
    let back = widget(&server, resume).await.expect("the chat resumes");
    let stored = say(&back, "cf-2", "the one the disk refused").await;
    assert_eq!(stored["status"], "ok", "{stored}");
    assert_eq!(stored["duplicate"], false, "it was never stored: {stored}");
    let admin = server.login("admin", "admin").await;
    let (_, events) = server
        .get(
            &format!("/api/v1/conversations/{conversation_id}/events"),
            Some(&admin),
        )
        .await;
    let texts: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["data"]["body"]["markdownText"].as_str())
        .collect();
    // After the flow's greeting: each message once, in order.
    assert_eq!(
        texts[texts.len() - 2..],
        ["before", "the one the disk refused"],
        "{texts:?}"
    );
    assert_eq!(texts.len(), 3, "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tab_of_a_channel_deleted_and_made_again_connects_again_before_it_chats() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (_, channels) = server.get("/api/v1/channels", Some(&admin)).await;
    let demo = channels["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["serviceIdentifier"] == "1122")
        .unwrap()
        .clone();
    let body = json!({"name": "promo", "serviceIdentifier": "3001", "channelType": "WEB",
                      "routingPolicy": demo["channelConfig"]["routingPolicy"]});
    let (status, first) = server.post("/api/v1/channels", Some(&admin), &body).await;
    assert_eq!(status, 201, "{first}");
    let promo = json!({"serviceIdentifier": "3001", "channelCustomerIdentifier": "early-tab"});
    let tab = widget(&server, promo.clone()).await.unwrap();

    // The channel never had a chat, so it can go, and come back under its identifier.
    let id = first["id"].as_str().unwrap();
    let (status, _) = server
        .delete(&format!("/api/v1/channels/{id}"), Some(&admin))
        .await;
    assert_eq!(status, 204);
    let (status, again) = server.post("/api/v1/channels", Some(&admin), &body).await;
    assert_eq!(status, 201, "{again}");

    let refused = request_chat(&tab, "Early").await;
    assert_eq!(refused["code"], "channel_changed", "{refused}");
    let fresh = widget(&server, promo).await.unwrap();
    let started = request_chat(&fresh, "Early").await;
    assert_eq!(
        started["channelSession"]["channel"]["id"], again["id"],
        "{started}"
    );
    let (ready, _) = server.get("/readyz", None).await;
    assert_eq!(ready, 200);
}
