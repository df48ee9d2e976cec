//! Conversations with their channel sessions and participants: written one
//! conversation step per call (inside the caller's transaction), read back on
//! start, and queried for the history API.

use super::event_runtime::{self, CarriedRuntime, IS_WHOLE};
use super::merge_patch;
use super::objects::{Inflater, Interner};
use super::packed::RowContext;
use super::{StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::Value;

/// The tag of a runtime carried by an event that is a merge patch of the runtime
/// stored before it (see `merge_patch`), rather than a whole runtime.
pub const RUNTIME_PATCH: char = '+';

pub struct ConversationRow<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    /// The room's id; empty for a room that is the customer's (a chat's, the usual
    /// case), or that has none. Read by no one: the snapshot keeps the room whole.
    pub room_id: &'a str,
    pub state: &'a str,
    pub direction: &'a str,
    pub queue_id: Option<&'a str>,
    pub last_agent_id: Option<&'a str>,
    pub data: String,
    pub metadata: String,
    pub timers: String,
    pub snapshot: String,
    pub creation_time: Millis,
    pub end_time: Option<Millis>,
    pub last_seq: u64,
}

pub struct ChannelSessionRow<'a> {
    pub id: &'a str,
    pub conversation_id: &'a str,
    pub channel_id: &'a str,
    pub customer_id: &'a str,
    pub state: &'a str,
    pub reason_code: Option<&'a str>,
    pub session: String,
    pub started_at: Millis,
    pub ended_at: Option<Millis>,
}

pub struct ParticipantRow<'a> {
    pub id: &'a str,
    pub conversation_id: &'a str,
    pub kind: &'a str,
    pub role: &'a str,
    /// The agent's or the bot's id; empty for a customer (their channel session is
    /// named by its own row).
    pub participant_ref: &'a str,
    pub state: Option<&'a str>,
    pub joined_at: Millis,
    pub left_at: Option<Millis>,
    pub participant: String,
}

/// Writes a conversation's row and its runtime row. The runtime (`timers`) is kept
/// only in `conversation_runtime`, which is always newer: the conversation row's
/// `timers` column holds `{}` (rows written before may hold a copy). A closed
/// conversation keeps no runtime row.
pub fn upsert(conn: &Connection, c: &ConversationRow<'_>, now: Millis) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO conversations(id, customer_id, room_id, state, direction, queue_id, last_agent_id,
                                   data, metadata, timers, snapshot, creation_time, end_time, last_seq, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, '{}', ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, queue_id = excluded.queue_id,
             last_agent_id = excluded.last_agent_id, data = excluded.data, metadata = excluded.metadata,
             timers = '{}', snapshot = excluded.snapshot, end_time = excluded.end_time,
             last_seq = excluded.last_seq, updated_at = excluded.updated_at",
    )?
    .execute(params![
        c.id,
        c.customer_id,
        c.room_id,
        c.state,
        c.direction,
        c.queue_id,
        c.last_agent_id,
        c.data,
        c.metadata,
        c.snapshot,
        c.creation_time,
        c.end_time,
        c.last_seq as i64,
        now
    ])?;
    if c.state == CLOSED {
        // A closed conversation is never loaded again (`open_conversations`), and its
        // last seq is on its row: its runtime row goes (~230 bytes an ended chat).
        conn.prepare_cached("DELETE FROM conversation_runtime WHERE conversation_id = ?1")?
            .execute([c.id])?;
        return Ok(());
    }
    write_runtime(conn, c.id, &c.timers, c.last_seq, now)
}

/// The state of a conversation row that ended.
const CLOSED: &str = "CLOSED";

/// What a conversation row's columns hold for its packed snapshot (see
/// `Interner::compact_row`): its id. Rows written before hold no marker and read the same.
pub fn snapshot_row(id: &str) -> RowContext<'_> {
    RowContext {
        conversation_id: Some(id),
        ..RowContext::default()
    }
}

/// The small per-message state of a conversation (see `conversation_runtime` in the
/// schema), stored packed as an event carries a whole runtime (`event_runtime`, times
/// relative to `updated_at`).
pub fn write_runtime(
    conn: &Connection,
    id: &str,
    timers: &str,
    last_seq: u64,
    now: Millis,
) -> StoreResult<()> {
    let timers = event_runtime::encode(timers, now).store(conn, &mut Interner::default(), false)?;
    conn.prepare_cached(
        "INSERT INTO conversation_runtime(conversation_id, timers, last_seq, updated_at)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(conversation_id) DO UPDATE SET timers = excluded.timers,
             last_seq = excluded.last_seq, updated_at = excluded.updated_at",
    )?
    .execute(params![id, timers, last_seq as i64, now])?;
    Ok(())
}

/// A step that only appended events and moved timers: the conversation row is
/// rewritten only when its queue or last agent changed; the runtime itself travels
/// on the step's last event (`events::EventRow::runtime`) or, for a step without
/// events, goes to [`write_runtime`].
pub fn update_routing(
    conn: &Connection,
    id: &str,
    queue_id: Option<&str>,
    last_agent_id: Option<&str>,
    now: Millis,
) -> StoreResult<()> {
    // The big conversation row is rewritten only when its queue or last agent changes.
    conn.prepare_cached(
        "UPDATE conversations SET queue_id = COALESCE(?2, queue_id),
             last_agent_id = COALESCE(?3, last_agent_id), updated_at = ?4
         WHERE id = ?1 AND ((?2 IS NOT NULL AND queue_id IS NOT ?2)
                            OR (?3 IS NOT NULL AND last_agent_id IS NOT ?3))",
    )?
    .execute(params![id, queue_id, last_agent_id, now])?;
    Ok(())
}

/// The newest runtime of a conversation and its last sequence number: its
/// `conversation_runtime` row (or the conversation row's copy) unless an event
/// appended later carries a newer whole runtime, with the patches (tagged
/// [`RUNTIME_PATCH`]) carried by the events after that applied in order.
fn newest_runtime(
    conn: &Connection,
    id: &str,
    (timers, last_seq, updated_at): (&str, i64, i64),
) -> StoreResult<(Value, i64)> {
    let mut inflater = Inflater::new(conn);
    let whole: Option<(i64, String, i64)> = conn
        .prepare_cached(&format!(
            "SELECT seq, runtime, timestamp FROM cim_event_rows
             WHERE conv = (SELECT key FROM conversation_keys WHERE id = ?1) AND seq > ?2
               AND runtime IS NOT NULL AND {IS_WHOLE}
             ORDER BY seq DESC LIMIT 1"
        ))?
        .query_row(params![id, last_seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let (mut runtime, base_seq) = match &whole {
        Some((seq, text, at)) => match event_runtime::decode(&mut inflater, text, *at)? {
            CarriedRuntime::Whole(runtime) => (runtime, *seq),
            CarriedRuntime::Patch(_) => {
                return Err(StoreError::Corrupt(format!(
                    "cim_events.runtime of {id}: expected a whole runtime"
                )))
            }
        },
        None => match event_runtime::decode(&mut inflater, timers, updated_at)? {
            CarriedRuntime::Whole(runtime) => (runtime, last_seq),
            CarriedRuntime::Patch(_) => {
                return Err(StoreError::Corrupt(format!(
                    "conversation_runtime.timers of {id}: expected a whole runtime"
                )))
            }
        },
    };
    let mut st = conn.prepare_cached(
        "SELECT runtime, timestamp FROM cim_event_rows
         WHERE conv = (SELECT key FROM conversation_keys WHERE id = ?1) AND seq > ?2
           AND runtime IS NOT NULL ORDER BY seq",
    )?;
    let mut rows = st.query(params![id, base_seq])?;
    while let Some(r) = rows.next()? {
        let text = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
        match event_runtime::decode(&mut inflater, text, r.get(1)?)? {
            CarriedRuntime::Patch(patch) => merge_patch::apply(&mut runtime, &patch),
            CarriedRuntime::Whole(_) => {
                return Err(StoreError::Corrupt(format!(
                    "cim_events.runtime of {id}: expected a patch"
                )))
            }
        }
    }
    let newest: Option<i64> = conn
        .prepare_cached(
            "SELECT MAX(seq) FROM cim_event_rows
             WHERE conv = (SELECT key FROM conversation_keys WHERE id = ?1)",
        )?
        .query_row([id], |r| r.get(0))?;
    Ok((runtime, newest.unwrap_or(0).max(last_seq)))
}

pub fn upsert_channel_session(conn: &Connection, s: &ChannelSessionRow<'_>) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO channel_sessions(id, conversation_id, channel_id, customer_id, state, reason_code,
                                      session, started_at, ended_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(conversation_id, id) DO UPDATE SET state = excluded.state,
             reason_code = excluded.reason_code, session = excluded.session, ended_at = excluded.ended_at",
    )?
    .execute(params![
        s.id,
        s.conversation_id,
        s.channel_id,
        s.customer_id,
        s.state,
        s.reason_code,
        s.session,
        s.started_at,
        s.ended_at
    ])?;
    Ok(())
}

pub fn upsert_participant(conn: &Connection, p: &ParticipantRow<'_>) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO participants(id, conversation_id, type, role, participant_ref, state, joined_at,
                                  left_at, participant)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(conversation_id, id) DO UPDATE SET role = excluded.role, state = excluded.state,
             left_at = excluded.left_at, participant = excluded.participant",
    )?
    .execute(params![
        p.id,
        p.conversation_id,
        p.kind,
        p.role,
        p.participant_ref,
        p.state,
        p.joined_at,
        p.left_at,
        p.participant
    ])?;
    Ok(())
}

/// An open conversation as stored: (snapshot, channel sessions, timers, last seq).
pub struct StoredConversation {
    pub snapshot: Value,
    pub channel_sessions: Vec<Value>,
    pub timers: Value,
    pub last_seq: u64,
    /// Recent message ids with their sequence numbers, oldest first.
    pub recent_ids: Vec<(String, u64)>,
}

/// Every conversation not yet closed.
pub fn open_conversations(
    conn: &Connection,
    recent_ids: usize,
) -> StoreResult<Vec<StoredConversation>> {
    let mut st = conn.prepare_cached(
        "SELECT c.id, c.snapshot, COALESCE(r.timers, c.timers), COALESCE(r.last_seq, c.last_seq),
                COALESCE(r.updated_at, c.updated_at)
         FROM conversations c LEFT JOIN conversation_runtime r ON r.conversation_id = c.id
         WHERE c.state <> 'CLOSED' ORDER BY c.creation_time",
    )?;
    let rows: Vec<(String, String, String, i64, i64)> = st
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut sessions = conn.prepare_cached(
        "SELECT session FROM channel_sessions WHERE conversation_id = ?1 ORDER BY started_at",
    )?;
    let mut ids = conn.prepare_cached(
        "SELECT message_id, seq FROM cim_event_rows
         WHERE conv = (SELECT key FROM conversation_keys WHERE id = ?1) AND message_id IS NOT NULL
         ORDER BY seq DESC LIMIT ?2",
    )?;
    let mut out = Vec::with_capacity(rows.len());
    let mut inflater = Inflater::new(conn);
    for (id, snapshot, timers, last_seq, updated_at) in rows {
        let (timers, last_seq) = newest_runtime(conn, &id, (&timers, last_seq, updated_at))?;
        let channel_sessions = sessions
            .query_map([&id], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .map(|s| inflater.decode(s, "channel_sessions.session"))
            .collect::<StoreResult<Vec<_>>>()?;
        let mut recent: Vec<(String, u64)> = ids
            .query_map(params![id, recent_ids as i64], |r| {
                Ok((
                    super::event_keys::read_id(r.get_ref(0)?),
                    r.get::<_, i64>(1)? as u64,
                ))
            })?
            .map(|row| {
                let (message_id, seq) = row?;
                Ok((message_id?, seq))
            })
            .collect::<StoreResult<_>>()?;
        recent.reverse();
        out.push(StoredConversation {
            snapshot: inflater.decode_row(
                &snapshot,
                &snapshot_row(&id),
                "conversations.snapshot",
            )?,
            channel_sessions,
            timers,
            last_seq: last_seq as u64,
            recent_ids: recent,
        });
    }
    Ok(out)
}

/// Filter of the history API; every field narrows the result.
#[derive(Debug, Default, Clone)]
pub struct ConversationFilter {
    pub state: Option<String>,
    pub queue_id: Option<String>,
    pub agent_id: Option<String>,
    pub customer_id: Option<String>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub limit: usize,
    pub offset: usize,
    /// A supervisor's view: only conversations an agent of these teams (or the
    /// supervisor itself) took part in.
    pub scope: Option<SupervisorScope>,
}

/// Who a supervisor is and which teams it supervises.
#[derive(Debug, Clone, Default)]
pub struct SupervisorScope {
    pub user_id: String,
    pub team_ids: Vec<String>,
}

impl SupervisorScope {
    fn teams_json(&self) -> String {
        serde_json::Value::from(self.team_ids.clone()).to_string()
    }
}

/// Whether a supervisor with `scope` may see the conversation: an agent of its teams
/// (or the supervisor itself) took part, or no agent has joined it yet (it is still
/// queued and belongs to no team, as its task does).
pub fn in_scope(
    conn: &Connection,
    conversation_id: &str,
    scope: &SupervisorScope,
) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = ?1
                                          AND p.type = 'AGENT')
                 OR EXISTS (SELECT 1 FROM participants p LEFT JOIN users u ON u.id = p.participant_ref
                            WHERE p.conversation_id = ?1 AND p.type = 'AGENT'
                              AND (p.participant_ref = ?2
                                   OR u.team_id IN (SELECT value FROM json_each(?3))))",
        )?
        .query_row(params![conversation_id, scope.user_id, scope.teams_json()], |_| Ok(()))
        .optional()?
        .is_some())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub id: String,
    pub customer_id: String,
    pub state: String,
    pub queue_id: Option<String>,
    pub last_agent_id: Option<String>,
    #[schema(value_type = i64)]
    pub creation_time: Millis,
    #[schema(value_type = Option<i64>)]
    pub end_time: Option<Millis>,
    pub last_seq: u64,
    /// The CIM conversation object.
    pub conversation: Value,
    /// The customer's rating, once given after the chat.
    pub csat: Option<super::csat::Csat>,
}

/// A summary row (columns id .. last_seq, the snapshot text, then the csat columns).
fn summary_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(ConversationSummary, String)> {
    Ok((
        ConversationSummary {
            id: r.get(0)?,
            customer_id: r.get(1)?,
            state: r.get(2)?,
            queue_id: r.get(3)?,
            last_agent_id: r.get(4)?,
            creation_time: r.get(5)?,
            end_time: r.get(6)?,
            last_seq: r.get::<_, i64>(7)? as u64,
            conversation: Value::Null,
            csat: match r.get::<_, Option<u8>>(9)? {
                Some(rating) => Some(super::csat::Csat {
                    rating,
                    comment: r.get(10)?,
                    submitted_at: r.get(11)?,
                }),
                None => None,
            },
        },
        r.get(8)?,
    ))
}

fn with_snapshot(
    inflater: &mut Inflater<'_>,
    (mut s, snapshot): (ConversationSummary, String),
) -> StoreResult<ConversationSummary> {
    s.conversation =
        inflater.decode_row(&snapshot, &snapshot_row(&s.id), "conversations.snapshot")?;
    Ok(s)
}

pub fn list(conn: &Connection, f: &ConversationFilter) -> StoreResult<Vec<ConversationSummary>> {
    let mut st = conn.prepare_cached(
        "SELECT c.id, c.customer_id, c.state, c.queue_id, c.last_agent_id, c.creation_time, c.end_time,
                MAX(COALESCE(r.last_seq, c.last_seq),
                    COALESCE((SELECT MAX(e.seq) FROM cim_events e WHERE e.conversation_id = c.id), 0)),
                c.snapshot, q.rating, q.comment, q.submitted_at
         FROM conversations c LEFT JOIN conversation_runtime r ON r.conversation_id = c.id
         LEFT JOIN csat q ON q.conversation_id = c.id
         WHERE (?1 IS NULL OR c.state = ?1)
           AND (?2 IS NULL OR c.queue_id = ?2)
           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = c.id
                                      AND p.type = 'AGENT' AND p.participant_ref = ?3))
           AND (?4 IS NULL OR c.customer_id = ?4)
           AND (?5 IS NULL OR c.creation_time >= ?5)
           AND (?6 IS NULL OR c.creation_time <= ?6)
           AND (?9 IS NULL
                OR NOT EXISTS (SELECT 1 FROM participants p WHERE p.conversation_id = c.id
                                 AND p.type = 'AGENT')
                OR EXISTS (SELECT 1 FROM participants p LEFT JOIN users u ON u.id = p.participant_ref
                           WHERE p.conversation_id = c.id AND p.type = 'AGENT'
                             AND (p.participant_ref = ?9
                                  OR u.team_id IN (SELECT value FROM json_each(?10)))))
         ORDER BY c.creation_time DESC, c.id LIMIT ?7 OFFSET ?8",
    )?;
    let rows: Vec<(ConversationSummary, String)> = st
        .query_map(
            params![
                f.state,
                f.queue_id,
                f.agent_id,
                f.customer_id,
                f.from,
                f.to,
                f.limit.max(1) as i64,
                f.offset as i64,
                f.scope.as_ref().map(|s| s.user_id.clone()),
                f.scope.as_ref().map(SupervisorScope::teams_json),
            ],
            summary_row,
        )?
        .collect::<Result<_, _>>()?;
    let mut inflater = Inflater::new(conn);
    rows.into_iter()
        .map(|row| with_snapshot(&mut inflater, row))
        .collect()
}

/// One conversation's stored snapshot, if it exists.
pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<ConversationSummary>> {
    let mut st = conn.prepare_cached(
        "SELECT c.id, c.customer_id, c.state, c.queue_id, c.last_agent_id, c.creation_time, c.end_time,
                MAX(COALESCE(r.last_seq, c.last_seq),
                    COALESCE((SELECT MAX(e.seq) FROM cim_events e WHERE e.conversation_id = c.id), 0)),
                c.snapshot, q.rating, q.comment, q.submitted_at
         FROM conversations c LEFT JOIN conversation_runtime r ON r.conversation_id = c.id
         LEFT JOIN csat q ON q.conversation_id = c.id
         WHERE c.id = ?1",
    )?;
    match st.query_row([id], summary_row) {
        Ok(row) => with_snapshot(&mut Inflater::new(conn), row).map(Some),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Read through the partial index `channel_sessions_running` (V25): only running
/// sessions are in it, so a customer's lookup does not scan every session kept.
const RUNNING_SESSION: &str = "SELECT s.id, s.conversation_id FROM channel_sessions s
     JOIN conversations v ON v.id = s.conversation_id
     WHERE s.customer_id = ?1 AND s.channel_id = ?2 AND s.state = 'STARTED'
       AND v.state <> 'CLOSED'
     ORDER BY s.started_at DESC LIMIT 1";

/// The customer's running channel session on a channel, in a conversation not yet
/// closed: (channel session id, conversation id), the latest if several.
pub fn running_session(
    conn: &Connection,
    customer_id: &str,
    channel_id: &str,
) -> StoreResult<Option<(String, String)>> {
    Ok(conn
        .prepare_cached(RUNNING_SESSION)?
        .query_row(params![customer_id, channel_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// Whether the agent is or was a participant (any role) of the conversation.
pub fn agent_took_part(
    conn: &Connection,
    conversation_id: &str,
    agent_id: &str,
) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM participants WHERE conversation_id = ?1 AND type = 'AGENT'
               AND participant_ref = ?2 LIMIT 1",
        )?
        .query_row(params![conversation_id, agent_id], |_| Ok(()))
        .optional()?
        .is_some())
}

#[cfg(test)]
mod tests;
