//! Unit tests of [`super`]: event envelopes, emitters and the typed views of `data`.
use super::*;
use crate::cim::body::MessageBody;
use crate::cim::channel_session::tests::started_session;
use crate::cim::message::{MessageHeader, MessageSender};
use crate::cim::participant::ParticipantRole;
use crate::cim::user::tests::agent1;
use serde_json::json;

#[test]
fn system_emitters_use_seed_ids_and_stable_derived_ids() {
    let routing = EventEmitter::system("ROUTING_ENGINE");
    assert_eq!(
        serde_json::to_value(&routing).unwrap(),
        json!({
            "id": "86e3d082-a904-11ed-afa1-0242ac120002",
            "type": "SYSTEM",
            "senderName": "ROUTING_ENGINE",
            "additionalDetail": null
        })
    );
    let a = EventEmitter::system("CONVERSATION_MANAGER");
    let b = EventEmitter::system("CONVERSATION_MANAGER");
    assert_eq!(a.id, b.id);
    assert_eq!(a.id.len(), 36);
    assert_ne!(a.id, EventEmitter::system("OTHER").id);
    assert_eq!(
        EventEmitter::conversation_monitor().emitter_type,
        EmitterType::Bot
    );
}

#[test]
fn customer_emitter_carries_dynamic_attributes() {
    let customer = Customer::anonymous("c-1", "web", "0302");
    let emitter = EventEmitter::customer(&customer);
    assert_eq!(emitter.id, "c-1");
    assert_eq!(emitter.sender_name, Nullable::Value("0302".into()));
    assert_eq!(
        emitter.additional_detail,
        Nullable::Value(json!({"web": ["0302"]}))
    );
    assert_eq!(
        EventEmitter::agent(&agent1()).sender_name,
        Nullable::Value("agent1".into())
    );
}

#[test]
fn new_event_has_the_newer_shape_and_typed_data() {
    let session = started_session();
    let event = CimEvent::new(
        "e-1",
        CimEventName::ChannelSessionStarted,
        CimEventType::Notification,
        "conv-1",
        EventEmitter::system("CONVERSATION_MANAGER"),
        Some(session.clone()),
        serde_json::to_value(&session).unwrap(),
        RoomInfo::contact_center("room-1"),
        42,
    );
    let value = serde_json::to_value(&event).unwrap();
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "name",
            "type",
            "timestamp",
            "conversationId",
            "eventEmitter",
            "channelSession",
            "data",
            "roomInfo"
        ]
    );
    match event.typed_data().unwrap() {
        EventData::ChannelSession(cs) => assert_eq!(*cs, session),
        other => panic!("unexpected {other:?}"),
    }
    let back: CimEvent = serde_json::from_value(value).unwrap();
    assert_eq!(back, event);
}

#[test]
fn event_without_session_leaves_the_key_out() {
    let event = CimEvent::new(
        "e-2",
        CimEventName::AgentSubscribed,
        CimEventType::Notification,
        "conv-1",
        EventEmitter::system("AGENT_MANAGER"),
        None,
        Value::Null,
        RoomInfo::contact_center("room-1"),
        1,
    );
    let value = serde_json::to_value(&event).unwrap();
    assert!(value.get("channelSession").is_none());
    assert_eq!(value["data"], json!(null));
    assert!(
        event.typed_data().is_err(),
        "AGENT_SUBSCRIBED needs agentParticipant"
    );
}

#[test]
fn message_events_expose_the_message() {
    let session = started_session();
    let sender = crate::cim::participant::Participant::agent(
        "p-1",
        agent1(),
        ParticipantRole::Primary,
        "conv-1",
        3,
    );
    let message = CimMessage::new(
        "m-1",
        MessageHeader::for_session(MessageSender::Participant(Box::new(sender)), session, 4),
        MessageBody::plain("hello"),
    );
    let event = CimEvent::new(
        "e-3",
        CimEventName::AgentMessage,
        CimEventType::Message,
        "conv-1",
        EventEmitter::agent(&agent1()),
        None,
        serde_json::to_value(&message).unwrap(),
        RoomInfo::contact_center("room-1"),
        4,
    );
    assert_eq!(event.message().unwrap(), message);
    assert!(matches!(event.typed_data().unwrap(), EventData::Message(_)));
}

#[test]
fn desk_event_validation_names_fields() {
    let good = json!({"id": "e", "name": "AGENT_MESSAGE", "type": "MESSAGE", "timestamp": 1,
        "data": {"id": "m", "header": {"sender": {"id": "s", "type": "AGENT"}}, "body": {"type": "PLAIN", "markdownText": "x"}}});
    assert!(CimEvent::from_value_at(&good, "cimEvent").is_ok());
    let mut no_name = good.clone();
    no_name.as_object_mut().unwrap().remove("name");
    assert_eq!(
        CimEvent::from_value_at(&no_name, "cimEvent").unwrap_err(),
        CimError::missing("cimEvent.name")
    );
    let mut bad_ts = good.clone();
    bad_ts["timestamp"] = json!("yesterday");
    assert_eq!(
        CimEvent::from_value_at(&bad_ts, "cimEvent")
            .unwrap_err()
            .path(),
        "cimEvent.timestamp"
    );
    let mut bad_body = good.clone();
    bad_body["data"]["body"] = json!({"markdownText": "x"});
    assert_eq!(
        CimEvent::from_value_at(&bad_body, "cimEvent").unwrap_err(),
        CimError::missing("cimEvent.data.body.type")
    );
    let mut bad_type = good;
    bad_type["type"] = json!(7);
    assert_eq!(
        CimEvent::from_value_at(&bad_type, "").unwrap_err().path(),
        "type"
    );
}

#[test]
fn wire_text_adds_seq_once() {
    let event: CimEvent = serde_json::from_value(serde_json::json!({
        "id": "e1", "name": "AGENT_MESSAGE", "type": "MESSAGE", "timestamp": 5,
        "data": {"body": {"type": "PLAIN", "markdownText": "hi"}}
    }))
    .unwrap();
    let plain = event_text(&event);
    let wire: Value = serde_json::from_str(&wire_text(&event, &plain, 7)).unwrap();
    let mut expected = serde_json::to_value(&event).unwrap();
    expected["seq"] = 7.into();
    assert_eq!(wire, expected);

    let mut carrying: CimEvent = event.clone();
    carrying.extra.insert("seq".into(), 99.into());
    let text = wire_text(&carrying, &event_text(&carrying), 8);
    assert_eq!(text.matches("\"seq\"").count(), 1, "{text}");
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["seq"], 8);
}
