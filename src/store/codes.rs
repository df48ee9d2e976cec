//! Reason codes, wrap-up codes (soft deleted: history keeps naming them) and canned
//! responses (shortcut, text, optional team).

use super::directory::{ReasonCodeRow, WrapupCodeRow};
use super::{StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

fn reason_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReasonCodeRow> {
    Ok(ReasonCodeRow {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        description: r.get(3)?,
        deleted: r.get::<_, Option<i64>>(4)?.is_some(),
    })
}

pub fn reason_codes(conn: &Connection, include_deleted: bool) -> StoreResult<Vec<ReasonCodeRow>> {
    let mut st = conn.prepare_cached(
        "SELECT id, name, type, description, deleted_at FROM reason_codes
         WHERE ?1 OR deleted_at IS NULL ORDER BY type, name",
    )?;
    let rows = st
        .query_map([include_deleted], reason_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn reason_code(conn: &Connection, id: &str) -> StoreResult<ReasonCodeRow> {
    conn.prepare_cached(
        "SELECT id, name, type, description, deleted_at FROM reason_codes WHERE id = ?1",
    )?
    .query_row([id], reason_row)
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("reason code {id}")))
}

/// Creates a reason code; one deleted under the same type and name is restored instead.
pub fn create_reason_code(
    conn: &Connection,
    name: &str,
    kind: &str,
    description: &str,
) -> StoreResult<ReasonCodeRow> {
    let deleted: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM reason_codes WHERE type = ?1 AND name = ?2 AND deleted_at IS NOT NULL",
        )?
        .query_row(params![kind, name], |r| r.get(0))
        .optional()?;
    let id = match deleted {
        Some(id) => {
            conn.execute(
                "UPDATE reason_codes SET deleted_at = NULL, description = ?2 WHERE id = ?1",
                params![id, description],
            )?;
            id
        }
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            conn.execute(
                "INSERT INTO reason_codes(id, name, type, description) VALUES (?1, ?2, ?3, ?4)",
                params![id, name, kind, description],
            )
            .map_err(|e| {
                StoreError::conflict_on_unique(e, &format!("{kind} reason code {name}"))
            })?;
            id
        }
    };
    reason_code(conn, &id)
}

pub fn update_reason_code(conn: &Connection, c: &ReasonCodeRow) -> StoreResult<ReasonCodeRow> {
    let n = conn
        .execute(
            "UPDATE reason_codes SET name = ?2, type = ?3, description = ?4
             WHERE id = ?1 AND deleted_at IS NULL",
            params![c.id, c.name, c.kind, c.description],
        )
        .map_err(|e| {
            StoreError::conflict_on_unique(e, &format!("{} reason code {}", c.kind, c.name))
        })?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("reason code {}", c.id)));
    }
    reason_code(conn, &c.id)
}

pub fn delete_reason_code(conn: &Connection, id: &str, now: Millis) -> StoreResult<ReasonCodeRow> {
    let before = reason_code(conn, id)?;
    conn.execute(
        "UPDATE reason_codes SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
        params![id, now],
    )?;
    Ok(before)
}

fn wrapup_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WrapupCodeRow> {
    Ok(WrapupCodeRow {
        id: r.get(0)?,
        category_name: r.get(1)?,
        value: r.get(2)?,
        deleted: r.get::<_, Option<i64>>(3)?.is_some(),
    })
}

pub fn wrapup_codes(conn: &Connection, include_deleted: bool) -> StoreResult<Vec<WrapupCodeRow>> {
    let mut st = conn.prepare_cached(
        "SELECT id, category, value, deleted_at FROM wrapup_codes
         WHERE ?1 OR deleted_at IS NULL ORDER BY category, value",
    )?;
    let rows = st
        .query_map([include_deleted], wrapup_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn wrapup_code(conn: &Connection, id: &str) -> StoreResult<WrapupCodeRow> {
    conn.prepare_cached("SELECT id, category, value, deleted_at FROM wrapup_codes WHERE id = ?1")?
        .query_row([id], wrapup_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("wrap-up code {id}")))
}

/// Creates a wrap-up code; one deleted under the same category and value is restored.
pub fn create_wrapup_code(
    conn: &Connection,
    category: &str,
    value: &str,
) -> StoreResult<WrapupCodeRow> {
    let deleted: Option<String> = conn
        .prepare_cached(
            "SELECT id FROM wrapup_codes WHERE category = ?1 AND value = ?2 AND deleted_at IS NOT NULL",
        )?
        .query_row(params![category, value], |r| r.get(0))
        .optional()?;
    let id = match deleted {
        Some(id) => {
            conn.execute(
                "UPDATE wrapup_codes SET deleted_at = NULL WHERE id = ?1",
                [&id],
            )?;
            id
        }
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            conn.execute(
                "INSERT INTO wrapup_codes(id, category, value) VALUES (?1, ?2, ?3)",
                params![id, category, value],
            )
            .map_err(|e| {
                StoreError::conflict_on_unique(e, &format!("wrap-up code {category}/{value}"))
            })?;
            id
        }
    };
    wrapup_code(conn, &id)
}

pub fn update_wrapup_code(conn: &Connection, c: &WrapupCodeRow) -> StoreResult<WrapupCodeRow> {
    let n = conn
        .execute(
            "UPDATE wrapup_codes SET category = ?2, value = ?3 WHERE id = ?1 AND deleted_at IS NULL",
            params![c.id, c.category_name, c.value],
        )
        .map_err(|e| {
            StoreError::conflict_on_unique(e, &format!("wrap-up code {}/{}", c.category_name, c.value))
        })?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("wrap-up code {}", c.id)));
    }
    wrapup_code(conn, &c.id)
}

pub fn delete_wrapup_code(conn: &Connection, id: &str, now: Millis) -> StoreResult<WrapupCodeRow> {
    let before = wrapup_code(conn, id)?;
    conn.execute(
        "UPDATE wrapup_codes SET deleted_at = ?2 WHERE id = ?1 AND deleted_at IS NULL",
        params![id, now],
    )?;
    Ok(before)
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CannedResponse {
    pub id: String,
    pub shortcut: String,
    pub text: String,
    /// `null`: site-wide.
    pub team_id: Option<String>,
}

fn canned_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CannedResponse> {
    Ok(CannedResponse {
        id: r.get(0)?,
        shortcut: r.get(1)?,
        text: r.get(2)?,
        team_id: r.get(3)?,
    })
}

/// Canned responses sorted by shortcut. `teams`: only site-wide ones and these teams'.
pub fn canned_responses(
    conn: &Connection,
    teams: Option<&[String]>,
    like: Option<&str>,
) -> StoreResult<Vec<CannedResponse>> {
    let mut st = conn.prepare_cached(
        "SELECT id, shortcut, text, team_id FROM canned_responses
         WHERE (?1 IS NULL OR shortcut LIKE ?1 ESCAPE '\\' OR text LIKE ?1 ESCAPE '\\')
         ORDER BY shortcut, team_id",
    )?;
    let rows: Vec<CannedResponse> = st
        .query_map([like], canned_row)?
        .collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|c| match (teams, &c.team_id) {
            (None, _) | (_, None) => true,
            (Some(ts), Some(t)) => ts.contains(t),
        })
        .collect())
}

pub fn canned_response(conn: &Connection, id: &str) -> StoreResult<CannedResponse> {
    conn.prepare_cached("SELECT id, shortcut, text, team_id FROM canned_responses WHERE id = ?1")?
        .query_row([id], canned_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("canned response {id}")))
}

/// Creates (`c.id` empty) or replaces a canned response.
pub fn save_canned_response(
    conn: &Connection,
    c: &CannedResponse,
    now: Millis,
) -> StoreResult<CannedResponse> {
    if let Some(team) = &c.team_id {
        if !conn
            .prepare_cached("SELECT 1 FROM teams WHERE id = ?1")?
            .exists([team])?
        {
            return Err(StoreError::invalid(
                "teamId",
                format!("team {team} does not exist"),
            ));
        }
    }
    let dup = |e| StoreError::conflict_on_unique(e, &format!("canned response /{}", c.shortcut));
    let id = if c.id.is_empty() {
        let id = uuid::Uuid::new_v4().to_string();
        conn.execute(
            "INSERT INTO canned_responses(id, shortcut, text, team_id, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            params![id, c.shortcut, c.text, c.team_id, now],
        )
        .map_err(dup)?;
        id
    } else {
        let n = conn
            .execute(
                "UPDATE canned_responses SET shortcut = ?2, text = ?3, team_id = ?4, updated_at = ?5
                 WHERE id = ?1",
                params![c.id, c.shortcut, c.text, c.team_id, now],
            )
            .map_err(dup)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("canned response {}", c.id)));
        }
        c.id.clone()
    };
    canned_response(conn, &id)
}

pub fn delete_canned_response(conn: &Connection, id: &str) -> StoreResult<CannedResponse> {
    let before = canned_response(conn, id)?;
    conn.execute("DELETE FROM canned_responses WHERE id = ?1", [id])?;
    Ok(before)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deleted_codes_stay_readable_and_come_back_on_create() {
        let conn = crate::store::test_connection();
        let c = create_reason_code(&conn, "Lunch", "NOT_READY", "").unwrap();
        delete_reason_code(&conn, &c.id, 5).unwrap();
        assert!(reason_codes(&conn, false)
            .unwrap()
            .iter()
            .all(|r| r.id != c.id));
        assert!(reason_code(&conn, &c.id).unwrap().deleted);
        let again = create_reason_code(&conn, "Lunch", "NOT_READY", "back").unwrap();
        assert_eq!((again.id.as_str(), again.deleted), (c.id.as_str(), false));

        let w = create_wrapup_code(&conn, "Sales", "Won").unwrap();
        delete_wrapup_code(&conn, &w.id, 5).unwrap();
        assert!(wrapup_code(&conn, &w.id).unwrap().deleted);
        assert!(wrapup_codes(&conn, true)
            .unwrap()
            .iter()
            .any(|r| r.id == w.id));
    }

    #[test]
    fn canned_shortcuts_are_unique_per_team() {
        let conn = crate::store::test_connection();
        let mut c = CannedResponse {
            id: String::new(),
            shortcut: "hi".into(),
            text: "Hello!".into(),
            team_id: None,
        };
        let saved = save_canned_response(&conn, &c, 0).unwrap();
        assert!(matches!(
            save_canned_response(&conn, &c, 0),
            Err(StoreError::Conflict(_))
        ));
        c.team_id = Some("nope".into());
        assert!(matches!(
            save_canned_response(&conn, &c, 0),
            Err(StoreError::Invalid { .. })
        ));
        assert_eq!(
            canned_responses(&conn, Some(&[]), None).unwrap(),
            vec![saved]
        );
    }
}
