//! A desk's steps that span both cores: accepting an offered task (checked against
//! the conversation first; then the task goes ACTIVE and the agent joins with the role
//! its kind of request gives, an assistance request's requester is told, a direct
//! transfer's requester leaves), joining a pull-mode request (the request and its
//! conversation) and leaving a conversation (a consult transfer the agent was
//! consulted for completes first). The engine driver feeds a desk's
//! `topicSubscription`, `joinPullModeRequest` and `topicUnsubscription` here, so none
//! has a round trip between the cores.

use super::{Site, SiteEffect, Steps, Work};
use crate::cim::{CcUser, ParticipantRole};
use crate::clock::Millis;
use crate::conversation::{self, CoreError, IdGen};
use crate::routing::{self, Direction, MediaState, RoutingCore, Task};
use serde_json::{json, Value};
use std::ops::Range;
use std::sync::Arc;

/// The role an agent joins with when it accepts a task of this direction.
fn role_for(direction: Direction) -> ParticipantRole {
    match direction {
        Direction::DirectConference | Direction::Consult => ParticipantRole::Assistant,
        _ => ParticipantRole::Primary,
    }
}

/// The agent that asked for a direct transfer, which leaves once it is accepted.
fn direct_transfer_requester(task: &Task) -> Option<String> {
    let kind = task
        .media
        .metadata
        .get("requestType")
        .and_then(Value::as_str);
    if kind != Some("DIRECT_TRANSFER") {
        return None;
    }
    task.media
        .metadata
        .get("requestedBy")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The consult transfers `agent_id` asked for in the conversation and another agent
/// accepted: (the asking agent's task, the consult task). When the asking agent
/// leaves, each completes: the consulted agent becomes PRIMARY and the original
/// task ends TRANSFERRED.
fn consult_transfers(
    core: &RoutingCore,
    agent_id: &str,
    conversation_id: &str,
) -> Vec<(String, Task)> {
    let Some(own) = core
        .tasks_of_agent(agent_id)
        .into_iter()
        .find(|t| t.conversation_id == conversation_id && t.media.state == MediaState::Active)
    else {
        return Vec::new();
    };
    core.tasks_of_conversation(conversation_id)
        .filter(|t| {
            t.routing.related_task.as_deref() == Some(own.id.as_str())
                && t.media.state == MediaState::Active
                && t.media.metadata.get("requestType").and_then(Value::as_str)
                    == Some("CONSULT_TRANSFER")
        })
        .map(|consult| (own.id.clone(), consult.clone()))
        .collect()
}

/// What the agent that asked for assistance (`requestedBy`) is told when `agent_id`
/// accepts it: `agentAssignedForAssistance`, and `consulTransferRequestSuccess` for a
/// consult transfer.
fn assistance_notices(task: &Task, agent_id: &str, agent_name: &str) -> Vec<SiteEffect> {
    let metadata = &task.media.metadata;
    let kind = metadata.get("requestType").and_then(Value::as_str);
    let requester = metadata.get("requestedBy").and_then(Value::as_str);
    let (Some(kind), Some(requester)) = (kind, requester) else {
        return Vec::new();
    };
    let payload = json!({
        "conversationId": task.conversation_id,
        "task": task.to_cim(),
        "type": kind,
        "agentId": agent_id,
        "agentName": agent_name,
    });
    let mut events = vec!["agentAssignedForAssistance"];
    if kind == "CONSULT_TRANSFER" {
        events.push("consulTransferRequestSuccess");
    }
    events
        .into_iter()
        .map(|event| {
            SiteEffect::Conversation(conversation::Effect::NotifyDesks {
                agent_ids: vec![requester.to_string()],
                event,
                payload: payload.clone(),
            })
        })
        .collect()
}

/// Whether the conversation core refused the input these effects came from.
fn conversation_refused(effects: &[SiteEffect]) -> bool {
    effects.iter().any(|e| {
        matches!(
            e,
            SiteEffect::Conversation(conversation::Effect::Rejected(_))
        )
    })
}

impl<I: IdGen + Clone + serde::Serialize, S: Steps> Site<I, S> {
    /// Accepts the task offered to `agent`: refused with nothing changed unless the
    /// task is reserved for it and its conversation is open; refused, and the offer
    /// given back, when the conversation would not take the agent (the customer gone
    /// or wrap-up: cancelled; the agent in it already: declined, so a queue's task
    /// goes to another agent).
    pub(super) fn accept(
        &mut self,
        now: Millis,
        agent: CcUser,
        task_id: &str,
        out: &mut Vec<SiteEffect>,
    ) {
        let agent_id = agent.id.clone();
        let offered = self.routing.task(task_id).filter(|t| {
            t.media.state == MediaState::Reserved && t.assigned_to.as_deref() == Some(&agent_id)
        });
        let Some(conversation_id) = offered.map(|t| t.conversation_id.clone()) else {
            // The routing core refuses it (unknown task, not offered to this agent).
            self.run(
                now,
                Work::Routing(routing::Input::AcceptTask {
                    agent_id,
                    task_id: task_id.to_string(),
                }),
                out,
            );
            return;
        };
        // Checked before routing hears of it: a direct transfer's accept ends the
        // requester's task, which nothing could give back.
        if let Some(refusal) = self.conversations.join_refusal(&conversation_id, &agent_id) {
            let give_back = match refusal {
                // Someone else may take it: a queue's task goes back to its queue
                // without this agent (one asked of this agent ends).
                CoreError::AlreadyParticipant { .. } => routing::Input::DeclineTask {
                    agent_id: agent_id.clone(),
                    task_id: task_id.to_string(),
                },
                // The conversation is over, the customer is gone or the chat is
                // wrapping up: nobody can take it (left offered, it would only run
                // out as a RONA against an agent that did try).
                _ => routing::Input::CloseTask {
                    task_id: task_id.to_string(),
                    disposition: routing::Disposition::Cancelled,
                },
            };
            out.push(SiteEffect::Conversation(conversation::Effect::Rejected(
                refusal,
            )));
            self.run(now, Work::Routing(give_back), out);
            return;
        }
        let mut accepted = Vec::new();
        self.run(
            now,
            Work::Routing(routing::Input::AcceptTask {
                agent_id: agent_id.clone(),
                task_id: task_id.to_string(),
            }),
            &mut accepted,
        );
        let task = accepted.iter().find_map(|e| match e {
            SiteEffect::Routing(
                routing::Effect::TaskAssigned { task, .. }
                | routing::Effect::TaskStateChanged { task },
            ) if task.id == task_id => Some(task.clone()),
            _ => None,
        });
        out.extend(accepted);
        let Some(task) = task else {
            return;
        };
        let agent_sla_secs = super::bridge::agent_sla_secs(&self.routing, &task.media.queue.id);
        let agent_name = agent.keycloak_user.username.clone();
        let mut joined = Vec::new();
        self.run(
            now,
            Work::conversation(conversation::Input::AgentJoined {
                conversation_id: conversation_id.clone(),
                agent,
                role: role_for(task.media.direction),
                task_id: Some(task.id.clone()),
                agent_sla_secs,
            }),
            &mut joined,
        );
        let refused = conversation_refused(&joined);
        out.extend(joined);
        if refused {
            // The conversation would not take the agent: the task is given back in
            // this same step, so no desk ever holds it.
            self.run(
                now,
                Work::Routing(routing::Input::CloseTask {
                    task_id: task.id.clone(),
                    disposition: routing::Disposition::Cancelled,
                }),
                out,
            );
            return;
        }
        if !self.conversations.has_primary_agent(&conversation_id) {
            // Its requester left before it was answered (a consult or a conference):
            // the agent that took it carries the chat.
            self.run(
                now,
                Work::conversation(conversation::Input::ChangeRole {
                    conversation_id: conversation_id.clone(),
                    agent_id: agent_id.clone(),
                    role: ParticipantRole::Primary,
                }),
                out,
            );
        }
        out.push(SiteEffect::Accepted {
            agent_id: agent_id.clone(),
            task: Arc::clone(&task),
        });
        // The requester hears who took its request before it leaves (a direct
        // transfer), as the desk protocol orders them.
        out.extend(assistance_notices(&task, &agent_id, &agent_name));
        let leaving = direct_transfer_requester(&task).filter(|requester| {
            let role = self.conversations.agent_role(&conversation_id, requester);
            role.is_some_and(|r| r != ParticipantRole::WrapUp)
        });
        if let Some(requester) = leaving {
            self.run(
                now,
                Work::conversation(conversation::Input::AgentLeft {
                    conversation_id,
                    agent_id: requester,
                    reason: Some("TRANSFERRED".into()),
                }),
                out,
            );
        }
    }

    /// The agent joins a pull-mode request and its conversation (PRIMARY when nobody
    /// is, else ASSISTANT): refused with nothing changed unless routing lets it join
    /// and the conversation is open; a conversation that will not take the agent
    /// takes it out of the request again in the same step.
    pub(super) fn join_pull(
        &mut self,
        now: Millis,
        agent: CcUser,
        request_id: &str,
        out: &mut Vec<SiteEffect>,
    ) {
        let agent_id = agent.id.clone();
        if let Some(request) = self.routing.pull_request(request_id) {
            if self
                .conversations
                .last_seq(&request.conversation_id)
                .is_none()
            {
                out.push(SiteEffect::Conversation(conversation::Effect::Rejected(
                    CoreError::UnknownConversation {
                        conversation_id: request.conversation_id.clone(),
                    },
                )));
                return;
            }
        }
        let mut joined = Vec::new();
        self.run(
            now,
            Work::Routing(routing::Input::JoinPullRequest {
                agent_id: agent_id.clone(),
                request_id: request_id.to_string(),
            }),
            &mut joined,
        );
        let conversation_id = joined.iter().find_map(|e| match e {
            SiteEffect::Routing(routing::Effect::PullRequestJoined {
                agent_id: who,
                request,
            }) if *who == agent_id => Some(request.conversation_id.clone()),
            _ => None,
        });
        out.extend(joined);
        // Without it routing refused the join (its Rejected effect says why).
        let Some(conversation_id) = conversation_id else {
            return;
        };
        let role = match self.conversations.has_primary_agent(&conversation_id) {
            true => ParticipantRole::Assistant,
            false => ParticipantRole::Primary,
        };
        let mut entered = Vec::new();
        self.run(
            now,
            Work::conversation(conversation::Input::AgentJoined {
                conversation_id: conversation_id.clone(),
                agent,
                role,
                task_id: None,
                agent_sla_secs: None,
            }),
            &mut entered,
        );
        let refused = conversation_refused(&entered);
        out.extend(entered);
        if refused {
            self.run(
                now,
                Work::Routing(routing::Input::LeavePullRequest {
                    agent_id,
                    request_id: request_id.to_string(),
                }),
                out,
            );
            return;
        }
        out.push(SiteEffect::PullJoined {
            agent_id,
            conversation_id,
        });
    }

    /// The agent leaves the conversation; a consult transfer it was consulted for
    /// completes first. Returns where the leave's own effects are in `out`.
    pub(super) fn leave(
        &mut self,
        now: Millis,
        agent_id: String,
        conversation_id: String,
        reason: String,
        out: &mut Vec<SiteEffect>,
    ) -> Range<usize> {
        for (original, consult) in consult_transfers(&self.routing, &agent_id, &conversation_id) {
            self.run(
                now,
                Work::Routing(routing::Input::CompleteTransfer {
                    original_task_id: original,
                    new_task_id: consult.id.clone(),
                }),
                out,
            );
            if let Some(new_primary) = consult.assigned_to {
                self.run(
                    now,
                    Work::conversation(conversation::Input::ChangeRole {
                        conversation_id: conversation_id.clone(),
                        agent_id: new_primary,
                        role: ParticipantRole::Primary,
                    }),
                    out,
                );
            }
        }
        self.run(
            now,
            Work::conversation(conversation::Input::AgentLeft {
                conversation_id,
                agent_id,
                reason: Some(reason),
            }),
            out,
        )
    }
}
