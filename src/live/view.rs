//! The rows a console shows, rendered from the figures, the routing engine's agent
//! presence and the queue settings: queue, agent and conversation rows as JSON, with
//! what each console's scope needs to filter them (`docs/protocol.md`,
//! "Supervisor console").

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use super::counts::Counts;
use super::figures::Figures;
use crate::clock::Millis;
use crate::routing::handle::enum_str;
use crate::routing::AgentView;

/// A queue's settings the console needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueInfo {
    pub name: String,
    pub mrd_id: String,
    pub service_level_ms: Option<Millis>,
    pub agent_sla_ms: Option<Millis>,
    pub thresholds: Thresholds,
}

pub use crate::store::queue_thresholds::Thresholds;

/// What one pass over the open tasks gives every row: waiting per queue, the
/// conversations of each agent.
#[derive(Default)]
pub struct Index {
    waiting: HashMap<String, (u64, Millis)>,
    agent_conversations: HashMap<String, Vec<String>>,
}

impl Index {
    pub fn build(figures: &Figures) -> Index {
        let mut index = Index::default();
        for (_, task) in figures.tasks() {
            if task.is_waiting() {
                let entry = index
                    .waiting
                    .entry(task.queue_id.clone())
                    .or_insert((0, task.enqueue_time));
                entry.0 += 1;
                entry.1 = entry.1.min(task.enqueue_time);
            }
            if let (Some(agent), false) = (&task.assigned_to, task.media_state == "RESERVED") {
                let list = index.agent_conversations.entry(agent.clone()).or_default();
                if !list.contains(&task.conversation_id) {
                    list.push(task.conversation_id.clone());
                }
            }
        }
        index
    }
}

fn counts(c: &Counts) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("serviceLevel".into(), json!(c.service_level_pct()));
        o.insert("asaMs".into(), json!(c.asa_ms()));
        o.insert("ahtMs".into(), json!(c.aht_ms()));
    }
    v
}

pub fn queue_row(
    id: &str,
    figures: &Figures,
    info: Option<&QueueInfo>,
    agents: &BTreeMap<String, AgentView>,
    index: &Index,
    now: Millis,
) -> Value {
    let q = figures.queue(id);
    let today = q.map(|q| q.today).unwrap_or_default();
    let rolling = q.map(|q| *q.rolling.counts()).unwrap_or_default();
    let (waiting, oldest) = index
        .waiting
        .get(id)
        .map_or((0, None), |(n, o)| (*n, Some(*o)));
    let longest_wait_ms = oldest.map(|o| (now - o).max(0));
    let mut by_state: BTreeMap<String, u32> = [
        "READY",
        "ACTIVE",
        "BUSY",
        "NOT_READY",
        "PENDING_NOT_READY",
        "INTERRUPTED",
    ]
    .iter()
    .map(|s| (s.to_string(), 0))
    .collect();
    if let Some(info) = info {
        for agent in agents.values() {
            if let Some(m) = agent.mrd_states.iter().find(|m| m.mrd_id == info.mrd_id) {
                if agent.connected || agent.state != crate::routing::AgentStateName::Logout {
                    *by_state.entry(enum_str(&m.state)).or_default() += 1;
                }
            }
        }
    }
    let name = info
        .map(|i| i.name.clone())
        .or_else(|| q.map(|q| q.name.clone()))
        .unwrap_or_default();
    let thresholds = info.map(|i| i.thresholds.clone()).unwrap_or_default();
    let status = thresholds.status(longest_wait_ms, today.service_level_pct());
    json!({
        "id": id,
        "name": name,
        "waiting": waiting,
        "oldestEnqueueTime": oldest,
        "longestWaitMs": longest_wait_ms,
        "agents": by_state,
        "today": counts(&today),
        "rolling": counts(&rolling),
        "serviceLevelThresholdSecs": info.and_then(|i| i.service_level_ms).map(|ms| ms / 1000),
        "thresholds": thresholds,
        "status": status,
    })
}

/// Whether the agent is off the floor (logged out and no desk): not listed.
pub fn is_listed(agent: &AgentView) -> bool {
    agent.connected
        || agent.state != crate::routing::AgentStateName::Logout
        || !agent.task_ids.is_empty()
}

pub fn agent_row(agent: &AgentView, figures: &Figures, index: &Index) -> Value {
    let today = figures.agent_today(&agent.agent_id);
    json!({
        "id": agent.agent_id,
        "username": agent.username,
        "team": agent.team,
        "state": enum_str(&agent.state),
        "reasonCode": agent.reason_code,
        "stateChangeTime": agent.state_change_time,
        "connected": agent.connected,
        "listed": is_listed(agent),
        "mrds": agent.mrd_states.iter().map(|m| json!({
            "mrdId": m.mrd_id,
            "name": m.mrd_name,
            "state": enum_str(&m.state),
            "active": m.load,
            "max": m.max_agent_tasks,
        })).collect::<Vec<_>>(),
        "conversations": index.agent_conversations.get(&agent.agent_id).cloned().unwrap_or_default(),
        "today": {"handled": today.handled, "ahtMs": today.aht_ms()},
    })
}

/// The conversation's row, and the agents in it (for scoping); `None` once it ended.
pub fn conversation_row(
    id: &str,
    figures: &Figures,
    queues: &BTreeMap<String, QueueInfo>,
    agents: &BTreeMap<String, AgentView>,
    now: Millis,
) -> Option<(Value, Vec<String>)> {
    let c = figures.conversation(id)?;
    let tasks: Vec<_> = c.tasks.iter().filter_map(|t| figures.task(t)).collect();
    let current = tasks.iter().max_by_key(|t| t.enqueue_time)?;
    let mut members = Vec::new();
    for t in &tasks {
        if let Some(a) = &t.assigned_to {
            if !members.contains(a) {
                members.push(a.clone());
            }
        }
    }
    let state = if tasks
        .iter()
        .any(|t| t.media_state == "ACTIVE" && t.state == "ACTIVE")
    {
        "ACTIVE"
    } else if tasks.iter().any(|t| t.state == "WRAP_UP") {
        "WRAP_UP"
    } else if tasks.iter().any(|t| t.media_state == "RESERVED") {
        "OFFERED"
    } else {
        "WAITING"
    };
    let info = queues.get(&current.queue_id);
    let queue_name = info
        .map(|i| i.name.clone())
        .or_else(|| figures.queue(&current.queue_id).map(|q| q.name.clone()))
        .unwrap_or_default();
    let sla_ms = info.and_then(|i| i.agent_sla_ms).filter(|ms| *ms > 0);
    let sla_status = match (c.unanswered_since, sla_ms) {
        (Some(since), Some(sla)) if now - since >= sla => "BREACHED",
        _ => "OK",
    };
    let agent_list: Vec<Value> = members
        .iter()
        .map(|a| {
            let username = agents.get(a).map(|v| v.username.clone());
            json!({"id": a, "username": username})
        })
        .collect();
    let row = json!({
        "id": id,
        "customerName": c.customer_name,
        "channel": c.channel_name,
        "queue": {"id": current.queue_id, "name": queue_name},
        "agents": agent_list,
        "state": state,
        "enqueueTime": current.enqueue_time,
        "answerTime": (current.answer_time > 0).then_some(current.answer_time),
        "startedAt": c.started_at,
        "unansweredSince": c.unanswered_since,
        "agentSlaSecs": sla_ms.map(|ms| ms / 1000),
        "slaStatus": sla_status,
    });
    Some((row, members))
}
