//! Conversation callers' answers in the engine driver: what a caller waits for
//! ([`Waiter`]), what its input produced ([`Outcome`]) and the answer settled from
//! the state its batch left ([`Settled`]), sent only once that batch has committed.

use crate::conversation::handle::{ConversationError, MessageAck, Reply, Subscription, Topic};
use crate::conversation::{CoreError, Effect};
use crate::site::SiteEffect;
use crate::store::StoreError;
use tokio::sync::oneshot;

/// A caller waiting for the outcome of its input, answered after commit.
pub(super) enum Waiter {
    Topic(String, Reply<Topic>),
    Unit(Reply<()>),
    Seq(String, Reply<u64>),
    Message(Reply<MessageAck>),
    ChatTopic(Reply<Topic>),
    AgentConversations(String, oneshot::Sender<Vec<String>>),
    Subscription(Reply<Subscription>),
    PullJoined(Reply<String>),
}

/// A caller's answer, settled when its batch was handled and sent after the commit.
pub(super) enum Settled {
    Topic(Reply<Topic>, Box<Result<Topic, ConversationError>>),
    Unit(Reply<()>, Result<(), ConversationError>),
    Seq(Reply<u64>, Result<u64, ConversationError>),
    Message(Reply<MessageAck>, Result<MessageAck, ConversationError>),
    AgentConversations(oneshot::Sender<Vec<String>>, Vec<String>),
    Subscription(Reply<Subscription>, Result<Subscription, ConversationError>),
    PullJoined(Reply<String>, Result<String, ConversationError>),
}

impl Settled {
    pub(super) fn send(self) {
        match self {
            Settled::Topic(r, a) => drop(r.send(*a)),
            Settled::Unit(r, a) => drop(r.send(a)),
            Settled::Seq(r, a) => drop(r.send(a)),
            Settled::Message(r, a) => drop(r.send(a)),
            Settled::AgentConversations(r, a) => drop(r.send(a)),
            Settled::Subscription(r, a) => drop(r.send(a)),
            Settled::PullJoined(r, a) => drop(r.send(a)),
        }
    }

    fn fail(self, err: ConversationError) {
        match self {
            Settled::Topic(r, _) => drop(r.send(Err(err))),
            Settled::Unit(r, _) => drop(r.send(Err(err))),
            Settled::Seq(r, _) => drop(r.send(Err(err))),
            Settled::Message(r, _) => drop(r.send(Err(err))),
            Settled::Subscription(r, _) => drop(r.send(Err(err))),
            Settled::PullJoined(r, _) => drop(r.send(Err(err))),
            // No error to give: the caller sees the answer dropped (no conversations).
            Settled::AgentConversations(r, _) => drop(r),
        }
    }
}

/// A batch that could not be stored: nothing of it is delivered; its callers hear why.
pub(super) fn store_failed(err: &StoreError, answers: Vec<Settled>) {
    tracing::error!(error = %err, "conversation step could not be stored; nothing is delivered");
    let err = ConversationError::Unavailable(format!("store: {err}"));
    for answer in answers {
        answer.fail(err.clone());
    }
}

fn core_error(err: &CoreError) -> ConversationError {
    ConversationError::Refused {
        code: err.code(),
        message: err.to_string(),
    }
}

/// What a waiting caller needs from the effects its input produced.
#[derive(Default)]
pub(super) struct Outcome {
    pub(super) rejected: Option<ConversationError>,
    pub(super) ack: Option<MessageAck>,
    pub(super) session_started: Option<String>,
    /// A desk's accept made its task ACTIVE.
    pub(super) accepted: bool,
    /// The conversation a desk's pull-mode join entered.
    pub(super) pull_joined: Option<String>,
}

impl Outcome {
    pub(super) fn of<'a>(produced: impl IntoIterator<Item = &'a Effect>) -> Outcome {
        let mut outcome = Outcome::default();
        for effect in produced {
            match effect {
                Effect::Rejected(err) if outcome.rejected.is_none() => {
                    outcome.rejected = Some(core_error(err));
                }
                Effect::Ack {
                    conversation_id,
                    seq,
                    duplicate,
                    ..
                } if outcome.ack.is_none() => {
                    outcome.ack = Some(MessageAck {
                        conversation_id: conversation_id.clone(),
                        seq: *seq,
                        duplicate: *duplicate,
                    });
                }
                Effect::ChannelSessionStarted {
                    conversation_id, ..
                } if outcome.session_started.is_none() => {
                    outcome.session_started = Some(conversation_id.clone());
                }
                _ => {}
            }
        }
        outcome
    }

    /// What a desk's step across both cores (`SiteInput::Accept`, `JoinPull`)
    /// produced: the accepted task or the joined conversation, or else the first
    /// refusal of either core. Once the agent is in, a later refusal in the step (a
    /// transfer's requester that could not leave, say) does not make it a failure.
    pub(super) fn of_desk_step(produced: &[SiteEffect]) -> Outcome {
        let mut outcome = Outcome::default();
        for effect in produced {
            match effect {
                SiteEffect::Accepted { .. } => outcome.accepted = true,
                SiteEffect::PullJoined {
                    conversation_id, ..
                } => outcome.pull_joined = Some(conversation_id.clone()),
                SiteEffect::Routing(crate::routing::Effect::Rejected { error, .. })
                    if outcome.rejected.is_none() =>
                {
                    outcome.rejected = Some(ConversationError::Refused {
                        code: error.code(),
                        message: error.to_string(),
                    });
                }
                SiteEffect::Conversation(Effect::Rejected(err)) if outcome.rejected.is_none() => {
                    outcome.rejected = Some(core_error(err));
                }
                _ => {}
            }
        }
        if outcome.accepted || outcome.pull_joined.is_some() {
            outcome.rejected = None;
        }
        outcome
    }
}
