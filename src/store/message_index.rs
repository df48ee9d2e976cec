//! The full-text index of message text, `message_text` (FTS5, migrations V24 and
//! V30): a contentless table (the text lives in the events only) with the
//! `secure-delete` option, so a row is removed with the text it was indexed with
//! ('delete') and its words leave the index's pages at once, and without per-row
//! sizes (`columnsize=0`: nothing is ranked). This module owns what is indexed when a
//! message is removed ([`unindex`]) and the carry-over of the messages stored before
//! the index was last made ([`carry_over`]), and when a write's messages are added
//! ([`PendingIndex`]): `events::append` notes them, the write indexes them after its
//! rows (rows written as plain JSON by SQL are indexed by the V24 trigger).

use super::events::{self, decode_row, Reading};
use super::objects::Inflater;
use super::StoreResult;
use rusqlite::{params, Connection, OptionalExtension, ToSql};
use std::borrow::Cow;

/// SQL picking the indexed message rows (the name codes of `events::SEARCHED`) with
/// what [`decode_row`] reads, then pos and the conversation id; `condition` (on `e`)
/// is the rest of the WHERE clause.
fn message_rows(condition: &str) -> String {
    format!(
        "SELECT e.seq, e.id, e.name, e.type, e.timestamp, e.event, e.message_id, e.pos, k.id
         FROM cim_event_rows e JOIN conversation_keys k ON k.key = e.conv
         WHERE e.name IN ({}) AND {condition} ORDER BY e.pos",
        events::searched_codes_sql()
    )
}

/// The indexed text of the message rows `condition` picks (on `e`, the rows of
/// `cim_event_rows`, with `params`), by position.
fn texts(
    c: &Connection,
    condition: &str,
    params: &[&dyn ToSql],
) -> StoreResult<Vec<(i64, String)>> {
    let mut st = c.prepare_cached(&message_rows(condition))?;
    let mut rows = st.query(params)?;
    let mut inflater = Inflater::new(c);
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let pos: i64 = r.get(7)?;
        let conversation_id: String = r.get(8)?;
        let event = decode_row(&mut inflater, &conversation_id, r, Reading::Body)?;
        if let Some(text) = event.as_object().and_then(|e| events::search_text(e, None)) {
            out.push((pos, text.to_owned()));
        }
    }
    Ok(out)
}

/// Removes from the index the messages among the rows of `cim_event_rows` that
/// `condition` (on `e`) picks with any of `param_sets`, before the caller deletes
/// those rows. Returns how many index rows were removed.
///
/// The deletions go in ascending rowid order: FTS5 flushes its pending changes
/// whenever a write's rowid is lower than the one before, and with `secure-delete` a
/// flush seeks every term's segments. The messages of the conversations a purge
/// batch removes interleave, so taken conversation by conversation they flushed once
/// per conversation (most of a purge's time, docs/benchmarks.md); sorted, once per
/// batch.
pub fn unindex(c: &Connection, condition: &str, param_sets: &[&[&dyn ToSql]]) -> StoreResult<u64> {
    let mut all = Vec::new();
    for params in param_sets {
        all.extend(texts(c, condition, params)?);
    }
    all.sort_unstable_by_key(|(pos, _)| *pos);
    // A row picked twice is deleted once: FTS5 must not be told of a row it no
    // longer holds.
    all.dedup_by_key(|(pos, _)| *pos);
    let mut delete = c.prepare_cached(
        "INSERT INTO message_text(message_text, rowid, text) VALUES ('delete', ?1, ?2)",
    )?;
    for (pos, text) in &all {
        delete.execute(params![pos, text])?;
    }
    Ok(all.len() as u64)
}

/// The messages a write appended, indexed once its rows are in ([`PendingIndex::write`]).
///
/// Why not at once: inserting an event row opens a statement journal (the row has a
/// trigger and unique keys), and FTS5 flushes its pending terms to a new segment of
/// the index at every such savepoint. Indexing each message right after its row
/// flushed a segment per message, and merged them again soon after (a tenth of the
/// store writer's time under chat load, docs/benchmarks.md); indexed after the last
/// row, a write's messages reach the index as one segment, at commit. A write that
/// appends events must end with [`PendingIndex::write`]: dropped, the noted messages
/// are not searchable.
#[derive(Debug, Default)]
pub struct PendingIndex<'a> {
    messages: Vec<(i64, Cow<'a, str>)>,
}

impl<'a> PendingIndex<'a> {
    /// Notes the message text of the event row at `pos`.
    pub fn add(&mut self, pos: i64, text: impl Into<Cow<'a, str>>) {
        self.messages.push((pos, text.into()));
    }

    /// Indexes the messages noted, in the caller's transaction, after its last row.
    pub fn write(self, c: &Connection) -> StoreResult<()> {
        if self.messages.is_empty() {
            return Ok(());
        }
        let mut insert =
            c.prepare_cached("INSERT INTO message_text(rowid, text) VALUES (?1, ?2)")?;
        for (pos, text) in self.messages {
            insert.execute(params![pos, &*text])?;
        }
        Ok(())
    }
}

/// Messages indexed per transaction of the carry-over.
const CARRY_BATCH: i64 = 20_000;

/// Indexes the messages stored before migration V30 (or V24) in the new
/// `message_text`, from their events (an FTS5 table cannot be altered to drop its
/// sizes, and V9's index, `message_text_v9`, cannot give its text back), then drops
/// V9's index if it is still there. Runs after the migrations, in transactions of
/// [`CARRY_BATCH`] messages that record how far they got, so an interrupted
/// carry-over goes on where it stopped. Nothing to do once `message_text_carry` is
/// gone.
pub fn carry_over(c: &mut Connection) -> StoreResult<u64> {
    let pending: Option<i64> = c
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'message_text_carry'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if pending.is_none() {
        return Ok(0);
    }
    let mut carried = 0;
    loop {
        let tx = c.transaction()?;
        let after: i64 =
            tx.query_row("SELECT next_pos FROM message_text_carry", [], |r| r.get(0))?;
        let last: Option<i64> = tx.query_row(
            &format!(
                "SELECT MAX(pos) FROM (SELECT pos FROM cim_event_rows
                 WHERE name IN ({}) AND pos > ?1 ORDER BY pos LIMIT ?2)",
                events::searched_codes_sql()
            ),
            params![after, CARRY_BATCH],
            |r| r.get(0),
        )?;
        let Some(last) = last else {
            tx.execute_batch(
                "DROP TABLE IF EXISTS message_text_v9; DROP TABLE message_text_carry;",
            )?;
            tx.commit()?;
            return Ok(carried);
        };
        let texts = texts(&tx, "e.pos > ?1 AND e.pos <= ?2", &[&after, &last])?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO message_text(rowid, text) VALUES (?1, ?2)")?;
            for (pos, text) in &texts {
                insert.execute(params![pos, text])?;
            }
        }
        tx.execute("UPDATE message_text_carry SET next_pos = ?1", [last])?;
        tx.commit()?;
        carried += texts.len() as u64;
        tracing::info!(carried, up_to = last, "message index carried over");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::events::{append, encode, EventRow};
    use crate::store::objects::Interner;
    use serde_json::json;

    fn message(c: &Connection, seq: u64, text: &str) {
        let event = json!({
            "id": format!("e-{seq}"), "name": "CUSTOMER_MESSAGE", "type": "MESSAGE",
            "timestamp": 1_750_000_000_000i64 + seq as i64, "conversationId": "conv-1",
            "data": {"id": format!("m-{seq}"), "body": {"type": "PLAIN", "markdownText": text}}
        });
        let message_id = format!("m-{seq}");
        let encoded = encode(event, "conv-1", Some(&message_id), 1_750_000_000_000);
        let row = EventRow {
            id: &format!("e-{seq}"),
            conversation_id: "conv-1",
            seq,
            name: "CUSTOMER_MESSAGE",
            kind: "MESSAGE",
            timestamp: 1_750_000_000_000,
            message_id: Some(&message_id),
            event: &encoded,
            runtime: None,
        };
        let mut index = PendingIndex::default();
        let appended = append(c, &mut Interner::default(), &mut index, &row).unwrap();
        assert_eq!(appended, crate::store::events::Appended::Stored);
        index.write(c).unwrap();
    }

    fn matches(c: &Connection, word: &str) -> i64 {
        c.query_row(
            "SELECT COUNT(*) FROM message_text WHERE message_text MATCH ?1",
            [word],
            |r| r.get(0),
        )
        .unwrap()
    }

    fn integrity(c: &Connection) {
        c.execute(
            "INSERT INTO message_text(message_text, rank) VALUES ('integrity-check', 0)",
            [],
        )
        .unwrap();
    }

    #[test]
    fn removed_messages_leave_the_index_with_their_words() {
        let c = crate::store::test_connection();
        message(&c, 1, "apricot and plum");
        message(&c, 2, "plum only");
        message(&c, 3, "");
        assert_eq!((matches(&c, "plum"), matches(&c, "apricot")), (2, 1));
        let removed = unindex(&c, "e.seq <= ?1", &[&[&2]]).unwrap();
        assert_eq!(removed, 2, "the empty message was never indexed");
        assert_eq!((matches(&c, "plum"), matches(&c, "apricot")), (0, 0));
        integrity(&c);
    }

    #[test]
    fn messages_picked_by_several_conditions_leave_the_index_in_one_pass() {
        let c = crate::store::test_connection();
        for (seq, text) in [
            (1, "fig tart"),
            (2, "fig jam"),
            (3, "date loaf"),
            (4, "fig roll"),
        ] {
            message(&c, seq, text);
        }
        // Picked out of order, as interleaved chats are, and one of them twice.
        let removed = unindex(&c, "e.seq = ?1", &[&[&4], &[&1], &[&3], &[&4]]).unwrap();
        assert_eq!(removed, 3);
        assert_eq!(
            (matches(&c, "fig"), matches(&c, "jam"), matches(&c, "date")),
            (1, 1, 0)
        );
        integrity(&c);
    }

    #[test]
    fn messages_indexed_before_v21_are_carried_over_from_their_events() {
        let mut c = crate::store::test_connection();
        message(&c, 1, "quince jelly");
        message(&c, 2, "more quince");
        // As a database migrated to V24 is: V9's index still there, the new one empty.
        c.execute_batch(
            "INSERT INTO message_text(message_text) VALUES ('delete-all');
             CREATE VIRTUAL TABLE message_text_v9 USING fts5(text, content = '', contentless_delete = 1);
             CREATE TABLE message_text_carry (next_pos INTEGER NOT NULL);
             INSERT INTO message_text_carry(next_pos) VALUES (0);",
        )
        .unwrap();
        assert_eq!(matches(&c, "quince"), 0);
        assert_eq!(carry_over(&mut c).unwrap(), 2);
        assert_eq!((matches(&c, "quince"), matches(&c, "jelly")), (2, 1));
        integrity(&c);
        let left: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('message_text_v9', 'message_text_carry')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
        assert_eq!(carry_over(&mut c).unwrap(), 0, "done once");
    }

    #[test]
    fn messages_indexed_before_v30_are_carried_over_into_the_index_without_sizes() {
        let mut c = crate::store::test_connection();
        let options: String = c
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'message_text'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(options.contains("columnsize = 0"), "{options}");
        message(&c, 1, "medlar tart");
        // As a database migrated to V30 is: the new index empty, the carry-over at 0.
        c.execute_batch(
            "INSERT INTO message_text(message_text) VALUES ('delete-all');
             CREATE TABLE message_text_carry (next_pos INTEGER NOT NULL);
             INSERT INTO message_text_carry(next_pos) VALUES (0);",
        )
        .unwrap();
        assert_eq!(carry_over(&mut c).unwrap(), 1);
        assert_eq!(matches(&c, "medlar"), 1);
        integrity(&c);
        let sizes: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'message_text_docsize'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(sizes, 0, "no per-row sizes are kept");
    }
}
