//! Site configuration: MRDs, queues and their steps, agent capacities and routing
//! attributes, channel types/providers/connectors/channels, reason and wrap-up codes.

use super::{parse_json, StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MrdRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub max_tasks: u32,
    pub interruptible: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueStepRow {
    pub expression: String,
    pub timeout_secs: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueRow {
    pub id: String,
    pub name: String,
    pub mrd_id: String,
    pub priority: u8,
    /// None: the engine's default accept timeout.
    pub accept_timeout_secs: Option<i64>,
    pub agent_sla_secs: i64,
    pub service_level_secs: i64,
    pub steps: Vec<QueueStepRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReasonCodeRow {
    pub id: String,
    pub name: String,
    /// NOT_READY or LOGOUT.
    #[serde(rename = "type")]
    pub kind: String,
    pub description: String,
    /// A deleted code is no longer offered; history still names it.
    #[serde(default)]
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WrapupCodeRow {
    pub id: String,
    pub category_name: String,
    pub value: String,
    /// A deleted code is no longer offered; history still names it.
    #[serde(default)]
    pub deleted: bool,
}

/// Routing attribute of an agent: BOOLEAN (0/1) or PROFICIENCY (1..10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentAttributeRow {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: i64,
}

pub fn create_mrd(conn: &Connection, m: &MrdRow, now: Millis) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO mrds(id, name, description, max_tasks, interruptible, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            m.id,
            m.name,
            m.description,
            m.max_tasks,
            m.interruptible,
            now
        ],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("MRD {}", m.name)))?;
    Ok(())
}

pub fn list_mrds(conn: &Connection) -> StoreResult<Vec<MrdRow>> {
    let mut st = conn.prepare_cached(
        "SELECT id, name, description, max_tasks, interruptible FROM mrds ORDER BY name",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok(MrdRow {
                id: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
                max_tasks: r.get(3)?,
                interruptible: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn create_queue(conn: &Connection, q: &QueueRow, now: Millis) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO queues(id, name, mrd_id, priority, accept_timeout_secs, agent_sla_secs,
                            service_level_secs, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            q.id,
            q.name,
            q.mrd_id,
            q.priority,
            q.accept_timeout_secs,
            q.agent_sla_secs,
            q.service_level_secs,
            now
        ],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("queue {}", q.name)))?;
    for (i, step) in q.steps.iter().enumerate() {
        conn.execute(
            "INSERT INTO queue_steps(queue_id, step_index, expression, timeout_secs)
             VALUES (?1, ?2, ?3, ?4)",
            params![q.id, i as i64 + 1, step.expression, step.timeout_secs],
        )?;
    }
    Ok(())
}

pub fn list_queues(conn: &Connection) -> StoreResult<Vec<QueueRow>> {
    let mut st = conn.prepare_cached(
        "SELECT id, name, mrd_id, priority, accept_timeout_secs, agent_sla_secs, service_level_secs
         FROM queues ORDER BY name",
    )?;
    let mut queues: Vec<QueueRow> = st
        .query_map([], |r| {
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
        })?
        .collect::<Result<_, _>>()?;
    let mut steps = conn.prepare_cached(
        "SELECT expression, timeout_secs FROM queue_steps WHERE queue_id = ?1 ORDER BY step_index",
    )?;
    for q in &mut queues {
        q.steps = steps
            .query_map([&q.id], |r| {
                Ok(QueueStepRow {
                    expression: r.get(0)?,
                    timeout_secs: r.get(1)?,
                })
            })?
            .collect::<Result<_, _>>()?;
    }
    Ok(queues)
}

pub fn set_agent_capacity(
    conn: &Connection,
    user_id: &str,
    mrd_id: &str,
    max_agent_tasks: u32,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO agent_mrd_capacities(user_id, mrd_id, max_agent_tasks) VALUES (?1, ?2, ?3)
         ON CONFLICT(user_id, mrd_id) DO UPDATE SET max_agent_tasks = excluded.max_agent_tasks",
        params![user_id, mrd_id, max_agent_tasks],
    )?;
    Ok(())
}

/// Removes an agent's capacity on an MRD (no row: the agent has none there).
pub fn remove_agent_capacity(conn: &Connection, user_id: &str, mrd_id: &str) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM agent_mrd_capacities WHERE user_id = ?1 AND mrd_id = ?2",
        params![user_id, mrd_id],
    )?;
    Ok(())
}

/// Every (user, MRD, maxAgentTasks) row.
pub fn list_agent_capacities(conn: &Connection) -> StoreResult<Vec<(String, String, u32)>> {
    let mut st =
        conn.prepare_cached("SELECT user_id, mrd_id, max_agent_tasks FROM agent_mrd_capacities")?;
    let rows = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// One agent's (MRD, max tasks) capacities.
pub fn agent_capacities_of(conn: &Connection, user_id: &str) -> StoreResult<Vec<(String, u32)>> {
    let mut st = conn.prepare_cached(
        "SELECT mrd_id, max_agent_tasks FROM agent_mrd_capacities WHERE user_id = ?1",
    )?;
    let rows = st
        .query_map([user_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn create_routing_attribute(
    conn: &Connection,
    name: &str,
    kind: &str,
    description: &str,
) -> StoreResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO routing_attributes(id, name, type, description) VALUES (?1, ?2, ?3, ?4)",
        params![id, name, kind, description],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("routing attribute {name}")))?;
    Ok(id)
}

pub fn set_agent_attribute(
    conn: &Connection,
    user_id: &str,
    attribute_id: &str,
    value: i64,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO agent_attributes(user_id, attribute_id, value) VALUES (?1, ?2, ?3)
         ON CONFLICT(user_id, attribute_id) DO UPDATE SET value = excluded.value",
        params![user_id, attribute_id, value],
    )?;
    Ok(())
}

/// Every (user, attribute) pair.
pub fn list_agent_attributes(conn: &Connection) -> StoreResult<Vec<(String, AgentAttributeRow)>> {
    let mut st = conn.prepare_cached(
        "SELECT a.user_id, r.name, r.type, a.value FROM agent_attributes a
         JOIN routing_attributes r ON r.id = a.attribute_id",
    )?;
    let rows = st
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                AgentAttributeRow {
                    name: r.get(1)?,
                    kind: r.get(2)?,
                    value: r.get(3)?,
                },
            ))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// One agent's attributes.
pub fn agent_attributes_of(
    conn: &Connection,
    user_id: &str,
) -> StoreResult<Vec<AgentAttributeRow>> {
    let mut st = conn.prepare_cached(
        "SELECT r.name, r.type, a.value FROM agent_attributes a
         JOIN routing_attributes r ON r.id = a.attribute_id WHERE a.user_id = ?1",
    )?;
    let rows = st
        .query_map([user_id], |r| {
            Ok(AgentAttributeRow {
                name: r.get(0)?,
                kind: r.get(1)?,
                value: r.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn create_reason_code(
    conn: &Connection,
    name: &str,
    kind: &str,
    description: &str,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO reason_codes(id, name, type, description) VALUES (?1, ?2, ?3, ?4)",
        params![uuid::Uuid::new_v4().to_string(), name, kind, description],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("reason code {name}")))?;
    Ok(())
}

/// The reason codes in use (not deleted).
pub fn list_reason_codes(conn: &Connection) -> StoreResult<Vec<ReasonCodeRow>> {
    super::codes::reason_codes(conn, false)
}

pub fn create_wrapup_code(conn: &Connection, category: &str, value: &str) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO wrapup_codes(id, category, value) VALUES (?1, ?2, ?3)",
        params![uuid::Uuid::new_v4().to_string(), category, value],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("wrap-up code {category}/{value}")))?;
    Ok(())
}

/// The wrap-up codes in use (not deleted).
pub fn list_wrapup_codes(conn: &Connection) -> StoreResult<Vec<WrapupCodeRow>> {
    super::codes::wrapup_codes(conn, false)
}

/// What it takes to create a channel with its type, provider and connector.
pub struct NewChannel<'a> {
    pub name: &'a str,
    pub service_identifier: &'a str,
    pub channel_type_id: &'a str,
    pub provider_webhook: &'a str,
    /// The channelConfig object (channelMode, responseSla, customerActivityTimeout, routingPolicy, ...).
    pub channel_config: Value,
}

pub fn create_channel_type(
    conn: &Connection,
    name: &str,
    logo: &str,
    mrd_id: &str,
) -> StoreResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO channel_types(id, name, channel_logo, is_interactive, mrd_id) VALUES (?1, ?2, ?3, 1, ?4)",
        params![id, name, logo, mrd_id],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("channel type {name}")))?;
    Ok(id)
}

fn channel_type_json(conn: &Connection, id: &str) -> StoreResult<Value> {
    conn.prepare_cached(
        "SELECT id, name, channel_logo, is_interactive, mrd_id FROM channel_types WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(json!({
            "id": r.get::<_, String>(0)?,
            "name": r.get::<_, String>(1)?,
            "channelLogo": r.get::<_, String>(2)?,
            "isInteractive": r.get::<_, bool>(3)?,
            "mediaRoutingDomain": r.get::<_, String>(4)?,
        }))
    })
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("channel type {id}")))
}

/// Creates a channel with its own provider and connector; returns the channel id.
/// A channel configuration that pushes to the queue `queue_id` with the defaults
/// (longest available agent, 600 s customer activity timeout, 300 s request TTL).
pub fn push_channel_config(queue_id: &str, route_to_last_agent: bool) -> Value {
    json!({
        "channelMode": "HYBRID",
        "conversationBot": "",
        "responseSla": 0,
        "customerActivityTimeout": 600,
        "customerSla": {"totalDuration": null, "action": null, "startTime": null},
        "customerIdentificationCriteria": {"value": null},
        "routingPolicy": {
            "agentSelectionPolicy": "LONGEST_AVAILABLE",
            "routeToLastAgent": route_to_last_agent,
            "routingMode": "PUSH",
            "routingObjectId": queue_id,
            "agentRequestTtl": 300
        },
        "botId": ""
    })
}

pub fn create_channel(conn: &Connection, c: &NewChannel<'_>, now: Millis) -> StoreResult<String> {
    let channel_type = channel_type_json(conn, c.channel_type_id)?;
    let provider_id = uuid::Uuid::new_v4().to_string();
    let connector_id = uuid::Uuid::new_v4().to_string();
    let channel_id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO channel_providers(id, name, provider_webhook, supported_channel_types, config_schema)
         VALUES (?1, ?2, ?3, ?4, '[]')",
        params![provider_id, c.name, c.provider_webhook, json!([channel_type]).to_string()],
    )?;
    conn.execute(
        "INSERT INTO channel_connectors(id, name, provider_id, configs) VALUES (?1, ?2, ?3, '[]')",
        params![connector_id, c.name, provider_id],
    )?;
    let mut config = c.channel_config.clone();
    if let Some(obj) = config.as_object_mut() {
        obj.entry("id")
            .or_insert_with(|| Value::String(uuid::Uuid::new_v4().to_string()));
    }
    conn.execute(
        "INSERT INTO channels(id, name, service_identifier, channel_type_id, connector_id, config, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            channel_id,
            c.name,
            c.service_identifier,
            c.channel_type_id,
            connector_id,
            config.to_string(),
            now
        ],
    )
    .map_err(|e| {
        StoreError::conflict_on_unique(e, &format!("channel with serviceIdentifier {}", c.service_identifier))
    })?;
    Ok(channel_id)
}

/// The channel with `serviceIdentifier`, in the CIM `channel` shape (channelConfig,
/// channelConnector with its provider interface, channelType).
pub fn channel_by_service_identifier(
    conn: &Connection,
    service_identifier: &str,
) -> StoreResult<Option<Value>> {
    let row = conn
        .prepare_cached(
            "SELECT c.id, c.name, c.service_identifier, c.default_outbound, c.config, c.channel_type_id,
                    n.id, n.name, n.configs, p.id, p.name, p.provider_webhook,
                    p.supported_channel_types, p.config_schema
             FROM channels c JOIN channel_connectors n ON n.id = c.connector_id
             JOIN channel_providers p ON p.id = n.provider_id
             WHERE c.service_identifier = ?1",
        )?
        .query_row([service_identifier], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, String>(8)?,
                r.get::<_, String>(9)?,
                r.get::<_, String>(10)?,
                r.get::<_, String>(11)?,
                r.get::<_, String>(12)?,
                r.get::<_, String>(13)?,
            ))
        })
        .optional()?;
    let Some((
        id,
        name,
        sid,
        default_outbound,
        config,
        type_id,
        conn_id,
        conn_name,
        conn_cfg,
        prov_id,
        prov_name,
        webhook,
        supported,
        schema,
    )) = row
    else {
        return Ok(None);
    };
    Ok(Some(json!({
        "id": id,
        "calendarId": "",
        "name": name,
        "serviceIdentifier": sid,
        "defaultOutbound": default_outbound,
        "tenant": {"id": "switchboard", "name": null},
        "channelConfig": parse_json(&config, "channels.config")?,
        "channelConnector": {
            "id": conn_id,
            "name": conn_name,
            "channelProviderInterface": {
                "id": prov_id,
                "name": prov_name,
                "supportedChannelTypes": parse_json(&supported, "channel_providers.supported_channel_types")?,
                "providerWebhook": webhook,
                "channelProviderConfigSchema": parse_json(&schema, "channel_providers.config_schema")?,
            },
            "channelProviderConfigs": parse_json(&conn_cfg, "channel_connectors.configs")?,
            "tenant": {"id": "switchboard", "name": null},
        },
        "channelType": channel_type_json(conn, &type_id)?,
    })))
}

/// Every channel, in the CIM `channel` shape.
pub fn list_channels(conn: &Connection) -> StoreResult<Vec<Value>> {
    let sids: Vec<String> = conn
        .prepare_cached("SELECT service_identifier FROM channels ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(sids.len());
    for sid in sids {
        if let Some(c) = channel_by_service_identifier(conn, &sid)? {
            out.push(c);
        }
    }
    Ok(out)
}

/// Every channel type, in the CIM `channelType` shape (for `onChannelTypes`).
pub fn list_channel_types(conn: &Connection) -> StoreResult<Vec<Value>> {
    let ids: Vec<String> = conn
        .prepare_cached("SELECT id FROM channel_types ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    ids.iter().map(|id| channel_type_json(conn, id)).collect()
}

pub fn update_mrd(conn: &Connection, m: &MrdRow) -> StoreResult<()> {
    let n = conn
        .execute(
            "UPDATE mrds SET name = ?2, description = ?3, max_tasks = ?4, interruptible = ?5 WHERE id = ?1",
            params![m.id, m.name, m.description, m.max_tasks, m.interruptible],
        )
        .map_err(|e| StoreError::conflict_on_unique(e, &format!("MRD {}", m.name)))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("MRD {}", m.id)));
    }
    Ok(())
}

/// Replaces a queue's settings and steps.
pub fn update_queue(conn: &Connection, q: &QueueRow) -> StoreResult<()> {
    let n = conn
        .execute(
            "UPDATE queues SET name = ?2, mrd_id = ?3, priority = ?4, accept_timeout_secs = ?5,
                 agent_sla_secs = ?6, service_level_secs = ?7 WHERE id = ?1",
            params![
                q.id,
                q.name,
                q.mrd_id,
                q.priority,
                q.accept_timeout_secs,
                q.agent_sla_secs,
                q.service_level_secs
            ],
        )
        .map_err(|e| StoreError::conflict_on_unique(e, &format!("queue {}", q.name)))?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("queue {}", q.id)));
    }
    conn.execute("DELETE FROM queue_steps WHERE queue_id = ?1", [&q.id])?;
    for (i, step) in q.steps.iter().enumerate() {
        conn.execute(
            "INSERT INTO queue_steps(queue_id, step_index, expression, timeout_secs) VALUES (?1, ?2, ?3, ?4)",
            params![q.id, i as i64 + 1, step.expression, step.timeout_secs],
        )?;
    }
    Ok(())
}

pub fn delete_queue(conn: &Connection, id: &str) -> StoreResult<()> {
    let n = conn
        .execute("DELETE FROM queues WHERE id = ?1", [id])
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict(format!("queue {id} is still referenced by"))
            }
            other => StoreError::Sqlite(other),
        })?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("queue {id}")));
    }
    Ok(())
}

pub fn attribute_id(conn: &Connection, name: &str) -> StoreResult<Option<(String, String)>> {
    Ok(conn
        .prepare_cached("SELECT id, type FROM routing_attributes WHERE name = ?1")?
        .query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub fn create_pull_list(
    conn: &Connection,
    name: &str,
    queue_id: Option<&str>,
) -> StoreResult<String> {
    let id = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO pull_lists(id, name, queue_id) VALUES (?1, ?2, ?3)",
        params![id, name, queue_id],
    )
    .map_err(|e| StoreError::conflict_on_unique(e, &format!("pull list {name}")))?;
    Ok(id)
}
