//! The edge of the live figures: what a task change or a message means for them
//! ([`LiveEvent`]). Task changes come from the routing engine's committed effects
//! ([`of_effect`]), stored as JSON in the task log (`task_log`) in the same
//! transaction; messages come from stored CIM events ([`of_event`],
//! [`of_stored_event`]). The live path and the replay on start read the same rows.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cim::CimEvent;
use crate::clock::Millis;
use crate::routing::handle::enum_str;
use crate::routing::{Effect, Task};

/// One change, as far as the figures care.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveEvent {
    pub conversation_id: String,
    /// When it happened (the routing engine's or the conversation manager's time).
    pub at: Millis,
    pub fact: Fact,
}

impl LiveEvent {
    /// The task a task change is about ("" for messages).
    pub fn task_id(&self) -> &str {
        match &self.fact {
            Fact::Enqueued(t) | Fact::Changed(t) | Fact::Reserved { task: t, .. } => &t.id,
            Fact::CustomerMessage | Fact::AgentMessage => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Fact {
    /// The task entered its queue (new, or back after RONA / logout): TASK_ENQUEUED.
    Enqueued(TaskFacts),
    /// Any other change of the task: TASK_STATE_CHANGED.
    Changed(TaskFacts),
    /// An offer to `agent_id`: AGENT_RESERVED.
    #[serde(rename_all = "camelCase")]
    Reserved { agent_id: String, task: TaskFacts },
    /// `CUSTOMER_MESSAGE`.
    CustomerMessage,
    /// `AGENT_MESSAGE`.
    AgentMessage,
}

/// The routing task after the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskFacts {
    pub id: String,
    /// `state.name`: ACTIVE, WRAP_UP, CLOSED.
    pub state: String,
    pub reason: Option<String>,
    pub assigned_to: Option<String>,
    pub queue_id: String,
    pub queue_name: String,
    /// `type.direction`: INBOUND, DIRECT_TRANSFER, ...
    pub direction: String,
    /// Media state: QUEUED, RESERVED, ACTIVE, CLOSED.
    pub media_state: String,
    pub enqueue_time: Millis,
    /// 0 until an agent accepts.
    pub answer_time: Millis,
    pub customer_name: Option<String>,
    pub channel_name: Option<String>,
}

impl TaskFacts {
    pub fn is_closed(&self) -> bool {
        self.state == "CLOSED"
    }

    pub fn is_transfer(&self) -> bool {
        self.direction.contains("TRANSFER")
    }

    /// A request an agent made for another agent (`Direction::is_assistance`): left
    /// unanswered, it is not an abandon.
    pub fn is_assistance(&self) -> bool {
        matches!(
            self.direction.as_str(),
            "DIRECT_TRANSFER" | "DIRECT_CONFERENCE" | "CONSULT"
        )
    }

    fn of(task: &Task) -> TaskFacts {
        let session = &*task.media.request_session;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        TaskFacts {
            id: task.id.clone(),
            state: enum_str(&task.state.name),
            reason: task.state.reason_code.as_ref().map(enum_str),
            assigned_to: task.assigned_to.clone(),
            queue_id: task.media.queue.id.clone(),
            queue_name: task.media.queue.name.clone(),
            direction: enum_str(&task.media.direction),
            media_state: enum_str(&task.media.state),
            enqueue_time: task.media.enqueue_time,
            answer_time: task.media.answer_time,
            customer_name: form_first_name(session)
                .or_else(|| text(session.pointer("/customer/firstName"))),
            channel_name: text(session.pointer("/channel/name")),
        }
    }
}

/// The first name the customer typed into the widget's form
/// (`channelData.additionalAttributes[].value.formData.attributes[]` with key
/// `firstName`), as the desk shows it.
fn form_first_name(session: &Value) -> Option<String> {
    let attributes = session
        .pointer("/channelData/additionalAttributes")?
        .as_array()?;
    attributes.iter().find_map(|attribute| {
        attribute
            .pointer("/value/formData/attributes")?
            .as_array()?
            .iter()
            .find(|f| f.get("key").and_then(Value::as_str) == Some("firstName"))
            .and_then(|f| f.get("value"))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    })
}

/// The task change a committed routing effect means, at the routing engine's `now`.
pub fn of_effect(effect: &Effect, now: Millis) -> Option<LiveEvent> {
    let (task, fact) = match effect {
        Effect::TaskEnqueued { task, .. } => (task, Fact::Enqueued(TaskFacts::of(task))),
        Effect::TaskStateChanged { task } => (task, Fact::Changed(TaskFacts::of(task))),
        Effect::OfferTask { agent_id, task } => (
            task,
            Fact::Reserved {
                agent_id: agent_id.clone(),
                task: TaskFacts::of(task),
            },
        ),
        _ => return None,
    };
    Some(LiveEvent {
        conversation_id: task.conversation_id.clone(),
        at: now,
        fact,
    })
}

/// A task-log row (`task_log.fact`).
pub fn of_log(text: &str) -> Option<LiveEvent> {
    serde_json::from_str(text).ok()
}

/// The names of the CIM events the figures read; every other event is skipped unread.
pub fn is_relevant(name: &str) -> bool {
    matches!(name, "CUSTOMER_MESSAGE" | "AGENT_MESSAGE")
}

/// The facts of a published event; `None` for events the figures do not read or
/// whose payload does not have the documented shape.
pub fn of_event(event: &CimEvent) -> Option<LiveEvent> {
    let name = event.name.as_str();
    if !is_relevant(name) {
        return None;
    }
    let conversation_id = event.conversation_id.get()?.clone();
    read(name, conversation_id, event.timestamp)
}

/// The facts of a stored `cim_events.event` text.
pub fn of_stored_event(text: &str) -> Option<LiveEvent> {
    #[derive(Deserialize)]
    struct Stored {
        name: String,
        timestamp: Millis,
        #[serde(rename = "conversationId")]
        conversation_id: Option<String>,
    }
    let stored: Stored = serde_json::from_str(text).ok()?;
    read(&stored.name, stored.conversation_id?, stored.timestamp)
}

fn read(name: &str, conversation_id: String, at: Millis) -> Option<LiveEvent> {
    let fact = match name {
        "CUSTOMER_MESSAGE" => Fact::CustomerMessage,
        "AGENT_MESSAGE" => Fact::AgentMessage,
        _ => return None,
    };
    Some(LiveEvent {
        conversation_id,
        at,
        fact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stored_message_event_reads_into_its_fact() {
        let text = json!({"id": "e1", "name": "CUSTOMER_MESSAGE", "type": "MESSAGE",
                          "timestamp": 1000, "conversationId": "c1", "data": {}})
        .to_string();
        let event = of_stored_event(&text).expect("facts");
        assert_eq!(event.conversation_id, "c1");
        assert_eq!(event.at, 1000);
        assert_eq!(event.fact, Fact::CustomerMessage);
    }

    #[test]
    fn other_events_and_bad_rows_are_skipped() {
        let other =
            json!({"name": "TYPING_STARTED", "timestamp": 1, "conversationId": "c"}).to_string();
        assert_eq!(of_stored_event(&other), None);
        assert_eq!(of_stored_event("not json"), None);
        assert_eq!(of_log("{\"conversationId\": 1}"), None);
    }

    #[test]
    fn a_task_log_row_reads_back_as_written() {
        let event = LiveEvent {
            conversation_id: "c".into(),
            at: 5,
            fact: Fact::Reserved {
                agent_id: "a".into(),
                task: TaskFacts {
                    id: "t".into(),
                    state: "ACTIVE".into(),
                    reason: Some("RONA".into()),
                    assigned_to: Some("a".into()),
                    queue_id: "q".into(),
                    queue_name: "Q".into(),
                    direction: "INBOUND".into(),
                    media_state: "RESERVED".into(),
                    enqueue_time: 1,
                    answer_time: 0,
                    customer_name: None,
                    channel_name: Some("web".into()),
                },
            },
        };
        let text = serde_json::to_string(&event).expect("encodes");
        assert_eq!(of_log(&text), Some(event.clone()));
        assert_eq!(event.task_id(), "t");
    }
}
