//! Desk events, one function each; every handler validates its payload and
//! answers `Ok(ack payload)` or a [`DeskError`] that changed nothing.

mod assist;
mod end_chat;
mod monitor;
mod payload;
pub(super) mod publish;
mod pull;
mod reject;
mod state;
mod topic;

use super::session::DeskSession;
use super::{AgentManager, DeskError};
use crate::routing::{Effect, Input, Task};
use serde_json::Value;
use std::sync::Arc;

pub(super) async fn handle(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    event: &str,
    payload: Value,
) -> Result<Value, DeskError> {
    if !KNOWN_EVENTS.contains(&event) {
        return Err(unknown_event(event));
    }
    if !payload.is_object() {
        return Err(DeskError::invalid(format!(
            "{event} expects one JSON object as its argument"
        )));
    }
    match event {
        "changeAgentState" => state::change_agent_state(manager, session, &payload).await,
        "topicSubscription" => topic::subscribe(manager, session, &payload).await,
        // Seed 002's table spells it with a trailing underscore; both are taken.
        "topicUnsubscription" | "topicUnsubscription_" => {
            topic::unsubscribe(manager, session, &payload).await
        }
        "rejectTask" => reject::reject(manager, session, &payload).await,
        "endChat" => end_chat::end_chat(manager, session, &payload).await,
        // publishCimEvent is pipelined by the namespace (`publish::start_publish`).
        "closeWrapup" => publish::close_wrapup(manager, session, &payload).await,
        "directTransferRequest"
        | "directConferenceRequest"
        | "consultTransferRequest"
        | "consultConferenceRequest" => assist::request(manager, session, event, &payload).await,
        "JoinAsSilentMonitor" | "joinAsSilentMonitor" => {
            monitor::join(manager, session, &payload, monitor::Mode::Silent).await
        }
        "joinAsWhisper" | "JoinAsWhisper" => {
            monitor::join(manager, session, &payload, monitor::Mode::Whisper).await
        }
        "JoinAsBargin" | "joinAsBargin" | "JoinAsBargeIn" => {
            monitor::join(manager, session, &payload, monitor::Mode::BargeIn).await
        }
        "subscribePullModeList" => pull::subscribe(manager, session, &payload).await,
        "unsubscribePullModeList" => pull::unsubscribe(manager, session, &payload).await,
        "joinPullModeRequest" => pull::join(manager, session, &payload).await,
        "deletePullModeRequest" => pull::delete(manager, session, &payload).await,
        other => Err(unknown_event(other)),
    }
}

/// Every desk event this namespace answers (`publishCimEvent` is pipelined by the
/// namespace when its payload is an object). An unknown name is `unknown_event`
/// whatever its payload, even none.
const KNOWN_EVENTS: &[&str] = &[
    "changeAgentState",
    "topicSubscription",
    "topicUnsubscription",
    "topicUnsubscription_",
    "rejectTask",
    "endChat",
    "publishCimEvent",
    "closeWrapup",
    "directTransferRequest",
    "directConferenceRequest",
    "consultTransferRequest",
    "consultConferenceRequest",
    "JoinAsSilentMonitor",
    "joinAsSilentMonitor",
    "joinAsWhisper",
    "JoinAsWhisper",
    "JoinAsBargin",
    "joinAsBargin",
    "JoinAsBargeIn",
    "subscribePullModeList",
    "unsubscribePullModeList",
    "joinPullModeRequest",
    "deletePullModeRequest",
];

fn unknown_event(event: &str) -> DeskError {
    DeskError::new("unknown_event", format!("unknown event {event:?}"))
}

/// Sends `input` to routing and turns a refusal into a desk error.
async fn routing_call(manager: &AgentManager, input: Input) -> Result<Vec<Effect>, DeskError> {
    let effects = manager.routing().call(input).await;
    for effect in &effects {
        if let Effect::Rejected { error, .. } = effect {
            return Err(error.clone().into());
        }
    }
    Ok(effects)
}

/// The tasks an agent holds in one conversation.
async fn agent_tasks_in(
    manager: &AgentManager,
    agent_id: &str,
    conversation_id: &str,
) -> Vec<Task> {
    let agent_id = agent_id.to_string();
    let conversation_id = conversation_id.to_string();
    manager
        .routing()
        .query(move |core, _| {
            core.tasks_of_agent(&agent_id)
                .into_iter()
                .filter(|t| t.conversation_id == conversation_id)
                .cloned()
                .collect::<Vec<_>>()
        })
        .await
        .unwrap_or_default()
}
