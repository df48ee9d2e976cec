//! The Socket.IO namespace `/supervisor`: token authentication at CONNECT (a
//! supervisor or an admin), the console's scope from the teams it supervises, the
//! snapshot on every (re)connect and the actions with acks.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;

use super::actions::{self, ActionError};
use super::driver::{Console, LiveHandle, Scope};
use crate::agents::AgentManager;
use crate::clock::now_ms;
use crate::sessions::Grant;
use crate::socketio::{AckSender, BoxFuture, ConnectError, DisconnectReason, Namespace, Socket};
use crate::store::users::{self, Role, User};

pub struct SupervisorNamespace {
    live: LiveHandle,
    agents: AgentManager,
    /// The user of each connected console, by socket id.
    users: Arc<Mutex<HashMap<String, User>>>,
}

impl SupervisorNamespace {
    pub fn new(live: LiveHandle, agents: AgentManager) -> Arc<Self> {
        Arc::new(SupervisorNamespace {
            live,
            agents,
            users: Arc::default(),
        })
    }
}

fn token_of(auth: &Value, query: &HashMap<String, String>) -> Option<String> {
    auth.get("token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| query.get("token").cloned())
        .filter(|t| !t.is_empty())
}

impl Namespace for SupervisorNamespace {
    fn on_connect(
        &self,
        socket: Socket,
        auth: Value,
        query: HashMap<String, String>,
    ) -> BoxFuture<'static, Result<(), ConnectError>> {
        let live = self.live.clone();
        let agents = self.agents.clone();
        let store = self.agents.store().clone();
        let users_by_socket = self.users.clone();
        Box::pin(async move {
            let token = token_of(&auth, &query)
                .ok_or_else(|| ConnectError::new("unauthorized: auth.token is required"))?;
            let digest = users::token_digest(&token);
            let lookup = digest.clone();
            let (user, expires_at) = store
                .read(move |c| users::grant_for_token(c, &lookup, now_ms()))
                .await
                .map_err(|_| ConnectError::new("service unavailable"))?
                .ok_or_else(|| ConnectError::new("unauthorized: invalid or expired token"))?;
            if user.role < Role::Supervisor {
                return Err(ConnectError::new(
                    "forbidden: the supervisor console is for supervisors and admins",
                ));
            }
            let scope = Scope {
                admin: user.role == Role::Admin,
                teams: user
                    .supervised_teams
                    .iter()
                    .map(|t| t.team_id.clone())
                    .collect(),
            };
            // Registered with its token like a desk: a revoked token, a disabled user or
            // a password reset ends this console too (`Sessions::revoke_user`).
            agents.sessions().attach(
                socket.clone(),
                Grant {
                    user_id: user.id.clone(),
                    token_digest: digest,
                    expires_at,
                },
            );
            users_by_socket.lock().insert(socket.id().to_string(), user);
            live.connect(Console::new(socket, scope)).await;
            Ok(())
        })
    }

    fn on_event(
        &self,
        socket: Socket,
        event: String,
        args: Vec<Value>,
        ack: Option<AckSender>,
    ) -> BoxFuture<'static, ()> {
        let agents = self.agents.clone();
        let user = self.users.lock().get(socket.id()).cloned();
        Box::pin(async move {
            // Expired, revoked or disabled: the console was told why and closed.
            if agents.sessions().check(socket.id()).await.is_err() {
                return;
            }
            let payload = args.into_iter().next().unwrap_or(Value::Null);
            let result = match user {
                Some(user) => actions::handle(&agents, &user, &event, payload).await,
                None => Err(ActionError::Forbidden("not signed in".into())),
            };
            let answer = match result {
                Ok(answer) => answer,
                Err(err) => {
                    tracing::debug!(event = %event, code = err.code(), message = %err, "console action refused");
                    err.to_payload(&event)
                }
            };
            if let Some(ack) = ack {
                let _ = ack.send(vec![answer]);
            }
        })
    }

    fn on_disconnect(&self, socket: Socket, _reason: DisconnectReason) {
        self.agents.sessions().detach(socket.id());
        self.users.lock().remove(socket.id());
        self.live.disconnect(socket.id());
    }
}
