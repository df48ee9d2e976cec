//! The callers' side of the driver: the site input each request becomes (with the
//! waiter that answers it) and, once the request's batch has committed, the answer the
//! waiter settles to, read from the state that batch left.

use super::answers::{Outcome, Settled, Waiter};
use super::Driver;
use crate::clock::Millis;
use crate::conversation::handle::{ConversationError, Request, Subscription, Topic};
use crate::conversation::Input;
use crate::routing::MediaState;
use crate::site::{SiteEffect, SiteInput};

impl Driver {
    /// Feeds one request; its outcome is answered after commit.
    pub(super) fn request(
        &mut self,
        now: Millis,
        request: Request,
        effects: &mut Vec<SiteEffect>,
        waiters: &mut Vec<(Waiter, Outcome)>,
    ) {
        let (input, waiter) = match request {
            Request::AgentJoined {
                conversation_id,
                agent,
                role,
                reply,
            } => (
                conversation(Input::AgentJoined {
                    conversation_id: conversation_id.clone(),
                    agent: *agent,
                    role,
                    task_id: None,
                    agent_sla_secs: None,
                }),
                Waiter::Topic(conversation_id, reply),
            ),
            Request::Subscribe {
                conversation_id,
                agent,
                reply,
            } => match self.offered_task(&agent.id, &conversation_id) {
                // An open conversation's offer is accepted; anything else is answered
                // without an input.
                Some(task_id)
                    if self
                        .site
                        .conversations()
                        .last_seq(&conversation_id)
                        .is_some() =>
                {
                    (
                        SiteInput::Accept { agent, task_id },
                        Waiter::Subscription(reply),
                    )
                }
                _ => {
                    // Nothing to accept: answered, once the batches before it have
                    // committed, with whether the agent is in the conversation.
                    let outcome = Outcome {
                        rejected: self.not_subscribable(&agent.id, &conversation_id),
                        ..Outcome::default()
                    };
                    waiters.push((Waiter::Subscription(reply), outcome));
                    return;
                }
            },
            Request::JoinPull {
                request_id,
                agent,
                reply,
            } => (
                SiteInput::JoinPull { agent, request_id },
                Waiter::PullJoined(reply),
            ),
            Request::AgentLeft {
                conversation_id,
                agent_id,
                reason,
                reply,
            } => (
                SiteInput::Leave {
                    agent_id,
                    conversation_id,
                    reason,
                },
                Waiter::Unit(reply),
            ),
            Request::AgentEvent {
                conversation_id,
                agent_id,
                event,
                reply,
            } => (
                conversation(Input::AgentEvent {
                    conversation_id: conversation_id.clone(),
                    agent_id,
                    event: *event,
                }),
                Waiter::Seq(conversation_id, reply),
            ),
            Request::CloseWrapup {
                conversation_id,
                agent_id,
                event,
                reply,
            } => (
                conversation(Input::CloseWrapup {
                    conversation_id,
                    agent_id,
                    event: *event,
                }),
                Waiter::Unit(reply),
            ),
            Request::Topic {
                conversation_id,
                reply,
            } => {
                // No input: answered with the state after this batch commits.
                waiters.push((Waiter::Topic(conversation_id, reply), Outcome::default()));
                return;
            }
            Request::ConversationsOfAgent { agent_id, reply } => {
                // Answered like a topic: with the state after this batch, once the
                // batches before it have committed.
                waiters.push((
                    Waiter::AgentConversations(agent_id, reply),
                    Outcome::default(),
                ));
                return;
            }
            Request::ChatRequested { session, reply } => (
                conversation(Input::ChatRequested {
                    channel_session: session,
                }),
                Waiter::ChatTopic(reply),
            ),
            Request::CustomerMessage {
                session,
                message,
                reply,
            } => (
                conversation(Input::CustomerMessage {
                    channel_session: session,
                    message,
                }),
                Waiter::Message(reply),
            ),
            Request::CustomerLeft {
                channel_session_id,
                reason,
                reply,
            } => (
                conversation(Input::CustomerLeft {
                    channel_session_id,
                    reason,
                }),
                Waiter::Unit(reply),
            ),
            Request::MessageLeft {
                session,
                message,
                opens_at,
                reply,
            } => (
                conversation(Input::MessageLeft {
                    channel_session: session,
                    message,
                    opens_at,
                }),
                Waiter::Message(reply),
            ),
            Request::HoursChanged {
                channel_id,
                opens_at,
            } => {
                let input = Input::HoursChanged {
                    channel_id,
                    opens_at,
                };
                effects.extend(
                    self.site
                        .handle(now, SiteInput::Conversation(Box::new(input))),
                );
                return;
            }
        };
        let step = self.site.handle_step(now, input);
        let outcome = match waiter {
            Waiter::Subscription(_) | Waiter::PullJoined(_) => Outcome::of_desk_step(&step.effects),
            _ => Outcome::of(
                step.effects[step.own.clone()]
                    .iter()
                    .filter_map(|e| match e {
                        SiteEffect::Conversation(e) => Some(e),
                        _ => None,
                    }),
            ),
        };
        waiters.push((waiter, outcome));
        effects.extend(step.effects);
    }

    /// The task of `conversation_id` offered to `agent_id` (RESERVED for it), if any.
    fn offered_task(&self, agent_id: &str, conversation_id: &str) -> Option<String> {
        self.site
            .routing()
            .tasks_of_agent(agent_id)
            .into_iter()
            .find(|t| t.conversation_id == conversation_id && t.media.state == MediaState::Reserved)
            .map(|t| t.id.clone())
    }

    /// Why an agent offered nothing in the conversation may not subscribe to it: the
    /// conversation is not open, or the agent is not in it.
    fn not_subscribable(&self, agent_id: &str, conversation_id: &str) -> Option<ConversationError> {
        let conversations = self.site.conversations();
        if conversations.last_seq(conversation_id).is_none() {
            return Some(ConversationError::NotFound(format!(
                "conversation {conversation_id}"
            )));
        }
        conversations
            .agent_role(conversation_id, agent_id)
            .is_none()
            .then(|| ConversationError::Refused {
                code: "no_task",
                message: format!(
                    "no task of conversation {conversation_id} is offered to this agent"
                ),
            })
    }

    /// The answer a caller gets once its batch has committed.
    pub(super) fn settle(&self, waiter: Waiter, outcome: Outcome) -> Settled {
        let Outcome {
            rejected,
            ack,
            session_started,
            accepted,
            pull_joined,
        } = outcome;
        match waiter {
            Waiter::Unit(reply) => Settled::Unit(reply, rejected.map_or(Ok(()), Err)),
            Waiter::Topic(id, reply) => {
                let answer = match rejected {
                    Some(e) => Err(e),
                    None => self.topic(&id),
                };
                Settled::Topic(reply, Box::new(answer))
            }
            Waiter::Seq(id, reply) => {
                let answer = match rejected {
                    Some(e) => Err(e),
                    None => Ok(ack
                        .map(|a| a.seq)
                        .or_else(|| self.site.conversations().last_seq(&id))
                        .unwrap_or(0)),
                };
                Settled::Seq(reply, answer)
            }
            Waiter::Message(reply) => {
                let answer = match rejected {
                    Some(e) => Err(e),
                    None => ack
                        .ok_or_else(|| ConversationError::Invalid("message was not stored".into())),
                };
                Settled::Message(reply, answer)
            }
            Waiter::ChatTopic(reply) => {
                let answer = match rejected {
                    Some(e) => Err(e),
                    None => session_started
                        .ok_or_else(|| ConversationError::WrongState("no session started".into()))
                        .and_then(|id| self.topic(&id)),
                };
                Settled::Topic(reply, Box::new(answer))
            }
            Waiter::Subscription(reply) => {
                let answer = match (rejected, accepted) {
                    (Some(e), _) => Err(e),
                    (None, true) => Ok(Subscription::Accepted),
                    (None, false) => Ok(Subscription::AlreadyIn),
                };
                Settled::Subscription(reply, answer)
            }
            Waiter::PullJoined(reply) => {
                let answer = match (rejected, pull_joined) {
                    (Some(e), _) => Err(e),
                    (None, Some(id)) => Ok(id),
                    (None, None) => Err(ConversationError::WrongState(
                        "the request could not be joined".into(),
                    )),
                };
                Settled::PullJoined(reply, answer)
            }
            Waiter::AgentConversations(agent_id, reply) => Settled::AgentConversations(
                reply,
                self.site.conversations().agent_conversations(&agent_id),
            ),
        }
    }

    fn topic(&self, conversation_id: &str) -> Result<Topic, ConversationError> {
        let record = self
            .site
            .conversations()
            .conversation(conversation_id)
            .ok_or_else(|| {
                ConversationError::NotFound(format!("conversation {conversation_id}"))
            })?;
        Ok(Topic {
            conversation: record.conversation,
            last_seq: self
                .site
                .conversations()
                .last_seq(conversation_id)
                .unwrap_or(0),
        })
    }
}

fn conversation(input: Input) -> SiteInput {
    SiteInput::Conversation(Box::new(input))
}
