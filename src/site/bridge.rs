//! The seam between the routing core and the conversation core, as pure functions:
//! the conversation input a routing effect means, and the routing inputs a
//! conversation effect asks for (FIND_AGENT, cancelling a conversation's tasks,
//! ending or wrapping up an agent's task). [`super::Site`] applies both inside one
//! step.

use crate::cim::{self, TaskStateReason};
use crate::conversation::{self, FindAgentRequest, IdGen, IdKind};
use crate::routing::{self, Disposition, MediaState, RoutingCore};
use serde_json::{json, Value};

/// A queue's agent response SLA in seconds, as its routing configuration says
/// (`None`: none).
pub fn agent_sla_secs(core: &RoutingCore, queue_id: &str) -> Option<u32> {
    core.queue_config(queue_id)
        .and_then(|q| q.agent_sla_ms)
        .map(|ms| (ms / 1000) as u32)
        .filter(|s| *s > 0)
}

/// The conversation input a routing effect means, if any, read against `core` (the
/// queue's agent response SLA).
pub fn conversation_input(
    effect: &routing::Effect,
    core: &RoutingCore,
) -> Option<conversation::Input> {
    use conversation::Input as C;
    use routing::Effect as R;
    let cim_task = |t: &routing::Task| serde_json::from_value::<cim::Task>(t.to_cim()).ok();
    match effect {
        R::TaskEnqueued { task, queue } => Some(C::TaskEnqueued {
            conversation_id: task.conversation_id.clone(),
            task: cim_task(task)?,
            queue: cim::QueueRef {
                id: queue.id.clone(),
                name: queue.name.clone().into(),
                extra: Default::default(),
            },
            agent_sla_secs: agent_sla_secs(core, &queue.id),
        }),
        R::TaskStateChanged { task } => Some(C::TaskStateChanged {
            conversation_id: task.conversation_id.clone(),
            task: cim_task(task)?,
        }),
        R::OfferTask { agent_id, task } => Some(C::AgentReserved {
            conversation_id: task.conversation_id.clone(),
            agent_id: agent_id.clone(),
            task: cim_task(task)?,
        }),
        R::NoAgentAvailable { task } => Some(C::NoAgentAvailable {
            conversation_id: task.conversation_id.clone(),
            task: cim_task(task),
        }),
        R::TaskRerouted { task, from_agent } => Some(C::AgentRemoved {
            conversation_id: task.conversation_id.clone(),
            agent_id: from_agent.clone(),
            task_id: task.id.clone(),
            reason: task
                .state
                .reason_code
                .map_or("REROUTED", Disposition::as_str)
                .to_string(),
            task_requeued: !task.is_closed(),
        }),
        R::AgentStateChanged { agent, .. } if agent.state == routing::AgentStateName::Logout => {
            Some(C::AgentLoggedOut {
                agent_id: agent.agent_id.clone(),
            })
        }
        R::MrdInterrupted {
            mrd_id,
            agent_id,
            conversations,
        } => Some(C::MrdInterrupted {
            agent_id: agent_id.clone(),
            mrd_id: mrd_id.clone(),
            conversations: conversations.clone(),
        }),
        _ => None,
    }
}

/// What FIND_AGENT asks of routing: a task on the requested queue (or the channel's
/// routing object), or a pull-mode request on PULL channels. `None` when the request
/// names no queue and its channel none either: there is nothing to route to.
fn find_agent(request: FindAgentRequest, ids: &mut impl IdGen) -> Option<routing::Input> {
    let policy = request
        .channel_session
        .channel
        .channel_config
        .routing_policy
        .get()
        .cloned();
    let queue_id = request.queue.clone().or_else(|| {
        policy
            .as_ref()
            .and_then(|p| p.routing_object_id.get().cloned())
    })?;
    let session = serde_json::to_value(&*request.channel_session).unwrap_or(Value::Null);
    let mode = request
        .routing_mode
        .clone()
        .or_else(|| policy.as_ref().map(|p| p.routing_mode.clone()));
    if mode == Some(cim::RoutingMode::Pull) {
        return Some(routing::Input::AddPullRequest(routing::NewPullRequest {
            id: ids.next_id(IdKind::PullRequest),
            list_id: queue_id,
            conversation_id: request.conversation_id,
            data: json!({"channelSession": session}),
        }));
    }
    let selection = match request
        .selection_policy
        .clone()
        .or_else(|| policy.as_ref().map(|p| p.agent_selection_policy.clone()))
        .map(|p| p.as_str().to_string())
        .as_deref()
    {
        Some("LEAST_ACTIVE_TASKS") => routing::SelectionPolicy::LeastActiveTasks,
        Some("MOST_SKILLED") => routing::SelectionPolicy::MostSkilled,
        _ => routing::SelectionPolicy::LongestAvailable,
    };
    let ttl_secs = request
        .agent_request_ttl_secs
        .or_else(|| policy.as_ref().map(|p| p.agent_request_ttl))
        .filter(|s| *s > 0);
    let route_to_last = policy.as_ref().is_some_and(|p| p.route_to_last_agent);
    // Desks accept offers (taskRequest, then topicSubscription); a named agent
    // (offerToAgent with lastAgentId) is offered the task alone.
    let (mode, named) = match (&request.last_agent_id, request.offer_to_agent) {
        (Some(agent), true) => (
            routing::TaskMode::Agent {
                agent_id: agent.clone(),
            },
            true,
        ),
        _ => (routing::TaskMode::Queue, false),
    };
    Some(routing::Input::EnqueueTask(Box::new(routing::NewTask {
        task_id: ids.next_id(IdKind::Task),
        media_id: ids.next_id(IdKind::Media),
        conversation_id: request.conversation_id,
        queue_id,
        priority: request.priority.clamp(1, 10) as u8,
        direction: routing::Direction::Inbound,
        mode,
        offer_to_agent: true,
        agent_request_ttl_ms: ttl_secs.map(|s| s * 1000),
        selection_policy: selection,
        preferred_last_agent: if route_to_last && !named {
            request.last_agent_id
        } else {
            None
        },
        exclude_agents: request.exclude_agents,
        related_task: None,
        request_session: session,
        metadata: json!({"requestType": request.request_type}),
    })))
}

/// An agent's part in a conversation ended: it leaves the pull list, and its task
/// (when it held one) goes to wrap-up or closes with `disposition`.
fn agent_task_ended(
    agent_id: String,
    conversation_id: String,
    task_id: Option<String>,
    disposition: &TaskStateReason,
    wrap_up: bool,
) -> Vec<routing::Input> {
    // A pull-mode agent holds no task; its list request still lists it until it
    // leaves there too (and the list's subscribers are told).
    let mut inputs = vec![routing::Input::LeavePullConversation {
        agent_id,
        conversation_id,
    }];
    if let Some(task_id) = task_id {
        inputs.push(if wrap_up {
            routing::Input::StartWrapUp { task_id }
        } else {
            routing::Input::CloseTask {
                task_id,
                disposition: Disposition::from_reason(disposition.as_str()),
            }
        });
    }
    inputs
}

/// The agent's wrap-up of the task ended: the task closes DONE.
fn wrapup_ended(task_id: Option<String>) -> Option<routing::Input> {
    task_id.map(|task_id| routing::Input::EndWrapUp { task_id })
}

/// Closes every task of the conversation nobody serves yet (queued or reserved).
pub fn cancel_tasks(
    core: &RoutingCore,
    conversation_id: &str,
    disposition: &TaskStateReason,
) -> Vec<routing::Input> {
    let disposition = Disposition::from_reason(disposition.as_str());
    // A served task (ACTIVE, WRAP_UP) ends as its agent's part in the conversation
    // does, never by a cancel.
    core.tasks_of_conversation(conversation_id)
        .filter(|t| matches!(t.media.state, MediaState::Queued | MediaState::Reserved))
        .map(|t| routing::Input::CloseTask {
            task_id: t.id.clone(),
            disposition,
        })
        .collect()
}

/// What a conversation effect asks of routing.
pub enum Asked {
    /// Nothing: the effect is for desks, customers, the store or the studio.
    Nothing,
    /// These routing inputs, in order.
    Routing(Vec<routing::Input>),
    /// The effect goes out as it is, and these routing inputs follow it.
    Also(Vec<routing::Input>),
    /// FIND_AGENT with no queue to route to.
    Unroutable { conversation_id: String },
    /// Close the conversation's open tasks, read once every other routing input the
    /// step asked for has run: an agent's own task ends as the conversation says
    /// (DONE, wrap-up) before what is left is cancelled.
    CancelTasks {
        conversation_id: String,
        disposition: TaskStateReason,
    },
}

/// The routing inputs a conversation effect asks for, read against `core`.
pub fn asked_of_routing(
    core: &RoutingCore,
    effect: &conversation::Effect,
    ids: &mut impl IdGen,
) -> Asked {
    use conversation::Effect as E;
    match effect {
        E::FindAgent(request) => match find_agent((**request).clone(), ids) {
            Some(input) => Asked::Routing(vec![input]),
            None => Asked::Unroutable {
                conversation_id: request.conversation_id.clone(),
            },
        },
        E::CancelTasks {
            conversation_id,
            disposition,
        } => Asked::CancelTasks {
            conversation_id: conversation_id.clone(),
            disposition: disposition.clone(),
        },
        // A task routing already ended (a transfer completed it) is not ended twice.
        E::AgentTaskEnded {
            conversation_id,
            agent_id,
            task_id,
            disposition,
            wrap_up,
        } => Asked::Routing(agent_task_ended(
            agent_id.clone(),
            conversation_id.clone(),
            task_id.clone().filter(|t| is_open(core, t)),
            disposition,
            *wrap_up,
        )),
        E::WrapupEnded { task_id, .. } => Asked::Routing(
            wrapup_ended(task_id.clone().filter(|t| is_open(core, t)))
                .into_iter()
                .collect(),
        ),
        // A closed conversation's pull-mode requests leave their lists: nobody can
        // join it any more, and the lists' subscribers are told.
        E::ConversationClosed { conversation_id } => {
            let mut ids: Vec<&String> = core
                .pull_requests_of_conversation(conversation_id)
                .map(|r| &r.id)
                .collect();
            ids.sort();
            let deletes: Vec<routing::Input> = ids
                .into_iter()
                .map(|id| routing::Input::DeletePullRequest {
                    request_id: id.clone(),
                })
                .collect();
            match deletes.is_empty() {
                true => Asked::Nothing,
                false => Asked::Also(deletes),
            }
        }
        _ => Asked::Nothing,
    }
}

fn is_open(core: &RoutingCore, task_id: &str) -> bool {
    core.task(task_id).is_some_and(|t| !t.is_closed())
}
