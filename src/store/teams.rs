//! Teams with their members and supervisors: list, read, rename, delete (refused
//! while it has members), and membership changes.

use super::users::Role;
use super::{Blocker, StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// A user as a team lists it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub id: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    pub id: String,
    pub name: String,
    pub members: Vec<UserRef>,
    pub supervisors: Vec<UserRef>,
}

fn user_refs(conn: &Connection, sql: &str, team_id: &str) -> StoreResult<Vec<UserRef>> {
    let mut st = conn.prepare_cached(sql)?;
    let rows = st
        .query_map([team_id], |r| {
            let role: String = r.get(4)?;
            Ok(UserRef {
                id: r.get(0)?,
                username: r.get(1)?,
                first_name: r.get(2)?,
                last_name: r.get(3)?,
                role: Role::parse(&role).unwrap_or(Role::Agent),
                disabled: r.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<Team>> {
    let Some(name) = conn
        .prepare_cached("SELECT name FROM teams WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, String>(0))
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some(Team {
        id: id.to_string(),
        name,
        members: user_refs(
            conn,
            "SELECT id, username, first_name, last_name, role, disabled FROM users
             WHERE team_id = ?1 ORDER BY username",
            id,
        )?,
        supervisors: user_refs(
            conn,
            "SELECT u.id, u.username, u.first_name, u.last_name, u.role, u.disabled
             FROM team_supervisors s JOIN users u ON u.id = s.user_id
             WHERE s.team_id = ?1 ORDER BY u.username",
            id,
        )?,
    }))
}

pub fn must_get(conn: &Connection, id: &str) -> StoreResult<Team> {
    get(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("team {id}")))
}

/// Every team (or only `only`), sorted by name.
pub fn list(conn: &Connection, only: Option<&[String]>) -> StoreResult<Vec<Team>> {
    let ids: Vec<String> = conn
        .prepare_cached("SELECT id FROM teams ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.into_iter()
        .filter(|id| only.is_none_or(|o| o.contains(id)))
        .map(|id| must_get(conn, &id))
        .collect()
}

pub fn create(conn: &Connection, name: &str, now: Millis) -> StoreResult<Team> {
    let team = super::users::create_team(conn, name, now)?;
    must_get(conn, &team.team_id)
}

pub fn rename(conn: &Connection, id: &str, name: &str) -> StoreResult<Team> {
    let n = conn
        .execute(
            "UPDATE teams SET name = ?2 WHERE id = ?1",
            params![id, name],
        )
        .map_err(|e| StoreError::conflict_on_unique(e, &format!("team {name}")))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("team {id}")));
    }
    must_get(conn, id)
}

/// Deletes a team without members; its supervisors stop supervising it.
pub fn delete(conn: &Connection, id: &str) -> StoreResult<Team> {
    let team = must_get(conn, id)?;
    let blockers = team
        .members
        .iter()
        .map(|m| Blocker {
            kind: "user".into(),
            id: m.id.clone(),
            name: m.username.clone(),
        })
        .collect();
    StoreError::unless_blocked(&format!("team {}", team.name), blockers)?;
    conn.execute("DELETE FROM teams WHERE id = ?1", [id])?;
    Ok(team)
}

fn user_role(conn: &Connection, id: &str) -> StoreResult<Option<Role>> {
    Ok(conn
        .prepare_cached("SELECT role FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, String>(0))
        .optional()?
        .and_then(|r| Role::parse(&r)))
}

/// The team's members become exactly `user_ids`; returns the users whose team changed.
pub fn set_members(conn: &Connection, id: &str, user_ids: &[String]) -> StoreResult<Vec<String>> {
    let before = must_get(conn, id)?;
    for (i, u) in user_ids.iter().enumerate() {
        if user_role(conn, u)?.is_none() {
            return Err(StoreError::invalid(
                format!("userIds[{i}]"),
                format!("user {u} does not exist"),
            ));
        }
    }
    let mut changed = Vec::new();
    for m in &before.members {
        if !user_ids.contains(&m.id) {
            conn.execute("UPDATE users SET team_id = NULL WHERE id = ?1", [&m.id])?;
            changed.push(m.id.clone());
        }
    }
    for u in user_ids {
        if !before.members.iter().any(|m| &m.id == u) {
            conn.execute(
                "UPDATE users SET team_id = ?2 WHERE id = ?1",
                params![u, id],
            )?;
            changed.push(u.clone());
        }
    }
    Ok(changed)
}

/// The team's supervisors become exactly `user_ids` (supervisors or admins only).
pub fn set_supervisors(conn: &Connection, id: &str, user_ids: &[String]) -> StoreResult<()> {
    must_get(conn, id)?;
    for (i, u) in user_ids.iter().enumerate() {
        match user_role(conn, u)? {
            None => {
                return Err(StoreError::invalid(
                    format!("userIds[{i}]"),
                    format!("user {u} does not exist"),
                ))
            }
            Some(Role::Agent) => {
                return Err(StoreError::invalid(
                    format!("userIds[{i}]"),
                    format!("user {u} is an agent; only supervisors and admins supervise"),
                ))
            }
            Some(_) => {}
        }
    }
    conn.execute("DELETE FROM team_supervisors WHERE team_id = ?1", [id])?;
    for u in user_ids {
        conn.execute(
            "INSERT OR IGNORE INTO team_supervisors(team_id, user_id) VALUES (?1, ?2)",
            params![id, u],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::users::{create_user, NewUser};

    #[test]
    fn a_team_with_members_cannot_be_deleted() {
        let conn = crate::store::test_connection();
        let team = create(&conn, "Billing", 0).unwrap();
        let bella = create_user(
            &conn,
            NewUser {
                username: "bella".into(),
                first_name: String::new(),
                last_name: String::new(),
                role: Role::Agent,
                team_id: None,
                password_hash: "x".into(),
            },
            0,
        )
        .unwrap();
        let changed = set_members(&conn, &team.id, std::slice::from_ref(&bella.id)).unwrap();
        assert_eq!(changed, vec![bella.id.clone()]);
        match delete(&conn, &team.id) {
            Err(StoreError::InUse { blockers, .. }) => assert_eq!(blockers[0].name, "bella"),
            other => panic!("{other:?}"),
        }
        match set_supervisors(&conn, &team.id, std::slice::from_ref(&bella.id)) {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "userIds[0]"),
            other => panic!("{other:?}"),
        }
        set_members(&conn, &team.id, &[]).unwrap();
        delete(&conn, &team.id).unwrap();
        assert!(get(&conn, &team.id).unwrap().is_none());
    }
}
