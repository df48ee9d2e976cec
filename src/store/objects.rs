//! Shared CIM objects stored once per version (`cim_objects`), and the compact JSON
//! text of the rows that refer to them.
//!
//! Events, conversation snapshots, channel sessions, participants and tasks carry the
//! same objects over and over: the channel session (with its channel, channel config,
//! connector and customer), the task, the participants' users, the emitter, a
//! message header's sender and channel data, the room. [`dehydrate`] replaces each
//! such object (found by the key it sits under, [`SHARED_KEYS`]) with a reference
//! `{"$ref": id}`, innermost first, so a channel session refers to its channel and a
//! task to its session. Each object is stored once per content ([`intern`]: on the
//! writer thread found in its cache, elsewhere looked up by a hash of its text,
//! compared in full; inserted when new, see `store_object`). [`inflate`] puts the
//! objects back; `serde_json` keeps key order, so the text read back is the text
//! that was written, byte for byte.
//!
//! Texts and object bodies are written *packed* (`packed`): their shape is itself a
//! shared object and they keep `[shape, leaf, ...]`, where the shape and every
//! reference leaf are bare row ids (the shape marks the reference places).
//! Packed texts written before that keep `[{"$ref": shape}, leaf, ...]` with
//! `{"$ref": id}` leaves, and still read. An object body that starts with `[` is
//! packed, one that starts with `{` (written before) is not.
//!
//! A later version of a packed object may be stored as a delta of an earlier one
//! (`delta`, on the writer thread, whose `object_cache` also spares it the lookups of
//! objects already stored); [`Inflater`] reads either.
//!
//! A compact text starts with a one-character tag (never `{`): [`PACKED_TAG`] for a
//! packed text, [`TAG`] for one written before packing; rows written before compact
//! storage (plain JSON) are still read as they are. An object of the original that
//! happens to be exactly `{"$ref": x}` is stored as `{"$ref": [x]}` and read back
//! unchanged.

use super::delta;
use super::object_cache;
use super::packed::{self, RowContext};
use super::{StoreError, StoreResult};
use crate::cim::MessageOrigin;
use memchr::memmem::Finder;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

mod inflate;
mod walk;
pub use inflate::{packed_shape, read_shape, Inflater};
use walk::{walk, walked_entries};

/// Keys whose object value is stored once and referred to.
pub const SHARED_KEYS: &[&str] = &[
    "channelSession",
    "requestSession",
    "channel",
    "customer",
    "task",
    "eventEmitter",
    "sender",
    "channelData",
    "roomInfo",
    "participant",
    "agentParticipant",
    "conversationParticipant",
];

/// Keys whose array elements (objects) are each stored once and referred to.
pub const SHARED_LIST_KEYS: &[&str] = &["channelSessions", "participants"];

/// Objects smaller than this stay inline: a reference would save nothing.
const MIN_SHARED_LEN: usize = 32;

const REF: &str = "$ref";

/// The tag of a compact text whose objects are stored by reference, written before
/// texts were packed (still read).
pub const TAG: char = '~';

/// The tag of a packed compact text (see the module doc).
pub const PACKED_TAG: char = '%';

/// A value with its shared objects taken out: `text` refers to them by content key
/// (replaced by their row ids when stored), `objects` lists them innermost first.
/// `packed` says whether `text` is packed (see the module doc).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dehydrated {
    pub text: String,
    pub objects: Vec<SharedObject>,
    pub packed: bool,
}

/// One shared object: its content key (a hash of `body`) and its JSON text, which
/// refers to its own shared objects by content key.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedObject {
    pub key: i64,
    /// Shared: a message's objects (its channel session, its sender) are the same
    /// text from one message to the next, copied from the memo into each message.
    pub body: Arc<str>,
}

/// Takes the shared objects out of `value` and packs it (see the module doc).
pub fn dehydrate(value: Value) -> Dehydrated {
    dehydrate_row(value, &RowContext::default())
}

/// [`dehydrate`] for a row whose columns hold what `row` says (see `packed`).
pub fn dehydrate_row(value: Value, row: &RowContext) -> Dehydrated {
    dehydrate_with(value, row, true)
}

/// `value` packed for a row whose columns hold what `row` says, with no object
/// taken out (only its shape is shared): for rows whose objects are not worth
/// sharing, such as the task log's facts.
pub fn pack_row(value: Value, row: &RowContext) -> Dehydrated {
    dehydrate_with(value, row, false)
}

/// [`dehydrate`] with `value` itself stored as a shared object as well, so the text
/// is only a reference to it: for a row holding the latest version of an object
/// that events carry too (a channel session, a participant), which is then stored
/// once for both.
pub fn dehydrate_whole(mut value: Value) -> Dehydrated {
    let mut objects = Vec::new();
    walk(&mut value, &mut objects, true);
    share(&mut value, &mut objects);
    packed_or_plain(value, &RowContext::default(), objects)
}

fn dehydrate_with(mut value: Value, row: &RowContext, share_objects: bool) -> Dehydrated {
    let mut objects = Vec::new();
    walk(&mut value, &mut objects, share_objects);
    share_ids(&mut value, row, &mut objects);
    packed_or_plain(value, row, objects)
}

/// [`dehydrate_row`] of the object `map` with its `"data"` entry read from `data`
/// where it is, not copied into `map` first: an event's payload is most of its text
/// (a message's sender and channel session), and is taken out by reference. With
/// `origin`, `data` is a message it stamped (`cim::origin`), whose header's values
/// are read from it, as the text of the event has them.
pub fn dehydrate_row_with_data(
    map: &Map<String, Value>,
    data: Option<&Value>,
    origin: Option<&Arc<MessageOrigin>>,
    row: &RowContext,
) -> Dehydrated {
    let mut objects = Vec::new();
    let stamped = match (data, origin) {
        (Some(data), Some(origin)) => Some(
            walk::walked_stamped_event(map, data, origin, &mut objects).unwrap_or_else(|| {
                let mut written = data.clone();
                origin.write_into(&mut written);
                walked_entries(with_data(map, Some(&written)), &mut objects, true)
            }),
        ),
        _ => None,
    };
    let mut value = match stamped {
        Some(value) => value,
        None => walked_entries(with_data(map, data), &mut objects, true),
    };
    share_ids(&mut value, row, &mut objects);
    packed_or_plain(value, row, objects)
}

/// The entries of `map`, its `"data"` read from `data` when given.
fn with_data<'a>(
    map: &'a Map<String, Value>,
    data: Option<&'a Value>,
) -> impl Iterator<Item = (&'a String, &'a Value)> {
    map.iter().map(move |(key, value)| match data {
        Some(data) if key == "data" => (key, data),
        _ => (key, value),
    })
}

/// Replaces each string in `value` that is an id ([`is_shared_id`]) by a reference
/// to a shared object whose body is that JSON string, unless `row`'s columns hold it
/// (a marker is shorter): a queue's, an agent's or a task's id recurs in many rows
/// and objects, and a reference is a few digits where the id is 38 characters. Keys
/// are never replaced (an id that is a key is a leaf of its own, see `packed`).
fn share_ids(value: &mut Value, row: &RowContext, objects: &mut Vec<SharedObject>) {
    match value {
        Value::String(s)
            if is_shared_id(s)
                && row.conversation_id != Some(s.as_str())
                && row.message_id != Some(s.as_str())
                && row.event_id != Some(s.as_str()) =>
        {
            // A (63-bit) collision within one value: this one stays inline.
            if let Some(key) = add_object(objects, Value::String(s.clone()).to_string()) {
                *value = reference(key);
            }
        }
        Value::Object(map) if is_reference_map(map) => {}
        Value::Object(map) => map
            .values_mut()
            .for_each(|child| share_ids(child, row, objects)),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|child| share_ids(child, row, objects)),
        _ => {}
    }
}

/// An id stored as a shared object ([`share_ids`]): a UUID in its canonical text
/// form, or 32 lowercase hex digits (a room's or customer's id).
pub fn is_shared_id(s: &str) -> bool {
    packed::is_uuid(s)
        || (s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// `{"$ref": n}`: a reference made by this module.
fn is_reference_map(map: &Map<String, Value>) -> bool {
    map.len() == 1 && map.get(REF).is_some_and(Value::is_number)
}

fn packed_or_plain(value: Value, row: &RowContext, mut objects: Vec<SharedObject>) -> Dehydrated {
    match pack(&value, row, &mut objects) {
        Some(text) => Dehydrated {
            text,
            objects,
            packed: true,
        },
        None => Dehydrated {
            text: value.to_string(),
            objects,
            packed: false,
        },
    }
}

/// `value` (walked) as a packed text, its shape added to `objects`; `None` when the
/// shape's content key is taken by another object of the same value.
fn pack(value: &Value, row: &RowContext, objects: &mut Vec<SharedObject>) -> Option<String> {
    let (shape, leaves) = packed::split(value, row);
    let key = add_object(objects, shape.to_string())?;
    let mut items = Vec::with_capacity(leaves.len() + 1);
    items.push(reference(key));
    items.extend(leaves);
    Some(Value::Array(items).to_string())
}

/// Replaces an object (already walked) by a reference to it. Within one value a
/// content key names one object: on a (63-bit) collision the second stays inline.
fn share(value: &mut Value, objects: &mut Vec<SharedObject>) {
    if !value.is_object() {
        return;
    }
    // Its own id left inline, taken out (`null` in its place, keeping key order)
    // while the others are shared, then put back.
    let own_id = own_id_inline(value)
        .then(|| value.get_mut("id").map(Value::take))
        .flatten();
    share_ids(value, &RowContext::default(), objects);
    if let (Some(id), Some(place)) = (own_id, value.get_mut("id")) {
        *place = id;
    }
    let plain = value.to_string();
    if plain.len() < MIN_SHARED_LEN {
        return;
    }
    let body = pack(value, &RowContext::default(), objects).unwrap_or(plain);
    if let Some(key) = add_object(objects, body) {
        *value = reference(key);
    }
}

/// The content key of `body`, added to `objects` unless it is there already; `None`
/// when that key names another body there (a 63-bit collision within one value).
fn add_object(objects: &mut Vec<SharedObject>, body: String) -> Option<i64> {
    let key = content_key(&body);
    match objects.iter().find(|o| o.key == key) {
        Some(known) if *known.body != *body => return None,
        Some(_) => {}
        None => objects.push(SharedObject {
            key,
            body: body.into(),
        }),
    }
    Some(key)
}

/// Whether an object's own `id` stays inline rather than be shared ([`share_ids`]): a
/// channel session's and a conversation participant's (`participant` and `role`)
/// id is named by its object alone, where a shared id costs an object and a
/// reference (~70 bytes) for the ~38 it saves.
fn own_id_inline(value: &Value) -> bool {
    let Some(map) = value.as_object() else {
        return false;
    };
    map.get("participantType").and_then(Value::as_str) == Some("ChannelSession")
        || (map.contains_key("participant") && map.contains_key("role"))
}

fn reference(id: i64) -> Value {
    let mut map = Map::with_capacity(1);
    map.insert(REF.to_owned(), Value::from(id));
    Value::Object(map)
}

/// A 63-bit hash of an object's text; equal keys are confirmed by comparing texts.
fn content_key(body: &str) -> i64 {
    let digest = Sha256::digest(body.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    (u64::from_le_bytes(bytes) >> 1) as i64
}

/// Stores shared objects for one write: objects met earlier in the same write, or
/// known to the writer thread from committed writes (`object_cache`), are not
/// looked up again (their text is compared, never only their hash).
/// It also keeps the integer keys of the conversations the write appended events
/// to (`conversation_keys`, migration V10).
#[derive(Default)]
pub struct Interner {
    seen: HashMap<i64, Vec<(String, i64)>>,
    /// The objects interned by this write as they were given (referring to their
    /// own objects by content key), by content key: the same object met again (a
    /// chat's channel session in each of its events) is not rewritten and looked up.
    interned: HashMap<i64, Vec<(Arc<str>, i64)>>,
    conversation_keys: HashMap<String, i64>,
}

impl Interner {
    /// The integer key of a conversation's events, made on its first event.
    pub fn conversation_key(&mut self, conn: &Connection, id: &str) -> StoreResult<i64> {
        if let Some(key) = self.conversation_keys.get(id) {
            return Ok(*key);
        }
        if let Some(key) = object_cache::conversation_key(id) {
            self.conversation_keys.insert(id.to_owned(), key);
            return Ok(key);
        }
        let found: Option<i64> = conn
            .prepare_cached("SELECT key FROM conversation_keys WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let key = match found {
            Some(key) => key,
            None => {
                conn.prepare_cached("INSERT INTO conversation_keys(id) VALUES (?1)")?
                    .execute([id])?;
                conn.last_insert_rowid()
            }
        };
        self.conversation_keys.insert(id.to_owned(), key);
        object_cache::note_conversation_key(id, key);
        Ok(key)
    }

    /// Stores the objects of `d` that are not stored yet and returns its text with
    /// row ids in place of content keys.
    pub fn intern(&mut self, conn: &Connection, d: &Dehydrated) -> StoreResult<String> {
        let mut ids: HashMap<i64, i64> = HashMap::with_capacity(d.objects.len());
        for object in &d.objects {
            let met = self.interned.get(&object.key).and_then(|met| {
                met.iter()
                    .find(|(body, _)| *body == object.body)
                    .map(|(_, id)| *id)
            });
            let id = match met {
                Some(id) => {
                    super::object_sweep::note([id]);
                    id
                }
                None => {
                    let body = substitute(&object.body, &ids, object.body.starts_with('['))?;
                    let id = self.id_of(conn, object.key, body)?;
                    let met = self.interned.entry(object.key).or_default();
                    met.push((Arc::clone(&object.body), id));
                    id
                }
            };
            ids.insert(object.key, id);
        }
        substitute(&d.text, &ids, d.packed)
    }

    /// The row id of an object whose body is `body` as it is (a text that is not
    /// JSON, never packed nor a delta), stored if it is not yet.
    pub fn intern_body(&mut self, conn: &Connection, body: &str) -> StoreResult<i64> {
        self.id_of(conn, content_key(body), body.to_owned())
    }

    /// The row id of the object with content key `key` and `body`: known to this
    /// write, to the writer (`object_cache`), found, or stored now.
    /// Every id handed out here is noted for a sweep that runs (`object_sweep`).
    fn id_of(&mut self, conn: &Connection, key: i64, body: String) -> StoreResult<i64> {
        if let Some(id) = self.known(key, &body) {
            super::object_sweep::note([id]);
            return Ok(id);
        }
        let id = match object_cache::object(key, &body) {
            Some(id) => id,
            None => {
                let id = store_object(conn, key, &body)?;
                object_cache::note_object(key, &body, id);
                id
            }
        };
        self.seen.entry(key).or_default().push((body, id));
        super::object_sweep::note([id]);
        Ok(id)
    }

    fn known(&self, key: i64, body: &str) -> Option<i64> {
        self.seen
            .get(&key)?
            .iter()
            .find(|(b, _)| b == body)
            .map(|(_, id)| *id)
    }

    /// `value` as a compact text (tagged) for a column read back with
    /// [`Inflater::decode`].
    pub fn compact(&mut self, conn: &Connection, value: Value) -> StoreResult<String> {
        self.tagged(conn, &dehydrate(value))
    }

    /// [`Interner::compact`] for a row whose columns hold what `row` says (its
    /// leaves equal to them stored as markers, see `packed`): read back with
    /// [`Inflater::decode_row`] and the same context.
    pub fn compact_row(
        &mut self,
        conn: &Connection,
        value: Value,
        row: &RowContext,
    ) -> StoreResult<String> {
        self.tagged(conn, &dehydrate_row(value, row))
    }

    /// [`Interner::compact`] with `value` itself a shared object (see
    /// [`dehydrate_whole`]): the text is a packed reference to it.
    pub fn compact_whole(&mut self, conn: &Connection, value: Value) -> StoreResult<String> {
        self.tagged(conn, &dehydrate_whole(value))
    }

    /// The stored text of a value dehydrated earlier ([`dehydrate`] or
    /// [`dehydrate_whole`], e.g. off the writer thread): what [`Interner::compact`]
    /// and [`Interner::compact_whole`] give for that value.
    pub fn tagged(&mut self, conn: &Connection, d: &Dehydrated) -> StoreResult<String> {
        let text = self.intern(conn, d)?;
        Ok(format!("{}{text}", if d.packed { PACKED_TAG } else { TAG }))
    }
}

/// The row id of the object with this hash and text, inserted if there is none: on
/// the writer thread, as a delta of an earlier version of it when one is known
/// (`delta`), else whole (and then the base of its later versions).
///
/// An object stored on the writer thread is stored with hash 0, which the hash index
/// leaves out (migration V22), and is not looked up there: the writer finds what it
/// stored in its cache (`object_cache`). Most objects are a conversation's own
/// versions of its session, task and participants, met again only while the writer
/// remembers them, and a delta is never found by its full text; indexing them cost
/// ~26 bytes an object (the hash in the row and the index entry, ~290 bytes a
/// conversation). What the writer forgets (a restart, a cache reset, an erasure's
/// update) is stored once more when next met: an agent's user object, a channel's
/// config, an open chat's latest session.
fn store_object(conn: &Connection, key: i64, body: &str) -> StoreResult<i64> {
    let unindexed = object_cache::enabled();
    let found: Option<i64> = match unindexed {
        true => None,
        false => conn
            .prepare_cached(
                "SELECT id FROM cim_objects WHERE hash = ?1 AND hash <> 0 AND body = ?2",
            )?
            .query_row(params![key, body], |r| r.get(0))
            .optional()?,
    };
    if let Some(id) = found {
        return Ok(id);
    }
    let version = (body.starts_with('[') && object_cache::enabled())
        .then(|| serde_json::from_str::<Vec<Value>>(body).ok())
        .flatten()
        .and_then(|items| Some((delta::base_key(&items)?, items)));
    let delta = version
        .as_ref()
        .and_then(|(base, items)| object_cache::delta(base, items, body));
    if let Some(text) = delta.as_ref().filter(|_| super::object_sweep::fence_up()) {
        // The base it is a delta of is in use again (see `object_sweep`).
        let base = serde_json::from_str::<Vec<Value>>(text)
            .ok()
            .and_then(|items| delta::base_of(&items));
        super::object_sweep::note(base);
    }
    conn.prepare_cached("INSERT INTO cim_objects(hash, body) VALUES (?1, ?2)")?
        .execute(params![
            if unindexed { 0 } else { key },
            delta.as_deref().unwrap_or(body)
        ])?;
    let id = conn.last_insert_rowid();
    if let (None, Some((base, items))) = (delta, version) {
        object_cache::note_base(base, id, items, body.len());
    }
    Ok(id)
}

/// `text` with each reference `{"$ref":<content key>}` replaced by `{"$ref":<row
/// id>}`, or by the bare row id when `bare` (a packed text, whose references are all
/// leaves at places its shape marks, see `packed`). Only a reference is that exact
/// sequence: inside JSON strings `"` is escaped, and an original single-key `$ref`
/// object was wrapped (see [`walk`]).
fn substitute(text: &str, ids: &HashMap<i64, i64>, bare: bool) -> StoreResult<String> {
    const OPEN: &str = "{\"$ref\":";
    // Built once: every stored event's text is searched for references.
    static FINDER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(OPEN));
    let mut out = String::with_capacity(text.len());
    let mut digits_of = itoa::Buffer::new();
    let mut rest = text;
    while let Some(at) = FINDER.find(rest.as_bytes()) {
        let after = &rest[at + OPEN.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || after.as_bytes().get(digits) != Some(&b'}') {
            out.push_str(&rest[..at + OPEN.len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..if bare { at } else { at + OPEN.len() }]);
        let key: i64 = after[..digits]
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("bad object reference in {text}")))?;
        let id = ids
            .get(&key)
            .ok_or_else(|| StoreError::Corrupt(format!("object {key} was not interned")))?;
        out.push_str(digits_of.format(*id));
        rest = &after[digits + usize::from(bare)..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests;
