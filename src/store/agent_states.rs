//! Agent states: the current state per agent and MRD ('' is the global state),
//! restored on start, and the history of every change for reports.

use super::StoreResult;
use crate::clock::Millis;
use rusqlite::{params, Connection};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StateRow {
    pub user_id: String,
    /// None for the global state.
    pub mrd_id: Option<String>,
    pub state: String,
    pub reason_code: Option<String>,
    #[schema(value_type = i64)]
    pub changed_at: Millis,
}

/// Records a state change: replaces the current row and appends to the history.
pub fn record(conn: &Connection, row: &StateRow) -> StoreResult<()> {
    let mrd = row.mrd_id.as_deref().unwrap_or("");
    conn.prepare_cached(
        "INSERT INTO agent_states(user_id, mrd_id, state, reason_code, changed_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(user_id, mrd_id) DO UPDATE SET state = excluded.state,
             reason_code = excluded.reason_code, changed_at = excluded.changed_at",
    )?
    .execute(params![row.user_id, mrd, row.state, row.reason_code, row.changed_at])?;
    conn.prepare_cached(
        "INSERT INTO agent_state_history(user_id, mrd_id, state, reason_code, changed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        row.user_id,
        row.mrd_id,
        row.state,
        row.reason_code,
        row.changed_at
    ])?;
    Ok(())
}

/// Every current state row.
pub fn current(conn: &Connection) -> StoreResult<Vec<StateRow>> {
    let mut st = conn.prepare_cached(
        "SELECT user_id, mrd_id, state, reason_code, changed_at FROM agent_states",
    )?;
    let rows = st
        .query_map([], |r| {
            let mrd: String = r.get(1)?;
            Ok(StateRow {
                user_id: r.get(0)?,
                mrd_id: (!mrd.is_empty()).then_some(mrd),
                state: r.get(2)?,
                reason_code: r.get(3)?,
                changed_at: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The history of one agent between two times, oldest first.
pub fn history(
    conn: &Connection,
    user_id: &str,
    from: Millis,
    to: Millis,
) -> StoreResult<Vec<StateRow>> {
    let mut st = conn.prepare_cached(
        "SELECT user_id, mrd_id, state, reason_code, changed_at FROM agent_state_history
         WHERE user_id = ?1 AND changed_at BETWEEN ?2 AND ?3 ORDER BY changed_at, id",
    )?;
    let rows = st
        .query_map(params![user_id, from, to], |r| {
            Ok(StateRow {
                user_id: r.get(0)?,
                mrd_id: r.get(1)?,
                state: r.get(2)?,
                reason_code: r.get(3)?,
                changed_at: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}
