//! CIM events of conversations, numbered per conversation. A message's id is its
//! idempotency key (`message_id` is unique).
//!
//! An event is stored compact ([`encode`]): its leading `id`, `name`, `type`,
//! `timestamp` (and `conversationId`, when it is the row's) live only in their
//! columns, its shared objects in `cim_objects` (see `objects`), and the rest is
//! packed (`packed`: shape shared, leaves kept, the row's conversation id, message
//! id and times near its timestamp written as markers). The text starts with a tag
//! saying which keys were moved: `6` (the first four), `7` (with `conversationId`)
//! or `%` (none). Rows written before packing have `4`, `5` or `~` and an unpacked
//! text; rows written before compact storage hold plain JSON (`{`). Reading puts
//! every key back where it was, so the JSON served is the JSON the event was
//! written as, byte for byte.
//!
//! The text of a message (`data.body.markdownText` of a customer, agent or bot
//! message) is added to the full-text index `message_text` (migrations V9, V24) by
//! [`append`], in the event's transaction.

use super::event_keys;
use super::event_runtime::EncodedRuntime;
use super::message_index::PendingIndex;
use super::objects::{self, Dehydrated, Inflater, Interner};
use super::packed::RowContext;
use super::{StoreError, StoreResult};
use crate::cim::{CimEvent, MessageOrigin};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use std::sync::Arc;

/// One CIM event row: the event's JSON text and the columns indexed beside it.
#[derive(Clone, Copy)]
pub struct EventRow<'a> {
    pub id: &'a str,
    pub conversation_id: &'a str,
    pub seq: u64,
    pub name: &'a str,
    pub kind: &'a str,
    pub timestamp: i64,
    pub message_id: Option<&'a str>,
    /// The event's compact form, from [`encode`].
    pub event: &'a EncodedEvent,
    /// The conversation manager's runtime after the step this event ends, when the
    /// step wrote no `conversation_runtime` row (see migration V2), from
    /// `event_runtime::encode`.
    pub runtime: Option<&'a EncodedRuntime>,
}

/// An event's stored form before its shared objects have row ids.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedEvent {
    tag: char,
    body: Dehydrated,
    /// The message text indexed for search, if the event is a message with one.
    search_text: Option<String>,
}

impl EncodedEvent {
    /// This encoding with the text leaf `from` replaced by `to` (and `to` the search
    /// text where `from` was): what encoding the same event with `to` in `from`'s
    /// place gives, for a caller that encodes many events differing only in one text
    /// (the history generator's messages). `None` unless `from` is a leaf of the row's
    /// own packed text, once, and in none of its shared objects, and `to` is a
    /// non-empty text stored as a plain leaf: not an id that is shared
    /// (`objects::is_shared_id`). The caller knows `to` is none of the row's own ids
    /// (which would be stored as markers).
    pub fn with_text(&self, from: &str, to: &str) -> Option<EncodedEvent> {
        if !self.body.packed || to.is_empty() || objects::is_shared_id(to) {
            return None;
        }
        let (from_leaf, to_leaf) = (Value::from(from).to_string(), Value::from(to).to_string());
        let text = &self.body.text;
        let at = text.find(&from_leaf)?;
        let after = at + from_leaf.len();
        let once = !text[after..].contains(&from_leaf)
            && !self
                .body
                .objects
                .iter()
                .any(|o| o.body.contains(&from_leaf));
        let leaf = text[..at].ends_with(',') && text[after..].starts_with([',', ']']);
        if !(once && leaf) {
            return None;
        }
        let mut body = Dehydrated {
            text: String::with_capacity(text.len() + to_leaf.len()),
            objects: self.body.objects.clone(),
            packed: true,
        };
        body.text.push_str(&text[..at]);
        body.text.push_str(&to_leaf);
        body.text.push_str(&text[after..]);
        let search_text = match self.search_text.as_deref() {
            Some(s) if s == from => Some(to.to_owned()),
            other => other.map(str::to_owned),
        };
        Some(EncodedEvent {
            tag: self.tag,
            body,
            search_text,
        })
    }
}

/// Events whose `data.body.markdownText` is indexed for search.
const SEARCHED: [&str; 3] = ["CUSTOMER_MESSAGE", "AGENT_MESSAGE", "BOT_MESSAGE"];

/// The keys moved to columns, in the order every stored event starts with.
const COLUMN_KEYS: [&str; 4] = ["id", "name", "type", "timestamp"];

/// An event (its JSON object) in its compact stored form, for the row of
/// `conversation_id` with `message_id` and `timestamp` in its columns (those of
/// [`EventRow`]). Runs before the write, off the writer thread.
pub fn encode(
    event: Value,
    conversation_id: &str,
    message_id: Option<&str>,
    timestamp: i64,
) -> EncodedEvent {
    encode_with_data(event, None, None, conversation_id, message_id, timestamp)
}

/// [`encode`] of a typed event, its `data` read where it is rather than copied.
pub fn encode_event(
    event: &CimEvent,
    conversation_id: &str,
    message_id: Option<&str>,
) -> Result<EncodedEvent, serde_json::Error> {
    // An `extra` key `data` is what serde writes in `data`'s place.
    let data = event
        .data
        .get()
        .filter(|_| !event.extra.contains_key("data"));
    Ok(encode_with_data(
        event.to_json_head()?,
        data,
        data.and(event.origin.as_ref()),
        conversation_id,
        message_id,
        event.timestamp,
    ))
}

/// [`encode`] of `event`, whose `"data"` entry, when `data` is given, is `data`.
fn encode_with_data(
    event: Value,
    data: Option<&Value>,
    origin: Option<&Arc<MessageOrigin>>,
    conversation_id: &str,
    message_id: Option<&str>,
    timestamp: i64,
) -> EncodedEvent {
    let mut row = RowContext {
        conversation_id: Some(conversation_id),
        message_id,
        base_ms: Some(timestamp),
        event_id: None,
    };
    let Value::Object(mut map) = event else {
        let body = objects::dehydrate_row(event, &row);
        return EncodedEvent {
            tag: if body.packed {
                objects::PACKED_TAG
            } else {
                objects::TAG
            },
            body,
            search_text: None,
        };
    };
    let search_text = search_text(&map, data).map(str::to_owned);
    let leading: Vec<&str> = map.keys().take(5).map(String::as_str).collect();
    let moved = if leading.get(..4) == Some(&COLUMN_KEYS[..])
        && map["id"].is_string()
        && map["name"].is_string()
        && map["type"].is_string()
        && map["timestamp"].is_i64()
    {
        let own_conversation = leading.get(4) == Some(&"conversationId")
            && map["conversationId"].as_str() == Some(conversation_id);
        if own_conversation {
            5
        } else {
            4
        }
    } else {
        0
    };
    let mut own_id = None;
    for key in COLUMN_KEYS
        .iter()
        .chain(["conversationId"].iter())
        .take(moved)
    {
        let value = map.shift_remove(*key);
        if *key == "id" {
            own_id = value;
        }
    }
    // An event whose id is in its column may repeat it in its data (a bot's message).
    row.event_id = own_id.as_ref().and_then(Value::as_str);
    let body = objects::dehydrate_row_with_data(&map, data, origin, &row);
    let tag = match (moved, body.packed) {
        (5, true) => '7',
        (4, true) => '6',
        (_, true) => objects::PACKED_TAG,
        (5, false) => '5',
        (4, false) => '4',
        (_, false) => objects::TAG,
    };
    EncodedEvent {
        tag,
        body,
        search_text,
    }
}

/// The `event_names` codes of the [`SEARCHED`] events, as an SQL list (`1, 2, 3`), for
/// queries picking the indexed message rows of `cim_event_rows` by their name code.
pub(super) fn searched_codes_sql() -> String {
    SEARCHED
        .iter()
        .filter_map(|name| event_keys::CODES.iter().position(|code| code == name))
        .map(|i| (i + 1).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The text an event is indexed with for search: a customer, agent or bot message's
/// non-empty `data.body.markdownText`.
/// `data`, when given, stands for the event's own `data`.
pub fn search_text<'a>(event: &'a Map<String, Value>, data: Option<&'a Value>) -> Option<&'a str> {
    event
        .get("name")
        .and_then(Value::as_str)
        .filter(|name| SEARCHED.contains(name))
        .and_then(|_| {
            data.or_else(|| event.get("data"))?
                .get("body")?
                .get("markdownText")?
                .as_str()
        })
        .filter(|text| !text.is_empty())
}

/// What [`append`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Appended {
    Stored,
    /// Nothing: another row holds the message id (see [`append_without_message_id`]).
    MessageIdTaken,
}

/// Appends one event; a duplicate (conversation, seq) fails (event ids are made by
/// the appliance and not indexed, migration V17), a message id another row holds
/// stores nothing and says so.
/// `interner` keeps the shared objects and conversation keys already stored by the
/// same write; a message's text goes to `index`, which the write indexes after its
/// last row.
pub fn append<'a>(
    conn: &Connection,
    interner: &mut Interner,
    index: &mut PendingIndex<'a>,
    row: &EventRow<'a>,
) -> StoreResult<Appended> {
    let Some(pos) = insert_row(conn, interner, row)? else {
        return Ok(Appended::MessageIdTaken);
    };
    let event: &'a EncodedEvent = row.event;
    if let Some(search) = event.search_text.as_deref() {
        index.add(pos, search);
    }
    Ok(Appended::Stored)
}

/// Appends `event`, whose message id another row holds, without one: a client reused
/// an idempotency key the engine no longer remembered (another conversation's, one
/// closed before a restart, one older than the dedup window). The engine decided the
/// event is new; failing its batch instead would halt the engine, so a client could
/// stop the appliance. Its text is packed again, without the id as a marker.
pub fn append_without_message_id(
    conn: &Connection,
    interner: &mut Interner,
    index: &mut PendingIndex<'_>,
    row: &EventRow<'_>,
    event: &CimEvent,
) -> StoreResult<()> {
    let encoded = encode_event(event, row.conversation_id, None)
        .map_err(|e| StoreError::Corrupt(format!("event {}: {e}", row.id)))?;
    let row = EventRow {
        message_id: None,
        event: &encoded,
        ..*row
    };
    let pos = insert_row(conn, interner, &row)?
        .ok_or_else(|| StoreError::Corrupt("an event without a message id conflicted".into()))?;
    if let Some(search) = encoded.search_text {
        index.add(pos, search);
    }
    Ok(())
}

/// Inserts `row`; its position, or `None` when another row holds its message id.
fn insert_row(
    conn: &Connection,
    interner: &mut Interner,
    row: &EventRow<'_>,
) -> StoreResult<Option<i64>> {
    let mut text = String::with_capacity(row.event.body.text.len() + 8);
    text.push(row.event.tag);
    text.push_str(&interner.intern(conn, &row.event.body)?);
    let conv = interner.conversation_key(conn, row.conversation_id)?;
    let runtime = match row.runtime {
        // A message's patch recurs on the conversation's next messages.
        Some(r) => Some(r.store(conn, interner, row.message_id.is_some())?),
        None => None,
    };
    let inserted = conn
        .prepare_cached(
            "INSERT INTO cim_event_rows(id, conv, seq, name, type, timestamp, message_id, event, runtime)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT(message_id) WHERE message_id IS NOT NULL DO NOTHING",
        )?
        .execute(params![
            event_keys::event_id(row.id, row.timestamp),
            conv,
            row.seq as i64,
            event_keys::name(row.name),
            event_keys::name(row.kind),
            row.timestamp,
            row.message_id.map(event_keys::id),
            text,
            runtime
        ])?;
    Ok((inserted > 0).then(|| conn.last_insert_rowid()))
}

/// Events of a conversation with a sequence number above `after`, in order, each
/// with its `seq` added.
pub fn since(conn: &Connection, conversation_id: &str, after: u64) -> StoreResult<Vec<Value>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, id, name, type, timestamp, event, message_id FROM cim_event_rows
         WHERE conv = (SELECT key FROM conversation_keys WHERE id = ?1) AND seq > ?2
         ORDER BY seq",
    )?;
    let rows = st.query(params![conversation_id, after as i64])?;
    read_rows(conn, conversation_id, rows, Reading::Whole)
}

/// The event of a conversation stored under `seq`, with its `seq` added.
pub fn at(conn: &Connection, conversation_id: &str, seq: u64) -> StoreResult<Option<Value>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, id, name, type, timestamp, event, message_id FROM cim_event_rows
         WHERE conv = (SELECT key FROM conversation_keys WHERE id = ?1) AND seq = ?2",
    )?;
    let rows = st.query(params![conversation_id, seq as i64])?;
    Ok(read_rows(conn, conversation_id, rows, Reading::Whole)?.pop())
}

/// The events named `name` of a conversation with a `timestamp` from `from` to `to`
/// (inclusive), in order, each with its `seq` added, read as [`Reading::Body`]: for
/// readers of what messages said.
pub fn bodies_named_between(
    conn: &Connection,
    conversation_id: &str,
    name: &str,
    from: i64,
    to: i64,
) -> StoreResult<Vec<Value>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, id, name, type, timestamp, event, message_id FROM cim_event_rows
         WHERE conv = (SELECT key FROM conversation_keys WHERE id = ?1) AND name = ?2
           AND timestamp BETWEEN ?3 AND ?4 ORDER BY seq",
    )?;
    let rows = st.query(params![conversation_id, event_keys::name(name), from, to])?;
    read_rows(conn, conversation_id, rows, Reading::Body)
}

/// Reads rows of (seq, id, name, type, timestamp, event, message_id) back into
/// events, as much of each as `reading` says.
fn read_rows(
    conn: &Connection,
    conversation_id: &str,
    mut rows: rusqlite::Rows<'_>,
    reading: Reading,
) -> StoreResult<Vec<Value>> {
    let mut inflater = Inflater::new(conn);
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(decode_row(&mut inflater, conversation_id, r, reading)?);
    }
    Ok(out)
}

/// What a corrupt event text is reported as.
const WHAT: &str = "cim_events.event";

/// How much of a stored event a reader puts back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The whole event, as it was written.
    Whole,
    /// Its own keys with `data.body` whole (all of `data` when `data` itself was
    /// stored as an object); the other shared objects it refers to (the channel
    /// session, the sender's user) stay references. For readers of message bodies,
    /// which then neither read nor parse those objects.
    Body,
}

/// One row of (seq, id, name, type, timestamp, event, message_id) of conversation
/// `conversation_id` as its event (as much as `reading` says), with its `seq` added.
pub(super) fn decode_row(
    inflater: &mut Inflater,
    conversation_id: &str,
    r: &rusqlite::Row<'_>,
    reading: Reading,
) -> StoreResult<Value> {
    let seq: i64 = r.get(0)?;
    let timestamp: i64 = r.get(4)?;
    let text = r.get_ref(5)?.as_str().map_err(rusqlite::Error::from)?;
    let message_id = event_keys::read_optional_id(r.get_ref(6)?)?;
    let event_id = event_keys::read_event_id(r.get_ref(1)?, timestamp)?;
    let row = RowContext {
        conversation_id: Some(conversation_id),
        message_id: message_id.as_deref(),
        base_ms: Some(timestamp),
        event_id: Some(&event_id),
    };
    let tag = text.chars().next();
    let mut event = match tag {
        Some('4' | '5' | '6' | '7') => {
            let mut event = Map::new();
            event.insert("id".into(), event_id.clone().into());
            event.insert(
                "name".into(),
                event_keys::read_name_text(r.get_ref(2)?)?.into(),
            );
            event.insert(
                "type".into(),
                event_keys::read_name_text(r.get_ref(3)?)?.into(),
            );
            event.insert("timestamp".into(), Value::from(timestamp));
            if matches!(tag, Some('5' | '7')) {
                event.insert("conversationId".into(), conversation_id.into());
            }
            let mut rest = unpacked(inflater, &text[1..], matches!(tag, Some('6' | '7')), &row)?;
            // The rest alone was stored compact: it is what the objects go back into
            // (a rest that is one `$ref` key was stored as a wrapped literal).
            put_back(inflater, &mut rest, reading)?;
            match rest {
                Value::Object(rest) => event.extend(rest),
                other => {
                    return Err(StoreError::Corrupt(format!(
                        "cim_events.event: expected an object, found {other}"
                    )))
                }
            }
            Value::Object(event)
        }
        Some(t @ (objects::PACKED_TAG | objects::TAG)) => {
            let mut event = unpacked(inflater, &text[1..], t == objects::PACKED_TAG, &row)?;
            put_back(inflater, &mut event, reading)?;
            event
        }
        // Plain JSON (written before compact storage) refers to no object.
        _ => super::parse_json(text, WHAT)?,
    };
    if let Some(obj) = event.as_object_mut() {
        obj.insert("seq".into(), Value::from(seq));
    }
    Ok(event)
}

/// A compact event text (after its tag; `packed` or not) with its own keys and
/// leaves back and its shared objects still references (see [`put_back`]).
fn unpacked(
    inflater: &mut Inflater,
    text: &str,
    packed: bool,
    row: &RowContext,
) -> StoreResult<Value> {
    match packed {
        true => inflater.unpack(text, row, WHAT),
        false => super::parse_json(text, WHAT),
    }
}

/// Puts the stored objects back into `value`, read from a compact text: all of them,
/// or for [`Reading::Body`] those of `data.body` (all of `data` when `data` is itself
/// a stored object, or has no body).
fn put_back(inflater: &mut Inflater, value: &mut Value, reading: Reading) -> StoreResult<()> {
    match (reading, value.get_mut("data")) {
        (Reading::Whole, _) => inflater.inflate(value),
        (Reading::Body, None) => Ok(()),
        (Reading::Body, Some(data)) => match data.get_mut("body") {
            Some(body) => inflater.inflate(body),
            None => inflater.inflate(data),
        },
    }
}

/// `find_message`'s statements: point lookups, the conversation's key resolved by a
/// subquery. SQLite re-prepares a joined form of the first (`JOIN conversation_keys`)
/// each time it is taken from the statement cache, and a LEFT JOIN of the second on
/// every new binding; either made this check cost more than the insert.
const MESSAGE_LOOKUPS: [&str; 2] = [
    "SELECT (SELECT k.id FROM conversation_keys k WHERE k.key = e.conv), e.seq
     FROM cim_event_rows e WHERE e.message_id = ?1",
    "SELECT customer_id FROM conversations WHERE id = ?1",
];

/// Where a message id was stored, if it was: conversation id, seq, and the
/// conversation's customer id.
pub fn find_message(
    conn: &Connection,
    message_id: &str,
) -> StoreResult<Option<(String, u64, String)>> {
    let [by_message_id, customer_of] = MESSAGE_LOOKUPS;
    let found: Option<(Option<String>, i64)> = conn
        .prepare_cached(by_message_id)?
        .query_row([event_keys::id(message_id)], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((Some(conversation_id), seq)) = found else {
        return Ok(None);
    };
    let customer_id: Option<String> = conn
        .prepare_cached(customer_of)?
        .query_row([&conversation_id], |r| r.get(0))
        .optional()?;
    Ok(Some((
        conversation_id,
        seq as u64,
        customer_id.unwrap_or_default(),
    )))
}

/// The message events (`CUSTOMER_MESSAGE`, `AGENT_MESSAGE`) the live figures are
/// rebuilt from, in commit order: those of conversations with an open task (messages
/// matter to the figures only while a conversation has one). Each is the JSON text of
/// the event's head (`id`, `name`, `type`, `timestamp`, `conversationId`), which is
/// all the figures read; a row written before compact storage is given whole.
pub fn live_messages(conn: &Connection) -> StoreResult<Vec<String>> {
    let mut st = conn.prepare(
        "SELECT e.id, e.name, e.type, e.timestamp, e.conversation_id, e.event, e.message_id
         FROM cim_events e
         WHERE e.conversation_id IN (SELECT conversation_id FROM tasks WHERE state <> 'CLOSED')
           AND e.name IN ('CUSTOMER_MESSAGE', 'AGENT_MESSAGE')
         ORDER BY e.pos",
    )?;
    let mut rows = st.query([])?;
    let mut inflater = Inflater::new(conn);
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let text = r.get_ref(5)?.as_str().map_err(rusqlite::Error::from)?;
        let own: String = r.get(4)?;
        let row = RowContext {
            conversation_id: Some(&own),
            message_id: r
                .get_ref(6)?
                .as_str_or_null()
                .map_err(rusqlite::Error::from)?,
            base_ms: Some(r.get(3)?),
            event_id: Some(r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?),
        };
        let conversation_id = match text.chars().next() {
            Some('{') => {
                out.push(text.to_owned());
                continue;
            }
            Some('5' | '7') => Value::String(own.clone()),
            Some('4') => {
                let rest = super::parse_json(&text[1..], "cim_events.event")?;
                rest.get("conversationId").cloned().unwrap_or(Value::Null)
            }
            Some('6') => {
                let rest = inflater.read_packed(&text[1..], &row, "cim_events.event")?;
                rest.get("conversationId").cloned().unwrap_or(Value::Null)
            }
            Some(objects::PACKED_TAG) => {
                let whole = inflater.read_packed(&text[1..], &row, "cim_events.event")?;
                out.push(whole.to_string());
                continue;
            }
            _ => {
                out.push(inflater.decode(text, "cim_events.event")?.to_string());
                continue;
            }
        };
        let mut head = Map::new();
        head.insert("id".into(), Value::String(r.get(0)?));
        head.insert("name".into(), Value::String(r.get(1)?));
        head.insert("type".into(), Value::String(r.get(2)?));
        head.insert("timestamp".into(), Value::from(r.get::<_, i64>(3)?));
        head.insert("conversationId".into(), conversation_id);
        out.push(Value::Object(head).to_string());
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests;
