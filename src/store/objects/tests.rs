//! Tests of `objects`: shared objects stored once, packed texts and bodies read back
//! byte for byte, and texts written by earlier versions.

use super::*;
use crate::store::share_memo;
use serde_json::json;

fn session(customer: &str) -> Value {
    json!({
        "participantType": "ChannelSession",
        "id": format!("s-{customer}"),
        "channel": {"id": "web", "name": "web", "channelConfig": {"routingPolicy": {"routingMode": "PUSH"}}},
        "customer": {"_id": customer, "firstName": "Pat", "isAnonymous": true},
        "channelData": {"channelCustomerIdentifier": customer, "serviceIdentifier": "1122"},
        "state": {"name": "STARTED", "reasonCode": null}
    })
}

fn round_trip(conn: &Connection, value: &Value) -> String {
    let text = Interner::default().compact(conn, value.clone()).unwrap();
    let back = Inflater::new(conn).decode(&text, "test").unwrap();
    assert_eq!(
        back.to_string(),
        value.to_string(),
        "read back byte for byte"
    );
    text
}

#[test]
fn shared_objects_are_stored_once_and_read_back_exactly() {
    let conn = crate::store::test_connection();
    let event = json!({
        "id": "e1", "name": "TASK_ENQUEUED", "channelSession": session("c1"),
        "data": {"task": {"id": "t1", "activeMedia": [{"requestSession": session("c1")}]}},
        "roomInfo": {"id": "room-1", "mode": "CONTACT_CENTER"}
    });
    let first = round_trip(&conn, &event);
    let objects: i64 = conn
        .query_row("SELECT COUNT(*) FROM cim_objects", [], |r| r.get(0))
        .unwrap();
    // channel, customer, channelData, session, task, roomInfo (the second copy of
    // the session is the same object), and the shapes of those six and of the
    // event itself.
    assert_eq!(objects, 6 + 7);
    assert!(first.len() < event.to_string().len() / 2, "{first}");
    // A packed text and packed bodies keep their references as bare ids.
    assert!(!first.contains("$ref"), "{first}");
    let bodies: Vec<String> = conn
        .prepare("SELECT body FROM cim_objects WHERE body LIKE '[%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(bodies.iter().all(|b| !b.contains("$ref")), "{bodies:?}");

    // Another customer on the same channel shares the channel object.
    round_trip(&conn, &json!({"channelSession": session("c2")}));
    let objects: i64 = conn
        .query_row("SELECT COUNT(*) FROM cim_objects", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        objects,
        13 + 3 + 1,
        "customer, channel data and session are new, and the shape of the value"
    );
}

#[test]
fn values_that_look_like_references_and_plain_rows_read_back_unchanged() {
    let conn = crate::store::test_connection();
    let tricky = json!({
        "data": {"$ref": 1},
        "list": [{"$ref": [2]}, {"$ref": "x", "other": 1}, {"$ref": 7, "other": 1}],
        "text": "{\"$ref\":5}",
        "customer": {"$ref": {"customer": {"_id": "nested-object-long-enough-to-share"}}}
    });
    round_trip(&conn, &tricky);
    let plain = json!({"a": {"b": [1, 2]}, "$ref": 3}).to_string();
    let back = Inflater::new(&conn).decode(&plain, "test").unwrap();
    assert_eq!(back.to_string(), plain);
}

#[test]
fn a_hash_collision_stores_a_second_object_instead_of_reusing_the_first() {
    let conn = crate::store::test_connection();
    let d = dehydrate(json!({"channelSession": session("c1")}));
    let session_key = d
        .objects
        .iter()
        .find(|o| o.body.starts_with('[') && o.body.contains("\"s-c1\""))
        .unwrap()
        .key;
    // Another object already stored under the same hash.
    conn.execute(
        "INSERT INTO cim_objects(hash, body) VALUES (?1, '{\"other\":true}')",
        [session_key],
    )
    .unwrap();
    assert!(d.packed);
    let text = format!(
        "{PACKED_TAG}{}",
        Interner::default().intern(&conn, &d).unwrap()
    );
    let back = Inflater::new(&conn).decode(&text, "test").unwrap();
    assert_eq!(back, json!({"channelSession": session("c1")}));
}

#[test]
fn texts_and_objects_written_before_packing_still_read_back() {
    let conn = crate::store::test_connection();
    conn.execute(
        "INSERT INTO cim_objects(id, hash, body) VALUES (5, 1, '{\"_id\":\"cu-1\",\"firstName\":\"Pat\"}')",
        [],
    )
    .unwrap();
    let back = Inflater::new(&conn)
        .decode(
            &format!("{TAG}{{\"customer\":{{\"$ref\":5}},\"n\":1}}"),
            "test",
        )
        .unwrap();
    assert_eq!(
        back.to_string(),
        r#"{"customer":{"_id":"cu-1","firstName":"Pat"},"n":1}"#
    );
    // A packed text may refer to an object written before packing.
    let shape_id: i64 = {
        conn.execute(
            "INSERT INTO cim_objects(hash, body) VALUES (2, '{\"customer\":0,\"n\":0}')",
            [],
        )
        .unwrap();
        conn.last_insert_rowid()
    };
    let packed = format!("{PACKED_TAG}[{{\"$ref\":{shape_id}}},{{\"$ref\":5}},1]");
    let back = Inflater::new(&conn).decode(&packed, "test").unwrap();
    assert_eq!(
        back.to_string(),
        r#"{"customer":{"_id":"cu-1","firstName":"Pat"},"n":1}"#
    );
}

#[test]
fn a_whole_value_stored_by_reference_is_the_object_its_events_carry() {
    let conn = crate::store::test_connection();
    let count = || -> i64 {
        conn.query_row("SELECT COUNT(*) FROM cim_objects", [], |r| r.get(0))
            .unwrap()
    };
    let mut interner = Interner::default();
    interner
        .compact(&conn, json!({"channelSession": session("c1")}))
        .unwrap();
    let before = count();
    let text = interner.compact_whole(&conn, session("c1")).unwrap();
    assert_eq!(
        count(),
        before + 1,
        "only the shape of a bare reference is new"
    );
    assert!(text.len() < 16, "{text}");
    let back = Inflater::new(&conn).decode(&text, "test").unwrap();
    assert_eq!(back.to_string(), session("c1").to_string());
    // Too small to share: packed in place.
    let small = json!({"a": 1});
    let text = Interner::default()
        .compact_whole(&conn, small.clone())
        .unwrap();
    assert_eq!(Inflater::new(&conn).decode(&text, "test").unwrap(), small);
}

#[test]
fn a_missing_object_is_reported_as_corrupt() {
    let conn = crate::store::test_connection();
    let err = Inflater::new(&conn)
        .decode(&format!("{TAG}{{\"a\":{{\"$ref\":42}}}}"), "test")
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
}

/// The seed events the fixtures carry, and messages carrying their channel session.
fn seed_like_events() -> Vec<Value> {
    let mut events = crate::store::events::tests::seed_events();
    let session = events[0]["channelSession"].clone();
    for i in 0..4 {
        let mut other = session.clone();
        other["customer"]["firstName"] = json!(format!("Pat{}", i % 2));
        events.push(json!({
            "id": format!("m-{i}"), "name": "CUSTOMER_MESSAGE", "type": "MESSAGE",
            "data": {"header": {"sender": {"id": "p", "participant": other.clone()},
                                "channelSession": other, "channelData": session["channelData"]},
                     "body": {"markdownText": "hello"}},
            "participants": [session.clone(), {"participantType": "CCUser", "id": "u1", "keycloakUser": {"id": "u1", "username": "agent1"}}],
            "ref": {"$ref": 5}
        }));
    }
    events
}

#[test]
fn the_memo_of_shared_objects_gives_exactly_what_the_walk_gives() {
    let events = seed_like_events();
    let walked: Vec<Dehydrated> = std::thread::spawn({
        let events = events.clone();
        move || {
            share_memo::set_enabled(false);
            let mut out: Vec<Dehydrated> = events.iter().cloned().map(dehydrate).collect();
            out.extend(events.iter().cloned().map(dehydrate_whole));
            out
        }
    })
    .join()
    .unwrap();
    // Twice over with the memo, so the second round is served from it.
    for round in 0..2 {
        let mut memo: Vec<Dehydrated> = events.iter().cloned().map(dehydrate).collect();
        memo.extend(events.iter().cloned().map(dehydrate_whole));
        assert_eq!(memo, walked, "round {round}");
    }
}

#[test]
fn a_channel_sessions_and_a_participants_own_ids_stay_inline_and_other_ids_are_shared() {
    let conn = crate::store::test_connection();
    let (own, customer, user) = (
        "0fb767a4-502e-4723-949a-2ac39eedf71b",
        "5d0c3a4e6f0b4b8e9d571c2a3b4c5d6e",
        "7e4b1c2d-3a4f-4e5d-8c6b-9a0f1e2d3c4b",
    );
    let mut channel_session = session(customer);
    channel_session["id"] = json!(own);
    let event = json!({
        "channelSession": channel_session,
        "data": {"participant": {"id": own, "type": "CUSTOMER", "role": "CUSTOMER",
                 "participant": {"participantType": "CCUser", "id": user}}}
    });
    round_trip(&conn, &event);
    let ids: Vec<String> = conn
        .prepare("SELECT body FROM cim_objects WHERE body LIKE '\"%' ORDER BY body")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // The customer's and the user's ids are objects; the session's and the
    // participant's own id (the same here) is in their bodies.
    assert_eq!(ids, [format!("\"{customer}\""), format!("\"{user}\"")]);
    let inline: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM cim_objects WHERE instr(body, ?1) > 0",
            [format!("\"{own}\"")],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(inline, 2);
}
