//! Taking the shared objects out of a value, innermost first: [`walk`] in place,
//! [`walked_entries`] from a borrowed object into a new one (for a caller that keeps
//! its value, such as an event still to be published).

use super::{share, SharedObject, REF, SHARED_KEYS, SHARED_LIST_KEYS};
use crate::cim::MessageOrigin;
use crate::store::{origin_memo, share_memo};
use serde_json::{Map, Value};
use std::sync::Arc;

/// What the walk does with an object's entry.
enum Place {
    /// Walk into it, sharing the objects found there or not.
    Walk(bool),
    /// Share it ([`take_out`]).
    TakeOut,
    /// Share each object it lists.
    List,
}

fn place(key: &str, child: &Value, sharing: bool) -> Place {
    if !sharing {
        Place::Walk(false)
    } else if SHARED_KEYS.contains(&key) || is_participant(child) {
        Place::TakeOut
    } else if SHARED_LIST_KEYS.contains(&key) {
        Place::List
    } else {
        Place::Walk(true)
    }
}

/// Takes the shared objects out of `value` (innermost first) when `sharing`, and wraps
/// every original `{"$ref": x}` either way.
pub(super) fn walk(value: &mut Value, objects: &mut Vec<SharedObject>, sharing: bool) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match place(key, child, sharing) {
                    Place::Walk(sharing) => walk(child, objects, sharing),
                    Place::TakeOut => take_out(child, objects),
                    Place::List => match child {
                        Value::Array(items) => items.iter_mut().for_each(|item| {
                            if item.is_object() {
                                take_out(item, objects);
                            } else {
                                walk(item, objects, true);
                            }
                        }),
                        other => walk(other, objects, true),
                    },
                }
            }
            wrap_original_reference(map);
        }
        Value::Array(items) => {
            for item in items {
                if sharing && is_participant(item) {
                    take_out(item, objects);
                } else {
                    walk(item, objects, sharing);
                }
            }
        }
        _ => {}
    }
}

/// [`walk`] of a borrowed value, into a new one.
fn walked(value: &Value, objects: &mut Vec<SharedObject>, sharing: bool) -> Value {
    match value {
        Value::Object(map) => walked_entries(map.iter(), objects, sharing),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| {
                    if sharing && is_participant(item) {
                        taken_out(item, objects)
                    } else {
                        walked(item, objects, sharing)
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// [`walk`] of the object made of `entries` (borrowed), into a new object.
pub(super) fn walked_entries<'a>(
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    objects: &mut Vec<SharedObject>,
    sharing: bool,
) -> Value {
    let mut map = Map::new();
    for (key, child) in entries {
        map.insert(key.clone(), walked_entry(key, child, objects, sharing));
    }
    wrap_original_reference(&mut map);
    Value::Object(map)
}

/// What [`walked_entries`] makes of the entry `key: child`.
fn walked_entry(key: &str, child: &Value, objects: &mut Vec<SharedObject>, sharing: bool) -> Value {
    match place(key, child, sharing) {
        Place::Walk(sharing) => walked(child, objects, sharing),
        Place::TakeOut => taken_out(child, objects),
        Place::List => match child {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| {
                        if item.is_object() {
                            taken_out(item, objects)
                        } else {
                            walked(item, objects, true)
                        }
                    })
                    .collect(),
            ),
            other => walked(other, objects, true),
        },
    }
}

/// [`walked_entries`] of the event object `event` whose `data` is `data`, a message
/// `origin` stamped: its header's values read from the origin where they are, as
/// the walk of the event with them written in would read them. `None` when that
/// walk would not walk into the header (`data` or its header no plain object), for
/// the caller to write them in.
pub(super) fn walked_stamped_event(
    event: &Map<String, Value>,
    data: &Value,
    origin: &Arc<MessageOrigin>,
    objects: &mut Vec<SharedObject>,
) -> Option<Value> {
    let message = data.as_object().filter(|_| !is_participant(data))?;
    let header = match message.get("header") {
        Some(header) if is_participant(header) => return None,
        Some(header) => Some(header.as_object()?),
        None => None,
    };
    let mut map = Map::new();
    for (key, child) in event {
        let value = if key == "data" {
            let mut walked_data = Map::new();
            for (key, child) in message {
                let value = match header {
                    Some(header) if key == "header" => {
                        let mut walked_header = Map::new();
                        for (key, value) in header {
                            let walked = match origin.value(key) {
                                Some(stamped) => origin_taken_out(origin, key, stamped, objects),
                                None => walked_entry(key, value, objects, true),
                            };
                            walked_header.insert(key.clone(), walked);
                        }
                        wrap_original_reference(&mut walked_header);
                        Value::Object(walked_header)
                    }
                    _ => walked_entry(key, child, objects, true),
                };
                walked_data.insert(key.clone(), value);
            }
            wrap_original_reference(&mut walked_data);
            Value::Object(walked_data)
        } else {
            walked_entry(key, child, objects, true)
        };
        map.insert(key.clone(), value);
    }
    wrap_original_reference(&mut map);
    Some(Value::Object(map))
}

/// [`walked_entry`] of the value `origin` gives the header's `key`, served from
/// this thread's memo of origins (`origin_memo`): what walking it with no objects
/// known gave, merged here as [`from_memo`] merges (walked as before on a clash).
fn origin_taken_out(
    origin: &Arc<MessageOrigin>,
    key: &str,
    value: &Value,
    objects: &mut Vec<SharedObject>,
) -> Value {
    if !share_memo::enabled() {
        return walked_entry(key, value, objects, true);
    }
    let taken = origin_memo::taken(origin, key, || {
        let mut own = Vec::new();
        let replacement = walked_entry(key, value, &mut own, true);
        share_memo::Taken {
            replacement,
            objects: Arc::new(own),
        }
    });
    if merge(objects, &taken.objects) {
        taken.replacement
    } else {
        walked_entry(key, value, objects, true)
    }
}

/// An original `{"$ref": x}` is kept apart from references: `{"$ref": [x]}`.
fn wrap_original_reference(map: &mut Map<String, Value>) {
    if map.len() == 1 {
        if let Some(inner) = map.get_mut(REF) {
            *inner = Value::Array(vec![inner.take()]);
        }
    }
}

/// [`take_out`] of a borrowed object: a memo hit is its (small) replacement, with
/// nothing copied.
fn taken_out(value: &Value, objects: &mut Vec<SharedObject>) -> Value {
    from_memo(value, objects).unwrap_or_else(|| {
        let mut owned = value.clone();
        walk(&mut owned, objects, true);
        share(&mut owned, objects);
        owned
    })
}

/// Walks and shares an object found at a shared place (see [`walk`], [`share`]),
/// served from this thread's memo when it can be (see [`from_memo`]).
pub(super) fn take_out(value: &mut Value, objects: &mut Vec<SharedObject>) {
    match from_memo(value, objects) {
        Some(replacement) => *value = replacement,
        None => {
            walk(value, objects, true);
            share(value, objects);
        }
    }
}

/// What taking out the object `value` gives, from this thread's memo of objects met
/// before (`share_memo`; an object not met yet is taken out with no objects known and
/// remembered): the memo's result is what walking it with no objects known would
/// give, merged here as the walk would (objects already in `objects` skipped).
/// `None`, with nothing added, when the memo is off, `value` is no object, or one of
/// its objects' content keys names another object of `objects` (the caller then
/// walks it as before).
fn from_memo(value: &Value, objects: &mut Vec<SharedObject>) -> Option<Value> {
    if !value.is_object() || !share_memo::enabled() {
        return None;
    }
    let key = share_memo::hash(value);
    let (taken, met) = match share_memo::get(key, value) {
        Some(taken) => (taken, true),
        None => {
            let mut own = Vec::new();
            let mut copy = walked(value, &mut own, true);
            share(&mut copy, &mut own);
            let taken = share_memo::Taken {
                replacement: copy,
                objects: std::sync::Arc::new(own),
            };
            (taken, false)
        }
    };
    if !merge(objects, &taken.objects) {
        return None;
    }
    if met {
        return Some(taken.replacement);
    }
    let replacement = taken.replacement.clone();
    share_memo::put(key, value.clone(), taken);
    Some(replacement)
}

/// Adds `own` to `objects`, skipping those already there; `false` (and nothing
/// added) when one's content key names another object there.
fn merge(objects: &mut Vec<SharedObject>, own: &[SharedObject]) -> bool {
    let clash = own.iter().any(|o| {
        objects
            .iter()
            .any(|known| known.key == o.key && known.body != o.body)
    });
    if clash {
        return false;
    }
    for o in own {
        if !objects.iter().any(|known| known.key == o.key) {
            objects.push(o.clone());
        }
    }
    true
}

/// A participant object (a channel session, a CC user, a bot) is shared wherever it
/// sits, e.g. as an event's `data` or in a conversation's metadata.
fn is_participant(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|map| map.get("participantType").is_some_and(Value::is_string))
}
