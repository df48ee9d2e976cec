//! A `cimEvent` as JSON: its serialization (the derived form, with a stamped
//! message's header read from the event's origin, `cim::origin`), and the event as a
//! JSON value without its payload, for the store's encoding.
//!
//! `serde_json::to_value` of an event rebuilds its `data` (already a JSON value, the
//! message with its sender and channel session) key by key, hashing every key into a
//! new map; that was most of the cost of storing a message.
//! [`CimEvent::to_json_head`] gives the rest of the same value, in the same key
//! order, with `data` left where it is for the encoding to read by reference.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

use super::origin::StampedData;
use super::{CimEvent, Nullable};

/// A `Nullable` entry as `#[serde(skip_serializing_if = "Nullable::is_absent")]`
/// writes it.
fn entry<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &str,
    value: &Nullable<T>,
) -> Result<(), M::Error> {
    if value.is_absent() {
        return Ok(());
    }
    map.serialize_entry(key, value)
}

impl Serialize for CimEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Destructured whole so that a new field cannot be left out unnoticed.
        let CimEvent {
            id,
            name,
            event_type,
            timestamp,
            conversation_id,
            event_emitter,
            channel_session,
            data,
            room_info,
            extra,
            origin,
        } = self;
        // As serde derives it for a struct with a flattened map: one map, the fields
        // in order, then the map's entries.
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", id)?;
        map.serialize_entry("name", name)?;
        map.serialize_entry("type", event_type)?;
        map.serialize_entry("timestamp", timestamp)?;
        entry(&mut map, "conversationId", conversation_id)?;
        entry(&mut map, "eventEmitter", event_emitter)?;
        entry(&mut map, "channelSession", channel_session)?;
        match (data, origin) {
            (Nullable::Value(data), Some(origin)) => {
                map.serialize_entry("data", &StampedData { data, origin })?
            }
            (data, _) => entry(&mut map, "data", data)?,
        }
        entry(&mut map, "roomInfo", room_info)?;
        for (key, value) in extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

fn put<T: serde::Serialize>(
    map: &mut Map<String, Value>,
    key: &str,
    value: &Nullable<T>,
) -> Result<(), serde_json::Error> {
    match value {
        Nullable::Absent => {}
        Nullable::Null => {
            map.insert(key.to_owned(), Value::Null);
        }
        Nullable::Value(v) => {
            map.insert(key.to_owned(), serde_json::to_value(v)?);
        }
    }
    Ok(())
}

impl CimEvent {
    /// `serde_json::to_value(self)`, the same keys in the same order, with `data`,
    /// when it has a value, as `null`: its key in its place, its value read from
    /// `self.data` by the caller. (An `extra` key `data`, which no parsed event has,
    /// stands in its place, as serde writes it.)
    pub fn to_json_head(&self) -> Result<Value, serde_json::Error> {
        // Destructured whole so that a new field cannot be left out unnoticed.
        let CimEvent {
            id,
            name,
            event_type,
            timestamp,
            conversation_id,
            event_emitter,
            channel_session,
            data,
            room_info,
            extra,
            origin: _,
        } = self;
        let mut map = Map::new();
        map.insert("id".to_owned(), Value::String(id.clone()));
        map.insert("name".to_owned(), serde_json::to_value(name)?);
        map.insert("type".to_owned(), serde_json::to_value(event_type)?);
        map.insert("timestamp".to_owned(), serde_json::to_value(timestamp)?);
        put(&mut map, "conversationId", conversation_id)?;
        put(&mut map, "eventEmitter", event_emitter)?;
        put(&mut map, "channelSession", channel_session)?;
        match data {
            Nullable::Absent => {}
            Nullable::Null | Nullable::Value(_) => {
                map.insert("data".to_owned(), Value::Null);
            }
        }
        put(&mut map, "roomInfo", room_info)?;
        for (key, value) in extra {
            map.insert(key.clone(), value.clone());
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The `cimEvent` of every studio fixture that has one.
    fn fixture_events() -> Vec<Value> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.sort();
        let mut events = Vec::new();
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !(name.starts_with("studio_") && name.ends_with(".json")) {
                continue;
            }
            let fixture: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let event = &fixture["payload"]["entities"]["cimEvent"];
            if event.is_object() {
                events.push(event.clone());
            }
        }
        assert!(events.len() >= 8, "the studio fixtures' events");
        events
    }

    fn same_as_serde(event: &CimEvent) {
        let mut expected = serde_json::to_value(event).unwrap();
        if event.data.get().is_some() {
            expected["data"] = Value::Null;
        }
        // Compared as text: key order is part of what is stored.
        assert_eq!(
            event.to_json_head().unwrap().to_string(),
            expected.to_string()
        );
    }

    #[test]
    fn every_fixture_event_is_the_value_serde_makes() {
        for value in fixture_events() {
            let event: CimEvent = serde_json::from_value(value).unwrap();
            same_as_serde(&event);
        }
    }

    #[test]
    fn absent_null_and_extra_keys_are_kept_as_serde_keeps_them() {
        // One with every optional key (TASK_ENQUEUED's has a channel session).
        let mut base = fixture_events()
            .into_iter()
            .find(|e| e["name"] == "TASK_ENQUEUED")
            .unwrap();
        base["futureKey"] = json!({"b": 1, "a": [2]});
        base["another"] = json!(null);
        let event: CimEvent = serde_json::from_value(base.clone()).unwrap();
        same_as_serde(&event);
        for key in [
            "conversationId",
            "eventEmitter",
            "channelSession",
            "data",
            "roomInfo",
        ] {
            let mut nulled = base.clone();
            nulled[key] = Value::Null;
            same_as_serde(&serde_json::from_value(nulled).unwrap());
            let mut absent = base.clone();
            absent.as_object_mut().unwrap().remove(key);
            same_as_serde(&serde_json::from_value(absent).unwrap());
        }
    }
}
