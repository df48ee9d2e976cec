//! What the conversation core hands the store and gets back on restart: the CIM record
//! of a conversation (the `Conversation` object and its channel sessions), the core's
//! own bookkeeping ([`ConversationRuntime`], serde, for the `timers` column), the
//! events of one step with their sequence numbers, and the restore bundle.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::timers::ConversationTimers;
use crate::cim::{ChannelSession, CimEvent, Conversation};

/// The CIM side of a conversation: rows of `conversations`, `participants` and
/// `channel_sessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationRecord {
    /// Participants that left stay in the list with `isActive: false`,
    /// `state: UNSUBSCRIBED` and `stateChangedOn` set to when they left.
    pub conversation: Conversation,
    /// Every channel session the customer used in this conversation, with its state.
    pub channel_sessions: Vec<ChannelSession>,
}

/// The core's own bookkeeping for a conversation. Serialized whole into the
/// `conversations.timers` column; every deadline in it is absolute.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConversationRuntime {
    pub timers: ConversationTimers,
    /// The queue the conversation was last enqueued on.
    pub queue_id: Option<String>,
    /// The last agent that served the customer.
    pub last_agent_id: Option<String>,
    /// An agent request is with the routing engine (FIND_AGENT sent, no agent yet).
    pub routing_pending: bool,
    /// The routing task of that request, once the engine enqueued it: only its own
    /// end settles the request (an earlier task leaving wrap-up does not).
    pub pending_task_id: Option<String>,
    /// Agent response SLA of the conversation's queue, seconds.
    pub agent_sla_secs: Option<u32>,
    /// The customer wrote last and no serving agent has answered yet.
    pub awaiting_agent_reply: bool,
    /// Agent id → the routing task it accepted.
    pub agent_tasks: BTreeMap<String, String>,
    /// A message left outside business hours: not routed until `timers.hours_open`.
    pub waiting_for_hours: bool,
}

/// One event of a step, numbered.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Per-conversation sequence number, from 1.
    pub seq: u64,
    /// The client message id the event carries (`cim_events.message_id`), if any.
    pub message_id: Option<String>,
    pub event: Arc<CimEvent>,
}

/// Everything one input changed in one conversation; the driver writes it in one
/// transaction before acting on any other effect of the same `handle` call.
#[derive(Debug, Clone, PartialEq)]
pub struct PersistStep {
    pub conversation_id: String,
    /// The highest sequence number used so far.
    pub last_seq: u64,
    /// Present when the conversation, its participants or its channel sessions changed
    /// (always on the step that creates the conversation); `None` for steps that only
    /// append events and move timers.
    pub record: Option<Box<ConversationRecord>>,
    /// Always present: timers move on nearly every step.
    pub runtime: ConversationRuntime,
    /// New events, in sequence order.
    pub events: Vec<StoredEvent>,
}

/// An open conversation as read back from the store on start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoredConversation {
    pub record: ConversationRecord,
    pub runtime: ConversationRuntime,
    pub last_seq: u64,
    /// Recent client message/event ids with the sequence number they were stored
    /// under, oldest first, so retries after the restart are still recognised.
    pub recent_ids: Vec<(String, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::timers::SlaClock;

    #[test]
    fn runtime_round_trips_and_tolerates_missing_keys() {
        let mut runtime = ConversationRuntime {
            queue_id: Some("q-1".into()),
            routing_pending: true,
            agent_sla_secs: Some(40),
            ..ConversationRuntime::default()
        };
        runtime.timers.agent_sla = Some(SlaClock::start(5, 40_000, vec![50, 100], false));
        runtime.agent_tasks.insert("a-1".into(), "t-1".into());
        let json = serde_json::to_value(&runtime).unwrap();
        assert_eq!(json["queueId"], "q-1");
        let back: ConversationRuntime = serde_json::from_value(json).unwrap();
        assert_eq!(back, runtime);
        let empty: ConversationRuntime = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, ConversationRuntime::default());
    }
}
