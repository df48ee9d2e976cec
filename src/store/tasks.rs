//! Routing tasks and their media, written by the engine driver after every
//! change and read back on start; plus the routing engine's agent and pull-request
//! records.

use super::event_keys;
use super::objects::{self, Inflater, Interner};
use super::packed::RowContext;
use super::task_facts;
use super::{StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params, Connection};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One task as the engine driver persists it.
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
                                enqueue_time, answer_time, first_answer_time, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)
         ON CONFLICT(task_id, id) DO UPDATE SET queue_id = excluded.queue_id, state = excluded.state,
             priority = excluded.priority, agent_id = excluded.agent_id,
             answer_time = excluded.answer_time,
             first_answer_time = COALESCE(task_media.first_answer_time, excluded.answer_time),
             updated_at = excluded.updated_at",
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
/// figures (`crate::live::facts::LiveEvent` as JSON), at the engine driver's `at`.
/// The fact is stored as its byte code (`task_facts`, a BLOB: the row's ids and
/// times near `at` as a byte each), or, when it would not read back the same that
/// way, packed (`packed`: its shape shared, its leaves kept, the row's conversation
/// id, task id and times near `at` as markers); rows written before hold packed or
/// plain JSON and read as they are ([`log_since`], [`log_page`]). The row keeps the
/// task id as `event_keys::id` stores ids and the conversation by its key
/// (migration V18).
pub fn append_log(
    conn: &Connection,
    task_id: &str,
    conversation_id: &str,
    at: Millis,
    fact: &str,
) -> StoreResult<()> {
    let mut interner = Interner::default();
    let column = fact_column(conn, &mut interner, task_id, conversation_id, at, fact)?;
    let conv = interner.conversation_key(conn, conversation_id)?;
    conn.prepare_cached("INSERT INTO task_log(task, conv, at, fact) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![event_keys::id(task_id), conv, at, column])?;
    Ok(())
}

/// What `task_log.fact` holds for `fact` in a row of `task_id`, `conversation_id`
/// and `at` (see [`append_log`]).
fn fact_column(
    conn: &Connection,
    interner: &mut Interner,
    task_id: &str,
    conversation_id: &str,
    at: Millis,
    fact: &str,
) -> StoreResult<SqlValue> {
    let row = task_facts::LogRow {
        task_id,
        conversation_id,
        at,
    };
    let mut id_objects = |id: &str| interner.intern_body(conn, &Value::from(id).to_string());
    if let Some(code) = task_facts::encode(fact, &row, &mut id_objects)? {
        return Ok(SqlValue::Blob(code));
    }
    let value = super::parse_json(fact, "task_log.fact")?;
    let packed = objects::pack_row(value, &log_row(task_id, conversation_id, at));
    Ok(SqlValue::Text(format!(
        "{}{}",
        objects::PACKED_TAG,
        interner.intern(conn, &packed)?
    )))
}

/// The coded facts (BLOBs, see [`append_log`]) of conversation `conversation_id`'s
/// task log as (pos, the fact's JSON text): what an erasure scrubs, which
/// [`replace_fact`] stores again.
pub fn coded_facts_of(conn: &Connection, conversation_id: &str) -> StoreResult<Vec<(i64, String)>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {LOG_COLUMNS} WHERE k.id = ?1 AND typeof(l.fact) = 'blob' ORDER BY l.pos"
    ))?;
    let rows = st.query([conversation_id])?;
    read_log(conn, rows)
}

/// Stores `fact` (JSON) as task-log row `pos`'s fact, as [`append_log`] would.
pub fn replace_fact(conn: &Connection, pos: i64, fact: &str) -> StoreResult<()> {
    let (task, conversation_id, at) = conn
        .prepare_cached("SELECT l.task, k.id, l.at FROM task_log l JOIN conversation_keys k ON k.key = l.conv WHERE l.pos = ?1")?
        .query_row([pos], |r| {
            Ok((
                event_keys::read_id(r.get_ref(0)?),
                r.get::<_, String>(1)?,
                r.get::<_, Millis>(2)?,
            ))
        })?;
    let column = fact_column(
        conn,
        &mut Interner::default(),
        &task?,
        &conversation_id,
        at,
        fact,
    )?;
    conn.prepare_cached("UPDATE task_log SET fact = ?2 WHERE pos = ?1")?
        .execute(params![pos, column])?;
    Ok(())
}

/// What a task-log row's columns hold for its packed fact (see [`append_log`]).
fn log_row<'a>(task_id: &'a str, conversation_id: &'a str, at: Millis) -> RowContext<'a> {
    RowContext {
        conversation_id: Some(conversation_id),
        message_id: Some(task_id),
        base_ms: Some(at),
        event_id: None,
    }
}

/// The columns a task-log fact is read from, in this order, and the tables they are
/// read from (`l` the log).
const LOG_COLUMNS: &str = "l.pos, l.fact, l.task, k.id, l.at
     FROM task_log l JOIN conversation_keys k ON k.key = l.conv";

/// Reads rows of [`LOG_COLUMNS`] as (pos, the fact's JSON text).
fn read_log(conn: &Connection, mut rows: rusqlite::Rows<'_>) -> StoreResult<Vec<(i64, String)>> {
    let mut inflater = Inflater::new(conn);
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let pos: i64 = r.get(0)?;
        let row_ids = || -> StoreResult<(String, String, Millis)> {
            Ok((event_keys::read_id(r.get_ref(2)?)?, r.get(3)?, r.get(4)?))
        };
        let fact = match r.get_ref(1)? {
            ValueRef::Blob(code) => {
                let (task_id, conversation_id, at) = row_ids()?;
                let row = task_facts::LogRow {
                    task_id: &task_id,
                    conversation_id: &conversation_id,
                    at,
                };
                task_facts::decode(code, &row, &mut |id| {
                    let body = inflater.body(id)?;
                    serde_json::from_str(&body).map_err(|e| {
                        StoreError::Corrupt(format!("task_log.fact: id object {id}: {e}"))
                    })
                })?
            }
            other => {
                let text = other.as_str().map_err(rusqlite::Error::from)?;
                match text.strip_prefix(objects::PACKED_TAG) {
                    Some(packed) => {
                        let (task_id, conversation_id, at) = row_ids()?;
                        let row = log_row(&task_id, &conversation_id, at);
                        inflater
                            .read_packed(packed, &row, "task_log.fact")?
                            .to_string()
                    }
                    None => text.to_owned(),
                }
            }
        };
        out.push((pos, fact));
    }
    Ok(out)
}

/// The task-log rows the live figures are rebuilt from, in commit order: the whole
/// history of every task with a row at or after `since` or still open. A task's rows
/// all name its conversation, so they are found through the conversations' index
/// (migration V29) and then picked by task; the conversations are those of the rows
/// since `since` (by their time's index: a merge of sorted lists would scan the whole
/// log in conversation order) and of the open tasks.
pub fn log_since(conn: &Connection, since: Millis) -> StoreResult<Vec<String>> {
    let mut st = conn.prepare(&since_sql())?;
    let rows = st.query([since])?;
    Ok(read_log(conn, rows)?.into_iter().map(|(_, f)| f).collect())
}

/// The query of [`log_since`].
fn since_sql() -> String {
    format!(
        "SELECT {LOG_COLUMNS}
         WHERE l.conv IN (SELECT conv FROM task_log INDEXED BY task_log_at WHERE at >= ?1
                          UNION ALL SELECT ck.key FROM tasks t
                                JOIN conversation_keys ck ON ck.id = t.conversation_id
                                WHERE t.state <> 'CLOSED')
           AND l.task IN (SELECT task FROM task_log WHERE at >= ?1
                          UNION SELECT {} FROM tasks WHERE state <> 'CLOSED')
         ORDER BY l.pos",
        event_keys::id_sql("id")
    )
}

/// The task-log rows of every task with a row at `from <= at < to`, whole histories
/// in commit order, as (pos, the fact's JSON text): what a simulation of the period
/// reads (found by conversation, then by task, as in [`log_since`]).
pub fn log_between(conn: &Connection, from: Millis, to: Millis) -> StoreResult<Vec<(i64, String)>> {
    let mut st = conn.prepare(&format!(
        "SELECT {LOG_COLUMNS}
         WHERE l.conv IN (SELECT conv FROM task_log INDEXED BY task_log_at
                          WHERE at >= ?1 AND at < ?2)
           AND l.task IN (SELECT task FROM task_log WHERE at >= ?1 AND at < ?2)
         ORDER BY l.pos"
    ))?;
    let rows = st.query(params![from, to])?;
    read_log(conn, rows)
}

/// Up to `limit` task-log rows after position `after`, in order, as (pos, the fact's
/// JSON text): what a replay of the whole log reads page by page.
pub fn log_page(conn: &Connection, after: i64, limit: i64) -> StoreResult<Vec<(i64, String)>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {LOG_COLUMNS} WHERE l.pos > ?1 ORDER BY l.pos LIMIT ?2"
    ))?;
    let rows = st.query(params![after, limit])?;
    read_log(conn, rows)
}

/// Snapshots of every task not closed, decoded as `T` row by row.
pub fn open_snapshots<T: DeserializeOwned>(conn: &Connection) -> StoreResult<Vec<T>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM tasks WHERE state <> 'CLOSED'"
    ))?;
    let mut rows = st.query([])?;
    let mut out = Vec::new();
    let mut inflater = Inflater::new(conn);
    while let Some(row) = rows.next()? {
        let value = read_snapshot(&mut inflater, row)?;
        out.push(
            serde_json::from_value(value)
                .map_err(|e| StoreError::Corrupt(format!("tasks.snapshot: {e}")))?,
        );
    }
    Ok(out)
}

/// A task's snapshot as the routing engine's task JSON, packed for its row (see
/// [`snapshot_row`]); `now` is the row's `updated_at` ([`upsert`] sets it to its
/// `now`, which must be this one).
pub fn compact_snapshot(
    conn: &Connection,
    interner: &mut Interner,
    snapshot: Value,
    id: &str,
    conversation_id: &str,
    now: Millis,
) -> StoreResult<String> {
    interner.compact_row(conn, snapshot, &snapshot_row(id, conversation_id, now))
}

/// What a task row's columns hold for its packed snapshot: its conversation id, its
/// own id (in the message-id marker's place) and times near its `updated_at`.
pub fn snapshot_row<'a>(
    id: &'a str,
    conversation_id: &'a str,
    updated_at: Millis,
) -> RowContext<'a> {
    RowContext {
        conversation_id: Some(conversation_id),
        message_id: Some(id),
        base_ms: Some(updated_at),
        event_id: None,
    }
}

/// The columns [`read_snapshot`] reads, in this order.
pub const SNAPSHOT_COLUMNS: &str = "snapshot, id, conversation_id, updated_at";

/// The snapshot of a row selected with [`SNAPSHOT_COLUMNS`] first.
pub fn read_snapshot(inflater: &mut Inflater<'_>, row: &rusqlite::Row<'_>) -> StoreResult<Value> {
    let text = row.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
    let id = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
    let conversation_id = row.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?;
    let context = snapshot_row(id, conversation_id, row.get(3)?);
    inflater.decode_row(text, &context, "tasks.snapshot")
}

/// Runs `sql` (a JSON text column, then the row's own id and its `updated_at`) and
/// decodes each row as `T` as it is read: plain JSON as it is, a packed text with its
/// markers standing for that id and times near `updated_at` ([`own_row`]).
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
            let id = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let context = own_row(id, row.get(2)?);
            serde_json::from_value(inflater.decode_row(text, &context, what)?).map_err(corrupt)?
        });
    }
    Ok(out)
}

/// The request session and metadata of task `id` as its row keeps them (a replay
/// gives them back to a routing core read from a snapshot, which leaves them out).
pub fn payloads_of(conn: &Connection, id: &str) -> StoreResult<Option<(Value, Value)>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM tasks WHERE id = ?1"
    ))?;
    let mut rows = st.query([id])?;
    let Some(row) = rows.next()? else {
        return Ok(None);
    };
    let mut snapshot = read_snapshot(&mut Inflater::new(conn), row)?;
    let media = snapshot
        .get_mut("media")
        .map(Value::take)
        .unwrap_or_default();
    let field = |name: &str| media.get(name).cloned().unwrap_or_default();
    Ok(Some((field("requestSession"), field("metadata"))))
}

/// Snapshots of the tasks of one conversation, oldest first.
pub fn of_conversation(conn: &Connection, conversation_id: &str) -> StoreResult<Vec<Value>> {
    let mut st = conn.prepare_cached(&format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM tasks WHERE conversation_id = ?1 ORDER BY created_at, id"
    ))?;
    let mut rows = st.query([conversation_id])?;
    let mut inflater = Inflater::new(conn);
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(read_snapshot(&mut inflater, row)?);
    }
    Ok(out)
}

/// An agent's view as the routing engine keeps it, packed for its row: its ids and
/// names shared, its own id and times near `now` (the row's `updated_at`) as markers.
pub fn compact_agent_view(
    conn: &Connection,
    interner: &mut Interner,
    view: Value,
    user_id: &str,
    now: Millis,
) -> StoreResult<String> {
    interner.compact_row(conn, view, &own_row(user_id, now))
}

/// What a row keyed by its own id holds for its packed text (an agent's view): that
/// id (in the message-id marker's place) and its `updated_at`.
fn own_row(id: &str, updated_at: Millis) -> RowContext<'_> {
    RowContext {
        conversation_id: None,
        message_id: Some(id),
        base_ms: Some(updated_at),
        event_id: None,
    }
}

/// Saves an agent's view: a plain JSON text (written before views were packed) or
/// one from [`compact_agent_view`] with the same `now`.
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
    decode_rows(
        conn,
        "SELECT view, user_id, updated_at FROM agent_views",
        "agent_views.view",
    )
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
        "SELECT snapshot, id, updated_at FROM pull_requests WHERE state <> 'CLOSED'",
        "pull_requests.snapshot",
    )
}

#[cfg(test)]
mod tests;
