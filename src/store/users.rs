//! Users, teams and login sessions: argon2 password hashes and opaque bearer
//! tokens stored as SHA-256 digests with an expiry.

use super::{StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    Hash,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub team_id: Option<String>,
    pub team_name: Option<String>,
    /// Teams this user supervises (supervisors only).
    pub supervised_teams: Vec<TeamRef>,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamRef {
    pub team_id: String,
    pub team_name: String,
}

pub struct NewUser {
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub team_id: Option<String>,
    /// An argon2 PHC string from [`hash_password`].
    pub password_hash: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("password must be at least {0} characters")]
    TooShort(usize),
    #[error("cannot hash password: {0}")]
    Hash(String),
}

pub const MIN_PASSWORD_LEN: usize = 5;

/// Hashes a password with argon2id and a random salt. Slow by design: call it
/// off the writer thread.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(PasswordError::TooShort(MIN_PASSWORD_LEN));
    }
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Checks a password against a stored hash; false for any malformed hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2::Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh opaque token and the digest under which it is stored.
pub fn new_token() -> (String, String) {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let digest = token_digest(&token);
    (token, digest)
}

pub fn token_digest(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

const USER_COLUMNS: &str =
    "u.id, u.username, u.first_name, u.last_name, u.role, u.team_id, t.name, u.disabled";

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = row.get(4)?;
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        first_name: row.get(2)?,
        last_name: row.get(3)?,
        role: Role::parse(&role).unwrap_or(Role::Agent),
        team_id: row.get(5)?,
        team_name: row.get(6)?,
        supervised_teams: Vec::new(),
        disabled: row.get::<_, i64>(7)? != 0,
    })
}

fn with_supervised(conn: &Connection, mut user: User) -> StoreResult<User> {
    if user.role != Role::Agent {
        let mut st = conn.prepare_cached(
            "SELECT t.id, t.name FROM team_supervisors s JOIN teams t ON t.id = s.team_id
             WHERE s.user_id = ?1 ORDER BY t.name",
        )?;
        user.supervised_teams = st
            .query_map([&user.id], |r| {
                Ok(TeamRef {
                    team_id: r.get(0)?,
                    team_name: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(user)
}

pub fn create_user(conn: &Connection, new: NewUser, now: Millis) -> StoreResult<User> {
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO users(id, username, first_name, last_name, role, password_hash, team_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id,
            new.username,
            new.first_name,
            new.last_name,
            new.role.as_str(),
            new.password_hash,
            new.team_id,
            now
        ],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("user {}", new.username)))?;
    get_user(conn, &id)?.ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

pub fn get_user(conn: &Connection, id: &str) -> StoreResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u LEFT JOIN teams t ON t.id = u.team_id WHERE u.id = ?1"
    );
    let user = conn
        .prepare_cached(&sql)?
        .query_row([id], user_from_row)
        .optional()?;
    user.map(|u| with_supervised(conn, u)).transpose()
}

/// The user and its password hash, for login.
pub fn find_for_login(conn: &Connection, username: &str) -> StoreResult<Option<(User, String)>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, u.password_hash FROM users u LEFT JOIN teams t ON t.id = u.team_id
         WHERE u.username = ?1"
    );
    let found = conn
        .prepare_cached(&sql)?
        .query_row([username], |r| {
            Ok((user_from_row(r)?, r.get::<_, String>(8)?))
        })
        .optional()?;
    found
        .map(|(u, h)| Ok((with_supervised(conn, u)?, h)))
        .transpose()
}

pub fn list_users(conn: &Connection) -> StoreResult<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u LEFT JOIN teams t ON t.id = u.team_id ORDER BY u.username"
    );
    let users: Vec<User> = conn
        .prepare_cached(&sql)?
        .query_map([], user_from_row)?
        .collect::<Result<_, _>>()?;
    users
        .into_iter()
        .map(|u| with_supervised(conn, u))
        .collect()
}

pub fn set_password(conn: &Connection, username: &str, password_hash: &str) -> StoreResult<()> {
    let n = conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE username = ?1",
        params![username, password_hash],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("user {username}")));
    }
    // A new password ends every open session of the user.
    conn.execute(
        "UPDATE sessions SET revoked_at = strftime('%s','now') * 1000
         WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE username = ?1)",
        [username],
    )?;
    Ok(())
}

pub fn create_team(conn: &Connection, name: &str, now: Millis) -> StoreResult<TeamRef> {
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO teams(id, name, created_at) VALUES (?1, ?2, ?3)",
        params![id, name, now],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("team {name}")))?;
    Ok(TeamRef {
        team_id: id,
        team_name: name.to_string(),
    })
}

pub fn add_team_supervisor(conn: &Connection, team_id: &str, user_id: &str) -> StoreResult<()> {
    conn.execute(
        "INSERT OR IGNORE INTO team_supervisors(team_id, user_id) VALUES (?1, ?2)",
        params![team_id, user_id],
    )?;
    Ok(())
}

/// Ids of the supervisors (and admins) who oversee `team_id`.
pub fn supervisors_of_team(conn: &Connection, team_id: &str) -> StoreResult<Vec<String>> {
    let mut st = conn.prepare_cached("SELECT user_id FROM team_supervisors WHERE team_id = ?1")?;
    let ids = st
        .query_map([team_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

pub fn create_session(
    conn: &Connection,
    user_id: &str,
    token_hash: &str,
    now: Millis,
    ttl_ms: Millis,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, user_id, now, now + ttl_ms],
    )?;
    // Expired and revoked sessions older than a day are of no further use.
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND (expires_at < ?2 OR revoked_at < ?2)",
        params![user_id, now - 86_400_000],
    )?;
    Ok(())
}

/// The live (not expired, not revoked, not disabled) user behind a token digest.
pub fn user_for_token(
    conn: &Connection,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
         LEFT JOIN teams t ON t.id = u.team_id
         WHERE s.token_hash = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2 AND u.disabled = 0"
    );
    let user = conn
        .prepare_cached(&sql)?
        .query_row(params![token_hash, now], user_from_row)
        .optional()?;
    user.map(|u| with_supervised(conn, u)).transpose()
}

/// The live user behind a token digest and when the token expires (for a socket
/// opened with it; see `crate::sessions`).
pub fn grant_for_token(
    conn: &Connection,
    token_hash: &str,
    now: Millis,
) -> StoreResult<Option<(User, Millis)>> {
    let Some(user) = user_for_token(conn, token_hash, now)? else {
        return Ok(None);
    };
    let expires_at = conn
        .prepare_cached("SELECT expires_at FROM sessions WHERE token_hash = ?1")?
        .query_row([token_hash], |r| r.get(0))?;
    Ok(Some((user, expires_at)))
}

/// Why a token a socket was opened with no longer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    /// The token row was revoked (logout, password change, force logout) or deleted.
    Revoked,
    /// The user was disabled.
    Disabled,
    /// The user no longer exists.
    Deleted,
}

/// `Some` only when the token `token_hash` of `user_id` no longer holds; expiry is
/// the caller's (it knows the expiry). A miss is the normal case, so the lookup can
/// be answered without waiting for durability (`Store::find`).
pub fn token_revocation(
    conn: &Connection,
    token_hash: &str,
    user_id: &str,
) -> StoreResult<Option<Revocation>> {
    let why: Option<String> = conn
        .prepare_cached(
            "SELECT why FROM (
                 SELECT CASE
                     WHEN u.id IS NULL THEN 'deleted'
                     WHEN u.disabled <> 0 THEN 'disabled'
                     WHEN s.token_hash IS NULL OR s.revoked_at IS NOT NULL THEN 'revoked'
                 END AS why
                 FROM (SELECT ?1 AS h, ?2 AS uid) q
                 LEFT JOIN sessions s ON s.token_hash = q.h AND s.user_id = q.uid
                 LEFT JOIN users u ON u.id = q.uid
             ) WHERE why IS NOT NULL",
        )?
        .query_row(params![token_hash, user_id], |r| r.get(0))
        .optional()?;
    Ok(why.map(|w| match w.as_str() {
        "deleted" => Revocation::Deleted,
        "disabled" => Revocation::Disabled,
        _ => Revocation::Revoked,
    }))
}

/// Revokes every open token of a user; returns how many.
pub fn revoke_user_sessions(conn: &Connection, user_id: &str, now: Millis) -> StoreResult<usize> {
    Ok(conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
        params![user_id, now],
    )?)
}

pub fn revoke_session(conn: &Connection, token_hash: &str, now: Millis) -> StoreResult<bool> {
    let n = conn.execute(
        "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
        params![token_hash, now],
    )?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_only_the_right_password() {
        let h = hash_password("secret1").unwrap();
        assert!(verify_password("secret1", &h));
        assert!(!verify_password("secret2", &h));
        assert!(!verify_password("secret1", "not-a-hash"));
        assert!(matches!(
            hash_password("abc"),
            Err(PasswordError::TooShort(_))
        ));
    }

    #[test]
    fn tokens_are_distinct_and_digest_stably() {
        let (a, da) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(token_digest(&a), da);
    }

    #[test]
    fn a_token_is_revoked_by_logout_password_change_and_disabling() {
        let conn = crate::store::test_connection();
        let new = |name: &str| NewUser {
            username: name.into(),
            first_name: String::new(),
            last_name: String::new(),
            role: Role::Agent,
            team_id: None,
            password_hash: "x".into(),
        };
        let u = create_user(&conn, new("u1"), 1).unwrap();
        let other = create_user(&conn, new("u2"), 1).unwrap();
        for (token, user) in [("t1", &u.id), ("t2", &u.id), ("t3", &other.id)] {
            create_session(&conn, user, token, 10, 1_000).unwrap();
        }
        let (_, expires) = grant_for_token(&conn, "t1", 20).unwrap().unwrap();
        assert_eq!(expires, 1_010);
        assert_eq!(token_revocation(&conn, "t1", &u.id).unwrap(), None);
        // A token of someone else, or none at all, does not hold for u.
        assert_eq!(
            token_revocation(&conn, "t3", &u.id).unwrap(),
            Some(Revocation::Revoked)
        );
        revoke_session(&conn, "t1", 30).unwrap();
        assert_eq!(
            token_revocation(&conn, "t1", &u.id).unwrap(),
            Some(Revocation::Revoked)
        );
        assert_eq!(token_revocation(&conn, "t2", &u.id).unwrap(), None);
        set_password(&conn, "u1", "y").unwrap();
        assert_eq!(
            token_revocation(&conn, "t2", &u.id).unwrap(),
            Some(Revocation::Revoked)
        );
        conn.execute("UPDATE users SET disabled = 1 WHERE id = ?1", [&other.id])
            .unwrap();
        assert_eq!(
            token_revocation(&conn, "t3", &other.id).unwrap(),
            Some(Revocation::Disabled)
        );
        create_session(&conn, &u.id, "t4", 40, 1_000).unwrap();
        assert_eq!(revoke_user_sessions(&conn, &u.id, 50).unwrap(), 1);
        assert_eq!(
            token_revocation(&conn, "t4", &u.id).unwrap(),
            Some(Revocation::Revoked)
        );
    }
}
