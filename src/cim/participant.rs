//! `Participant`: a member of a conversation — the customer (via its channel session),
//! an agent (a `CCUser`) or a `Bot` — with its role and subscription state. The inner
//! `participant` object is typed by its `participantType` tag; unknown tags are kept.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::channel_session::{ChannelSession, CHANNEL_SESSION_PARTICIPANT_TYPE};
use super::nullable::Nullable;
use super::string_enum::string_enum;
use super::user::{CcUser, CC_USER_PARTICIPANT_TYPE};
use crate::clock::Millis;

/// The `participantType` tag of a bot.
pub const BOT_PARTICIPANT_TYPE: &str = "Bot";

string_enum! {
    /// `participant.type`: what kind of party this is.
    pub enum ParticipantType {
        Customer = "CUSTOMER",
        Agent = "AGENT",
        Bot = "BOT",
    }
}

string_enum! {
    /// `participant.role` within the conversation.
    pub enum ParticipantRole {
        Primary = "PRIMARY",
        Assistant = "ASSISTANT",
        SilentMonitor = "SILENT_MONITOR",
        /// A supervisor who joined with `joinAsWhisper`: sees everything, writes only
        /// WHISPER_MESSAGE to the agents; the customer sees nothing of it.
        Whisper = "WHISPER",
        WrapUp = "WRAP_UP",
        Customer = "CUSTOMER",
    }
}

string_enum! {
    /// `participant.state`.
    pub enum ParticipantState {
        Subscribed = "SUBSCRIBED",
        Unsubscribed = "UNSUBSCRIBED",
    }
}

/// `participant` with `participantType: "Bot"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bot {
    /// Always `"Bot"` when present.
    #[serde(
        rename = "participantType",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub participant_type: Nullable<String>,
    pub id: String,
    /// The bot framework, e.g. `RASA`.
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub bot_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub uri: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Bot {
    /// A bot participant body.
    pub fn new(
        id: impl Into<String>,
        bot_type: impl Into<String>,
        name: impl Into<String>,
        uri: Option<String>,
    ) -> Self {
        Bot {
            participant_type: BOT_PARTICIPANT_TYPE.to_owned().into(),
            id: id.into(),
            bot_type: bot_type.into().into(),
            name: name.into().into(),
            uri: uri.into(),
            extra: Map::new(),
        }
    }
}

/// The inner `participant` object, chosen by its `participantType`.
#[derive(Debug, Clone, PartialEq)]
pub enum ParticipantEntity {
    /// `participantType: "ChannelSession"` — the customer side.
    ChannelSession(Box<ChannelSession>),
    /// `participantType: "CCUser"` — an agent or supervisor.
    CcUser(Box<CcUser>),
    /// `participantType: "Bot"`.
    Bot(Bot),
    /// Any other tag (e.g. `TopicMonitor`), kept verbatim.
    Other(Map<String, Value>),
}

impl ParticipantEntity {
    /// The `participantType` tag this entity is (or would be) serialized with.
    pub fn participant_type(&self) -> &str {
        match self {
            ParticipantEntity::ChannelSession(_) => CHANNEL_SESSION_PARTICIPANT_TYPE,
            ParticipantEntity::CcUser(_) => CC_USER_PARTICIPANT_TYPE,
            ParticipantEntity::Bot(_) => BOT_PARTICIPANT_TYPE,
            ParticipantEntity::Other(map) => map
                .get("participantType")
                .and_then(Value::as_str)
                .unwrap_or(""),
        }
    }

    /// The entity's own id.
    pub fn id(&self) -> Option<&str> {
        match self {
            ParticipantEntity::ChannelSession(cs) => Some(&cs.id),
            ParticipantEntity::CcUser(user) => Some(&user.id),
            ParticipantEntity::Bot(bot) => Some(&bot.id),
            ParticipantEntity::Other(map) => map.get("id").and_then(Value::as_str),
        }
    }
}

impl Serialize for ParticipantEntity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ParticipantEntity::ChannelSession(cs) => cs.serialize(serializer),
            ParticipantEntity::CcUser(user) => user.serialize(serializer),
            ParticipantEntity::Bot(bot) => bot.serialize(serializer),
            ParticipantEntity::Other(map) => map.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ParticipantEntity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let tag = value
            .get("participantType")
            .and_then(Value::as_str)
            .map(str::to_owned);
        // A known tag must parse as its type: a malformed agent is an error, not `Other`.
        match tag.as_deref() {
            Some(CHANNEL_SESSION_PARTICIPANT_TYPE) => ChannelSession::deserialize(value)
                .map(|cs| ParticipantEntity::ChannelSession(Box::new(cs)))
                .map_err(|e| D::Error::custom(format!("ChannelSession participant: {e}"))),
            Some(CC_USER_PARTICIPANT_TYPE) => CcUser::deserialize(value)
                .map(|user| ParticipantEntity::CcUser(Box::new(user)))
                .map_err(|e| D::Error::custom(format!("CCUser participant: {e}"))),
            Some(BOT_PARTICIPANT_TYPE) => Bot::deserialize(value)
                .map(ParticipantEntity::Bot)
                .map_err(|e| D::Error::custom(format!("Bot participant: {e}"))),
            _ => match value {
                Value::Object(map) => Ok(ParticipantEntity::Other(map)),
                _ => Err(D::Error::custom("participant must be an object")),
            },
        }
    }
}

/// A conversation participant (`participants[]`, `agentParticipant`, `sender`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub id: String,
    #[serde(rename = "type")]
    pub participant_type: ParticipantType,
    pub role: ParticipantRole,
    pub participant: ParticipantEntity,
    #[serde(
        rename = "joiningTime",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub joining_time: Nullable<Millis>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub token: Nullable<Value>,
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
        rename = "isActive",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub is_active: Nullable<bool>,
    /// `{}` for customers and bots, `null` for agents in the seeds; kept as JSON.
    #[serde(
        rename = "userCredentials",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub user_credentials: Nullable<Value>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub state: Nullable<ParticipantState>,
    #[serde(
        rename = "stateChangedOn",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub state_changed_on: Nullable<Millis>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Participant {
    fn subscribed(
        id: String,
        participant_type: ParticipantType,
        role: ParticipantRole,
        participant: ParticipantEntity,
        conversation_id: Option<String>,
        joining_time: Millis,
        user_credentials: Value,
    ) -> Self {
        Participant {
            id,
            participant_type,
            role,
            participant,
            joining_time: joining_time.into(),
            token: Nullable::Null,
            topic_id: Nullable::Absent,
            conversation_id: conversation_id.into(),
            is_active: true.into(),
            user_credentials: match user_credentials {
                Value::Null => Nullable::Null,
                other => other.into(),
            },
            state: ParticipantState::Subscribed.into(),
            state_changed_on: Nullable::Null,
            extra: Map::new(),
        }
    }

    /// The customer participant for `channel_session` (type and role `CUSTOMER`,
    /// subscribed, `userCredentials: {}`), in the conversation the session names.
    pub fn customer(
        id: impl Into<String>,
        channel_session: ChannelSession,
        joining_time: Millis,
    ) -> Self {
        let conversation_id = channel_session.conversation_id().map(str::to_owned);
        Participant::subscribed(
            id.into(),
            ParticipantType::Customer,
            ParticipantRole::Customer,
            ParticipantEntity::ChannelSession(Box::new(channel_session)),
            conversation_id,
            joining_time,
            Value::Object(Map::new()),
        )
    }

    /// An agent participant (type `AGENT`, subscribed, `userCredentials: null`).
    pub fn agent(
        id: impl Into<String>,
        cc_user: CcUser,
        role: ParticipantRole,
        conversation_id: impl Into<String>,
        joining_time: Millis,
    ) -> Self {
        Participant::subscribed(
            id.into(),
            ParticipantType::Agent,
            role,
            ParticipantEntity::CcUser(Box::new(cc_user)),
            Some(conversation_id.into()),
            joining_time,
            Value::Null,
        )
    }

    /// A bot participant (type `BOT`, `userCredentials: {}`).
    pub fn bot(
        id: impl Into<String>,
        bot: Bot,
        role: ParticipantRole,
        conversation_id: Option<String>,
        joining_time: Millis,
    ) -> Self {
        Participant::subscribed(
            id.into(),
            ParticipantType::Bot,
            role,
            ParticipantEntity::Bot(bot),
            conversation_id,
            joining_time,
            Value::Object(Map::new()),
        )
    }

    /// The channel session, for a customer participant.
    pub fn as_channel_session(&self) -> Option<&ChannelSession> {
        match &self.participant {
            ParticipantEntity::ChannelSession(cs) => Some(cs),
            _ => None,
        }
    }

    /// The user, for an agent participant.
    pub fn as_cc_user(&self) -> Option<&CcUser> {
        match &self.participant {
            ParticipantEntity::CcUser(user) => Some(user),
            _ => None,
        }
    }

    /// The bot, for a bot participant.
    pub fn as_bot(&self) -> Option<&Bot> {
        match &self.participant {
            ParticipantEntity::Bot(bot) => Some(bot),
            _ => None,
        }
    }

    /// The conversation id (`conversationId`, else older `topicId`).
    pub fn conversation_id(&self) -> Option<&str> {
        self.conversation_id
            .as_deref_str()
            .or_else(|| self.topic_id.as_deref_str())
    }

    /// Rewrites an older-shape participant into the newer one: `topicId` becomes
    /// `conversationId`, and an embedded channel session is normalized too.
    pub fn normalize_to_current(&mut self) {
        if let Nullable::Value(topic) = std::mem::take(&mut self.topic_id) {
            if !self.conversation_id.is_value() {
                self.conversation_id = topic.into();
            }
        }
        if let ParticipantEntity::ChannelSession(cs) = &mut self.participant {
            cs.normalize_to_current();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::channel_session::tests::started_session;
    use crate::cim::user::tests::agent1;
    use serde_json::json;

    #[test]
    fn customer_participant_has_the_newer_shape() {
        let participant = Participant::customer("p-1", started_session(), 1_000);
        let value = serde_json::to_value(&participant).unwrap();
        assert_eq!(value["type"], json!("CUSTOMER"));
        assert_eq!(value["role"], json!("CUSTOMER"));
        assert_eq!(
            value["participant"]["participantType"],
            json!("ChannelSession")
        );
        assert_eq!(value["conversationId"], json!("conv-1"));
        assert_eq!(value["joiningTime"], json!(1_000));
        assert_eq!(value["userCredentials"], json!({}));
        assert_eq!(value["state"], json!("SUBSCRIBED"));
        assert_eq!(value["stateChangedOn"], json!(null));
        assert_eq!(value["token"], json!(null));
        assert!(participant.as_channel_session().is_some());
    }

    #[test]
    fn agent_participant_wraps_the_cc_user() {
        let participant =
            Participant::agent("p-2", agent1(), ParticipantRole::Primary, "conv-1", 5);
        let value = serde_json::to_value(&participant).unwrap();
        assert_eq!(value["type"], json!("AGENT"));
        assert_eq!(value["role"], json!("PRIMARY"));
        assert_eq!(value["userCredentials"], json!(null));
        assert_eq!(
            value["participant"]["keycloakUser"]["username"],
            json!("agent1")
        );
        let back: Participant = serde_json::from_value(value).unwrap();
        assert_eq!(back, participant);
        assert_eq!(back.as_cc_user().map(CcUser::username), Some("agent1"));
    }

    #[test]
    fn bot_participant_round_trips() {
        let bot = Bot::new("b-1", "RASA", "rasa", Some("http://bot".into()));
        let participant = Participant::bot("p-3", bot, ParticipantRole::Assistant, None, 7);
        let value = serde_json::to_value(&participant).unwrap();
        assert_eq!(value["conversationId"], json!(null));
        assert_eq!(
            value["participant"],
            json!({"participantType": "Bot", "id": "b-1", "type": "RASA", "name": "rasa", "uri": "http://bot"})
        );
        let back: Participant = serde_json::from_value(value).unwrap();
        assert_eq!(back.as_bot().map(|b| b.id.as_str()), Some("b-1"));
    }

    #[test]
    fn unknown_participant_types_are_kept() {
        let raw = json!({"participantType": "TopicMonitor", "id": "m-1", "displayName": "x"});
        let entity: ParticipantEntity = serde_json::from_value(raw.clone()).unwrap();
        assert!(matches!(entity, ParticipantEntity::Other(_)));
        assert_eq!(entity.participant_type(), "TopicMonitor");
        assert_eq!(entity.id(), Some("m-1"));
        assert_eq!(serde_json::to_value(&entity).unwrap(), raw);
    }

    #[test]
    fn malformed_known_participant_is_an_error() {
        let raw = json!({"participantType": "CCUser", "id": "u-1"});
        let err = serde_json::from_value::<ParticipantEntity>(raw).unwrap_err();
        assert!(err.to_string().contains("keycloakUser"), "{err}");
    }

    #[test]
    fn normalize_moves_topic_id() {
        let mut participant = Participant::agent("p-2", agent1(), ParticipantRole::Primary, "c", 5);
        participant.conversation_id = Nullable::Absent;
        participant.topic_id = "t-1".to_owned().into();
        participant.normalize_to_current();
        assert_eq!(participant.conversation_id, Nullable::Value("t-1".into()));
        assert!(participant.topic_id.is_absent());
    }
}
