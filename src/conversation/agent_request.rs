//! The conversation's agent request to the routing engine: FIND_AGENT built from a
//! flow's action and the channel's routing policy (queue, priority, last agent, the
//! agents to leave out), and its cancellation. One request is pending at a time.

use super::effect::{Effect, FindAgentRequest};
use super::ids::IdGen;
use super::open::OpenConversation;
use super::step::Ctx;
use super::studio::FindAgentAction;
use crate::cim::TaskStateReason;

impl OpenConversation {
    /// Cancels the conversation's requests nobody serves yet: the customer's pending
    /// agent request and any transfer or conference an agent asked for (routing
    /// cancels its unserved tasks of the conversation).
    pub fn cancel_routing<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, disposition: TaskStateReason) {
        if self.runtime.routing_pending {
            self.runtime.routing_pending = false;
            self.runtime.pending_task_id = None;
            self.touch(cx);
        }
        cx.effect(Effect::CancelTasks {
            conversation_id: self.id.clone(),
            disposition,
        });
    }

    /// Sends the routing engine an agent request for the customer's current session.
    pub fn find_agent<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        action: &FindAgentAction,
    ) -> Result<(), String> {
        if self.runtime.routing_pending {
            return Err("an agent request is already pending".to_owned());
        }
        if self.runtime.waiting_for_hours {
            return Err(
                "a message left outside business hours is routed when they open".to_owned(),
            );
        }
        let session = self
            .current_session()
            .cloned()
            .ok_or_else(|| "the customer has no running channel session".to_owned())?;
        let policy = session.channel.routing_policy().cloned();
        let queue = action.queue.clone().or_else(|| {
            policy
                .as_ref()
                .and_then(|p| p.routing_object_id.get().cloned())
                .filter(|q| !q.trim().is_empty())
        });
        // Agents wrapping this conversation up left it: the request excludes them, so
        // another ready agent gets it at once. The exclusion is the task's for its
        // whole life, so it outlasts their wrap-up. So are agents in it already (a
        // supervisor looking in): they could not accept it. An agent the action names
        // is kept.
        let mut exclude_agents: Vec<String> = self
            .runtime
            .timers
            .wrapups
            .keys()
            .cloned()
            .chain(
                self.active_agents()
                    .filter_map(|p| p.as_cc_user().map(|u| u.id.clone())),
            )
            .filter(|id| action.last_agent_id.as_ref() != Some(id))
            .collect();
        exclude_agents.sort();
        exclude_agents.dedup();
        let last_agent_id = action.last_agent_id.clone().or_else(|| {
            policy
                .as_ref()
                .filter(|p| p.route_to_last_agent)
                .and(self.runtime.last_agent_id.clone())
                .filter(|id| !exclude_agents.contains(id))
        });
        if queue.is_none() && !(action.offer_to_agent && last_agent_id.is_some()) {
            return Err(
                "no queue: the action names none and the channel's routing policy has no routingObjectId"
                    .to_owned(),
            );
        }
        let priority = action
            .priority
            .or_else(|| {
                session
                    .channel_data
                    .request_priority
                    .get()
                    .copied()
                    .filter(|p| *p > 0)
            })
            .unwrap_or(1)
            .clamp(1, 10);
        let request = FindAgentRequest {
            conversation_id: self.id.clone(),
            room_info: self.room_info(),
            queue,
            priority,
            last_agent_id,
            exclude_agents,
            offer_to_agent: action.offer_to_agent,
            request_type: action.request_type.clone(),
            mrd_id: session.channel.media_routing_domain().map(str::to_owned),
            agent_request_ttl_secs: policy.as_ref().map(|p| p.agent_request_ttl),
            selection_policy: policy.as_ref().map(|p| p.agent_selection_policy.clone()),
            routing_mode: policy.as_ref().map(|p| p.routing_mode.clone()),
            channel_session: Box::new(session),
        };
        self.runtime.routing_pending = true;
        self.runtime.pending_task_id = None;
        self.touch(cx);
        cx.effect(Effect::FindAgent(Box::new(request)));
        Ok(())
    }
}
