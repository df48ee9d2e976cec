//! Frequent message text searched from the side of a selective filter (one agent's,
//! one team's or one customer's conversations): the filter's conversations first,
//! then their messages looked up among the text's matches, so the cost follows the
//! filter's conversations rather than every match of the text. It finds what
//! reading the matches newest first and checking each one's conversation against
//! the filter finds (`search::newest_passing`): the conversations in the order of
//! their newest match, the first `wanted` of them.

use rusqlite::types::Value as Sql;
use rusqlite::{params, Connection};

use crate::store::StoreResult;

/// The conversations passing the search conditions `sql` (`FROM … WHERE …`, no
/// text condition) with `args`; `None` when more than `max` pass (a LIMITed read:
/// it stops at `max + 1`).
pub fn passing(
    c: &Connection,
    sql: &str,
    args: &[Sql],
    max: i64,
) -> StoreResult<Option<Vec<String>>> {
    let mut bounded = args.to_vec();
    bounded.push(Sql::Integer(max.saturating_add(1)));
    let ids = c
        .prepare(&format!("SELECT c.id {sql} LIMIT ?"))?
        .query_map(rusqlite::params_from_iter(bounded.iter()), |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok((i64::try_from(ids.len()).unwrap_or(i64::MAX) <= max).then_some(ids))
}

/// The positions of a conversation's events (cim_event_rows' index by conversation
/// and sequence holds them: no event is read).
const POSITIONS_SQL: &str = "SELECT e.pos FROM conversation_keys k
     CROSS JOIN cim_event_rows e ON e.conv = k.key WHERE k.id = ?1";

/// The messages matching `?1` between positions `?2` and `?3`, newest first (the
/// message index's rowid is the event's position).
const MATCHES_SQL: &str = "SELECT rowid FROM message_text
     WHERE message_text MATCH ?1 AND rowid >= ?2 AND rowid <= ?3 ORDER BY rowid DESC";

/// Of `conversations`, those with a message matching the FTS5 query `terms`, in the
/// order of their newest matching message, at most `wanted`: their events'
/// positions, newest first, merged with the matches read newest first within the
/// span of those positions.
pub fn newest_matching(
    c: &Connection,
    conversations: &[String],
    terms: &str,
    wanted: usize,
) -> StoreResult<Vec<String>> {
    let mut positions: Vec<(i64, usize)> = Vec::new();
    let mut of = c.prepare_cached(POSITIONS_SQL)?;
    for (i, id) in conversations.iter().enumerate() {
        let mut rows = of.query([id])?;
        while let Some(row) = rows.next()? {
            positions.push((row.get(0)?, i));
        }
    }
    positions.sort_unstable_by_key(|&(pos, _)| std::cmp::Reverse(pos));
    let (Some(&(newest, _)), Some(&(oldest, _))) = (positions.first(), positions.last()) else {
        return Ok(Vec::new());
    };
    let mut matches = c.prepare_cached(MATCHES_SQL)?;
    let mut rows = matches.query(params![terms, oldest, newest])?;
    let mut seen = vec![false; conversations.len()];
    let mut found = Vec::new();
    let mut next = positions.iter().peekable();
    while found.len() < wanted {
        let Some(row) = rows.next()? else { break };
        let pos: i64 = row.get(0)?;
        while next.next_if(|(p, _)| *p > pos).is_some() {}
        match next.peek() {
            None => break,
            Some(&&(p, i)) if p == pos && !seen[i] => {
                seen[i] = true;
                found.push(conversations[i].clone());
            }
            Some(_) => {}
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plans read what the module says: the events' positions from the index by
    /// conversation (no event row), the matches by rowid range in the message index.
    #[test]
    fn plans_read_the_indexes() {
        let c = crate::store::test_connection();
        let plan = |sql: &str| -> String {
            let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let n = st.parameter_count();
            let args: Vec<Sql> = (0..n).map(|_| Sql::Text("x".into())).collect();
            st.query_map(rusqlite::params_from_iter(args.iter()), |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .join("\n")
        };
        // The filter's side starts from the agent's tasks by agent (V28), from the
        // customer's conversations by customer; no period scan.
        for (filter, index) in [
            (
                super::super::Filter {
                    agent: Some("a".into()),
                    queue: Some("q".into()),
                    ..Default::default()
                },
                "SEARCH t USING INDEX tasks_agent (agent_id=?)",
            ),
            (
                super::super::Filter {
                    team: Some("t".into()),
                    ..Default::default()
                },
                "SEARCH t USING INDEX tasks_agent (agent_id=?)",
            ),
            (
                super::super::Filter {
                    customer: Some("jo".into()),
                    ..Default::default()
                },
                "SEARCH c USING INDEX conversations_customer_state (customer_id=?)",
            ),
        ] {
            let admin = super::super::Scope {
                admin: true,
                teams: Default::default(),
            };
            let (sql, _) = super::super::conditions(&filter, &admin);
            let found = plan(&format!("SELECT c.id {sql} LIMIT 10"));
            assert!(
                found.contains(index) && !found.contains("SCAN c"),
                "{found}"
            );
        }
        let positions = plan(POSITIONS_SQL);
        assert!(
            positions.contains("COVERING INDEX sqlite_autoindex_cim_event_rows_1 (conv=?)"),
            "{positions}"
        );
        let matches = plan(MATCHES_SQL);
        // FTS5's plan: M (MATCH), > and < (rowid bounds), 192 (descending), no sort.
        assert!(
            matches.contains("VIRTUAL TABLE INDEX 192:M") && !matches.contains("TEMP B-TREE"),
            "{matches}"
        );
        assert!(matches.contains('>') && matches.contains('<'), "{matches}");
    }
}
