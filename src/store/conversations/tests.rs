//! Tests of the conversation rows: snapshots, keys and lookups.

use super::*;
use serde_json::json;

fn schema() -> Connection {
    let mut conn = Connection::open_in_memory().expect("in-memory database");
    super::super::migrate::run(&mut conn).expect("schema");
    conn.execute(
        "INSERT INTO customers(id, created_at) VALUES ('cust', 1)",
        [],
    )
    .expect("customer");
    conn
}

fn row<'a>(timers: &str, last_seq: u64) -> ConversationRow<'a> {
    ConversationRow {
        id: "c1",
        customer_id: "cust",
        room_id: "room",
        state: "ACTIVE",
        direction: "INBOUND",
        queue_id: Some("q1"),
        last_agent_id: Some("a1"),
        data: "[]".into(),
        metadata: "{}".into(),
        timers: timers.into(),
        snapshot: json!({"id": "c1", "state": "ACTIVE"}).to_string(),
        creation_time: 1,
        end_time: None,
        last_seq,
    }
}

fn row_updated_at(conn: &Connection) -> i64 {
    conn.query_row(
        "SELECT updated_at FROM conversations WHERE id = 'c1'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn the_runtime_row_is_packed_and_old_plain_rows_still_read() {
    let conn = schema();
    let session = "179f5627-1f27-49c3-b79c-956042959f61";
    let runtime = json!({"timers": {"customerActivity": {session: 1_796_504_590_737i64},
                                    "agentSla": null}, "agentSlaSecs": 120});
    upsert(&conn, &row(&runtime.to_string(), 3), 1_796_503_990_737).unwrap();
    let stored: String = conn
        .query_row("SELECT timers FROM conversation_runtime", [], |r| r.get(0))
        .unwrap();
    assert!(stored.starts_with('*'), "{stored}");
    assert!(!stored.contains("customerActivity") && stored.contains("[2,600000]"));
    let open = open_conversations(&conn, 4).unwrap();
    assert_eq!(open[0].timers.to_string(), runtime.to_string());
    // A row written before packing holds plain JSON.
    conn.execute(
        "UPDATE conversation_runtime SET timers = ?1",
        [runtime.to_string()],
    )
    .unwrap();
    let open = open_conversations(&conn, 4).unwrap();
    assert_eq!(open[0].timers.to_string(), runtime.to_string());
}

#[test]
fn runtime_updates_are_read_back_without_rewriting_the_conversation_row() {
    let conn = schema();
    upsert(&conn, &row(r#"{"t":1}"#, 3), 10).unwrap();
    update_routing(&conn, "c1", Some("q1"), Some("a1"), 20).unwrap();
    write_runtime(&conn, "c1", r#"{"t":2}"#, 5, 20).unwrap();
    assert_eq!(
        row_updated_at(&conn),
        10,
        "same queue and agent: row untouched"
    );

    let open = open_conversations(&conn, 10).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].timers, json!({"t": 2}));
    assert_eq!(open[0].last_seq, 5);
    assert_eq!(open[0].snapshot["state"], "ACTIVE");
    assert_eq!(get(&conn, "c1").unwrap().unwrap().last_seq, 5);
    let listed = list(
        &conn,
        &ConversationFilter {
            limit: 10,
            ..ConversationFilter::default()
        },
    )
    .unwrap();
    assert_eq!(listed[0].last_seq, 5);

    update_routing(&conn, "c1", None, Some("a2"), 30).unwrap();
    write_runtime(&conn, "c1", r#"{"t":3}"#, 6, 30).unwrap();
    assert_eq!(row_updated_at(&conn), 30, "a new last agent is written");
    let summary = get(&conn, "c1").unwrap().unwrap();
    assert_eq!(summary.last_agent_id.as_deref(), Some("a2"));
    assert_eq!(summary.queue_id.as_deref(), Some("q1"));

    // A full step writes both places; the newest state wins on read.
    upsert(&conn, &row(r#"{"t":4}"#, 7), 40).unwrap();
    let open = open_conversations(&conn, 10).unwrap();
    assert_eq!(open[0].timers, json!({"t": 4}));
    assert_eq!(open[0].last_seq, 7);
}

#[test]
fn a_closed_conversation_keeps_no_runtime_row_and_its_last_seq() {
    let conn = schema();
    upsert(&conn, &row(r#"{"t":1}"#, 3), 10).unwrap();
    write_runtime(&conn, "c1", r#"{"t":2}"#, 5, 20).unwrap();
    let closed = ConversationRow {
        state: "CLOSED",
        end_time: Some(30),
        ..row(r#"{"t":3}"#, 6)
    };
    upsert(&conn, &closed, 30).unwrap();
    let runtimes: i64 = conn
        .query_row("SELECT COUNT(*) FROM conversation_runtime", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(runtimes, 0);
    assert!(open_conversations(&conn, 10).unwrap().is_empty());
    let summary = get(&conn, "c1").unwrap().unwrap();
    assert_eq!((summary.state.as_str(), summary.last_seq), ("CLOSED", 6));
}

fn append_event(conn: &Connection, seq: u64, runtime: Option<&str>) {
    let event = crate::store::events::encode(json!({}), "c1", None, 1);
    let runtime = runtime.map(|text| event_runtime::encode(text, 1));
    let appended = crate::store::events::append(
        conn,
        &mut crate::store::objects::Interner::default(),
        &mut crate::store::message_index::PendingIndex::default(),
        &crate::store::events::EventRow {
            id: &format!("e{seq}"),
            conversation_id: "c1",
            seq,
            name: "CUSTOMER_MESSAGE",
            kind: "MESSAGE",
            timestamp: 1,
            message_id: None,
            event: &event,
            runtime: runtime.as_ref(),
        },
    )
    .unwrap();
    assert_eq!(appended, crate::store::events::Appended::Stored);
}

#[test]
fn a_runtime_carried_by_a_later_event_wins_over_the_runtime_row() {
    let conn = schema();
    upsert(&conn, &row(r#"{"t":1}"#, 3), 10).unwrap();
    append_event(&conn, 4, None);
    append_event(&conn, 5, Some(r#"{"t":2}"#));
    let open = open_conversations(&conn, 10).unwrap();
    assert_eq!(open[0].timers, json!({"t": 2}));
    assert_eq!(open[0].last_seq, 5);
    assert_eq!(get(&conn, "c1").unwrap().unwrap().last_seq, 5);

    // A later step without events writes the row at the same seq: the row wins.
    write_runtime(&conn, "c1", r#"{"t":3}"#, 5, 20).unwrap();
    let open = open_conversations(&conn, 10).unwrap();
    assert_eq!(open[0].timers, json!({"t": 3}));
    assert_eq!(open[0].last_seq, 5);

    // A later message step carries a newer runtime again.
    append_event(&conn, 6, Some(r#"{"t":4}"#));
    let open = open_conversations(&conn, 10).unwrap();
    assert_eq!(open[0].timers, json!({"t": 4}));
    assert_eq!(open[0].last_seq, 6);
}

#[test]
fn patches_carried_by_events_apply_to_the_newest_whole_runtime() {
    let conn = schema();
    upsert(&conn, &row(r#"{"a":1,"b":{"x":1}}"#, 3), 10).unwrap();
    append_event(&conn, 4, Some(r#"+{"a":2}"#));
    append_event(&conn, 5, None);
    append_event(&conn, 6, Some(r#"+{"b":{"y":2}}"#));
    append_event(&conn, 7, None);
    let open = open_conversations(&conn, 10).unwrap();
    assert_eq!(open[0].timers, json!({"a": 2, "b": {"x": 1, "y": 2}}));
    assert_eq!(
        open[0].last_seq, 7,
        "the newest event, though it carries nothing"
    );

    // A whole runtime on a later event is the new base; patches after it apply.
    append_event(&conn, 8, Some(r#"{"a":5}"#));
    append_event(&conn, 9, Some(r#"+{"c":true,"a":null}"#));
    let open = open_conversations(&conn, 10).unwrap();
    assert_eq!(open[0].timers, json!({"c": true}));
    assert_eq!(open[0].last_seq, 9);
}

#[test]
fn a_running_session_is_looked_up_by_index_not_by_scan() {
    let conn = schema();
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {RUNNING_SESSION}"))
        .expect("plan")
        .query_map(params!["cust", "chan"], |r| r.get(3))
        .expect("plan rows")
        .collect::<Result<_, _>>()
        .expect("plan text");
    let plan = plan.join("; ");
    assert!(
        plan.contains("USING INDEX channel_sessions_running"),
        "{plan}"
    );
    assert!(!plan.contains("SCAN s"), "{plan}");
}
