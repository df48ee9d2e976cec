//! Administration of channels: paged search, read by id, edit (the channel type is
//! fixed), enable/disable, and delete (refused while conversations run on it; a
//! channel with history is kept hidden, its serviceIdentifier freed).

use super::directory::channel_by_service_identifier;
use super::{Blocker, StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension, ToSql};
use serde_json::Value;

/// Filters of the channel list; `None` means any.
#[derive(Debug, Default, Clone)]
pub struct ChannelFilter {
    /// A LIKE pattern over name and serviceIdentifier.
    pub like: Option<String>,
    pub routing_mode: Option<String>,
    pub routing_object_id: Option<String>,
    pub enabled: Option<bool>,
}

/// The admin view of a channel: the CIM object plus `enabled` and `deleted`.
pub fn channel_json(conn: &Connection, id: &str) -> StoreResult<Value> {
    let row: Option<(String, bool, bool)> = conn
        .prepare_cached(
            "SELECT service_identifier, enabled, deleted_at IS NOT NULL FROM channels WHERE id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let (sid, enabled, deleted) =
        row.ok_or_else(|| StoreError::NotFound(format!("channel {id}")))?;
    let mut channel = channel_by_service_identifier(conn, &sid)?
        .ok_or_else(|| StoreError::NotFound(format!("channel {id}")))?;
    if let Some(obj) = channel.as_object_mut() {
        obj.insert("enabled".into(), Value::Bool(enabled));
        obj.insert("deleted".into(), Value::Bool(deleted));
    }
    Ok(channel)
}

/// A page of (not deleted) channels sorted by name, and how many match in all.
pub fn page(
    conn: &Connection,
    f: &ChannelFilter,
    limit: u32,
    offset: u64,
) -> StoreResult<(Vec<Value>, u64)> {
    let mut clauses = vec!["deleted_at IS NULL"];
    let mut args: Vec<&dyn ToSql> = Vec::new();
    if let Some(like) = &f.like {
        clauses.push("(name LIKE ? ESCAPE '\\' OR service_identifier LIKE ? ESCAPE '\\')");
        args.push(like);
        args.push(like);
    }
    if let Some(mode) = &f.routing_mode {
        clauses.push("json_extract(config, '$.routingPolicy.routingMode') = ?");
        args.push(mode);
    }
    if let Some(object) = &f.routing_object_id {
        clauses.push("json_extract(config, '$.routingPolicy.routingObjectId') = ?");
        args.push(object);
    }
    if let Some(enabled) = &f.enabled {
        clauses.push("enabled = ?");
        args.push(enabled);
    }
    let filter = format!("WHERE {}", clauses.join(" AND "));
    let total: i64 = conn
        .prepare(&format!("SELECT COUNT(*) FROM channels {filter}"))?
        .query_row(args.as_slice(), |r| r.get(0))?;
    let ids: Vec<String> = conn
        .prepare(&format!(
            "SELECT id FROM channels {filter} ORDER BY name, id LIMIT {limit} OFFSET {offset}"
        ))?
        .query_map(args.as_slice(), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let items = ids
        .iter()
        .map(|id| channel_json(conn, id))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((items, total.max(0) as u64))
}

/// What an edit replaces.
pub struct ChannelEdit<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub service_identifier: &'a str,
    pub channel_type: &'a str,
    pub provider_webhook: &'a str,
    pub enabled: bool,
    /// The new channelConfig; its `id` is kept from the stored one.
    pub channel_config: Value,
}

pub fn update(conn: &Connection, e: &ChannelEdit<'_>) -> StoreResult<Value> {
    let before = channel_json(conn, e.id)?;
    if before.get("deleted") == Some(&Value::Bool(true)) {
        return Err(StoreError::NotFound(format!("channel {}", e.id)));
    }
    let type_name = before
        .pointer("/channelType/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if type_name != e.channel_type {
        return Err(StoreError::invalid(
            "channelType",
            format!("the channel type cannot change (it is {type_name}); create a new channel"),
        ));
    }
    let mut config = e.channel_config.clone();
    if let (Some(obj), Some(id)) = (
        config.as_object_mut(),
        before.pointer("/channelConfig/id").cloned(),
    ) {
        obj.insert("id".into(), id);
    }
    conn.execute(
        "UPDATE channels SET name = ?2, service_identifier = ?3, config = ?4, enabled = ?5 WHERE id = ?1",
        params![e.id, e.name, e.service_identifier, config.to_string(), e.enabled],
    )
    .map_err(|err| {
        StoreError::conflict_on_unique(
            err,
            &format!("channel with serviceIdentifier {}", e.service_identifier),
        )
    })?;
    conn.execute(
        "UPDATE channel_providers SET provider_webhook = ?2, name = ?3 WHERE id =
           (SELECT n.provider_id FROM channels c JOIN channel_connectors n ON n.id = c.connector_id
            WHERE c.id = ?1)",
        params![e.id, e.provider_webhook, e.name],
    )?;
    conn.execute(
        "UPDATE channel_connectors SET name = ?2 WHERE id = (SELECT connector_id FROM channels WHERE id = ?1)",
        params![e.id, e.name],
    )?;
    channel_json(conn, e.id)
}

/// Deletes a channel with no running conversation. One with history is kept (hidden,
/// its serviceIdentifier freed for reuse); one without is removed with its connector.
pub fn delete(conn: &Connection, id: &str, now: Millis) -> StoreResult<Value> {
    let before = channel_json(conn, id)?;
    let name = before
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let running: Vec<Blocker> = conn
        .prepare_cached(
            "SELECT s.conversation_id FROM channel_sessions s
             JOIN conversations v ON v.id = s.conversation_id
             WHERE s.channel_id = ?1 AND v.state <> 'CLOSED' LIMIT 20",
        )?
        .query_map([id], |r| {
            let conversation: String = r.get(0)?;
            Ok(Blocker {
                kind: "conversation".into(),
                name: conversation.clone(),
                id: conversation,
            })
        })?
        .collect::<Result<_, _>>()?;
    StoreError::unless_blocked(&format!("channel {name} (open conversations)"), running)?;
    let history = conn
        .prepare_cached("SELECT 1 FROM channel_sessions WHERE channel_id = ?1 LIMIT 1")?
        .exists([id])?;
    if history {
        conn.execute(
            "UPDATE channels SET deleted_at = ?2, enabled = 0,
                 service_identifier = service_identifier || '#deleted-' || id WHERE id = ?1",
            params![id, now],
        )?;
    } else {
        let connector: String = conn
            .prepare_cached("SELECT connector_id FROM channels WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        let provider: String = conn
            .prepare_cached("SELECT provider_id FROM channel_connectors WHERE id = ?1")?
            .query_row([&connector], |r| r.get(0))?;
        conn.execute("DELETE FROM channels WHERE id = ?1", [id])?;
        conn.execute("DELETE FROM channel_connectors WHERE id = ?1", [&connector])?;
        conn.execute("DELETE FROM channel_providers WHERE id = ?1", [&provider])?;
    }
    Ok(before)
}

/// Whether the channel with `service_identifier` takes new chats (exists, enabled,
/// not deleted).
pub fn takes_new_chats(conn: &Connection, service_identifier: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM channels WHERE service_identifier = ?1 AND enabled = 1 AND deleted_at IS NULL",
        )?
        .exists([service_identifier])?)
}
