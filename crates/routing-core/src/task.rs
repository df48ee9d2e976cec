//! The routing task: its CIM-visible part (rendered by [`Task::to_cim`] in exactly the
//! documented `task` shape) and the routing bookkeeping the engine needs to rebuild
//! it after a restart (step, timers, target, exclusions).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::model::{
    AgentId, ConversationId, Direction, Disposition, MediaState, MrdId, QueueId, RoutingMode,
    SelectionPolicy, SharedJson, TaskId, TaskStateName,
};
use crate::Millis;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: TaskId,
    pub conversation_id: ConversationId,
    pub state: TaskState,
    /// The agent holding the task (reserved, active or in wrap-up); kept on close for reports.
    pub assigned_to: Option<AgentId>,
    /// Present while the agent request TTL runs.
    pub agent_request_ttl_timer_id: Option<String>,
    pub media: TaskMedia,
    pub routing: TaskRouting,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskState {
    pub name: TaskStateName,
    /// The disposition once closed; while open, why the task last went back to a
    /// queue (RONA, AGENT_LOGOUT), cleared when an agent accepts.
    pub reason_code: Option<Disposition>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskMedia {
    pub id: String,
    pub mrd_id: MrdId,
    pub queue: QueueRef,
    pub direction: Direction,
    pub mode: RoutingMode,
    /// `type.metadata`, as given on enqueue.
    pub metadata: SharedJson,
    pub priority: u8,
    pub state: MediaState,
    pub request_session: SharedJson,
    pub enqueue_time: Millis,
    /// 0 until an agent accepts.
    pub answer_time: Millis,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueRef {
    pub id: QueueId,
    pub name: String,
}

/// Whom a waiting task may be offered to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Target {
    /// Any eligible agent of the queue.
    Queue,
    /// Only this agent (mode AGENT): waits for it until the TTL.
    #[serde(rename_all = "camelCase")]
    Agent { agent_id: AgentId },
    /// The customer's last agent until `until`, then the queue.
    #[serde(rename_all = "camelCase")]
    LastAgent { agent_id: AgentId, until: Millis },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRouting {
    pub target: Target,
    pub selection_policy: SelectionPolicy,
    pub offer_to_agent: bool,
    pub exclude_agents: Vec<AgentId>,
    /// The task this one transfers or conferences from.
    pub related_task: Option<TaskId>,
    /// The priority asked for on enqueue (the media priority becomes 11 on re-routes).
    pub requested_priority: u8,
    pub agent_request_ttl_ms: Option<Millis>,
    /// When the TTL closes the task NO_AGENT_AVAILABLE (absent once accepted).
    pub ttl_deadline: Option<Millis>,
    /// Index of the last opened queue step (0-based).
    pub step: u8,
    /// When `step` opened; the next step opens at this time plus its timeout.
    pub step_opened_at: Millis,
    pub reserved_at: Option<Millis>,
    /// RONA fires at this time unless the reservation is accepted.
    pub accept_deadline: Option<Millis>,
    /// Tie-breaker within equal priority and enqueue time: arrival order.
    pub seq: u64,
}

impl Task {
    pub fn is_closed(&self) -> bool {
        self.state.name == TaskStateName::Closed
    }

    /// The task in the documented CIM shape (`TASK_ENQUEUED`/`TASK_STATE_CHANGED` data).
    pub fn to_cim(&self) -> Value {
        let media = &self.media;
        let metadata = match &*media.metadata {
            Value::Object(map) => {
                let mut map = map.clone();
                map.entry("offerToAgent")
                    .or_insert(Value::Bool(self.routing.offer_to_agent));
                Value::Object(map)
            }
            _ => json!({ "offerToAgent": self.routing.offer_to_agent }),
        };
        json!({
            "id": self.id,
            "conversationId": self.conversation_id,
            "state": {
                "name": self.state.name,
                "reasonCode": self.state.reason_code,
            },
            "assignedTo": self.assigned_to,
            "agentRequestTtlTimerId": self.agent_request_ttl_timer_id,
            "activeMedia": [{
                "id": media.id,
                "mrdId": media.mrd_id,
                "taskId": self.id,
                "queue": { "id": media.queue.id, "name": media.queue.name },
                "type": {
                    "direction": media.direction,
                    "mode": media.mode,
                    "metadata": metadata,
                },
                "priority": media.priority,
                "state": media.state,
                "requestSession": media.request_session,
                // The newer seeds' list beside requestSession (one session per task here).
                "channelSessions": [&media.request_session],
                "enqueueTime": media.enqueue_time,
                "answerTime": media.answer_time,
            }],
        })
    }
}
