//! What the journal keeps of a conversation input, and how a replay reads it back.
//!
//! An input is kept serde-encoded, with its `now`, the conversation it concerns (a key,
//! see `store::journal`), and the digest and brief of its effects
//! (`conversation::digest`). What a customer or an agent wrote is not copied: the body
//! of a message an input carries (a customer message or one left outside hours, a
//! desk's or a bot's event, a wrap-up) becomes `{"$stored": seq, "type": ...}` (with a
//! wrap-up's codes), the stored event of its conversation holding it; a replay reads
//! the body back from there. An input that stored nothing (refused, or a typing
//! indicator) keeps its body's shape with every text replaced; a duplicate refers to
//! the event stored the first time.
//!
//! A state row (`Kind::ConversationState`) holds the core's settings and its state
//! (`conversation::snapshot`): one at each start, once the open conversations are read
//! back, and one after each routing snapshot.

use crate::clock::Millis;
use crate::conversation::snapshot::CoreSnapshot;
use crate::conversation::{digest, ConversationCore, CoreSettings, Effect, IdGen, Input};
use crate::store::journal::{Entry, Kind};
use crate::store::{events, StoreError, StoreResult};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The key of a body kept as a reference to the stored event's sequence number.
pub const STORED: &str = "$stored";

/// A state row as read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConversationState<I> {
    pub settings: CoreSettings,
    pub state: CoreSnapshot<I>,
}

/// The state row of `core`.
pub(super) fn state_value<I: IdGen + Clone + Serialize>(
    core: &ConversationCore<I>,
) -> serde_json::Result<Value> {
    Ok(json!({
        "settings": serde_json::to_value(core.settings())?,
        "state": serde_json::to_value(core.state_snapshot())?,
    }))
}

/// The journal row of `input` (serde-encoded) handled at `now` with `effects`.
pub(super) fn entry(now: Millis, mut input: Value, effects: &[Effect]) -> Entry {
    let conversation_id = conversation_of(&input, effects);
    if let Some(message) = message_of(&mut input) {
        let seq = message
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| stored_seq(effects, id));
        if let Some(body) = message.get_mut("body") {
            *body = reference(body, seq);
        }
    }
    Entry {
        kind: Kind::ConversationInput,
        at: now,
        conversation_id,
        input,
        digest: digest::digest(effects),
        effects: digest::brief(effects),
    }
}

/// What the journal keeps of a message body: its type, the wrap-up codes of a WRAPUP
/// (an agent's choice, which a replay cannot make up), and where it is stored. A body
/// stored nowhere (refused, or a typing indicator) keeps its shape with every text
/// replaced, an empty one staying empty: the core's checks see what they saw.
fn reference(body: &Value, seq: Option<u64>) -> Value {
    let Some(seq) = seq else {
        let mut kept = body.clone();
        if let Some(fields) = kept.as_object_mut() {
            fields
                .iter_mut()
                .filter(|(key, _)| !KEPT.contains(&key.as_str()))
                .for_each(|(_, value)| redact(value));
        }
        return kept;
    };
    let mut kept = serde_json::Map::new();
    kept.insert(STORED.into(), json!(seq));
    for key in KEPT {
        if let Some(value) = body.get(key) {
            kept.insert(key.into(), value.clone());
        }
    }
    Value::Object(kept)
}

/// The body fields the journal keeps as they are.
const KEPT: [&str; 2] = ["type", "wrapups"];

/// Replaces every text in `value` that is not empty.
fn redact(value: &mut Value) {
    match value {
        Value::String(text) if !text.is_empty() => {
            *text = crate::retention::scrub::ERASED.to_owned()
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        Value::Object(fields) => fields.values_mut().for_each(redact),
        _ => {}
    }
}

/// A body standing for one whose stored event is gone: what the journal kept, a
/// text saying so, and for a media type an attachment that says so too.
fn stand_in(mut kept: Value) -> Value {
    let erased = json!(crate::retention::scrub::ERASED);
    if let Some(fields) = kept.as_object_mut() {
        fields.remove(STORED);
        fields.insert("markdownText".into(), erased.clone());
        let media = ["IMAGE", "VIDEO", "AUDIO", "FILE", "STICKER"];
        if fields
            .get("type")
            .and_then(Value::as_str)
            .is_some_and(|t| media.contains(&t))
        {
            fields.insert("attachment".into(), json!({ "mediaUrl": erased }));
        }
    }
    kept
}

/// The message an encoded input carries: a customer's (`message`) or an event's
/// (`event.data`).
fn message_of(input: &mut Value) -> Option<&mut Value> {
    let (_, fields) = input.as_object_mut()?.iter_mut().next()?;
    let fields = fields.as_object_mut()?;
    if fields.contains_key("message") {
        return fields.get_mut("message");
    }
    fields.get_mut("event")?.get_mut("data")
}

/// The sequence number the message `id` is stored under: the event this step stored,
/// or, for a duplicate, the one stored before.
fn stored_seq(effects: &[Effect], id: &str) -> Option<u64> {
    effects.iter().find_map(|effect| match effect {
        Effect::Persist(step) => step
            .events
            .iter()
            .find(|e| e.message_id.as_deref() == Some(id) || e.event.id == id)
            .map(|e| e.seq),
        Effect::Ack {
            id: acked,
            seq,
            duplicate: true,
            ..
        } if acked == id => Some(*seq),
        _ => None,
    })
}

/// The conversation an input concerns: the one its effects name first (a new
/// conversation's id comes from the core), else the one it names.
fn conversation_of(input: &Value, effects: &[Effect]) -> Option<String> {
    let named = effects.iter().find_map(|effect| match effect {
        Effect::Persist(step) => Some(&step.conversation_id),
        Effect::Ack {
            conversation_id, ..
        } => Some(conversation_id),
        _ => None,
    });
    if let Some(id) = named {
        return Some(id.clone());
    }
    let (_, fields) = input.as_object()?.iter().next()?;
    fields
        .get("conversation_id")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The input of a journal row, its message body read back from the stored event it
/// refers to. When that event is gone (purged, or erased) or the input stored none, the
/// body is a text of its type saying so: the core decides nothing on what a message
/// says, but a body of another type (a file, say) cannot be made up, and its input may
/// be refused where it was taken.
pub fn read_back(conn: &Connection, entry: &Entry) -> StoreResult<Input> {
    let mut input = entry.input.clone();
    if let Some(message) = message_of(&mut input) {
        if let Some(body) = message.get_mut("body") {
            let seq = body.get(STORED).and_then(Value::as_u64);
            let stored = match (seq, entry.conversation_id.as_deref()) {
                (Some(seq), Some(conversation_id)) => events::at(conn, conversation_id, seq)?
                    .and_then(|mut event| event.get_mut("data")?.get_mut("body").map(Value::take)),
                _ => None,
            };
            *body = match (stored, seq) {
                (Some(stored), _) => stored,
                (None, Some(_)) => stand_in(body.take()),
                (None, None) => body.take(),
            };
        }
    }
    serde_json::from_value(input)
        .map_err(|e| StoreError::Corrupt(format!("a journaled conversation input: {e}")))
}
