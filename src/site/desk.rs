//! A desk's steps that span both cores: accepting an offered task (the task goes
//! ACTIVE and the agent joins the conversation with the role its kind of request
//! gives; a direct transfer's requester leaves) and leaving a conversation (a consult
//! transfer the agent was consulted for completes first). The engine driver feeds a
//! desk's `topicSubscription` and `topicUnsubscription` here, so neither has a
//! round trip between the cores nor anything to undo.

use super::{RoutingSteps, Site, SiteEffect, Work};
use crate::cim::{CcUser, ParticipantRole};
use crate::clock::Millis;
use crate::conversation::{self, CoreError, IdGen};
use crate::routing::{self, Direction, MediaState, RoutingCore, Task};
use serde_json::Value;
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
pub fn direct_transfer_requester(task: &Task) -> Option<String> {
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
    core.tasks()
        .filter(|t| {
            t.conversation_id == conversation_id
                && t.routing.related_task.as_deref() == Some(own.id.as_str())
                && t.media.state == MediaState::Active
                && t.media.metadata.get("requestType").and_then(Value::as_str)
                    == Some("CONSULT_TRANSFER")
        })
        .map(|consult| (own.id.clone(), consult.clone()))
        .collect()
}

impl<I: IdGen, S: RoutingSteps> Site<I, S> {
    /// Accepts the task offered to `agent`: refused with nothing changed unless the
    /// task is reserved for it and its conversation is open.
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
        if self.conversations.last_seq(&conversation_id).is_none() {
            out.push(SiteEffect::Conversation(conversation::Effect::Rejected(
                CoreError::UnknownConversation { conversation_id },
            )));
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
        let refused = joined.iter().any(|e| {
            matches!(
                e,
                SiteEffect::Conversation(conversation::Effect::Rejected(_))
            )
        });
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
        if let Some(requester) = direct_transfer_requester(&task) {
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
        out.push(SiteEffect::Accepted {
            agent_id,
            task: Arc::clone(&task),
        });
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
        let open = |site: &Self, conversation_id: &str| {
            site.conversations.last_seq(conversation_id).is_some()
        };
        if let Some(request) = self.routing.pull_request(request_id) {
            if !open(self, &request.conversation_id) {
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
        let refused = entered.iter().any(|e| {
            matches!(
                e,
                SiteEffect::Conversation(conversation::Effect::Rejected(_))
            )
        });
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
