//! `CimEvent`: the envelope every state change and message travels in —
//! `{id, name, type, timestamp, conversationId, eventEmitter, channelSession, data,
//! roomInfo}` — with the documented event names, the `EventEmitter`, and typed views
//! of `data` for the events whose payload the seeds show.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::sync::Arc;

use super::channel_session::ChannelSession;
use super::conversation::Conversation;
use super::customer::Customer;
use super::error::{check_len, json_kind, require_str, CimError};
use super::message::CimMessage;
use super::nullable::Nullable;
use super::origin::MessageOrigin;
use super::participant::Participant;
use super::room::RoomInfo;
use super::string_enum::string_enum;
use super::task::{QueueRef, Task};
use super::user::CcUser;
use crate::clock::Millis;

string_enum! {
    /// `cimEvent.name` (also the studio `intent`).
    pub enum CimEventName {
        CustomerMessage = "CUSTOMER_MESSAGE",
        AgentMessage = "AGENT_MESSAGE",
        BotMessage = "BOT_MESSAGE",
        WhisperMessage = "WHISPER_MESSAGE",
        BotSuggestion = "BOT_SUGGESTION",
        ChannelSessionStarted = "CHANNEL_SESSION_STARTED",
        ChannelSessionEnded = "CHANNEL_SESSION_ENDED",
        ChannelSessionExpired = "CHANNEL_SESSION_EXPIRED",
        AgentReserved = "AGENT_RESERVED",
        AgentSubscribed = "AGENT_SUBSCRIBED",
        AgentUnsubscribed = "AGENT_UNSUBSCRIBED",
        TaskEnqueued = "TASK_ENQUEUED",
        TaskStateChanged = "TASK_STATE_CHANGED",
        NoAgentAvailable = "NO_AGENT_AVAILABLE",
        ParticipantRoleChanged = "PARTICIPANT_ROLE_CHANGED",
        ConversationDataChanged = "CONVERSATION_DATA_CHANGED",
        MrdInterrupted = "MRD_INTERRUPTED",
        AgentMrdInterrupted = "AGENT_MRD_INTERRUPTED",
        AgentSlaStarted = "AGENT_SLA_STARTED",
        AgentSlaExpired = "AGENT_SLA_EXPIRED",
        CustomerSlaExpired = "CUSTOMER_SLA_EXPIRED",
        MessageDeliveryNotification = "MESSAGE_DELIVERY_NOTIFICATION",
        ConversationStarted = "CONVERSATION_STARTED",
        ConversationPaused = "CONVERSATION_PAUSED",
        ConversationResumed = "CONVERSATION_RESUMED",
        FindAgent = "FIND_AGENT",
        ConsultTransfer = "CONSULT_TRANSFER",
        ConsultConference = "CONSULT_CONFERENCE",
        DirectTransfer = "DIRECT_TRANSFER",
        DirectConference = "DIRECT_CONFERENCE",
        TypingStarted = "TYPING_STARTED",
        TypingStopped = "TYPING_STOPPED",
        SystemError = "SYSTEM_ERROR",
    }
}

string_enum! {
    /// `cimEvent.type`.
    pub enum CimEventType {
        Message = "MESSAGE",
        Notification = "NOTIFICATION",
        Activity = "ACTIVITY",
        Suggestion = "SUGGESTION",
    }
}

string_enum! {
    /// `eventEmitter.type` (and the plain `header.sender.type`).
    pub enum EmitterType {
        System = "SYSTEM",
        Bot = "BOT",
        Customer = "CUSTOMER",
        Agent = "AGENT",
        Connector = "CONNECTOR",
        App = "APP",
    }
}

/// Emitter ids the seeds use for the platform's own services; reused so anything
/// keyed on them keeps working.
const KNOWN_SYSTEM_IDS: &[(&str, &str)] = &[
    ("ROUTING_ENGINE", "86e3d082-a904-11ed-afa1-0242ac120002"),
    ("AGENT_MANAGER", "7a473cf0-aeeb-11ed-ad5f-b35af61a7d08"),
    (
        "CONVERSATION_MONITOR",
        "38327e73-4a21-4ad4-a958-a6385c8636aa",
    ),
];

/// `eventEmitter`: `{id, type, senderName, additionalDetail}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEmitter {
    pub id: String,
    #[serde(rename = "type")]
    pub emitter_type: EmitterType,
    #[serde(
        rename = "senderName",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub sender_name: Nullable<String>,
    /// `null` for services; the customer's dynamic attributes for customers.
    #[serde(
        rename = "additionalDetail",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub additional_detail: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EventEmitter {
    fn with(
        id: String,
        emitter_type: EmitterType,
        sender_name: String,
        detail: Option<Value>,
    ) -> Self {
        EventEmitter {
            id,
            emitter_type,
            sender_name: sender_name.into(),
            additional_detail: detail.into(),
            extra: Map::new(),
        }
    }

    /// A platform service (`type: SYSTEM`, e.g. `ROUTING_ENGINE`, `AGENT_MANAGER`,
    /// `CONVERSATION_MANAGER`). The id is stable per name: the seed's id for the
    /// services the seeds show, otherwise one derived from the name.
    pub fn system(sender_name: &str) -> Self {
        EventEmitter::with(
            system_emitter_id(sender_name),
            EmitterType::System,
            sender_name.to_owned(),
            None,
        )
    }

    /// The conversation monitor, which the seeds show as a `BOT` emitter.
    pub fn conversation_monitor() -> Self {
        EventEmitter::with(
            system_emitter_id("CONVERSATION_MONITOR"),
            EmitterType::Bot,
            "CONVERSATION_MONITOR".to_owned(),
            None,
        )
    }

    /// A bot (`type: BOT`).
    pub fn bot(id: impl Into<String>, name: impl Into<String>) -> Self {
        EventEmitter::with(id.into(), EmitterType::Bot, name.into(), None)
    }

    /// An agent (`type: AGENT`, named by username).
    pub fn agent(user: &CcUser) -> Self {
        EventEmitter::with(
            user.id.clone(),
            EmitterType::Agent,
            user.username().to_owned(),
            None,
        )
    }

    /// A customer (`type: CUSTOMER`): id is the profile id, name the first name, and
    /// `additionalDetail` the profile's dynamic attributes, as in the seeds.
    pub fn customer(customer: &Customer) -> Self {
        EventEmitter::with(
            customer.id().unwrap_or_default().to_owned(),
            EmitterType::Customer,
            customer
                .first_name
                .as_deref_str()
                .unwrap_or_default()
                .to_owned(),
            Some(Value::Object(customer.extra.clone())),
        )
    }
}

/// The stable emitter id for a system service name.
pub fn system_emitter_id(sender_name: &str) -> String {
    if let Some((_, id)) = KNOWN_SYSTEM_IDS
        .iter()
        .find(|(name, _)| *name == sender_name)
    {
        return (*id).to_owned();
    }
    let digest = Sha256::digest(sender_name.as_bytes());
    let hex = hex::encode(&digest[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// `cimEvent`. It serializes as its derived form would, with a stamped message's
/// header read from its `origin` (`event_json`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CimEvent {
    pub id: String,
    pub name: CimEventName,
    #[serde(rename = "type")]
    pub event_type: CimEventType,
    /// Epoch milliseconds.
    pub timestamp: Millis,
    #[serde(
        rename = "conversationId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub conversation_id: Nullable<String>,
    #[serde(
        rename = "eventEmitter",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub event_emitter: Nullable<EventEmitter>,
    #[serde(
        rename = "channelSession",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_session: Nullable<Box<ChannelSession>>,
    /// The payload; its shape depends on `name` (see [`CimEvent::typed_data`]).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub data: Nullable<Value>,
    #[serde(
        rename = "roomInfo",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub room_info: Nullable<RoomInfo>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
    /// Who the server knows sent this message, and in which session: the values of
    /// `data.header`'s `sender`, `channelSession` and `channelData`, which hold `null`
    /// in `data` itself (see [`MessageOrigin`]). Never read from a client. Read
    /// `data` through [`CimEvent::data_value`] (or serialize the event) to see them.
    /// Events compare equal only with equal origins: a stamped event and its copy
    /// read back from the store (the values in `data`) have the same text but are
    /// not `==`. The origin's text is written as serde_json's `RawValue`, so events
    /// are written with serde_json only.
    #[serde(skip)]
    pub origin: Option<Arc<MessageOrigin>>,
}

impl CimEvent {
    /// An event in the newer seed shape. `channel_session: None` leaves the key out (as
    /// the AGENT_SUBSCRIBED seed does); `data: Value::Null` emits `"data": null`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: impl Into<String>,
        name: CimEventName,
        event_type: CimEventType,
        conversation_id: impl Into<String>,
        emitter: EventEmitter,
        channel_session: Option<ChannelSession>,
        data: Value,
        room_info: RoomInfo,
        timestamp: Millis,
    ) -> Self {
        CimEvent {
            id: id.into(),
            name,
            event_type,
            timestamp,
            conversation_id: conversation_id.into().into(),
            event_emitter: emitter.into(),
            channel_session: match channel_session {
                Some(cs) => Nullable::Value(Box::new(cs)),
                None => Nullable::Absent,
            },
            data: match data {
                Value::Null => Nullable::Null,
                other => Nullable::Value(other),
            },
            room_info: room_info.into(),
            extra: Map::new(),
            origin: None,
        }
    }

    /// A fresh event id: a time-ordered (v7) UUID, so stored events' ids append to
    /// the end of their unique index instead of dirtying a random page each.
    pub fn new_id() -> String {
        uuid::Uuid::now_v7().to_string()
    }

    /// `data` as the event's text has it: a stamped message's header with its
    /// origin's values written in.
    pub fn data_value(&self) -> Cow<'_, Value> {
        let data = self.data.get().unwrap_or(&Value::Null);
        match &self.origin {
            None => Cow::Borrowed(data),
            Some(origin) => {
                let mut data = data.clone();
                origin.write_into(&mut data);
                Cow::Owned(data)
            }
        }
    }

    /// `data` read as `T`; errors name `data`.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, CimError> {
        T::deserialize(&*self.data_value()).map_err(|e| CimError::from_serde("data", &e))
    }

    /// `data` as a CIM message (for `type: MESSAGE` events), validated.
    pub fn message(&self) -> Result<CimMessage, CimError> {
        CimMessage::from_value_at(&self.data_value(), "data")
    }

    /// `data` typed by the event name, for the payloads the seeds document; other
    /// names give `EventData::Other` (a `MESSAGE`-typed event is read as a message).
    pub fn typed_data(&self) -> Result<EventData, CimError> {
        use CimEventName as N;
        Ok(match &self.name {
            N::CustomerMessage
            | N::AgentMessage
            | N::BotMessage
            | N::WhisperMessage
            | N::BotSuggestion => EventData::Message(Box::new(self.message()?)),
            N::ChannelSessionStarted | N::ChannelSessionEnded | N::ChannelSessionExpired => {
                EventData::ChannelSession(Box::new(self.data_as()?))
            }
            N::AgentSlaExpired | N::CustomerSlaExpired | N::ConversationDataChanged => {
                EventData::Conversation(Box::new(self.data_as()?))
            }
            N::AgentSubscribed | N::AgentUnsubscribed => {
                EventData::AgentSubscription(self.data_as()?)
            }
            N::ParticipantRoleChanged => EventData::ParticipantRoleChanged(self.data_as()?),
            N::FindAgent => EventData::FindAgent(self.data_as()?),
            N::TaskEnqueued => EventData::TaskEnqueued(self.data_as()?),
            N::AgentMrdInterrupted => EventData::MrdInterrupted(self.data_as()?),
            _ if self.event_type == CimEventType::Message => {
                EventData::Message(Box::new(self.message()?))
            }
            _ => EventData::Other(self.data_value().into_owned()),
        })
    }

    /// Validates and reads an event sent by a desk (e.g. `publishCimEvent`,
    /// `closeWrapup.cimEvent`) found at `path`: `id`, `name`, `type` and `timestamp`
    /// must be present, and a `MESSAGE` event's `data` must be a valid message.
    pub fn from_value_at(value: &Value, path: &str) -> Result<CimEvent, CimError> {
        let join = |field: &str| {
            if path.is_empty() {
                field.to_owned()
            } else {
                format!("{path}.{field}")
            }
        };
        match value {
            Value::Object(_) => {}
            Value::Null => return Err(CimError::missing(path)),
            other => {
                return Err(CimError::invalid(
                    path,
                    format!("expected an event object, found {}", json_kind(other)),
                ))
            }
        }
        for field in ["id", "name", "type"] {
            require_str(value, field).map_err(|_| match value.get(field) {
                Some(v) if !v.is_null() && !v.is_string() => CimError::invalid(
                    join(field),
                    format!("expected a string, found {}", json_kind(v)),
                ),
                _ => CimError::missing(join(field)),
            })?;
        }
        if let Some(id) = value.get("id").and_then(Value::as_str) {
            check_len(&join("id"), id)?;
        }
        match value.get("timestamp") {
            None | Some(Value::Null) => return Err(CimError::missing(join("timestamp"))),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => {}
            Some(other) => {
                return Err(CimError::invalid(
                    join("timestamp"),
                    format!("expected epoch milliseconds, found {}", json_kind(other)),
                ))
            }
        }
        if value.get("type").and_then(Value::as_str) == Some("MESSAGE") {
            CimMessage::from_value_at(value.get("data").unwrap_or(&Value::Null), &join("data"))?;
        }
        CimEvent::deserialize(value).map_err(|e| CimError::from_serde(path, &e))
    }
}

/// `data` of AGENT_SUBSCRIBED / AGENT_UNSUBSCRIBED: `{agentParticipant, reason}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentSubscriptionData {
    #[serde(rename = "agentParticipant")]
    pub agent_participant: Participant,
    /// e.g. `SLA_EXPIRED`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub reason: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of PARTICIPANT_ROLE_CHANGED: `{conversationParticipant, metadata}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantRoleChangedData {
    #[serde(rename = "conversationParticipant")]
    pub conversation_participant: Participant,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub metadata: Nullable<Map<String, Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of FIND_AGENT: `{queue, requestType, additionalDetails}` (all `null` in the
/// seed, so `queue` and `additionalDetails` are kept as JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindAgentData {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub queue: Nullable<Value>,
    #[serde(
        rename = "requestType",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub request_type: Nullable<String>,
    #[serde(
        rename = "additionalDetails",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub additional_details: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of TASK_ENQUEUED: `{task, queue}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskEnqueuedData {
    pub task: Task,
    pub queue: QueueRef,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `data` of AGENT_MRD_INTERRUPTED: `{mrdId, agentId, conversations}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MrdInterruptedData {
    #[serde(rename = "mrdId")]
    pub mrd_id: String,
    #[serde(rename = "agentId")]
    pub agent_id: String,
    /// Ids of the conversations on the interrupted MRD.
    pub conversations: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `cimEvent.data`, typed by event name; see [`CimEvent::typed_data`].
#[derive(Debug, Clone, PartialEq)]
pub enum EventData {
    Message(Box<CimMessage>),
    ChannelSession(Box<ChannelSession>),
    Conversation(Box<Conversation>),
    AgentSubscription(AgentSubscriptionData),
    ParticipantRoleChanged(ParticipantRoleChangedData),
    FindAgent(FindAgentData),
    TaskEnqueued(TaskEnqueuedData),
    MrdInterrupted(MrdInterruptedData),
    /// A payload this module does not type.
    Other(Value),
}

impl EventData {
    /// The payload as JSON again.
    pub fn to_value(&self) -> Result<Value, CimError> {
        let result = match self {
            EventData::Message(m) => serde_json::to_value(m),
            EventData::ChannelSession(cs) => serde_json::to_value(cs),
            EventData::Conversation(c) => serde_json::to_value(c),
            EventData::AgentSubscription(d) => serde_json::to_value(d),
            EventData::ParticipantRoleChanged(d) => serde_json::to_value(d),
            EventData::FindAgent(d) => serde_json::to_value(d),
            EventData::TaskEnqueued(d) => serde_json::to_value(d),
            EventData::MrdInterrupted(d) => serde_json::to_value(d),
            EventData::Other(v) => Ok(v.clone()),
        };
        result.map_err(|e| CimError::from_serde("data", &e))
    }
}

/// The event's JSON text, as stored.
pub fn event_text(event: &CimEvent) -> String {
    // A struct of strings, numbers and JSON values always serializes.
    serde_json::to_string(event).unwrap_or_else(|_| "{}".to_string())
}

/// The event as desks and widgets receive it: its JSON object with the
/// per-conversation `seq` added. `plain` is [`event_text`] of the same event, so a
/// batch encodes each event once whatever the number of recipients.
pub fn wire_text(event: &CimEvent, plain: &str, seq: u64) -> String {
    match plain.strip_prefix('{') {
        // An event that carries its own `seq` key gets it replaced, never duplicated.
        Some(rest) if !event.extra.contains_key("seq") => {
            let separator = if rest.trim_start().starts_with('}') {
                ""
            } else {
                ","
            };
            format!("{{\"seq\":{seq}{separator}{rest}")
        }
        _ => {
            let mut value = serde_json::to_value(event).unwrap_or(Value::Null);
            if let Some(obj) = value.as_object_mut() {
                obj.insert("seq".into(), Value::from(seq));
            }
            value.to_string()
        }
    }
}

#[cfg(test)]
mod tests;
