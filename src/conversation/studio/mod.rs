//! The conversation studio: the intents the conversation manager raises, the actions a
//! flow answers with, and the built-in default flow.
//!
//! - [`intent_message`] builds the documented envelope
//!   `{_msgid, payload: {roomId, conversation, intent, entities: {cimEvent}}}` (for
//!   CONVERSATION_STARTED the entity is the channel session).
//! - [`Action`] is what a flow may ask for; [`parse_actions`] reads an external flow's
//!   JSON answer and names the bad field on error (`action`).
//! - [`builtin_actions`] is the default flow: a pure function of the intent, a few
//!   facts about the trigger and the conversation's current situation (`builtin`).

mod action;
mod builtin;

pub use action::{parse_actions, Action, AssignBotAction, FindAgentAction};
pub use builtin::{builtin_actions, FlowContext};

use serde::{Deserialize, Serialize};

use crate::cim::{
    ChannelSession, CimEvent, CimEventName, Conversation, StudioMessage, StudioPayload,
};

/// The intents the conversation manager raises (seed 001), plus NO_AGENT_AVAILABLE,
/// which the built-in flow answers.
pub const INTENTS: &[CimEventName] = &[
    CimEventName::ChannelSessionStarted,
    CimEventName::ConversationStarted,
    CimEventName::FindAgent,
    CimEventName::TaskEnqueued,
    CimEventName::TaskStateChanged,
    CimEventName::AgentSubscribed,
    CimEventName::AgentUnsubscribed,
    CimEventName::ParticipantRoleChanged,
    CimEventName::AgentSlaExpired,
    CimEventName::CustomerSlaExpired,
    CimEventName::ChannelSessionExpired,
    CimEventName::ConversationPaused,
    CimEventName::ConversationResumed,
    CimEventName::AgentMrdInterrupted,
    CimEventName::NoAgentAvailable,
];

/// What a flow needs to know about an intent's trigger beyond the conversation itself.
/// Kept with a pending external call so a fallback can still run the built-in flow.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct IntentFacts {
    /// FIND_AGENT: the queue the requester asked for.
    pub queue: Option<String>,
    /// FIND_AGENT: the request type the requester asked for.
    pub request_type: Option<String>,
    /// The reason carried by the trigger (e.g. AGENT_UNSUBSCRIBED's).
    pub reason: Option<String>,
}

/// What triggered an intent: the CIM event, or (CONVERSATION_STARTED) the session.
#[derive(Debug, Clone, Copy)]
pub enum IntentTrigger<'a> {
    Event(&'a CimEvent),
    ChannelSession(&'a ChannelSession),
}

/// The studio envelope for one intent, with the full conversation.
pub fn intent_message(
    request_id: &str,
    room_id: &str,
    conversation: Conversation,
    trigger: IntentTrigger<'_>,
) -> StudioMessage {
    let payload = match trigger {
        IntentTrigger::Event(event) => {
            StudioPayload::for_event(room_id, Some(conversation), event.clone())
        }
        IntentTrigger::ChannelSession(session) => {
            StudioPayload::conversation_started(room_id, Some(conversation), session.clone())
        }
    };
    StudioMessage::new(request_id, payload)
}
