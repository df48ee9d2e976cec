//! CIM events of conversations, numbered per conversation. A message's id is its
//! idempotency key (`message_id` is unique).

use super::{parse_json, StoreResult};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

/// Appends one event with its sequence number; `message_id` for messages.
pub fn append(
    conn: &Connection,
    conversation_id: &str,
    seq: u64,
    event: &Value,
    message_id: Option<&str>,
) -> StoreResult<()> {
    let id = event.get("id").and_then(Value::as_str).unwrap_or_default();
    let name = event
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let timestamp = event.get("timestamp").and_then(Value::as_i64).unwrap_or(0);
    conn.prepare_cached(
        "INSERT INTO cim_events(id, conversation_id, seq, name, type, timestamp, message_id, event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        id,
        conversation_id,
        seq as i64,
        name,
        kind,
        timestamp,
        message_id,
        event.to_string()
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
    Ok(conn
        .prepare_cached(
            "SELECT e.conversation_id, e.seq, COALESCE(c.customer_id, '') FROM cim_events e
             LEFT JOIN conversations c ON c.id = e.conversation_id WHERE e.message_id = ?1",
        )?
        .query_row([message_id], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get(2)?))
        })
        .optional()?)
}
