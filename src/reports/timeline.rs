//! An agent's day as spans: the global states with their reasons (who was ready or
//! not ready, and when) and the occupied spans (at least one chat), read from the
//! kept `agent_state_spans`, clipped to the day; a span still open ends at now.

use rusqlite::{params, Connection};
use serde_json::Value;

use super::period::Period;
use super::spans::{GLOBAL, OCCUPIED_MRD};
use super::table::{secs, Table};
use crate::clock::Millis;
use crate::store::StoreResult;

/// One span of the day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub start: Millis,
    pub end: Millis,
    /// `agent` (the global state) or `occupied`.
    pub track: &'static str,
    pub state: String,
    pub reason: String,
    /// Still going on (its end is now).
    pub open: bool,
}

/// The spans of `user` in `day` (its start and end), oldest first, open ones to `now`.
pub fn spans(c: &Connection, user: &str, day: &Period, now: Millis) -> StoreResult<Vec<Span>> {
    let mut st = c.prepare_cached(
        "SELECT mrd_id, start_at, end_at, state, reason_code FROM agent_state_spans
         WHERE user_id = ?1 AND mrd_id IN (?2, ?3) AND start_at < ?4
           AND (end_at IS NULL OR end_at > ?5)
         ORDER BY start_at, mrd_id",
    )?;
    let rows = st.query_map(
        params![user, GLOBAL, OCCUPIED_MRD, day.end.min(now), day.start],
        |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Millis>(1)?,
                r.get::<_, Option<Millis>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (mrd, start, end, state, reason) = row?;
        let open = end.is_none();
        let end = end.unwrap_or(now).min(day.end);
        let start = start.max(day.start);
        if end <= start {
            continue;
        }
        out.push(Span {
            start,
            end,
            track: if mrd == GLOBAL { "agent" } else { "occupied" },
            state,
            reason,
            open,
        });
    }
    Ok(out)
}

/// The spans as a table (JSON rows and CSV share it).
pub fn table(spans: &[Span], day: &Period) -> Table {
    Table {
        columns: [
            "start",
            "end",
            "track",
            "state",
            "reasonCode",
            "durationSecs",
            "open",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        rows: spans
            .iter()
            .map(|s| {
                vec![
                    Value::from(day.local_text(s.start)),
                    Value::from(day.local_text(s.end)),
                    Value::from(s.track),
                    Value::from(s.state.clone()),
                    Value::from(s.reason.clone()),
                    secs(s.end - s.start),
                    Value::from(s.open),
                ]
            })
            .collect(),
    }
}
