//! The supervisor actions a console sends on `/supervisor`, each a typed payload
//! checked on the server: supervisors act only on agents of the teams they
//! supervise, admins on every agent. Force logout, set NOT_READY with a reason,
//! flush a queue, move a waiting chat to another queue, offer a waiting chat to a
//! named agent.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::agents::AgentManager;
use crate::routing::{Direction, Effect, Input, MediaState, RequestedAgentState, RoutingError};
use crate::sessions::{Actor, Ended};
use crate::store::directory;
use crate::store::users::{Role, User};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The routing engine refused the action; its code says why.
    #[error("{0}")]
    Refused(RoutingError),
    #[error("{0}")]
    Unavailable(String),
}

impl ActionError {
    pub fn code(&self) -> &'static str {
        match self {
            ActionError::Invalid(_) => "invalid_payload",
            ActionError::Forbidden(_) => "forbidden",
            ActionError::NotFound(_) => "not_found",
            ActionError::Refused(e) => e.code(),
            ActionError::Unavailable(_) => "unavailable",
        }
    }

    /// The ack of a refused action.
    pub fn to_payload(&self, event: &str) -> Value {
        json!({"status": "error", "code": self.code(), "message": self.to_string(), "event": event})
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AgentTarget {
    agent_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NotReady {
    agent_id: String,
    reason_code: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct QueueTarget {
    queue_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MoveChat {
    conversation_id: String,
    queue_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct OfferChat {
    conversation_id: String,
    agent_id: String,
}

fn parse<T: serde::de::DeserializeOwned>(event: &str, payload: Value) -> Result<T, ActionError> {
    serde_json::from_value(payload).map_err(|e| ActionError::Invalid(format!("{event}: {e}")))
}

/// Carries out one console action for `user`; `Ok` is the ack payload.
pub async fn handle(
    agents: &AgentManager,
    user: &User,
    event: &str,
    payload: Value,
) -> Result<Value, ActionError> {
    match event {
        "forceLogout" => {
            let AgentTarget { agent_id } = parse(event, payload)?;
            authorize(agents, user, &agent_id).await?;
            routing(
                agents,
                Input::ForceLogout {
                    agent_id: agent_id.clone(),
                    reason_code: None,
                },
            )
            .await?;
            // The agent's tokens end too; its desk hears `forcedLogout` and `errors`
            // naming the supervisor, then is closed.
            agents
                .sessions()
                .revoke_user(
                    &agent_id,
                    Ended::ForcedLogout {
                        by: Actor::of(user),
                        reason_code: None,
                    },
                )
                .await
                .map_err(|e| ActionError::Unavailable(e.to_string()))?;
            Ok(json!({"status": "ok", "agentId": agent_id, "state": "LOGOUT"}))
        }
        "setAgentState" => {
            let NotReady {
                agent_id,
                reason_code,
            } = parse(event, payload)?;
            authorize(agents, user, &agent_id).await?;
            let codes = agents
                .store()
                .read(directory::list_reason_codes)
                .await
                .map_err(|e| ActionError::Unavailable(e.to_string()))?;
            let known = codes
                .iter()
                .any(|c| c.kind == "NOT_READY" && (c.name == reason_code || c.id == reason_code));
            if !known {
                return Err(ActionError::Invalid(format!(
                    "unknown NOT_READY reason code {reason_code:?}"
                )));
            }
            routing(
                agents,
                Input::SetAgentState {
                    agent_id: agent_id.clone(),
                    state: RequestedAgentState::NotReady,
                    reason_code: Some(reason_code.clone()),
                },
            )
            .await?;
            Ok(
                json!({"status": "ok", "agentId": agent_id, "state": "NOT_READY", "reasonCode": reason_code}),
            )
        }
        "flushQueue" => {
            let QueueTarget { queue_id } = parse(event, payload)?;
            let effects = routing(
                agents,
                Input::FlushQueue {
                    queue_id: Some(queue_id.clone()),
                },
            )
            .await?;
            let closed = effects
                .iter()
                .filter(|e| matches!(e, Effect::TaskStateChanged { task } if task.is_closed()))
                .count();
            Ok(json!({"status": "ok", "queueId": queue_id, "closedTasks": closed}))
        }
        "moveToQueue" => {
            let MoveChat {
                conversation_id,
                queue_id,
            } = parse(event, payload)?;
            // Any supervisor may act on a queue (as for a flush).
            let task_id = waiting_task(agents, &conversation_id).await?;
            routing(
                agents,
                Input::MoveTask {
                    task_id: task_id.clone(),
                    queue_id: queue_id.clone(),
                },
            )
            .await?;
            Ok(
                json!({"status": "ok", "conversationId": conversation_id, "taskId": task_id, "queueId": queue_id}),
            )
        }
        "offerToAgent" => {
            let OfferChat {
                conversation_id,
                agent_id,
            } = parse(event, payload)?;
            authorize(agents, user, &agent_id).await?;
            let task_id = waiting_task(agents, &conversation_id).await?;
            routing(
                agents,
                Input::OfferTaskTo {
                    task_id: task_id.clone(),
                    agent_id: agent_id.clone(),
                },
            )
            .await?;
            Ok(
                json!({"status": "ok", "conversationId": conversation_id, "taskId": task_id, "agentId": agent_id}),
            )
        }
        other => Err(ActionError::Invalid(format!("unknown event {other:?}"))),
    }
}

/// The agent must exist and be in a team `user` supervises (admins: any agent).
async fn authorize(agents: &AgentManager, user: &User, agent_id: &str) -> Result<(), ActionError> {
    let id = agent_id.to_string();
    let team = agents
        .routing()
        .query(move |core, _| core.agent(&id).map(|a| a.team))
        .await
        .flatten()
        .ok_or_else(|| ActionError::NotFound(format!("agent {agent_id} not found")))?;
    if user.role == Role::Admin {
        return Ok(());
    }
    match team {
        Some(t) if user.supervised_teams.iter().any(|s| s.team_id == t) => Ok(()),
        _ => Err(ActionError::Forbidden(
            "supervisors act only on agents of the teams they supervise".into(),
        )),
    }
}

/// The task of a conversation's chat that waits in a queue (no agent has it): the
/// customer's own request, never a transfer or conference an agent asked for while
/// the chat goes on with it.
async fn waiting_task(agents: &AgentManager, conversation_id: &str) -> Result<String, ActionError> {
    let id = conversation_id.to_string();
    let found = agents
        .routing()
        .query(move |core, _| {
            core.tasks_of_conversation(&id)
                .find(|t| {
                    t.media.state == MediaState::Queued
                        && matches!(t.media.direction, Direction::Inbound | Direction::Outbound)
                })
                .map(|t| t.id.clone())
        })
        .await
        .flatten();
    found.ok_or_else(|| {
        ActionError::NotFound(format!(
            "conversation {conversation_id} has no chat waiting in a queue"
        ))
    })
}

async fn routing(agents: &AgentManager, input: Input) -> Result<Vec<Effect>, ActionError> {
    let effects = agents.routing().call(input).await;
    for effect in &effects {
        if let Effect::Rejected { error, .. } = effect {
            return Err(ActionError::Refused(error.clone()));
        }
    }
    Ok(effects)
}
