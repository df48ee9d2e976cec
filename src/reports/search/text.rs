//! The full-text parts of conversation search: what the user typed as FTS5 query
//! text (every word quoted, so nothing typed is an operator), and the message
//! matches read newest first as a cursor that a search resumes where it stopped,
//! their conversations checked against the other filters batch by batch.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, Rows};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

use super::customers::Customers;
use crate::store::StoreResult;

/// Each word quoted, `"` doubled; `None` when nothing but spaces was typed.
fn quoted(text: &str, suffix: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"{suffix}", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// FTS5 query text for message words: every word must appear.
pub fn fts_terms(text: &str) -> Option<String> {
    quoted(text, "")
}

/// FTS5 query text for a customer: every word typed starts a word of the same name,
/// email or identifier (`"jo"* "do"*`).
pub fn prefix_terms(text: &str) -> Option<String> {
    quoted(text, "*")
}

/// Whether the FTS5 query `terms` matches more than `frequent` messages (then
/// reading its matches newest first beats collecting every match first).
pub fn is_frequent(c: &Connection, terms: &str, frequent: i64) -> StoreResult<bool> {
    let matched: i64 = c
        .prepare_cached(
            "SELECT COUNT(*) FROM (SELECT rowid FROM message_text WHERE message_text MATCH ?1 LIMIT ?2)",
        )?
        .query_row(rusqlite::params![terms, frequent.saturating_add(1)], |r| r.get(0))?;
    Ok(matched > frequent)
}

/// The statement reading the conversation keys (`conversation_keys.key`) of the
/// messages matching `?1`, newest message (highest position) first: integers, each
/// conversation looked up only once, by its key (see [`newest_passing`]).
pub const NEWEST_SQL: &str =
    "SELECT e.conv FROM message_text m CROSS JOIN cim_event_rows e ON e.pos = m.rowid
     WHERE message_text MATCH ?1 ORDER BY m.rowid DESC";

/// A cursor over the conversations of the messages matching a query, newest match
/// first, each conversation once. Each [`Newest::next_batch`] goes on from where the
/// last one stopped: no match is read twice.
pub struct Newest<'s> {
    rows: Rows<'s>,
    seen: HashSet<i64>,
    done: bool,
}

impl<'s> Newest<'s> {
    /// Over the rows of [`NEWEST_SQL`] (the caller keeps the statement).
    pub fn new(rows: Rows<'s>) -> Self {
        Newest {
            rows,
            seen: HashSet::new(),
            done: false,
        }
    }

    /// Up to `size` conversation keys not given before; fewer only when the matches
    /// ran out.
    pub fn next_batch(&mut self, size: usize) -> StoreResult<Vec<i64>> {
        let mut batch = Vec::new();
        while batch.len() < size && !self.done {
            match self.rows.next()? {
                Some(row) => {
                    let key: i64 = row.get(0)?;
                    if self.seen.insert(key) {
                        batch.push(key);
                    }
                }
                None => self.done = true,
            }
        }
        Ok(batch)
    }

    /// Every match was read.
    pub fn done(&self) -> bool {
        self.done
    }
}

/// The conversations of the newest matches of `terms` that pass the other
/// conditions (`conditions`: what follows `WHERE` in a query of `conversations c`,
/// and its arguments), the first `wanted` of them in the order of their newest match
/// (fewer when the matches run out). The matches are read once, in batches, each
/// batch going on from where the last stopped and sized by the share of
/// conversations that passed so far; a batch's conversation keys are checked in one
/// statement that finds each conversation by its key. With `customers`, a
/// conversation passes only if its customer is one of them too.
pub fn newest_passing(
    c: &Connection,
    conditions: (&str, &[Sql]),
    terms: &str,
    wanted: usize,
    customers: Option<&Customers>,
) -> StoreResult<Vec<String>> {
    let (conditions_sql, conditions) = conditions;
    let mut matches = c.prepare_cached(NEWEST_SQL)?;
    let mut newest = Newest::new(matches.query([terms])?);
    let mut passes = c.prepare(&format!(
        "SELECT k.key, c.id, c.customer_id FROM conversation_keys k
         CROSS JOIN conversations c ON c.id = k.id
         WHERE k.key IN (SELECT value FROM json_each(?)) AND {conditions_sql}"
    ))?;
    let mut args: Vec<Sql> = Vec::with_capacity(conditions.len() + 1);
    args.push(Sql::Null);
    args.extend_from_slice(conditions);
    let mut size = wanted.clamp(1, MAX_BATCH);
    let mut checked = 0;
    let mut passing: Vec<String> = Vec::new();
    while passing.len() < wanted && !newest.done() {
        let keys = newest.next_batch(size)?;
        if keys.is_empty() {
            break;
        }
        args[0] = Sql::Text(Value::from(keys.as_slice()).to_string());
        let mut ids: HashMap<i64, String> = HashMap::new();
        let mut rows = passes.query(rusqlite::params_from_iter(args.iter()))?;
        while let Some(row) = rows.next()? {
            // Read in place: most checked conversations are not kept.
            let passes = match customers {
                None => true,
                Some(m) => row.get_ref(2)?.as_str().is_ok_and(|c| m.has(c)),
            };
            if passes {
                ids.insert(row.get(0)?, row.get(1)?);
            }
        }
        checked += keys.len();
        passing.extend(keys.iter().filter_map(|k| ids.remove(k)));
        size = next_batch(
            wanted.saturating_sub(passing.len()),
            passing.len(),
            checked,
            size,
        );
    }
    passing.truncate(wanted);
    Ok(passing)
}

/// How many conversations the next round of [`newest_passing`] checks, `missing`
/// still wanted after `passed` of `checked` passed: what that share says gives them,
/// a quarter more; twice the last round's `size` while none passed.
fn next_batch(missing: usize, passed: usize, checked: usize, size: usize) -> usize {
    let size = match passed {
        0 => size.saturating_mul(2),
        _ => {
            let expected = missing.saturating_mul(checked) / passed;
            expected.saturating_add(expected / 4).saturating_add(16)
        }
    };
    size.clamp(1, MAX_BATCH)
}

/// The most conversations one round of [`newest_passing`] checks.
const MAX_BATCH: usize = 16_384;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_follow_the_share_that_passed() {
        // None passed yet: twice the last round.
        assert_eq!(next_batch(1001, 0, 1001, 1001), 2002);
        // 126 of 1,001 passed: the 875 missing need ~6,951 more, and a quarter.
        assert_eq!(next_batch(875, 126, 1001, 1001), 6951 + 1737 + 16);
        assert_eq!(next_batch(10_000, 1, 50_000, 1), MAX_BATCH);
        assert_eq!(next_batch(1, 0, 10, MAX_BATCH), MAX_BATCH);
    }

    #[test]
    fn typed_words_are_quoted_terms() {
        assert_eq!(
            fts_terms("order late").as_deref(),
            Some("\"order\" \"late\"")
        );
        assert_eq!(fts_terms("a\"b OR").as_deref(), Some("\"a\"\"b\" \"OR\""));
        assert_eq!(fts_terms("   "), None);
        assert_eq!(
            prefix_terms("jo NEAR(").as_deref(),
            Some("\"jo\"* \"NEAR(\"*")
        );
    }
}
