//! `CimMessage`: `{id, header, body}` — what customers, agents and bots say. The header
//! names the sender (a full `Participant` in the seeds, or the documented
//! `{id, type, senderName, additionalDetail}` sender object — both are accepted) and
//! the channel (`channelData`, `channelSession`). [`CimMessage::from_inbound_value`]
//! validates a message arriving from a connector or widget.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::body::{validate_body, MessageBody};
use super::channel_data::ChannelData;
use super::channel_session::ChannelSession;
use super::customer::Customer;
use super::error::{check_len, json_kind, lookup, require_id, require_object, CimError};
use super::event::EventEmitter;
use super::nullable::Nullable;
use super::participant::Participant;
use crate::clock::Millis;

/// `header.sender`: a conversation participant (seed 004) or a plain sender object
/// `{id, type, senderName, additionalDetail}` (the documented connector shape).
#[derive(Debug, Clone, PartialEq)]
pub enum MessageSender {
    /// A full participant (it has a `participant` key).
    Participant(Box<Participant>),
    /// A sender object, the same shape as an event emitter.
    Sender(Box<EventEmitter>),
}

impl MessageSender {
    /// The sender's id (participant id or sender id).
    pub fn id(&self) -> &str {
        match self {
            MessageSender::Participant(p) => &p.id,
            MessageSender::Sender(s) => &s.id,
        }
    }

    /// The sender's `type` as spelled on the wire (`AGENT`, `CUSTOMER`, `BOT`, ...).
    pub fn type_name(&self) -> &str {
        match self {
            MessageSender::Participant(p) => p.participant_type.as_str(),
            MessageSender::Sender(s) => s.emitter_type.as_str(),
        }
    }

    /// The participant, for the participant shape.
    pub fn as_participant(&self) -> Option<&Participant> {
        match self {
            MessageSender::Participant(p) => Some(p),
            MessageSender::Sender(_) => None,
        }
    }
}

impl Serialize for MessageSender {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MessageSender::Participant(p) => p.serialize(serializer),
            MessageSender::Sender(s) => s.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for MessageSender {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if !value.is_object() {
            return Err(D::Error::custom(format!(
                "sender must be an object, found {}",
                json_kind(&value)
            )));
        }
        if value.get("participant").is_some() {
            Participant::deserialize(value)
                .map(|p| MessageSender::Participant(Box::new(p)))
                .map_err(|e| D::Error::custom(format!("sender participant: {e}")))
        } else {
            EventEmitter::deserialize(value)
                .map(|s| MessageSender::Sender(Box::new(s)))
                .map_err(|e| D::Error::custom(format!("sender: {e}")))
        }
    }
}

/// `header` of a CIM message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageHeader {
    pub sender: MessageSender,
    #[serde(
        rename = "channelSession",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_session: Nullable<Box<ChannelSession>>,
    #[serde(
        rename = "channelData",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_data: Nullable<ChannelData>,
    /// When the client sent the message (epoch ms).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub timestamp: Nullable<Millis>,
    #[serde(
        rename = "conversationId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub conversation_id: Nullable<String>,
    #[serde(
        rename = "roomId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub room_id: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub customer: Nullable<Customer>,
    /// Bot intents (START_CHAT, REPLY_TO, ...); `null` for ordinary messages.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub intent: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub entities: Nullable<Map<String, Value>>,
    #[serde(
        rename = "providerMessageId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub provider_message_id: Nullable<String>,
    #[serde(
        rename = "originalMessageId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub original_message_id: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl MessageHeader {
    /// A header with only a sender and a timestamp.
    pub fn new(sender: MessageSender, timestamp: Millis) -> Self {
        MessageHeader {
            sender,
            channel_session: Nullable::Absent,
            channel_data: Nullable::Absent,
            timestamp: timestamp.into(),
            conversation_id: Nullable::Absent,
            room_id: Nullable::Absent,
            customer: Nullable::Absent,
            intent: Nullable::Absent,
            entities: Nullable::Absent,
            provider_message_id: Nullable::Absent,
            original_message_id: Nullable::Absent,
            extra: Map::new(),
        }
    }

    /// The seed-004 header: `{timestamp, sender, channelSession, channelData}`, with
    /// `channelData` taken from the session.
    pub fn for_session(
        sender: MessageSender,
        channel_session: ChannelSession,
        timestamp: Millis,
    ) -> Self {
        let mut header = MessageHeader::new(sender, timestamp);
        header.channel_data = channel_session.channel_data.clone().into();
        header.channel_session = Box::new(channel_session).into();
        header
    }

    /// The channel data from the header, else from its channel session.
    pub fn effective_channel_data(&self) -> Option<&ChannelData> {
        self.channel_data
            .get()
            .or_else(|| self.channel_session.get().map(|cs| &cs.channel_data))
    }
}

/// A CIM message: `{id, header, body}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CimMessage {
    /// The message id; also the idempotency key for inbound messages.
    pub id: String,
    pub header: MessageHeader,
    pub body: MessageBody,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CimMessage {
    /// `{id, header, body}`.
    pub fn new(id: impl Into<String>, header: MessageHeader, body: MessageBody) -> Self {
        CimMessage {
            id: id.into(),
            header,
            body,
            extra: Map::new(),
        }
    }

    /// Validates and reads a message arriving from a connector or the widget. Requires
    /// `id`, `header.sender` (with `id` and `type`),
    /// `header.channelData.serviceIdentifier`,
    /// `header.channelData.channelCustomerIdentifier` and a `body` whose `type` and
    /// type-specific fields are present; errors name the first bad field.
    pub fn from_inbound_value(value: &Value) -> Result<CimMessage, CimError> {
        validate_message_at(value, "", true)
    }

    /// Validates and reads a message (e.g. `cimEvent.data`) found at `path`; channel
    /// data is not required because agent and bot messages carry a channel session.
    pub fn from_value_at(value: &Value, path: &str) -> Result<CimMessage, CimError> {
        validate_message_at(value, path, false)
    }
}

fn join(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_owned()
    } else {
        format!("{base}.{field}")
    }
}

fn relocate(error: CimError, base: &str) -> CimError {
    match error {
        CimError::MissingField { path } => CimError::missing(join(base, &path)),
        CimError::InvalidField { path, reason } => CimError::invalid(join(base, &path), reason),
    }
}

fn validate_message_at(
    value: &Value,
    base: &str,
    require_channel_data: bool,
) -> Result<CimMessage, CimError> {
    match value {
        Value::Object(_) => {}
        Value::Null => {
            return Err(CimError::missing(if base.is_empty() {
                "message"
            } else {
                base
            }))
        }
        other => {
            return Err(CimError::invalid(
                base,
                format!("expected a message object, found {}", json_kind(other)),
            ))
        }
    }
    let here = |e: CimError| relocate(e, base);
    require_id(value, "id").map_err(here)?;
    require_object(value, "header").map_err(here)?;
    require_object(value, "header.sender").map_err(here)?;
    require_id(value, "header.sender.id").map_err(here)?;
    require_id(value, "header.sender.type").map_err(here)?;
    if let Some(name) = lookup(value, "header.sender.senderName").and_then(Value::as_str) {
        check_len("header.sender.senderName", name).map_err(here)?;
    }
    if require_channel_data {
        require_object(value, "header.channelData").map_err(here)?;
        require_id(value, "header.channelData.serviceIdentifier").map_err(here)?;
        require_id(value, "header.channelData.channelCustomerIdentifier").map_err(here)?;
        // Paths written out: this runs for every inbound message.
        for path in [
            "header.channelData.customerFirstName",
            "header.channelData.customerLastName",
        ] {
            if let Some(name) = lookup(value, path).and_then(Value::as_str) {
                check_len(path, name).map_err(here)?;
            }
        }
    }
    let body = value.get("body").unwrap_or(&Value::Null);
    let body = validate_body(body, &join(base, "body"))?;
    let header_value = value.get("header").unwrap_or(&Value::Null);
    let header = MessageHeader::deserialize(header_value)
        .map_err(|e| CimError::from_serde(join(base, "header"), &e))?;
    let id = value
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let extra = value
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "id" | "header" | "body"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(CimMessage {
        id,
        header,
        body,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::event::EmitterType;
    use serde_json::json;

    fn inbound() -> Value {
        json!({
            "id": "m-1",
            "header": {
                "sender": {"id": "43466", "type": "CUSTOMER", "senderName": "Jane", "additionalDetail": null},
                "channelData": {
                    "channelCustomerIdentifier": "43466",
                    "serviceIdentifier": "1122",
                    "requestPriority": 0,
                    "additionalAttributes": []
                },
                "language": {},
                "timestamp": 1_700_000_000_000i64
            },
            "body": {"type": "PLAIN", "markdownText": "hello"}
        })
    }

    #[test]
    fn inbound_message_is_read_and_round_trips() {
        let raw = inbound();
        let message = CimMessage::from_inbound_value(&raw).unwrap();
        assert_eq!(message.id, "m-1");
        assert_eq!(message.header.sender.type_name(), "CUSTOMER");
        assert!(matches!(
            &message.header.sender,
            MessageSender::Sender(s) if s.emitter_type == EmitterType::Customer
        ));
        assert_eq!(
            message
                .header
                .effective_channel_data()
                .map(|d| d.service_identifier.as_str()),
            Some("1122")
        );
        assert_eq!(message.body.markdown_text(), Some("hello"));
        assert_eq!(message.header.extra["language"], json!({}));
        assert_eq!(serde_json::to_value(&message).unwrap(), raw);
    }

    type Mutation = fn(&mut Value);

    #[test]
    fn inbound_validation_names_the_missing_field() {
        let cases: [(&str, Mutation); 7] = [
            ("id", |v| {
                v.as_object_mut().unwrap().remove("id");
            }),
            ("header", |v| {
                v.as_object_mut().unwrap().remove("header");
            }),
            ("header.channelData", |v| {
                v["header"].as_object_mut().unwrap().remove("channelData");
            }),
            ("header.channelData.serviceIdentifier", |v| {
                v["header"]["channelData"]["serviceIdentifier"] = json!("");
            }),
            ("header.channelData.channelCustomerIdentifier", |v| {
                v["header"]["channelData"]
                    .as_object_mut()
                    .unwrap()
                    .remove("channelCustomerIdentifier");
            }),
            ("body.type", |v| {
                v["body"].as_object_mut().unwrap().remove("type");
            }),
            ("body", |v| {
                v.as_object_mut().unwrap().remove("body");
            }),
        ];
        for (path, mutate) in cases {
            let mut raw = inbound();
            mutate(&mut raw);
            assert_eq!(
                CimMessage::from_inbound_value(&raw).unwrap_err(),
                CimError::missing(path)
            );
        }
    }

    #[test]
    fn inbound_validation_reports_wrong_types() {
        let mut raw = inbound();
        raw["header"]["channelData"]["serviceIdentifier"] = json!(1122);
        let err = CimMessage::from_inbound_value(&raw).unwrap_err();
        assert_eq!(err.path(), "header.channelData.serviceIdentifier");
        assert_eq!(err.code(), "invalid_field");
        assert!(CimMessage::from_inbound_value(&json!([1])).is_err());
    }

    #[test]
    fn nested_messages_report_full_paths() {
        let mut raw = inbound();
        raw["body"] = json!({"type": "WRAPUP", "wrapups": [{"value": "v"}]});
        let err = CimMessage::from_value_at(&raw, "cimEvent.data").unwrap_err();
        assert_eq!(
            err,
            CimError::missing("cimEvent.data.body.wrapups[0].categoryName")
        );
    }

    #[test]
    fn built_message_serializes_in_the_seed_shape() {
        let sender = MessageSender::Sender(Box::new(EventEmitter::bot("b-1", "rasa")));
        let message = CimMessage::new(
            "m-2",
            MessageHeader::new(sender, 5),
            MessageBody::plain("hi"),
        );
        assert_eq!(
            serde_json::to_value(&message).unwrap(),
            json!({
                "id": "m-2",
                "header": {
                    "sender": {"id": "b-1", "type": "BOT", "senderName": "rasa", "additionalDetail": null},
                    "timestamp": 5
                },
                "body": {"type": "PLAIN", "markdownText": "hi"}
            })
        );
    }
}
