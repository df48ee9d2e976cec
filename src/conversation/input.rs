//! `Input`: everything the conversation core reacts to — the customer channels, the
//! agent manager, the routing engine, the studio hook, the clock and the restart.

use super::record::RestoredConversation;
use super::studio::Action;
use crate::cim::{
    CcUser, ChannelSession, ChannelSessionReasonCode, CimEvent, CimMessage, ParticipantRole,
    QueueRef, Task,
};
use std::sync::Arc;

/// Serde: the input journal's form (`conversation::journal`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Input {
    /// A customer asks for a chat (widget `CHAT_REQUESTED`). The session is built by the
    /// channel layer (channel, customer with `_id`, channelData); the core sets its
    /// `conversationId` and `roomInfo`. Answered with `ChannelSessionStarted`.
    ChatRequested {
        channel_session: Box<ChannelSession>,
    },
    /// A customer message. Joins the session if known, else an active session of the
    /// same customer on the same channel, else starts a session in the customer's open
    /// conversation, else a new conversation. Answered with `Ack`.
    CustomerMessage {
        /// Shared: a channel's adapters keep one copy per running session.
        channel_session: Arc<ChannelSession>,
        message: Box<CimMessage>,
    },
    /// A message left outside business hours (widget `MESSAGE_LEFT`): stored like a
    /// first message, but the conversation is routed only at `opens_at` (the channel's
    /// next opening; `None`: not while the hours stay as they are). Answered with `Ack`.
    MessageLeft {
        channel_session: Box<ChannelSession>,
        message: Box<CimMessage>,
        opens_at: Option<crate::clock::Millis>,
    },
    /// A channel's business hours changed: its waiting left messages open at
    /// `opens_at` (at once when that is now or past).
    HoursChanged {
        channel_id: String,
        opens_at: Option<crate::clock::Millis>,
    },
    /// The customer ended the session (`CHAT_ENDED`: CUSTOMER) or dropped (NETWORK).
    CustomerLeft {
        channel_session_id: String,
        reason: ChannelSessionReasonCode,
    },
    /// An agent accepted (routing) or joined (monitor, conference) the conversation.
    /// `agent_sla_secs` is the response SLA of the agent's queue, if it has one.
    AgentJoined {
        conversation_id: String,
        agent: CcUser,
        role: ParticipantRole,
        task_id: Option<String>,
        agent_sla_secs: Option<u32>,
    },
    /// The agent left (desk `topicUnsubscription`); wrap-up starts when enabled.
    AgentLeft {
        conversation_id: String,
        agent_id: String,
        reason: Option<String>,
    },
    /// The routing engine took `task_id` from the agent (logout, re-route).
    /// `task_requeued` says the routing engine already looks for another agent. An
    /// agent in the conversation that was only offered the task (a monitor, say)
    /// keeps its place.
    AgentRemoved {
        conversation_id: String,
        agent_id: String,
        task_id: String,
        reason: String,
        task_requeued: bool,
    },
    /// Routing: the agent logged out (by itself, forced, or its desk did not come
    /// back). It leaves every conversation it is in without a task of it: as a
    /// monitor, a whisperer, a supervisor who barged in, a pull-mode joiner. (A task's
    /// agent leaves with `AgentRemoved`; a wrap-up ends as it does.)
    AgentLoggedOut {
        agent_id: String,
    },
    /// An in-conversation event from an agent's desk (`publishCimEvent`):
    /// AGENT_MESSAGE, WHISPER_MESSAGE, TYPING_STARTED/STOPPED,
    /// MESSAGE_DELIVERY_NOTIFICATION. Answered with `Ack`.
    AgentEvent {
        conversation_id: String,
        agent_id: String,
        event: CimEvent,
    },
    /// The agent's wrap-up (`closeWrapup`): a MESSAGE event with a WRAPUP body.
    CloseWrapup {
        conversation_id: String,
        agent_id: String,
        event: CimEvent,
    },
    /// An agent's role changes (transfer completed, conference, ...).
    ChangeRole {
        conversation_id: String,
        agent_id: String,
        role: ParticipantRole,
    },
    /// An agent puts the conversation on hold; with a duration it resumes by itself.
    Hold {
        conversation_id: String,
        agent_id: String,
        duration_secs: Option<u64>,
    },
    Resume {
        conversation_id: String,
        agent_id: String,
    },
    /// End the conversation for everyone: by an agent (`agent_id`, sessions closed with
    /// AGENT) or by a supervisor/the system (`None`, FORCE_CLOSED unless `reason`).
    EndConversation {
        conversation_id: String,
        agent_id: Option<String>,
        reason: Option<ChannelSessionReasonCode>,
    },
    /// An event from a bot participant: BOT_MESSAGE, BOT_SUGGESTION, FIND_AGENT,
    /// TYPING_STARTED/STOPPED. The emitter id must be an assigned bot. Answered with `Ack`.
    BotEvent {
        conversation_id: String,
        event: CimEvent,
    },
    /// Routing: the conversation's task entered `queue`. `agent_sla_secs` is that
    /// queue's agent response SLA.
    TaskEnqueued {
        conversation_id: String,
        task: Task,
        queue: QueueRef,
        agent_sla_secs: Option<u32>,
    },
    TaskStateChanged {
        conversation_id: String,
        task: Task,
    },
    AgentReserved {
        conversation_id: String,
        agent_id: String,
        task: Task,
    },
    /// Routing: the agent request TTL ran out.
    NoAgentAvailable {
        conversation_id: String,
        task: Option<Task>,
    },
    /// Routing: the agent's MRD `mrd_id` was interrupted; `conversations` are on it.
    MrdInterrupted {
        agent_id: String,
        mrd_id: String,
        conversations: Vec<String>,
    },
    /// The external flow answered a `CallStudio`.
    StudioActions {
        request_id: String,
        actions: Vec<Action>,
    },
    /// The external flow failed (timeout, HTTP error, unreadable answer).
    StudioFailed {
        request_id: String,
        reason: String,
    },
    /// Time passed; fires every deadline at or before `now`.
    Tick,
    /// Start-up: the open conversations read back from the store.
    Restore {
        conversations: Vec<RestoredConversation>,
    },
}

impl Input {
    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Input::ChatRequested { .. } => "chat_requested",
            Input::CustomerMessage { .. } => "customer_message",
            Input::CustomerLeft { .. } => "customer_left",
            Input::MessageLeft { .. } => "message_left",
            Input::HoursChanged { .. } => "hours_changed",
            Input::AgentJoined { .. } => "agent_joined",
            Input::AgentLeft { .. } => "agent_left",
            Input::AgentRemoved { .. } => "agent_removed",
            Input::AgentLoggedOut { .. } => "agent_logged_out",
            Input::AgentEvent { .. } => "agent_event",
            Input::CloseWrapup { .. } => "close_wrapup",
            Input::ChangeRole { .. } => "change_role",
            Input::Hold { .. } => "hold",
            Input::Resume { .. } => "resume",
            Input::EndConversation { .. } => "end_conversation",
            Input::BotEvent { .. } => "bot_event",
            Input::TaskEnqueued { .. } => "task_enqueued",
            Input::TaskStateChanged { .. } => "task_state_changed",
            Input::AgentReserved { .. } => "agent_reserved",
            Input::NoAgentAvailable { .. } => "no_agent_available",
            Input::MrdInterrupted { .. } => "mrd_interrupted",
            Input::StudioActions { .. } => "studio_actions",
            Input::StudioFailed { .. } => "studio_failed",
            Input::Tick => "tick",
            Input::Restore { .. } => "restore",
        }
    }
}
