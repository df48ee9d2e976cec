//! CIM events of conversations, numbered per conversation. A message's id is its
//! idempotency key (`message_id` is unique).

use super::{parse_json, StoreResult};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

/// One CIM event row: the event's JSON text and the columns indexed beside it.
pub struct EventRow<'a> {
    pub id: &'a str,
    pub conversation_id: &'a str,
    pub seq: u64,
    pub name: &'a str,
    pub kind: &'a str,
    pub timestamp: i64,
    pub message_id: Option<&'a str>,
    pub event: &'a str,
    /// The conversation manager's runtime after the step this event ends, when the
    /// step wrote no `conversation_runtime` row (see migration V2).
    pub runtime: Option<&'a str>,
}

/// Appends one event; a duplicate event id, message id or (conversation, seq) fails.
pub fn append(conn: &Connection, row: &EventRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO cim_events(id, conversation_id, seq, name, type, timestamp, message_id, event, runtime)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        row.id,
        row.conversation_id,
        row.seq as i64,
        row.name,
        row.kind,
        row.timestamp,
        row.message_id,
        row.event,
        row.runtime
    ])?;
    Ok(())
}

/// Events of a conversation with a sequence number above `after`, in order, each
/// with its `seq` added.
pub fn since(conn: &Connection, conversation_id: &str, after: u64) -> StoreResult<Vec<Value>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, event FROM cim_events WHERE conversation_id = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let rows: Vec<(i64, String)> = st
        .query_map(params![conversation_id, after as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    rows.into_iter()
        .map(|(seq, text)| {
            let mut event = parse_json(&text, "cim_events.event")?;
            if let Some(obj) = event.as_object_mut() {
                obj.insert("seq".into(), Value::from(seq));
            }
            Ok(event)
        })
        .collect()
}

/// Where a message id was stored, if it was: conversation id, seq, and the
/// conversation's customer id.
pub fn find_message(
    conn: &Connection,
    message_id: &str,
) -> StoreResult<Option<(String, u64, String)>> {
    // Two point lookups rather than one LEFT JOIN: SQLite re-prepares the joined
    // statement on every new binding, which made this check cost more than the insert.
    let found: Option<(String, i64)> = conn
        .prepare_cached("SELECT conversation_id, seq FROM cim_events WHERE message_id = ?1")?
        .query_row([message_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((conversation_id, seq)) = found else {
        return Ok(None);
    };
    let customer_id: Option<String> = conn
        .prepare_cached("SELECT customer_id FROM conversations WHERE id = ?1")?
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
/// matter to the figures only while a conversation has one).
pub fn live_messages(conn: &Connection) -> StoreResult<Vec<String>> {
    let mut st = conn.prepare(
        "SELECT e.event FROM cim_events e
         WHERE e.conversation_id IN (SELECT conversation_id FROM tasks WHERE state <> 'CLOSED')
           AND e.name IN ('CUSTOMER_MESSAGE', 'AGENT_MESSAGE')
         ORDER BY e.pos",
    )?;
    let rows = st
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
