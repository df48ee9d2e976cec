//! The actions a studio flow answers with, and reading them from an external flow's
//! JSON answer (naming the bad field on error).

use serde_json::{json, Map, Value};

use crate::cim::{
    json_kind, ChannelSessionReasonCode, CimError, ConversationDataEntry, ConversationDataType,
    Nullable, ParticipantRole,
};

/// FIND_AGENT `{queue, priority, lastAgentId, offerToAgent, requestType}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FindAgentAction {
    /// Queue id or name; `None`: the channel's routing queue.
    pub queue: Option<String>,
    pub priority: Option<i64>,
    pub last_agent_id: Option<String>,
    pub offer_to_agent: bool,
    pub request_type: Option<String>,
}

/// ASSIGN_BOT `{botId, name, botType, uri, role}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignBotAction {
    pub bot_id: String,
    pub name: Option<String>,
    pub bot_type: Option<String>,
    pub uri: Option<String>,
    pub role: ParticipantRole,
}

/// What a flow asks the conversation manager to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    FindAgent(FindAgentAction),
    AssignBot(AssignBotAction),
    /// `{botId}`; without an id every bot leaves.
    RevokeBot {
        bot_id: Option<String>,
    },
    /// `{participantId, role}` (`agentId` is accepted for agents).
    ChangeParticipantRole {
        participant_id: String,
        role: ParticipantRole,
    },
    /// `{reason}`.
    RemoveAllAgents {
        reason: Option<String>,
    },
    /// `{channelSessionId, reason}`; without an id every session of the customer.
    RemoveChannelSession {
        channel_session_id: Option<String>,
        reason: Option<ChannelSessionReasonCode>,
    },
    /// `{reason}`: the reason the customer's sessions are closed with.
    EndConversation {
        reason: Option<ChannelSessionReasonCode>,
    },
    /// `{conversationData: [{key, value, type}] | {key: value}}`.
    UpdateConversationData {
        entries: Vec<ConversationDataEntry>,
    },
    /// `{text}`: a message to the customer.
    SendMessage {
        text: String,
    },
    /// Switchboard extension: put the conversation on hold, `{durationSecs}`.
    HoldConversation {
        duration_secs: Option<u64>,
    },
    /// Switchboard extension: end the hold.
    ResumeConversation,
}

/// Serde in the `{type, data}` shape a flow answers with (the input journal's form).
impl serde::Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Action::from_value(&value, "action").map_err(serde::de::Error::custom)
    }
}

impl Action {
    /// The wire name (`type`).
    pub fn name(&self) -> &'static str {
        match self {
            Action::FindAgent(_) => "FIND_AGENT",
            Action::AssignBot(_) => "ASSIGN_BOT",
            Action::RevokeBot { .. } => "REVOKE_BOT",
            Action::ChangeParticipantRole { .. } => "CHANGE_PARTICIPANT_ROLE",
            Action::RemoveAllAgents { .. } => "REMOVE_ALL_AGENTS",
            Action::RemoveChannelSession { .. } => "REMOVE_CHANNEL_SESSION",
            Action::EndConversation { .. } => "END_CONVERSATION",
            Action::UpdateConversationData { .. } => "UPDATE_CONVERSATION_DATA",
            Action::SendMessage { .. } => "SEND_MESSAGE",
            Action::HoldConversation { .. } => "HOLD_CONVERSATION",
            Action::ResumeConversation => "RESUME_CONVERSATION",
        }
    }

    /// Every action name [`Action::from_value`] accepts.
    pub const NAMES: &'static [&'static str] = &[
        "FIND_AGENT",
        "ASSIGN_BOT",
        "REVOKE_BOT",
        "CHANGE_PARTICIPANT_ROLE",
        "REMOVE_ALL_AGENTS",
        "REMOVE_CHANNEL_SESSION",
        "END_CONVERSATION",
        "UPDATE_CONVERSATION_DATA",
        "SEND_MESSAGE",
        "HOLD_CONVERSATION",
        "RESUME_CONVERSATION",
    ];

    /// The action as `{type, data}`, the shape [`Action::from_value`] reads.
    pub fn to_value(&self) -> Value {
        let data = match self {
            Action::FindAgent(f) => json!({
                "queue": f.queue, "priority": f.priority, "lastAgentId": f.last_agent_id,
                "offerToAgent": f.offer_to_agent, "requestType": f.request_type,
            }),
            Action::AssignBot(b) => json!({
                "botId": b.bot_id, "name": b.name, "botType": b.bot_type, "uri": b.uri,
                "role": b.role.as_str(),
            }),
            Action::RevokeBot { bot_id } => json!({ "botId": bot_id }),
            Action::ChangeParticipantRole {
                participant_id,
                role,
            } => json!({ "participantId": participant_id, "role": role.as_str() }),
            Action::RemoveAllAgents { reason } => json!({ "reason": reason }),
            Action::RemoveChannelSession {
                channel_session_id,
                reason,
            } => json!({
                "channelSessionId": channel_session_id,
                "reason": reason.as_ref().map(|r| r.as_str()),
            }),
            Action::EndConversation { reason } => {
                json!({ "reason": reason.as_ref().map(|r| r.as_str()) })
            }
            Action::UpdateConversationData { entries } => json!({ "conversationData": entries }),
            Action::SendMessage { text } => json!({ "text": text }),
            Action::HoldConversation { duration_secs } => json!({ "durationSecs": duration_secs }),
            Action::ResumeConversation => json!({}),
        };
        json!({ "type": self.name(), "data": data })
    }

    /// Reads one action found at `path`: an object whose `type` (or `name`, or
    /// `action`) names it and whose fields sit under `data` or beside the name.
    pub fn from_value(value: &Value, path: &str) -> Result<Action, CimError> {
        let object = value.as_object().ok_or_else(|| {
            CimError::invalid(
                path,
                format!("expected an action object, found {}", json_kind(value)),
            )
        })?;
        let name_key = ["type", "name", "action"]
            .into_iter()
            .find(|k| object.get(*k).is_some_and(|v| !v.is_null()));
        let name_key = name_key.ok_or_else(|| CimError::missing(join(path, "type")))?;
        let name = object
            .get(name_key)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                CimError::invalid(join(path, name_key), "expected an action name string")
            })?;
        let (fields, base) = match object.get("data") {
            Some(Value::Object(data)) => (data, join(path, "data")),
            Some(Value::Null) | None => (object, path.to_owned()),
            Some(other) => {
                return Err(CimError::invalid(
                    join(path, "data"),
                    format!("expected an object, found {}", json_kind(other)),
                ))
            }
        };
        let f = Fields {
            map: fields,
            base: &base,
        };
        Ok(match name.to_ascii_uppercase().as_str() {
            "FIND_AGENT" => Action::FindAgent(FindAgentAction {
                queue: f.opt_str("queue")?,
                priority: f.opt_i64("priority")?,
                last_agent_id: f.opt_str("lastAgentId")?,
                offer_to_agent: f.opt_bool("offerToAgent")?.unwrap_or(false),
                request_type: f.opt_str("requestType")?,
            }),
            "ASSIGN_BOT" => Action::AssignBot(AssignBotAction {
                bot_id: f.req_str("botId")?,
                name: f.opt_str("name")?,
                bot_type: f.opt_str("botType")?,
                uri: f.opt_str("uri")?,
                role: match f.opt_str("role")? {
                    Some(role) => bot_role(&role, &f.path("role"))?,
                    None => ParticipantRole::Assistant,
                },
            }),
            "REVOKE_BOT" => Action::RevokeBot {
                bot_id: f.opt_str("botId")?,
            },
            "CHANGE_PARTICIPANT_ROLE" => Action::ChangeParticipantRole {
                participant_id: match f.opt_str("participantId")? {
                    Some(id) => id,
                    None => f
                        .opt_str("agentId")?
                        .ok_or_else(|| CimError::missing(f.path("participantId")))?,
                },
                role: ParticipantRole::from(f.req_str("role")?),
            },
            "REMOVE_ALL_AGENTS" => Action::RemoveAllAgents {
                reason: f.opt_str("reason")?,
            },
            "REMOVE_CHANNEL_SESSION" => Action::RemoveChannelSession {
                channel_session_id: f.opt_str("channelSessionId")?,
                reason: f.opt_str("reason")?.map(ChannelSessionReasonCode::from),
            },
            "END_CONVERSATION" => Action::EndConversation {
                reason: f.opt_str("reason")?.map(ChannelSessionReasonCode::from),
            },
            "UPDATE_CONVERSATION_DATA" => Action::UpdateConversationData {
                entries: f.conversation_data()?,
            },
            "SEND_MESSAGE" => Action::SendMessage {
                text: match f.opt_str("text")? {
                    Some(text) => text,
                    None => f
                        .opt_str("markdownText")?
                        .ok_or_else(|| CimError::missing(f.path("text")))?,
                },
            },
            "HOLD_CONVERSATION" => Action::HoldConversation {
                duration_secs: f
                    .opt_i64("durationSecs")?
                    .map(|secs| {
                        u64::try_from(secs).map_err(|_| {
                            CimError::invalid(f.path("durationSecs"), "must not be negative")
                        })
                    })
                    .transpose()?,
            },
            "RESUME_CONVERSATION" => Action::ResumeConversation,
            _ => {
                return Err(CimError::invalid(
                    join(path, name_key),
                    format!(
                        "unknown action `{name}`; expected one of {}",
                        Action::NAMES.join(", ")
                    ),
                ))
            }
        })
    }
}

/// Reads an external flow's answer: an array of actions, `{actions: [...]}`, a single
/// action object, or nothing (`null`, `{}`, `[]`: no actions).
pub fn parse_actions(answer: &Value) -> Result<Vec<Action>, CimError> {
    let (list, base) = match answer {
        Value::Null => return Ok(Vec::new()),
        Value::Array(list) => (list, String::new()),
        Value::Object(map) if map.is_empty() => return Ok(Vec::new()),
        Value::Object(map) => match map.get("actions") {
            Some(Value::Array(list)) => (list, "actions".to_owned()),
            Some(other) => {
                return Err(CimError::invalid(
                    "actions",
                    format!("expected an array, found {}", json_kind(other)),
                ))
            }
            None => return Action::from_value(answer, "").map(|a| vec![a]),
        },
        other => {
            return Err(CimError::invalid(
                "",
                format!("expected a list of actions, found {}", json_kind(other)),
            ))
        }
    };
    list.iter()
        .enumerate()
        .map(|(i, v)| Action::from_value(v, &format!("{base}[{i}]")))
        .collect()
}

fn bot_role(role: &str, path: &str) -> Result<ParticipantRole, CimError> {
    match ParticipantRole::from(role) {
        role @ (ParticipantRole::Primary | ParticipantRole::Assistant) => Ok(role),
        other => Err(CimError::invalid(
            path,
            format!("a bot can be PRIMARY or ASSISTANT, not {other}"),
        )),
    }
}

fn join(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_owned()
    } else {
        format!("{base}.{field}")
    }
}

/// Typed reads of an action's fields, with errors naming the full path.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    base: &'a str,
}

impl Fields<'_> {
    fn path(&self, key: &str) -> String {
        join(self.base, key)
    }

    fn opt_str(&self, key: &str) -> Result<Option<String>, CimError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(CimError::invalid(
                self.path(key),
                format!("expected a string, found {}", json_kind(other)),
            )),
        }
    }

    fn req_str(&self, key: &str) -> Result<String, CimError> {
        self.opt_str(key)?
            .ok_or_else(|| CimError::missing(self.path(key)))
    }

    fn opt_i64(&self, key: &str) -> Result<Option<i64>, CimError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| CimError::invalid(self.path(key), "expected a whole number")),
            Some(other) => Err(CimError::invalid(
                self.path(key),
                format!("expected a number, found {}", json_kind(other)),
            )),
        }
    }

    fn opt_bool(&self, key: &str) -> Result<Option<bool>, CimError> {
        match self.map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(CimError::invalid(
                self.path(key),
                format!("expected a boolean, found {}", json_kind(other)),
            )),
        }
    }

    fn conversation_data(&self) -> Result<Vec<ConversationDataEntry>, CimError> {
        let key = "conversationData";
        let path = self.path(key);
        match self.map.get(key) {
            None | Some(Value::Null) => Err(CimError::missing(path)),
            Some(Value::Object(pairs)) => Ok(pairs
                .iter()
                .map(|(k, v)| data_entry(k, None, v.clone()))
                .collect()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let at = format!("{path}[{i}]");
                    let obj = item.as_object().ok_or_else(|| {
                        CimError::invalid(
                            &at,
                            format!("expected an object, found {}", json_kind(item)),
                        )
                    })?;
                    let entry_key = match obj.get("key") {
                        Some(Value::String(k)) if !k.trim().is_empty() => k.clone(),
                        Some(Value::String(_)) | Some(Value::Null) | None => {
                            return Err(CimError::missing(format!("{at}.key")))
                        }
                        Some(other) => {
                            return Err(CimError::invalid(
                                format!("{at}.key"),
                                format!("expected a string, found {}", json_kind(other)),
                            ))
                        }
                    };
                    let data_type = match obj.get("type") {
                        None | Some(Value::Null) => None,
                        Some(Value::String(t)) => Some(ConversationDataType::from(t.as_str())),
                        Some(other) => {
                            return Err(CimError::invalid(
                                format!("{at}.type"),
                                format!("expected a string, found {}", json_kind(other)),
                            ))
                        }
                    };
                    let value = obj.get("value").cloned().unwrap_or(Value::Null);
                    Ok(data_entry(&entry_key, data_type, value))
                })
                .collect(),
            Some(other) => Err(CimError::invalid(
                path,
                format!("expected an array or an object, found {}", json_kind(other)),
            )),
        }
    }
}

fn data_entry(
    key: &str,
    data_type: Option<ConversationDataType>,
    value: Value,
) -> ConversationDataEntry {
    let data_type = data_type.unwrap_or_else(|| match &value {
        Value::Bool(_) => ConversationDataType::Boolean,
        Value::Number(n) if n.is_i64() || n.is_u64() => ConversationDataType::Int,
        Value::Number(_) => ConversationDataType::Double,
        Value::Object(_) | Value::Array(_) => ConversationDataType::Object,
        Value::String(_) | Value::Null => ConversationDataType::String,
    });
    ConversationDataEntry {
        data_type,
        key: key.to_owned(),
        value: match value {
            Value::Null => Nullable::Null,
            other => Nullable::Value(other),
        },
        extra: Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse_from_every_accepted_shape() {
        let list = json!([
            {"type": "FIND_AGENT", "data": {"queue": "q-1", "priority": 3, "offerToAgent": false}},
            {"type": "SEND_MESSAGE", "text": "hello"},
            {"name": "REMOVE_ALL_AGENTS", "data": {"reason": "SLA_EXPIRED"}},
            {"action": "END_CONVERSATION"},
            {"type": "UPDATE_CONVERSATION_DATA", "data": {"conversationData": {"tier": "gold", "n": 2}}},
            {"type": "ASSIGN_BOT", "data": {"botId": "b-1", "role": "PRIMARY"}},
            {"type": "CHANGE_PARTICIPANT_ROLE", "data": {"agentId": "a-1", "role": "ASSISTANT"}},
        ]);
        let actions = parse_actions(&list).unwrap();
        assert_eq!(actions.len(), 7);
        assert_eq!(
            actions[0],
            Action::FindAgent(FindAgentAction {
                queue: Some("q-1".into()),
                priority: Some(3),
                ..FindAgentAction::default()
            })
        );
        assert_eq!(
            actions[1],
            Action::SendMessage {
                text: "hello".into()
            }
        );
        assert_eq!(actions[3], Action::EndConversation { reason: None });
        match &actions[4] {
            Action::UpdateConversationData { entries } => {
                assert_eq!(entries[0].data_type, ConversationDataType::String);
                assert_eq!(entries[1].data_type, ConversationDataType::Int);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            parse_actions(&json!({"actions": [{"type": "RESUME_CONVERSATION"}]})).unwrap(),
            vec![Action::ResumeConversation]
        );
        assert!(parse_actions(&json!(null)).unwrap().is_empty());
        assert!(parse_actions(&json!({})).unwrap().is_empty());
    }

    #[test]
    fn every_action_round_trips_through_its_json() {
        let actions = vec![
            Action::FindAgent(FindAgentAction {
                queue: Some("q".into()),
                priority: Some(2),
                last_agent_id: Some("a".into()),
                offer_to_agent: true,
                request_type: Some("CHAT".into()),
            }),
            Action::AssignBot(AssignBotAction {
                bot_id: "b".into(),
                name: Some("rasa".into()),
                bot_type: Some("RASA".into()),
                uri: None,
                role: ParticipantRole::Primary,
            }),
            Action::RevokeBot { bot_id: None },
            Action::ChangeParticipantRole {
                participant_id: "p".into(),
                role: ParticipantRole::Assistant,
            },
            Action::RemoveAllAgents { reason: None },
            Action::RemoveChannelSession {
                channel_session_id: Some("cs".into()),
                reason: Some(ChannelSessionReasonCode::Agent),
            },
            Action::EndConversation {
                reason: Some(ChannelSessionReasonCode::ForceClosed),
            },
            Action::UpdateConversationData {
                entries: vec![data_entry("k", None, json!(true))],
            },
            Action::SendMessage { text: "t".into() },
            Action::HoldConversation {
                duration_secs: Some(30),
            },
            Action::ResumeConversation,
        ];
        for action in actions {
            let value = action.to_value();
            assert_eq!(Action::from_value(&value, "a").unwrap(), action, "{value}");
        }
    }

    #[test]
    fn parse_errors_name_the_field() {
        let err = parse_actions(&json!([{"type": "SEND_MESSAGE"}])).unwrap_err();
        assert_eq!(err, CimError::missing("[0].text"));
        let err = parse_actions(&json!([{}, {"type": "FLY"}])).unwrap_err();
        assert_eq!(err, CimError::missing("[0].type"));
        let err = parse_actions(&json!({"actions": [{"type": "FLY"}]})).unwrap_err();
        assert_eq!(err.path(), "actions[0].type");
        assert!(err.to_string().contains("unknown action `FLY`"), "{err}");
        let err = parse_actions(&json!([{"type": "FIND_AGENT", "data": {"priority": "high"}}]))
            .unwrap_err();
        assert_eq!(err.path(), "[0].data.priority");
        let err = parse_actions(&json!([{"type": "ASSIGN_BOT", "botId": "b", "role": "WRAP_UP"}]))
            .unwrap_err();
        assert_eq!(err.path(), "[0].role");
        let err = parse_actions(&json!("FIND_AGENT")).unwrap_err();
        assert!(err.to_string().contains("expected a list of actions"));
        let err = parse_actions(&json!([{"type": "UPDATE_CONVERSATION_DATA", "data": {"conversationData": [{"value": 1}]}}]))
            .unwrap_err();
        assert_eq!(err, CimError::missing("[0].data.conversationData[0].key"));
    }
}
