//! Administration of users: paged search, edits, enable/disable, password and
//! session revocation, history checks and delete. Login and tokens stay in `users`.

use super::users::{get_user, Role, User};
use super::{StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension, ToSql};

/// Filters of the user list; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    /// A LIKE pattern over username, first and last name.
    pub like: Option<String>,
    pub role: Option<Role>,
    pub team_id: Option<String>,
    pub disabled: Option<bool>,
    /// Only these users' teams (and the caller itself): a supervisor's view.
    pub scope: Option<(String, Vec<String>)>,
}

/// A page of users sorted by username, and how many match in all.
pub fn page(
    conn: &Connection,
    f: &UserFilter,
    limit: u32,
    offset: u64,
) -> StoreResult<(Vec<User>, u64)> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<Box<dyn ToSql>> = Vec::new();
    if let Some(like) = &f.like {
        clauses.push(
            "(u.username LIKE ? ESCAPE '\\' OR u.first_name LIKE ? ESCAPE '\\' OR u.last_name LIKE ? ESCAPE '\\')"
                .into(),
        );
        for _ in 0..3 {
            args.push(Box::new(like.clone()));
        }
    }
    if let Some(role) = f.role {
        clauses.push("u.role = ?".into());
        args.push(Box::new(role.as_str()));
    }
    if let Some(team) = &f.team_id {
        clauses.push("u.team_id = ?".into());
        args.push(Box::new(team.clone()));
    }
    if let Some(disabled) = f.disabled {
        clauses.push("u.disabled = ?".into());
        args.push(Box::new(disabled));
    }
    if let Some((me, teams)) = &f.scope {
        let marks = vec!["?"; teams.len()].join(", ");
        clauses.push(format!("(u.id = ? OR u.team_id IN ({marks}))"));
        args.push(Box::new(me.clone()));
        for t in teams {
            args.push(Box::new(t.clone()));
        }
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let refs: Vec<&dyn ToSql> = args.iter().map(|a| a.as_ref()).collect();
    let total: i64 = conn
        .prepare(&format!("SELECT COUNT(*) FROM users u {filter}"))?
        .query_row(refs.as_slice(), |r| r.get(0))?;
    let ids: Vec<String> = conn
        .prepare(&format!(
            "SELECT u.id FROM users u {filter} ORDER BY u.username LIMIT {limit} OFFSET {offset}"
        ))?
        .query_map(refs.as_slice(), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut users = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(u) = get_user(conn, &id)? {
            users.push(u);
        }
    }
    Ok((users, total.max(0) as u64))
}

/// The editable fields of a user.
#[derive(Debug, Clone)]
pub struct UserEdit {
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub team_id: Option<String>,
    pub supervised_team_ids: Vec<String>,
}

fn team_exists(conn: &Connection, id: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM teams WHERE id = ?1")?
        .exists([id])?)
}

/// Checks the team references of an edit (fields `teamId`, `supervisedTeamIds[i]`).
pub fn check_teams(conn: &Connection, e: &UserEdit) -> StoreResult<()> {
    if let Some(team) = &e.team_id {
        if !team_exists(conn, team)? {
            return Err(StoreError::invalid(
                "teamId",
                format!("team {team} does not exist"),
            ));
        }
    }
    if e.role == Role::Agent && !e.supervised_team_ids.is_empty() {
        return Err(StoreError::invalid(
            "supervisedTeamIds",
            "only supervisors and admins supervise teams",
        ));
    }
    for (i, team) in e.supervised_team_ids.iter().enumerate() {
        if !team_exists(conn, team)? {
            return Err(StoreError::invalid(
                format!("supervisedTeamIds[{i}]"),
                format!("team {team} does not exist"),
            ));
        }
    }
    Ok(())
}

/// Replaces the editable fields of user `id` and the teams it supervises.
pub fn update(conn: &Connection, id: &str, e: &UserEdit) -> StoreResult<User> {
    check_teams(conn, e)?;
    let n = conn.execute(
        "UPDATE users SET first_name = ?2, last_name = ?3, role = ?4, team_id = ?5 WHERE id = ?1",
        params![id, e.first_name, e.last_name, e.role.as_str(), e.team_id],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("user {id}")));
    }
    set_supervised(conn, id, &e.supervised_team_ids)?;
    get_user(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

/// The teams `user_id` supervises become exactly `teams`.
pub fn set_supervised(conn: &Connection, user_id: &str, teams: &[String]) -> StoreResult<()> {
    conn.execute("DELETE FROM team_supervisors WHERE user_id = ?1", [user_id])?;
    for t in teams {
        conn.execute(
            "INSERT OR IGNORE INTO team_supervisors(team_id, user_id) VALUES (?1, ?2)",
            params![t, user_id],
        )?;
    }
    Ok(())
}

pub fn set_disabled(conn: &Connection, id: &str, disabled: bool) -> StoreResult<User> {
    let n = conn.execute(
        "UPDATE users SET disabled = ?2 WHERE id = ?1",
        params![id, disabled],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("user {id}")));
    }
    get_user(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("user {id}")))
}

/// Revokes every live session of the user except `keep` (a token digest); returns how many.
pub fn revoke_sessions(
    conn: &Connection,
    user_id: &str,
    keep: Option<&str>,
    now: Millis,
) -> StoreResult<usize> {
    Ok(conn.execute(
        "UPDATE sessions SET revoked_at = ?3
         WHERE user_id = ?1 AND revoked_at IS NULL AND (?2 IS NULL OR token_hash <> ?2)",
        params![user_id, keep, now],
    )?)
}

pub fn password_hash(conn: &Connection, id: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

pub fn set_password_hash(conn: &Connection, id: &str, hash: &str) -> StoreResult<()> {
    let n = conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![id, hash],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("user {id}")));
    }
    Ok(())
}

/// Whether anything in the history names the user (conversations, tasks, states, audit).
/// The indexed agent state history first: an agent who took part in a conversation
/// has been logged in, so the scans after it run for users without history.
pub fn has_history(conn: &Connection, id: &str) -> StoreResult<bool> {
    let checks = [
        "SELECT 1 FROM agent_state_history WHERE user_id = ?1 LIMIT 1",
        "SELECT 1 FROM audit_log WHERE actor_id = ?1 LIMIT 1",
        "SELECT 1 FROM tasks WHERE agent_id = ?1 LIMIT 1",
        "SELECT 1 FROM conversations WHERE last_agent_id = ?1 LIMIT 1",
        "SELECT 1 FROM participants WHERE participant_ref = ?1 LIMIT 1",
    ];
    for sql in checks {
        if conn.prepare_cached(sql)?.exists([id])? {
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn delete(conn: &Connection, id: &str) -> StoreResult<()> {
    conn.execute("DELETE FROM agent_states WHERE user_id = ?1", [id])?;
    conn.execute("DELETE FROM agent_views WHERE user_id = ?1", [id])?;
    let n = conn.execute("DELETE FROM users WHERE id = ?1", [id])?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("user {id}")));
    }
    Ok(())
}

/// How many enabled admins other than `except` there are.
pub fn other_enabled_admins(conn: &Connection, except: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?1",
        )?
        .query_row([except], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::users::{create_user, NewUser};

    fn user(conn: &Connection, name: &str, role: Role) -> User {
        create_user(
            conn,
            NewUser {
                username: name.into(),
                first_name: String::new(),
                last_name: String::new(),
                role,
                team_id: None,
                password_hash: "x".into(),
            },
            0,
        )
        .unwrap()
    }

    #[test]
    fn pages_filter_and_count() {
        let conn = crate::store::test_connection();
        for i in 0..12 {
            user(&conn, &format!("agent{i:02}"), Role::Agent);
        }
        user(&conn, "boss", Role::Admin);
        let f = UserFilter {
            role: Some(Role::Agent),
            ..Default::default()
        };
        let (page1, total) = page(&conn, &f, 5, 10).unwrap();
        assert_eq!(total, 12);
        assert_eq!(page1.len(), 2);
        assert_eq!(page1[0].username, "agent10");
        let f = UserFilter {
            like: Some("%BOS%".into()),
            ..Default::default()
        };
        assert_eq!(page(&conn, &f, 5, 0).unwrap().1, 1);
    }

    #[test]
    fn edits_check_team_references() {
        let conn = crate::store::test_connection();
        let u = user(&conn, "a", Role::Agent);
        let edit = UserEdit {
            first_name: "A".into(),
            last_name: String::new(),
            role: Role::Agent,
            team_id: Some("nope".into()),
            supervised_team_ids: vec![],
        };
        match update(&conn, &u.id, &edit) {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "teamId"),
            other => panic!("{other:?}"),
        }
        assert!(!has_history(&conn, &u.id).unwrap());
    }
}
