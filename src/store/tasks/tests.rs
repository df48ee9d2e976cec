//! Tests of the task rows and the task log: snapshots with markers, facts as byte codes or packed, whole histories by conversation.

use super::*;
use serde_json::json;

#[test]
fn a_task_snapshot_keeps_its_row_ids_and_times_as_markers_and_reads_back() {
    let conn = crate::store::test_connection();
    let (id, conv, now) = (
        "0fb767a4-502e-4723-949a-2ac39eedf71b",
        "c-1",
        1_796_467_796_946,
    );
    let snapshot = json!({"id": id, "conversationId": conv, "state": "ACTIVE",
        "media": {"id": "m-1", "taskId": id, "enqueueTime": now - 5_000, "queue": "q-1"},
        "createdAt": now - 5_000, "far": 1_000_000_000_000i64});
    let mut interner = Interner::default();
    let text = compact_snapshot(&conn, &mut interner, snapshot.clone(), id, conv, now).unwrap();
    assert!(!text.contains(id) && !text.contains("\"c-1\""), "{text}");
    assert!(!text.contains(&(now - 5_000).to_string()), "{text}");
    fn row<'a>(task: &'a str, conv: &'a str, snapshot: &str, at: Millis) -> TaskRow<'a> {
        TaskRow {
            id: task,
            conversation_id: conv,
            state: "ACTIVE",
            agent_id: None,
            disposition: None,
            closed: false,
            snapshot: snapshot.to_owned(),
            media_id: "m-1",
            mrd_id: "chat",
            queue_id: "q-1",
            media_state: "QUEUED",
            priority: 1,
            direction: "INBOUND",
            mode: "QUEUE",
            enqueue_time: at,
            answer_time: None,
        }
    }
    upsert(&conn, &row(id, conv, &text, now), now).unwrap();
    // A row written before (plain JSON) reads as it is, beside it.
    upsert(
        &conn,
        &row("t-2", conv, r#"{"id":"t-2"}"#, now + 1),
        now + 1,
    )
    .unwrap();
    assert_eq!(
        of_conversation(&conn, conv).unwrap(),
        vec![snapshot.clone(), json!({"id": "t-2"})]
    );
    assert_eq!(
        open_snapshots::<Value>(&conn).unwrap(),
        vec![snapshot, json!({"id": "t-2"})]
    );
}

#[test]
fn a_live_fact_is_stored_as_its_byte_code_and_reads_back_beside_older_rows() {
    use crate::live::facts::{Fact, LiveEvent, TaskFacts};
    let conn = crate::store::test_connection();
    let (task, conv, at) = (
        "0fb767a4-502e-4723-949a-2ac39eedf71b",
        "c-1",
        1_796_467_796_946,
    );
    let mut event = LiveEvent {
        conversation_id: conv.into(),
        at,
        fact: Fact::Reserved {
            agent_id: "7e4b1c2d-3a4f-4e5d-8c6b-9a0f1e2d3c4b".into(),
            task: TaskFacts {
                id: task.into(),
                state: "ACTIVE".into(),
                reason: None,
                assigned_to: None,
                queue_id: "1b2c3d4e-5f60-4718-8a9b-0c1d2e3f4a5b".into(),
                queue_name: "Default".into(),
                direction: "INBOUND".into(),
                media_state: "RESERVED".into(),
                enqueue_time: at - 4_000,
                answer_time: 0,
                customer_name: Some("Pat".into()),
                channel_name: Some("web".into()),
            },
        },
    };
    let fact = serde_json::to_string(&event).unwrap();
    append_log(&conn, task, conv, at, &fact).unwrap();
    // A packed row written before, beside it.
    let old = r#"{"conversationId":"c-1","at":5,"fact":{"kind":"CUSTOMER_MESSAGE"}}"#;
    let value = crate::store::parse_json(old, "test").unwrap();
    let packed = objects::pack_row(value, &log_row(task, conv, 5));
    let text = format!(
        "{}{}",
        objects::PACKED_TAG,
        Interner::default().intern(&conn, &packed).unwrap()
    );
    conn.execute(
        "INSERT INTO task_log(task, conv, at, fact) SELECT task, conv, 5, ?1 FROM task_log",
        [&text],
    )
    .unwrap();
    let (kind, len): (String, i64) = conn
        .query_row(
            "SELECT typeof(fact), length(fact) FROM task_log WHERE pos = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kind, "blob");
    assert!(len * 3 < fact.len() as i64, "{len} bytes for {fact}");
    let page = log_page(&conn, 0, 10).unwrap();
    assert_eq!(
        page.iter().map(|(_, f)| f.as_str()).collect::<Vec<_>>(),
        [fact.as_str(), old]
    );
    // What an erasure reads and stores again: only the coded rows, kept coded.
    assert_eq!(
        coded_facts_of(&conn, conv).unwrap(),
        vec![(1, fact.clone())]
    );
    if let Fact::Reserved { task, .. } = &mut event.fact {
        task.customer_name = Some("(erased)".into());
    }
    let scrubbed = serde_json::to_string(&event).unwrap();
    replace_fact(&conn, 1, &scrubbed).unwrap();
    assert_eq!(
        coded_facts_of(&conn, conv).unwrap(),
        vec![(1, scrubbed.clone())]
    );
    assert_eq!(
        log_since(&conn, 0).unwrap(),
        vec![scrubbed, old.to_string()]
    );
}

#[test]
fn whole_histories_are_read_by_conversation_and_only_of_the_tasks_asked() {
    let conn = crate::store::test_connection();
    let fact = |conv: &str, at: Millis| {
        json!({"conversationId": conv, "at": at, "fact": {"kind": "AGENT_MESSAGE"}}).to_string()
    };
    // Two tasks of one conversation (the first closed long ago), one of another.
    for (task, conv, at) in [
        ("t-old", "c-1", 10),
        ("t-new", "c-1", 20),
        ("t-other", "c-2", 30),
        ("t-new", "c-1", 1_000),
    ] {
        append_log(&conn, task, conv, at, &fact(conv, at)).unwrap();
    }
    assert_eq!(
        log_since(&conn, 500).unwrap(),
        [fact("c-1", 20), fact("c-1", 1_000)]
    );
    let between: Vec<String> = log_between(&conn, 25, 35)
        .unwrap()
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    assert_eq!(between, [fact("c-2", 30)]);
    // Through the index of conversations (V29), never a scan of the log.
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", since_sql()))
        .unwrap()
        .query_map([0], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter().any(|p| p.contains("USING INDEX task_log_conv")),
        "{plan:?}"
    );
    assert!(
        plan.iter()
            .all(|p| !p.starts_with("SCAN l") && !p.contains("SCAN task_log")),
        "{plan:?}"
    );
    assert!(
        plan.iter()
            .any(|p| p.contains("SEARCH task_log USING INDEX task_log_at")),
        "{plan:?}"
    );
}

#[test]
fn task_log_facts_are_packed_and_read_back_as_written() {
    let conn = crate::store::test_connection();
    let fact = json!({"conversationId": "c-1", "at": 1_796_467_796_946i64,
        "fact": {"kind": "CHANGED", "id": "t-1", "state": "ACTIVE", "reason": null,
                 "enqueueTime": 1_796_467_790_000i64, "customerName": "Pat"}})
    .to_string();
    append_log(&conn, "t-1", "c-1", 1_796_467_796_946, &fact).unwrap();
    // A row written before packing (plain JSON) reads as it is.
    conn.execute_batch(
        "INSERT INTO conversation_keys(id) VALUES ('c-2');
         INSERT INTO task_log(task, conv, at, fact)
         SELECT 't-2', key, 5, '{\"a\":1}' FROM conversation_keys WHERE id = 'c-2'",
    )
    .unwrap();
    let stored: String = conn
        .query_row("SELECT fact FROM task_log WHERE task = 't-1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(stored.starts_with(objects::PACKED_TAG), "{stored}");
    assert!(
        !stored.contains("c-1") && !stored.contains("t-1"),
        "{stored}"
    );
    assert!(stored.len() < fact.len() / 2, "{stored}");
    let page = log_page(&conn, 0, 10).unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].1, fact);
    assert_eq!(page[1].1, "{\"a\":1}");
    assert_eq!(log_page(&conn, page[0].0, 10).unwrap().len(), 1);
    assert_eq!(
        log_since(&conn, 0).unwrap(),
        vec![fact.clone(), "{\"a\":1}".to_string()]
    );
    // A task id that is a UUID is kept as its 16 bytes and read back as text;
    // an open task's whole log is read even when its rows are old.
    let task = "0fb767a4-502e-4723-949a-2ac39eedf71b";
    append_log(&conn, task, "c-1", 7, &fact).unwrap();
    let kind: String = conn
        .query_row("SELECT typeof(task) FROM task_log WHERE at = 7", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kind, "blob");
    assert_eq!(
        log_since(&conn, 1_900_000_000_000).unwrap(),
        Vec::<String>::new()
    );
    conn.execute(
        "INSERT INTO tasks(id, conversation_id, state, created_at, snapshot, updated_at)
         VALUES (?1, 'c-1', 'ACTIVE', 1, '{}', 1)",
        [task],
    )
    .unwrap();
    assert_eq!(
        log_since(&conn, 1_900_000_000_000).unwrap(),
        vec![fact.clone()]
    );
    assert_eq!(log_between(&conn, 7, 8).unwrap()[0].1, fact);
}
