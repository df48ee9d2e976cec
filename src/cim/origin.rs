//! A message's origin as the server stamps it into `data.header`: `sender` (the
//! participant it knows is speaking), `channelSession` and `channelData` (the
//! conversation's session), built once and shared by every event that carries it.
//!
//! Building these values for every message (a channel session holds its channel's
//! whole configuration) was the largest single cost of a message on the relay bench
//! (docs/benchmarks.md). A stamped event keeps each of these keys of its header in
//! the place [`MessageOrigin::write_into`] would give it, holding `null`, and the
//! values in its [`MessageOrigin`]; whatever writes the event out (its serialization,
//! the store's encoding, the customer's view) reads them from there through
//! [`MessageOrigin::value`], so the text is the same, key for key, as that of the
//! event with the values written in.
//!
//! An origin also keeps what the store made of each value ([`MessageOrigin::kept`]):
//! an origin never changes, so what encoding one of its values gave once is what it
//! gives again, for as long as the origin lives (the conversation core shares one
//! among every message a sender sends in a session).

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::channel_session::ChannelSession;
use super::participant::Participant;
use std::any::Any;
use std::sync::{Arc, OnceLock};

/// The values a message's header gets from who sent it, in which session.
#[derive(Debug, Clone)]
pub struct MessageOrigin {
    sender: Value,
    /// `channelSession` and `channelData`; without a session, the header keeps the
    /// client's `channelData` and loses any `channelSession`.
    session: Option<(Value, Value)>,
    /// The same values as JSON text, written into every stamped event's text as
    /// they are rather than serialized again for each.
    texts: [Option<Box<RawValue>>; 3],
    /// What a layer that encodes the values made of each, in `texts`' order.
    kept: [Kept; 3],
}

/// One value's encoded form, of a type only the layer that made it knows (the
/// store's: `store::origin_memo`).
#[derive(Clone, Default)]
struct Kept(OnceLock<Arc<dyn Any + Send + Sync>>);

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "Kept" } else { "-" })
    }
}

/// The header keys an origin stamps, in `texts`' order.
const KEYS: [&str; 3] = ["sender", "channelSession", "channelData"];

/// The place of the header's `key` among [`KEYS`], if an origin stamps it.
fn slot(key: &str) -> Option<usize> {
    KEYS.iter().position(|k| *k == key)
}

impl PartialEq for MessageOrigin {
    fn eq(&self, other: &Self) -> bool {
        // The texts are the values written out.
        self.sender == other.sender && self.session == other.session
    }
}

impl MessageOrigin {
    /// The header keys an origin stamps.
    pub const STAMPED_KEYS: [&'static str; 3] = KEYS;

    /// The origin of a message `sender` sends in `session`.
    pub fn new(sender: &Participant, session: Option<&ChannelSession>) -> Self {
        let mut origin = MessageOrigin {
            sender: json(sender),
            session: session.map(|s| (json(s), json(&s.channel_data))),
            texts: [None, None, None],
            kept: Default::default(),
        };
        origin.texts = KEYS.map(|key| {
            origin
                .value(key)
                .and_then(|value| serde_json::value::to_raw_value(value).ok())
        });
        origin
    }

    /// What was kept for the header's `key` of type `T`: [`keep`](Self::keep)'s
    /// value, if one was kept.
    pub fn kept<T: Any + Send + Sync>(&self, key: &str) -> Option<Arc<T>> {
        Arc::clone(self.kept[slot(key)?].0.get()?).downcast().ok()
    }

    /// Keeps `value` for the header's `key`, if this origin stamps that key (the first
    /// value kept stays: an origin's values never change, so neither does what is
    /// made of them).
    pub fn keep<T: Any + Send + Sync>(&self, key: &str, value: Arc<T>) {
        if let Some(slot) = slot(key) {
            let _ = self.kept[slot].0.set(value);
        }
    }

    /// [`value`](Self::value) as JSON text.
    fn text(&self, key: &str) -> Option<&RawValue> {
        self.texts[slot(key)?].as_deref()
    }

    /// The value this origin gives the header's `key`, when it stamps that key.
    pub fn value(&self, key: &str) -> Option<&Value> {
        match (key, &self.session) {
            ("sender", _) => Some(&self.sender),
            ("channelSession", Some((session, _))) => Some(session),
            ("channelData", Some((_, data))) => Some(data),
            _ => None,
        }
    }

    /// Puts this origin's keys in `data.header` (made an object if it is not one),
    /// holding `null`: where [`write_into`](Self::write_into) puts them, for a stamped
    /// event whose values stay here. Whatever the client put there is replaced.
    pub fn place_keys(&self, data: &mut Value) {
        self.place(data, |_| Value::Null);
    }

    /// Writes this origin's values into `data.header`.
    pub fn write_into(&self, data: &mut Value) {
        self.place(data, Value::clone);
    }

    /// `data.header` given a value for each key this origin stamps, in the order
    /// inserting them one by one gives (a key the header had keeps its place).
    fn place(&self, data: &mut Value, fill: impl Fn(&Value) -> Value) {
        let Some(message) = data.as_object_mut() else {
            return;
        };
        let header = message
            .entry("header")
            .or_insert_with(|| Value::Object(Map::new()));
        if !header.is_object() {
            *header = Value::Object(Map::new());
        }
        let Some(header) = header.as_object_mut() else {
            return;
        };
        header.insert("sender".into(), fill(&self.sender));
        match &self.session {
            Some((session, channel_data)) => {
                header.insert("channelSession".into(), fill(session));
                header.insert("channelData".into(), fill(channel_data));
            }
            None => {
                header.remove("channelSession");
            }
        }
    }
}

/// `data` as it serializes when `origin` stamped it: its header's values read from
/// the origin. [`MessageOrigin::place_keys`] always leaves an object header, so this
/// and [`MessageOrigin::write_into`] give the same text.
pub struct StampedData<'a> {
    pub data: &'a Value,
    pub origin: &'a MessageOrigin,
}

impl Serialize for StampedData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(data) = self.data.as_object() else {
            return self.data.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(data.len()))?;
        for (key, value) in data {
            match value.as_object() {
                Some(header) if key == "header" => map.serialize_entry(
                    key,
                    &StampedHeader {
                        header,
                        origin: self.origin,
                    },
                )?,
                _ => map.serialize_entry(key, value)?,
            }
        }
        map.end()
    }
}

struct StampedHeader<'a> {
    header: &'a Map<String, Value>,
    origin: &'a MessageOrigin,
}

impl Serialize for StampedHeader<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.header.len()))?;
        for (key, value) in self.header {
            match self.origin.text(key) {
                Some(text) => map.serialize_entry(key, text)?,
                None => map.serialize_entry(key, self.origin.value(key).unwrap_or(value))?,
            }
        }
        map.end()
    }
}

fn json<T: Serialize>(value: &T) -> Value {
    // Structs of strings, numbers and JSON values always serialize.
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::fixtures::started_session;
    use serde_json::json;

    fn customer(session: &ChannelSession) -> Participant {
        Participant::customer("p-c", session.clone(), 1)
    }

    #[test]
    fn a_stamped_header_serializes_as_the_header_with_the_values_written_in() {
        let session = started_session();
        let origin = MessageOrigin::new(&customer(&session), Some(&session));
        for header in [
            json!({"timestamp": 1}),
            json!({"channelData": {"x": 1}, "timestamp": 1, "sender": {"id": "me"}}),
            json!({"channelSession": "forged", "note": 2}),
            json!("not an object"),
        ] {
            let mut written = json!({"id": "m", "header": header.clone(), "body": {}});
            origin.write_into(&mut written);
            let mut stamped = json!({"id": "m", "header": header, "body": {}});
            origin.place_keys(&mut stamped);
            let text = serde_json::to_string(&StampedData {
                data: &stamped,
                origin: &origin,
            })
            .unwrap();
            assert_eq!(text, written.to_string());
            assert_eq!(written["header"]["channelSession"]["id"], json!(session.id));
        }
    }

    #[test]
    fn without_a_session_the_clients_channel_data_stays_and_its_channel_session_goes() {
        let session = started_session();
        let origin = MessageOrigin::new(&customer(&session), None);
        let mut stamped = json!({"header": {"channelSession": 1, "channelData": {"x": 1}, "z": 0}});
        origin.place_keys(&mut stamped);
        let text = serde_json::to_string(&StampedData {
            data: &stamped,
            origin: &origin,
        })
        .unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["header"]["channelData"], json!({"x": 1}));
        assert!(back["header"].get("channelSession").is_none());
        assert_eq!(back["header"]["sender"]["id"], json!(customer(&session).id));
    }
}
