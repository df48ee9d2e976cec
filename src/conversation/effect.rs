//! `Effect`: what the driver must do after one `handle` call. The order is the contract:
//! every `Persist` comes first, and nothing else may reach a socket, a webhook, the
//! routing engine or the studio before those are committed.

use std::sync::Arc;

use super::error::CoreError;
use super::record::PersistStep;
use crate::cim::{
    AgentSelectionPolicy, Bot, ChannelSession, ChannelSessionReasonCode, ChannelSessionStateName,
    CimEvent, CimEventName, RoomInfo, RoutingMode, StudioMessage, TaskStateReason,
};

/// Where a customer-bound event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerAddress {
    pub channel_session_id: String,
    pub channel_id: String,
    pub service_identifier: String,
    pub channel_customer_identifier: String,
    /// The channel's provider webhook (connectors); `None` for the web widget.
    pub provider_webhook: Option<String>,
}

/// An agent request for the routing engine.
#[derive(Debug, Clone, PartialEq)]
pub struct FindAgentRequest {
    pub conversation_id: String,
    pub room_info: RoomInfo,
    /// Queue id or name; `None` only for a named-agent request (`offer_to_agent`).
    pub queue: Option<String>,
    /// 1..=10.
    pub priority: i64,
    /// The agent to prefer (route to last agent) or, with `offer_to_agent`, to offer to.
    pub last_agent_id: Option<String>,
    /// Agents the request must not be offered to (those wrapping this conversation up).
    pub exclude_agents: Vec<String>,
    pub offer_to_agent: bool,
    pub request_type: Option<String>,
    /// The customer's session the request is for (the last one used).
    pub channel_session: Box<ChannelSession>,
    /// The channel type's media routing domain.
    pub mrd_id: Option<String>,
    pub agent_request_ttl_secs: Option<i64>,
    pub selection_policy: Option<AgentSelectionPolicy>,
    pub routing_mode: Option<RoutingMode>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write this conversation step in one transaction, before anything below.
    Persist(Box<PersistStep>),
    /// Deliver `event` to the customer's session (widget `MESSAGE_RECEIVED` or the
    /// connector webhook through the outbox).
    ToCustomer {
        conversation_id: String,
        address: CustomerAddress,
        seq: u64,
        event: Arc<CimEvent>,
    },
    /// Deliver `event` to these agents' desks (`onCimEvent`), monitors included.
    ToAgents {
        conversation_id: String,
        agent_ids: Vec<String>,
        seq: u64,
        event: Arc<CimEvent>,
    },
    /// Deliver `event` live, without a `seq`, to these desks and (when set) the
    /// customer's widget session. Never stored: a typing indicator. Needs no commit.
    Ephemeral {
        conversation_id: String,
        agent_ids: Vec<String>,
        customer: Option<CustomerAddress>,
        event: Arc<CimEvent>,
    },
    /// Deliver `event` to the conversation's assigned bots.
    ToBots {
        conversation_id: String,
        bots: Vec<Bot>,
        seq: u64,
        event: Arc<CimEvent>,
    },
    /// The client's message/event `id` is stored as `seq` (`duplicate`: it was already).
    Ack {
        id: String,
        conversation_id: String,
        seq: u64,
        duplicate: bool,
    },
    /// A customer session is running — new, joined to the customer's open conversation,
    /// or (a repeated `ChatRequested`) already running; tell the widget
    /// `CHANNEL_SESSION_STARTED` with this session (it carries `conversationId` and
    /// `roomInfo`). When not `new_conversation`, the customer returned: replay the
    /// transcript (filtered by `audience::customer_can_see`).
    ChannelSessionStarted {
        conversation_id: String,
        channel_session: Box<ChannelSession>,
        new_conversation: bool,
    },
    /// A customer session ended (ENDED) or was closed (CLOSED); tell the widget
    /// `CHANNEL_SESSION_EXPIRED` when `reason` is INACTIVITY, else `CHANNEL_SESSION_ENDED`.
    ChannelSessionClosed {
        conversation_id: String,
        channel_session_id: String,
        state: ChannelSessionStateName,
        reason: ChannelSessionReasonCode,
    },
    /// Ask the routing engine for an agent.
    FindAgent(Box<FindAgentRequest>),
    /// Close the conversation's queued and reserved tasks.
    CancelTasks {
        conversation_id: String,
        disposition: TaskStateReason,
    },
    /// An agent stopped serving: the routing engine moves its task to WRAP_UP
    /// (`wrap_up`) or closes it with `disposition`.
    AgentTaskEnded {
        conversation_id: String,
        agent_id: String,
        task_id: Option<String>,
        disposition: TaskStateReason,
        wrap_up: bool,
    },
    /// Tell the desk `wrapupTimerStarted {task, duration, conversationId, roomInfo}`.
    WrapupTimerStarted {
        conversation_id: String,
        agent_id: String,
        task_id: Option<String>,
        duration_secs: u64,
        room_info: RoomInfo,
    },
    /// The agent's wrap-up is over (closed by the desk or `timed_out`); the routing
    /// engine closes its task DONE.
    WrapupEnded {
        conversation_id: String,
        agent_id: String,
        task_id: Option<String>,
        timed_out: bool,
    },
    /// Tell these desks `topicClosed`: the conversation is over for them.
    TopicClosed {
        conversation_id: String,
        agent_ids: Vec<String>,
    },
    /// Tell these desks `event` (`agentAssignedForAssistance`, ...), in step order.
    NotifyDesks {
        agent_ids: Vec<String>,
        event: &'static str,
        payload: serde_json::Value,
    },
    /// The agent response SLA reached `percent` (below 100); notify the desks.
    AgentSlaThreshold {
        conversation_id: String,
        agent_ids: Vec<String>,
        percent: u8,
        remaining_ms: i64,
    },
    /// POST `message` to the external flow; answer with `StudioActions` or
    /// `StudioFailed` (after at most `timeout_ms`).
    CallStudio {
        request_id: String,
        conversation_id: String,
        intent: CimEventName,
        message: Box<StudioMessage>,
        timeout_ms: i64,
    },
    /// The external flow failed for this intent; the built-in flow answered instead.
    /// Log it and count it.
    StudioFallback {
        request_id: String,
        conversation_id: String,
        intent: CimEventName,
        reason: String,
    },
    /// A flow's action could not be applied (log it); the others were.
    ActionFailed {
        conversation_id: String,
        action: &'static str,
        reason: String,
    },
    /// The conversation reached CLOSED and left the core.
    ConversationClosed { conversation_id: String },
    /// The input was refused; nothing changed.
    Rejected(CoreError),
}
