//! `changeAgentState`: global READY / NOT_READY / LOGOUT with an optional reason
//! code, or one MRD's state; supervisors may change (and force out) agents of
//! the teams they supervise.

use super::{optional_str, routing_call, DeskError};
use crate::agents::presence;
use crate::agents::session::{cc_user_of, DeskSession};
use crate::agents::AgentManager;
use crate::routing::{Input, RequestedAgentState, RequestedMrdState};
use crate::store::{directory, users};
use serde_json::Value;
use std::sync::Arc;

/// `state` is `{name, reasonCode}` (reasonCode a string or `{name}`), or a bare name.
fn state_of(payload: &Value) -> Result<(String, Option<String>), DeskError> {
    match payload.get("state") {
        Some(Value::String(name)) => Ok((name.clone(), None)),
        Some(Value::Object(state)) => {
            let name = state
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| DeskError::invalid("state.name is required"))?;
            let reason = match state.get("reasonCode") {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Object(r)) => r
                    .get("name")
                    .or_else(|| r.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                _ => None,
            };
            Ok((name.to_string(), reason))
        }
        _ => Err(DeskError::invalid("state is required")),
    }
}

pub(super) async fn change_agent_state(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let agent_id = optional_str(payload, "agentId")
        .unwrap_or(session.agent_id())
        .to_string();
    let acting_on_self = agent_id == session.agent_id();
    if !acting_on_self {
        authorize_supervisor(manager, session, &agent_id).await?;
    }
    let action = optional_str(payload, "action").unwrap_or("agentState");
    let (name, reason_code) = state_of(payload)?;
    let input = match action {
        "agentState" => {
            let state = match name.as_str() {
                "READY" => RequestedAgentState::Ready,
                "NOT_READY" => RequestedAgentState::NotReady,
                "LOGOUT" => RequestedAgentState::Logout,
                other => {
                    return Err(DeskError::invalid(format!(
                        "state.name {other:?} is not READY, NOT_READY or LOGOUT"
                    )))
                }
            };
            if let Some(reason) = &reason_code {
                check_reason_code(manager, &name, reason).await?;
            }
            if state == RequestedAgentState::Logout && !acting_on_self {
                Input::ForceLogout {
                    agent_id: agent_id.clone(),
                    reason_code,
                }
            } else {
                Input::SetAgentState {
                    agent_id: agent_id.clone(),
                    state,
                    reason_code,
                }
            }
        }
        "agentMRDState" => {
            let mrd_id = optional_str(payload, "mrdId")
                .ok_or_else(|| DeskError::invalid("mrdId is required for agentMRDState"))?
                .to_string();
            let state = match name.as_str() {
                "READY" => RequestedMrdState::Ready,
                "NOT_READY" => RequestedMrdState::NotReady,
                other => {
                    return Err(DeskError::invalid(format!(
                        "an MRD state is READY or NOT_READY, not {other:?}"
                    )))
                }
            };
            Input::SetAgentMrdState {
                agent_id: agent_id.clone(),
                mrd_id,
                state,
            }
        }
        other => {
            return Err(DeskError::invalid(format!(
                "action {other:?} is not agentState or agentMRDState"
            )))
        }
    };
    routing_call(manager, input).await?;
    let id = agent_id.clone();
    let view = manager
        .routing()
        .query(move |core, _| core.agent(&id))
        .await
        .flatten()
        .ok_or_else(|| DeskError::new("not_found", format!("agent {agent_id} not found")))?;
    let cc_user = if acting_on_self {
        session.cc_user()
    } else {
        let id = agent_id.clone();
        let user = manager
            .store()
            .read(move |c| users::get_user(c, &id))
            .await
            .map_err(|e| DeskError::new("unavailable", e.to_string()))?
            .ok_or_else(|| DeskError::new("not_found", "agent not found"))?;
        cc_user_of(&user)
    };
    Ok(presence::payload(&cc_user, &view))
}

/// A supervisor may act on agents of the teams it supervises; nobody else may.
pub(super) async fn authorize_supervisor(
    manager: &AgentManager,
    session: &DeskSession,
    agent_id: &str,
) -> Result<(), DeskError> {
    if !session.is_supervisor() {
        return Err(DeskError::forbidden(
            "agents may change only their own state",
        ));
    }
    let id = agent_id.to_string();
    let team = manager
        .routing()
        .query(move |core, _| core.agent(&id).map(|a| a.team))
        .await
        .flatten()
        .ok_or_else(|| DeskError::new("not_found", format!("agent {agent_id} not found")))?;
    match team {
        Some(team) if session.supervises(&team) => Ok(()),
        _ => Err(DeskError::forbidden(
            "supervisors may act only on agents of the teams they supervise",
        )),
    }
}

/// A reason code must be one the site defines for that kind of state.
async fn check_reason_code(
    manager: &AgentManager,
    state: &str,
    reason: &str,
) -> Result<(), DeskError> {
    if state == "READY" {
        return Err(DeskError::invalid("READY takes no reason code"));
    }
    let codes = manager
        .store()
        .read(directory::list_reason_codes)
        .await
        .map_err(|e| DeskError::new("unavailable", e.to_string()))?;
    if codes
        .iter()
        .any(|c| c.kind == state && (c.name == reason || c.id == reason))
    {
        Ok(())
    } else {
        Err(DeskError::invalid(format!(
            "unknown {state} reason code {reason:?}"
        )))
    }
}
