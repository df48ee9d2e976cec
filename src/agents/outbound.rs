//! What desks are told without asking: committed routing effects (offers,
//! revocations, presence, pull-mode lists) and conversation deliveries.

use super::session::cc_user_of;
use super::{presence, AgentManager, ToDesk};
use crate::cim::CcUser;
use crate::routing::{handle::enum_str, AgentView, Effect, EffectBatch, PullRequest};
use serde_json::{json, Value};
use tokio::sync::mpsc;

pub(super) async fn routing_effects(
    manager: AgentManager,
    mut rx: mpsc::UnboundedReceiver<EffectBatch>,
) {
    while let Some(batch) = rx.recv().await {
        for effect in batch.iter() {
            deliver_effect(&manager, effect).await;
        }
    }
}

async fn deliver_effect(manager: &AgentManager, effect: &Effect) {
    match effect {
        Effect::OfferTask { agent_id, task } => {
            if let Some(s) = manager.session(agent_id) {
                s.emit(
                    "taskRequest",
                    json!({
                        "task": task.to_cim(),
                        "taskId": task.id,
                        "conversationId": task.conversation_id,
                        "channelSession": &*task.media.request_session,
                        "acceptDeadline": task.routing.accept_deadline,
                    }),
                );
            }
        }
        Effect::RevokeTask {
            agent_id,
            task,
            reason,
        } => {
            if let Some(s) = manager.session(agent_id) {
                s.emit(
                    "revokeTask",
                    json!({
                        "taskId": task.id,
                        "conversationId": task.conversation_id,
                        "reason": enum_str(reason),
                        "task": task.to_cim(),
                    }),
                );
            }
        }
        Effect::TaskRerouted { task, from_agent } => {
            if let Some(s) = manager.session(from_agent) {
                s.emit(
                    "topicClosed",
                    json!({"conversationId": task.conversation_id, "reason": "REROUTED"}),
                );
                s.forget_topic(&task.conversation_id);
            }
        }
        Effect::AgentStateChanged { agent, .. } => presence_changed(manager, agent).await,
        Effect::PullListSubscribed {
            agent_id,
            list_id,
            requests,
        } => {
            if let Some(s) = manager.session(agent_id) {
                let requests: Vec<Value> = requests.iter().map(pull_request_json).collect();
                s.emit(
                    "onPullModeSubscribedList",
                    json!({"listId": list_id, "subscribed": true}),
                );
                s.emit(
                    "addPullModeSubscribedListRequests",
                    json!({"listId": list_id, "requests": requests}),
                );
                if !requests.is_empty() {
                    s.emit(
                        "pullModeSubscribedListRequests",
                        json!({"listId": list_id, "requests": requests}),
                    );
                }
            }
        }
        Effect::PullListUnsubscribed {
            agent_id,
            list_id,
            request_ids,
        } => {
            if let Some(s) = manager.session(agent_id) {
                s.emit(
                    "onPullModeSubscribedList",
                    json!({"listId": list_id, "subscribed": false}),
                );
                s.emit(
                    "removePullModeSubscribedListRequests",
                    json!({"listId": list_id, "requestIds": request_ids}),
                );
            }
        }
        Effect::PullRequestAdded { agents, request }
        | Effect::PullRequestUpdated { agents, request } => {
            for agent in agents {
                if let Some(s) = manager.session(agent) {
                    s.emit(
                        "onPullModeSubscribedListRequest",
                        pull_request_json(request),
                    );
                }
            }
        }
        Effect::PullRequestRemoved {
            agents,
            list_id,
            request_id,
        } => {
            for agent in agents {
                if let Some(s) = manager.session(agent) {
                    s.emit(
                        "removePullModeSubscribedListRequests",
                        json!({"listId": list_id, "requestIds": [request_id]}),
                    );
                }
            }
        }
        Effect::TaskEnqueued { .. }
        | Effect::TaskStateChanged { .. }
        | Effect::TaskMovedOn { .. }
        | Effect::TaskAssigned { .. }
        | Effect::MrdInterrupted { .. }
        | Effect::NoAgentAvailable { .. }
        | Effect::TaskTransferred { .. }
        | Effect::PullRequestJoined { .. }
        | Effect::Rejected { .. } => {}
    }
}

fn pull_request_json(request: &PullRequest) -> Value {
    json!({
        "id": request.id,
        "listId": request.list_id,
        "conversationId": request.conversation_id,
        "state": enum_str(&request.state),
        "joinedAgents": request.joined_agents,
        "createdAt": request.created_at,
        "data": &*request.data,
    })
}

/// `agentPresence` to the agent itself and to the supervisors of its team.
async fn presence_changed(manager: &AgentManager, view: &AgentView) {
    let own = manager.session(&view.agent_id);
    let cc_user: CcUser = match &own {
        Some(s) => s.cc_user(),
        None => {
            let id = view.agent_id.clone();
            match manager
                .store()
                .read(move |c| crate::store::users::get_user(c, &id))
                .await
            {
                Ok(Some(user)) => cc_user_of(&user),
                _ => CcUser::new(
                    view.agent_id.clone(),
                    view.username.clone(),
                    vec!["agent".into()],
                    None,
                ),
            }
        }
    };
    let payload = presence::payload(&cc_user, view);
    if let Some(s) = &own {
        s.emit("agentPresence", payload.clone());
    }
    if let Some(team) = &view.team {
        for supervisor in manager.supervisors_of(team) {
            if supervisor.agent_id() != view.agent_id {
                supervisor.emit("agentPresence", payload.clone());
            }
        }
    }
}

/// The conversation manager's committed deliveries, made where each batch is published
/// (the store's fsync thread, mostly): synchronous, never waiting.
impl crate::delivery::Deliver<ToDesk> for AgentManager {
    fn deliver(&self, delivery: ToDesk) {
        let manager = self;
        match delivery {
            ToDesk::CimEvent {
                agent_ids,
                conversation_id,
                seq,
                event,
            } => {
                for agent in agent_ids {
                    if let Some(s) = manager.session(&agent) {
                        s.deliver_event(&conversation_id, seq, &event);
                    }
                }
            }
            ToDesk::Ephemeral {
                agent_ids,
                conversation_id,
                event,
            } => {
                for agent in agent_ids {
                    if let Some(s) = manager.session(&agent) {
                        s.deliver_ephemeral(&conversation_id, &event);
                    }
                }
            }
            ToDesk::TopicClosed {
                agent_ids,
                conversation_id,
            } => {
                for agent in agent_ids {
                    if let Some(s) = manager.session(&agent) {
                        s.emit("topicClosed", json!({"conversationId": conversation_id}));
                        s.forget_topic(&conversation_id);
                    }
                }
            }
            ToDesk::WrapupTimerStarted { agent_id, payload } => {
                if let Some(s) = manager.session(&agent_id) {
                    s.emit("wrapupTimerStarted", payload);
                }
            }
            ToDesk::Notify {
                agent_ids,
                event,
                payload,
            } => {
                for agent in agent_ids {
                    if let Some(s) = manager.session(&agent) {
                        s.emit(event, payload.clone());
                    }
                }
            }
        }
    }
}
