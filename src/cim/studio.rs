//! The conversation-studio intent envelope (seed 001): what the conversation manager
//! hands a flow — `{_msgid, req, res, payload: {roomId, conversation, intent,
//! entities: {cimEvent | channelSession}, metadata, messages, slots}}`. The seeds send
//! `conversation: {}` when they do not include the conversation.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::channel_session::ChannelSession;
use super::conversation::Conversation;
use super::event::{CimEvent, CimEventName};
use super::nullable::Nullable;

/// `payload.conversation`: either the empty object `{}` or a full conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum StudioConversation {
    /// `{}`.
    Empty,
    Full(Box<Conversation>),
}

impl StudioConversation {
    /// The conversation, unless the slot is `{}`.
    pub fn get(&self) -> Option<&Conversation> {
        match self {
            StudioConversation::Empty => None,
            StudioConversation::Full(c) => Some(c),
        }
    }
}

impl Serialize for StudioConversation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            StudioConversation::Empty => Map::new().serialize(serializer),
            StudioConversation::Full(c) => c.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for StudioConversation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match &value {
            Value::Object(map) if map.is_empty() => Ok(StudioConversation::Empty),
            _ => Conversation::deserialize(value)
                .map(|c| StudioConversation::Full(Box::new(c)))
                .map_err(|e| D::Error::custom(format!("conversation: {e}"))),
        }
    }
}

/// `payload.entities`: the event that triggered the intent, or (CONVERSATION_STARTED)
/// the channel session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct StudioEntities {
    #[serde(
        rename = "cimEvent",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub cim_event: Nullable<Box<CimEvent>>,
    #[serde(
        rename = "channelSession",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_session: Nullable<Box<ChannelSession>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `payload` of a studio call (also sent on its own, as the FIND_AGENT seed shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudioPayload {
    #[serde(
        rename = "roomId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub room_id: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub conversation: Nullable<StudioConversation>,
    pub intent: CimEventName,
    pub entities: StudioEntities,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub metadata: Nullable<Map<String, Value>>,
    /// Empty in every seed; kept as JSON.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub messages: Nullable<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub slots: Nullable<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StudioPayload {
    /// The payload for `event`: intent = event name, `entities.cimEvent` = event,
    /// empty metadata, messages and slots; `conversation: None` sends `{}`.
    pub fn for_event(
        room_id: impl Into<String>,
        conversation: Option<Conversation>,
        event: CimEvent,
    ) -> Self {
        StudioPayload {
            room_id: room_id.into().into(),
            conversation: match conversation {
                Some(c) => StudioConversation::Full(Box::new(c)),
                None => StudioConversation::Empty,
            }
            .into(),
            intent: event.name.clone(),
            entities: StudioEntities {
                cim_event: Box::new(event).into(),
                channel_session: Nullable::Absent,
                extra: Map::new(),
            },
            metadata: Map::new().into(),
            messages: Vec::new().into(),
            slots: Map::new().into(),
            extra: Map::new(),
        }
    }

    /// The CONVERSATION_STARTED payload, whose entity is the channel session.
    pub fn conversation_started(
        room_id: impl Into<String>,
        conversation: Option<Conversation>,
        channel_session: ChannelSession,
    ) -> Self {
        StudioPayload {
            room_id: room_id.into().into(),
            conversation: match conversation {
                Some(c) => StudioConversation::Full(Box::new(c)),
                None => StudioConversation::Empty,
            }
            .into(),
            intent: CimEventName::ConversationStarted,
            entities: StudioEntities {
                cim_event: Nullable::Absent,
                channel_session: Box::new(channel_session).into(),
                extra: Map::new(),
            },
            metadata: Map::new().into(),
            messages: Vec::new().into(),
            slots: Map::new().into(),
            extra: Map::new(),
        }
    }
}

/// The envelope `{_msgid, req, res, payload}` (`req`/`res` are the flow engine's HTTP
/// objects, `{}` in the seeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudioMessage {
    #[serde(
        rename = "_msgid",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub msg_id: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub req: Nullable<Value>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub res: Nullable<Value>,
    pub payload: StudioPayload,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StudioMessage {
    /// `{_msgid, req: {}, res: {}, payload}`.
    pub fn new(msg_id: impl Into<String>, payload: StudioPayload) -> Self {
        StudioMessage {
            msg_id: msg_id.into().into(),
            req: Value::Object(Map::new()).into(),
            res: Value::Object(Map::new()).into(),
            payload,
            extra: Map::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::channel_session::tests::started_session;
    use crate::cim::event::{CimEventType, EventEmitter};
    use crate::cim::room::RoomInfo;
    use serde_json::json;

    #[test]
    fn empty_conversation_round_trips_as_empty_object() {
        let conv: StudioConversation = serde_json::from_value(json!({})).unwrap();
        assert_eq!(conv, StudioConversation::Empty);
        assert_eq!(serde_json::to_value(&conv).unwrap(), json!({}));
        assert!(serde_json::from_value::<StudioConversation>(json!({"id": "x"})).is_err());
    }

    #[test]
    fn envelope_for_event_has_the_seed_shape() {
        let event = CimEvent::new(
            "e-1",
            CimEventName::AgentSlaExpired,
            CimEventType::Notification,
            "conv-1",
            EventEmitter::conversation_monitor(),
            Some(started_session()),
            json!({}),
            RoomInfo::contact_center("room-1"),
            9,
        );
        let message = StudioMessage::new("m-1", StudioPayload::for_event("room-1", None, event));
        let value = serde_json::to_value(&message).unwrap();
        assert_eq!(value["_msgid"], json!("m-1"));
        assert_eq!(value["req"], json!({}));
        assert_eq!(value["payload"]["conversation"], json!({}));
        assert_eq!(value["payload"]["intent"], json!("AGENT_SLA_EXPIRED"));
        assert_eq!(value["payload"]["entities"]["cimEvent"]["id"], json!("e-1"));
        assert_eq!(value["payload"]["slots"], json!({}));
        let back: StudioMessage = serde_json::from_value(value).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn conversation_started_carries_the_session() {
        let payload = StudioPayload::conversation_started("room-1", None, started_session());
        let value = serde_json::to_value(&payload).unwrap();
        assert_eq!(value["intent"], json!("CONVERSATION_STARTED"));
        assert_eq!(value["entities"]["channelSession"]["id"], json!("cs-1"));
        assert!(value["entities"].get("cimEvent").is_none());
    }
}
