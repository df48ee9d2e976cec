//! `ChannelSession`: one customer's session on one channel, the customer-side
//! participant of a conversation. Two wire generations exist: the older one (seeds 000
//! and 004) has `topicId` and `state: "STARTED"`; the newer one (seed 001) has
//! `conversationId`, `roomInfo`, `channelSessionDirection` and
//! `state: {name, reasonCode}`. Both are read and re-emitted as they came;
//! [`ChannelSession::normalize_to_current`] converts to the newer shape for emitting.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::channel::Channel;
use super::channel_data::ChannelData;
use super::customer::Customer;
use super::nullable::Nullable;
use super::room::RoomInfo;
use super::string_enum::string_enum;

/// The `participantType` tag of a channel session.
pub const CHANNEL_SESSION_PARTICIPANT_TYPE: &str = "ChannelSession";

string_enum! {
    /// `state.name` of a channel session.
    pub enum ChannelSessionStateName {
        Started = "STARTED",
        Ended = "ENDED",
        Closed = "CLOSED",
    }
}

string_enum! {
    /// `state.reasonCode` of a channel session: who or what moved it to its state.
    pub enum ChannelSessionReasonCode {
        Customer = "CUSTOMER",
        Inactivity = "INACTIVITY",
        Network = "NETWORK",
        Agent = "AGENT",
        ForceClosed = "FORCE_CLOSED",
    }
}

string_enum! {
    /// `channelSessionDirection`, `conversationDirection`, task `type.direction`.
    pub enum Direction {
        Inbound = "INBOUND",
        Outbound = "OUTBOUND",
    }
}

/// The newer state shape: `{name, reasonCode}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelSessionStatus {
    pub name: ChannelSessionStateName,
    #[serde(
        rename = "reasonCode",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub reason_code: Nullable<ChannelSessionReasonCode>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `channelSession.state`, in whichever generation it arrived.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ChannelSessionState {
    /// Older shape: a bare name such as `"STARTED"`.
    Legacy(ChannelSessionStateName),
    /// Newer shape: `{name, reasonCode}`.
    Current(ChannelSessionStatus),
}

impl ChannelSessionState {
    /// A state in the newer shape.
    pub fn new(
        name: ChannelSessionStateName,
        reason_code: Option<ChannelSessionReasonCode>,
    ) -> Self {
        ChannelSessionState::Current(ChannelSessionStatus {
            name,
            reason_code: reason_code.into(),
            extra: Map::new(),
        })
    }

    /// The state name, whatever the shape.
    pub fn name(&self) -> &ChannelSessionStateName {
        match self {
            ChannelSessionState::Legacy(name) => name,
            ChannelSessionState::Current(status) => &status.name,
        }
    }

    /// The reason code (older shape has none).
    pub fn reason_code(&self) -> Option<&ChannelSessionReasonCode> {
        match self {
            ChannelSessionState::Legacy(_) => None,
            ChannelSessionState::Current(status) => status.reason_code.get(),
        }
    }

    /// True for the older bare-string shape.
    pub fn is_legacy(&self) -> bool {
        matches!(self, ChannelSessionState::Legacy(_))
    }

    /// The same state in the newer shape (a legacy state gets `reasonCode: null`).
    pub fn to_current(&self) -> ChannelSessionState {
        match self {
            ChannelSessionState::Legacy(name) => ChannelSessionState::new(name.clone(), None),
            current => current.clone(),
        }
    }
}

impl<'de> Deserialize<'de> for ChannelSessionState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(name) => Ok(ChannelSessionState::Legacy(name.into())),
            object @ Value::Object(_) => ChannelSessionStatus::deserialize(object)
                .map(ChannelSessionState::Current)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "channel session state must be a name or {{name, reasonCode}}, found {}",
                super::error::json_kind(&other)
            ))),
        }
    }
}

/// `customerPresence`: `{value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CustomerPresence {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub value: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `channelSession` (also a `participant` with `participantType: "ChannelSession"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelSession {
    /// Always `"ChannelSession"` when present.
    #[serde(
        rename = "participantType",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub participant_type: Nullable<String>,
    pub id: String,
    pub channel: Channel,
    pub customer: Customer,
    #[serde(
        rename = "customerSuggestions",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub customer_suggestions: Nullable<Vec<Value>>,
    #[serde(rename = "channelData")]
    pub channel_data: ChannelData,
    #[serde(
        rename = "latestIntent",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub latest_intent: Nullable<Value>,
    #[serde(
        rename = "customerPresence",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub customer_presence: Nullable<CustomerPresence>,
    #[serde(
        rename = "isActive",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub is_active: Nullable<bool>,
    /// Older shape's name for the conversation id.
    #[serde(
        rename = "topicId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub topic_id: Nullable<String>,
    #[serde(
        rename = "conversationId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub conversation_id: Nullable<String>,
    #[serde(
        rename = "roomInfo",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub room_info: Nullable<RoomInfo>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub state: Nullable<ChannelSessionState>,
    #[serde(
        rename = "channelSessionDirection",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_session_direction: Nullable<Direction>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub active: Nullable<bool>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChannelSession {
    /// A freshly started session in the newer shape: state `{STARTED, CUSTOMER}`,
    /// active, no suggestions, `customerPresence: {value: null}`.
    pub fn new(
        id: impl Into<String>,
        channel: Channel,
        customer: Customer,
        channel_data: ChannelData,
        conversation_id: impl Into<String>,
        room_info: RoomInfo,
        direction: Direction,
    ) -> Self {
        ChannelSession {
            participant_type: CHANNEL_SESSION_PARTICIPANT_TYPE.to_owned().into(),
            id: id.into(),
            channel,
            customer,
            customer_suggestions: Vec::new().into(),
            channel_data,
            latest_intent: Nullable::Null,
            customer_presence: CustomerPresence {
                value: Nullable::Null,
                extra: Map::new(),
            }
            .into(),
            is_active: true.into(),
            topic_id: Nullable::Absent,
            conversation_id: conversation_id.into().into(),
            room_info: room_info.into(),
            state: ChannelSessionState::new(
                ChannelSessionStateName::Started,
                Some(ChannelSessionReasonCode::Customer),
            )
            .into(),
            channel_session_direction: direction.into(),
            active: true.into(),
            extra: Map::new(),
        }
    }

    /// The conversation this session belongs to (`conversationId`, else older `topicId`).
    pub fn conversation_id(&self) -> Option<&str> {
        self.conversation_id
            .as_deref_str()
            .or_else(|| self.topic_id.as_deref_str())
    }

    /// `channelData.serviceIdentifier`.
    pub fn service_identifier(&self) -> &str {
        &self.channel_data.service_identifier
    }

    /// `channelData.channelCustomerIdentifier`.
    pub fn channel_customer_identifier(&self) -> &str {
        &self.channel_data.channel_customer_identifier
    }

    /// The state name, if the session has a state.
    pub fn state_name(&self) -> Option<&ChannelSessionStateName> {
        self.state.get().map(ChannelSessionState::name)
    }

    /// Moves the session to `name` (newer shape); a session that is not STARTED is
    /// marked inactive.
    pub fn set_state(
        &mut self,
        name: ChannelSessionStateName,
        reason_code: Option<ChannelSessionReasonCode>,
    ) {
        let active = name == ChannelSessionStateName::Started;
        self.state = ChannelSessionState::new(name, reason_code).into();
        self.is_active = active.into();
        self.active = active.into();
    }

    /// Rewrites an older-shape session into the newer one, for emitting: the state
    /// becomes `{name, reasonCode}` and `topicId` becomes `conversationId`.
    pub fn normalize_to_current(&mut self) {
        if let Nullable::Value(state) = &self.state {
            self.state = state.to_current().into();
        }
        if let Nullable::Value(topic) = std::mem::take(&mut self.topic_id) {
            if !self.conversation_id.is_value() {
                self.conversation_id = topic.into();
            }
        }
        if self.participant_type.is_absent() {
            self.participant_type = CHANNEL_SESSION_PARTICIPANT_TYPE.to_owned().into();
        }
    }

    /// A copy in the newer shape; see [`ChannelSession::normalize_to_current`].
    pub fn to_current_shape(&self) -> ChannelSession {
        let mut copy = self.clone();
        copy.normalize_to_current();
        copy
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cim::channel::tests::web_channel;
    use serde_json::json;

    pub(crate) fn started_session() -> ChannelSession {
        ChannelSession::new(
            "cs-1",
            web_channel(),
            Customer::anonymous("cust-1", "web", "43466"),
            ChannelData::new("1122", "43466"),
            "conv-1",
            RoomInfo::contact_center("room-1"),
            Direction::Inbound,
        )
    }

    #[test]
    fn state_accepts_both_shapes_and_keeps_them() {
        for input in [
            json!("STARTED"),
            json!({"name": "STARTED", "reasonCode": "CUSTOMER"}),
        ] {
            let state: ChannelSessionState = serde_json::from_value(input.clone()).unwrap();
            assert_eq!(state.name(), &ChannelSessionStateName::Started);
            assert_eq!(serde_json::to_value(&state).unwrap(), input);
        }
        assert!(serde_json::from_value::<ChannelSessionState>(json!(3)).is_err());
    }

    #[test]
    fn legacy_state_normalizes_to_the_newer_shape() {
        let legacy = ChannelSessionState::Legacy(ChannelSessionStateName::Started);
        assert_eq!(
            serde_json::to_value(legacy.to_current()).unwrap(),
            json!({"name": "STARTED", "reasonCode": null})
        );
    }

    #[test]
    fn new_session_is_started_in_the_newer_shape() {
        let value = serde_json::to_value(started_session()).unwrap();
        assert_eq!(value["participantType"], json!("ChannelSession"));
        assert_eq!(
            value["state"],
            json!({"name": "STARTED", "reasonCode": "CUSTOMER"})
        );
        assert_eq!(value["conversationId"], json!("conv-1"));
        assert_eq!(
            value["roomInfo"],
            json!({"id": "room-1", "mode": "CONTACT_CENTER"})
        );
        assert_eq!(value["channelSessionDirection"], json!("INBOUND"));
        assert_eq!(value["customerPresence"], json!({"value": null}));
        assert!(value.get("topicId").is_none());
    }

    #[test]
    fn normalize_moves_topic_id_and_state() {
        let mut session = started_session();
        session.conversation_id = Nullable::Absent;
        session.topic_id = "topic-9".to_owned().into();
        session.state = ChannelSessionState::Legacy(ChannelSessionStateName::Started).into();
        assert_eq!(session.conversation_id(), Some("topic-9"));
        session.normalize_to_current();
        let value = serde_json::to_value(&session).unwrap();
        assert!(value.get("topicId").is_none());
        assert_eq!(value["conversationId"], json!("topic-9"));
        assert_eq!(
            value["state"],
            json!({"name": "STARTED", "reasonCode": null})
        );
    }

    #[test]
    fn set_state_ends_the_session() {
        let mut session = started_session();
        session.set_state(
            ChannelSessionStateName::Ended,
            Some(ChannelSessionReasonCode::Inactivity),
        );
        assert_eq!(session.state_name(), Some(&ChannelSessionStateName::Ended));
        assert_eq!(session.is_active, Nullable::Value(false));
        assert_eq!(
            session
                .state
                .get()
                .and_then(ChannelSessionState::reason_code),
            Some(&ChannelSessionReasonCode::Inactivity)
        );
    }
}
