//! `changeAgentState`: global READY / NOT_READY / LOGOUT with an optional reason
//! code, or one MRD's state; supervisors may change (and force out) agents of
//! the teams they supervise.

use super::payload::{parse, present, present_string, ReasonCode};
use super::{routing_call, DeskError};
use crate::agents::presence;
use crate::agents::session::{cc_user_of, DeskSession};
use crate::agents::AgentManager;
use crate::cim::json_kind;
use crate::routing::{Effect, Input, RequestedAgentState, RequestedMrdState};
use crate::sessions::{Actor, Ended};
use crate::store::{directory, users};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use std::sync::Arc;

/// The `changeAgentState` payload. Optional fields may be absent; present ones of
/// the wrong type (null included) are refused.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeAgentState {
    #[serde(default, deserialize_with = "present_string")]
    agent_id: Option<String>,
    #[serde(default, deserialize_with = "present")]
    action: Option<Action>,
    state: StateArg,
    #[serde(default, deserialize_with = "present_string")]
    mrd_id: Option<String>,
    /// Also accepted beside `state` as a plain string (the state's own wins).
    #[serde(default, deserialize_with = "present_string")]
    reason_code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
enum Action {
    #[serde(rename = "agentState")]
    AgentState,
    #[serde(rename = "agentMRDState")]
    AgentMrdState,
}

/// `state` is `{name, reasonCode}` (reasonCode a string or `{name}` / `{id}`), or a bare name.
#[derive(Debug)]
struct StateArg {
    name: String,
    reason_code: Option<String>,
}

impl<'de> Deserialize<'de> for StateArg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Full {
            name: String,
            /// `null` is no reason code, as desks echo it from `agentPresence`.
            #[serde(default)]
            reason_code: Option<ReasonCode>,
        }
        match Value::deserialize(d)? {
            Value::String(name) => Ok(StateArg {
                name,
                reason_code: None,
            }),
            value @ Value::Object(_) => {
                let full: Full = serde_path_to_error::deserialize(&value)
                    .map_err(|e| D::Error::custom(format!("{}: {}", e.path(), e.inner())))?;
                Ok(StateArg {
                    name: full.name,
                    reason_code: full.reason_code.and_then(|r| r.0),
                })
            }
            other => Err(D::Error::custom(format!(
                "must be a state name or {{name, reasonCode}}, found {}",
                json_kind(&other)
            ))),
        }
    }
}

pub(super) async fn change_agent_state(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let request: ChangeAgentState = parse(payload)?;
    let agent_id = request
        .agent_id
        .unwrap_or_else(|| session.agent_id().to_string());
    let acting_on_self = agent_id == session.agent_id();
    if !acting_on_self {
        authorize_supervisor(manager, session, &agent_id).await?;
    }
    let name = request.state.name;
    let reason_code = request.state.reason_code.or(request.reason_code);
    let input = match request.action.unwrap_or(Action::AgentState) {
        Action::AgentState => {
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
        Action::AgentMrdState => {
            let mrd_id = request
                .mrd_id
                .ok_or_else(|| DeskError::invalid("mrdId is required for agentMRDState"))?;
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
    };
    let forced_reason = match &input {
        Input::ForceLogout { reason_code, .. } => Some(reason_code.clone()),
        _ => None,
    };
    let effects = routing_call(manager, input).await?;
    let changed = effects
        .iter()
        .any(|e| matches!(e, Effect::AgentStateChanged { .. }));
    if let Some(reason_code) = forced_reason {
        // As the HTTP force logout: the agent's tokens end and its desk is told who.
        manager
            .sessions()
            .revoke_user(
                &agent_id,
                Ended::ForcedLogout {
                    by: Actor::of(&session.user),
                    reason_code,
                },
            )
            .await
            .map_err(|e| DeskError::new("unavailable", e.to_string()))?;
    }
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
    let payload = presence::payload(&cc_user, &view);
    if !changed {
        // Asked for the state it is in: nothing changed, so routing announces nothing,
        // but a desk waits for `agentPresence` after every `changeAgentState`.
        session.emit("agentPresence", payload.clone());
    }
    Ok(payload)
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
