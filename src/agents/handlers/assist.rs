//! Transfers and conferences: `directTransferRequest`, `directConferenceRequest`,
//! `consultTransferRequest`, `consultConferenceRequest` (seed 000 payload). A new
//! routing task finds the other agent; when it accepts, the requester hears
//! `agentAssignedForAssistance` (and `consulTransferRequestSuccess` for consults),
//! and a direct transfer ends the requester's task TRANSFERRED.

use super::{agent_tasks_in, routing_call, DeskError};
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::cim::{AssistanceMode, DirectConferenceRequest, ParticipantRole};
use crate::routing::{Direction, Input, MediaState, NewTask, SelectionPolicy, TaskMode};
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) async fn request(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    event: &str,
    payload: &Value,
) -> Result<Value, DeskError> {
    let request = DirectConferenceRequest::from_value(payload)
        .map_err(|e| DeskError::invalid(e.to_string()))?;
    let conversation_id = request
        .channel_session
        .conversation_id()
        .ok_or_else(|| {
            DeskError::invalid("channelSession.conversationId (or topicId) is required")
        })?
        .to_string();
    let topic = manager.conversations().topic(&conversation_id).await?;
    let members = topic.conversation.agent_members();
    let requester_role = members
        .iter()
        .find(|(id, _)| id == session.agent_id())
        .map(|(_, role)| role.clone())
        .ok_or_else(|| {
            DeskError::forbidden(format!(
                "the agent is not a participant of conversation {conversation_id}"
            ))
        })?;
    if !matches!(
        requester_role,
        ParticipantRole::Primary | ParticipantRole::Assistant
    ) {
        return Err(DeskError::forbidden(
            "monitors cannot transfer or conference",
        ));
    }
    let own_task = agent_tasks_in(manager, session.agent_id(), &conversation_id)
        .await
        .into_iter()
        .find(|t| t.media.state == MediaState::Active);
    let (direction, kind) = match event {
        "directTransferRequest" => (Direction::DirectTransfer, "DIRECT_TRANSFER"),
        "directConferenceRequest" => (Direction::DirectConference, "DIRECT_CONFERENCE"),
        "consultTransferRequest" => (Direction::Consult, "CONSULT_TRANSFER"),
        _ => (Direction::Consult, "CONSULT_CONFERENCE"),
    };
    let (queue_id, mode) = match &request.mode {
        AssistanceMode::Agent => {
            let target = request
                .requested_agent_id
                .as_deref_str()
                .unwrap_or_default()
                .to_string();
            if target == session.agent_id() {
                return Err(DeskError::invalid("an agent cannot request itself"));
            }
            let queue = own_task
                .as_ref()
                .map(|t| t.media.queue.id.clone())
                .or(default_queue(manager).await)
                .ok_or_else(|| DeskError::new("not_found", "no queue to route through"))?;
            (queue, TaskMode::Agent { agent_id: target })
        }
        _ => {
            let name = request
                .queue_name
                .as_deref_str()
                .unwrap_or_default()
                .to_string();
            let queue = queue_by_name(manager, &name)
                .await
                .ok_or_else(|| DeskError::new("not_found", format!("queue {name:?} not found")))?;
            (queue, TaskMode::Queue)
        }
    };
    // The conversation's own session, not the one the desk sent: it names the
    // customer the other agent is offered, and its channel's TTL applies.
    let channel_session = topic
        .conversation
        .metadata
        .get()
        .and_then(|m| m.last_used_channel_session.get())
        .cloned();
    let ttl_secs = channel_session
        .as_ref()
        .and_then(|s| s.channel.channel_config.routing_policy.get())
        .map_or(0, |p| p.agent_request_ttl);
    let task_id = uuid::Uuid::new_v4().to_string();
    let new_task = NewTask {
        task_id: task_id.clone(),
        media_id: uuid::Uuid::new_v4().to_string(),
        conversation_id: conversation_id.clone(),
        queue_id,
        priority: 1,
        direction,
        // Always offered: a desk joins only by accepting a taskRequest, so a task
        // assigned without an offer (queue mode) would reach no desk at all.
        offer_to_agent: true,
        mode,
        agent_request_ttl_ms: (ttl_secs > 0).then_some(ttl_secs * 1000),
        selection_policy: SelectionPolicy::LongestAvailable,
        preferred_last_agent: None,
        exclude_agents: members.iter().map(|(id, _)| id.clone()).collect(),
        related_task: own_task.map(|t| t.id),
        request_session: channel_session
            .and_then(|s| serde_json::to_value(&*s).ok())
            .unwrap_or(Value::Null),
        metadata: json!({
            "requestType": kind,
            "requestedBy": session.agent_id(),
            "requestedByName": session.cc_user().keycloak_user.username,
            "note": request.note.as_deref_str(),
        }),
    };
    let effects = routing_call(manager, Input::EnqueueTask(Box::new(new_task))).await?;
    let task = effects
        .iter()
        .find_map(|e| match e {
            crate::routing::Effect::TaskEnqueued { task, .. }
            | crate::routing::Effect::OfferTask { task, .. } => Some(task.to_cim()),
            _ => None,
        })
        .unwrap_or(Value::Null);
    let answer = json!({
        "conversationId": conversation_id,
        "taskId": task_id,
        "task": task,
        "type": kind,
        "status": "placed",
    });
    session.emit("agentAssistanceRequestPlaced", answer.clone());
    Ok(answer)
}

async fn queue_by_name(manager: &AgentManager, name: &str) -> Option<String> {
    let name = name.to_string();
    manager
        .routing()
        .query(move |core, _| {
            core.queue_configs()
                .find(|q| q.name == name || q.id == name)
                .map(|q| q.id.clone())
        })
        .await
        .flatten()
}

async fn default_queue(manager: &AgentManager) -> Option<String> {
    manager
        .routing()
        .query(|core, _| core.queue_configs().next().map(|q| q.id.clone()))
        .await
        .flatten()
}
