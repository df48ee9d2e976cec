//! Erasing one customer's personal data on an admin's request, in one write:
//!
//! - the customer row stays (conversations refer to it) as `(erased)`, without
//!   attributes; its identifiers go, so the same visitor later starts anew;
//! - every conversation of theirs loses its transcript ([`super::forget`], nothing
//!   kept: messages, wrap-ups, the full-text rows, the CSAT comment, attachments,
//!   webhook deliveries), and its other stored texts (snapshot, channel sessions,
//!   participants, tasks, task log, the input journal's rows and its states of the
//!   conversation core)
//!   and the shared objects they refer to have the customer's values replaced
//!   ([`super::scrub`]); conversation, task and report rows stay, so reports read the
//!   same;
//! - nothing of it stays readable in the database file: the write runs with
//!   `secure_delete` on (freed cells and pages are zeroed), the message index and
//!   the customer index remove the customer's words from their pages as their rows
//!   go (FTS5 `secure-delete`, migrations V23 and V24: in proportion to the
//!   customer's messages, not the whole index), and zeroes the pages that were free before
//!   (the writer runs with `secure_delete = FAST`, which zeroes freed cells but not
//!   whole freed pages); the caller then truncates the WAL ([`Store::truncate_wal`]).
//!
//! A customer with a conversation still open is refused: close it first.

use super::forget::{self, Keep};
use super::scrub::{Secrets, ERASED};
use crate::clock::Millis;
use crate::store::audit::{self, Actor, Change};
use crate::store::objects::{self, Inflater};
use crate::store::tasks;
use crate::store::{Blocker, StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashSet;

/// What an erasure changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Erased {
    pub customer_id: String,
    /// The customer's conversations (anonymised, transcripts removed).
    pub conversation_ids: Vec<String>,
    /// Stored events removed.
    pub events: u64,
    /// Stored texts and shared objects rewritten without the customer's values.
    pub rewritten: u64,
}

/// Stored texts of a conversation that may hold the customer's values:
/// (table, the condition picking the conversation's rows (`?1` its id), text column,
/// the column naming a row among them: `rowid`, or `id` in a table without one).
const TEXTS: &[(&str, &str, &str, &str)] = &[
    ("conversations", "id = ?1", "data", "rowid"),
    ("conversations", "id = ?1", "metadata", "rowid"),
    ("conversations", "id = ?1", "snapshot", "rowid"),
    ("channel_sessions", "conversation_id = ?1", "session", "id"),
    ("participants", "conversation_id = ?1", "participant", "id"),
    ("tasks", "conversation_id = ?1", "snapshot", "rowid"),
    // Its coded facts (BLOBs, `store::task_facts`) are scrubbed by [`scrub_coded_facts`].
    (
        "task_log",
        "conv = (SELECT key FROM conversation_keys WHERE id = ?1) AND typeof(fact) = 'text'",
        "fact",
        "rowid",
    ),
    // The conversation's inputs in the input journal that may hold the customer's
    // values (`Kind::ConversationPersonal`, `Kind::SitePersonal`; the others hold ids
    // and references to the events, which go), found by the index of migrations V33
    // and V35.
    (
        "routing_journal",
        "kind IN (4, 6, 8) AND conv = (SELECT key FROM conversation_keys WHERE id = ?1)",
        "input",
        "pos",
    ),
];

/// The input journal's states of the conversation core (`journal::ConversationState`,
/// each holding every conversation open when it was taken, so the customer's too) and
/// its inputs of no conversation (refused ones): read once per erasure (`?1` is
/// unused), by the index of migration V33.
const JOURNAL_STATES: (&str, &str, &str, &str) = (
    "routing_journal",
    "kind IN (4, 6, 8) AND conv IS NULL AND ?1 = ?1",
    "input",
    "pos",
);

/// Blob size of one row written to zero free pages.
const WIPE_CHUNK: i64 = 16 << 20;

/// Erases customer `id` in the caller's transaction (see the module doc) and
/// records it in the audit log (ids and counts only).
pub fn customer(c: &Connection, id: &str, actor: &Actor, now: Millis) -> StoreResult<Erased> {
    let _secure = SecureDelete::on(c)?;
    let (first_name, data): (String, String) = c
        .prepare_cached("SELECT first_name, data FROM customers WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("customer {id}")))?;
    let conversations: Vec<(String, String)> = c
        .prepare_cached("SELECT id, state FROM conversations WHERE customer_id = ?1")?
        .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let open: Vec<Blocker> = conversations
        .iter()
        .filter(|(_, state)| state != "CLOSED")
        .map(|(cid, _)| Blocker {
            kind: "conversation".into(),
            id: cid.clone(),
            name: cid.clone(),
        })
        .collect();
    StoreError::unless_blocked("the customer", open)?;
    let ids: Vec<String> = conversations.into_iter().map(|(cid, _)| cid).collect();

    let mut secrets = Secrets::default();
    if first_name != ERASED {
        secrets.add(&first_name);
    }
    secrets.add_all(&crate::store::parse_json(&data, "customers.data")?);
    let identifiers: Vec<String> = c
        .prepare_cached("SELECT identifier FROM customer_identifiers WHERE customer_id = ?1")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    identifiers.iter().for_each(|i| secrets.add(i));
    for cid in &ids {
        typed_values(c, cid, &mut secrets)?;
    }

    let mut done = Erased {
        customer_id: id.to_string(),
        ..Erased::default()
    };
    let mut refs = Vec::new();
    for cid in &ids {
        for text in TEXTS {
            done.rewritten += scrub_rows(c, text, cid, &secrets, &mut refs)?;
        }
        done.rewritten += scrub_coded_facts(c, cid, &secrets, &mut refs)?;
        // The events go; the objects they refer to are scrubbed below.
        let mut st = c.prepare_cached("SELECT event FROM cim_events WHERE conversation_id = ?1")?;
        let mut rows = st.query([cid])?;
        while let Some(r) = rows.next()? {
            let text = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
            Secrets::default().scrub_text(text, &mut |id| objects::read_shape(c, id), &mut refs)?;
        }
        done.events += forget::transcript(c, cid, Keep::Nothing)?;
        c.prepare_cached(
            "DELETE FROM widget_secrets WHERE channel_session_id IN
                 (SELECT id FROM channel_sessions WHERE conversation_id = ?1)",
        )?
        .execute([cid])?;
    }
    done.rewritten += scrub_rows(c, &JOURNAL_STATES, "", &secrets, &mut refs)?;
    done.rewritten += scrub_objects(c, refs, &secrets)?;
    c.prepare_cached(
        "UPDATE customers SET first_name = ?2, data = '{}', is_anonymous = 1, erased_at = ?3
         WHERE id = ?1",
    )?
    .execute(params![id, ERASED, now])?;
    c.prepare_cached("DELETE FROM customer_identifiers WHERE customer_id = ?1")?
        .execute([id])?;
    wipe_free_pages(c)?;
    done.conversation_ids = ids;
    audit::record(
        c,
        actor,
        Change {
            action: "erase",
            entity_type: "customer",
            entity_id: id,
            entity_name: "",
            before: None,
            after: Some(json!({
                "conversationIds": done.conversation_ids,
                "events": done.events,
                "rewritten": done.rewritten,
            })),
        },
        now,
    )?;
    Ok(done)
}

/// Adds what the customer typed into the widget's form (and the names a connector
/// gave) in conversation `cid`'s channel sessions.
fn typed_values(c: &Connection, cid: &str, secrets: &mut Secrets) -> StoreResult<()> {
    let texts: Vec<String> = c
        .prepare_cached("SELECT session FROM channel_sessions WHERE conversation_id = ?1")?
        .query_map([cid], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut inflater = Inflater::new(c);
    for text in texts {
        let session = inflater.decode(&text, "channel_sessions.session")?;
        let data = &session["channelData"];
        for key in ["customerFirstName", "customerLastName"] {
            if let Some(v) = data[key].as_str() {
                secrets.add(v);
            }
        }
        for attribute in data["additionalAttributes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let fields = attribute.pointer("/value/formData/attributes");
            for field in fields.and_then(Value::as_array).into_iter().flatten() {
                secrets.add_all(&field["value"]);
            }
        }
    }
    Ok(())
}

/// Scrubs `column` of `table`'s rows of conversation `cid` (a [`TEXTS`] entry);
/// returns the rows changed.
fn scrub_rows(
    c: &Connection,
    (table, rows_of, column, key): &(&str, &str, &str, &str),
    cid: &str,
    secrets: &Secrets,
    refs: &mut Vec<i64>,
) -> StoreResult<u64> {
    let rows: Vec<(rusqlite::types::Value, String)> = c
        .prepare_cached(&format!(
            "SELECT {key}, {column} FROM {table} WHERE {rows_of}"
        ))?
        .query_map([cid], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut changed = 0;
    for (row, text) in rows {
        if let Some(new) = secrets.scrub_text(&text, &mut |id| objects::read_shape(c, id), refs)? {
            c.prepare_cached(&format!(
                "UPDATE {table} SET {column} = ?3 WHERE {rows_of} AND {key} = ?2"
            ))?
            .execute(params![cid, row, new])?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Scrubs conversation `cid`'s task-log facts stored as byte codes (which hold a
/// customer's name), read as their JSON and stored again; returns the rows changed.
fn scrub_coded_facts(
    c: &Connection,
    cid: &str,
    secrets: &Secrets,
    refs: &mut Vec<i64>,
) -> StoreResult<u64> {
    let mut changed = 0;
    for (pos, text) in tasks::coded_facts_of(c, cid)? {
        if let Some(new) = secrets.scrub_text(&text, &mut |id| objects::read_shape(c, id), refs)? {
            tasks::replace_fact(c, pos, &new)?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Scrubs the shared objects in `refs` and those they refer to; returns how many
/// changed. Objects holding none of the values (a channel, a queue) are left alone.
fn scrub_objects(c: &Connection, mut refs: Vec<i64>, secrets: &Secrets) -> StoreResult<u64> {
    let mut seen = HashSet::new();
    let mut changed = 0;
    while let Some(oid) = refs.pop() {
        if !seen.insert(oid) {
            continue;
        }
        let body: Option<String> = c
            .prepare_cached("SELECT body FROM cim_objects WHERE id = ?1")?
            .query_row([oid], |r| r.get(0))
            .optional()?;
        let Some(body) = body else { continue };
        if let Some(new) =
            secrets.scrub_text(&body, &mut |id| objects::read_shape(c, id), &mut refs)?
        {
            c.prepare_cached("UPDATE cim_objects SET body = ?2 WHERE id = ?1")?
                .execute(params![oid, new])?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Overwrites every page that is free in the database file with zeros: a table
/// takes them all (SQLite allocates free pages first) with zero blobs, and gives
/// them back.
fn wipe_free_pages(c: &Connection) -> StoreResult<()> {
    let free: i64 = c.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    let page: i64 = c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let mut left = free * page;
    while left > 0 {
        let size = left.min(WIPE_CHUNK);
        c.prepare_cached("INSERT INTO erase_wipe(b) VALUES (zeroblob(?1))")?
            .execute([size])?;
        left -= size;
    }
    c.execute("DELETE FROM erase_wipe", [])?;
    Ok(())
}

/// `secure_delete` on for the erasure's write, back to the writer's FAST after.
struct SecureDelete<'c>(&'c Connection);

impl<'c> SecureDelete<'c> {
    fn on(c: &'c Connection) -> StoreResult<SecureDelete<'c>> {
        c.pragma_update(None, "secure_delete", "ON")?;
        Ok(SecureDelete(c))
    }
}

impl Drop for SecureDelete<'_> {
    fn drop(&mut self) {
        let _ = self.0.pragma_update(None, "secure_delete", "FAST");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan of `table`'s rows under `condition`, as `scrub_rows` reads them.
    fn plan(c: &Connection, (table, condition, column, key): &(&str, &str, &str, &str)) -> String {
        let sql =
            format!("EXPLAIN QUERY PLAN SELECT {key}, {column} FROM {table} WHERE {condition}");
        let rows: Vec<String> = c
            .prepare(&sql)
            .unwrap()
            .query_map(["conv-1"], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        rows.join("; ")
    }

    #[test]
    fn the_journal_rows_an_erasure_scrubs_are_found_by_index() {
        let c = crate::store::test_connection();
        let journal = TEXTS
            .iter()
            .find(|(table, ..)| *table == "routing_journal")
            .unwrap();
        for text in [journal, &JOURNAL_STATES] {
            let plan = plan(&c, text);
            assert!(plan.contains("routing_journal_conversations"), "{plan}");
        }
    }
}
