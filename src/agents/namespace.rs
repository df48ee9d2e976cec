//! The desk namespace `/`: token authentication at CONNECT, one session per agent
//! (a new tab takes over), the greeting (presence, channel types, open topics),
//! event dispatch with acks and `errors`, and disconnects. An admin's connection is
//! a monitoring desk (the supervisor console joins conversations through it): it
//! never enters routing, so it has no state of its own and is never offered tasks.

use super::handlers;
use super::session::DeskSession;
use super::{presence, AgentManager, DeskError};
use crate::clock::now_ms;
use crate::routing::Input;
use crate::sessions::Grant;
use crate::socketio::{AckSender, BoxFuture, ConnectError, DisconnectReason, Namespace, Socket};
use crate::store::users::{self, Role};
use crate::store::{attachments, directory, events};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub struct DeskNamespace {
    manager: AgentManager,
}

impl DeskNamespace {
    pub fn new(manager: AgentManager) -> Arc<Self> {
        Arc::new(DeskNamespace { manager })
    }
}

fn token_of(auth: &Value, query: &HashMap<String, String>) -> Option<String> {
    auth.get("token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| query.get("token").cloned())
        .filter(|t| !t.is_empty())
}

impl Namespace for DeskNamespace {
    fn on_connect(
        &self,
        socket: Socket,
        auth: Value,
        query: HashMap<String, String>,
    ) -> BoxFuture<'static, Result<(), ConnectError>> {
        let manager = self.manager.clone();
        Box::pin(async move {
            let token = token_of(&auth, &query)
                .ok_or_else(|| ConnectError::new("unauthorized: auth.token is required"))?;
            let digest = users::token_digest(&token);
            let lookup = digest.clone();
            let (user, expires_at) = manager
                .store()
                .read(move |c| users::grant_for_token(c, &lookup, now_ms()))
                .await
                .map_err(|_| ConnectError::new("service unavailable"))?
                .ok_or_else(|| ConnectError::new("unauthorized: invalid or expired token"))?;
            // Every later request of this socket is checked against its token.
            manager.sessions().attach(
                socket.clone(),
                Grant {
                    user_id: user.id.clone(),
                    token_digest: digest,
                    expires_at,
                },
            );
            let session = Arc::new(DeskSession::new(user, socket));
            if let Some(old) = manager.register(session.clone()) {
                old.emit("socketSessionRemoved", json!({"agentId": old.agent_id()}));
                old.socket
                    .disconnect("session taken over by a new connection");
            }
            greet(&manager, &session).await;
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
        let manager = self.manager.clone();
        Box::pin(async move {
            // Expired, revoked or disabled: the socket was told why and closed.
            if manager.sessions().check(socket.id()).await.is_err() {
                return;
            }
            let Some(session) = manager.session_by_socket(socket.id()) else {
                let _ = socket.emit(
                    "errors",
                    DeskError::new(
                        "session_removed",
                        "this connection was replaced by a newer one",
                    )
                    .to_payload(&event),
                );
                return;
            };
            let payload = args.into_iter().next().unwrap_or(Value::Null);
            if crate::cim::nests_deeper_than(&payload, crate::cim::MAX_JSON_DEPTH) {
                let refused = DeskError::invalid(format!(
                    "{event}: the payload nests deeper than {} levels",
                    crate::cim::MAX_JSON_DEPTH
                ));
                respond(&session, &event, ack, Err(refused));
                return;
            }
            if event == "publishCimEvent" && payload.is_object() {
                // Pipelined: queued in order now, answered when stored, while this
                // desk's next events are read (a bounded number in flight).
                let Ok(slot) = session.publish_slots.clone().acquire_owned().await else {
                    return;
                };
                match handlers::publish::start_publish(&manager, &session, payload) {
                    Ok(stored) => {
                        tokio::spawn(async move {
                            let result = stored.await;
                            drop(slot);
                            respond(&session, &event, ack, result);
                        });
                    }
                    Err(err) => respond(&session, &event, ack, Err(err)),
                }
                return;
            }
            let result = handlers::handle(&manager, &session, &event, payload).await;
            respond(&session, &event, ack, result);
        })
    }

    fn on_disconnect(&self, socket: Socket, reason: DisconnectReason) {
        self.manager.sessions().detach(socket.id());
        let Some(session) = self.manager.any_session_by_socket(socket.id()) else {
            return;
        };
        let agent_id = session.agent_id().to_string();
        let routed = session.user.role != Role::Admin;
        if self.manager.unregister(&agent_id, socket.id()) && routed {
            tracing::info!(agent = %session.user.username, reason = reason.as_str(), "desk disconnected; grace period started");
            self.manager
                .routing()
                .send(Input::AgentDisconnected { agent_id });
        }
    }
}

/// What a desk is told when it connects: its presence, the channel types, and
/// every conversation it is already in (a reconnect within the grace period).
async fn greet(manager: &AgentManager, session: &Arc<DeskSession>) {
    let agent_id = session.agent_id().to_string();
    if session.user.role != Role::Admin {
        present(manager, session, &agent_id).await;
    }
    if session.is_supervisor() {
        oversee(manager, session, &agent_id).await;
    }
    if let Ok(types) = manager.store().read(directory::list_channel_types).await {
        session.emit("onChannelTypes", Value::Array(types));
    }
    for conversation_id in manager
        .conversations()
        .conversations_of_agent(&agent_id)
        .await
    {
        if let Err(e) = send_topic(manager, session, &conversation_id, 0).await {
            tracing::warn!(conversation = %conversation_id, error = %e, "cannot resend topic on reconnect");
        }
    }
    session.end_greeting();
}

/// The agent's desk is connected: routing hears it (learning a user added since
/// start), and the desk gets its own presence.
async fn present(manager: &AgentManager, session: &Arc<DeskSession>, agent_id: &str) {
    let agent_id = agent_id.to_string();
    let effects = manager
        .routing()
        .call(Input::AgentConnected {
            agent_id: agent_id.clone(),
        })
        .await;
    let refused = effects
        .iter()
        .any(|e| matches!(e, crate::routing::Effect::Rejected { .. }));
    if refused {
        // A user added after start is not known to the engine yet: teach it, then retry.
        let id = agent_id.clone();
        if let Ok(Some(profile)) = manager
            .store()
            .read(move |c| crate::routing::loader::agent_profile(c, &id))
            .await
        {
            manager.routing().call(Input::UpsertAgent(profile)).await;
        }
        manager
            .routing()
            .call(Input::AgentConnected {
                agent_id: agent_id.clone(),
            })
            .await;
    }
    let id = agent_id.clone();
    if let Some(Some(view)) = manager
        .routing()
        .query(move |core, _| core.agent(&id))
        .await
    {
        session.emit(
            "agentPresence",
            presence::payload(&session.cc_user(), &view),
        );
    }
}

/// A supervisor's desk starts with the presence of every agent it oversees (an
/// admin's: every agent, with a team or not).
async fn oversee(manager: &AgentManager, session: &Arc<DeskSession>, agent_id: &str) {
    let views = manager
        .routing()
        .query(|core, _| core.agents().collect::<Vec<_>>())
        .await
        .unwrap_or_default();
    let admin = session.user.role == Role::Admin;
    for view in views {
        let oversees = view.agent_id != agent_id
            && (admin || view.team.as_deref().is_some_and(|t| session.supervises(t)));
        if oversees {
            let cc = crate::cim::CcUser::new(
                view.agent_id.clone(),
                view.username.clone(),
                vec!["agent".into()],
                None,
            );
            session.emit("agentPresence", presence::payload(&cc, &view));
        }
    }
}

/// Emits `onTopicData` for a conversation with its events after `after_seq`, holding
/// live events back meanwhile so none is lost or repeated.
pub(super) async fn send_topic(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    conversation_id: &str,
    after_seq: u64,
) -> Result<Value, DeskError> {
    session.begin_replay(conversation_id);
    let result = async {
        let topic = manager.conversations().topic(conversation_id).await?;
        let id = conversation_id.to_string();
        let (mut history, owned) = manager
            .store()
            .read(move |c| {
                Ok((
                    events::since(c, &id, after_seq)?,
                    attachments::ids_of_conversation(c, &id)?,
                ))
            })
            .await
            .map_err(|e| DeskError::new("unavailable", e.to_string()))?;
        if let Some(signer) = &manager.settings().attachment_urls {
            signer.resign_events(&mut history, crate::clock::now_ms(), &owned);
        }
        let replayed = history
            .last()
            .and_then(|e| e.get("seq"))
            .and_then(Value::as_u64)
            .unwrap_or(after_seq)
            .max(after_seq);
        let payload = json!({
            "conversationId": conversation_id,
            "topicData": {
                "conversation": topic.conversation,
                "events": history,
            },
            "lastSeq": replayed,
        });
        session.emit("onTopicData", payload.clone());
        Ok::<_, DeskError>((payload, replayed))
    }
    .await;
    match result {
        Ok((payload, replayed)) => {
            session.end_replay(conversation_id, replayed);
            Ok(payload)
        }
        Err(e) => {
            session.end_replay(conversation_id, after_seq);
            Err(e)
        }
    }
}

/// Acks a desk request with its answer; a refusal also goes out as `errors`.
fn respond(
    session: &DeskSession,
    event: &str,
    ack: Option<AckSender>,
    result: Result<Value, DeskError>,
) {
    match result {
        Ok(answer) => {
            if let Some(ack) = ack {
                let _ = ack.send(vec![answer]);
            }
        }
        Err(err) => {
            tracing::debug!(agent = %session.user.username, event = %event, code = err.code, message = %err.message, "desk request refused");
            session.emit("errors", err.to_payload(event));
            if let Some(ack) = ack {
                let mut answer = err.to_payload(event);
                answer["status"] = json!("error");
                let _ = ack.send(vec![answer]);
            }
        }
    }
}
