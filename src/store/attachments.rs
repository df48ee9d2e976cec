//! Attachment rows (table `attachments`, V12): which upload of which conversation is
//! which content-addressed file, and the site key that signs their URLs
//! (`site_keys`). The bytes themselves are `crate::attachments::files`' business.

use super::StoreResult;
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};

/// One stored upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    pub id: String,
    pub sha256: String,
    pub conversation_id: String,
    pub size: i64,
    pub mime_type: String,
    pub file_name: String,
    /// `AGENT:<user id>` or `CUSTOMER:<channel session id>`.
    pub uploaded_by: String,
    pub created_at: Millis,
}

pub fn insert(conn: &Connection, row: &AttachmentRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO attachments
         (id, sha256, conversation_id, size, mime_type, file_name, uploaded_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        row.id,
        row.sha256,
        row.conversation_id,
        row.size,
        row.mime_type,
        row.file_name,
        row.uploaded_by,
        row.created_at
    ])?;
    Ok(())
}

/// The ids of the attachments uploaded to a conversation: the only ones its
/// transcript's URLs are signed afresh for.
pub fn ids_of_conversation(
    conn: &Connection,
    conversation_id: &str,
) -> StoreResult<std::collections::HashSet<String>> {
    let mut st = conn.prepare_cached("SELECT id FROM attachments WHERE conversation_id = ?1")?;
    let ids = st
        .query_map([conversation_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<AttachmentRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, sha256, conversation_id, size, mime_type, file_name, uploaded_by,
                    created_at
             FROM attachments WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(AttachmentRow {
                id: r.get(0)?,
                sha256: r.get(1)?,
                conversation_id: r.get(2)?,
                size: r.get(3)?,
                mime_type: r.get(4)?,
                file_name: r.get(5)?,
                uploaded_by: r.get(6)?,
                created_at: r.get(7)?,
            })
        })
        .optional()?)
}

/// Every hash a row names (what a backup must carry).
pub fn all_hashes(conn: &Connection) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT sha256 FROM attachments")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

/// Deletes the attachment rows of `conversation_id`, in the caller's transaction (the
/// retention purge and erasure, see `retention::forget`); returns how many. Their files
/// go at the next sweep (`crate::attachments::sweep`), once no row names them.
pub fn delete_for_conversation(conn: &Connection, conversation_id: &str) -> StoreResult<u64> {
    Ok(conn
        .prepare_cached("DELETE FROM attachments WHERE conversation_id = ?1")?
        .execute([conversation_id])? as u64)
}

/// True when some row still names `hash`.
pub fn hash_in_use(conn: &Connection, hash: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)")?
        .query_row([hash], |r| r.get(0))?)
}

/// The site key named `name`, made with `make` and kept on first use.
pub fn site_key(
    conn: &Connection,
    name: &str,
    make: impl FnOnce() -> String,
) -> StoreResult<String> {
    conn.prepare_cached("INSERT OR IGNORE INTO site_keys(name, key) VALUES (?1, ?2)")?
        .execute(params![name, make()])?;
    Ok(conn
        .prepare_cached("SELECT key FROM site_keys WHERE name = ?1")?
        .query_row([name], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, hash: &str, conversation: &str) -> AttachmentRow {
        AttachmentRow {
            id: id.into(),
            sha256: hash.into(),
            conversation_id: conversation.into(),
            size: 3,
            mime_type: "text/plain".into(),
            file_name: "a.txt".into(),
            uploaded_by: "AGENT:u".into(),
            created_at: 1,
        }
    }

    #[test]
    fn a_conversations_rows_go_and_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(
            &dir.path().join("t.db"),
            &crate::config::StoreConfig::default(),
        )
        .unwrap();
        store
            .write_blocking(|c| {
                insert(c, &row("a1", "h-shared", "c1"))?;
                insert(c, &row("a2", "h-own", "c1"))?;
                insert(c, &row("a3", "h-shared", "c2"))?;
                assert_eq!(delete_for_conversation(c, "c1")?, 2);
                assert!(get(c, "a1")?.is_none());
                assert!(!hash_in_use(c, "h-own")?);
                assert!(get(c, "a3")?.is_some());
                assert!(hash_in_use(c, "h-shared")?);
                let first = site_key(c, "k", || "one".into())?;
                let again = site_key(c, "k", || "two".into())?;
                assert_eq!((first.as_str(), again.as_str()), ("one", "one"));
                Ok(())
            })
            .unwrap();
    }
}
