//! Conversation search through the running appliance, on what is typed: a customer
//! is found by the start of any word of the name, last name or email given in the
//! widget's form, or of an identifier (case and accents ignored), through the index
//! of customer names (migration V23), not a scan; message words and customer words
//! holding FTS5 syntax (`"`, `*`, `NEAR(`, `-`, `OR`) are taken as words and give a
//! correct answer; blank fields are no filter and overlong ones a 400 naming the field.

use crate::common;

use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::SioClient;
use switchboard::reports::search::Limits;

use crate::support;

const T: Duration = Duration::from_secs(10);

/// Customer `identifier`, with the widget form `attributes`, starts a chat, says
/// `says` while waiting, and leaves.
async fn chat_and_leave(server: &TestServer, identifier: &str, attributes: Value, says: &str) {
    let widget = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": identifier}),
    )
    .await
    .unwrap();
    let form = json!({"additionalAttributes": {"formData": {"attributes": attributes}}});
    let started = widget.emit_ack("CHAT_REQUESTED", form).await.unwrap();
    assert!(started[0]["conversationId"].is_string(), "{started:?}");
    support::chat::customer_says(&widget, says).await;
    widget.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    widget.expect("CHANNEL_SESSION_ENDED", T).await.unwrap();
}

fn attribute(key: &str, value: &str) -> Value {
    json!({"key": key, "value": value, "type": "string"})
}

/// `GET /api/v1/reports/conversations?{query}` as `token`: status and body.
async fn search(server: &TestServer, token: &str, query: &str) -> (u16, Value) {
    server
        .get(
            &format!("/api/v1/reports/conversations?{query}"),
            Some(token),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_found_by_the_start_of_their_words_and_typed_syntax_is_words() {
    let server = TestServer::start().await;
    chat_and_leave(
        &server,
        "visitor-3141",
        json!([
            attribute("firstName", "José"),
            attribute("lastName", "Quintero"),
            attribute("email", "jq@example.org")
        ]),
        "my order is late, please refund",
    )
    .await;
    chat_and_leave(
        &server,
        "visitor-2718",
        json!([attribute("firstName", "Anna Bell")]),
        "where is my parcel? -urgent- \"tracking\" NEAR(me)",
    )
    .await;
    let admin = server.login("admin", "admin").await;

    for (query, expected, who) in [
        ("customer=jose", 1, "José"),
        ("customer=JOS", 1, "José"),
        ("customer=quint", 1, "José"),
        ("customer=jose%20quin", 1, "José"),
        ("customer=jq%40example", 1, "José"),
        ("customer=visitor-3141", 1, "José"),
        ("customer=3141", 1, "José"),
        ("customer=ann", 1, "Anna Bell"),
        ("customer=bell", 1, "Anna Bell"),
        ("customer=visitor", 2, ""),
        ("customer=%20%20", 2, ""),
        ("customer=", 2, ""),
        // A word's middle is not its start; a name not given is nobody.
        ("customer=ose", 0, ""),
        ("customer=zebulon", 0, ""),
        // FTS5 syntax typed is words: nothing matches, nothing fails.
        ("customer=%22", 0, ""),
        ("customer=*", 0, ""),
        ("customer=NEAR(", 0, ""),
        ("customer=-", 0, ""),
        ("customer=jose%20OR%20anna", 0, ""),
        ("q=refund", 1, "José"),
        ("q=REFUND%20late", 1, "José"),
        ("q=refund%20parcel", 0, ""),
        ("q=%22tracking%22", 1, "Anna Bell"),
        ("q=-urgent-", 1, "Anna Bell"),
        ("q=NEAR(me)", 1, "Anna Bell"),
        ("q=%22", 0, ""),
        ("q=*", 0, ""),
        // `NEAR(` is the word "near", which Anna Bell said.
        ("q=NEAR(", 1, "Anna Bell"),
        ("q=-", 0, ""),
        ("q=refund%20OR%20parcel", 0, ""),
        ("q=refund&customer=anna", 0, ""),
        ("q=parcel&customer=anna", 1, "Anna Bell"),
    ] {
        let (status, body) = search(&server, &admin, query).await;
        assert_eq!(
            (status, body["total"].as_i64()),
            (200, Some(expected)),
            "{query}: {body}"
        );
        if !who.is_empty() {
            assert_eq!(body["items"][0]["customer"], who, "{query}: {body}");
        }
    }

    // Overlong typed fields are refused, naming the field.
    let long = "a".repeat(201);
    for field in ["customer", "q"] {
        let (status, body) = search(&server, &admin, &format!("{field}={long}")).await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (400, Some("invalid_field"), Some(field)),
            "{body}"
        );
    }
    let (status, body) = search(&server, &admin, &format!("customer={}", "a".repeat(200))).await;
    assert_eq!((status, body["total"].as_i64()), (200, Some(0)), "{body}");
}

/// `switchboard-load history`: `conversations` generated chats of the last day in
/// `dir` (customers `Customer<n>`, messages of a small list of words).
fn generate(dir: &std::path::Path, conversations: u32, agents: u32) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-load"))
        .args(["history", "--days", "1"])
        .args(["--conversations", &conversations.to_string()])
        .args(["--agents", &agents.to_string()])
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// From a year ago to tomorrow (the generated history is of the last day).
fn range() -> String {
    let day = |hours| {
        jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(hours))
            .unwrap()
            .strftime("%Y-%m-%d")
            .to_string()
    };
    format!("from={}&to={}", day(-24 * 365), day(24))
}

/// The server again on the same data directory, searching with `limits`.
async fn serve_with(mut server: TestServer, limits: Limits) -> TestServer {
    server.stop().await;
    let mut config = common::test_config(server.dir.path());
    config.search = limits;
    TestServer::start_in(server.dir, config).await
}

/// Every page (`limit` rows each) of `query`: status, total and `more` of the first,
/// then every row's id, page after page up to `total`.
async fn pages(server: &TestServer, token: &str, query: &str, limit: i64) -> Value {
    let (status, first) = search(server, token, &format!("{query}&limit={limit}")).await;
    let mut ids = Vec::new();
    let mut offset = 0;
    while offset < first["total"].as_i64().unwrap_or(0) {
        let (_, page) = search(
            server,
            token,
            &format!("{query}&limit={limit}&offset={offset}"),
        )
        .await;
        let rows = page["items"].as_array().cloned().unwrap_or_default();
        if rows.is_empty() {
            break;
        }
        ids.extend(rows.iter().map(|r| r["id"].clone()));
        offset += limit;
    }
    json!({"status": status, "total": first["total"], "more": first["more"], "ids": ids})
}

/// The server restarted with `limits`, and what each of `queries` finds: every page
/// of 100, or (`capped`) the page of 5 at offset 3.
async fn read_all(
    server: TestServer,
    limits: Limits,
    queries: &[String],
    capped: bool,
) -> (TestServer, Vec<Value>) {
    let server = serve_with(server, limits).await;
    let token = server.login("admin", "admin").await;
    let mut found = Vec::new();
    for q in queries {
        let q = format!("{}&{q}", range());
        found.push(match capped {
            false => pages(&server, &token, &q, 100).await,
            true => {
                let (status, page) =
                    search(&server, &token, &format!("{q}&limit=5&offset=3")).await;
                let ids: Vec<Value> = page["items"]
                    .as_array()
                    .map(|rows| rows.iter().map(|r| r["id"].clone()).collect())
                    .unwrap_or_default();
                json!({"status": status, "total": page["total"], "more": page["more"], "ids": ids})
            }
        });
    }
    (server, found)
}

/// A common word with one agent, one team or a customer prefix finds the same
/// conversations in the same order with the same capped count whichever side drives
/// the search: the word's matches collected (rare text), read newest first and
/// checked against the filter, or the filter's conversations looked up among the
/// matches; and with the limits scaled to this history the server picks the
/// filter's side when it is selective (one agent, a narrow prefix) and the word's
/// when it is (a rare word, a broad prefix). Bad filters are a correct answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_word_with_a_filter_finds_the_same_from_either_side() {
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), 240, 20);
    let db = rusqlite::Connection::open(dir.path().join("switchboard.db")).unwrap();
    let matches = |typed: &str| -> i64 {
        let terms = switchboard::reports::search::fts_terms(typed).unwrap();
        db.query_row(
            "SELECT COUNT(*) FROM message_text WHERE message_text MATCH ?1",
            [terms],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (agent, team, theirs): (String, String, i64) = db
        .query_row(
            "SELECT t.agent_id, u.team_id, COUNT(DISTINCT t.conversation_id) FROM tasks t
             JOIN users u ON u.id = t.agent_id GROUP BY 1 ORDER BY 3 DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    // A rare query: three words said together in a few messages.
    let words = [
        "refund", "order", "delivery", "invoice", "password", "account", "card",
    ];
    let mut rare = None;
    for (i, a) in words.iter().enumerate() {
        for (j, b) in words.iter().enumerate().skip(i + 1) {
            for c in words.iter().skip(j + 1) {
                let typed = format!("{a} {b} {c}");
                if rare.is_none() && (1..=20).contains(&matches(&typed)) {
                    rare = Some(typed.replace(' ', "%20"));
                }
            }
        }
    }
    let rare = rare.expect("three words said together in 1-20 messages");
    assert!(matches("refund") > 200, "a common word");
    drop(db);

    // Scaled to 240 chats: text in more than 20 messages is frequent; a filter
    // passing at most 30 conversations is selective.
    let scaled = Limits {
        count_cap: 1_000,
        frequent: 20,
        selective: 30,
    };
    let config = common::test_config(dir.path());
    let server = TestServer::start_in(dir, config).await;
    let admin = server.login("admin", "admin").await;
    let count = |v: Value| v["total"].as_i64().unwrap();
    let all = count(
        search(&server, &admin, &format!("{}&limit=1", range()))
            .await
            .1,
    );
    let one_agent = count(
        search(&server, &admin, &format!("{}&agent={agent}", range()))
            .await
            .1,
    );
    let narrow = count(
        search(&server, &admin, &format!("{}&customer=Customer12", range()))
            .await
            .1,
    );
    let broad = count(
        search(&server, &admin, &format!("{}&customer=Customer1", range()))
            .await
            .1,
    );
    assert_eq!(one_agent, theirs);
    assert!(
        (5..=30).contains(&theirs) && (1..=30).contains(&narrow),
        "selective: the agent's {theirs}, Customer12's {narrow}"
    );
    assert!(broad > 30 && broad < all, "broad: {broad} of {all}");

    let queries: Vec<String> = vec![
        format!("q=refund&agent={agent}"),
        format!("q=refund%20order&agent={agent}"),
        format!("q=refund&team={team}"),
        "q=refund&customer=Customer12".into(),
        "q=refund&customer=Customer1".into(),
        format!("q={rare}&agent={agent}"),
        format!("q={rare}&customer=Customer1"),
        // Bad filters: an unknown agent, typed syntax, a blank prefix (no filter).
        "q=refund&agent=no-such-agent".into(),
        "q=refund&agent=%22%27%20OR%201%3D1".into(),
        "q=refund%20OR%20*&customer=Customer12".into(),
        "q=%22refund%22&customer=NEAR(".into(),
        "q=refund&customer=%20".into(),
        "q=refund".into(),
        // A customer by an identifier's words and the exact identifier; a broad
        // prefix with a team (the customer checked in memory, the team in SQL).
        "q=refund&customer=visitor-1".into(),
        format!("q=refund&customer=Customer1&team={team}"),
    ];
    // Every match collected first (the rare-text path, unchanged), then the
    // frequent text's two sides, then as the server chooses.
    let collected = Limits {
        frequent: i64::MAX,
        ..scaled
    };
    let by_word = Limits {
        frequent: 0,
        selective: -1,
        ..scaled
    };
    let by_filter = Limits {
        frequent: 0,
        selective: i64::MAX,
        ..scaled
    };
    let (server, before) = read_all(server, collected, &queries, false).await;
    let (server, word_side) = read_all(server, by_word, &queries, false).await;
    let (server, filter_side) = read_all(server, by_filter, &queries, false).await;
    let (server, chosen) = read_all(server, scaled, &queries, false).await;
    for (i, q) in queries.iter().enumerate() {
        assert_eq!(before[i]["status"], 200, "{q}: {}", before[i]);
        assert_eq!(word_side[i], before[i], "{q}: newest matches first");
        assert_eq!(filter_side[i], before[i], "{q}: from the filter's side");
        assert_eq!(chosen[i], before[i], "{q}: as chosen");
    }
    let total = |i: usize| before[i]["total"].as_i64().unwrap();
    assert!(total(0) > 0 && total(0) <= theirs, "{}", before[0]);
    assert!(
        total(2) > total(0) && total(4) > total(3) && total(3) > 0,
        "{before:?}"
    );
    assert!(total(5) < total(0), "{}", before[5]);
    assert_eq!((total(7), total(8), total(9), total(10)), (0, 0, 0, 0));
    assert_eq!(total(11), total(12));
    assert!(total(13) > 0, "{}", before[13]);
    assert!(
        total(14) > 0 && total(14) < total(4) && total(14) < total(2),
        "{before:?}"
    );

    // Capped: the count stops 8 past the page (offset 3: at 11); the word's side and
    // the filter's find the same conversations in the same order, the same "11+".
    let capped = |frequent, selective| Limits {
        count_cap: 8,
        frequent,
        selective,
    };
    let frequent = &queries[..5];
    let (server, word_side) = read_all(server, capped(0, -1), frequent, true).await;
    let (server, filter_side) = read_all(server, capped(0, i64::MAX), frequent, true).await;
    let (_server, chosen) = read_all(server, capped(20, 30), frequent, true).await;
    for (i, q) in frequent.iter().enumerate() {
        let expected = match total(i) > 11 {
            true => (json!(11), json!(true), 5),
            false => (json!(total(i)), json!(false), (total(i) - 3).clamp(0, 5)),
        };
        let got = &word_side[i];
        assert_eq!(
            (
                got["total"].clone(),
                got["more"].clone(),
                got["ids"].as_array().unwrap().len() as i64
            ),
            expected,
            "{q}: {got}"
        );
        assert_eq!(
            filter_side[i], word_side[i],
            "{q}: capped, from the filter's side"
        );
        assert_eq!(chosen[i], word_side[i], "{q}: capped, as chosen");
    }
    assert!(
        total(0) > 11 && total(4) > 11,
        "some are capped: {before:?}"
    );
}
