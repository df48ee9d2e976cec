//! The conversation manager's public handle: what the agent manager and the
//! channels ask of it. Every call resolves after the change it causes is committed.

use crate::cim::{
    CcUser, ChannelSession, ChannelSessionReasonCode, CimEvent, CimMessage, Conversation,
    ParticipantRole,
};
use crate::store::{events, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The answer to a request already queued with the conversation manager.
pub type Pending<T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, ConversationError>> + Send>>;

/// A conversation as a desk or widget subscribes to it.
#[derive(Debug, Clone)]
pub struct Topic {
    pub conversation: Conversation,
    pub last_seq: u64,
}

/// The answer to an inbound customer message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageAck {
    pub conversation_id: String,
    pub seq: u64,
    /// The message id was seen before; nothing new was stored.
    pub duplicate: bool,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ConversationError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("agent {agent_id} is not a participant of conversation {conversation_id}")]
    NotParticipant {
        agent_id: String,
        conversation_id: String,
    },
    #[error("{0}")]
    WrongState(String),
    #[error("{0}")]
    Invalid(String),
    #[error("conversation manager unavailable: {0}")]
    Unavailable(String),
    /// The conversation core refused the request; `code` is its stable code
    /// (`unknown_conversation`, `not_a_participant`, `in_wrapup`, ...).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
}

impl ConversationError {
    /// The stable code desks and connectors match on.
    pub fn code(&self) -> &'static str {
        match self {
            ConversationError::NotFound(_) => "not_found",
            ConversationError::NotParticipant { .. } => "not_participant",
            ConversationError::WrongState(_) => "wrong_state",
            ConversationError::Invalid(_) => "invalid",
            ConversationError::Unavailable(_) => "unavailable",
            ConversationError::Refused { code, .. } => code,
        }
    }
}

/// What a desk's `topicSubscription` did.
#[derive(Debug, Clone)]
pub enum Subscription {
    /// The offered task is now ACTIVE and the agent in the conversation.
    Accepted,
    /// Nothing was offered; the agent was in the conversation already.
    AlreadyIn,
}

pub type Reply<T> = oneshot::Sender<Result<T, ConversationError>>;

/// Requests the driver serves, one per handle method.
pub enum Request {
    AgentJoined {
        conversation_id: String,
        agent: Box<CcUser>,
        role: ParticipantRole,
        reply: Reply<Topic>,
    },
    Subscribe {
        conversation_id: String,
        agent: Box<CcUser>,
        reply: Reply<Subscription>,
    },
    JoinPull {
        request_id: String,
        agent: Box<CcUser>,
        reply: Reply<String>,
    },
    AgentLeft {
        conversation_id: String,
        agent_id: String,
        reason: String,
        reply: Reply<()>,
    },
    AgentEvent {
        conversation_id: String,
        agent_id: String,
        event: Box<CimEvent>,
        reply: Reply<u64>,
    },
    CloseWrapup {
        conversation_id: String,
        agent_id: String,
        event: Box<CimEvent>,
        reply: Reply<()>,
    },
    Topic {
        conversation_id: String,
        reply: Reply<Topic>,
    },
    ConversationsOfAgent {
        agent_id: String,
        reply: oneshot::Sender<Vec<String>>,
    },
    ChatRequested {
        session: Box<ChannelSession>,
        reply: Reply<Topic>,
    },
    CustomerMessage {
        session: Arc<ChannelSession>,
        message: Box<CimMessage>,
        reply: Reply<MessageAck>,
    },
    CustomerLeft {
        channel_session_id: String,
        reason: ChannelSessionReasonCode,
        reply: Reply<()>,
    },
    MessageLeft {
        session: Box<ChannelSession>,
        message: Box<CimMessage>,
        opens_at: Option<crate::clock::Millis>,
        reply: Reply<MessageAck>,
    },
    /// A channel's business hours changed (admin API).
    HoursChanged {
        channel_id: String,
        opens_at: Option<crate::clock::Millis>,
    },
}

#[derive(Clone)]
pub struct ConversationHandle {
    tx: mpsc::UnboundedSender<Request>,
    store: Store,
}

impl ConversationHandle {
    pub fn new(tx: mpsc::UnboundedSender<Request>, store: Store) -> Self {
        Self { tx, store }
    }

    /// Sends the request now (so requests keep their callers' order) and returns the
    /// wait for its answer.
    fn ask_now<T: Send + 'static>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Pending<T> {
        let (tx, rx) = oneshot::channel();
        let sent = self.tx.send(make(tx)).is_ok();
        Box::pin(async move {
            if !sent {
                return Err(ConversationError::Unavailable("stopped".into()));
            }
            rx.await
                .map_err(|_| ConversationError::Unavailable("stopped".into()))?
        })
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, ConversationError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .map_err(|_| ConversationError::Unavailable("stopped".into()))?;
        rx.await
            .map_err(|_| ConversationError::Unavailable("stopped".into()))?
    }

    /// An agent joins with no task of its own (a supervisor's monitor, whisper or
    /// barge-in).
    pub async fn agent_joined(
        &self,
        conversation_id: &str,
        agent: CcUser,
        role: ParticipantRole,
    ) -> Result<Topic, ConversationError> {
        self.ask(|reply| Request::AgentJoined {
            conversation_id: conversation_id.to_string(),
            agent: Box::new(agent),
            role,
            reply,
        })
        .await
    }

    /// A desk's `topicSubscription`: accepts the task offered to `agent` in the
    /// conversation (in one engine step: the task goes ACTIVE, the agent joins, a
    /// direct transfer's requester leaves), or finds the agent already in it.
    /// Refused with `no_task` when neither.
    pub async fn subscribe(
        &self,
        conversation_id: &str,
        agent: CcUser,
    ) -> Result<Subscription, ConversationError> {
        self.ask(|reply| Request::Subscribe {
            conversation_id: conversation_id.to_string(),
            agent: Box::new(agent),
            reply,
        })
        .await
    }

    /// A desk's `joinPullModeRequest`: the agent joins the request and its
    /// conversation in one engine step; answered with the conversation's id.
    pub async fn join_pull(
        &self,
        request_id: &str,
        agent: CcUser,
    ) -> Result<String, ConversationError> {
        self.ask(|reply| Request::JoinPull {
            request_id: request_id.to_string(),
            agent: Box::new(agent),
            reply,
        })
        .await
    }

    /// The agent leaves the conversation (a consult transfer it was consulted for
    /// completes first, in the same engine step).
    pub async fn agent_left(
        &self,
        conversation_id: &str,
        agent_id: &str,
        reason: &str,
    ) -> Result<(), ConversationError> {
        self.ask(|reply| Request::AgentLeft {
            conversation_id: conversation_id.to_string(),
            agent_id: agent_id.to_string(),
            reason: reason.to_string(),
            reply,
        })
        .await
    }

    /// An in-conversation event from a desk; returns its sequence number.
    /// An agent's event (message, typing, whisper, ...): queued for the conversation
    /// manager before this returns; the future resolves with its seq after commit.
    pub fn agent_event(
        &self,
        conversation_id: &str,
        agent_id: &str,
        event: CimEvent,
    ) -> Pending<u64> {
        self.ask_now(|reply| Request::AgentEvent {
            conversation_id: conversation_id.to_string(),
            agent_id: agent_id.to_string(),
            event: Box::new(event),
            reply,
        })
    }

    pub async fn close_wrapup(
        &self,
        conversation_id: &str,
        agent_id: &str,
        event: CimEvent,
    ) -> Result<(), ConversationError> {
        self.ask(|reply| Request::CloseWrapup {
            conversation_id: conversation_id.to_string(),
            agent_id: agent_id.to_string(),
            event: Box::new(event),
            reply,
        })
        .await
    }

    pub async fn topic(&self, conversation_id: &str) -> Result<Topic, ConversationError> {
        self.ask(|reply| Request::Topic {
            conversation_id: conversation_id.to_string(),
            reply,
        })
        .await
    }

    /// Open conversations the agent takes part in.
    pub async fn conversations_of_agent(&self, agent_id: &str) -> Vec<String> {
        let (tx, rx) = oneshot::channel();
        if self
            .tx
            .send(Request::ConversationsOfAgent {
                agent_id: agent_id.to_string(),
                reply: tx,
            })
            .is_err()
        {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    pub async fn chat_requested(
        &self,
        session: ChannelSession,
    ) -> Result<Topic, ConversationError> {
        self.ask(|reply| Request::ChatRequested {
            session: Box::new(session),
            reply,
        })
        .await
    }

    /// Stores an inbound message once: a retry of a stored message id (even of a
    /// conversation closed since) is acknowledged again without a new event. A typing
    /// indicator is delivered, not stored: its ack has `seq` 0 (`typing::EPHEMERAL_SEQ`).
    pub async fn customer_message(
        &self,
        session: Arc<ChannelSession>,
        message: CimMessage,
    ) -> Result<MessageAck, ConversationError> {
        if matches!(message.body, crate::cim::MessageBody::Notification(_)) {
            // A typing indicator is never stored, so there is nothing to look up.
            return self
                .ask(|reply| Request::CustomerMessage {
                    session,
                    message: Box::new(message),
                    reply,
                })
                .await;
        }
        let id = message.id.clone();
        let stored = self
            .store
            .find(move |c| events::find_message(c, &id))
            .await
            .map_err(|e| ConversationError::Unavailable(e.to_string()))?;
        if let Some((conversation_id, seq, customer_id)) = stored {
            // Message ids are idempotency keys of one customer's messages: another
            // customer reusing one learns nothing about the first.
            if session.customer.id().is_some_and(|c| c != customer_id) {
                return Err(ConversationError::Refused {
                    code: "id_in_use",
                    message: format!("message id {} is already in use", message.id),
                });
            }
            return Ok(MessageAck {
                conversation_id,
                seq,
                duplicate: true,
            });
        }
        self.ask(|reply| Request::CustomerMessage {
            session,
            message: Box::new(message),
            reply,
        })
        .await
    }

    /// Stores a message left outside business hours in a new conversation that is
    /// routed at `opens_at` (see `conversation::hours_hold`).
    pub async fn message_left(
        &self,
        session: ChannelSession,
        message: CimMessage,
        opens_at: Option<crate::clock::Millis>,
    ) -> Result<MessageAck, ConversationError> {
        self.ask(|reply| Request::MessageLeft {
            session: Box::new(session),
            message: Box::new(message),
            opens_at,
            reply,
        })
        .await
    }

    /// Tells the manager a channel's hours now open next at `opens_at`, for the
    /// messages left on it.
    pub fn hours_changed(&self, channel_id: &str, opens_at: Option<crate::clock::Millis>) {
        let _ = self.tx.send(Request::HoursChanged {
            channel_id: channel_id.to_string(),
            opens_at,
        });
    }

    pub async fn customer_left(
        &self,
        channel_session_id: &str,
        reason: ChannelSessionReasonCode,
    ) -> Result<(), ConversationError> {
        self.ask(|reply| Request::CustomerLeft {
            channel_session_id: channel_session_id.to_string(),
            reason,
            reply,
        })
        .await
    }
}
