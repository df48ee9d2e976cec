//! The conversation manager's runtime as an event row carries it (`cim_event_rows.
//! runtime`, migration V2): a whole runtime or a merge patch of the one stored before
//! it (see `store::conversation_runtimes`), stored packed like the event (`packed`,
//! times relative to the event's timestamp).
//!
//! Tags: `*` a packed whole runtime, `&` a packed patch, `^` and a `cim_objects` id: a
//! packed patch stored once as that object's body (`&[...]`, its times relative to the
//! event's), for a message event's patch, since a conversation's messages mostly
//! carry the same one (a customer message moves the inactivity deadline to the same
//! distance from its own time); other events' patches are mostly one of a kind.
//! Rows written before hold a whole runtime as plain JSON (`{`) or a patch as `+` and
//! plain JSON; both still read.

use super::objects::{self, Dehydrated, Inflater, Interner};
use super::packed::RowContext;
use super::{parse_json, StoreError, StoreResult};
use crate::store::conversations::RUNTIME_PATCH;
use rusqlite::Connection;
use serde_json::Value;

const PACKED_WHOLE: char = '*';
const PACKED_PATCH: char = '&';
const SHARED_PATCH: char = '^';

/// The SQL condition on `runtime` of a row that carries a whole runtime.
pub const IS_WHOLE: &str = "substr(runtime, 1, 1) NOT IN ('+', '&', '^')";

/// A runtime an event carries, before its shared objects have row ids.
#[derive(Debug, Clone, PartialEq)]
pub enum EncodedRuntime {
    Packed {
        tag: char,
        body: Dehydrated,
    },
    /// A text that is not JSON is kept as it is (never written by the driver).
    Plain(String),
}

/// A runtime as read back.
#[derive(Debug, Clone, PartialEq)]
pub enum CarriedRuntime {
    Whole(Value),
    Patch(Value),
}

/// The stored form of `text` (a whole runtime, or [`RUNTIME_PATCH`] and a patch) for
/// an event with `timestamp`. Runs off the writer thread.
pub fn encode(text: &str, timestamp: i64) -> EncodedRuntime {
    let (tag, json) = match text.strip_prefix(RUNTIME_PATCH) {
        Some(patch) => (PACKED_PATCH, patch),
        None => (PACKED_WHOLE, text),
    };
    let Ok(value) = serde_json::from_str::<Value>(json) else {
        return EncodedRuntime::Plain(text.to_owned());
    };
    let row = RowContext {
        base_ms: Some(timestamp),
        ..RowContext::default()
    };
    let body = objects::dehydrate_row(value, &row);
    if body.packed {
        EncodedRuntime::Packed { tag, body }
    } else {
        EncodedRuntime::Plain(text.to_owned())
    }
}

impl EncodedRuntime {
    /// The column text, with the shapes it refers to stored (and a patch itself
    /// shared when `share`, see the module doc).
    pub fn store(
        &self,
        conn: &Connection,
        interner: &mut Interner,
        share: bool,
    ) -> StoreResult<String> {
        match self {
            EncodedRuntime::Packed { tag, body } => {
                let text = format!("{tag}{}", interner.intern(conn, body)?);
                if *tag != PACKED_PATCH || !share {
                    return Ok(text);
                }
                Ok(format!(
                    "{SHARED_PATCH}{}",
                    interner.intern_body(conn, &text)?
                ))
            }
            EncodedRuntime::Plain(text) => Ok(text.clone()),
        }
    }
}

/// A stored runtime column of an event with `timestamp`, read back.
pub fn decode(
    inflater: &mut Inflater<'_>,
    text: &str,
    timestamp: i64,
) -> StoreResult<CarriedRuntime> {
    const WHAT: &str = "cim_events.runtime";
    let row = RowContext {
        base_ms: Some(timestamp),
        ..RowContext::default()
    };
    let mut chars = text.chars();
    Ok(match chars.next() {
        Some(PACKED_WHOLE) => {
            CarriedRuntime::Whole(inflater.read_packed(chars.as_str(), &row, WHAT)?)
        }
        Some(PACKED_PATCH) => {
            CarriedRuntime::Patch(inflater.read_packed(chars.as_str(), &row, WHAT)?)
        }
        Some(SHARED_PATCH) => {
            let id = chars
                .as_str()
                .parse::<i64>()
                .map_err(|_| StoreError::Corrupt(format!("{WHAT}: bad shared patch {text}")))?;
            let body = inflater.body(id)?;
            if !body.starts_with(PACKED_PATCH) {
                return Err(StoreError::Corrupt(format!(
                    "{WHAT}: shared object {id} is not a runtime patch"
                )));
            }
            decode(inflater, &body, timestamp)?
        }
        Some(RUNTIME_PATCH) => CarriedRuntime::Patch(parse_json(chars.as_str(), WHAT)?),
        _ => CarriedRuntime::Whole(parse_json(text, WHAT)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_runtimes_and_patches_read_back_in_either_form() {
        let conn = crate::store::test_connection();
        let at = 1_796_467_796_946i64;
        let whole = json!({"timers": {"customerActivity": {"s-1": at + 600_000}, "agentSla": null},
                           "queueId": "q1", "awaitingAgentReply": true});
        let patch = json!({"timers": {"agentSla": null}, "awaitingAgentReply": false});
        let mut interner = Interner::default();
        let mut inflater = Inflater::new(&conn);
        let whole_text = encode(&whole.to_string(), at)
            .store(&conn, &mut interner, true)
            .unwrap();
        let patch_text = encode(&format!("{RUNTIME_PATCH}{patch}"), at)
            .store(&conn, &mut interner, true)
            .unwrap();
        assert!(whole_text.starts_with(PACKED_WHOLE) && !whole_text.contains("customerActivity"));
        assert!(patch_text.starts_with(SHARED_PATCH), "{patch_text}");
        // The same patch at another time is the same object.
        let later = encode(&format!("{RUNTIME_PATCH}{patch}"), at + 5_000)
            .store(&conn, &mut Interner::default(), true)
            .unwrap();
        assert_eq!(later, patch_text);
        // A shared patch whose object is not a patch is corrupt.
        assert!(decode(&mut inflater, "^1", at).is_err());
        assert!(decode(&mut inflater, "^x", at).is_err());
        // The time is stored relative to the event's.
        assert!(whole_text.contains("[2,600000]"), "{whole_text}");
        assert_eq!(
            decode(&mut inflater, &whole_text, at).unwrap(),
            CarriedRuntime::Whole(whole.clone())
        );
        assert_eq!(
            decode(&mut inflater, &patch_text, at).unwrap(),
            CarriedRuntime::Patch(patch.clone())
        );
        // A patch not shared is kept in the row.
        let inline = encode(&format!("{RUNTIME_PATCH}{patch}"), at)
            .store(&conn, &mut interner, false)
            .unwrap();
        assert!(inline.starts_with(PACKED_PATCH), "{inline}");
        assert_eq!(
            decode(&mut inflater, &inline, at).unwrap(),
            CarriedRuntime::Patch(patch.clone())
        );
        // Rows written before patches were shared, and before packing.
        let object: i64 = patch_text[1..].parse().unwrap();
        let inline: String = conn
            .query_row(
                "SELECT body FROM cim_objects WHERE id = ?1",
                [object],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            decode(&mut inflater, &inline, at).unwrap(),
            CarriedRuntime::Patch(patch.clone())
        );
        assert_eq!(
            decode(&mut inflater, &whole.to_string(), at).unwrap(),
            CarriedRuntime::Whole(whole)
        );
        assert_eq!(
            decode(&mut inflater, &format!("{RUNTIME_PATCH}{patch}"), at).unwrap(),
            CarriedRuntime::Patch(patch)
        );
        // Only whole runtimes pass the SQL filter.
        let whole_rows: i64 = conn
            .query_row(
                &format!(
                    "SELECT COUNT(*) FROM (SELECT ?1 AS runtime UNION ALL SELECT ?2
                     UNION ALL SELECT '+{{}}' UNION ALL SELECT '&[1]' UNION ALL SELECT '{{}}')
                     WHERE {IS_WHOLE}"
                ),
                [&whole_text, &patch_text],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(whole_rows, 2);
    }
}
