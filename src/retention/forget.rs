//! What removing a conversation's transcript removes, in the caller's transaction:
//! its stored events (their full-text rows first, with their text:
//! `store::message_index`) and its CSAT comment. The retention purge keeps the wrap-up messages (codes and note
//! stay in search rows); an erasure keeps nothing.
//!
//! Data kept elsewhere for a conversation is removed here too, so the purge and the
//! erasure both reach it: its webhook deliveries (the outbox rows, which carry its
//! messages), and its attachments (the rows here, the files no row names any more by
//! the caller after the commit: `crate::attachments::sweep`).

use crate::store::{message_index, StoreResult};
use rusqlite::{Connection, ToSql};

/// What of a transcript stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The wrap-up messages (`AGENT_MESSAGE` of body type `WRAPUP`).
    WrapUps,
    Nothing,
}

/// Removes the transcript of `conversation_id`; returns the events removed.
pub fn transcript(c: &Connection, conversation_id: &str, keep: Keep) -> StoreResult<u64> {
    transcripts(c, std::slice::from_ref(&conversation_id), keep)
}

/// Removes the transcripts of `conversation_ids`; returns the events removed.
///
/// Every message leaves the message index, in one pass for the batch
/// (`message_index::unindex`), before any row is deleted: deleting an event row
/// opens a statement savepoint, at which FTS5 flushes its pending deletions.
pub fn transcripts<S: AsRef<str>>(
    c: &Connection,
    conversation_ids: &[S],
    keep: Keep,
) -> StoreResult<u64> {
    let condition = match keep {
        Keep::WrapUps => {
            "e.conv = (SELECT key FROM conversation_keys WHERE id = ?1)
             AND NOT (e.name = (SELECT code FROM event_names WHERE event_names.name = 'AGENT_MESSAGE')
                      AND instr(e.event, '\"WRAPUP\"') > 0)"
        }
        Keep::Nothing => "e.conv = (SELECT key FROM conversation_keys WHERE id = ?1)",
    };
    // Their words leave the message index first: it is told each message's text.
    let keys: Vec<&str> = conversation_ids.iter().map(|id| id.as_ref()).collect();
    let param_sets: Vec<[&dyn ToSql; 1]> = keys.iter().map(|id| [id as &dyn ToSql]).collect();
    let param_sets: Vec<&[&dyn ToSql]> = param_sets.iter().map(|p| p.as_slice()).collect();
    message_index::unindex(c, condition, &param_sets)?;
    let mut events = 0;
    for id in conversation_ids {
        let conversation_id = id.as_ref();
        events += c
            .prepare_cached(&format!(
                "DELETE FROM cim_event_rows WHERE pos IN (SELECT e.pos FROM cim_event_rows e WHERE {condition})"
            ))?
            .execute([conversation_id])? as u64;
        c.prepare_cached(
            "UPDATE csat SET comment = '' WHERE conversation_id = ?1 AND comment <> ''",
        )?
        .execute([conversation_id])?;
        // Its attachments' rows; their files go at the sweep after the commit.
        crate::store::attachments::delete_for_conversation(c, conversation_id)?;
        // Its webhook deliveries carry its messages' text (a connector's or a bot's copy).
        crate::store::outbox::delete_for_conversation(c, conversation_id)?;
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox;
    use serde_json::json;

    #[test]
    fn a_removed_transcript_takes_its_webhook_deliveries_with_it() {
        let c = crate::store::test_connection();
        let hook = "http://hook.example/in";
        outbox::enqueue(&c, "m1", Some("c1"), hook, &json!({"text": "tangerine"}), 1).unwrap();
        outbox::enqueue(&c, "m2", Some("c2"), hook, &json!({"text": "kumquat"}), 1).unwrap();
        transcript(&c, "c1", Keep::WrapUps).unwrap();
        let left: Vec<String> = c
            .prepare("SELECT payload FROM outbox")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(left, [json!({"text": "kumquat"}).to_string()]);
    }
}
