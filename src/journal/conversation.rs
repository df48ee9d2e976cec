//! What the journal keeps of a conversation input, and how a replay reads it back.
//!
//! An input is kept serde-encoded, with its `now`, the conversation it concerns (a key,
//! see `store::journal`), and the digest of its effects
//! (`conversation::digest`). What a customer or an agent wrote is not copied: a
//! message an input carries (a customer message or one left outside hours, a desk's
//! or a bot's event, a wrap-up) becomes `{"$stored": seq}` (with its type unless it is
//! plain text, and a wrap-up's codes), the stored event of its conversation holding it
//! whole, id included; a replay reads it back from there. Neither the message nor a
//! channel session already journaled is serialized at all (`encode`). An input that
//! stored nothing (refused, or a typing indicator) keeps its body's shape with every
//! text replaced; a duplicate refers to the event stored the first time.
//!
//! A state row (`Kind::ConversationState`) holds the core's settings and its state
//! (`conversation::snapshot`): one at each start, once the open conversations are read
//! back, and one after each routing snapshot.

use crate::cim::{ChannelSession, MessageBody, MessageHeader};
use crate::clock::Millis;
use crate::conversation::snapshot::CoreSnapshot;
use crate::conversation::{ConversationCore, CoreSettings, Effect, IdGen, Input};
use crate::store::journal::{Entry, Kind};
use crate::store::{events, StoreError, StoreResult};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::mem::take;
use std::sync::Arc;

/// The key of a body kept as a reference to the stored event's sequence number.
pub const STORED: &str = "$stored";

/// A state row as read back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConversationState<I> {
    pub settings: CoreSettings,
    pub state: CoreSnapshot<I>,
    /// The ids the site's bridge draws task ids from, when the core runs in a site.
    #[serde(default)]
    pub site_ids: Option<I>,
}

/// The state row of `core`, with the site's `site_ids` when it runs in one.
pub(super) fn state_value<I: IdGen + Clone + Serialize>(
    core: &ConversationCore<I>,
    site_ids: Option<&I>,
) -> serde_json::Result<Value> {
    let mut value = json!({
        "settings": serde_json::to_value(core.settings())?,
        "state": serde_json::to_value(core.state_snapshot())?,
    });
    if let Some(ids) = site_ids {
        value["site_ids"] = serde_json::to_value(ids)?;
    }
    Ok(value)
}

/// A conversation input encoded before the core takes it: the row without its
/// message, and the two forms the message may take once the effects say whether it
/// was stored. The big parts of an input (a message's text and stamped header, a
/// channel session already journaled) are never serialized.
pub(super) struct Encoded {
    input: Value,
    message: Option<MessageForms>,
    /// The row holds ids and references only, if its message is stored (see
    /// `Kind::ConversationInput`).
    clean: bool,
    /// The channel session journaled whole, for the recorder to note.
    pub whole_session: Option<Arc<ChannelSession>>,
}

/// What the journal keeps of a message: its id, and the message as it came, to take
/// the form the effects call for (`MessageForms::stored` or `MessageForms::unstored`):
/// nothing of it is serialized before then, and a stored message's text never is.
struct MessageForms {
    id: Option<String>,
    message: Carried,
}

/// A message as its input carried it: typed (a customer's), or as an event's `data`.
enum Carried {
    Typed(Box<(MessageHeader, MessageBody)>),
    Data { header: Value, body: Value },
}

impl MessageForms {
    /// The stored form's fields besides the reference: the body fields kept as they
    /// are (type, a wrap-up's codes).
    fn kept(&self) -> serde_json::Result<serde_json::Map<String, Value>> {
        let mut kept = serde_json::Map::new();
        match &self.message {
            Carried::Typed(message) => {
                let body = &message.1;
                kept.insert("type".into(), json!(body.type_name()));
                if let MessageBody::Wrapup(wrapup) = body {
                    kept.insert("wrapups".into(), serde_json::to_value(&wrapup.wrapups)?);
                }
            }
            Carried::Data { body, .. } => {
                for key in KEPT {
                    if let Some(value) = body.get(key) {
                        kept.insert(key.into(), value.clone());
                    }
                }
            }
        }
        Ok(kept)
    }

    /// The form of a message that was not stored (a refusal, a typing indicator): its
    /// shape with every text of the body replaced, an empty one staying empty, so the
    /// core's checks see what they saw.
    fn unstored(self) -> serde_json::Result<Value> {
        let (header, mut body) = match self.message {
            Carried::Typed(message) => {
                let (header, body) = *message;
                (serde_json::to_value(header)?, serde_json::to_value(body)?)
            }
            Carried::Data { header, body } => (header, body),
        };
        if let Some(fields) = body.as_object_mut() {
            fields
                .iter_mut()
                .filter(|(key, _)| !KEPT.contains(&key.as_str()))
                .for_each(|(_, value)| redact(value));
        }
        Ok(json!({ "id": self.id, "header": header, "body": body }))
    }
}

/// `input` as the journal keeps it (see the module doc), before the core takes it.
pub(super) fn encode(sessions: &Sessions, input: &mut Input) -> serde_json::Result<Encoded> {
    let mut whole_session = None;
    let mut clean = matches!(
        input,
        Input::AgentJoined { .. }
            | Input::AgentLeft { .. }
            | Input::AgentRemoved { .. }
            | Input::AgentLoggedOut { .. }
            | Input::ChangeRole { .. }
            | Input::Hold { .. }
            | Input::Resume { .. }
            | Input::EndConversation { .. }
            | Input::CustomerLeft { .. }
            | Input::HoursChanged { .. }
            | Input::MrdInterrupted { .. }
            | Input::StudioFailed { .. }
            | Input::Tick
    );
    let (input, message) = match input {
        Input::CustomerMessage {
            channel_session,
            message,
        } => {
            let session = if sessions.known(channel_session) {
                clean = true;
                json!({ SESSION: channel_session.id })
            } else {
                whole_session = Some(Arc::clone(channel_session));
                serde_json::to_value(&**channel_session)?
            };
            let forms = MessageForms {
                id: Some(message.id.clone()),
                message: Carried::Typed(Box::new((message.header.clone(), message.body.clone()))),
            };
            (
                json!({"CustomerMessage": {"channel_session": session, "message": null}}),
                Some(forms),
            )
        }
        Input::MessageLeft {
            channel_session,
            message,
            opens_at,
        } => {
            whole_session = Some(Arc::new((**channel_session).clone()));
            let forms = MessageForms {
                id: Some(message.id.clone()),
                message: Carried::Typed(Box::new((message.header.clone(), message.body.clone()))),
            };
            let encoded = json!({"MessageLeft": {
                "channel_session": serde_json::to_value(&**channel_session)?,
                "message": null,
                "opens_at": opens_at,
            }});
            (encoded, Some(forms))
        }
        Input::ChatRequested { channel_session } => {
            whole_session = Some(Arc::new((**channel_session).clone()));
            (serde_json::to_value(&*input)?, None)
        }
        _ => match message_event(input).map(|e| (take(&mut e.data), e.origin.take())) {
            // The event without its message (and the origin stamped into it) is small.
            Some((data, origin)) => {
                let skeleton = serde_json::to_value(&*input);
                // A desk may send the customer's session along, or fields of its own.
                clean = event_of(input)
                    .is_some_and(|e| e.channel_session.is_absent() && e.extra.is_empty());
                let forms = data.get().map(|d| MessageForms {
                    id: d.get("id").and_then(Value::as_str).map(str::to_owned),
                    message: Carried::Data {
                        header: d.get("header").cloned().unwrap_or(Value::Null),
                        body: d.get("body").cloned().unwrap_or(Value::Null),
                    },
                });
                if let Some(event) = event_of(input) {
                    event.data = data;
                    event.origin = origin;
                }
                (skeleton?, forms)
            }
            None => (serde_json::to_value(&*input)?, None),
        },
    };
    Ok(Encoded {
        input,
        message,
        clean,
        whole_session,
    })
}

/// The event of a desk, a bot or a wrap-up.
fn event_of(input: &mut Input) -> Option<&mut crate::cim::CimEvent> {
    match input {
        Input::AgentEvent { event, .. }
        | Input::CloseWrapup { event, .. }
        | Input::BotEvent { event, .. } => Some(event),
        _ => None,
    }
}

/// The event of a desk, a bot or a wrap-up that carries a message (`data.body`).
fn message_event(input: &mut Input) -> Option<&mut crate::cim::CimEvent> {
    event_of(input).filter(|e| e.data.get().is_some_and(|d| d.get("body").is_some()))
}

/// The journal row of an input `encoded` before the core handled it at `now` with
/// `effects`. It keeps no brief of the effects, only their digest: a brief per
/// conversation input would cost as much as the input (a divergence shows the
/// recomputed effects, and the conversation's stored events show what happened).
pub(super) fn entry(
    now: Millis,
    encoded: Encoded,
    effects: &[&Effect],
    digest: u64,
) -> serde_json::Result<Entry> {
    let Encoded {
        mut input,
        message,
        mut clean,
        ..
    } = encoded;
    if let Some(forms) = message {
        let stored = forms.id.as_deref().and_then(|id| stored(effects, id));
        let seq = stored.map(|(seq, _)| seq);
        let form = match (seq, forms.kept()) {
            (Some(seq), Ok(mut kept)) => {
                // A type this build does not know, or wrap-up codes, are what a client
                // wrote: the row is one an erasure scrubs.
                clean &= kept
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| MessageBody::KNOWN_TYPES.contains(&t))
                    && !kept.contains_key("wrapups");
                // The stored event holds the id and the type: a plain text's type is
                // what a replay assumes when that event is gone (`stand_in`).
                if kept.get("type").and_then(Value::as_str) == Some(PLAIN) {
                    kept.remove("type");
                }
                kept.insert(STORED.into(), json!(seq));
                Ok(Value::Object(kept))
            }
            (Some(_), Err(e)) => Err(e),
            (None, _) => {
                clean = false;
                forms.unstored()
            }
        };
        match form {
            Ok(form) => place_message(&mut input, form),
            Err(e) => return Err(e),
        }
        // An event stored as it came keeps its id there too (a desk's event id, which
        // for a UUID would otherwise be a shared object of its own).
        if let (Some((_, Some(stored_id))), Some(event)) = (stored, event_object(&mut input)) {
            if event.get("id").and_then(Value::as_str) == Some(stored_id) {
                event.remove("id");
            }
        }
    }
    let conversation_id = conversation_of(&input, effects);
    Ok(Entry {
        kind: match clean {
            true => Kind::ConversationInput,
            false => Kind::ConversationPersonal,
        },
        at: now,
        conversation_id,
        input,
        digest,
        effects: String::new(),
    })
}

/// Puts the message's form where the input carries it: `message`, or `event.data`.
fn place_message(input: &mut Value, form: Value) {
    let Some(fields) = input
        .as_object_mut()
        .and_then(|o| o.values_mut().next())
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    if fields.contains_key("message") {
        fields.insert("message".into(), form);
    } else if let Some(event) = fields.get_mut("event").and_then(Value::as_object_mut) {
        event.insert("data".into(), form);
    }
}

/// The body fields the journal keeps as they are.
const KEPT: [&str; 2] = ["type", "wrapups"];

/// The type of a plain text, which the stored form of a message does not name.
const PLAIN: &str = "PLAIN";

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

/// The sequence number the message `id` is stored under, with the stored event's id
/// when this step stored it (for a duplicate, the event stored before: no id).
fn stored<'a>(effects: &[&'a Effect], id: &str) -> Option<(u64, Option<&'a str>)> {
    effects.iter().find_map(|effect| match effect {
        Effect::Persist(step) => step
            .events
            .iter()
            .find(|e| e.message_id.as_deref() == Some(id) || e.event.id == id)
            .map(|e| (e.seq, Some(e.event.id.as_str()))),
        Effect::Ack {
            id: acked,
            seq,
            duplicate: true,
            ..
        } if acked == id => Some((*seq, None)),
        _ => None,
    })
}

/// The event of an encoded desk, bot or wrap-up input (`event`).
fn event_object(input: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    let (_, fields) = input.as_object_mut()?.iter_mut().next()?;
    fields.get_mut("event")?.as_object_mut()
}

/// The conversation an input concerns: the one its effects name first (a new
/// conversation's id comes from the core), else the one it names.
fn conversation_of(input: &Value, effects: &[&Effect]) -> Option<String> {
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

/// The input of a journal row, its message read back from the stored event it refers
/// to and its channel session from `sessions` (the sessions journaled whole since the
/// last state row, by id; a session journaled whole is added). When the stored event
/// is gone (purged, or erased) or the input stored none, the message is made of what
/// the journal kept and a text of its type saying so: the core decides nothing on what
/// a message says, but a body of another type (a file, say) cannot be made up, and its
/// input may be refused where it was taken.
pub fn read_back(
    conn: &Connection,
    entry: &Entry,
    sessions: &mut HashMap<String, Value>,
) -> StoreResult<ReadBack<Input>> {
    let mut input = entry.input.clone();
    sessions_back(&mut input, sessions)?;
    let sender = match input
        .as_object()
        .and_then(|o| o.keys().next())
        .map(String::as_str)
    {
        Some("AgentEvent" | "CloseWrapup") => "AGENT",
        Some("BotEvent") => "BOT",
        _ => "CUSTOMER",
    };
    let mut stood_in = false;
    let mut event_id = None;
    if let Some(message) = message_of(&mut input) {
        if let Some(seq) = message.get(STORED).and_then(Value::as_u64) {
            let stored = match entry.conversation_id.as_deref() {
                Some(conversation_id) => events::at(conn, conversation_id, seq)?,
                None => None,
            };
            let data = stored.map(|mut event| {
                event_id = event.get_mut("id").map(Value::take);
                event.get_mut("data").map(Value::take).unwrap_or_default()
            });
            stood_in = data.is_none();
            let conversation = entry.conversation_id.as_deref().unwrap_or_default();
            *message = data.unwrap_or_else(|| {
                let id = stand_in_id(MESSAGE_STAND_IN, conversation, seq);
                stand_in(message, id, sender, entry.at)
            });
            event_id.get_or_insert_with(|| json!(stand_in_id(EVENT_STAND_IN, conversation, seq)));
        }
    }
    // An event stored as it came was journaled without its id (`entry`).
    if let (Some(id), Some(event)) = (event_id, event_object(&mut input)) {
        event.entry("id").or_insert(id);
    }
    let input = serde_json::from_value(input)
        .map_err(|e| StoreError::Corrupt(format!("a journaled conversation input: {e}")))?;
    Ok(ReadBack { input, stood_in })
}

/// An input read back from its row.
#[derive(Debug)]
pub struct ReadBack<I> {
    pub input: I,
    /// Its message's stored event was gone (an erasure removes a transcript whole), so
    /// a stand-in took its place: the effects recomputed name another message id
    /// than the digest recorded, and cannot be checked against it.
    pub stood_in: bool,
}

/// The prefixes of the ids a stand-in message and its event take ([`stand_in_id`]).
const MESSAGE_STAND_IN: &str = "$stored-";
const EVENT_STAND_IN: &str = "$stored-event-";

/// The id a message (or its event, with `prefix`) stored under `seq` in
/// `conversation` takes when its stored event is gone: unique like the id it stands
/// for, since the core remembers the ids it saw.
fn stand_in_id(prefix: &str, conversation: &str, seq: u64) -> String {
    format!("{prefix}{conversation}-{seq}")
}

/// Whether `id` is one a stand-in took ([`stand_in_id`]).
pub fn is_stand_in_id(id: &str) -> bool {
    id.starts_with(MESSAGE_STAND_IN)
}

/// A message whose stored event is gone: an id of its own (`id`), a header of
/// `sender`'s type, a body of its type (with a wrap-up's codes) whose text says so,
/// and for a media type an attachment that says so too.
fn stand_in(kept: &Value, id: String, sender: &str, at: Millis) -> Value {
    let erased = json!(crate::retention::scrub::ERASED);
    let mut body = serde_json::Map::new();
    body.insert("type".into(), json!(PLAIN));
    for key in KEPT {
        if let Some(value) = kept.get(key) {
            body.insert(key.into(), value.clone());
        }
    }
    body.insert("markdownText".into(), erased.clone());
    let media = ["IMAGE", "VIDEO", "AUDIO", "FILE", "STICKER"];
    if kept
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| media.contains(&t))
    {
        body.insert("attachment".into(), json!({ "mediaUrl": erased }));
    }
    json!({
        // Rows written before kept the id; a later one's is the stored event's.
        "id": kept.get("id").cloned().unwrap_or_else(|| json!(id)),
        "header": {
            "sender": {
                "id": erased,
                "type": sender,
            },
            "timestamp": at,
        },
        "body": body,
    })
}

/// The key of a channel session kept as a reference to the last one journaled whole
/// with its id.
pub const SESSION: &str = "$session";

/// Puts back a channel session kept as a reference, or notes one kept whole.
fn sessions_back(input: &mut Value, sessions: &mut HashMap<String, Value>) -> StoreResult<()> {
    let Some(session) = input
        .as_object_mut()
        .and_then(|o| o.values_mut().next())
        .and_then(|fields| fields.get_mut("channel_session"))
    else {
        return Ok(());
    };
    match session.get(SESSION).and_then(Value::as_str) {
        Some(id) => {
            *session = sessions.get(id).cloned().ok_or_else(|| {
                StoreError::Corrupt(format!("channel session {id} was not journaled before"))
            })?
        }
        None => {
            if let Some(id) = session.get("id").and_then(Value::as_str) {
                sessions.insert(id.to_owned(), session.clone());
            }
        }
    }
    Ok(())
}

/// The channel sessions the recorder journaled whole since the last state row, so a
/// later input carrying the same session refers to it (`{"$session": id}`): a chat's
/// messages carry their session, whose channel and customer would otherwise be most
/// of each row.
#[derive(Default)]
pub(super) struct Sessions {
    by_id: HashMap<String, Arc<ChannelSession>>,
    of_conversation: HashMap<String, Vec<String>>,
}

impl Sessions {
    /// Whether `session` is the one last journaled whole with its id.
    pub fn known(&self, session: &Arc<ChannelSession>) -> bool {
        self.by_id
            .get(&session.id)
            .is_some_and(|known| Arc::ptr_eq(known, session) || **known == **session)
    }

    /// Notes `session`, journaled whole in an input that stored a step of the open
    /// conversation `conversation_id` (so that its close comes, and forgets it).
    pub fn note(&mut self, conversation_id: &str, session: Arc<ChannelSession>) {
        let ids = self
            .of_conversation
            .entry(conversation_id.to_owned())
            .or_default();
        if !ids.contains(&session.id) {
            ids.push(session.id.clone());
        }
        self.by_id.insert(session.id.clone(), session);
    }

    /// Forgets the session last journaled whole with `id`: a later copy was journaled
    /// whole without being noted (its step stored nothing), and a replay, which keeps
    /// the last copy it read, would put that one in place of a reference.
    pub fn forget(&mut self, id: &str) {
        self.by_id.remove(id);
    }

    /// Forgets the sessions of a conversation that closed.
    pub fn closed(&mut self, conversation_id: &str) {
        for id in self
            .of_conversation
            .remove(conversation_id)
            .unwrap_or_default()
        {
            self.by_id.remove(&id);
        }
    }

    /// Forgets every session (a state row: a replay may begin there).
    pub fn clear(&mut self) {
        self.by_id.clear();
        self.of_conversation.clear();
    }
}
