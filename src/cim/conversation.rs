//! `Conversation`: the conversation object the conversation manager owns — its
//! participants, state, timers (agent SLA, hold), `conversationData` key/values and
//! wrap-ups — as it appears in CIM event data and studio payloads.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::channel::Sla;
use super::channel_session::{ChannelSession, Direction};
use super::customer::Customer;
use super::nullable::Nullable;
use super::participant::{Participant, ParticipantRole, ParticipantType};
use super::room::RoomInfo;
use super::string_enum::string_enum;
use crate::clock::Millis;

string_enum! {
    /// `conversation.state`.
    pub enum ConversationState {
        Created = "CREATED",
        Active = "ACTIVE",
        OnHold = "ON_HOLD",
        CustomerLeft = "CUSTOMER_LEFT",
        WrapUp = "WRAP_UP",
        Inactive = "INACTIVE",
        Closed = "CLOSED",
    }
}

string_enum! {
    /// `conversationData[].type`.
    pub enum ConversationDataType {
        String = "STRING",
        Int = "INT",
        Boolean = "BOOLEAN",
        Double = "DOUBLE",
        Object = "OBJECT",
    }
}

/// `conversation.agentSla`.
pub type AgentSla = Sla;

/// An entry of `conversationData`: `{type, key, value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationDataEntry {
    #[serde(rename = "type")]
    pub data_type: ConversationDataType,
    pub key: String,
    /// A string, number or boolean according to `type`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub value: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `conversation.metadata`: `{botId, lastUsedChannelSession}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ConversationMetadata {
    #[serde(rename = "botId", default, skip_serializing_if = "Nullable::is_absent")]
    pub bot_id: Nullable<String>,
    #[serde(
        rename = "lastUsedChannelSession",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub last_used_channel_session: Nullable<Box<ChannelSession>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `conversation.holdTimerDetails`: `{totalDuration, startTime}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HoldTimerDetails {
    #[serde(
        rename = "totalDuration",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub total_duration: Nullable<i64>,
    #[serde(
        rename = "startTime",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub start_time: Nullable<Millis>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `conversation.agentHandRaise`: `{handRaised, agentNames}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AgentHandRaise {
    #[serde(
        rename = "handRaised",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub hand_raised: Nullable<bool>,
    #[serde(
        rename = "agentNames",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub agent_names: Nullable<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `conversation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub customer: Nullable<Customer>,
    pub participants: Vec<Participant>,
    #[serde(
        rename = "agentParticipants",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub agent_participants: Nullable<Vec<Participant>>,
    pub state: ConversationState,
    #[serde(
        rename = "conversationDirection",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub conversation_direction: Nullable<Direction>,
    #[serde(
        rename = "durationInSeconds",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub duration_in_seconds: Nullable<i64>,
    #[serde(
        rename = "channelSession",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_session: Nullable<Box<ChannelSession>>,
    #[serde(
        rename = "creationTime",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub creation_time: Nullable<Millis>,
    #[serde(
        rename = "endTime",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub end_time: Nullable<Millis>,
    #[serde(
        rename = "conversationData",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub conversation_data: Nullable<Vec<ConversationDataEntry>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub metadata: Nullable<ConversationMetadata>,
    #[serde(
        rename = "roomInfo",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub room_info: Nullable<RoomInfo>,
    #[serde(
        rename = "agentSla",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub agent_sla: Nullable<AgentSla>,
    #[serde(
        rename = "cachedAgentSlaDuration",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub cached_agent_sla_duration: Nullable<i64>,
    #[serde(
        rename = "holdTimerDetails",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub hold_timer_details: Nullable<HoldTimerDetails>,
    #[serde(
        rename = "agentHandRaise",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub agent_hand_raise: Nullable<AgentHandRaise>,
    /// Empty in every seed; kept as JSON.
    #[serde(
        rename = "externalGadgets",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub external_gadgets: Nullable<Vec<Value>>,
    /// Empty in every seed; kept as JSON (a WRAPUP message body carries the typed form).
    #[serde(
        rename = "wrapUps",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub wrap_ups: Nullable<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Conversation {
    /// A new conversation in the `CREATED` state for `channel_session`, in the newer
    /// shape: no participants yet, unset SLA and hold timers, no data, no wrap-ups.
    pub fn new(
        id: impl Into<String>,
        channel_session: ChannelSession,
        room_info: RoomInfo,
        creation_time: Millis,
        bot_id: Option<String>,
    ) -> Self {
        let direction = channel_session
            .channel_session_direction
            .get()
            .cloned()
            .unwrap_or(Direction::Inbound);
        Conversation {
            id: id.into(),
            customer: channel_session.customer.clone().into(),
            participants: Vec::new(),
            agent_participants: Vec::new().into(),
            state: ConversationState::Created,
            conversation_direction: direction.into(),
            duration_in_seconds: Nullable::Null,
            channel_session: Box::new(channel_session.clone()).into(),
            creation_time: creation_time.into(),
            end_time: Nullable::Null,
            conversation_data: Vec::new().into(),
            metadata: ConversationMetadata {
                bot_id: bot_id.into(),
                last_used_channel_session: Box::new(channel_session).into(),
                extra: Map::new(),
            }
            .into(),
            room_info: room_info.into(),
            agent_sla: Sla::unset().into(),
            cached_agent_sla_duration: 0.into(),
            hold_timer_details: HoldTimerDetails {
                total_duration: Nullable::Null,
                start_time: Nullable::Null,
                extra: Map::new(),
            }
            .into(),
            agent_hand_raise: AgentHandRaise {
                hand_raised: false.into(),
                agent_names: Vec::new().into(),
                extra: Map::new(),
            }
            .into(),
            external_gadgets: Vec::new().into(),
            wrap_ups: Vec::new().into(),
            extra: Map::new(),
        }
    }

    /// The customer participant, if one has joined.
    pub fn customer_participant(&self) -> Option<&Participant> {
        self.participants
            .iter()
            .find(|p| p.participant_type == ParticipantType::Customer)
    }

    /// Agent participants, in joining order.
    pub fn agents(&self) -> impl Iterator<Item = &Participant> {
        self.participants
            .iter()
            .filter(|p| p.participant_type == ParticipantType::Agent)
    }

    /// User ids of the agents (and monitors) in the conversation now, with roles.
    pub fn agent_members(&self) -> Vec<(String, ParticipantRole)> {
        self.agents()
            .filter(|p| p.is_active.get().copied().unwrap_or(true))
            .filter_map(|p| p.as_cc_user().map(|u| (u.id.clone(), p.role.clone())))
            .collect()
    }

    /// The agent in the conversation holding the `PRIMARY` role, if any (one that left
    /// keeps its last role, but holds nothing).
    pub fn primary_agent(&self) -> Option<&Participant> {
        self.agents().find(|p| {
            p.role == ParticipantRole::Primary && p.is_active.get().copied().unwrap_or(true)
        })
    }

    /// The participant with the given participant id.
    pub fn participant(&self, participant_id: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == participant_id)
    }

    /// The `conversationData` entry for `key`.
    pub fn data(&self, key: &str) -> Option<&ConversationDataEntry> {
        self.conversation_data
            .get()
            .and_then(|entries| entries.iter().find(|e| e.key == key))
    }

    /// Sets `conversationData[key]`, replacing an existing entry with that key.
    pub fn set_data(&mut self, key: &str, data_type: ConversationDataType, value: Value) {
        let entry = ConversationDataEntry {
            data_type,
            key: key.to_owned(),
            value: Some(value).filter(|v| !v.is_null()).into(),
            extra: Map::new(),
        };
        if !self.conversation_data.is_value() {
            self.conversation_data = Vec::new().into();
        }
        if let Some(entries) = self.conversation_data.get_mut() {
            match entries.iter_mut().find(|e| e.key == key) {
                Some(existing) => *existing = entry,
                None => entries.push(entry),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::channel_session::tests::started_session;
    use crate::cim::user::tests::agent1;
    use serde_json::json;

    fn conversation() -> Conversation {
        Conversation::new(
            "conv-1",
            started_session(),
            RoomInfo::contact_center("room-1"),
            1_000,
            Some("bot-1".into()),
        )
    }

    #[test]
    fn new_conversation_has_the_seed_shape() {
        let value = serde_json::to_value(conversation()).unwrap();
        assert_eq!(value["state"], json!("CREATED"));
        assert_eq!(value["conversationDirection"], json!("INBOUND"));
        assert_eq!(value["participants"], json!([]));
        assert_eq!(
            value["agentSla"],
            json!({"totalDuration": null, "action": null, "startTime": null})
        );
        assert_eq!(
            value["holdTimerDetails"],
            json!({"totalDuration": null, "startTime": null})
        );
        assert_eq!(
            value["agentHandRaise"],
            json!({"handRaised": false, "agentNames": []})
        );
        assert_eq!(value["metadata"]["botId"], json!("bot-1"));
        assert_eq!(
            value["metadata"]["lastUsedChannelSession"]["id"],
            json!("cs-1")
        );
        assert_eq!(value["customer"]["_id"], json!("cust-1"));
        assert_eq!(value["endTime"], json!(null));
        let back: Conversation = serde_json::from_value(value).unwrap();
        assert_eq!(back, conversation());
    }

    #[test]
    fn participant_lookups() {
        let mut conv = conversation();
        conv.participants
            .push(Participant::customer("p-c", started_session(), 1));
        conv.participants.push(Participant::agent(
            "p-a",
            agent1(),
            ParticipantRole::Primary,
            "conv-1",
            2,
        ));
        assert_eq!(
            conv.customer_participant().map(|p| p.id.as_str()),
            Some("p-c")
        );
        assert_eq!(conv.primary_agent().map(|p| p.id.as_str()), Some("p-a"));
        assert_eq!(conv.agents().count(), 1);
        assert!(conv.participant("p-a").is_some());
        // An agent that left keeps its last role but is nobody's PRIMARY.
        conv.participants[1].is_active = false.into();
        assert!(conv.primary_agent().is_none());
    }

    #[test]
    fn set_data_replaces_by_key() {
        let mut conv = conversation();
        conv.set_data("phone", ConversationDataType::String, json!("1"));
        conv.set_data("phone", ConversationDataType::String, json!("2"));
        conv.set_data("n", ConversationDataType::Int, json!(3));
        assert_eq!(
            conv.data("phone").and_then(|e| e.value.get()),
            Some(&json!("2"))
        );
        assert_eq!(
            serde_json::to_value(&conv).unwrap()["conversationData"],
            json!([
                {"type": "STRING", "key": "phone", "value": "2"},
                {"type": "INT", "key": "n", "value": 3}
            ])
        );
    }
}
