//! `Task`: the routing engine's unit of work for one conversation — its state and its
//! `activeMedia` (one `TaskMedia` per MRD, each with queue, priority, media state and
//! the requesting channel session), as carried by `TASK_ENQUEUED` /
//! `TASK_STATE_CHANGED` events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::channel_session::{ChannelSession, Direction};
use super::nullable::Nullable;
use super::string_enum::string_enum;
use crate::clock::Millis;

string_enum! {
    /// `task.state.name`.
    pub enum TaskStateName {
        Active = "ACTIVE",
        WrapUp = "WRAP_UP",
        Closed = "CLOSED",
    }
}

string_enum! {
    /// `task.state.reasonCode`: the disposition a task was closed with.
    pub enum TaskStateReason {
        Rona = "RONA",
        Done = "DONE",
        AgentLogout = "AGENT_LOGOUT",
        Cancelled = "CANCELLED",
        Transferred = "TRANSFERRED",
        NoAgentAvailable = "NO_AGENT_AVAILABLE",
        ForceClosed = "FORCE_CLOSED",
    }
}

string_enum! {
    /// `activeMedia[].state`.
    pub enum TaskMediaState {
        Started = "STARTED",
        Queued = "QUEUED",
        Reserved = "RESERVED",
        Active = "ACTIVE",
        Closed = "CLOSED",
    }
}

string_enum! {
    /// `activeMedia[].type.mode`: routed through a queue or aimed at a named agent.
    pub enum TaskMode {
        Queue = "QUEUE",
        Agent = "AGENT",
    }
}

/// `task.state`: `{name, reasonCode}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskState {
    pub name: TaskStateName,
    #[serde(
        rename = "reasonCode",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub reason_code: Nullable<TaskStateReason>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TaskState {
    /// `{name, reasonCode}`; `None` emits `reasonCode: null`.
    pub fn new(name: TaskStateName, reason_code: Option<TaskStateReason>) -> Self {
        TaskState {
            name,
            reason_code: reason_code.into(),
            extra: Map::new(),
        }
    }
}

/// A queue reference: `{id, name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueRef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl QueueRef {
    /// `{id, name}`.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        QueueRef {
            id: id.into(),
            name: name.into().into(),
            extra: Map::new(),
        }
    }
}

/// `activeMedia[].type.metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaskTypeMetadata {
    #[serde(
        rename = "offerToAgent",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub offer_to_agent: Nullable<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `activeMedia[].type`: `{direction, mode, metadata}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskType {
    pub direction: Direction,
    pub mode: TaskMode,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub metadata: Nullable<TaskTypeMetadata>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TaskType {
    /// `{direction, mode, metadata: {offerToAgent}}`.
    pub fn new(direction: Direction, mode: TaskMode, offer_to_agent: bool) -> Self {
        TaskType {
            direction,
            mode,
            metadata: TaskTypeMetadata {
                offer_to_agent: offer_to_agent.into(),
                extra: Map::new(),
            }
            .into(),
            extra: Map::new(),
        }
    }
}

/// An entry of `task.activeMedia`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskMedia {
    pub id: String,
    #[serde(rename = "mrdId")]
    pub mrd_id: String,
    #[serde(rename = "taskId")]
    pub task_id: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub queue: Nullable<QueueRef>,
    #[serde(rename = "type")]
    pub media_type: TaskType,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub priority: Nullable<i64>,
    pub state: TaskMediaState,
    #[serde(
        rename = "requestSession",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub request_session: Nullable<Box<ChannelSession>>,
    #[serde(
        rename = "channelSessions",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_sessions: Nullable<Vec<ChannelSession>>,
    #[serde(
        rename = "enqueueTime",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub enqueue_time: Nullable<Millis>,
    /// `0` until an agent answers.
    #[serde(
        rename = "answerTime",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub answer_time: Nullable<Millis>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TaskMedia {
    /// An inbound media entry queued on `queue` (state `QUEUED`, `answerTime: 0`).
    #[allow(clippy::too_many_arguments)]
    pub fn queued(
        id: impl Into<String>,
        task_id: impl Into<String>,
        mrd_id: impl Into<String>,
        queue: QueueRef,
        priority: i64,
        request_session: ChannelSession,
        enqueue_time: Millis,
        offer_to_agent: bool,
    ) -> Self {
        TaskMedia {
            id: id.into(),
            mrd_id: mrd_id.into(),
            task_id: task_id.into(),
            queue: queue.into(),
            media_type: TaskType::new(Direction::Inbound, TaskMode::Queue, offer_to_agent),
            priority: priority.into(),
            state: TaskMediaState::Queued,
            channel_sessions: vec![request_session.clone()].into(),
            request_session: Box::new(request_session).into(),
            enqueue_time: enqueue_time.into(),
            answer_time: 0.into(),
            extra: Map::new(),
        }
    }
}

/// `task`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    #[serde(rename = "conversationId")]
    pub conversation_id: String,
    pub state: TaskState,
    /// The agent id once the task is assigned.
    #[serde(
        rename = "assignedTo",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub assigned_to: Nullable<String>,
    #[serde(
        rename = "agentRequestTtlTimerId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub agent_request_ttl_timer_id: Nullable<String>,
    #[serde(rename = "activeMedia")]
    pub active_media: Vec<TaskMedia>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Task {
    /// An `ACTIVE`, unassigned task with the given media.
    pub fn new(
        id: impl Into<String>,
        conversation_id: impl Into<String>,
        active_media: Vec<TaskMedia>,
        agent_request_ttl_timer_id: Option<String>,
    ) -> Self {
        Task {
            id: id.into(),
            conversation_id: conversation_id.into(),
            state: TaskState::new(TaskStateName::Active, None),
            assigned_to: Nullable::Null,
            agent_request_ttl_timer_id: agent_request_ttl_timer_id.into(),
            active_media,
            extra: Map::new(),
        }
    }

    /// The media entry on `mrd_id`.
    pub fn media_for(&self, mrd_id: &str) -> Option<&TaskMedia> {
        self.active_media.iter().find(|m| m.mrd_id == mrd_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::channel_session::tests::started_session;
    use serde_json::json;

    #[test]
    fn queued_task_has_the_seed_shape() {
        let media = TaskMedia::queued(
            "m-1",
            "t-1",
            "mrd-chat",
            QueueRef::new("q-1", "Default"),
            1,
            started_session(),
            500,
            true,
        );
        let task = Task::new("t-1", "conv-1", vec![media], Some("timer-1".into()));
        let value = serde_json::to_value(&task).unwrap();
        assert_eq!(
            value["state"],
            json!({"name": "ACTIVE", "reasonCode": null})
        );
        assert_eq!(value["assignedTo"], json!(null));
        let media = &value["activeMedia"][0];
        assert_eq!(media["state"], json!("QUEUED"));
        assert_eq!(media["queue"], json!({"id": "q-1", "name": "Default"}));
        assert_eq!(
            media["type"],
            json!({"direction": "INBOUND", "mode": "QUEUE", "metadata": {"offerToAgent": true}})
        );
        assert_eq!(media["answerTime"], json!(0));
        assert_eq!(media["enqueueTime"], json!(500));
        assert_eq!(media["requestSession"]["id"], json!("cs-1"));
        assert_eq!(media["channelSessions"][0]["id"], json!("cs-1"));
        let back: Task = serde_json::from_value(value).unwrap();
        assert_eq!(back, task);
        assert!(back.media_for("mrd-chat").is_some());
    }
}
