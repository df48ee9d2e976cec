//! Who may see an event. Agents (monitors included) see every event of their
//! conversations; the customer sees only the conversation itself: messages from
//! agents and bots (studio messages are bot messages), their typing indicators and the
//! customer's own messages — never whispers, silent-monitor traffic, suggestions or
//! internal notifications. The rule reads only the stored event, so the channel layer
//! can apply the same filter when it replays a transcript to a reconnecting customer.

use serde_json::Value;

use crate::cim::{CimEvent, CimEventName, EmitterType, ParticipantRole};

/// Key in an agent emitter's `additionalDetail` carrying the agent's role when it sent
/// the event.
pub const PARTICIPANT_ROLE_KEY: &str = "participantRole";

/// The role recorded on an agent-emitted event.
pub fn emitter_role(event: &CimEvent) -> Option<ParticipantRole> {
    event
        .event_emitter
        .get()?
        .additional_detail
        .get()?
        .get(PARTICIPANT_ROLE_KEY)
        .and_then(Value::as_str)
        .map(ParticipantRole::from)
}

fn from_silent_party(event: &CimEvent) -> bool {
    matches!(
        emitter_role(event),
        Some(ParticipantRole::SilentMonitor | ParticipantRole::Whisper | ParticipantRole::WrapUp)
    )
}

/// AGENT_SUBSCRIBED / AGENT_UNSUBSCRIBED of an agent who serves the customer
/// (PRIMARY or ASSISTANT, barge-in included): the widget's neutral "X joined / left"
/// line. Monitors and whisperers come and go unseen.
pub fn is_serving_agent_notice(event: &CimEvent) -> bool {
    if !matches!(
        event.name,
        CimEventName::AgentSubscribed | CimEventName::AgentUnsubscribed
    ) {
        return false;
    }
    let role = event
        .data
        .get()
        .and_then(|d| d.pointer("/agentParticipant/role"))
        .and_then(Value::as_str)
        .map(ParticipantRole::from);
    matches!(
        role,
        Some(ParticipantRole::Primary | ParticipantRole::Assistant)
    )
}

/// A message with a WRAPUP body (seed 002 lets a desk publish one): the agent's codes
/// and note are the contact center's, never the customer's.
pub(super) fn is_wrap_up(event: &CimEvent) -> bool {
    event
        .data
        .get()
        .and_then(|d| d.pointer("/body/type"))
        .and_then(Value::as_str)
        == Some("WRAPUP")
}

/// True when the customer may see `event` (live or in a replayed transcript).
pub fn customer_can_see(event: &CimEvent) -> bool {
    match &event.name {
        CimEventName::CustomerMessage | CimEventName::BotMessage => true,
        CimEventName::AgentSubscribed | CimEventName::AgentUnsubscribed => {
            is_serving_agent_notice(event)
        }
        CimEventName::AgentMessage => !from_silent_party(event) && !is_wrap_up(event),
        CimEventName::TypingStarted | CimEventName::TypingStopped => {
            let emitter = event.event_emitter.get().map(|e| &e.emitter_type);
            matches!(emitter, Some(EmitterType::Agent | EmitterType::Bot))
                && !from_silent_party(event)
        }
        _ => false,
    }
}

/// True when the event is delivered live to the customer: what the customer may see,
/// except the customer's own messages (the sender already has them).
pub fn deliver_to_customer(event: &CimEvent) -> bool {
    event.name != CimEventName::CustomerMessage && customer_can_see(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::{CimEventType, EventEmitter, RoomInfo};
    use serde_json::json;

    fn event(name: CimEventName, emitter: EventEmitter) -> CimEvent {
        CimEvent::new(
            "e",
            name,
            CimEventType::Message,
            "c",
            emitter,
            None,
            json!({}),
            RoomInfo::contact_center("r"),
            1,
        )
    }

    fn agent(role: ParticipantRole) -> EventEmitter {
        let mut emitter = EventEmitter::system("AGENT");
        emitter.emitter_type = EmitterType::Agent;
        emitter.additional_detail = json!({ PARTICIPANT_ROLE_KEY: role.as_str() }).into();
        emitter
    }

    #[test]
    fn customer_sees_agent_and_bot_messages_but_not_monitors_or_whispers() {
        let primary = event(CimEventName::AgentMessage, agent(ParticipantRole::Primary));
        assert!(customer_can_see(&primary) && deliver_to_customer(&primary));
        let monitor = event(
            CimEventName::AgentMessage,
            agent(ParticipantRole::SilentMonitor),
        );
        assert!(!customer_can_see(&monitor));
        let whisper = event(
            CimEventName::WhisperMessage,
            agent(ParticipantRole::Primary),
        );
        assert!(!customer_can_see(&whisper));
        let mut wrap_up = event(CimEventName::AgentMessage, agent(ParticipantRole::Primary));
        wrap_up.data = json!({"body": {"type": "WRAPUP", "note": "angry customer"}}).into();
        assert!(!customer_can_see(&wrap_up), "codes and notes are internal");
        let bot = event(CimEventName::BotMessage, EventEmitter::bot("b", "bot"));
        assert!(deliver_to_customer(&bot));
        let own = event(
            CimEventName::CustomerMessage,
            EventEmitter::system("CUSTOMER"),
        );
        assert!(customer_can_see(&own) && !deliver_to_customer(&own));
    }

    #[test]
    fn customer_never_sees_notifications() {
        for name in [
            CimEventName::AgentSubscribed,
            CimEventName::TaskEnqueued,
            CimEventName::AgentSlaExpired,
            CimEventName::ParticipantRoleChanged,
            CimEventName::BotSuggestion,
            CimEventName::ConversationPaused,
        ] {
            assert!(!customer_can_see(&event(
                name,
                EventEmitter::conversation_monitor()
            )));
        }
        let typing = event(CimEventName::TypingStarted, agent(ParticipantRole::Primary));
        assert!(customer_can_see(&typing));
        let monitor_typing = event(
            CimEventName::TypingStarted,
            agent(ParticipantRole::SilentMonitor),
        );
        assert!(!customer_can_see(&monitor_typing));
    }
}
