//! Routing tasks and their media, written by the routing driver after every
//! change and read back on start; plus the routing engine's agent and pull-request
//! records.

use super::objects::Inflater;
use super::{StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One task as the routing driver persists it.
pub struct TaskRow<'a> {
    pub id: &'a str,
    pub conversation_id: &'a str,
    pub state: &'a str,
    pub agent_id: Option<&'a str>,
    pub disposition: Option<&'a str>,
    pub closed: bool,
    pub snapshot: String,
    pub media_id: &'a str,
    pub mrd_id: &'a str,
    pub queue_id: &'a str,
    pub media_state: &'a str,
    pub priority: u8,
    pub direction: &'a str,
    pub mode: &'a str,
    pub enqueue_time: Millis,
    pub answer_time: Option<Millis>,
}

pub fn upsert(conn: &Connection, t: &TaskRow<'_>, now: Millis) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO tasks(id, conversation_id, state, agent_id, disposition, created_at, closed_at, snapshot, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, CASE WHEN ?7 THEN ?6 END, ?8, ?6)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, agent_id = excluded.agent_id,
             disposition = excluded.disposition,
             closed_at = CASE WHEN ?7 THEN COALESCE(tasks.closed_at, ?6) END,
             snapshot = excluded.snapshot, updated_at = ?6",
    )?
    .execute(params![
        t.id,
        t.conversation_id,
        t.state,
        t.agent_id,
        t.disposition,
        now,
        t.closed,
        t.snapshot
    ])?;
    conn.prepare_cached(
        "INSERT INTO task_media(id, task_id, mrd_id, queue_id, state, priority, direction, mode, agent_id,
                                enqueue_time, answer_time, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(id) DO UPDATE SET queue_id = excluded.queue_id, state = excluded.state,
             priority = excluded.priority, agent_id = excluded.agent_id,
             answer_time = excluded.answer_time, updated_at = excluded.updated_at",
    )?
    .execute(params![
        t.media_id,
        t.id,
        t.mrd_id,
        t.queue_id,
        t.media_state,
        t.priority,
        t.direction,
        t.mode,
        t.agent_id,
        t.enqueue_time,
        t.answer_time,
        now
    ])?;
    Ok(())
}

/// Appends one row to the task log: what one task change means for the live
/// figures (`crate::live::facts::LiveEvent` as JSON), at the routing driver's `at`.
pub fn append_log(
    conn: &Connection,
    task_id: &str,
    conversation_id: &str,
    at: Millis,
    fact: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO task_log(task_id, conversation_id, at, fact) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![task_id, conversation_id, at, fact])?;
    Ok(())
}

/// The task-log rows the live figures are rebuilt from, in commit order: the whole
/// history of every task with a row at or after `since` or still open.
pub fn log_since(conn: &Connection, since: Millis) -> StoreResult<Vec<String>> {
    let mut st = conn.prepare(
        "SELECT fact FROM task_log
         WHERE task_id IN (SELECT task_id FROM task_log WHERE at >= ?1
                           UNION SELECT id FROM tasks WHERE state <> 'CLOSED')
         ORDER BY pos",
    )?;
    let rows = st
        .query_map([since], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Snapshots of every task not yet closed.
/// Snapshots of every task not closed, decoded as `T` row by row.
pub fn open_snapshots<T: DeserializeOwned>(conn: &Connection) -> StoreResult<Vec<T>> {
    decode_rows(
        conn,
        "SELECT snapshot FROM tasks WHERE state <> 'CLOSED'",
        "tasks.snapshot",
    )
}

/// Runs `sql` (one JSON text column) and decodes each row as `T` as it is read.
fn decode_rows<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    what: &str,
) -> StoreResult<Vec<T>> {
    let mut st = conn.prepare_cached(sql)?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    let mut inflater = Inflater::new(conn);
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("{what}: {e}"));
    while let Some(row) = rows.next()? {
        let text = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        out.push(if text.starts_with('{') {
            serde_json::from_str(text).map_err(corrupt)?
        } else {
            serde_json::from_value(inflater.decode(text, what)?).map_err(corrupt)?
        });
    }
    Ok(out)
}

/// Snapshots of the tasks of one conversation, oldest first.
pub fn of_conversation(conn: &Connection, conversation_id: &str) -> StoreResult<Vec<Value>> {
    let mut st = conn.prepare_cached(
        "SELECT snapshot FROM tasks WHERE conversation_id = ?1 ORDER BY created_at, id",
    )?;
    let texts: Vec<String> = st
        .query_map([conversation_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut inflater = Inflater::new(conn);
    texts
        .iter()
        .map(|t| inflater.decode(t, "tasks.snapshot"))
        .collect()
}

pub fn save_agent_view(
    conn: &Connection,
    user_id: &str,
    view: &str,
    now: Millis,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO agent_views(user_id, view, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(user_id) DO UPDATE SET view = excluded.view, updated_at = excluded.updated_at",
    )?
    .execute(params![user_id, view, now])?;
    Ok(())
}

/// Every saved agent view, decoded as `T` row by row (a site's thousands of agents never
/// sit in memory as generic JSON at once).
pub fn agent_views<T: DeserializeOwned>(conn: &Connection) -> StoreResult<Vec<T>> {
    decode_rows(conn, "SELECT view FROM agent_views", "agent_views.view")
}

pub fn save_pull_request(
    conn: &Connection,
    id: &str,
    list_id: &str,
    state: &str,
    snapshot: &str,
    now: Millis,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO pull_requests(id, list_id, state, snapshot, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, snapshot = excluded.snapshot,
             updated_at = excluded.updated_at",
    )?
    .execute(params![id, list_id, state, snapshot, now])?;
    Ok(())
}

pub fn delete_pull_request(conn: &Connection, id: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM pull_requests WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Snapshots of every pull request not closed, decoded as `T` row by row.
pub fn open_pull_requests<T: DeserializeOwned>(conn: &Connection) -> StoreResult<Vec<T>> {
    decode_rows(
        conn,
        "SELECT snapshot FROM pull_requests WHERE state <> 'CLOSED'",
        "pull_requests.snapshot",
    )
}
