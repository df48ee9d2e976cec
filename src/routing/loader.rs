//! Reads the site's routing configuration and the engine's saved state from the
//! store, as the inputs that rebuild a [`super::RoutingCore`] on start.

use super::{AgentProfile, AttrValue, Input, MrdConfig, PullListConfig, QueueConfig, StepConfig};
use crate::store::directory::{self, QueueRow};
use crate::store::users::{self, Role};
use crate::store::{tasks, StoreError, StoreResult};
use rusqlite::Connection;
use std::collections::BTreeMap;

/// Configuration inputs first (MRDs, queues, agents, pull lists), then saved state
/// (agent presence, open tasks, open pull requests).
pub fn load(conn: &Connection) -> StoreResult<Vec<Input>> {
    let mut inputs = Vec::new();
    for m in directory::list_mrds(conn)? {
        inputs.push(Input::UpsertMrd(MrdConfig {
            id: m.id,
            name: m.name,
            description: m.description,
            max_tasks: m.max_tasks,
            interruptible: m.interruptible,
        }));
    }
    for q in directory::list_queues(conn)? {
        inputs.push(Input::UpsertQueue(queue_config(q)));
    }
    for profile in agent_profiles(conn)? {
        inputs.push(Input::UpsertAgent(profile));
    }
    let mut st = conn.prepare_cached("SELECT id, name FROM pull_lists ORDER BY name")?;
    let lists: Vec<(String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, name) in lists {
        inputs.push(Input::UpsertPullList(PullListConfig { id, name }));
    }
    for view in tasks::agent_views(conn)? {
        inputs.push(Input::RestoreAgentState(Box::new(decode(
            view,
            "agent view",
        )?)));
    }
    for task in tasks::open_snapshots(conn)? {
        inputs.push(Input::RestoreTask(Box::new(decode(task, "task")?)));
    }
    for request in tasks::open_pull_requests(conn)? {
        inputs.push(Input::RestorePullRequest(Box::new(decode(
            request,
            "pull request",
        )?)));
    }
    Ok(inputs)
}

fn decode<T: serde::de::DeserializeOwned>(value: serde_json::Value, what: &str) -> StoreResult<T> {
    serde_json::from_value(value).map_err(|e| StoreError::Corrupt(format!("saved {what}: {e}")))
}

pub fn queue_config(q: QueueRow) -> QueueConfig {
    QueueConfig {
        id: q.id,
        name: q.name,
        mrd_id: q.mrd_id,
        priority: q.priority,
        accept_timeout_ms: q.accept_timeout_secs.map(|s| s * 1000),
        agent_sla_ms: Some(q.agent_sla_secs * 1000),
        service_level_threshold_ms: Some(q.service_level_secs * 1000),
        steps: q
            .steps
            .into_iter()
            .map(|s| StepConfig {
                expression: s.expression,
                timeout_ms: s.timeout_secs * 1000,
            })
            .collect(),
    }
}

/// Every user who can take tasks (agents and supervisors), with capacities and attributes.
pub fn agent_profiles(conn: &Connection) -> StoreResult<Vec<AgentProfile>> {
    let mut capacities: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for (user, mrd, max) in directory::list_agent_capacities(conn)? {
        capacities.entry(user).or_default().insert(mrd, max);
    }
    let mut attributes: BTreeMap<String, BTreeMap<String, AttrValue>> = BTreeMap::new();
    for (user, attr) in directory::list_agent_attributes(conn)? {
        let value = if attr.kind == "BOOLEAN" {
            AttrValue::Bool(attr.value != 0)
        } else {
            AttrValue::Proficiency(attr.value.clamp(1, 10) as u8)
        };
        attributes.entry(user).or_default().insert(attr.name, value);
    }
    Ok(users::list_users(conn)?
        .into_iter()
        .filter(|u| u.role != Role::Admin && !u.disabled)
        .map(|u| AgentProfile {
            attributes: attributes.remove(&u.id).unwrap_or_default(),
            mrd_max_tasks: capacities.remove(&u.id).unwrap_or_default(),
            team: u.team_id,
            username: u.username,
            id: u.id,
        })
        .collect())
}
