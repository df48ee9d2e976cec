//! Supervisor joins: `JoinAsSilentMonitor` (role SILENT_MONITOR: sees everything,
//! writes nothing, the customer sees nothing of it), `joinAsWhisper` (role WHISPER: a
//! monitor whose messages are WHISPER_MESSAGE to the agents only) — one monitor
//! (silent or whisper) per conversation — and `JoinAsBargin` (role ASSISTANT: the
//! supervisor becomes a participant the customer sees; at most four participants).
//! Only supervisors of a team of the conversation's agents (admins: any), and only on active
//! push-mode conversations. The conversation manager enforces what each role may write.

use super::payload::{non_empty_string, parse};
use super::DeskError;
use crate::agents::namespace::send_topic;
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::cim::{ConversationState, ParticipantRole};
use crate::store::users::Role;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// `JoinAsSilentMonitor` / `joinAsWhisper` / `JoinAsBargin` (and their spellings).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Join {
    #[serde(deserialize_with = "non_empty_string")]
    conversation_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Silent,
    Whisper,
    BargeIn,
}

pub(super) async fn join(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
    mode: Mode,
) -> Result<Value, DeskError> {
    if !session.is_supervisor() {
        return Err(DeskError::forbidden(
            "only supervisors may monitor conversations",
        ));
    }
    // Parsed after the role check, so a desk that may not monitor hears `forbidden`
    // whatever it sent.
    let Join { conversation_id } = parse(payload)?;
    let topic = manager.conversations().topic(&conversation_id).await?;
    if topic.conversation.state != ConversationState::Active {
        return Err(DeskError::new(
            "wrong_state",
            "only active conversations can be monitored",
        ));
    }
    let members = topic.conversation.agent_members();
    if members.iter().any(|(id, _)| id == session.agent_id()) {
        return Err(DeskError::new(
            "wrong_state",
            "the supervisor is already in this conversation",
        ));
    }
    let mut supervised = false;
    for (agent_id, role) in &members {
        if matches!(
            role,
            ParticipantRole::SilentMonitor | ParticipantRole::Whisper
        ) {
            if mode != Mode::BargeIn {
                return Err(DeskError::new(
                    "wrong_state",
                    "this conversation already has a monitor",
                ));
            }
            continue;
        }
        let id = agent_id.clone();
        let team = manager
            .routing()
            .query(move |core, _| core.agent(&id).and_then(|a| a.team))
            .await
            .flatten();
        // Admins oversee every agent, including agents with no team.
        supervised |=
            session.user.role == Role::Admin || team.is_some_and(|t| session.supervises(&t));
    }
    if !supervised {
        return Err(DeskError::forbidden(
            "the conversation's agents are not in a team this supervisor supervises",
        ));
    }
    let role = match mode {
        Mode::Silent => ParticipantRole::SilentMonitor,
        Mode::Whisper => ParticipantRole::Whisper,
        Mode::BargeIn => {
            let participants = topic
                .conversation
                .participants
                .iter()
                .filter(|p| p.is_active.get().copied().unwrap_or(true))
                .count();
            let max = manager.settings().max_participants;
            if participants >= max {
                return Err(DeskError::new(
                    "too_many_participants",
                    format!("a conversation has at most {max} participants"),
                ));
            }
            ParticipantRole::Assistant
        }
    };
    // Events the join publishes wait for onTopicData, which carries them.
    session.begin_replay(&conversation_id);
    if let Err(e) = manager
        .conversations()
        .agent_joined(&conversation_id, session.cc_user(), role)
        .await
    {
        session.end_replay(&conversation_id, 0);
        return Err(e.into());
    }
    send_topic(manager, session, &conversation_id, 0).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::handlers::payload::{assert_refused, not_strings};
    use serde_json::json;

    #[test]
    fn a_join_names_its_conversation_by_a_non_empty_string() {
        let valid = json!({"conversationId": "c1", "topicParticipant": {"role": "SILENT_MONITOR"}});
        assert_eq!(parse::<Join>(&valid).unwrap().conversation_id, "c1");
        assert_refused::<Join>(&valid, "conversationId", &not_strings());
        let err = parse::<Join>(&json!({})).unwrap_err();
        assert!(err.message.contains("conversationId"), "{}", err.message);
    }
}
