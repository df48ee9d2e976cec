//! Upgrades: the current build starts on a copy of a database written by an earlier
//! release (tests/fixtures/upgrade/<version>/, made by make_fixture.mjs, see its
//! README) and everything comes back: open conversations with their history, the
//! active and reserved tasks, the queued tasks (offered once an agent is READY), the
//! connector's pending outbox rows (delivered in order once the webhook answers), the
//! running widget chat (resumed by its customer), and new chats route.

use crate::channels_support;
use crate::common;
use crate::support;

use channels_support::{desk, poll_api, set_state, widget_on, Receiver, T};
use common::{test_config, TestServer};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use support::sio_client::SioClient;

fn fixture_dir(version: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/upgrade")
        .join(version)
}

/// The facts make_fixture.mjs recorded beside the database.
fn facts(version: &str) -> Value {
    let text = std::fs::read_to_string(fixture_dir(version).join("facts.json")).expect("facts");
    serde_json::from_str(&text).expect("facts.json parses")
}

/// Starts the current build on a copy of the fixture database (the fixture stays
/// untouched), with quick outbox retries.
async fn start_on_copy(version: &str) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        fixture_dir(version).join("switchboard.db"),
        dir.path().join("switchboard.db"),
    )
    .expect("fixture copied");
    let mut config = test_config(dir.path());
    config.outbox.initial_backoff_ms = 20;
    config.outbox.max_backoff_ms = 200;
    TestServer::start_in(dir, config).await
}

fn s(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("a string: {v}"))
        .to_string()
}

/// The texts of the PLAIN messages of a conversation, in seq order, through the
/// history API.
async fn transcript(server: &TestServer, token: &str, conversation_id: &str) -> Vec<String> {
    let (status, events) = server
        .get(
            &format!("/api/v1/conversations/{conversation_id}/events"),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{events}");
    let events = events["events"].as_array().expect("a list of events");
    let seqs: Vec<u64> = events.iter().filter_map(|e| e["seq"].as_u64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "seq order: {seqs:?}");
    events
        .iter()
        .filter(|e| e["name"] == "CUSTOMER_MESSAGE" || e["name"] == "AGENT_MESSAGE")
        .map(|e| s(&e["data"]["body"]["markdownText"]))
        .collect()
}

/// Accepts (or re-reads) the conversation offered to `desk`; the onTopicData ack.
/// The ids of the conversations `GET /api/v1/reports/conversations?{query}` finds.
async fn search_ids(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    let (status, found) = server
        .get(
            &format!("/api/v1/reports/conversations?{query}"),
            Some(token),
        )
        .await;
    assert_eq!(status, 200, "{query}: {found}");
    found["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect()
}

async fn subscribe(desk: &SioClient, conversation_id: &str) -> Value {
    let topic = desk
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id, "topicParticipant": {"type": "AGENT", "role": "PRIMARY"}}),
        )
        .await
        .expect("topicSubscription ack");
    assert_eq!(topic[0]["conversationId"], conversation_id, "{topic:?}");
    topic[0].clone()
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

/// The next `event` whose payload satisfies `pred`, skipping others.
async fn next_matching(client: &SioClient, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let e = client.expect(event, T).await.expect(event);
        if pred(&e) {
            return e;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v0_1_0_database_upgrades_restores_and_routes() {
    upgrades_restores_and_routes("v0.1.0").await;
}

/// Written by main at 78090d4 (still `0.1.0`, schema version 9): events stored
/// compact (V4) with the search index (V9), before V10 moved events to
/// `cim_event_rows` and packed their texts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_9_database_upgrades_restores_and_routes() {
    upgrades_restores_and_routes("v0.1.0-schema9").await;
}

async fn upgrades_restores_and_routes(version: &str) {
    let facts = facts(version);
    // Fixtures made after 0.1.0 could only keep their chats open for a day (the API
    // caps the TTL): replayed later, the chats' timers have run out, and what is
    // checked is what an upgrade must keep whatever the timers did: history, search,
    // the outbox, and that new chats route.
    let open = match (facts["madeAt"].as_i64(), facts["openForMs"].as_i64()) {
        (Some(made), Some(open_for)) => switchboard::clock::now_ms() < made + open_for - 3_600_000,
        _ => true,
    };
    // The connector's webhook answers now (it refused connections when the fixture was made).
    let port = facts["webhookPort"].as_u64().expect("port") as u16;
    let receiver = Receiver::start(port).await;
    let server = start_on_copy(version).await;
    let admin = server.login("admin", "admin").await;

    // Schema: migrated to this build's latest version.
    let (status, ready_body) = server.get("/readyz", None).await;
    assert_eq!(status, 200, "{ready_body}");

    // Conversations and their history, through the history API.
    let widget_conv = s(&facts["widgetChat"]["conversationId"]);
    let connector_conv = s(&facts["connectorChat"]["conversationId"]);
    let reserved_conv = s(&facts["reservedChat"]["conversationId"]);
    let queued: Vec<String> = facts["queuedChats"]
        .as_array()
        .expect("queued chats")
        .iter()
        .map(|q| s(&q["conversationId"]))
        .collect();
    let expected_open = [
        (&widget_conv, "ACTIVE"),
        (&connector_conv, "ACTIVE"),
        (&reserved_conv, "CREATED"),
        (&queued[0], "CREATED"),
        (&queued[1], "CREATED"),
    ];
    for (id, state) in expected_open {
        let (status, conv) = server
            .get(&format!("/api/v1/conversations/{id}"), Some(&admin))
            .await;
        assert_eq!(status, 200, "{id}: {conv}");
        if open {
            assert_eq!(conv["state"], state, "{id} is still open");
            assert_eq!(conv["endTime"], Value::Null, "{id} is still open");
        }
    }
    assert_eq!(
        transcript(&server, &admin, &widget_conv).await,
        [
            "fixture: hello from the widget",
            "fixture: agent1 answers the widget",
            "fixture: widget writes again",
            "fixture: agent1 answers again",
        ]
    );
    assert_eq!(
        transcript(&server, &admin, &connector_conv).await,
        [
            "fixture: hello from the connector",
            "fixture: agent1 answers the connector"
        ]
    );
    assert_eq!(
        transcript(&server, &admin, &queued[0]).await,
        ["fixture: queued chat A"]
    );
    // The messages written before are still found by conversation search (over the
    // days around the fixture's making: its ids are UUIDv7, time first).
    let made_ms = i64::from_str_radix(&widget_conv.replace('-', "")[..12], 16).expect("v7 id");
    let day = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .expect("a time")
            .strftime("%Y-%m-%d")
            .to_string()
    };
    const DAY_MS: i64 = 86_400_000;
    let window = format!(
        "from={}&to={}",
        day(made_ms - DAY_MS),
        day(made_ms + DAY_MS)
    );
    let found = search_ids(&server, &admin, &format!("q=widget&{window}")).await;
    assert_eq!(
        found,
        std::slice::from_ref(&widget_conv),
        "search after the upgrade"
    );
    // Its customer, stored before the index of customer names (V23), by identifier
    // and by the start of it.
    let customer = s(&facts["widgetChat"]["customer"]);
    for typed in [customer.as_str(), "fixture-widget-1", "FIXTURE-WID"] {
        let found = search_ids(&server, &admin, &format!("customer={typed}&{window}")).await;
        assert!(found.contains(&widget_conv), "customer={typed}: {found:?}");
    }

    // The outbox rows left PENDING are delivered, in order, once the webhook answers.
    receiver
        .wait_for("the connector's greeting and agent1's reply", |r| {
            r.iter()
                .filter(|r| r.body["conversationId"] == connector_conv)
                .count()
                >= 2
        })
        .await;
    let delivered: Vec<String> = receiver
        .received()
        .iter()
        .filter(|r| r.body["conversationId"] == connector_conv)
        .map(|r| s(&r.body["name"]))
        .collect();
    assert_eq!(
        delivered,
        ["BOT_MESSAGE", "AGENT_MESSAGE"],
        "in order, once"
    );
    poll_api(
        &server,
        "/api/v1/outbox?state=PENDING",
        &admin,
        "the outbox drained",
        |rows| rows.as_array().is_some_and(|r| r.is_empty()),
    )
    .await;

    if open {
        // Tasks: agent1's two chats are still its own; the queued ones still wait.
        let tasks = poll_api(&server, "/api/v1/tasks", &admin, "the tasks", |_| true).await;
        let task_of = |conv: &str| -> Value {
            tasks
                .as_array()
                .expect("tasks")
                .iter()
                .find(|t| t["conversationId"] == conv)
                .cloned()
                .unwrap_or_else(|| panic!("a task for {conv}: {tasks:#}"))
        };
        assert_eq!(task_of(&widget_conv)["mediaState"], "ACTIVE");
        assert_eq!(task_of(&connector_conv)["mediaState"], "ACTIVE");
        for q in &queued {
            assert_eq!(task_of(q)["mediaState"], "QUEUED", "{tasks:#}");
        }

        // The running widget chat resumes: the customer's next message lands in it and
        // reaches agent1, and agent1's answer reaches the customer.
        let web_sid = s(&facts["webServiceIdentifier"]);
        let (agent1, _) = desk(&server, "agent1").await;
        let customer = s(&facts["widgetChat"]["customer"]);
        let widget = match facts["widgetChat"]["sessionSecret"].as_str() {
            // Made before widget session secrets: resumed with the identifier alone.
            None => widget_on(&server, &web_sid, &customer).await,
            Some(secret) => SioClient::connect(
                server.addr,
                "/customer",
                json!({"serviceIdentifier": web_sid, "channelCustomerIdentifier": customer,
                   "sessionSecret": secret}),
            )
            .await
            .expect("widget resumes with its secret"),
        };
        let ack = widget
            .emit_ack("MESSAGE_RECEIVED", plain("after-upgrade", "still there?"))
            .await
            .expect("message ack");
        assert_eq!(ack[0]["status"], "ok", "{ack:?}");
        assert_eq!(
            ack[0]["conversationId"],
            widget_conv.as_str(),
            "the same chat"
        );
        let seen = next_matching(&agent1, "onCimEvent", |e| e["name"] == "CUSTOMER_MESSAGE").await;
        assert_eq!(seen["conversationId"], widget_conv.as_str());
        assert_eq!(seen["data"]["body"]["markdownText"], "still there?");
        let ack = agent1
            .emit_ack(
                "publishCimEvent",
                agent_message(&widget_conv, "yes, after the upgrade"),
            )
            .await
            .expect("publish ack");
        assert_eq!(ack[0]["status"], "ok", "{ack:?}");
        let reply = next_matching(&widget, "MESSAGE_RECEIVED", |m| {
            m["name"] == "AGENT_MESSAGE"
        })
        .await;
        assert_eq!(
            reply["data"]["body"]["markdownText"],
            "yes, after the upgrade"
        );
    }

    let (agent3, _) = desk(&server, "agent3").await;
    set_state(&agent3, "READY").await;
    if open {
        // A READY agent is offered the queued chats and the one whose reservation lapsed
        // while the server was down (agent2's offer ran out).
        let mut offered = Vec::new();
        for _ in 0..3 {
            let offer = agent3.expect("taskRequest", T).await.expect("taskRequest");
            offered.push(s(&offer["conversationId"]));
        }
        let mut expected = vec![reserved_conv.clone(), queued[0].clone(), queued[1].clone()];
        expected.sort();
        offered.sort();
        assert_eq!(offered, expected);
        for conv in &expected {
            let topic = subscribe(&agent3, conv).await;
            assert_eq!(topic["conversationId"], conv.as_str(), "{topic}");
        }
        let topic = subscribe(&agent3, &queued[0]).await;
        let texts: Vec<&str> = topic["topicData"]["events"]
            .as_array()
            .expect("history")
            .iter()
            .filter_map(|e| e["data"]["body"]["markdownText"].as_str())
            .collect();
        assert!(texts.contains(&"fixture: queued chat A"), "{texts:?}");
    }

    // And a brand-new chat on the demo channel routes.
    let customer = widget_on(&server, "1122", "after-upgrade").await;
    let started = customer
        .emit_ack("CHAT_REQUESTED", json!({}))
        .await
        .expect("chat ack");
    let new_conv = s(&started[0]["conversationId"]);
    let offer = agent3.expect("taskRequest", T).await.expect("taskRequest");
    assert_eq!(offer["conversationId"], new_conv.as_str());
    subscribe(&agent3, &new_conv).await;
}
