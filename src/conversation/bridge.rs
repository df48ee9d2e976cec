//! The conversation manager's bridge to the routing driver and the external studio
//! flow: after commit, the routing inputs conversation effects ask for (FIND_AGENT,
//! cancelling a conversation's tasks, ending or wrapping up an agent's task; what each
//! means is `site::bridge`) are sent to the routing driver, and studio calls are made.

use super::{parse_actions, FindAgentRequest, Input, UuidIds};
use crate::cim::{self, TaskStateReason};
use crate::routing::RoutingHandle;
use crate::site::bridge as site;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Duration;

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
        for input in
            site::agent_task_ended(agent_id, conversation_id, task_id, disposition, wrap_up)
        {
            self.routing.send(input);
        }
    }

    /// The agent's wrap-up of the task ended.
    pub(super) fn wrapup_ended(&self, task_id: Option<String>) {
        if let Some(input) = site::wrapup_ended(task_id) {
            self.routing.send(input);
        }
    }

    /// FIND_AGENT: a routing task on the requested queue (or the channel's), or a
    /// pull-mode request on PULL channels.
    pub(super) fn find_agent(&self, request: FindAgentRequest) {
        let conversation_id = request.conversation_id.clone();
        match site::find_agent(request, &mut UuidIds) {
            Some(input) => self.routing.send(input),
            None => {
                tracing::warn!(conversation = %conversation_id, "FIND_AGENT without a queue; nothing to route to")
            }
        }
    }

    pub(super) fn cancel_tasks(&self, conversation_id: String, disposition: TaskStateReason) {
        let routing = self.routing.clone();
        self.runtime.spawn(async move {
            let closes = routing
                .query(move |core, _| site::cancel_tasks(core, &conversation_id, &disposition))
                .await
                .unwrap_or_default();
            for input in closes {
                routing.send(input);
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
