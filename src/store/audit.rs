//! The audit log of configuration changes: who, when, which entity, and its JSON
//! before and after. Entries are written in the same transaction as the change.

use super::StoreResult;
use crate::clock::Millis;
use rusqlite::{params, Connection, ToSql};
use serde::Serialize;
use serde_json::Value;

/// Who made a change.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub username: String,
}

/// One change to record.
pub struct Change<'a> {
    /// create, update, delete, disable, enable, password_reset, password_change.
    pub action: &'a str,
    /// user, team, mrd, routingAttribute, queue, channel, pullList, reasonCode, ...
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub entity_name: &'a str,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub fn record(
    conn: &Connection,
    actor: &Actor,
    change: Change<'_>,
    now: Millis,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log(at, actor_id, actor_username, action, entity_type, entity_id,
                               entity_name, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        now,
        actor.id,
        actor.username,
        change.action,
        change.entity_type,
        change.entity_id,
        change.entity_name,
        change.before.map(|v| v.to_string()),
        change.after.map(|v| v.to_string()),
    ])?;
    Ok(())
}

/// One audit entry as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: i64,
    /// Epoch milliseconds.
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_username: String,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub entity_name: String,
    /// The entity before the change (absent for a create).
    pub before: Option<Value>,
    /// The entity after the change (absent for a delete).
    pub after: Option<Value>,
}

/// Filters of the audit list; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// A LIKE pattern over entity name and actor username.
    pub like: Option<String>,
}

/// A page of entries, newest first, and how many match in all.
pub fn list(
    conn: &Connection,
    f: &AuditFilter,
    limit: u32,
    offset: u64,
) -> StoreResult<(Vec<AuditEntry>, u64)> {
    let mut clauses: Vec<&str> = Vec::new();
    let mut args: Vec<&dyn ToSql> = Vec::new();
    let eq = [
        ("entity_type = ?", &f.entity_type),
        ("entity_id = ?", &f.entity_id),
        ("actor_id = ?", &f.actor_id),
        ("action = ?", &f.action),
    ];
    for (clause, value) in eq {
        if let Some(v) = value {
            clauses.push(clause);
            args.push(v);
        }
    }
    if let Some(from) = &f.from {
        clauses.push("at >= ?");
        args.push(from);
    }
    if let Some(to) = &f.to {
        clauses.push("at <= ?");
        args.push(to);
    }
    if let Some(like) = &f.like {
        clauses.push("(entity_name LIKE ? ESCAPE '\\' OR actor_username LIKE ? ESCAPE '\\')");
        args.push(like);
        args.push(like);
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let total: i64 = conn
        .prepare(&format!("SELECT COUNT(*) FROM audit_log {filter}"))?
        .query_row(args.as_slice(), |r| r.get(0))?;
    let sql = format!(
        "SELECT id, at, actor_id, actor_username, action, entity_type, entity_id, entity_name,
                before, after
         FROM audit_log {filter} ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st
        .query_map(args.as_slice(), |r| {
            let json = |i: usize| -> rusqlite::Result<Option<Value>> {
                Ok(r.get::<_, Option<String>>(i)?
                    .and_then(|s| serde_json::from_str(&s).ok()))
            };
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor_id: r.get(2)?,
                actor_username: r.get(3)?,
                action: r.get(4)?,
                entity_type: r.get(5)?,
                entity_id: r.get(6)?,
                entity_name: r.get(7)?,
                before: json(8)?,
                after: json(9)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok((rows, total.max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_are_listed_newest_first_and_filtered() {
        let conn = crate::store::test_connection();
        let actor = Actor {
            id: "u1".into(),
            username: "admin".into(),
        };
        for (i, name) in ["Billing", "Sales"].iter().enumerate() {
            record(
                &conn,
                &actor,
                Change {
                    action: "create",
                    entity_type: "team",
                    entity_id: name,
                    entity_name: name,
                    before: None,
                    after: Some(json!({"name": name})),
                },
                i as i64,
            )
            .unwrap();
        }
        let (all, total) = list(&conn, &AuditFilter::default(), 10, 0).unwrap();
        assert_eq!(total, 2);
        assert_eq!(all[0].entity_name, "Sales");
        assert_eq!(all[0].after, Some(json!({"name": "Sales"})));
        let f = AuditFilter {
            like: Some("%bill%".into()),
            ..Default::default()
        };
        let (found, total) = list(&conn, &f, 10, 0).unwrap();
        assert_eq!((found.len(), total), (1, 1));
        let (page, total) = list(&conn, &AuditFilter::default(), 1, 1).unwrap();
        assert_eq!((page[0].entity_name.as_str(), total), ("Billing", 2));
    }
}
