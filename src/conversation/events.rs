//! Builders for the CIM events the conversation manager itself emits, in the seed
//! shapes: who emits them (`eventEmitter`) and what their `data` holds.

use serde_json::{json, Map, Value};

use super::audience::PARTICIPANT_ROLE_KEY;
use crate::cim::{
    system_emitter_id, CcUser, ChannelSession, CimEvent, CimEventName, CimEventType, CimMessage,
    EventEmitter, MessageBody, MessageHeader, MessageSender, Participant, ParticipantRole,
    RoomInfo,
};
use crate::clock::Millis;

/// Sender name of messages the studio (built-in or external flow) sends the customer.
pub const STUDIO_SENDER: &str = "CONVERSATION_STUDIO";

/// A NOTIFICATION event.
#[allow(clippy::too_many_arguments)]
pub fn notification(
    id: String,
    name: CimEventName,
    conversation_id: &str,
    emitter: EventEmitter,
    channel_session: Option<ChannelSession>,
    data: Value,
    room_info: &RoomInfo,
    now: Millis,
) -> CimEvent {
    CimEvent::new(
        id,
        name,
        CimEventType::Notification,
        conversation_id,
        emitter,
        channel_session,
        data,
        room_info.clone(),
        now,
    )
}

/// An agent emitter that records the agent's role, so the audience rule can tell
/// silent-monitor and wrap-up traffic from the stored event alone.
pub fn agent_emitter(user: &CcUser, role: &ParticipantRole) -> EventEmitter {
    let mut emitter = EventEmitter::agent(user);
    let mut detail = Map::new();
    detail.insert(
        PARTICIPANT_ROLE_KEY.to_owned(),
        Value::String(role.as_str().to_owned()),
    );
    emitter.additional_detail = Value::Object(detail).into();
    emitter
}

/// The studio as a message sender (a `BOT` with a stable id).
pub fn studio_emitter() -> EventEmitter {
    EventEmitter::bot(system_emitter_id(STUDIO_SENDER), STUDIO_SENDER)
}

/// A BOT_MESSAGE from the studio to the customer with a PLAIN body.
pub fn studio_message(
    event_id: String,
    conversation_id: &str,
    room_info: &RoomInfo,
    text: &str,
    now: Millis,
) -> CimEvent {
    let mut header = MessageHeader::new(MessageSender::Sender(Box::new(studio_emitter())), now);
    header.conversation_id = conversation_id.to_owned().into();
    header.room_id = room_info.id.clone().into();
    let message = CimMessage::new(event_id.clone(), header, MessageBody::plain(text));
    CimEvent::new(
        event_id,
        CimEventName::BotMessage,
        CimEventType::Message,
        conversation_id,
        studio_emitter(),
        None,
        serde_json::to_value(&message).unwrap_or(Value::Null),
        room_info.clone(),
        now,
    )
}

/// `data` of AGENT_SUBSCRIBED / AGENT_UNSUBSCRIBED.
pub fn subscription_data(participant: &Participant, reason: Option<&str>) -> Value {
    json!({ "agentParticipant": participant, "reason": reason })
}

/// `data` of PARTICIPANT_ROLE_CHANGED.
pub fn role_changed_data(participant: &Participant, reason: Option<&str>) -> Value {
    json!({ "conversationParticipant": participant, "metadata": { "reason": reason } })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::EventData;

    #[test]
    fn studio_message_is_a_valid_bot_message() {
        let room = RoomInfo::contact_center("room-1");
        let event = studio_message("evt-1".into(), "conv-1", &room, "hi", 7);
        assert_eq!(event.name, CimEventName::BotMessage);
        assert_eq!(event.event_type, CimEventType::Message);
        let message = event.message().unwrap();
        assert_eq!(message.body.markdown_text(), Some("hi"));
        assert_eq!(message.header.sender.type_name(), "BOT");
        assert!(matches!(event.typed_data().unwrap(), EventData::Message(_)));
    }

    #[test]
    fn agent_emitter_records_the_role() {
        let user = CcUser::new("u-1", "agent1", vec!["agent".into()], None);
        let emitter = agent_emitter(&user, &ParticipantRole::SilentMonitor);
        assert_eq!(emitter.id, "u-1");
        assert_eq!(
            emitter.additional_detail.get().unwrap()[PARTICIPANT_ROLE_KEY],
            "SILENT_MONITOR"
        );
    }
}
