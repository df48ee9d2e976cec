//! `CoreError`: why the conversation core refused an input. A refused input changes
//! nothing; the driver answers the caller with [`CoreError::code`] and the message.

use crate::cim::{CimError, ConversationState};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("unknown conversation `{conversation_id}`")]
    UnknownConversation { conversation_id: String },
    #[error("conversation `{conversation_id}` is closed")]
    ConversationClosed { conversation_id: String },
    #[error("agent `{agent_id}` is not a participant of conversation `{conversation_id}`")]
    NotAParticipant {
        conversation_id: String,
        agent_id: String,
    },
    #[error("agent `{agent_id}` is already a participant of conversation `{conversation_id}`")]
    AlreadyParticipant {
        conversation_id: String,
        agent_id: String,
    },
    #[error("unknown channel session `{channel_session_id}`")]
    UnknownChannelSession { channel_session_id: String },
    #[error("channel session `{channel_session_id}` has ended; start a new session")]
    ChannelSessionEnded { channel_session_id: String },
    #[error("the channel session names no customer id (`customer._id`)")]
    MissingCustomerId,
    #[error("conversation `{conversation_id}` is {state}; cannot {action}")]
    InvalidState {
        conversation_id: String,
        state: ConversationState,
        action: &'static str,
    },
    #[error("{role} is not a role an agent can {action}")]
    InvalidRole { role: String, action: &'static str },
    #[error("`{name}` events cannot be published here")]
    EventNotAllowed { name: String },
    #[error("agent `{agent_id}` is in wrap-up and cannot {action}")]
    InWrapup {
        agent_id: String,
        action: &'static str,
    },
    #[error("agent `{agent_id}` is a silent monitor and cannot write to the conversation")]
    SilentMonitor { agent_id: String },
    #[error("agent `{agent_id}` is not in wrap-up in conversation `{conversation_id}`")]
    NotInWrapup {
        conversation_id: String,
        agent_id: String,
    },
    /// Which conversation holds it is not said: the caller may not see that one.
    #[error("id `{id}` is already used by another event")]
    IdInUse { id: String },
    #[error(
        "unknown studio request `{request_id}` (answered, timed out or its conversation ended)"
    )]
    UnknownStudioRequest { request_id: String },
    #[error("bot `{bot_id}` is not a participant of conversation `{conversation_id}`")]
    BotNotAParticipant {
        conversation_id: String,
        bot_id: String,
    },
    #[error(transparent)]
    InvalidEvent(#[from] CimError),
}

impl CoreError {
    /// A stable machine-readable code for `{code, message}` answers.
    pub fn code(&self) -> &'static str {
        match self {
            CoreError::UnknownConversation { .. } => "unknown_conversation",
            CoreError::ConversationClosed { .. } => "conversation_closed",
            CoreError::NotAParticipant { .. } => "not_a_participant",
            CoreError::AlreadyParticipant { .. } => "already_participant",
            CoreError::UnknownChannelSession { .. } => "unknown_channel_session",
            CoreError::ChannelSessionEnded { .. } => "channel_session_ended",
            CoreError::MissingCustomerId => "missing_customer_id",
            CoreError::InvalidState { .. } => "invalid_state",
            CoreError::InvalidRole { .. } => "invalid_role",
            CoreError::EventNotAllowed { .. } => "event_not_allowed",
            CoreError::InWrapup { .. } => "in_wrapup",
            CoreError::NotInWrapup { .. } => "not_in_wrapup",
            CoreError::SilentMonitor { .. } => "silent_monitor",
            CoreError::IdInUse { .. } => "id_in_use",
            CoreError::UnknownStudioRequest { .. } => "unknown_studio_request",
            CoreError::BotNotAParticipant { .. } => "bot_not_a_participant",
            CoreError::InvalidEvent(e) => e.code(),
        }
    }
}
