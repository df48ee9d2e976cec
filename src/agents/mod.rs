//! The agent manager: desk sessions on the Socket.IO namespace `/`, desk events
//! turned into routing and conversation requests, and committed routing effects
//! and conversation events delivered back to the desks.
//!
//! - `session`: one desk session per agent, with per-conversation delivery order
//! - `namespace`: authentication, takeover, event dispatch, disconnects
//! - `handlers`: one function per desk event
//! - `presence`: the `agentPresence` payload
//! - `outbound`: routing effects and conversation deliveries to desks

mod handlers;
mod namespace;
mod outbound;
mod presence;
mod session;

/// What a refused desk request gets (the `errors` event and the ack).
pub use crate::refusal::Refusal as DeskError;
pub use namespace::DeskNamespace;
pub use session::DeskSession;

use crate::conversation::handle::ConversationHandle;
use crate::routing::RoutingHandle;
use crate::sessions::Sessions;
use crate::store::Store;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::delivery::ToDesk;

/// Settings the agent manager needs.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    pub wrapup_enabled: bool,
    /// Most participants (customer included) a barge-in may bring a conversation to.
    pub max_participants: usize,
    /// Signs the attachment URLs of a topic's events afresh (they expire).
    pub attachment_urls: Option<crate::attachments::signing::Signer>,
}

/// Shared by the namespace, the handlers and the outbound tasks. Cheap to clone.
#[derive(Clone)]
pub struct AgentManager {
    inner: Arc<Inner>,
}

struct Inner {
    /// Live session of each agent.
    sessions: RwLock<HashMap<String, Arc<DeskSession>>>,
    /// Session of each socket, including a replaced one until it has disconnected.
    sockets: RwLock<HashMap<String, Arc<DeskSession>>>,
    routing: RoutingHandle,
    conversations: ConversationHandle,
    store: Store,
    tokens: Sessions,
    settings: AgentSettings,
}

impl AgentManager {
    pub fn new(
        routing: RoutingHandle,
        conversations: ConversationHandle,
        store: Store,
        sessions: Sessions,
        settings: AgentSettings,
    ) -> Self {
        AgentManager {
            inner: Arc::new(Inner {
                sessions: RwLock::new(HashMap::new()),
                sockets: RwLock::new(HashMap::new()),
                routing,
                conversations,
                store,
                tokens: sessions,
                settings,
            }),
        }
    }

    pub fn routing(&self) -> &RoutingHandle {
        &self.inner.routing
    }

    pub fn conversations(&self) -> &ConversationHandle {
        &self.inner.conversations
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Token-bound sockets and their revocation.
    pub fn sessions(&self) -> &Sessions {
        &self.inner.tokens
    }

    pub fn settings(&self) -> &AgentSettings {
        &self.inner.settings
    }

    /// The live desk session of an agent.
    pub fn session(&self, agent_id: &str) -> Option<Arc<DeskSession>> {
        self.inner.sessions.read().get(agent_id).cloned()
    }

    /// Registers `session`, returning the session it replaces (another tab).
    fn register(&self, session: Arc<DeskSession>) -> Option<Arc<DeskSession>> {
        self.inner
            .sockets
            .write()
            .insert(session.socket.id().to_string(), session.clone());
        self.inner
            .sessions
            .write()
            .insert(session.user.id.clone(), session)
    }

    /// Removes the agent's session only if it is still `socket_id` (a takeover
    /// already replaced it otherwise). Returns whether it did.
    fn unregister(&self, agent_id: &str, socket_id: &str) -> bool {
        self.inner.sockets.write().remove(socket_id);
        let mut sessions = self.inner.sessions.write();
        if sessions
            .get(agent_id)
            .is_some_and(|s| s.socket.id() == socket_id)
        {
            sessions.remove(agent_id);
            true
        } else {
            false
        }
    }

    /// The session of a socket, only while it is its agent's live session.
    fn session_by_socket(&self, socket_id: &str) -> Option<Arc<DeskSession>> {
        let session = self.inner.sockets.read().get(socket_id).cloned()?;
        self.inner
            .sessions
            .read()
            .get(session.agent_id())
            .is_some_and(|live| live.socket.id() == socket_id)
            .then_some(session)
    }

    /// The session of a socket even if it was replaced (for its disconnect).
    fn any_session_by_socket(&self, socket_id: &str) -> Option<Arc<DeskSession>> {
        self.inner.sockets.read().get(socket_id).cloned()
    }

    /// Live sessions of supervisors who supervise `team_id`.
    pub fn supervisors_of(&self, team_id: &str) -> Vec<Arc<DeskSession>> {
        self.inner
            .sessions
            .read()
            .values()
            .filter(|s| s.supervises(team_id))
            .cloned()
            .collect()
    }

    /// Emits `event` to every connected desk (configuration pushed live, such as
    /// `onReasonCodes` after an admin edits the reason codes).
    pub fn broadcast(&self, event: &str, data: serde_json::Value) {
        let sessions: Vec<Arc<DeskSession>> =
            self.inner.sessions.read().values().cloned().collect();
        for s in sessions {
            s.emit(event, data.clone());
        }
    }

    /// Number of connected desks.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.read().len()
    }

    /// Starts the task that delivers routing effects to desks. Conversation events come
    /// where the conversation manager publishes each batch (`impl Deliver<ToDesk>`,
    /// `crate::delivery`).
    pub fn spawn_outbound(
        &self,
        routing_effects: tokio::sync::mpsc::UnboundedReceiver<crate::routing::EffectBatch>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(outbound::routing_effects(self.clone(), routing_effects))
    }
}
