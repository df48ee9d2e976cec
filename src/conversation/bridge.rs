//! The conversation manager's bridge to the routing engine and the external studio
//! flow: the conversation input a committed routing effect means, and the routing
//! inputs and studio calls committed conversation effects ask for (FIND_AGENT,
//! cancelling a conversation's tasks, ending or wrapping up an agent's task).

use super::{parse_actions, FindAgentRequest, Input};
use crate::cim::{self, TaskStateReason};
use crate::routing::{self, driver::enum_str, Disposition, RoutingHandle};
use serde_json::{json, Value};
use std::collections::HashMap;
use tokio::sync::mpsc;
use tokio::time::Duration;

/// The conversation input a committed routing effect means, if any.
pub(super) fn routing_input(
    effect: &routing::Effect,
    queue_sla: &HashMap<String, u32>,
) -> Option<Input> {
    use routing::Effect as R;
    let cim_task = |t: &routing::Task| serde_json::from_value::<cim::Task>(t.to_cim()).ok();
    match effect {
        R::TaskEnqueued { task, queue } => Some(Input::TaskEnqueued {
            conversation_id: task.conversation_id.clone(),
            task: cim_task(task)?,
            queue: cim::QueueRef {
                id: queue.id.clone(),
                name: queue.name.clone().into(),
                extra: Default::default(),
            },
            agent_sla_secs: queue_sla.get(&queue.id).copied().filter(|s| *s > 0),
        }),
        R::TaskStateChanged { task } => Some(Input::TaskStateChanged {
            conversation_id: task.conversation_id.clone(),
            task: cim_task(task)?,
        }),
        R::OfferTask { agent_id, task } => Some(Input::AgentReserved {
            conversation_id: task.conversation_id.clone(),
            agent_id: agent_id.clone(),
            task: cim_task(task)?,
        }),
        R::NoAgentAvailable { task } => Some(Input::NoAgentAvailable {
            conversation_id: task.conversation_id.clone(),
            task: cim_task(task),
        }),
        R::TaskRerouted { task, from_agent } => Some(Input::AgentRemoved {
            conversation_id: task.conversation_id.clone(),
            agent_id: from_agent.clone(),
            reason: task
                .state
                .reason_code
                .map_or("REROUTED".to_string(), |d| enum_str(&d)),
            task_requeued: !task.is_closed(),
        }),
        R::MrdInterrupted {
            mrd_id,
            agent_id,
            conversations,
        } => Some(Input::MrdInterrupted {
            agent_id: agent_id.clone(),
            mrd_id: mrd_id.clone(),
            conversations: conversations.clone(),
        }),
        _ => None,
    }
}

/// What the publisher hands routing and the studio flow, after commit.
pub(super) struct Bridge {
    /// The publisher runs on the store's fsync thread, outside the runtime: what
    /// must wait (a routing query, a studio call) is spawned on this handle.
    pub(super) runtime: tokio::runtime::Handle,
    pub(super) routing: RoutingHandle,
    /// Studio answers go back to the driver as inputs.
    pub(super) studio_tx: mpsc::UnboundedSender<Input>,
    pub(super) studio_url: String,
    pub(super) http: reqwest::Client,
}

impl Bridge {
    /// An agent's part in a conversation ended: it leaves the pull list, and its task
    /// (when it held one) goes to wrap-up or closes.
    pub(super) fn agent_task_ended(
        &self,
        agent_id: String,
        conversation_id: String,
        task_id: Option<String>,
        disposition: &TaskStateReason,
        wrap_up: bool,
    ) {
        // A pull-mode agent holds no task; its list request still lists it
        // until it leaves there too (and the list's subscribers are told).
        self.routing.send(routing::Input::LeavePullConversation {
            agent_id,
            conversation_id,
        });
        if let Some(task_id) = task_id {
            self.routing.send(if wrap_up {
                routing::Input::StartWrapUp { task_id }
            } else {
                routing::Input::CloseTask {
                    task_id,
                    disposition: disposition_of(disposition),
                }
            });
        }
    }

    /// The agent's wrap-up of the task ended.
    pub(super) fn wrapup_ended(&self, task_id: Option<String>) {
        if let Some(task_id) = task_id {
            self.routing.send(routing::Input::EndWrapUp { task_id });
        }
    }

    /// FIND_AGENT: a routing task on the requested queue (or the channel's), or a
    /// pull-mode request on PULL channels.
    pub(super) fn find_agent(&self, request: FindAgentRequest) {
        let policy = request
            .channel_session
            .channel
            .channel_config
            .routing_policy
            .get()
            .cloned();
        let queue = request.queue.clone().or_else(|| {
            policy
                .as_ref()
                .and_then(|p| p.routing_object_id.get().cloned())
        });
        let Some(queue_id) = queue else {
            tracing::warn!(conversation = %request.conversation_id, "FIND_AGENT without a queue; nothing to route to");
            return;
        };
        let session = serde_json::to_value(&*request.channel_session).unwrap_or(Value::Null);
        let mode = request
            .routing_mode
            .clone()
            .or_else(|| policy.as_ref().map(|p| p.routing_mode.clone()));
        if mode == Some(cim::RoutingMode::Pull) {
            self.routing
                .send(routing::Input::AddPullRequest(routing::NewPullRequest {
                    id: uuid::Uuid::new_v4().to_string(),
                    list_id: queue_id,
                    conversation_id: request.conversation_id,
                    data: json!({"channelSession": session}),
                }));
            return;
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
        let task = routing::NewTask {
            task_id: uuid::Uuid::new_v4().to_string(),
            media_id: uuid::Uuid::new_v4().to_string(),
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
        };
        self.routing
            .send(routing::Input::EnqueueTask(Box::new(task)));
    }

    pub(super) fn cancel_tasks(&self, conversation_id: String, disposition: TaskStateReason) {
        let routing = self.routing.clone();
        let disposition = disposition_of(&disposition);
        self.runtime.spawn(async move {
            let id = conversation_id.clone();
            let open: Vec<String> = routing
                .query(move |core, _| {
                    core.tasks()
                        .filter(|t| t.conversation_id == id && !t.is_closed())
                        .map(|t| t.id.clone())
                        .collect()
                })
                .await
                .unwrap_or_default();
            for task_id in open {
                routing.send(routing::Input::CloseTask {
                    task_id,
                    disposition,
                });
            }
        });
    }

    /// Asks the external flow; its answer (or failure) comes back as an input.
    pub(super) fn call_studio(
        &self,
        request_id: String,
        message: cim::StudioMessage,
        timeout_ms: i64,
    ) {
        let http = self.http.clone();
        let url = self.studio_url.clone();
        let back = self.studio_tx.clone();
        self.runtime.spawn(async move {
            let outcome = async {
                let resp = http
                    .post(&url)
                    .timeout(Duration::from_millis(timeout_ms.max(1) as u64))
                    .json(&message)
                    .send()
                    .await
                    .map_err(|e| format!("request failed: {e}"))?;
                if !resp.status().is_success() {
                    return Err(format!("answered HTTP {}", resp.status()));
                }
                let body: Value = resp
                    .json()
                    .await
                    .map_err(|e| format!("answer is not JSON: {e}"))?;
                parse_actions(&body).map_err(|e| format!("bad actions: {e}"))
            }
            .await;
            let input = match outcome {
                Ok(actions) => Input::StudioActions {
                    request_id,
                    actions,
                },
                Err(reason) => Input::StudioFailed { request_id, reason },
            };
            let _ = back.send(input);
        });
    }
}

fn disposition_of(reason: &TaskStateReason) -> Disposition {
    match reason.as_str() {
        "AGENT_LOGOUT" => Disposition::AgentLogout,
        "CANCELLED" => Disposition::Cancelled,
        "TRANSFERRED" => Disposition::Transferred,
        "NO_AGENT_AVAILABLE" => Disposition::NoAgentAvailable,
        "FORCE_CLOSED" => Disposition::ForceClosed,
        "RONA" => Disposition::Rona,
        _ => Disposition::Done,
    }
}
