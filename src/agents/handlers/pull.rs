//! Pull mode: agents subscribe to lists, see their requests (UNREAD, ACTIVE,
//! INACTIVE, CLOSED), and join them — several agents at once if they like.

use super::payload::{blank_or_string, parse, present_string};
use super::{routing_call, DeskError};
use crate::agents::namespace::send_topic;
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::cim::ChannelSessionReasonCode;
use crate::routing::Input;
use crate::store::users::Role;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// `subscribePullModeList` / `unsubscribePullModeList`: `listId`, or plain `id` (a
/// desk may send the list object itself). Two fields rather than a serde alias, which
/// would refuse a payload carrying both: `listId` wins, as it always has.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRef {
    #[serde(default, deserialize_with = "present_string")]
    list_id: Option<String>,
    #[serde(default, deserialize_with = "blank_or_string")]
    id: Option<String>,
}

/// `joinPullModeRequest` / `deletePullModeRequest`: `requestId`, or plain `id` (a desk
/// may send the `PullRequest` it was shown, whose own `listId` is then ignored).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestRef {
    #[serde(default, deserialize_with = "present_string")]
    request_id: Option<String>,
    #[serde(default, deserialize_with = "blank_or_string")]
    id: Option<String>,
}

fn list_id(payload: &Value) -> Result<String, DeskError> {
    let ListRef { list_id, id } = parse(payload)?;
    list_id
        .or(id)
        .ok_or_else(|| DeskError::invalid("listId is required"))
}

fn request_id(payload: &Value) -> Result<String, DeskError> {
    let RequestRef { request_id, id } = parse(payload)?;
    request_id
        .or(id)
        .ok_or_else(|| DeskError::invalid("requestId is required"))
}

/// Subscribes (or unsubscribes) the desk's agent to the list the payload names.
pub(super) async fn subscribe(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    list_subscription(manager, session, payload, true).await
}

pub(super) async fn unsubscribe(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    list_subscription(manager, session, payload, false).await
}

async fn list_subscription(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
    subscribe: bool,
) -> Result<Value, DeskError> {
    let list_id = list_id(payload)?;
    let agent_id = session.agent_id().to_string();
    let input = if subscribe {
        Input::SubscribePullList {
            agent_id,
            list_id: list_id.clone(),
        }
    } else {
        Input::UnsubscribePullList {
            agent_id,
            list_id: list_id.clone(),
        }
    };
    routing_call(manager, input).await?;
    Ok(json!({"status": "ok", "listId": list_id}))
}

pub(super) async fn join(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let request_id = request_id(payload)?;
    let id = request_id.clone();
    let conversation_id = manager
        .routing()
        .query(move |core, _| core.pull_request(&id).map(|r| r.conversation_id.clone()))
        .await
        .flatten();
    // Events the join publishes wait for onTopicData, which carries them. The join
    // itself (routing's request and the conversation, PRIMARY when nobody is) is one
    // engine step; an unknown request is refused there with routing's own code.
    let followed = conversation_id
        .as_deref()
        .is_some_and(|id| session.follows(id));
    if let Some(id) = &conversation_id {
        session.begin_replay(id);
    }
    match manager
        .conversations()
        .join_pull(&request_id, session.cc_user())
        .await
    {
        Ok(joined) => send_topic(manager, session, &joined, 0).await,
        Err(e) => {
            match (&conversation_id, followed) {
                (Some(id), true) => session.end_replay(id, 0),
                (Some(id), false) => session.forget_topic(id),
                (None, _) => {}
            }
            Err(e.into())
        }
    }
}

pub(super) async fn delete(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let request_id = request_id(payload)?;
    let id = request_id.clone();
    let (joined, teams, conversation_id) = manager
        .routing()
        .query(move |core, _| {
            core.pull_request(&id).map(|r| {
                let teams: Vec<Option<String>> = r
                    .joined_agents
                    .iter()
                    .map(|a| core.agent(a).and_then(|v| v.team))
                    .collect();
                (r.joined_agents.clone(), teams, r.conversation_id.clone())
            })
        })
        .await
        .flatten()
        .ok_or_else(|| DeskError::new("not_found", format!("request {request_id} not found")))?;
    let in_request = joined.iter().any(|a| a == session.agent_id());
    // Deleting ends the chat: a supervisor may end one its teams' agents are in, or
    // one nobody joined (anyone's, as in the conversation lists).
    let overseen = session.is_supervisor()
        && teams.iter().all(|team| match team {
            Some(team) => session.supervises(team),
            None => session.user.role == Role::Admin,
        });
    if !in_request && !overseen {
        return Err(DeskError::forbidden(
            "only an agent in the request, or a supervisor of its agents' teams, may end it",
        ));
    }
    // Seed 002: deleting the request "ends the chat": the customer's session ends (by
    // the agent, or force-closed by a supervisor), its agents go to wrap-up, and the
    // closed conversation's request leaves its list.
    let customer_session = match manager
        .conversations()
        .topic(&conversation_id)
        .await
        .map_err(DeskError::from)
    {
        Ok(topic) => topic
            .conversation
            .channel_session
            .get()
            .map(|s| s.id.clone()),
        // Closed already: there is no chat left to end.
        Err(e)
            if matches!(
                e.code,
                "unknown_conversation" | "conversation_closed" | "not_found"
            ) =>
        {
            None
        }
        Err(other) => return Err(other),
    };
    if let Some(session_id) = customer_session {
        let reason = match in_request {
            true => ChannelSessionReasonCode::Agent,
            false => ChannelSessionReasonCode::ForceClosed,
        };
        let ended = manager
            .conversations()
            .customer_left(&session_id, reason)
            .await
            .map_err(DeskError::from);
        match ended {
            // The customer left before: the chat is over already.
            Err(e) if matches!(e.code, "channel_session_ended" | "unknown_channel_session") => {}
            other => {
                other?;
            }
        }
    }
    let deleted = routing_call(
        manager,
        Input::DeletePullRequest {
            request_id: request_id.clone(),
        },
    )
    .await;
    match deleted {
        // Gone already: its conversation closed at once (nobody was in it).
        Err(e) if e.code == "unknown_pull_request" => {}
        other => {
            other?;
        }
    }
    Ok(json!({"status": "ok", "requestId": request_id}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::handlers::payload::{assert_refused, not_blank_or_strings, not_strings};
    use serde_json::json;

    #[test]
    fn a_list_is_named_by_list_id_or_id_and_list_id_wins() {
        assert_eq!(list_id(&json!({"listId": "L1", "x": 1})).unwrap(), "L1");
        assert_eq!(list_id(&json!({"id": "L2"})).unwrap(), "L2");
        assert_eq!(list_id(&json!({"listId": "L1", "id": "R9"})).unwrap(), "L1");
        let err = list_id(&json!({"name": "L1"})).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            ("invalid_payload", "listId is required")
        );
        assert_refused::<ListRef>(&json!({"listId": "L1"}), "listId", &not_strings());
        assert_refused::<ListRef>(&json!({"id": "L1"}), "id", &not_blank_or_strings());
    }

    #[test]
    fn a_request_is_named_by_request_id_or_id_and_request_id_wins() {
        assert_eq!(request_id(&json!({"requestId": "R1"})).unwrap(), "R1");
        // The PullRequest object itself, as the desk was shown it.
        let shown = json!({"id": "R2", "listId": "L1", "state": "UNREAD", "joinedAgents": []});
        assert_eq!(request_id(&shown).unwrap(), "R2");
        assert_eq!(
            request_id(&json!({"requestId": "R1", "id": "R2"})).unwrap(),
            "R1"
        );
        let err = request_id(&json!({})).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            ("invalid_payload", "requestId is required")
        );
        assert_refused::<RequestRef>(&json!({"requestId": "R1"}), "requestId", &not_strings());
        assert_refused::<RequestRef>(&json!({"id": "R1"}), "id", &not_blank_or_strings());
    }
}
