//! Tests of the stored CIM events: encoding, reading back, search text.

use super::*;
use crate::cim::{event_text, CimEvent, CimEventName};
use serde_json::json;

/// Stores `event` as the conversation `conv-1`'s event `seq`, as the driver does.
fn append_to_conv_1(
    conn: &Connection,
    interner: &mut Interner,
    event: &CimEvent,
    seq: u64,
    message_id: Option<&str>,
) {
    append_stored(conn, interner, "conv-1", event, seq, message_id);
}

/// Stores `event` as `conversation_id`'s event `seq`, its text indexed, as the
/// driver does (for tests elsewhere that need stored events).
pub(crate) fn append_stored(
    conn: &Connection,
    interner: &mut Interner,
    conversation_id: &str,
    event: &CimEvent,
    seq: u64,
    message_id: Option<&str>,
) {
    let encoded = encode_event(event, conversation_id, message_id).unwrap();
    let mut index = PendingIndex::default();
    let appended = append(
        conn,
        interner,
        &mut index,
        &EventRow {
            id: &event.id,
            conversation_id,
            seq,
            name: event.name.as_str(),
            kind: event.event_type.as_str(),
            timestamp: event.timestamp,
            message_id,
            event: &encoded,
            runtime: None,
        },
    )
    .unwrap();
    assert_eq!(appended, Appended::Stored);
    index.write(conn).unwrap();
}

#[test]
fn the_searched_events_have_the_name_codes_v16_gave_them() {
    assert_eq!(searched_codes_sql(), "1, 2, 3");
}

/// The seed events the fixtures carry (`payload.entities.cimEvent`).
pub(in crate::store) fn seed_events() -> Vec<Value> {
    [
        include_str!("../../../tests/fixtures/studio_task_enqueued.json"),
        include_str!("../../../tests/fixtures/studio_agent_subscribed.json"),
        include_str!("../../../tests/fixtures/studio_channel_session_started.json"),
        include_str!("../../../tests/fixtures/studio_participant_role_changed.json"),
        include_str!("../../../tests/fixtures/studio_agent_mrd_interrupted.json"),
        include_str!("../../../tests/fixtures/studio_customer_sla_expired.json"),
    ]
    .iter()
    .map(|text| {
        let fixture: Value = serde_json::from_str(text).expect("fixture");
        fixture["payload"]["entities"]["cimEvent"].clone()
    })
    .collect()
}

/// A message whose header carries the sender as a participant object and the
/// channel session (the seed-004 header fields), as a desk or channel sends it.
fn message_event(session: &Value, name: &str) -> Value {
    json!({
        "id": "m-1", "name": name, "type": "MESSAGE", "timestamp": 1_750_000_000_000i64,
        "conversationId": "conv-1",
        "eventEmitter": {"id": "cust-1", "type": "CUSTOMER", "senderName": "Pat",
                         "additionalDetail": {"web": ["pat"]}},
        "data": {
            "id": "msg-1",
            "header": {
                "sender": {"id": "p-1", "type": "CUSTOMER", "participant": session},
                "channelSession": session,
                "channelData": session["channelData"],
                "timestamp": 1_750_000_000_001i64,
                "conversationId": "conv-1",
                "roomId": "room-1"
            },
            "body": {"type": "PLAIN", "markdownText": "hello {\"$ref\":1}"}
        },
        "roomInfo": {"id": "room-1", "mode": "CONTACT_CENTER"}
    })
}

/// What the history was served before events were stored compact: the event's
/// JSON text parsed, with `seq` added.
fn served_before(event: &CimEvent, seq: u64) -> String {
    let mut value: Value = serde_json::from_str(&event_text(event)).unwrap();
    value
        .as_object_mut()
        .unwrap()
        .insert("seq".into(), seq.into());
    value.to_string()
}

/// Each known event name in a notification seed's shape and in a message's, some
/// naming another conversation or none, with the message id of their row.
fn every_name_events() -> Vec<(CimEvent, Option<String>)> {
    let seeds = seed_events();
    let session = seeds[0]["channelSession"].clone();
    assert!(session.is_object(), "the TASK_ENQUEUED seed has a session");
    let mut written = Vec::new();
    for (i, name) in CimEventName::KNOWN.iter().enumerate() {
        // Each name with a notification seed's shape and with a message's.
        let mut notification = seeds[i % seeds.len()].clone();
        notification["name"] = json!(name);
        for (j, template) in [notification, message_event(&session, name)]
            .into_iter()
            .enumerate()
        {
            let mut template = template;
            template["id"] = json!(format!("e-{i}-{j}"));
            if j == 1 {
                // A message's own id is its row's message id.
                template["data"]["id"] = json!(format!("msg-{i}"));
            }
            // Some events name another conversation, or none.
            match (i + j) % 3 {
                0 => template["conversationId"] = json!("conv-1"),
                1 => template["conversationId"] = json!("conv-other"),
                _ => {
                    template
                        .as_object_mut()
                        .unwrap()
                        .shift_remove("conversationId");
                }
            }
            let event: CimEvent = serde_json::from_value(template).unwrap();
            written.push((event, (j == 1).then(|| format!("msg-{i}"))));
        }
    }
    written
}

/// Each message of `events` stamped (`cim::MessageOrigin`) by a customer in its
/// session, by an agent with no session, and with a header the walk takes out
/// whole (a participant's shape), as the conversation core stamps messages.
fn stamped_twins(events: &[(CimEvent, Option<String>)]) -> Vec<(CimEvent, Option<String>)> {
    use crate::cim::fixtures::{agent1, started_session};
    use crate::cim::{MessageOrigin, Participant, ParticipantRole};
    let session = started_session();
    let origins = [
        MessageOrigin::new(
            &Participant::customer("p-c", session.clone(), 1),
            Some(&session),
        ),
        MessageOrigin::new(
            &Participant::agent("p-a", agent1(), ParticipantRole::Primary, "conv-1", 1),
            None,
        ),
    ];
    let mut twins = Vec::new();
    for (event, message_id) in events.iter().filter(|(_, id)| id.is_some()) {
        for (origin, taken_out_whole) in [
            (&origins[0], false),
            (&origins[1], false),
            (&origins[1], true),
        ] {
            let mut twin = event.clone();
            let Some(data) = twin.data.get_mut() else {
                continue;
            };
            if taken_out_whole {
                data["header"]["participantType"] = json!("ChannelSession");
            }
            origin.place_keys(data);
            twin.origin = Some(std::sync::Arc::new(origin.clone()));
            let mut written = twin.clone();
            written.origin = None;
            if let Some(data) = written.data.get_mut() {
                origin.write_into(data);
            }
            assert_eq!(
                encode_event(&twin, "conv-1", message_id.as_deref()).unwrap(),
                encode_event(&written, "conv-1", message_id.as_deref()).unwrap(),
                "{}",
                event.name.as_str()
            );
            twins.push((twin, message_id.clone()));
        }
    }
    assert!(!twins.is_empty());
    twins
}

#[test]
fn a_typed_event_is_encoded_as_its_json_is() {
    for round in 0..2 {
        // The second round meets every shared object in this thread's memo.
        let mut events = every_name_events();
        // An event made in code with an extra key `data` (no parsed one has it):
        // serde writes that value in `data`'s place.
        let mut shadowed = events[1].clone();
        shadowed.0.extra.insert(
            "data".into(),
            json!({"body": {"type": "PLAIN", "markdownText": "the extra one"}}),
        );
        events.push(shadowed);
        events.extend(stamped_twins(&events));
        for (event, message_id) in events {
            let typed = encode_event(&event, "conv-1", message_id.as_deref()).unwrap();
            let json = encode(
                serde_json::to_value(&event).unwrap(),
                "conv-1",
                message_id.as_deref(),
                event.timestamp,
            );
            assert_eq!(typed, json, "round {round}: {}", event.name.as_str());
        }
    }
}

#[test]
fn every_event_name_reads_back_as_it_was_served_before() {
    let conn = crate::store::test_connection();
    let written = every_name_events();
    let mut interner = Interner::default();
    for (seq, (event, message_id)) in written.iter().enumerate() {
        append_to_conv_1(
            &conn,
            &mut interner,
            event,
            seq as u64 + 1,
            message_id.as_deref(),
        );
    }
    let read = since(&conn, "conv-1", 0).unwrap();
    assert_eq!(read.len(), written.len());
    for (seq, ((event, _), back)) in written.iter().zip(&read).enumerate() {
        assert_eq!(
            back.to_string(),
            served_before(event, seq as u64 + 1),
            "{} read back differently",
            event.name
        );
    }
    // The shared objects are stored once: far fewer than one per event (ids
    // shared as objects aside, each stored once too).
    let objects: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM cim_objects WHERE substr(body, 1, 1) <> '\"'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(objects < written.len() as i64, "{objects} objects");
    let (ids, distinct): (i64, i64) = conn
        .query_row(
            "SELECT COUNT(*), COUNT(DISTINCT body) FROM cim_objects
             WHERE substr(body, 1, 1) = '\"'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(ids > 0 && ids == distinct, "{ids} ids, {distinct} distinct");
    // Stored packed, with the row's own ids as markers.
    let texts: Vec<String> = conn
        .prepare("SELECT event FROM cim_event_rows WHERE message_id IS NOT NULL")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        texts.iter().all(|t| t.starts_with(['6', '7', '%'])
            && !t.contains("msg-")
            && !t.contains("\"conv-1\"")),
        "{texts:?}"
    );
    // Each customer, agent and bot message's text is in the search index.
    let found: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM message_text WHERE message_text MATCH 'hello'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, 3);
    // Reading from a later seq gives the same events.
    let tail = since(&conn, "conv-1", 10).unwrap();
    assert_eq!(tail, read[10..].to_vec());
}

#[test]
fn a_message_with_other_text_is_its_encoding_with_that_text() {
    let session = seed_events()[0]["channelSession"].clone();
    let with = |text: &str| {
        let mut event = message_event(&session, "CUSTOMER_MESSAGE");
        event["data"]["id"] = json!("msg-1");
        event["data"]["body"]["markdownText"] = json!(text);
        encode(event, "conv-1", Some("msg-1"), 1_750_000_000_000)
    };
    let first = with("first text");
    let other = "an \"other\" text\n";
    assert_eq!(first.with_text("first text", other), Some(with(other)));
    assert_eq!(
        first
            .with_text("first text", other)
            .unwrap()
            .search_text
            .as_deref(),
        Some(other)
    );
    // Not a leaf of the row's own text, or the new text an id that is shared.
    assert_eq!(first.with_text("CUSTOMER", "x"), None);
    assert_eq!(first.with_text("no such text", "x"), None);
    let id = "123e4567-e89b-12d3-a456-426614174000";
    assert_eq!(first.with_text("first text", id), None);
}

/// Stores `event` as `conv-1`'s event `seq` the way rows were written before compact
/// storage: its JSON text as it is.
fn insert_plain(conn: &Connection, seq: i64, event: &Value) {
    conn.execute(
        "INSERT INTO cim_events(id, conversation_id, seq, name, type, timestamp, event)
         VALUES (?1, 'conv-1', ?2, ?3, ?4, ?2, ?5)",
        rusqlite::params![
            event["id"].as_str().unwrap(),
            seq,
            event["name"].as_str().unwrap(),
            event["type"].as_str().unwrap(),
            event.to_string()
        ],
    )
    .unwrap();
}

#[test]
fn rows_written_before_as_plain_json_still_read_back() {
    let conn = crate::store::test_connection();
    let event = seed_events()[0].clone();
    insert_plain(&conn, 1, &event);
    let read = since(&conn, "conv-1", 0).unwrap();
    let mut expected = event;
    expected["seq"] = json!(1);
    assert_eq!(read[0].to_string(), expected.to_string());
    // A plain row refers to no stored object: what looks like a reference is data.
    let message = json!({"id": "old-m", "name": "AGENT_MESSAGE", "type": "MESSAGE",
        "timestamp": 2, "data": {"body": {"type": "PLAIN", "markdownText": "x",
        "additionalDetails": {"$ref": 1}}}});
    insert_plain(&conn, 2, &message);
    let whole = since(&conn, "conv-1", 1).unwrap();
    let bodies = bodies_named_between(&conn, "conv-1", "AGENT_MESSAGE", 0, 10).unwrap();
    for read in [&whole[0], &bodies[0]] {
        assert_eq!(read["data"], message["data"]);
    }
}

#[test]
fn live_messages_give_each_message_event_head_whatever_its_form() {
    let conn = crate::store::test_connection();
    conn.execute(
        "INSERT INTO tasks(id, conversation_id, state, created_at, snapshot, updated_at)
         VALUES ('t1', 'conv-1', 'ACTIVE', 1, '{}', 1)",
        [],
    )
    .unwrap();
    let session = seed_events()[0]["channelSession"].clone();
    let mut interner = Interner::default();
    for (seq, (id, conversation)) in [("e1", "conv-1"), ("e2", "conv-other")].iter().enumerate() {
        let mut value = message_event(&session, "CUSTOMER_MESSAGE");
        value["id"] = json!(id);
        value["conversationId"] = json!(conversation);
        let event: CimEvent = serde_json::from_value(value).unwrap();
        append_to_conv_1(&conn, &mut interner, &event, seq as u64 + 1, None);
    }
    let old = json!({"id": "e3", "name": "AGENT_MESSAGE", "type": "MESSAGE",
                     "timestamp": 7, "conversationId": "conv-1", "data": {}});
    conn.execute(
        "INSERT INTO cim_events(id, conversation_id, seq, name, type, timestamp, event)
         VALUES ('e3', 'conv-1', 3, 'AGENT_MESSAGE', 'MESSAGE', 7, ?1)",
        [old.to_string()],
    )
    .unwrap();
    let heads: Vec<Value> = live_messages(&conn)
        .unwrap()
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    let facts: Vec<(&str, &str)> = heads
        .iter()
        .map(|h| {
            (
                h["id"].as_str().unwrap(),
                h["conversationId"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        facts,
        [("e1", "conv-1"), ("e2", "conv-other"), ("e3", "conv-1")]
    );
    assert_eq!(heads[0]["timestamp"], 1_750_000_000_000i64);
    assert_eq!(heads[0]["name"], "CUSTOMER_MESSAGE");
    assert_eq!(heads[2], old);
}

#[test]
fn a_body_reading_gives_each_message_body_whole_and_its_shared_objects_as_references() {
    let conn = crate::store::test_connection();
    let mut interner = Interner::default();
    let session = seed_events()[0]["channelSession"].clone();
    let bodies = [
        json!({"type": "PLAIN", "markdownText": "first"}),
        json!({"type": "WRAPUP", "wrapups": [{"categoryName": "Sales", "value": "upgrade"}],
               "note": "called back", "sender": {"id": "p-1", "type": "AGENT",
               "participant": session}}),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let mut event = message_event(&session, "AGENT_MESSAGE");
        event["id"] = json!(format!("e-{i}"));
        event["timestamp"] = json!(1_750_000_000_000i64 + i as i64);
        event["data"]["id"] = json!(format!("msg-{i}"));
        event["data"]["body"] = body.clone();
        let event: CimEvent = serde_json::from_value(event).unwrap();
        append_to_conv_1(
            &conn,
            &mut interner,
            &event,
            i as u64 + 1,
            Some(&format!("msg-{i}")),
        );
    }
    let whole = since(&conn, "conv-1", 0).unwrap();
    let read = bodies_named_between(&conn, "conv-1", "AGENT_MESSAGE", 0, i64::MAX).unwrap();
    assert_eq!(read.len(), 2);
    for (i, body) in bodies.iter().enumerate() {
        // The body (with the object it shares) is whole, its own keys as written...
        assert_eq!(&read[i]["data"]["body"], body);
        assert_eq!(read[i]["timestamp"], whole[i]["timestamp"]);
        assert_eq!(read[i]["seq"], whole[i]["seq"]);
        // ...and the header's channel session is left a reference.
        assert_eq!(whole[i]["data"]["header"]["channelSession"], session);
        assert_ne!(read[i]["data"]["header"]["channelSession"], session);
    }
}

#[test]
fn an_event_whose_rest_looks_like_a_reference_reads_back_as_it_was() {
    let conn = crate::store::test_connection();
    let mut interner = Interner::default();
    let event: CimEvent = serde_json::from_value(json!({
        "id": "e-ref", "name": "AGENT_MESSAGE", "type": "MESSAGE",
        "timestamp": 1_750_000_000_000i64, "conversationId": "conv-1", "$ref": 5
    }))
    .unwrap();
    append_to_conv_1(&conn, &mut interner, &event, 1, None);
    let read = since(&conn, "conv-1", 0).unwrap();
    assert_eq!(read[0].to_string(), served_before(&event, 1));
}

#[test]
fn a_body_reading_finds_the_body_of_data_stored_as_an_object() {
    let conn = crate::store::test_connection();
    let mut interner = Interner::default();
    // `data` with a participant's marks is shared like a participant.
    let data = json!({"participantType": "AGENT", "id": "data-1",
        "body": {"type": "PLAIN", "markdownText": "in shared data"}});
    let event: CimEvent = serde_json::from_value(json!({
        "id": "e-1", "name": "AGENT_MESSAGE", "type": "MESSAGE",
        "timestamp": 1_750_000_000_000i64, "conversationId": "conv-1", "data": data
    }))
    .unwrap();
    append_to_conv_1(&conn, &mut interner, &event, 1, Some("msg-1"));
    let read = bodies_named_between(&conn, "conv-1", "AGENT_MESSAGE", 0, i64::MAX).unwrap();
    assert_eq!(read[0]["data"]["body"], data["body"]);
    assert_eq!(
        since(&conn, "conv-1", 0).unwrap()[0].to_string(),
        served_before(&event, 1)
    );
}

#[test]
fn looking_up_message_ids_prepares_its_statements_once() {
    let conn = crate::store::test_connection();
    let mut interner = Interner::default();
    let event: CimEvent = serde_json::from_value(seed_events()[0].clone()).unwrap();
    append_to_conv_1(&conn, &mut interner, &event, 1, Some("m-stored"));
    for id in ["m-new-1", "m-stored", "m-new-2", "m-stored", "m-new-3"] {
        find_message(&conn, id).unwrap();
    }
    let found = find_message(&conn, "m-stored").unwrap();
    assert_eq!(
        found.map(|(conv, seq, _)| (conv, seq)),
        Some(("conv-1".to_owned(), 1))
    );
    assert_eq!(find_message(&conn, "m-new-4").unwrap(), None);
    // A statement SQLite re-prepares on each new binding (its plan depending on the
    // bound value) cost more than the insert it guards, on every customer message.
    for sql in MESSAGE_LOOKUPS {
        let st = conn.prepare_cached(sql).unwrap();
        assert_eq!(
            st.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "{sql}"
        );
    }
}
