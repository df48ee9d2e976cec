//! One desk session: the agent, its socket, and per conversation the highest
//! sequence number delivered, so replays and live events never lose or repeat one.

use crate::cim::{CcUser, UserTeam};
use crate::socketio::Socket;
use crate::store::users::{Role, User};
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub struct DeskSession {
    pub user: User,
    pub socket: Socket,
    /// `publishCimEvent`s of this desk being stored at once (see the namespace).
    pub publish_slots: Arc<tokio::sync::Semaphore>,
    topics: Mutex<Topics>,
}

/// How many of one desk's `publishCimEvent`s may await their commit together.
const PUBLISHES_IN_FLIGHT: usize = 32;

struct Topics {
    by_conversation: HashMap<String, TopicDelivery>,
    /// Until the greeting has sent the agent's open topics, every live event waits,
    /// so none arrives before (or again inside) its conversation's onTopicData.
    greeting: bool,
}

#[derive(Default)]
struct TopicDelivery {
    delivered_seq: u64,
    /// While a subscription replays history, live events wait here.
    buffered: Option<Vec<(u64, Arc<str>)>>,
}

impl DeskSession {
    pub fn new(user: User, socket: Socket) -> Self {
        DeskSession {
            user,
            socket,
            publish_slots: Arc::new(tokio::sync::Semaphore::new(PUBLISHES_IN_FLIGHT)),
            topics: Mutex::new(Topics {
                by_conversation: HashMap::new(),
                greeting: true,
            }),
        }
    }

    /// The agent as a CCUser, built when needed: presence updates and joins are rare next
    /// to the time a desk stays connected, and a stored copy would cost every idle desk
    /// most of a kilobyte.
    pub fn cc_user(&self) -> CcUser {
        cc_user_of(&self.user)
    }

    pub fn agent_id(&self) -> &str {
        &self.user.id
    }

    pub fn is_supervisor(&self) -> bool {
        self.user.role >= Role::Supervisor
    }

    /// Whether this session's user supervises `team_id` (admins supervise every team).
    pub fn supervises(&self, team_id: &str) -> bool {
        self.user.role == Role::Admin
            || self
                .user
                .supervised_teams
                .iter()
                .any(|t| t.team_id == team_id)
    }

    /// Emits, logging a failure (the socket's own policy closes slow connections).
    pub fn emit(&self, event: &str, data: Value) {
        if let Err(e) = self.socket.emit(event, data) {
            tracing::debug!(agent = %self.user.username, event, error = %e, "desk emit failed");
        }
    }

    /// [`DeskSession::emit`] of data already encoded as JSON text.
    pub fn emit_json(&self, event: &str, json: &str) {
        if let Err(e) = self.socket.emit_json(event, json) {
            tracing::debug!(agent = %self.user.username, event, error = %e, "desk emit failed");
        }
    }

    /// Delivers a live conversation event in order: held back while the topic
    /// replays, dropped when the replay already carried it.
    /// `event` is the wire JSON text (the event with its `seq`).
    pub fn deliver_event(&self, conversation_id: &str, seq: u64, event: &Arc<str>) {
        let mut topics = self.topics.lock();
        let greeting = topics.greeting;
        if !topics.by_conversation.contains_key(conversation_id) {
            topics
                .by_conversation
                .insert(conversation_id.to_string(), TopicDelivery::default());
        }
        let Some(topic) = topics.by_conversation.get_mut(conversation_id) else {
            return;
        };
        if greeting {
            topic.buffered.get_or_insert_with(Vec::new);
        }
        if let Some(buffer) = &mut topic.buffered {
            buffer.push((seq, event.clone()));
            return;
        }
        if seq > topic.delivered_seq {
            topic.delivered_seq = seq;
            self.emit_json("onCimEvent", event);
        }
    }

    /// Delivers an ephemeral event (typing) of a conversation this desk follows; it has
    /// no `seq`, so it is never held for a replay nor deduplicated: during a replay it
    /// is dropped (it would be stale by the time the replay ends).
    pub fn deliver_ephemeral(&self, conversation_id: &str, event: &Arc<str>) {
        let replaying = {
            let topics = self.topics.lock();
            topics.greeting
                || topics
                    .by_conversation
                    .get(conversation_id)
                    .is_some_and(|t| t.buffered.is_some())
        };
        if !replaying {
            self.emit_json("onCimEvent", event);
        }
    }

    /// Starts holding live events of a conversation back while its history is read.
    pub fn begin_replay(&self, conversation_id: &str) {
        let mut topics = self.topics.lock();
        let topic = topics
            .by_conversation
            .entry(conversation_id.to_string())
            .or_default();
        topic.buffered.get_or_insert_with(Vec::new);
    }

    /// Ends a replay that delivered up to `replayed_seq`: releases held events above it.
    pub fn end_replay(&self, conversation_id: &str, replayed_seq: u64) {
        let mut topics = self.topics.lock();
        let topic = topics
            .by_conversation
            .entry(conversation_id.to_string())
            .or_default();
        topic.delivered_seq = topic.delivered_seq.max(replayed_seq);
        self.release(topic);
    }

    /// Ends the greeting: events still held (conversations it did not send) go out.
    pub fn end_greeting(&self) {
        let mut topics = self.topics.lock();
        topics.greeting = false;
        for topic in topics.by_conversation.values_mut() {
            self.release(topic);
        }
    }

    fn release(&self, topic: &mut TopicDelivery) {
        let held = topic.buffered.take().unwrap_or_default();
        for (seq, event) in held {
            if seq > topic.delivered_seq {
                topic.delivered_seq = seq;
                self.emit_json("onCimEvent", &event);
            }
        }
    }

    /// Whether the desk follows the conversation (it subscribed, or was delivered
    /// one of its events).
    pub fn follows(&self, conversation_id: &str) -> bool {
        self.topics
            .lock()
            .by_conversation
            .contains_key(conversation_id)
    }

    /// Forgets a conversation the agent left.
    pub fn forget_topic(&self, conversation_id: &str) {
        self.topics.lock().by_conversation.remove(conversation_id);
    }
}

/// The CCUser shape of a Switchboard user: roles as the documented platform names
/// them (a supervisor is also an agent).
pub fn cc_user_of(user: &User) -> CcUser {
    let roles = match user.role {
        Role::Agent => vec!["agent".to_string()],
        Role::Supervisor => vec!["agent".to_string(), "supervisor".to_string()],
        Role::Admin => vec!["admin".to_string(), "supervisor".to_string()],
    };
    let team = match (&user.team_id, &user.team_name) {
        (Some(id), Some(name)) => Some(UserTeam::new(id.clone(), name.clone())),
        _ => None,
    };
    let mut cc = CcUser::new(user.id.clone(), user.username.clone(), roles, team);
    cc.keycloak_user.first_name = user.first_name.clone().into();
    cc.keycloak_user.last_name = user.last_name.clone().into();
    if !user.supervised_teams.is_empty() {
        cc.keycloak_user.supervised_teams = user
            .supervised_teams
            .iter()
            .map(|t| UserTeam::new(t.team_id.clone(), t.team_name.clone()))
            .collect::<Vec<_>>()
            .into();
    }
    cc
}
