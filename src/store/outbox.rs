//! The outbound webhook outbox: one row per (message, URL), retried with backoff
//! until delivered or dead-lettered. Rows are written in the same transaction as
//! the event they deliver, so a committed message is never left undelivered.

use super::{parse_json, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub id: i64,
    pub message_id: String,
    pub conversation_id: Option<String>,
    pub url: String,
    pub payload: Value,
    /// PENDING, DELIVERED or DEAD.
    pub state: String,
    pub attempts: u32,
    #[schema(value_type = i64)]
    pub next_attempt_at: Millis,
    pub last_error: Option<String>,
    #[schema(value_type = i64)]
    pub created_at: Millis,
    #[schema(value_type = Option<i64>)]
    pub delivered_at: Option<Millis>,
}

/// Forgets every delivery of a conversation, delivered, dead or pending (its
/// transcript is being removed: a delivery not made by now is not made).
pub fn delete_for_conversation(conn: &Connection, conversation_id: &str) -> StoreResult<u64> {
    let n = conn
        .prepare_cached("DELETE FROM outbox WHERE conversation_id = ?1")?
        .execute([conversation_id])?;
    Ok(n as u64)
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

/// Pending deliveries due at `now`, oldest first. Only the oldest pending row of each
/// (conversation, URL) line is due: a receiver gets a conversation's messages in the
/// order they were written, and a message waiting for its retry holds back the ones
/// written after it (a dead-lettered one no longer does).
pub fn due(conn: &Connection, now: Millis, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox o
         WHERE o.state = 'PENDING' AND o.next_attempt_at <= ?1
           AND NOT EXISTS (SELECT 1 FROM outbox p
                           WHERE p.state = 'PENDING' AND p.url = o.url
                             AND p.conversation_id IS o.conversation_id AND p.id < o.id)
         ORDER BY o.next_attempt_at, o.id LIMIT ?2"
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

/// The earliest retry time of a pending delivery strictly after `after`: what a worker
/// that has taken every delivery due at `after` sleeps until.
pub fn next_due_after(conn: &Connection, after: Millis) -> StoreResult<Option<Millis>> {
    Ok(conn
        .prepare_cached(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'PENDING' AND next_attempt_at > ?1",
        )?
        .query_row([after], |r| r.get::<_, Option<Millis>>(0))
        .optional()?
        .flatten())
}

/// One delivery by id.
pub fn get(conn: &Connection, id: i64) -> StoreResult<Option<OutboxEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1");
    let row = conn
        .prepare_cached(&sql)?
        .query_row([id], entry)
        .optional()?;
    Ok(collect(row.into_iter().collect())?.pop())
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

/// Deliveries in `state` (all when None), of one conversation when given, newest first.
pub fn list(
    conn: &Connection,
    state: Option<&str>,
    conversation_id: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<OutboxEntry>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox WHERE (?1 IS NULL OR state = ?1)
           AND (?2 IS NULL OR conversation_id = ?2)
         ORDER BY id DESC LIMIT ?3"
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![state, conversation_id, limit as i64], entry)?
        .collect::<Result<Vec<_>, _>>()?;
    collect(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::migrate::run(&mut conn).unwrap();
        conn
    }

    fn ids(rows: &[OutboxEntry]) -> Vec<i64> {
        rows.iter().map(|r| r.id).collect()
    }

    #[test]
    fn enqueue_is_idempotent_per_message_and_url() {
        let c = db();
        assert!(enqueue(&c, "m1", Some("c1"), "http://a", &json!({"n": 1}), 10).unwrap());
        assert!(!enqueue(&c, "m1", Some("c1"), "http://a", &json!({"n": 1}), 11).unwrap());
        assert!(enqueue(&c, "m1", Some("c1"), "http://b", &json!({"n": 1}), 11).unwrap());
        assert_eq!(list(&c, None, None, 10).unwrap().len(), 2);
    }

    #[test]
    fn only_the_head_of_each_conversation_line_is_due() {
        let c = db();
        enqueue(&c, "m1", Some("c1"), "http://a", &json!(1), 10).unwrap();
        enqueue(&c, "m2", Some("c1"), "http://a", &json!(2), 11).unwrap();
        enqueue(&c, "m3", Some("c2"), "http://a", &json!(3), 12).unwrap();
        enqueue(&c, "m4", Some("c1"), "http://b", &json!(4), 13).unwrap();
        assert_eq!(ids(&due(&c, 100, 10).unwrap()), vec![1, 3, 4]);
        assert!(
            due(&c, 9, 10).unwrap().is_empty(),
            "nothing is due before its time"
        );

        // A failed head waits for its retry and holds back the message after it.
        mark_failed(&c, 1, "HTTP 503", 500, false).unwrap();
        assert_eq!(ids(&due(&c, 100, 10).unwrap()), vec![3, 4]);
        assert_eq!(next_due_after(&c, 100).unwrap(), Some(500));
        assert_eq!(
            ids(&due(&c, 500, 10).unwrap()),
            vec![3, 4, 1],
            "oldest due first"
        );

        // Delivered or dead, the next one in line moves up.
        mark_delivered(&c, 1, 501).unwrap();
        assert_eq!(ids(&due(&c, 600, 10).unwrap()), vec![2, 3, 4]);
        mark_failed(&c, 2, "refused", 700, true).unwrap();
        assert_eq!(ids(&due(&c, 600, 10).unwrap()), vec![3, 4]);
        assert_eq!(
            next_due_after(&c, 600).unwrap(),
            None,
            "dead rows are not retried"
        );
    }

    #[test]
    fn attempts_and_errors_are_recorded_and_dead_rows_can_be_retried() {
        let c = db();
        enqueue(&c, "m1", Some("c1"), "http://a", &json!({"x": 1}), 10).unwrap();
        mark_failed(&c, 1, "connection refused", 20, false).unwrap();
        mark_failed(&c, 1, "HTTP 500", 30, true).unwrap();
        let dead = get(&c, 1).unwrap().unwrap();
        assert_eq!(dead.state, "DEAD");
        assert_eq!(dead.attempts, 2);
        assert_eq!(dead.last_error.as_deref(), Some("HTTP 500"));
        assert_eq!(dead.payload, json!({"x": 1}));
        assert_eq!(ids(&list(&c, Some("DEAD"), None, 10).unwrap()), vec![1]);
        assert!(list(&c, Some("PENDING"), None, 10).unwrap().is_empty());

        assert!(retry(&c, 1, 40).unwrap());
        assert!(!retry(&c, 1, 41).unwrap(), "only dead rows are retried");
        let again = get(&c, 1).unwrap().unwrap();
        assert_eq!((again.state.as_str(), again.attempts), ("PENDING", 0));
        assert_eq!(ids(&due(&c, 40, 10).unwrap()), vec![1]);
        mark_delivered(&c, 1, 50).unwrap();
        let done = get(&c, 1).unwrap().unwrap();
        assert_eq!(
            (done.state.as_str(), done.delivered_at),
            ("DELIVERED", Some(50))
        );
        assert!(get(&c, 2).unwrap().is_none());
        assert!(list(&c, None, Some("other"), 10).unwrap().is_empty());
    }
}
