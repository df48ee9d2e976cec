//! Data over time through the running appliance: the retention purge (`switchboard
//! purge`) removes the transcripts of conversations closed long enough ago, never of
//! open ones, and the reports read the same before and after; an admin's erasure of
//! a customer leaves nothing of their name, identifier, email or words in the
//! database file or its WAL, keeps the reports, is audit-logged, and refuses bad
//! callers and open conversations.

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::chat::{agent_message, leave_and_wrap_up, ready_desk};
use support::sio_client::SioClient;

const T: Duration = Duration::from_secs(10);
const DAY_MS: i64 = 86_400_000;

/// A customer `identifier` (with the widget form `form`, if any) starts a chat that
/// the READY `desk` takes; both say something. Returns the widget and conversation.
async fn answered_chat(
    server: &TestServer,
    desk: &SioClient,
    identifier: &str,
    form: Value,
    customer_says: &str,
    agent_says: &str,
) -> (SioClient, String) {
    let widget = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": identifier}),
    )
    .await
    .unwrap();
    let started = widget.emit_ack("CHAT_REQUESTED", form).await.unwrap();
    let id = started[0]["conversationId"].as_str().unwrap().to_string();
    desk.expect("taskRequest", T).await.unwrap();
    desk.emit_ack("topicSubscription", json!({"conversationId": id}))
        .await
        .unwrap();
    support::chat::customer_says(&widget, customer_says).await;
    let text = json!({"type": "PLAIN", "markdownText": agent_says});
    let ack = desk
        .emit_ack(
            "publishCimEvent",
            json!({"conversationId": id, "cimEvent": agent_message(&id, text)}),
        )
        .await
        .unwrap();
    assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    (widget, id)
}

/// The agent leaves the chat and wraps it up; the customer ends it and rates it
/// with `comment`.
async fn close_chat(desk: &SioClient, agent_id: &str, widget: SioClient, id: &str, comment: &str) {
    leave_and_wrap_up(desk, agent_id, id).await;
    widget.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    widget.expect("CHANNEL_SESSION_ENDED", T).await.unwrap();
    let rated = widget
        .emit_ack(
            "CSAT_SUBMITTED",
            json!({"conversationId": id, "rating": 5, "comment": comment}),
        )
        .await
        .unwrap();
    assert!(rated[0].get("error").is_none(), "{rated:?}");
}

/// The names of the events of conversation `id` as an admin reads them.
async fn event_names(server: &TestServer, admin: &str, id: &str) -> Vec<String> {
    let (status, body) = server
        .get(&format!("/api/v1/conversations/{id}/events"), Some(admin))
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

async fn search_total(server: &TestServer, admin: &str, query: &str) -> i64 {
    let (status, body) = server
        .get(
            &format!("/api/v1/reports/conversations?{query}"),
            Some(admin),
        )
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    body["total"].as_i64().unwrap()
}

/// Today's queue and channel reports by hour, as JSON (agent and team reports count
/// time up to now, so they change as the test runs; the kept aggregates behind them
/// are compared whole).
async fn reports(server: &TestServer, admin: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for kind in ["queues", "channels"] {
        let (status, body) = server
            .get(
                &format!("/api/v1/reports/{kind}?interval=hour"),
                Some(admin),
            )
            .await;
        assert_eq!(status, 200, "{kind}: {body}");
        out.push(body);
    }
    out
}

fn aggregates(path: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let c = rusqlite::Connection::open(path).unwrap();
    switchboard::reports::rebuild::dump(&c).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_old_transcripts_keeps_open_ones_and_the_reports() {
    let mut server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let (desk, agent_id) = ready_desk(server.addr, &token).await;
    let (widget, old) = answered_chat(
        &server,
        &desk,
        "old-visitor",
        json!({}),
        "where is my papaya order",
        "let me look",
    )
    .await;
    close_chat(&desk, &agent_id, widget, &old, "papaya was late").await;
    let (_open_widget, open) = answered_chat(
        &server,
        &desk,
        "still-here",
        json!({}),
        "papaya again",
        "on it",
    )
    .await;
    let admin = server.login("admin", "admin").await;
    assert_eq!(search_total(&server, &admin, "q=papaya").await, 2);
    let old_events = event_names(&server, &admin, &old).await;
    assert!(
        old_events.iter().any(|n| n == "CUSTOMER_MESSAGE"),
        "{old_events:?}"
    );
    let open_before = event_names(&server, &admin, &open).await;
    let reports_before = reports(&server, &admin).await;
    server.stop().await;

    // The closed conversation ended 40 days ago (the open one has no end).
    let db = server.data_dir().join("switchboard.db");
    let kept = aggregates(&db);
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE conversations SET end_time = end_time - ?1 WHERE end_time IS NOT NULL",
            [40 * DAY_MS],
        )
        .unwrap();
    let purge = |days: &str| {
        std::process::Command::new(common::binary())
            .args(["purge", "--days", days, "--data-dir"])
            .arg(server.data_dir())
            .output()
            .unwrap()
    };
    // Bad input is refused and changes nothing.
    let refused = purge("0");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("days"));
    let out = purge("50");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("of 0 conversations"),
        "nothing is 50 days old: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = purge("30");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let closed: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM conversations WHERE state = 'CLOSED'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(closed >= 1);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains(&format!("of {closed} conversations")),
        "{said}"
    );
    assert_eq!(aggregates(&db), kept, "the aggregates stay");

    let server = server.restart().await;
    let admin = server.login("admin", "admin").await;
    assert_eq!(reports(&server, &admin).await, reports_before);
    // The old transcript is gone but its wrap-up; the open chat is whole.
    let old_after = event_names(&server, &admin, &old).await;
    assert_eq!(
        old_after,
        vec!["AGENT_MESSAGE".to_string()],
        "{old_after:?}"
    );
    assert_eq!(event_names(&server, &admin, &open).await, open_before);
    assert_eq!(search_total(&server, &admin, "q=papaya").await, 1);
    // The purged conversation is still found, with its wrap-up and rating.
    let (_, found) = server
        .get(
            "/api/v1/reports/conversations?customer=old-visitor",
            Some(&admin),
        )
        .await;
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["items"][0]["wrapups"], "Support: Issue resolved");
    assert_eq!(found["items"][0]["csat"], 5);
    let comment: String = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT comment FROM csat WHERE conversation_id = ?1",
            [&old],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(comment, "");
}

/// Whether `needle` occurs in the bytes of the file at `path` (absent file: no).
fn file_holds(path: &std::path::Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap_or_default();
    bytes
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// What the erased customer gave or said: name, identifier, email, a phrase.
const ERASED: [&str; 5] = [
    "Zebulon",
    "Quackenbush",
    "zq@erase.example",
    "visitor-8472",
    "tangerine",
];

fn assert_no_trace(files: &[&std::path::Path], when: &str) {
    for needle in ERASED {
        for file in files {
            assert!(
                !file_holds(file, needle),
                "{needle} in {} {when}",
                file.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_leaves_no_trace_of_the_customer_and_keeps_the_reports() {
    let mut server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let (desk, agent_id) = ready_desk(server.addr, &token).await;
    let form = json!({"additionalAttributes": {"formData": {"attributes": [
        {"key": "firstName", "value": "Zebulon", "type": "string"},
        {"key": "lastName", "value": "Quackenbush", "type": "string"},
        {"key": "email", "value": "zq@erase.example", "type": "string"}
    ]}}});
    let (widget, gone) = answered_chat(
        &server,
        &desk,
        "visitor-8472",
        form,
        "my secret phrase is tangerine dream",
        "Thanks Zebulon, noted",
    )
    .await;
    close_chat(&desk, &agent_id, widget, &gone, "tangerine service").await;
    // The same customer comes back: a second transcript the erasure removes, whose
    // messages sit under the same sequence numbers as the first's.
    let (widget, again) = answered_chat(
        &server,
        &desk,
        "visitor-8472",
        json!({}),
        "me again, about my order",
        "Noted again",
    )
    .await;
    close_chat(&desk, &agent_id, widget, &again, "tangerine service").await;
    let (other_widget, other) = answered_chat(
        &server,
        &desk,
        "visitor-other",
        json!({}),
        "ask about kumquat jam",
        "kumquat is fine",
    )
    .await;
    let admin = server.login("admin", "admin").await;
    let (_, conversation) = server
        .get(&format!("/api/v1/conversations/{gone}"), Some(&admin))
        .await;
    let customer = conversation["conversation"]["customer"]["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{conversation}"))
        .to_string();
    assert_eq!(
        conversation["conversation"]["customer"]["firstName"],
        "Zebulon"
    );
    assert_eq!(search_total(&server, &admin, "q=tangerine").await, 1);
    for found_by in ["customer=zebul", "customer=quacken", "customer=zq%40erase"] {
        assert_eq!(
            search_total(&server, &admin, found_by).await,
            2,
            "{found_by}"
        );
    }
    let reports_before = reports(&server, &admin).await;
    let db = server.data_dir().join("switchboard.db");
    let wal = server.data_dir().join("switchboard.db-wal");
    for needle in ERASED {
        assert!(
            file_holds(&db, needle) || file_holds(&wal, needle),
            "{needle} was stored"
        );
    }

    // Refusals change nothing: not an admin, an unknown customer, an open chat.
    let erase = |id: &str| format!("/api/v1/customers/{id}/erase");
    let supervisor = server.login("supervisor", "supervisor").await;
    let (status, body) = server
        .post(&erase(&customer), Some(&supervisor), &json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let (status, _) = server.post(&erase(&customer), None, &json!({})).await;
    assert_eq!(status, 401);
    let (status, body) = server
        .post(&erase("nobody"), Some(&admin), &json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "{body}"
    );
    let (_, open) = server
        .get(&format!("/api/v1/conversations/{other}"), Some(&admin))
        .await;
    let other_customer = open["conversation"]["customer"]["_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = server
        .post(&erase(&other_customer), Some(&admin), &json!({}))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    assert_eq!(search_total(&server, &admin, "q=kumquat").await, 1);

    let kept = aggregates(&db);
    let (status, erased) = server
        .post(&erase(&customer), Some(&admin), &json!({}))
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["conversationIds"], json!([gone, again]), "{erased}");
    assert!(erased["events"].as_u64().unwrap() > 0, "{erased}");
    assert_eq!(erased["walTruncated"], true, "{erased}");

    assert_eq!(aggregates(&db), kept, "the aggregates stay");

    // Nothing of it in the database file or its WAL; the other customer's words are.
    assert_no_trace(&[&db, &wal], "after the erasure");
    assert!(file_holds(&db, "kumquat") || file_holds(&wal, "kumquat"));
    assert!(file_holds(&db, "visitor-other") || file_holds(&wal, "visitor-other"));

    // The API shows the erased customer and an empty transcript; reports are unchanged.
    let (_, after) = server
        .get(&format!("/api/v1/conversations/{gone}"), Some(&admin))
        .await;
    assert_eq!(
        after["conversation"]["customer"]["firstName"], "(erased)",
        "{after}"
    );
    assert!(event_names(&server, &admin, &gone).await.is_empty());
    assert!(event_names(&server, &admin, &again).await.is_empty());
    assert_eq!(search_total(&server, &admin, "q=tangerine").await, 0);
    for found_by in [
        "customer=Zebulon",
        "customer=quacken",
        "customer=zq%40erase",
        "customer=visitor-8472",
    ] {
        assert_eq!(
            search_total(&server, &admin, found_by).await,
            0,
            "{found_by}"
        );
    }
    assert_eq!(search_total(&server, &admin, "q=kumquat").await, 1);
    assert_eq!(reports(&server, &admin).await, reports_before);
    let (status, audit) = server
        .get(
            "/api/v1/audit?entityType=customer&action=erase",
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["items"][0]["entityId"], customer.as_str(), "{audit}");
    assert_eq!(audit["items"][0]["actorUsername"], "admin");

    // The other chat goes on; after a restart nothing came back.
    close_chat(&desk, &agent_id, other_widget, &other, "ok").await;
    server.stop().await;
    assert_no_trace(&[&db, &wal], "after stop");

    // The input journal, scrubbed with the rest, still replays: its message bodies
    // were references, and the customer's values decide nothing. The erased chat's
    // messages are gone with their ids, which the journal does not copy: their inputs
    // are taken unchecked, and said so; the other chat's are checked.
    let replay = std::process::Command::new(common::binary())
        .args(["replay", "--data-dir"])
        .arg(server.data_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&replay.stdout);
    assert!(replay.status.success(), "{text}");
    assert!(text.contains("no divergence"), "{text}");
    assert!(
        text.contains("whose stored message is gone (erased, or purged) taken unchecked"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_erasure_route_is_in_the_openapi_document() {
    let server = TestServer::start().await;
    let (status, doc) = server.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    let erase = &doc["paths"]["/api/v1/customers/{id}/erase"]["post"];
    assert!(erase["responses"]["200"].is_object(), "{erase}");
    assert!(erase["responses"]["409"].is_object(), "{erase}");
}

/// Bodies of the stored shared objects that hold `needle`.
fn objects_holding(db: &std::path::Path, needle: &str) -> Vec<(i64, String)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare("SELECT id, body FROM cim_objects WHERE instr(body, ?1) > 0 ORDER BY id")
        .unwrap();
    let rows = st
        .query_map([needle], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// What the API serves of conversation `id`: the conversation and its events, as text.
async fn served(server: &TestServer, admin: &str, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for path in [
        format!("/api/v1/conversations/{id}"),
        format!("/api/v1/conversations/{id}/events"),
    ] {
        let (status, body) = server.get(&path, Some(admin)).await;
        assert_eq!(status, 200, "{path}: {body}");
        out.push(body.to_string());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_sweeps_the_shared_objects_only_the_purged_events_named() {
    let mut server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let (desk, agent_id) = ready_desk(server.addr, &token).await;
    let form = json!({"additionalAttributes": {"formData": {"attributes": [
        {"key": "firstName", "value": "Philomena", "type": "string"}
    ]}}});
    let (widget, old) = answered_chat(
        &server,
        &desk,
        "sweep-old-8121",
        form,
        "the quince arrived bruised",
        "sorry Philomena",
    )
    .await;
    close_chat(&desk, &agent_id, widget, &old, "quince").await;
    let (widget, kept) = answered_chat(
        &server,
        &desk,
        "sweep-kept-5530",
        json!({}),
        "the medlar is fine",
        "good",
    )
    .await;
    close_chat(&desk, &agent_id, widget, &kept, "medlar").await;
    let admin = server.login("admin", "admin").await;
    let kept_before = served(&server, &admin, &kept).await;
    let old_snapshot = |served: Vec<String>| -> Value {
        serde_json::from_str::<Value>(&served[0]).unwrap()["conversation"].clone()
    };
    let old_before = old_snapshot(served(&server, &admin, &old).await);
    server.stop().await;

    let db = server.data_dir().join("switchboard.db");
    let wal = server.data_dir().join("switchboard.db-wal");
    let count = || -> i64 {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM cim_objects", [], |r| r.get(0))
            .unwrap()
    };
    // The customer's messages name a sender object (with name and identifier) that
    // only they refer to; the session, customer and channel data objects are named by
    // the conversation's rows too, which the purge keeps.
    let before = objects_holding(&db, "sweep-old-8121");
    let senders: Vec<String> = before
        .iter()
        // Its type (CUSTOMER) is in its shape, its name and identifier side by side.
        .filter(|(_, body)| body.contains("\"Philomena\",\"sweep-old-8121\""))
        .map(|(_, body)| body.clone())
        .collect();
    assert_eq!(senders.len(), 1, "{before:?}");
    let objects_before = count();
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "UPDATE conversations SET end_time = end_time - ?1 WHERE id = ?2",
            rusqlite::params![40 * DAY_MS, old],
        )
        .unwrap();
    let purge = || {
        let out = std::process::Command::new(common::binary())
            .args(["purge", "--days", "30", "--data-dir"])
            .arg(server.data_dir())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{said} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        said
    };
    let said = purge();
    assert!(said.contains("of 1 conversations"), "{said}");
    let swept = objects_before - count();
    assert!(swept > 0, "{said}");
    assert!(
        said.contains(&format!("and {swept} shared objects")),
        "{said}"
    );
    let after = objects_holding(&db, "sweep-old-8121");
    assert!(after.len() < before.len(), "{before:?} {after:?}");
    assert!(after.iter().all(|o| before.contains(o)), "{after:?}");
    // The sender object is gone, from the pages of the file and its WAL too.
    let sender = senders[0].trim_start_matches(|c: char| c != ',');
    assert!(!after.iter().any(|(_, body)| body.contains(sender)));
    assert!(
        !file_holds(&db, sender) && !file_holds(&wal, sender),
        "{sender}"
    );
    // A second sweep finds nothing more to collect.
    let again = purge();
    assert!(
        again.contains("of 0 conversations") && again.contains("and 0 shared objects"),
        "{again}"
    );

    let server = server.restart().await;
    let admin = server.login("admin", "admin").await;
    assert_eq!(served(&server, &admin, &kept).await, kept_before);
    // The purged conversation's row reads as before (its transcript is gone).
    assert_eq!(
        old_snapshot(served(&server, &admin, &old).await).to_string(),
        old_before.to_string()
    );
}
