//! `topicSubscription` (accept an offered task, or resubscribe with `lastSeq`
//! after a reconnect) and `topicUnsubscription` (leave, with wrap-up).

use super::payload::{blank_or_string, non_empty_string, parse};
use super::DeskError;
use crate::agents::namespace::send_topic;
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::conversation::handle::Subscription;
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

pub(super) async fn subscribe(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let TopicSubscription {
        conversation_id,
        last_seq,
    } = parse(payload)?;
    // What accepting publishes (AGENT_SUBSCRIBED, ...) waits for onTopicData, which
    // carries it, so the desk gets no event before the topic nor one twice. An offer
    // is always accepted, even by an agent still in the conversation (in wrap-up,
    // say): answering with the topic alone would leave the task RESERVED.
    let followed = session.follows(&conversation_id);
    session.begin_replay(&conversation_id);
    let subscribed = manager
        .conversations()
        .subscribe(&conversation_id, session.cc_user())
        .await;
    // An assistance request's requester was told in the accept's own step; a direct
    // transfer's requester that left gets `topicClosed`, which ends its topic.
    match subscribed {
        Ok(Subscription::Accepted | Subscription::AlreadyIn) => {}
        Err(e) => {
            // A refusal leaves no trace of a conversation the desk did not follow.
            match followed {
                true => session.end_replay(&conversation_id, 0),
                false => session.forget_topic(&conversation_id),
            }
            return Err(e.into());
        }
    }
    send_topic(manager, session, &conversation_id, last_seq.unwrap_or(0)).await
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
    // One engine step: a consult transfer the agent was consulted for completes (the
    // consulted agent becomes PRIMARY, the original task ends TRANSFERRED), then the
    // agent leaves and its routing task ends or goes to wrap-up.
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
