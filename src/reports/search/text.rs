//! The full-text parts of conversation search: what the user typed as FTS5 query
//! text (every word quoted, so nothing typed is an operator), and the message
//! matches read newest first as a cursor that a search resumes where it stopped.

use rusqlite::{Connection, Rows};
use std::collections::HashSet;

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

/// The statement reading the conversations of the messages matching `?1`, newest
/// message (highest position) first.
pub const NEWEST_SQL: &str =
    "SELECT e.conversation_id FROM message_text m CROSS JOIN cim_events e ON e.pos = m.rowid
     WHERE message_text MATCH ?1 ORDER BY m.rowid DESC";

/// A cursor over the conversations of the messages matching a query, newest match
/// first, each conversation once. Each [`Newest::next_batch`] goes on from where the
/// last one stopped: no match is read twice.
pub struct Newest<'s> {
    rows: Rows<'s>,
    seen: HashSet<String>,
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

    /// Up to `size` conversations not given before; fewer only when the matches ran out.
    pub fn next_batch(&mut self, size: usize) -> StoreResult<Vec<String>> {
        let mut batch = Vec::new();
        while batch.len() < size && !self.done {
            match self.rows.next()? {
                Some(row) => {
                    let id: String = row.get(0)?;
                    if self.seen.insert(id.clone()) {
                        batch.push(id);
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

#[cfg(test)]
mod tests {
    use super::*;

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
