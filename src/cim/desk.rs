//! Requests an agent desk sends the agent manager that carry CIM objects: the
//! assistance requests (`directConferenceRequest`, `directTransferRequest`,
//! `consultTransferRequest`, `consultConferenceRequest`, seed 000) and `closeWrapup`
//! (seed 004), each with a validator that names the bad field.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::channel_session::ChannelSession;
use super::error::{json_kind, require_object, require_str, CimError};
use super::event::CimEvent;
use super::nullable::Nullable;
use super::participant::Participant;
use super::room::RoomInfo;
use super::string_enum::string_enum;

string_enum! {
    /// `mode` of an assistance request: a named agent or anyone from a queue.
    pub enum AssistanceMode {
        Agent = "agent",
        Queue = "queue",
    }
}

/// Payload of `directConferenceRequest` (and of `directTransferRequest`,
/// `consultTransferRequest`, `consultConferenceRequest`, which share it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectConferenceRequest {
    #[serde(rename = "channelSession")]
    pub channel_session: Box<ChannelSession>,
    /// The requesting agent's participant.
    #[serde(rename = "agentParticipant")]
    pub agent_participant: Participant,
    pub mode: AssistanceMode,
    /// For `mode: queue`.
    #[serde(
        rename = "queueName",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub queue_name: Nullable<String>,
    /// For `mode: agent`.
    #[serde(
        rename = "requestedAgentId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub requested_agent_id: Nullable<String>,
    /// True for `mode: agent`.
    #[serde(
        rename = "offerToAgent",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub offer_to_agent: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub note: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `directTransferRequest` payload.
pub type DirectTransferRequest = DirectConferenceRequest;
/// `consultTransferRequest` payload.
pub type ConsultTransferRequest = DirectConferenceRequest;
/// `consultConferenceRequest` payload.
pub type ConsultConferenceRequest = DirectConferenceRequest;

impl DirectConferenceRequest {
    /// Validates and reads a request: `channelSession` and `agentParticipant` objects,
    /// `mode` of `agent` or `queue`, then `queueName` (queue) or `requestedAgentId`
    /// (agent).
    pub fn from_value(value: &Value) -> Result<Self, CimError> {
        if !value.is_object() {
            return Err(CimError::invalid(
                "",
                format!("expected a request object, found {}", json_kind(value)),
            ));
        }
        require_object(value, "channelSession")?;
        require_str(value, "channelSession.id")?;
        require_object(value, "agentParticipant")?;
        require_str(value, "agentParticipant.id")?;
        match AssistanceMode::from(require_str(value, "mode")?) {
            AssistanceMode::Queue => {
                require_str(value, "queueName")?;
            }
            AssistanceMode::Agent => {
                require_str(value, "requestedAgentId")?;
            }
            AssistanceMode::Other(mode) => {
                return Err(CimError::invalid(
                    "mode",
                    format!("expected \"agent\" or \"queue\", found \"{mode}\""),
                ))
            }
        }
        DirectConferenceRequest::deserialize(value).map_err(|e| CimError::from_serde("", &e))
    }

    /// A request for anyone from `queue_name`.
    pub fn to_queue(
        channel_session: ChannelSession,
        agent_participant: Participant,
        queue_name: impl Into<String>,
        note: Option<String>,
    ) -> Self {
        DirectConferenceRequest {
            channel_session: Box::new(channel_session),
            agent_participant,
            mode: AssistanceMode::Queue,
            queue_name: queue_name.into().into(),
            requested_agent_id: Nullable::Absent,
            offer_to_agent: Nullable::Absent,
            note: note.map(Nullable::Value).unwrap_or_default(),
            extra: Map::new(),
        }
    }

    /// A request for the named agent (`offerToAgent: true`).
    pub fn to_agent(
        channel_session: ChannelSession,
        agent_participant: Participant,
        requested_agent_id: impl Into<String>,
        note: Option<String>,
    ) -> Self {
        DirectConferenceRequest {
            channel_session: Box::new(channel_session),
            agent_participant,
            mode: AssistanceMode::Agent,
            queue_name: Nullable::Absent,
            requested_agent_id: requested_agent_id.into().into(),
            offer_to_agent: true.into(),
            note: note.map(Nullable::Value).unwrap_or_default(),
            extra: Map::new(),
        }
    }
}

/// Payload of `closeWrapup`: `{cimEvent, agentId, conversationId, roomInfo}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloseWrapup {
    #[serde(rename = "cimEvent")]
    pub cim_event: CimEvent,
    #[serde(rename = "agentId")]
    pub agent_id: String,
    #[serde(rename = "conversationId")]
    pub conversation_id: String,
    #[serde(
        rename = "roomInfo",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub room_info: Nullable<RoomInfo>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CloseWrapup {
    /// Validates and reads a `closeWrapup` payload: `agentId`, `conversationId`, and a
    /// valid `cimEvent` (see [`CimEvent::from_value_at`]).
    pub fn from_value(value: &Value) -> Result<Self, CimError> {
        if !value.is_object() {
            return Err(CimError::invalid(
                "",
                format!("expected a request object, found {}", json_kind(value)),
            ));
        }
        require_str(value, "agentId")?;
        require_str(value, "conversationId")?;
        CimEvent::from_value_at(value.get("cimEvent").unwrap_or(&Value::Null), "cimEvent")?;
        CloseWrapup::deserialize(value).map_err(|e| CimError::from_serde("", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::channel_session::tests::started_session;
    use crate::cim::participant::ParticipantRole;
    use crate::cim::user::tests::agent1;
    use serde_json::json;

    fn requester() -> Participant {
        Participant::agent("p-1", agent1(), ParticipantRole::Primary, "conv-1", 1)
    }

    #[test]
    fn queue_request_round_trips_and_validates() {
        let request =
            DirectConferenceRequest::to_queue(started_session(), requester(), "Default", None);
        let value = serde_json::to_value(&request).unwrap();
        assert_eq!(value["mode"], json!("queue"));
        assert_eq!(value["queueName"], json!("Default"));
        assert!(value.get("note").is_none());
        assert_eq!(
            DirectConferenceRequest::from_value(&value).unwrap(),
            request
        );
    }

    #[test]
    fn agent_request_requires_the_agent_id() {
        let request = DirectConferenceRequest::to_agent(
            started_session(),
            requester(),
            "u-2",
            Some("pls".into()),
        );
        let mut value = serde_json::to_value(&request).unwrap();
        assert_eq!(value["offerToAgent"], json!(true));
        assert_eq!(value["note"], json!("pls"));
        value.as_object_mut().unwrap().remove("requestedAgentId");
        assert_eq!(
            DirectConferenceRequest::from_value(&value).unwrap_err(),
            CimError::missing("requestedAgentId")
        );
    }

    #[test]
    fn request_validation_names_fields() {
        let request =
            DirectConferenceRequest::to_queue(started_session(), requester(), "Default", None);
        let good = serde_json::to_value(&request).unwrap();
        let mut bad_mode = good.clone();
        bad_mode["mode"] = json!("team");
        assert_eq!(
            DirectConferenceRequest::from_value(&bad_mode)
                .unwrap_err()
                .path(),
            "mode"
        );
        let mut no_session = good.clone();
        no_session.as_object_mut().unwrap().remove("channelSession");
        assert_eq!(
            DirectConferenceRequest::from_value(&no_session).unwrap_err(),
            CimError::missing("channelSession")
        );
        let mut no_queue = good;
        no_queue["queueName"] = json!(null);
        assert_eq!(
            DirectConferenceRequest::from_value(&no_queue).unwrap_err(),
            CimError::missing("queueName")
        );
        assert!(DirectConferenceRequest::from_value(&json!("x")).is_err());
    }

    #[test]
    fn close_wrapup_validation_names_fields() {
        let raw = json!({
            "cimEvent": {"id": "e", "name": "AGENT_MESSAGE", "type": "MESSAGE", "timestamp": 1,
                "data": {"id": "m", "header": {"sender": {"id": "s", "type": "AGENT"}},
                         "body": {"type": "WRAPUP", "wrapups": [{"categoryName": "c", "value": "v"}], "note": null}}},
            "agentId": "u-1",
            "conversationId": "conv-1",
            "roomInfo": {"id": "r", "mode": "CONTACT_CENTER"}
        });
        let parsed = CloseWrapup::from_value(&raw).unwrap();
        assert_eq!(serde_json::to_value(&parsed).unwrap(), raw);
        let mut no_agent = raw.clone();
        no_agent.as_object_mut().unwrap().remove("agentId");
        assert_eq!(
            CloseWrapup::from_value(&no_agent).unwrap_err(),
            CimError::missing("agentId")
        );
        let mut bad_wrapup = raw;
        bad_wrapup["cimEvent"]["data"]["body"]["wrapups"][0]
            .as_object_mut()
            .unwrap()
            .remove("categoryName");
        assert_eq!(
            CloseWrapup::from_value(&bad_wrapup).unwrap_err(),
            CimError::missing("cimEvent.data.body.wrapups[0].categoryName")
        );
    }
}
