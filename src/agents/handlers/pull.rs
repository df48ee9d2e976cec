//! Pull mode: agents subscribe to lists, see their requests (UNREAD, ACTIVE,
//! INACTIVE, CLOSED), and join them — several agents at once if they like.

use super::{routing_call, DeskError};
use crate::agents::namespace::send_topic;
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::cim::ParticipantRole;
use crate::routing::{Effect, Input};
use serde_json::{json, Value};
use std::sync::Arc;

/// The id a pull-mode request names as `field` (or plain `id`).
fn id_of(payload: &Value, field: &str) -> Result<String, DeskError> {
    payload
        .get(field)
        .or_else(|| payload.get("id"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| DeskError::invalid(format!("{field} is required")))
}

fn list_id(payload: &Value) -> Result<String, DeskError> {
    id_of(payload, "listId")
}

fn request_id(payload: &Value) -> Result<String, DeskError> {
    id_of(payload, "requestId")
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
    let effects = routing_call(
        manager,
        Input::JoinPullRequest {
            agent_id: session.agent_id().to_string(),
            request_id: request_id.clone(),
        },
    )
    .await?;
    let conversation_id = effects
        .iter()
        .find_map(|e| match e {
            Effect::PullRequestJoined { request, .. } => Some(request.conversation_id.clone()),
            _ => None,
        })
        .ok_or_else(|| DeskError::new("wrong_state", "the request could not be joined"))?;
    let role = {
        let topic = manager.conversations().topic(&conversation_id).await?;
        if topic.conversation.primary_agent().is_some() {
            ParticipantRole::Assistant
        } else {
            ParticipantRole::Primary
        }
    };
    // Events the join publishes wait for onTopicData, which carries them.
    session.begin_replay(&conversation_id);
    if let Err(e) = manager
        .conversations()
        .agent_joined(&conversation_id, session.cc_user(), role, None)
        .await
    {
        session.end_replay(&conversation_id, 0);
        return Err(e.into());
    }
    send_topic(manager, session, &conversation_id, 0).await
}

pub(super) async fn delete(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let request_id = request_id(payload)?;
    let id = request_id.clone();
    let joined = manager
        .routing()
        .query(move |core, _| core.pull_request(&id).map(|r| r.joined_agents.clone()))
        .await
        .flatten()
        .ok_or_else(|| DeskError::new("not_found", format!("request {request_id} not found")))?;
    if !joined.iter().any(|a| a == session.agent_id()) && !session.is_supervisor() {
        return Err(DeskError::forbidden(
            "only an agent in the request (or a supervisor) may end it",
        ));
    }
    routing_call(
        manager,
        Input::DeletePullRequest {
            request_id: request_id.clone(),
        },
    )
    .await?;
    Ok(json!({"status": "ok", "requestId": request_id}))
}
