//! `topicSubscription` (accept an offered task, or resubscribe with `lastSeq`
//! after a reconnect) and `topicUnsubscription` (leave, with wrap-up).

use super::payload::{blank_or_string, non_empty_string, parse};
use super::{agent_tasks_in, routing_call, DeskError};
use crate::agents::namespace::send_topic;
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::cim::{Conversation, ParticipantRole};
use crate::routing::{Disposition, Input, MediaState, Task};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// `topicSubscription`. Other fields (`topicParticipant`, ...) are ignored: the role
/// given follows from the kind of task.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicSubscription {
    #[serde(deserialize_with = "non_empty_string")]
    conversation_id: String,
    /// Absent or `null` is 0 (everything), as desks without a seq yet send it.
    #[serde(default)]
    last_seq: Option<u64>,
}

/// `topicUnsubscription`: `agentId`, if given, must name the connected agent; a
/// `null` or `""` `agentId` or `reason` is none.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicUnsubscription {
    #[serde(deserialize_with = "non_empty_string")]
    conversation_id: String,
    #[serde(default, deserialize_with = "blank_or_string")]
    agent_id: Option<String>,
    #[serde(default, deserialize_with = "blank_or_string")]
    reason: Option<String>,
}

/// User ids of the agents (and monitors) currently in a conversation, with roles.
pub(crate) fn agent_members(conversation: &Conversation) -> Vec<(String, ParticipantRole)> {
    conversation
        .agents()
        .filter(|p| p.is_active.get().copied().unwrap_or(true))
        .filter_map(|p| p.as_cc_user().map(|u| (u.id.clone(), p.role.clone())))
        .collect()
}

pub(super) async fn subscribe(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let TopicSubscription {
        conversation_id,
        last_seq,
    } = parse(payload)?;
    let last_seq = last_seq.unwrap_or(0);
    let agent_id = session.agent_id().to_string();
    let topic = manager.conversations().topic(&conversation_id).await?;
    let already_in = agent_members(&topic.conversation)
        .iter()
        .any(|(id, _)| *id == agent_id);
    // An offer is always accepted, even by an agent still in the conversation (in
    // wrap-up, say): answering with the topic alone would leave the task RESERVED.
    let offered = agent_tasks_in(manager, &agent_id, &conversation_id)
        .await
        .into_iter()
        .find(|t| t.media.state == MediaState::Reserved);
    if let Some(task) = offered {
        // What accepting publishes (AGENT_SUBSCRIBED, ...) waits for onTopicData,
        // which carries it, so the desk gets no event before the topic nor one twice.
        session.begin_replay(&conversation_id);
        if let Err(e) = accept(manager, session, &task).await {
            session.end_replay(&conversation_id, 0);
            return Err(e);
        }
    } else if !already_in {
        return Err(DeskError::new(
            "no_task",
            format!("no task of conversation {conversation_id} is offered to this agent"),
        ));
    }
    send_topic(manager, session, &conversation_id, last_seq).await
}

/// Accepts a reserved task: routing marks it ACTIVE, the agent joins the conversation
/// with the role its kind of request gives, and transfers complete.
async fn accept(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    task: &Task,
) -> Result<(), DeskError> {
    let agent_id = session.agent_id().to_string();
    let effects = routing_call(
        manager,
        Input::AcceptTask {
            agent_id: agent_id.clone(),
            task_id: task.id.clone(),
        },
    )
    .await?;
    // Accepting an offer reports the now ACTIVE task as a state change.
    let accepted = effects
        .iter()
        .find_map(|e| match e {
            crate::routing::Effect::TaskAssigned { task: t, .. }
            | crate::routing::Effect::TaskStateChanged { task: t }
                if t.id == task.id =>
            {
                Some(t.clone())
            }
            _ => None,
        })
        .map(|t| (*t).clone())
        .unwrap_or_else(|| task.clone());
    let role = crate::site::role_for(accepted.media.direction);
    let joined = manager
        .conversations()
        .agent_joined(
            &task.conversation_id,
            session.cc_user(),
            role,
            Some(accepted.to_cim()),
        )
        .await;
    if let Err(e) = joined {
        // The conversation is gone or closed: give the task back rather than hold it.
        manager.routing().send(Input::CloseTask {
            task_id: task.id.clone(),
            disposition: Disposition::Cancelled,
        });
        return Err(e.into());
    }
    super::assist::on_accepted(manager, session, &accepted).await;
    Ok(())
}

pub(super) async fn unsubscribe(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let TopicUnsubscription {
        conversation_id,
        agent_id: named,
        reason,
    } = parse(payload)?;
    let agent_id = session.agent_id().to_string();
    if named.is_some_and(|other| other != agent_id) {
        return Err(DeskError::forbidden(
            "an agent may only unsubscribe itself from a topic",
        ));
    }
    let reason = reason.unwrap_or_else(|| "AGENT_LEFT".to_string());
    complete_consult_transfer(manager, &agent_id, &conversation_id).await;
    // The conversation manager ends (or wraps up) the agent's routing task itself.
    manager
        .conversations()
        .agent_left(&conversation_id, &agent_id, &reason)
        .await?;
    session.forget_topic(&conversation_id);
    let answer = json!({
        "conversationId": conversation_id,
        "agentId": agent_id,
        "reason": reason,
        "status": "success",
    });
    session.emit("topicUnsubscription", answer.clone());
    Ok(answer)
}

/// A consulting agent leaving hands the conversation to the agent it consulted for
/// a transfer: that agent becomes PRIMARY and the original task ends TRANSFERRED.
async fn complete_consult_transfer(manager: &AgentManager, agent_id: &str, conversation_id: &str) {
    let (agent, conversation) = (agent_id.to_string(), conversation_id.to_string());
    let consults = manager
        .routing()
        .query(move |core, _| crate::site::consult_transfers(core, &agent, &conversation))
        .await
        .unwrap_or_default();
    for (original_task_id, consult) in consults {
        manager.routing().send(Input::CompleteTransfer {
            original_task_id,
            new_task_id: consult.id.clone(),
        });
        if let Some(new_primary) = consult.assigned_to.as_deref() {
            if let Err(e) = manager
                .conversations()
                .change_role(conversation_id, new_primary, ParticipantRole::Primary)
                .await
            {
                tracing::warn!(error = %e, "consulted agent could not become PRIMARY");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::handlers::payload::{assert_refused, not_blank_or_strings, not_strings};
    use serde_json::json;

    #[test]
    fn subscription_needs_a_conversation_and_a_non_negative_last_seq() {
        let valid = json!({"conversationId": "c1", "lastSeq": 7, "topicParticipant": {"x": 1}});
        let ok: TopicSubscription = parse(&valid).unwrap();
        assert_eq!((ok.conversation_id.as_str(), ok.last_seq), ("c1", Some(7)));
        for absent in [
            json!({"conversationId": "c1"}),
            json!({"conversationId": "c1", "lastSeq": null}),
        ] {
            assert_eq!(parse::<TopicSubscription>(&absent).unwrap().last_seq, None);
        }
        assert_refused::<TopicSubscription>(&valid, "conversationId", &not_strings());
        let not_seqs = [
            json!(-1),
            json!(1.5),
            json!("3"),
            json!(true),
            json!([1]),
            json!({}),
        ];
        assert_refused::<TopicSubscription>(&valid, "lastSeq", &not_seqs);
        let err = parse::<TopicSubscription>(&json!({"lastSeq": 1})).unwrap_err();
        assert_eq!(err.code, "invalid_payload");
        assert!(err.message.contains("conversationId"), "{}", err.message);
    }

    #[test]
    fn unsubscription_optional_fields_may_be_absent_but_not_of_the_wrong_type() {
        let ok: TopicUnsubscription =
            parse(&json!({"conversationId": "c1", "extra": [1]})).unwrap();
        assert_eq!((ok.agent_id, ok.reason), (None, None));
        let valid = json!({"conversationId": "c1", "agentId": "a1", "reason": "SUPERVISOR_LEFT"});
        let ok: TopicUnsubscription = parse(&valid).unwrap();
        assert_eq!(ok.agent_id.as_deref(), Some("a1"));
        assert_eq!(ok.reason.as_deref(), Some("SUPERVISOR_LEFT"));
        assert_refused::<TopicUnsubscription>(&valid, "conversationId", &not_strings());
        for field in ["agentId", "reason"] {
            assert_refused::<TopicUnsubscription>(&valid, field, &not_blank_or_strings());
            for blank in [json!(null), json!("")] {
                let mut probe = valid.clone();
                probe[field] = blank;
                parse::<TopicUnsubscription>(&probe).expect("a blank optional field is none");
            }
        }
    }
}
