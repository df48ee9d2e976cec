//! The outbound webhook outbox: one row per (message, URL), retried with backoff
//! until delivered or dead-lettered. Rows are written in the same transaction as
//! the event they deliver, so a committed message is never left undelivered.

use super::{parse_json, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub id: i64,
    pub message_id: String,
    pub conversation_id: Option<String>,
    pub url: String,
    pub payload: Value,
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Millis,
    pub last_error: Option<String>,
    pub created_at: Millis,
    pub delivered_at: Option<Millis>,
}

/// Queues `payload` for `url`; a second enqueue of the same message and URL is ignored.
/// Returns whether a new row was written.
pub fn enqueue(
    conn: &Connection,
    message_id: &str,
    conversation_id: Option<&str>,
    url: &str,
    payload: &Value,
    now: Millis,
) -> StoreResult<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO outbox(message_id, conversation_id, url, payload, state, attempts,
                                          next_attempt_at, created_at)
             VALUES (?1, ?2, ?3, ?4, 'PENDING', 0, ?5, ?5)",
        )?
        .execute(params![message_id, conversation_id, url, payload.to_string(), now])?;
    Ok(n > 0)
}

const COLUMNS: &str = "id, message_id, conversation_id, url, payload, state, attempts, next_attempt_at, last_error, created_at, delivered_at";

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<(OutboxEntry, String)> {
    Ok((
        OutboxEntry {
            id: r.get(0)?,
            message_id: r.get(1)?,
            conversation_id: r.get(2)?,
            url: r.get(3)?,
            payload: Value::Null,
            state: r.get(5)?,
            attempts: r.get(6)?,
            next_attempt_at: r.get(7)?,
            last_error: r.get(8)?,
            created_at: r.get(9)?,
            delivered_at: r.get(10)?,
        },
        r.get(4)?,
    ))
}

fn collect(rows: Vec<(OutboxEntry, String)>) -> StoreResult<Vec<OutboxEntry>> {
    rows.into_iter()
        .map(|(mut e, payload)| {
            e.payload = parse_json(&payload, "outbox.payload")?;
            Ok(e)
        })
        .collect()
}

/// Pending deliveries due at `now`, oldest first.
pub fn due(conn: &Connection, now: Millis, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE state = 'PENDING' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, id LIMIT ?2"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![now, limit as i64], entry)?
        .collect::<Result<Vec<_>, _>>()?;
    collect(rows)
}

/// When the next pending delivery falls due, if any.
pub fn next_due(conn: &Connection) -> StoreResult<Option<Millis>> {
    Ok(conn
        .prepare_cached("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'PENDING'")?
        .query_row([], |r| r.get::<_, Option<Millis>>(0))
        .optional()?
        .flatten())
}

pub fn mark_delivered(conn: &Connection, id: i64, now: Millis) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE outbox SET state = 'DELIVERED', attempts = attempts + 1, delivered_at = ?2,
                           last_error = NULL WHERE id = ?1",
    )?
    .execute(params![id, now])?;
    Ok(())
}

/// Records a failed attempt: retried at `next_attempt_at`, or dead when `dead`.
pub fn mark_failed(
    conn: &Connection,
    id: i64,
    error: &str,
    next_attempt_at: Millis,
    dead: bool,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3,
                           state = CASE WHEN ?4 THEN 'DEAD' ELSE 'PENDING' END
         WHERE id = ?1",
    )?
    .execute(params![id, error, next_attempt_at, dead])?;
    Ok(())
}

/// Puts a dead-lettered delivery back in line for another round of attempts.
pub fn retry(conn: &Connection, id: i64, now: Millis) -> StoreResult<bool> {
    let n = conn.execute(
        "UPDATE outbox SET state = 'PENDING', attempts = 0, next_attempt_at = ?2
         WHERE id = ?1 AND state = 'DEAD'",
        params![id, now],
    )?;
    Ok(n > 0)
}

/// Deliveries in `state` (all when None), newest first.
pub fn list(conn: &Connection, state: Option<&str>, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC LIMIT ?2"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![state, limit as i64], entry)?
        .collect::<Result<Vec<_>, _>>()?;
    collect(rows)
}
