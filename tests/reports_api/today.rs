//! Today's queue report after real traffic: its figures, equal to the live console's
//! "today", the CSV parsed back equal to the JSON, bad queries and callers refused,
//! and `switchboard reports rebuild` rebuilding exactly the aggregates kept.

use super::drill_downs::drill_downs;
use super::{enc, T};
use crate::common::{self, TestServer};
use crate::support::chat::{agent_message, leave_and_wrap_up, ready_desk, widget};
use crate::support::sio_client::{token_auth, SioClient};
use serde_json::{json, Value};

/// Runs today's traffic: one customer leaves while no agent is ready, one chat is
/// answered by agent1, replied to, and wrapped up with a code (the customer, still
/// there, waits again for an agent and then leaves).
async fn traffic(server: &TestServer) {
    let (gone, _) = widget(server.addr, "leaves-early").await;
    gone.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    gone.expect("CHANNEL_SESSION_ENDED", T).await.unwrap();

    let token = server.login("agent1", "agent1").await;
    let (desk, agent_id) = ready_desk(server.addr, &token).await;
    let (customer, conversation_id) = widget(server.addr, "stays").await;
    desk.expect("taskRequest", T).await.unwrap();
    desk.emit_ack(
        "topicSubscription",
        json!({"conversationId": conversation_id}),
    )
    .await
    .unwrap();
    let text = json!({"type": "PLAIN", "markdownText": "How can I help?"});
    let ack = desk
        .emit_ack(
            "publishCimEvent",
            json!({"conversationId": conversation_id, "cimEvent": agent_message(&conversation_id, text)}),
        )
        .await
        .unwrap();
    assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    leave_and_wrap_up(&desk, &agent_id, &conversation_id).await;
    customer.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    customer.expect("CHANNEL_SESSION_ENDED", T).await.unwrap();
    let rated = customer
        .emit_ack(
            "CSAT_SUBMITTED",
            json!({"conversationId": conversation_id, "rating": 4}),
        )
        .await
        .unwrap();
    assert!(rated[0].get("error").is_none(), "{rated:?}");
}

/// The queue row of the console, once its today figures count `handled` chats.
async fn console_today(server: &TestServer, token: &str, handled: u64) -> Value {
    let console = SioClient::connect(server.addr, "/supervisor", token_auth(token))
        .await
        .unwrap();
    let snapshot = console.expect("supervisor:snapshot", T).await.unwrap();
    let mut queues = snapshot["queues"].as_array().cloned().unwrap_or_default();
    loop {
        if let Some(q) = queues
            .iter()
            .find(|q| q["today"]["handled"].as_u64() == Some(handled))
        {
            return q.clone();
        }
        let update = console.expect("supervisor:update", T).await.unwrap();
        queues = update["queues"].as_array().cloned().unwrap_or_default();
    }
}

async fn get_text(
    server: &TestServer,
    path: &str,
    token: &str,
    accept: &str,
) -> (u16, String, String) {
    let resp = server
        .http
        .get(server.url(path))
        .bearer_auth(token)
        .header("Accept", accept)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, resp.text().await.unwrap())
}

/// CSV text as (header, rows).
fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// A JSON cell as its CSV text.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn aggregates(path: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let c = rusqlite::Connection::open(path).unwrap();
    switchboard::reports::rebuild::dump(&c).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn todays_queue_report_counts_the_chats_equals_the_console_and_exports_csv() {
    let mut server = TestServer::start().await;
    traffic(&server).await;
    let supervisor = server.login("supervisor", "supervisor").await;
    let live = console_today(&server, &supervisor, 1).await;
    let queue_id = live["id"].as_str().unwrap().to_string();

    let (status, report) = server
        .get("/api/v1/reports/queues?interval=hour", Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{report}");
    let total = report["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == queue_id.as_str())
        .cloned()
        .unwrap();
    // The customer who leaves early, the chat answered, and that customer offered
    // again when the agent left (a new task), who then leaves before anyone takes it.
    assert_eq!(total["offered"], 3, "{total}");
    assert_eq!(total["answered"], 1);
    assert_eq!(total["abandoned"], 2);
    assert_eq!(total["handled"], 1);
    assert!(total["avgFirstResponseSecs"].is_number(), "{total}");
    // The same figures as the console's today.
    let today = &live["today"];
    for (report_key, live_key) in [
        ("offered", "offered"),
        ("answered", "answered"),
        ("abandoned", "abandoned"),
        ("shortAbandons", "shortAbandons"),
        ("transfersIn", "transfersIn"),
        ("transfersOut", "transfersOut"),
        ("ronas", "ronas"),
        ("handled", "handled"),
    ] {
        assert_eq!(
            total[report_key], today[live_key],
            "{report_key}: {total} vs {today}"
        );
    }
    let secs = |ms: &Value| ms.as_f64().map(|ms| (ms / 100.0).round() / 10.0);
    assert_eq!(total["asaSecs"].as_f64(), secs(&today["asaMs"]));
    assert_eq!(total["ahtSecs"].as_f64(), secs(&today["ahtMs"]));
    assert_eq!(
        total["serviceLevelPct"].as_f64(),
        today["serviceLevel"]
            .as_f64()
            .map(|v| (v * 10.0).round() / 10.0)
    );
    let wrapups = report["wrapups"].as_array().unwrap();
    assert!(
        wrapups.iter().any(|w| w["id"] == queue_id.as_str()
            && w["code"] == "Support: Issue resolved"
            && w["count"] == 1),
        "{wrapups:?}"
    );
    let rows = report["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "the hour of the chats has a row");

    // CSV: by Accept and by ?format=csv, the same columns and cells as the JSON.
    for (path, accept) in [
        (
            "/api/v1/reports/queues?interval=hour".to_string(),
            "text/csv",
        ),
        (
            "/api/v1/reports/queues?interval=hour&format=csv&part=rows".to_string(),
            "*/*",
        ),
    ] {
        let (status, kind, text) = get_text(&server, &path, &supervisor, accept).await;
        assert_eq!(status, 200, "{text}");
        assert!(kind.starts_with("text/csv"), "{kind}");
        let (header, csv_rows) = parse_csv(&text);
        let columns: Vec<String> = report["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        assert_eq!(header, columns);
        let json_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|r| columns.iter().map(|c| cell(&r[c.as_str()])).collect())
            .collect();
        assert_eq!(csv_rows, json_rows);
    }
    let (_, _, totals_csv) = get_text(
        &server,
        "/api/v1/reports/queues?format=csv&part=totals",
        &supervisor,
        "*/*",
    )
    .await;
    let (_, csv_totals) = parse_csv(&totals_csv);
    assert_eq!(csv_totals.len(), report["totals"].as_array().unwrap().len());

    // Agents: agent1 handled the chat and was logged in.
    let (status, agents) = server
        .get("/api/v1/reports/agents?interval=day", Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{agents}");
    let agent1 = agents["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["handled"] == 1)
        .cloned()
        .unwrap_or_else(|| panic!("{agents}"));
    assert!(agent1["loggedInSecs"].as_f64().unwrap() >= 0.0);
    assert_eq!(agent1["offered"], 1, "one offer to the agent");

    // agent1's timeline today: logged in and ready since the test began, occupied once.
    let agent1_id = agent1["id"].as_str().unwrap();
    let (status, timeline) = server
        .get(
            &format!("/api/v1/reports/agents/{agent1_id}/timeline"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 200, "{timeline}");
    let spans = timeline["spans"].as_array().unwrap();
    assert!(
        spans
            .iter()
            .any(|s| s["track"] == "agent" && s["state"] == "READY"),
        "{timeline}"
    );
    assert!(spans.iter().any(|s| s["track"] == "occupied"), "{timeline}");
    let (status, kind, text) = get_text(
        &server,
        &format!("/api/v1/reports/agents/{agent1_id}/timeline?format=csv"),
        &supervisor,
        "*/*",
    )
    .await;
    assert_eq!(
        (status, kind.starts_with("text/csv")),
        (200, true),
        "{text}"
    );
    assert_eq!(parse_csv(&text).1.len(), spans.len());
    let (status, _) = server
        .get("/api/v1/reports/agents/nobody/timeline", Some(&supervisor))
        .await;
    assert_eq!(status, 404);
    let (status, body) = server
        .get(
            &format!("/api/v1/reports/agents/{agent1_id}/timeline?date=yesterday"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("date")),
        "{body}"
    );

    // Conversation search: the supervisor sees the chat agent1 took and the customer who
    // left early (no agent joined: queue work, as in the conversation history); an
    // agent's filter narrows it to the chat.
    let (status, found) = server
        .get("/api/v1/reports/conversations", Some(&supervisor))
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 2, "{found}");
    let (_, found) = server
        .get(
            "/api/v1/reports/conversations?wrapup=Issue%20resolved",
            Some(&supervisor),
        )
        .await;
    assert_eq!(found["total"], 1, "{found}");
    let row = &found["items"][0];
    assert_eq!(row["wrapups"], "Support: Issue resolved", "{row}");
    assert_eq!(row["note"], "fine", "{row}");
    assert_eq!(row["csat"], 4, "{row}");
    assert!(!row["agents"].as_str().unwrap().is_empty(), "{row}");
    let admin = server.login("admin", "admin").await;
    let drill = format!("/api/v1/reports/conversations?queue={queue_id}");
    let (_, all) = server.get(&drill, Some(&admin)).await;
    assert_eq!(all["total"], 2, "the queue's offered conversations: {all}");
    for (query, expected) in [
        ("q=help", 1),
        ("q=HELP%20how", 1),
        ("q=refund", 0),
        ("customer=stays", 1),
        ("customer=leaves-early", 1),
        ("wrapup=Issue%20resolved", 1),
        ("wrapup=Support%3A%20Issue%20resolved", 1),
        ("wrapup=Sales", 0),
        (&format!("agent={agent1_id}") as &str, 1),
    ] {
        let (status, body) = server
            .get(
                &format!("/api/v1/reports/conversations?{query}"),
                Some(&admin),
            )
            .await;
        assert_eq!(
            (status, body["total"].as_i64()),
            (200, Some(expected)),
            "{query}: {body}"
        );
    }
    let (status, kind, text) = get_text(&server, &drill, &admin, "text/csv").await;
    assert_eq!(
        (status, kind.starts_with("text/csv")),
        (200, true),
        "{text}"
    );
    let (header, csv_rows) = parse_csv(&text);
    let json_rows: Vec<Vec<String>> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| header.iter().map(|c| cell(&r[c.as_str()])).collect())
        .collect();
    assert_eq!(csv_rows, json_rows);
    let (status, body) = server
        .get("/api/v1/reports/conversations?limit=0", Some(&admin))
        .await;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("limit")),
        "{body}"
    );

    drill_downs(&server, &admin, &supervisor, &total).await;

    // A supervisor of no team sees the customer who left (no agent joined) but not
    // agent1's chat, in the search and behind the figures.
    let (status, created) = server
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "sup2", "password": "sup2-password", "role": "supervisor"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let other = server.login("sup2", "sup2-password").await;
    let (_, seen) = server
        .get("/api/v1/reports/conversations", Some(&other))
        .await;
    assert_eq!(seen["total"], 1, "{seen}");
    assert_eq!(seen["items"][0]["agents"], "", "no agent took part: {seen}");
    let (_, seen) = server
        .get(
            &format!(
                "/api/v1/reports/conversations?queue={queue_id}&outcome=answered&since={}&until={}",
                enc(total["intervalStart"].as_str().unwrap()),
                enc(total["intervalEnd"].as_str().unwrap())
            ),
            Some(&other),
        )
        .await;
    assert_eq!(seen["total"], 0, "{seen}");

    // Refusals: each names what is wrong and changes nothing.
    let agent = server.login("agent1", "agent1").await;
    let (status, body) = server.get("/api/v1/reports/queues", Some(&agent)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = server.get("/api/v1/reports/queues", None).await;
    assert_eq!(status, 401);
    for (query, field) in [
        ("interval=year", "interval"),
        ("from=05.12.2026", "from"),
        ("from=2026-12-05&to=2026-12-01", "from"),
        ("from=2026-01-01&to=2026-12-31&interval=15m", "to"),
        ("to=2026-12-05", "from"),
    ] {
        let (status, body) = server
            .get(
                &format!("/api/v1/reports/queues?{query}"),
                Some(&supervisor),
            )
            .await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    let (status, body) = server
        .get("/api/v1/reports/bananas", Some(&supervisor))
        .await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = server
        .get("/api/v1/reports/queues?color=red", Some(&supervisor))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );

    // The kept aggregates equal a rebuild from the stored events.
    server.stop().await;
    let db = server.data_dir().join("switchboard.db");
    let kept = aggregates(&db);
    assert!(kept
        .iter()
        .any(|(t, rows)| t == "report_wrapups" && !rows.is_empty()));
    let out = std::process::Command::new(common::binary())
        .args(["reports", "rebuild", "--data-dir"])
        .arg(server.data_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("rebuilt"));
    assert_eq!(aggregates(&db), kept);
}
