//! Agent state spans (`agent_state_spans`) and the agents' time per interval
//! (`report_agent_time`), kept as each state change is recorded. A span is one
//! state between two changes: of the agent (`mrd_id` ''), of one MRD (its id), or
//! of being occupied (`*`: at least one MRD `ACTIVE` or `BUSY`, the occupancy of
//! `docs/metrics.md`). When a global or occupied span closes, its time is added to
//! the intervals it covers; open spans are counted up to "now" when read.

use rusqlite::{params, Connection, OptionalExtension};

use super::tally::{interval_of, INTERVAL_MS};
use crate::clock::Millis;
use crate::store::agent_states::StateRow;
use crate::store::StoreResult;

/// `mrd_id` of the agent's global state.
pub const GLOBAL: &str = "";
/// `mrd_id` of the occupied spans.
pub const OCCUPIED_MRD: &str = "*";
/// The state of an occupied span (and of its time rows).
pub const OCCUPIED: &str = "OCCUPIED";

/// Global states that are not logged in: their time is not counted.
pub fn is_logged_in(state: &str) -> bool {
    !matches!(state, "LOGOUT" | "UNKNOWN")
}

/// An MRD holding at least one task: ACTIVE, BUSY, or PENDING_NOT_READY (the agent
/// asked for NOT_READY and still serves its chats).
fn is_occupied(mrd_state: &str) -> bool {
    matches!(mrd_state, "ACTIVE" | "BUSY" | "PENDING_NOT_READY")
}

/// Folds one recorded state change in.
pub fn record(c: &Connection, row: &StateRow) -> StoreResult<()> {
    let user = row.user_id.as_str();
    let at = row.changed_at;
    match row.mrd_id.as_deref() {
        None | Some("") => {
            let reason = row.reason_code.as_deref().unwrap_or("");
            switch(c, user, GLOBAL, Some((&row.state, reason)), at)
        }
        Some(mrd) => {
            let before = occupied(c, user)?;
            switch(c, user, mrd, Some((&row.state, "")), at)?;
            let after = occupied(c, user)?;
            if before != after {
                switch(c, user, OCCUPIED_MRD, after.then_some((OCCUPIED, "")), at)?;
            }
            Ok(())
        }
    }
}

/// Whether any MRD span of the agent open now is `ACTIVE` or `BUSY`.
fn occupied(c: &Connection, user: &str) -> StoreResult<bool> {
    let mut st = c.prepare_cached(
        "SELECT state FROM agent_state_spans
         WHERE user_id = ?1 AND end_at IS NULL AND mrd_id NOT IN ('', '*')",
    )?;
    let states = st
        .query_map([user], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(states.iter().any(|s| is_occupied(s)))
}

/// Closes the open span of (`user`, `mrd`) at `at` and opens `next`, if any.
fn switch(
    c: &Connection,
    user: &str,
    mrd: &str,
    next: Option<(&str, &str)>,
    at: Millis,
) -> StoreResult<()> {
    let open: Option<(Millis, String, String)> = c
        .prepare_cached(
            "SELECT start_at, state, reason_code FROM agent_state_spans
             WHERE user_id = ?1 AND mrd_id = ?2 AND end_at IS NULL",
        )?
        .query_row(params![user, mrd], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    if let Some((start, state, reason)) = open {
        let end = at.max(start);
        c.prepare_cached(
            "UPDATE agent_state_spans SET end_at = ?4
             WHERE user_id = ?1 AND mrd_id = ?2 AND start_at = ?3",
        )?
        .execute(params![user, mrd, start, end])?;
        if counts_time(mrd, &state) {
            add_time(c, user, &state, &reason, start, end)?;
        }
    }
    if let Some((state, reason)) = next {
        c.prepare_cached(
            "INSERT INTO agent_state_spans(user_id, mrd_id, start_at, end_at, state, reason_code)
             VALUES (?1, ?2, ?3, NULL, ?4, ?5)
             ON CONFLICT(user_id, mrd_id, start_at) DO UPDATE SET end_at = NULL,
                 state = excluded.state, reason_code = excluded.reason_code",
        )?
        .execute(params![user, mrd, at, state, reason])?;
    }
    Ok(())
}

/// Whether a span of `state` on `mrd` counts in the agents' time.
pub fn counts_time(mrd: &str, state: &str) -> bool {
    mrd == OCCUPIED_MRD || (mrd == GLOBAL && is_logged_in(state))
}

/// The pieces of [start, end) per 15-minute interval.
pub fn pieces(start: Millis, end: Millis) -> impl Iterator<Item = (Millis, Millis)> {
    let mut at = start;
    std::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let interval = interval_of(at);
        let until = (interval + INTERVAL_MS).min(end);
        let piece = (interval, until - at);
        at = until;
        Some(piece)
    })
}

fn add_time(
    c: &Connection,
    user: &str,
    state: &str,
    reason: &str,
    start: Millis,
    end: Millis,
) -> StoreResult<()> {
    let mut st = c.prepare_cached(
        "INSERT INTO report_agent_time(interval_start, user_id, state, reason_code, ms)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(interval_start, user_id, state, reason_code) DO UPDATE SET
             ms = ms + excluded.ms",
    )?;
    for (interval, ms) in pieces(start, end) {
        st.execute(params![interval, user, state, reason, ms])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_span_is_cut_at_quarter_hours() {
        let q = INTERVAL_MS;
        let cut: Vec<_> = pieces(q - 10, 2 * q + 5).collect();
        assert_eq!(cut, vec![(0, 10), (q, q), (2 * q, 5)]);
        assert_eq!(pieces(5, 5).count(), 0);
    }

    fn change(mrd: Option<&str>, state: &str, reason: Option<&str>, at: Millis) -> StateRow {
        StateRow {
            user_id: "a".into(),
            mrd_id: mrd.map(str::to_owned),
            state: state.into(),
            reason_code: reason.map(str::to_owned),
            changed_at: at,
        }
    }

    fn time(c: &Connection, state: &str) -> i64 {
        c.query_row(
            "SELECT COALESCE(SUM(ms), 0) FROM report_agent_time WHERE state = ?1",
            [state],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn ready_not_ready_and_occupied_time_add_up() {
        let c = crate::store::test_connection();
        let m = 60_000;
        for row in [
            change(None, "LOGIN", None, 0),
            change(None, "READY", None, m),
            change(Some("chat"), "READY", None, m),
            change(Some("chat"), "ACTIVE", None, 3 * m),
            change(Some("chat"), "BUSY", None, 4 * m),
            // NOT_READY asked for while still serving: occupied until the chats end.
            change(Some("chat"), "PENDING_NOT_READY", None, 10 * m),
            change(Some("chat"), "READY", None, 12 * m),
            change(None, "NOT_READY", Some("Lunch"), 20 * m),
            change(Some("chat"), "NOT_READY", None, 20 * m),
            change(None, "LOGOUT", None, 50 * m),
        ] {
            record(&c, &row).unwrap();
        }
        assert_eq!(time(&c, "LOGIN"), m);
        assert_eq!(time(&c, "READY"), 19 * m);
        assert_eq!(time(&c, "NOT_READY"), 30 * m);
        assert_eq!(
            time(&c, "OCCUPIED"),
            9 * m,
            "ACTIVE, BUSY and PENDING_NOT_READY occupy"
        );
        assert_eq!(time(&c, "LOGOUT"), 0, "logged out time is not counted");
        let lunch: i64 = c
            .query_row(
                "SELECT SUM(ms) FROM report_agent_time WHERE reason_code = 'Lunch'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(lunch, 30 * m);
        let open: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM agent_state_spans WHERE end_at IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(
            open, 2,
            "the LOGOUT span and the MRD's NOT_READY span stay open"
        );
    }
}
