//! Customer-side credentials, kept only as SHA-256 digests (`users::token_digest`):
//! widget session secrets (table `widget_secrets`, one per channel session a widget
//! started) and channel connector tokens (`channels.connector_token_hash`).

use super::users::token_digest;
use super::StoreResult;
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};

/// Keeps the digest of the secret guarding the channel session `session_id`.
pub fn put_widget_secret(
    conn: &Connection,
    session_id: &str,
    digest: &str,
    now: Millis,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO widget_secrets(channel_session_id, secret_hash, created_at)
         VALUES (?1, ?2, ?3)",
    )?
    .execute(params![session_id, digest, now])?;
    Ok(())
}

/// The digest guarding the channel session `session_id`, if a widget started it.
pub fn widget_secret(conn: &Connection, session_id: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT secret_hash FROM widget_secrets WHERE channel_session_id = ?1")?
        .query_row([session_id], |r| r.get(0))
        .optional()?)
}

/// Sets the connector token digest of the channel `channel_id`.
pub fn set_connector_token(conn: &Connection, channel_id: &str, digest: &str) -> StoreResult<()> {
    conn.prepare_cached("UPDATE channels SET connector_token_hash = ?2 WHERE id = ?1")?
        .execute(params![channel_id, digest])?;
    Ok(())
}

/// The service identifiers of the channels whose connector token has `digest`
/// (deleted channels excluded).
pub fn channels_for_connector_token(conn: &Connection, digest: &str) -> StoreResult<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT service_identifier FROM channels
         WHERE connector_token_hash = ?1 AND deleted_at IS NULL",
    )?;
    let rows = stmt.query_map([digest], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<String>, _>>()?)
}

/// True when `secret` is the one whose digest is `digest` (compared whole, so timing
/// tells nothing about a guess).
pub fn matches(secret: &str, digest: &str) -> bool {
    let given = token_digest(secret);
    given.len() == digest.len()
        && given
            .bytes()
            .zip(digest.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::users::new_token;

    #[test]
    fn a_secret_matches_only_its_digest() {
        let (secret, digest) = new_token();
        assert!(matches(&secret, &digest));
        assert!(!matches(&format!("{secret}x"), &digest));
        assert!(!matches("", &digest));
        assert_ne!(secret, digest, "the digest is not the secret");
    }
}
