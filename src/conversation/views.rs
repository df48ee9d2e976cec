//! What each audience receives of a stored event, and who a stored message says sent it.
//!
//! The store keeps the desk view. A message's `header.sender` is the conversation
//! participant who sent it, in the seed-004 shape (`{id, type, role, participant:
//! CCUser | ChannelSession, ...}`, `id` being the participant's id), and
//! `header.channelSession` / `header.channelData` are the conversation's session: the
//! conversation manager writes them from who it knows is speaking, never from the
//! client's payload (`cim::MessageOrigin`, held by the event).
//!
//! Customers (widgets and connector webhooks) get the customer's view
//! ([`customer_event`]): every sender and emitter as `{id, type, senderName}` only (no
//! agent user object, roles, permitted resources or realm), no `header.channelSession`,
//! and any channel session without the channel's internal configuration
//! ([`customer_session`]: no routing policy, connector or provider webhook).

use serde_json::{json, Value};

use crate::cim::{ChannelSession, CimEvent};

/// The name a customer sees for a sender or emitter given in either shape.
fn display_name(party: &Value) -> Value {
    if let Some(name) = party.get("senderName").filter(|n| n.is_string()) {
        return name.clone();
    }
    let inner = party.get("participant").unwrap_or(&Value::Null);
    let name = match inner.get("participantType").and_then(Value::as_str) {
        Some("CCUser") => inner.pointer("/keycloakUser/username"),
        Some("ChannelSession") => inner.pointer("/customer/firstName"),
        _ => inner.get("name"),
    };
    name.filter(|n| n.is_string())
        .cloned()
        .unwrap_or(Value::Null)
}

/// `{id, type, senderName}` of a sender (participant or sender shape) or emitter.
pub fn public_party(party: &Value) -> Value {
    json!({
        "id": party.get("id").cloned().unwrap_or(Value::Null),
        "type": party.get("type").cloned().unwrap_or(Value::Null),
        "senderName": display_name(party),
    })
}

/// Keys of a channel a customer may see.
const PUBLIC_CHANNEL_KEYS: [&str; 5] = [
    "id",
    "name",
    "serviceIdentifier",
    "channelType",
    "calendarId",
];

/// A channel session (as JSON) as the customer may see it: the channel reduced to its
/// id, name, service identifier, type and calendar; no suggestions.
pub fn customer_session_value(session: &Value) -> Value {
    let mut session = session.clone();
    customer_session_in_place(&mut session);
    session
}

/// [`customer_session_value`] in place.
pub fn customer_session_in_place(session: &mut Value) {
    if let Some(obj) = session.as_object_mut() {
        if let Some(channel) = obj.get_mut("channel").and_then(Value::as_object_mut) {
            channel.retain(|k, _| PUBLIC_CHANNEL_KEYS.contains(&k.as_str()));
        }
        obj.remove("customerSuggestions");
    }
}

/// [`customer_session_value`] of a typed session.
pub fn customer_session(session: &ChannelSession) -> Value {
    customer_session_value(&serde_json::to_value(session).unwrap_or(Value::Null))
}

/// The event as a customer receives it (see the module doc).
pub fn customer_event(event: &CimEvent) -> Value {
    let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
    customer_event_value(&mut value);
    value
}

/// [`customer_event`] in place on a stored event's JSON.
pub fn customer_event_value(value: &mut Value) {
    let Some(obj) = value.as_object_mut() else {
        return;
    };
    if let Some(emitter) = obj.get_mut("eventEmitter").filter(|e| e.is_object()) {
        *emitter = public_party(emitter);
    }
    if let Some(session) = obj.get_mut("channelSession").filter(|s| s.is_object()) {
        *session = customer_session_value(session);
    }
    if let Some(header) = obj
        .get_mut("data")
        .and_then(|d| d.get_mut("header"))
        .and_then(Value::as_object_mut)
    {
        if let Some(sender) = header.get_mut("sender").filter(|s| s.is_object()) {
            *sender = public_party(sender);
        }
        header.remove("channelSession");
    }
    // "agent X joined / left": the customer learns the name, nothing of the user.
    if let Some(participant) = obj
        .get_mut("data")
        .and_then(|d| d.get_mut("agentParticipant"))
        .filter(|p| p.is_object())
    {
        *participant = public_party(participant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::fixtures::{agent1, started_session};
    use crate::cim::{
        CimEventName, CimEventType, EventEmitter, MessageOrigin, Participant, ParticipantRole,
        RoomInfo,
    };

    fn agent_message() -> CimEvent {
        let participant = Participant::agent("p-1", agent1(), ParticipantRole::Primary, "c", 1);
        let mut data = json!({
            "id": "m-1",
            "header": {"sender": {"id": "someone-else", "type": "CUSTOMER"}, "timestamp": 1},
            "body": {"type": "PLAIN", "markdownText": "hi"}
        });
        let origin = MessageOrigin::new(&participant, Some(&started_session()));
        origin.place_keys(&mut data);
        let mut event = CimEvent::new(
            "e-1",
            CimEventName::AgentMessage,
            CimEventType::Message,
            "c",
            EventEmitter::agent(&agent1()),
            None,
            data,
            RoomInfo::contact_center("r"),
            1,
        );
        event.origin = Some(std::sync::Arc::new(origin));
        event
    }

    #[test]
    fn the_stored_sender_is_the_participant_with_the_session() {
        let event = agent_message();
        // The event holds the values once, in its origin; its text has them in place.
        assert!(event.data.get().unwrap()["header"]["sender"].is_null());
        let text = serde_json::to_value(&event).unwrap();
        assert_eq!(text["data"], *event.data_value());
        let header = &text["data"]["header"];
        assert_eq!(header["sender"]["id"], "p-1");
        assert_eq!(header["sender"]["type"], "AGENT");
        assert_eq!(header["sender"]["participant"]["participantType"], "CCUser");
        assert_eq!(
            header["channelSession"]["participantType"],
            "ChannelSession"
        );
        assert!(header["channelData"]["serviceIdentifier"].is_string());
        // It still reads as a message.
        assert_eq!(event.message().unwrap().header.sender.id(), "p-1");
    }

    #[test]
    fn customers_get_only_id_type_and_name() {
        let view = customer_event(&agent_message());
        let sender = &view["data"]["header"]["sender"];
        assert_eq!(sender.as_object().unwrap().len(), 3);
        assert_eq!(sender["id"], "p-1");
        assert_eq!(sender["senderName"], agent1().username());
        assert!(view["data"]["header"].get("channelSession").is_none());
        assert!(view["eventEmitter"]["additionalDetail"].is_null());
        let text = view.to_string();
        for secret in ["keycloakUser", "permittedResources", "realm", "roles"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn customers_never_see_the_channel_configuration() {
        let view = customer_session(&started_session());
        let channel = view["channel"].as_object().unwrap();
        assert!(channel.contains_key("serviceIdentifier"));
        for hidden in ["channelConfig", "channelConnector", "tenant"] {
            assert!(!channel.contains_key(hidden), "{hidden}");
        }
        assert!(!view.to_string().contains("routingPolicy"));
        assert!(!view.to_string().contains("providerWebhook"));
    }

    #[test]
    fn customers_see_who_joined_by_name_only() {
        let participant = Participant::agent("p-1", agent1(), ParticipantRole::Primary, "c", 1);
        let event = CimEvent::new(
            "e-2",
            CimEventName::AgentSubscribed,
            CimEventType::Notification,
            "c",
            EventEmitter::system("AGENT_MANAGER"),
            None,
            crate::conversation::events::subscription_data(&participant, None),
            RoomInfo::contact_center("r"),
            1,
        );
        let seen = customer_event(&event);
        let joined = &seen["data"]["agentParticipant"];
        assert_eq!(joined["senderName"], agent1().username());
        assert_eq!(joined["type"], "AGENT");
        let text = seen.to_string();
        assert!(
            !text.contains("keycloakUser") && !text.contains("permittedResources"),
            "{text}"
        );
    }
}
