//! The callers' side of the driver: the core input each request becomes (with the
//! waiter that answers it) and, once the request's batch has committed, the answer the
//! waiter settles to, read from the state that batch left.

use super::Driver;
use crate::clock::Millis;
use crate::conversation::answers::{Outcome, Settled, Waiter};
use crate::conversation::handle::{ConversationError, Request, Topic};
use crate::conversation::Input;
use crate::site::{SiteEffect, SiteInput};
use serde_json::Value;

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
                task,
                reply,
            } => {
                let task_id = task
                    .as_ref()
                    .and_then(|t| t.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let agent_sla_secs = task
                    .as_ref()
                    .and_then(|t| t.pointer("/activeMedia/0/queue/id"))
                    .and_then(Value::as_str)
                    .and_then(|q| crate::site::bridge::agent_sla_secs(self.site.routing(), q));
                (
                    Input::AgentJoined {
                        conversation_id: conversation_id.clone(),
                        agent: *agent,
                        role,
                        task_id,
                        agent_sla_secs,
                    },
                    Waiter::Topic(conversation_id, reply),
                )
            }
            Request::AgentLeft {
                conversation_id,
                agent_id,
                reason,
                reply,
            } => (
                Input::AgentLeft {
                    conversation_id,
                    agent_id,
                    reason: Some(reason),
                },
                Waiter::Unit(reply),
            ),
            Request::AgentEvent {
                conversation_id,
                agent_id,
                event,
                reply,
            } => (
                Input::AgentEvent {
                    conversation_id: conversation_id.clone(),
                    agent_id,
                    event: *event,
                },
                Waiter::Seq(conversation_id, reply),
            ),
            Request::CloseWrapup {
                conversation_id,
                agent_id,
                event,
                reply,
            } => (
                Input::CloseWrapup {
                    conversation_id,
                    agent_id,
                    event: *event,
                },
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
            Request::ChangeRole {
                conversation_id,
                agent_id,
                role,
                reply,
            } => (
                Input::ChangeRole {
                    conversation_id,
                    agent_id,
                    role,
                },
                Waiter::Unit(reply),
            ),
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
                Input::ChatRequested {
                    channel_session: session,
                },
                Waiter::ChatTopic(reply),
            ),
            Request::CustomerMessage {
                session,
                message,
                reply,
            } => (
                Input::CustomerMessage {
                    channel_session: session,
                    message,
                },
                Waiter::Message(reply),
            ),
            Request::CustomerLeft {
                channel_session_id,
                reason,
                reply,
            } => (
                Input::CustomerLeft {
                    channel_session_id,
                    reason,
                },
                Waiter::Unit(reply),
            ),
            Request::MessageLeft {
                session,
                message,
                opens_at,
                reply,
            } => (
                Input::MessageLeft {
                    channel_session: session,
                    message,
                    opens_at,
                },
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
        let step = self
            .site
            .handle_step(now, SiteInput::Conversation(Box::new(input)));
        let own = step.effects[..step.direct].iter().filter_map(|e| match e {
            SiteEffect::Conversation(e) => Some(e),
            _ => None,
        });
        waiters.push((waiter, Outcome::of(own)));
        effects.extend(step.effects);
    }

    /// The answer a caller gets once its batch has committed.
    pub(super) fn settle(&self, waiter: Waiter, outcome: Outcome) -> Settled {
        let Outcome {
            rejected,
            ack,
            session_started,
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
