//! Rebuilding the kept aggregates from what caused them: the task log (`task_log`,
//! in commit order) and the agent state history (`agent_state_history`), replayed
//! through the same functions the live writes use ([`super::keep`]). Run by
//! `switchboard reports rebuild` on a stopped server's data directory.
//!
//! The rebuild reads teams, channels and service-level thresholds as they are now;
//! the kept rows took them as they were when the event was stored, so a rebuild after
//! an agent moved teams (or a queue's threshold changed) counts the past under the
//! new settings.

use rusqlite::{params, Connection};
use serde::Serialize;

use super::keep;
use super::tally::TallySettings;
use crate::clock::Millis;
use crate::live::facts;
use crate::store::agent_states::StateRow;
use crate::store::{StoreError, StoreResult};

/// Task-log rows and state changes replayed per step (bounded memory on a year of data).
const PAGE: i64 = 5_000;

/// What a rebuild replayed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rebuilt {
    pub task_log_rows: u64,
    pub state_changes: u64,
}

/// The tables the aggregates live in.
pub const TABLES: [&str; 5] = [
    "report_tasks",
    "report_intervals",
    "report_wrapups",
    "agent_state_spans",
    "report_agent_time",
];

/// Empties the aggregates and replays every stored cause into them, in the caller's
/// transaction.
pub fn rebuild(c: &Connection, settings: &TallySettings) -> StoreResult<Rebuilt> {
    for table in TABLES {
        c.execute(&format!("DELETE FROM {table}"), [])?;
    }
    let mut done = Rebuilt::default();
    let mut after = 0i64;
    loop {
        let rows = crate::store::tasks::log_page(c, after, PAGE)?;
        let Some(&(last, _)) = rows.last() else {
            break;
        };
        after = last;
        let mut events = Vec::with_capacity(rows.len());
        for (pos, text) in &rows {
            let event = facts::of_log(text)
                .ok_or_else(|| StoreError::Corrupt(format!("task_log row {pos} does not read")))?;
            events.push(event);
        }
        keep::task_rows(c, &events, settings)?;
        done.task_log_rows += rows.len() as u64;
    }
    let mut st = c.prepare("SELECT conversation_id, rating, submitted_at FROM csat")?;
    let ratings: Vec<(String, i64, Millis)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (conversation_id, rating, at) in ratings {
        keep::rating(c, &conversation_id, rating, at)?;
    }
    let mut after = 0i64;
    loop {
        let mut st = c.prepare_cached(
            "SELECT id, user_id, mrd_id, state, reason_code, changed_at FROM agent_state_history
             WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows: Vec<(i64, StateRow)> = st
            .query_map(params![after, PAGE], |r| {
                Ok((
                    r.get(0)?,
                    StateRow {
                        user_id: r.get(1)?,
                        mrd_id: r.get(2)?,
                        state: r.get(3)?,
                        reason_code: r.get(4)?,
                        changed_at: r.get(5)?,
                    },
                ))
            })?
            .collect::<Result<_, _>>()?;
        let Some(&(last, _)) = rows.last() else {
            break;
        };
        after = last;
        for (_, row) in &rows {
            keep::agent_state(c, row)?;
        }
        done.state_changes += rows.len() as u64;
    }
    Ok(done)
}

/// Every row of the aggregates, table by table, in key order: to compare the kept
/// aggregates with a rebuild.
pub fn dump(c: &Connection) -> StoreResult<Vec<(String, Vec<String>)>> {
    let mut out = Vec::new();
    for table in TABLES {
        let mut st = c.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2, 3, 4"))?;
        let columns = st.column_count();
        let rows = st
            .query_map([], |r| {
                let mut cells = Vec::with_capacity(columns);
                for i in 0..columns {
                    let cell: rusqlite::types::Value = r.get(i)?;
                    cells.push(format!("{cell:?}"));
                }
                Ok(cells.join("|"))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        out.push((table.to_string(), rows));
    }
    Ok(out)
}
