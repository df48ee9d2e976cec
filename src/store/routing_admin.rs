//! Administration of the routing configuration beyond create: MRD, routing attribute,
//! queue and pull list reads, edits and deletes, each delete refused while something
//! uses the entity (the blockers are named).

use super::directory::{MrdRow, QueueRow, QueueStepRow};
use super::{Blocker, StoreError, StoreResult};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

fn blockers(conn: &Connection, kind: &str, sql: &str, id: &str) -> StoreResult<Vec<Blocker>> {
    let mut st = conn.prepare_cached(sql)?;
    let rows = st
        .query_map([id], |r| {
            Ok(Blocker {
                kind: kind.to_string(),
                id: r.get(0)?,
                name: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn get_mrd(conn: &Connection, id: &str) -> StoreResult<MrdRow> {
    conn.prepare_cached(
        "SELECT id, name, description, max_tasks, interruptible FROM mrds WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(MrdRow {
            id: r.get(0)?,
            name: r.get(1)?,
            description: r.get(2)?,
            max_tasks: r.get(3)?,
            interruptible: r.get(4)?,
        })
    })
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("MRD {id}")))
}

/// Deletes an MRD no queue, channel type or agent capacity (> 0) uses.
pub fn delete_mrd(conn: &Connection, id: &str) -> StoreResult<MrdRow> {
    let mrd = get_mrd(conn, id)?;
    let mut b = blockers(
        conn,
        "queue",
        "SELECT id, name FROM queues WHERE mrd_id = ?1 ORDER BY name",
        id,
    )?;
    b.extend(blockers(
        conn,
        "channelType",
        "SELECT id, name FROM channel_types WHERE mrd_id = ?1 ORDER BY name",
        id,
    )?);
    b.extend(blockers(
        conn,
        "user",
        "SELECT u.id, u.username FROM agent_mrd_capacities c JOIN users u ON u.id = c.user_id
         WHERE c.mrd_id = ?1 AND c.max_agent_tasks > 0 ORDER BY u.username",
        id,
    )?);
    StoreError::unless_blocked(&format!("MRD {}", mrd.name), b)?;
    conn.execute("DELETE FROM mrds WHERE id = ?1", [id])?;
    Ok(mrd)
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoutingAttribute {
    pub id: String,
    pub name: String,
    /// BOOLEAN or PROFICIENCY.
    #[serde(rename = "type")]
    pub kind: String,
    pub description: String,
}

fn attribute_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RoutingAttribute> {
    Ok(RoutingAttribute {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        description: r.get(3)?,
    })
}

pub fn list_attributes(conn: &Connection) -> StoreResult<Vec<RoutingAttribute>> {
    let mut st = conn.prepare_cached(
        "SELECT id, name, type, description FROM routing_attributes ORDER BY name",
    )?;
    let rows = st.query_map([], attribute_row)?.collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn get_attribute(conn: &Connection, id: &str) -> StoreResult<RoutingAttribute> {
    conn.prepare_cached("SELECT id, name, type, description FROM routing_attributes WHERE id = ?1")?
        .query_row([id], attribute_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("routing attribute {id}")))
}

/// Queues with a step whose expression `uses` the attribute.
fn queues_using(conn: &Connection, uses: &dyn Fn(&str) -> bool) -> StoreResult<Vec<Blocker>> {
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT q.id, q.name, s.expression FROM queue_steps s JOIN queues q ON q.id = s.queue_id
         ORDER BY q.name",
    )?;
    let rows: Vec<(String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let mut out: Vec<Blocker> = Vec::new();
    for (id, name, expression) in rows {
        if uses(&expression) && !out.iter().any(|b| b.id == id) {
            out.push(Blocker {
                kind: "queue".into(),
                id,
                name,
            });
        }
    }
    Ok(out)
}

/// Updates an attribute. A rename is refused while a step names it (`uses` tells
/// whether an expression names the old name); a type change while agents hold values.
pub fn update_attribute(
    conn: &Connection,
    a: &RoutingAttribute,
    uses: &dyn Fn(&str) -> bool,
) -> StoreResult<RoutingAttribute> {
    let before = get_attribute(conn, &a.id)?;
    if before.name != a.name {
        StoreError::unless_blocked(
            &format!("routing attribute {} (its name)", before.name),
            queues_using(conn, uses)?,
        )?;
    }
    if before.kind != a.kind {
        let held = blockers(
            conn,
            "user",
            "SELECT u.id, u.username FROM agent_attributes x JOIN users u ON u.id = x.user_id
             WHERE x.attribute_id = ?1 ORDER BY u.username",
            &a.id,
        )?;
        StoreError::unless_blocked(
            &format!("routing attribute {} (its type)", before.name),
            held,
        )?;
    }
    conn.execute(
        "UPDATE routing_attributes SET name = ?2, type = ?3, description = ?4 WHERE id = ?1",
        params![a.id, a.name, a.kind, a.description],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("routing attribute {}", a.name)))?;
    get_attribute(conn, &a.id)
}

/// Deletes an attribute no queue step uses; agents' values go with it. Returns it
/// and the agents that held a value.
pub fn delete_attribute(
    conn: &Connection,
    id: &str,
    uses: &dyn Fn(&str) -> bool,
) -> StoreResult<(RoutingAttribute, Vec<String>)> {
    let a = get_attribute(conn, id)?;
    StoreError::unless_blocked(
        &format!("routing attribute {}", a.name),
        queues_using(conn, uses)?,
    )?;
    let holders: Vec<String> = conn
        .prepare_cached("SELECT user_id FROM agent_attributes WHERE attribute_id = ?1")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    conn.execute("DELETE FROM agent_attributes WHERE attribute_id = ?1", [id])?;
    conn.execute("DELETE FROM routing_attributes WHERE id = ?1", [id])?;
    Ok((a, holders))
}

pub fn remove_agent_attribute(
    conn: &Connection,
    user_id: &str,
    attribute_id: &str,
) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM agent_attributes WHERE user_id = ?1 AND attribute_id = ?2",
        params![user_id, attribute_id],
    )?;
    Ok(())
}

fn queue_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueueRow> {
    Ok(QueueRow {
        id: r.get(0)?,
        name: r.get(1)?,
        mrd_id: r.get(2)?,
        priority: r.get(3)?,
        accept_timeout_secs: r.get(4)?,
        agent_sla_secs: r.get(5)?,
        service_level_secs: r.get(6)?,
        steps: Vec::new(),
    })
}

const QUEUE_COLUMNS: &str =
    "id, name, mrd_id, priority, accept_timeout_secs, agent_sla_secs, service_level_secs";

fn with_steps(conn: &Connection, mut q: QueueRow) -> StoreResult<QueueRow> {
    q.steps = conn
        .prepare_cached(
            "SELECT expression, timeout_secs FROM queue_steps WHERE queue_id = ?1 ORDER BY step_index",
        )?
        .query_map([&q.id], |r| {
            Ok(QueueStepRow {
                expression: r.get(0)?,
                timeout_secs: r.get(1)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(q)
}

pub fn get_queue(conn: &Connection, id: &str) -> StoreResult<QueueRow> {
    let q = conn
        .prepare_cached(&format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE id = ?1"))?
        .query_row([id], queue_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("queue {id}")))?;
    with_steps(conn, q)
}

/// A page of queues sorted by name (`like` over the name, `mrd_id` exact).
pub fn queue_page(
    conn: &Connection,
    like: Option<&str>,
    mrd_id: Option<&str>,
    limit: u32,
    offset: u64,
) -> StoreResult<(Vec<QueueRow>, u64)> {
    let filter = "WHERE (?1 IS NULL OR name LIKE ?1 ESCAPE '\\') AND (?2 IS NULL OR mrd_id = ?2)";
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM queues {filter}"))?
        .query_row(params![like, mrd_id], |r| r.get(0))?;
    let rows: Vec<QueueRow> = conn
        .prepare_cached(&format!(
            "SELECT {QUEUE_COLUMNS} FROM queues {filter} ORDER BY name LIMIT ?3 OFFSET ?4"
        ))?
        .query_map(params![like, mrd_id, limit, offset as i64], queue_row)?
        .collect::<Result<_, _>>()?;
    let rows = rows
        .into_iter()
        .map(|q| with_steps(conn, q))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((rows, total.max(0) as u64))
}

/// Channels (not deleted) and pull lists that route to the queue.
pub fn queue_blockers(conn: &Connection, id: &str) -> StoreResult<Vec<Blocker>> {
    let mut b = blockers(
        conn,
        "channel",
        "SELECT id, name FROM channels WHERE deleted_at IS NULL
           AND json_extract(config, '$.routingPolicy.routingMode') IS NOT 'PULL'
           AND json_extract(config, '$.routingPolicy.routingObjectId') = ?1 ORDER BY name",
        id,
    )?;
    b.extend(blockers(
        conn,
        "pullList",
        "SELECT id, name FROM pull_lists WHERE queue_id = ?1 ORDER BY name",
        id,
    )?);
    Ok(b)
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PullList {
    pub id: String,
    pub name: String,
    pub queue_id: Option<String>,
}

fn pull_list_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PullList> {
    Ok(PullList {
        id: r.get(0)?,
        name: r.get(1)?,
        queue_id: r.get(2)?,
    })
}

pub fn list_pull_lists(conn: &Connection) -> StoreResult<Vec<PullList>> {
    let mut st = conn.prepare_cached("SELECT id, name, queue_id FROM pull_lists ORDER BY name")?;
    let rows = st.query_map([], pull_list_row)?.collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn get_pull_list(conn: &Connection, id: &str) -> StoreResult<PullList> {
    conn.prepare_cached("SELECT id, name, queue_id FROM pull_lists WHERE id = ?1")?
        .query_row([id], pull_list_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("pull list {id}")))
}

/// Checks that a queue reference exists (`field` names it when it does not).
pub fn check_queue_ref(conn: &Connection, field: &str, queue_id: Option<&str>) -> StoreResult<()> {
    if let Some(q) = queue_id {
        if !conn
            .prepare_cached("SELECT 1 FROM queues WHERE id = ?1")?
            .exists([q])?
        {
            return Err(StoreError::invalid(
                field,
                format!("queue {q} does not exist"),
            ));
        }
    }
    Ok(())
}

pub fn update_pull_list(conn: &Connection, p: &PullList) -> StoreResult<PullList> {
    check_queue_ref(conn, "queueId", p.queue_id.as_deref())?;
    let n = conn
        .execute(
            "UPDATE pull_lists SET name = ?2, queue_id = ?3 WHERE id = ?1",
            params![p.id, p.name, p.queue_id],
        )
        .map_err(|e| StoreError::conflict_on_unique(e, &format!("pull list {}", p.name)))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("pull list {}", p.id)));
    }
    get_pull_list(conn, &p.id)
}

/// Deletes a pull list no channel routes to.
pub fn delete_pull_list(conn: &Connection, id: &str) -> StoreResult<PullList> {
    let p = get_pull_list(conn, id)?;
    let b = blockers(
        conn,
        "channel",
        "SELECT id, name FROM channels WHERE deleted_at IS NULL
           AND json_extract(config, '$.routingPolicy.routingMode') = 'PULL'
           AND json_extract(config, '$.routingPolicy.routingObjectId') = ?1 ORDER BY name",
        id,
    )?;
    StoreError::unless_blocked(&format!("pull list {}", p.name), b)?;
    conn.execute("DELETE FROM pull_lists WHERE id = ?1", [id])?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::directory;

    #[test]
    fn queue_delete_is_blocked_by_pull_lists_and_mrd_by_queues() {
        let conn = crate::store::test_connection();
        let mrd = MrdRow {
            id: "m".into(),
            name: "CHAT".into(),
            description: String::new(),
            max_tasks: 3,
            interruptible: true,
        };
        directory::create_mrd(&conn, &mrd, 0).unwrap();
        let q = QueueRow {
            id: "q".into(),
            name: "Billing".into(),
            mrd_id: "m".into(),
            priority: 1,
            accept_timeout_secs: None,
            agent_sla_secs: 60,
            service_level_secs: 30,
            steps: vec![QueueStepRow {
                expression: "billing >= 5".into(),
                timeout_secs: 10,
            }],
        };
        directory::create_queue(&conn, &q, 0).unwrap();
        directory::create_pull_list(&conn, "Billing list", Some("q")).unwrap();
        let b = queue_blockers(&conn, "q").unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(
            (b[0].kind.as_str(), b[0].name.as_str()),
            ("pullList", "Billing list")
        );
        match delete_mrd(&conn, "m") {
            Err(StoreError::InUse { blockers, .. }) => assert_eq!(blockers[0].name, "Billing"),
            other => panic!("{other:?}"),
        }
        let (page, total) = queue_page(&conn, Some("%bill%"), None, 10, 0).unwrap();
        assert_eq!((page.len(), total), (1, 1));
        assert_eq!(page[0].steps.len(), 1);
    }
}
