//! The text a widget receives for a live event: [`views::customer_event`] with the
//! event's `seq`, written straight from the typed event. The message path delivers
//! every agent message this way, and building the whole event as a `Value` first
//! (its data, the header's channel session, the sender) only to drop most of it again
//! was a tenth of the server's CPU per message under the chat load
//! (`docs/benchmarks.md`). The text is the same, key for key and in the same order,
//! as `customer_event` followed by inserting `seq` (tests below compare the two).

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::views::{customer_session_in_place, public_party};
use crate::cim::{CimEvent, MessageOrigin, Nullable};

/// [`views::customer_event`] of `event` with `"seq": seq` (in place of an event's own
/// `seq` key, else last), as JSON text.
///
/// [`views::customer_event`]: super::views::customer_event
pub fn customer_event_text(event: &CimEvent, seq: u64) -> String {
    // A struct of strings, numbers and JSON values always serializes.
    serde_json::to_string(&View { event, seq }).unwrap_or_else(|_| "{}".to_string())
}

struct View<'a> {
    event: &'a CimEvent,
    seq: u64,
}

impl Serialize for View<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let e = self.event;
        // The keys in `CimEvent`'s serialization order, each reduced as
        // `views::customer_event_value` reduces it.
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &e.id)?;
        map.serialize_entry("name", &e.name)?;
        map.serialize_entry("type", &e.event_type)?;
        map.serialize_entry("timestamp", &e.timestamp)?;
        if !e.conversation_id.is_absent() {
            map.serialize_entry("conversationId", &e.conversation_id)?;
        }
        match &e.event_emitter {
            Nullable::Absent => {}
            Nullable::Null => map.serialize_entry("eventEmitter", &Value::Null)?,
            Nullable::Value(emitter) => {
                let emitter = serde_json::to_value(emitter).unwrap_or(Value::Null);
                let shown = if emitter.is_object() {
                    public_party(&emitter)
                } else {
                    emitter
                };
                map.serialize_entry("eventEmitter", &shown)?;
            }
        }
        match &e.channel_session {
            Nullable::Absent => {}
            Nullable::Null => map.serialize_entry("channelSession", &Value::Null)?,
            Nullable::Value(session) => {
                let mut session = serde_json::to_value(session).unwrap_or(Value::Null);
                customer_session_in_place(&mut session);
                map.serialize_entry("channelSession", &session)?;
            }
        }
        match &e.data {
            Nullable::Absent => {}
            Nullable::Null => map.serialize_entry("data", &Value::Null)?,
            Nullable::Value(data) => {
                map.serialize_entry("data", &Data(data, e.origin.as_deref()))?
            }
        }
        if !e.room_info.is_absent() {
            map.serialize_entry("roomInfo", &e.room_info)?;
        }
        for (key, value) in &e.extra {
            if key == "seq" {
                map.serialize_entry(key, &self.seq)?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        if !e.extra.contains_key("seq") {
            map.serialize_entry("seq", &self.seq)?;
        }
        map.end()
    }
}

/// `data` (with its origin's values when stamped, `cim::origin`): the header
/// reduced, `agentParticipant` by name only.
struct Data<'a>(&'a Value, Option<&'a MessageOrigin>);

impl Serialize for Data<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(data) = self.0.as_object() else {
            return self.0.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(data.len()))?;
        for (key, value) in data {
            match (key.as_str(), value) {
                ("header", Value::Object(header)) => {
                    map.serialize_entry(key, &Header(header, self.1))?
                }
                ("agentParticipant", Value::Object(_)) => {
                    map.serialize_entry(key, &public_party(value))?
                }
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

/// `data.header`: the sender by name only, no `channelSession`.
struct Header<'a>(&'a Map<String, Value>, Option<&'a MessageOrigin>);

impl Serialize for Header<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let origin = |key: &str| self.1.and_then(|o| o.value(key));
        let mut entries: Vec<(&String, &Value)> = self
            .0
            .iter()
            .map(|(key, value)| (key, origin(key).unwrap_or(value)))
            .collect();
        // `Map::remove` (with `preserve_order`) moves the last key into the removed
        // one's place; `Vec::swap_remove` does the same.
        if let Some(at) = entries.iter().position(|(k, _)| *k == "channelSession") {
            entries.swap_remove(at);
        }
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, value) in entries {
            if key == "sender" && value.is_object() {
                map.serialize_entry(key, &public_party(value))?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::fixtures::{agent1, started_session};
    use crate::cim::MessageOrigin;
    use crate::cim::RoomInfo;
    use crate::cim::{CimEventName, CimEventType, EventEmitter, Participant, ParticipantRole};
    use crate::conversation::views::customer_event;
    use serde_json::json;

    /// What the widget got before this module: the `Value` view plus `seq`.
    fn reference(event: &CimEvent, seq: u64) -> String {
        let mut view = customer_event(event);
        if let Some(obj) = view.as_object_mut() {
            obj.insert("seq".into(), Value::from(seq));
        }
        view.to_string()
    }

    fn message(name: CimEventName, data: Value, session: bool) -> CimEvent {
        CimEvent::new(
            "e-1",
            name,
            CimEventType::Message,
            "c",
            EventEmitter::agent(&agent1()),
            session.then(started_session),
            data,
            RoomInfo::contact_center("r"),
            1,
        )
    }

    fn agent_data(extra_header: &[(&str, Value)]) -> Value {
        let participant = Participant::agent("p-1", agent1(), ParticipantRole::Primary, "c", 1);
        let mut data = json!({
            "id": "m-1",
            "header": {"sender": {"id": "someone-else", "type": "CUSTOMER"}, "timestamp": 1},
            "body": {"type": "PLAIN", "markdownText": "hi \"there\" \u{e9}"}
        });
        MessageOrigin::new(&participant, Some(&started_session())).write_into(&mut data);
        for (k, v) in extra_header {
            data["header"][*k] = v.clone();
        }
        data
    }

    #[test]
    fn an_agent_message_reads_exactly_as_the_value_view() {
        for session in [false, true] {
            let event = message(CimEventName::AgentMessage, agent_data(&[]), session);
            let text = customer_event_text(&event, 42);
            assert_eq!(text, reference(&event, 42));
            assert!(!text.contains("keycloakUser"), "{text}");
        }
        // Keys after the header's channelSession: the last one takes its place.
        let event = message(
            CimEventName::AgentMessage,
            agent_data(&[("late", json!(1)), ("later", json!({"x": [1, 2.5]}))]),
            true,
        );
        assert_eq!(customer_event_text(&event, 3), reference(&event, 3));
    }

    /// `data` stamped by `origin` (its values held by the event), and the same data
    /// with the values written in.
    fn stamped_and_written(
        origin: MessageOrigin,
        header: Value,
        session: bool,
    ) -> (CimEvent, CimEvent) {
        let data =
            json!({"id": "m-1", "header": header, "body": {"type": "PLAIN", "markdownText": "hi"}});
        let mut written = data.clone();
        origin.write_into(&mut written);
        let mut placed = data;
        origin.place_keys(&mut placed);
        let mut stamped = message(CimEventName::CustomerMessage, placed, session);
        stamped.origin = Some(std::sync::Arc::new(origin));
        (
            stamped,
            message(CimEventName::CustomerMessage, written, session),
        )
    }

    #[test]
    fn a_stamped_message_reads_as_the_message_with_its_origin_written_in() {
        let session = started_session();
        let customer = Participant::customer("p-c", session.clone(), 1);
        let agent = Participant::agent("p-1", agent1(), ParticipantRole::Primary, "c", 1);
        let headers = [
            json!({"timestamp": 1}),
            json!({"channelData": {"x": 1}, "sender": {"id": "forged"}, "late": 2}),
            json!({"channelSession": "forged", "roomId": "r"}),
            json!("not an object"),
        ];
        for (sender, with_session) in [(&customer, true), (&agent, true), (&agent, false)] {
            for header in &headers {
                let origin = MessageOrigin::new(sender, with_session.then_some(&session));
                let (stamped, written) = stamped_and_written(origin, header.clone(), true);
                assert_eq!(
                    customer_event_text(&stamped, 7),
                    customer_event_text(&written, 7)
                );
                assert_eq!(customer_event_text(&stamped, 7), reference(&written, 7));
                assert_eq!(
                    crate::cim::event_text(&stamped),
                    crate::cim::event_text(&written)
                );
                assert_eq!(stamped.message().ok(), written.message().ok());
            }
        }
    }

    #[test]
    fn joins_nulls_odd_shapes_and_an_own_seq_read_exactly_as_the_value_view() {
        let participant = Participant::agent("p-1", agent1(), ParticipantRole::Primary, "c", 1);
        let joined = CimEvent::new(
            "e-2",
            CimEventName::AgentSubscribed,
            CimEventType::Notification,
            "c",
            EventEmitter::system("AGENT_MANAGER"),
            None,
            crate::conversation::events::subscription_data(&participant, None),
            RoomInfo::contact_center("r"),
            1,
        );
        assert_eq!(customer_event_text(&joined, 9), reference(&joined, 9));

        let mut odd = message(CimEventName::AgentMessage, json!([1, "two"]), false);
        odd.event_emitter = Nullable::Null;
        odd.room_info = Nullable::Absent;
        odd.extra.insert("seq".into(), json!(1));
        odd.extra.insert("zExtra".into(), json!({"a": null}));
        assert_eq!(customer_event_text(&odd, 5), reference(&odd, 5));

        let mut bare = message(
            CimEventName::AgentMessage,
            json!({"header": "not an object", "agentParticipant": 3}),
            false,
        );
        bare.channel_session = Nullable::Null;
        bare.data = Nullable::Null;
        assert_eq!(customer_event_text(&bare, 1), reference(&bare, 1));
        bare.data = Nullable::Value(json!({"header": "not an object", "agentParticipant": 3}));
        bare.extra.insert("other".into(), json!("x"));
        assert_eq!(customer_event_text(&bare, 2), reference(&bare, 2));
    }
}
