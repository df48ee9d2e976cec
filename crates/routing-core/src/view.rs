//! Read-only snapshots the engine hands out: agent presence, state-change records
//! for the history table, queue position / estimated wait and queue statistics.

use serde::{Deserialize, Serialize};

use super::model::{AgentId, AgentStateName, MrdId, MrdStateName, QueueId, TaskId};
use crate::Millis;

/// An agent's presence: global state, per-MRD states and held tasks.
/// Also the record [`super::Input::RestoreAgentState`] rebuilds an agent from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentView {
    #[schema(value_type = String)]
    pub agent_id: AgentId,
    pub username: String,
    pub team: Option<String>,
    pub state: AgentStateName,
    pub reason_code: Option<String>,
    #[schema(value_type = i64)]
    pub state_change_time: Millis,
    #[schema(value_type = Option<i64>)]
    pub login_time: Option<Millis>,
    /// Whether a desk is connected right now.
    pub connected: bool,
    /// While UNKNOWN (after a restart): the state the agent returns to when its desk reconnects.
    #[serde(default)]
    pub resume: Option<ResumeState>,
    pub mrd_states: Vec<AgentMrdView>,
    /// Tasks the agent holds: reserved, active or in wrap-up.
    #[schema(value_type = Vec<String>)]
    pub task_ids: Vec<TaskId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResumeState {
    pub state: AgentStateName,
    pub reason_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentMrdView {
    #[schema(value_type = String)]
    pub mrd_id: MrdId,
    pub mrd_name: String,
    pub interruptible: bool,
    /// Default `maxRequests` of the MRD.
    pub max_requests: u32,
    pub state: MrdStateName,
    #[schema(value_type = i64)]
    pub state_change_time: Millis,
    /// The agent's effective capacity on this MRD.
    pub max_agent_tasks: u32,
    /// Reserved plus active tasks on this MRD (wrap-up does not count).
    pub load: u32,
    /// The agent wants this MRD READY (false after NOT_READY, LOGOUT).
    pub ready_requested: bool,
}

/// One row of agent state history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateChange {
    pub at: Millis,
    #[serde(flatten)]
    pub kind: StateChangeKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scope", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateChangeKind {
    #[serde(rename_all = "camelCase")]
    Agent {
        state: AgentStateName,
        reason_code: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Mrd { mrd_id: MrdId, state: MrdStateName },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuePosition {
    /// 1 = next to be served among the tasks this one competes with.
    pub position: u32,
    /// None while no ready agent serves the queue.
    pub estimated_wait_ms: Option<Millis>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueStats {
    #[schema(value_type = String)]
    pub queue_id: QueueId,
    pub queue_name: String,
    #[schema(value_type = String)]
    pub mrd_id: MrdId,
    /// Queued tasks, including those waiting for a named or last agent.
    pub waiting: u32,
    #[schema(value_type = Option<i64>)]
    pub oldest_enqueue_time: Option<Millis>,
    #[schema(value_type = Option<i64>)]
    pub oldest_wait_ms: Option<Millis>,
    pub reserved: u32,
    pub active: u32,
    /// Logged-in agents matching at least one step of the queue.
    pub staffed_agents: u32,
    /// Of those, agents that could take a task of the queue right now.
    pub ready_agents: u32,
    /// Average handle time over the recent window, if any task was handled.
    #[schema(value_type = Option<i64>)]
    pub average_handle_time_ms: Option<Millis>,
    /// Share of recently answered tasks answered within the service-level threshold.
    pub service_level: Option<f64>,
}
