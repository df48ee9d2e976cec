//! The web chat widget: Socket.IO namespace `/customer`.
//!
//! Handshake `auth: {serviceIdentifier, channelCustomerIdentifier, sessionSecret?,
//! lastSeq?}`. In: `CHAT_REQUESTED` (with `additionalAttributes` WebChannelData),
//! `MESSAGE_RECEIVED` (acknowledged after commit), `CHAT_ENDED`, `CSAT_SUBMITTED`,
//! `MESSAGE_LEFT` (outside business hours, `left_message`). Out:
//! `CHANNEL_SESSION_STARTED`, `MESSAGE_RECEIVED`, `CHANNEL_SESSION_ENDED`,
//! `CHANNEL_SESSION_EXPIRED`, `QUEUE_POSITION` and `ERRORS`.
//!
//! The identifier is not a credential. The tab that starts a chat gets the session's
//! secret (`sessionSecret`, kept only as a digest); a connection naming an identifier
//! whose chat is running must present it, or is refused. Each tab receives only the
//! chat it is authorized for (the one it started, or the one whose secret it gave);
//! a reconnecting tab gets what it missed since `lastSeq`. The customer record is
//! written when a chat is requested, never by a handshake alone, and chat requests
//! are limited per client address (`limits`). A new chat or left message must fit the
//! channel's pre-chat form, and a new chat its business hours (`gate`). A reconnecting
//! tab resumes from `lastSeq` (`resume`).

mod csat;
mod delivery;
pub use delivery::WidgetDeliveries;
mod gate;
mod handshake;
mod left_message;
mod namespace;
mod resume;
mod typing;

use super::limits::ChatLimiter;
use super::widget_form::chat_request_data;
use super::widget_message::{inbound_message, WidgetError};
use crate::attachments::signing::Signer;
use crate::cim::{ChannelSession, ChannelSessionReasonCode};
use crate::clock::now_ms;
use crate::conversation::handle::ConversationHandle;
use crate::conversation::typing::EPHEMERAL_SEQ;
use crate::conversation::views;
use crate::routing::RoutingHandle;
use crate::socketio::Socket;
use crate::store::{customers, secrets, users, Store};
use parking_lot::Mutex;
use resume::seq_of;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use typing::is_notification;

/// One customer as the widget layer knows it (all tabs share it).
struct Customer {
    service_identifier: String,
    channel_customer_identifier: String,
    /// Shared by every customer of the channel (see `intern_channel`).
    channel: Arc<Value>,
    /// The customer's CIM object as JSON text: a few hundred bytes, where the parsed map
    /// costs every connected widget about 1.2 KiB; parsed when a session is built.
    /// `None` until the customer asks for a chat (a handshake writes no customer).
    customer: Option<Box<str>>,
    tabs: Vec<Tab>,
    /// The channel session the customer is chatting in, once started.
    session_id: Option<String>,
    conversation_id: Option<String>,
    /// That session as messages carry it, built on the first message and shared by
    /// the following ones (stale once `session_id` changes).
    session: Option<Arc<ChannelSession>>,
    /// The customer's last typing indicator that went on to the conversation manager:
    /// (started?, when). A repeat within `TYPING_REPEAT_MS` is answered here.
    last_typing: Option<(bool, i64)>,
}

/// One connection of a customer and the channel session it may see.
struct Tab {
    socket: Socket,
    /// The session whose secret this tab has (it started it or presented its secret).
    session_id: Option<String>,
    /// While a reconnecting tab replays its chat from the store: what is delivered
    /// meanwhile (event name, JSON), sent after the replay and without what the
    /// replay already carried, so nothing arrives twice or out of order.
    held: Option<Vec<(&'static str, Arc<str>)>>,
    /// After a replay: the last sequence number it carried. An event committed before
    /// the replay read the store may be published after the hold ended; it is not
    /// sent again. Zero once a later event went out.
    replayed_through: u64,
}

#[derive(Default)]
struct Registry {
    /// `serviceIdentifier/channelCustomerIdentifier` -> customer.
    customers: HashMap<String, Customer>,
    /// Socket id -> customer key.
    sockets: HashMap<String, String>,
    /// Channel session id -> customer key.
    sessions: HashMap<String, String>,
    /// Conversation id -> customer key.
    conversations: HashMap<String, String>,
    /// Conversation id -> (queued task id, queue id), while it waits for an agent.
    queued: HashMap<String, (String, String)>,
}

#[derive(Clone)]
pub struct Widget {
    inner: Arc<WidgetInner>,
}

struct WidgetInner {
    registry: Mutex<Registry>,
    /// The channel object of each serviceIdentifier, one copy for all its customers.
    channels: Mutex<HashMap<String, Arc<Value>>>,
    store: Store,
    conversations: ConversationHandle,
    routing: RoutingHandle,
    limiter: ChatLimiter,
    /// Signs the attachment URLs of a replayed transcript afresh (they expire).
    attachment_urls: Signer,
    /// `site.time_zone`, for business hours without a zone of their own.
    site_zone: jiff::tz::TimeZone,
}

fn key(service_identifier: &str, customer: &str) -> String {
    format!("{service_identifier}/{customer}")
}

impl Widget {
    pub fn new(
        store: Store,
        conversations: ConversationHandle,
        routing: RoutingHandle,
        limiter: ChatLimiter,
        attachment_urls: Signer,
        site_zone: jiff::tz::TimeZone,
    ) -> Self {
        Widget {
            inner: Arc::new(WidgetInner {
                registry: Mutex::new(Registry::default()),
                channels: Mutex::new(HashMap::new()),
                store,
                conversations,
                routing,
                limiter,
                attachment_urls,
                site_zone,
            }),
        }
    }

    /// The id of the channel the customer's tabs connected to.
    fn connected_channel_id(&self, customer_key: &str) -> Option<String> {
        let reg = self.inner.registry.lock();
        let channel = &reg.customers.get(customer_key)?.channel;
        channel.get("id").and_then(Value::as_str).map(str::to_owned)
    }

    /// One shared copy of a channel's object (thousands of widgets use the same one);
    /// a changed channel replaces the copy.
    fn intern_channel(&self, service_identifier: &str, channel: Value) -> Arc<Value> {
        let mut channels = self.inner.channels.lock();
        match channels.get(service_identifier) {
            Some(known) if **known == channel => known.clone(),
            _ => {
                let shared = Arc::new(channel);
                channels.insert(service_identifier.to_string(), shared.clone());
                shared
            }
        }
    }

    fn customer_key(&self, socket: &Socket) -> Option<String> {
        self.inner.registry.lock().sockets.get(socket.id()).cloned()
    }

    /// Emits to the tabs of the customer behind `customer_key` that may see its
    /// current chat.
    fn emit_to(&self, customer_key: &str, event: &'static str, data: Value) {
        let session = self
            .inner
            .registry
            .lock()
            .customers
            .get(customer_key)
            .and_then(|c| c.session_id.clone());
        if let Some(session) = session {
            self.emit_json_to(customer_key, &session, event, &data.to_string().into());
        }
    }

    /// Emits JSON text to the tabs of `customer_key` authorized for `session_id`.
    fn emit_json_to(
        &self,
        customer_key: &str,
        session_id: &str,
        event: &'static str,
        json: &Arc<str>,
    ) {
        let sockets: Vec<Socket> = self
            .inner
            .registry
            .lock()
            .customers
            .get_mut(customer_key)
            .map(|c| {
                c.tabs
                    .iter_mut()
                    .filter(|t| t.session_id.as_deref() == Some(session_id))
                    .filter_map(|t| match &mut t.held {
                        Some(held) => {
                            held.push((event, Arc::clone(json)));
                            None
                        }
                        None if t.replayed_through > 0 => match seq_of(json) {
                            Some(seq) if seq <= t.replayed_through => None,
                            Some(_) => {
                                t.replayed_through = 0;
                                Some(t.socket.clone())
                            }
                            None => Some(t.socket.clone()),
                        },
                        None => Some(t.socket.clone()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        for s in sockets {
            if let Err(e) = s.emit_json(event, json) {
                tracing::debug!(event, error = %e, "widget emit failed");
            }
        }
    }

    /// The channel type name of a connected customer's channel (`WEB` by default).
    fn channel_type(&self, customer_key: &str) -> String {
        let reg = self.inner.registry.lock();
        reg.customers
            .get(customer_key)
            .and_then(|c| {
                c.channel
                    .pointer("/channelType/name")
                    .and_then(Value::as_str)
            })
            .unwrap_or("WEB")
            .to_owned()
    }

    /// (serviceIdentifier, channelCustomerIdentifier) of a connected customer.
    fn identity(&self, customer_key: &str) -> Result<(String, String), WidgetError> {
        self.inner
            .registry
            .lock()
            .customers
            .get(customer_key)
            .map(|c| {
                (
                    c.service_identifier.clone(),
                    c.channel_customer_identifier.clone(),
                )
            })
            .ok_or_else(|| WidgetError::new("not_connected", "customer is not connected"))
    }

    /// Builds the channel session `session_id` of a customer.
    fn channel_session(
        &self,
        customer_key: &str,
        session_id: &str,
        channel_data: Value,
    ) -> Result<ChannelSession, WidgetError> {
        let reg = self.inner.registry.lock();
        let c = reg
            .customers
            .get(customer_key)
            .ok_or_else(|| WidgetError::new("not_connected", "customer is not connected"))?;
        let customer: Value = c
            .customer
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| WidgetError::new("internal", format!("customer: {e}")))?
            .ok_or_else(|| WidgetError::new("wrong_state", "no chat was requested"))?;
        let session = json!({
            "participantType": "ChannelSession",
            "id": session_id,
            "channel": &*c.channel,
            "customer": customer,
            "customerSuggestions": [],
            "channelData": channel_data,
            "latestIntent": null,
            "customerPresence": {"value": null},
            "isActive": true,
            "state": {"name": "STARTED", "reasonCode": "CUSTOMER"},
            "channelSessionDirection": "INBOUND",
            "active": true,
        });
        serde_json::from_value(session)
            .map_err(|e| WidgetError::new("invalid_payload", format!("additionalAttributes: {e}")))
    }

    /// The running session of the customer and whether `socket` may use it:
    /// `Ok(None)` when no chat is running, an error when one is and this tab has not
    /// got its secret.
    fn running_session(
        &self,
        customer_key: &str,
        socket: &Socket,
    ) -> Result<Option<String>, WidgetError> {
        let reg = self.inner.registry.lock();
        let Some(c) = reg.customers.get(customer_key) else {
            return Err(WidgetError::new(
                "not_connected",
                "customer is not connected",
            ));
        };
        let Some(running) = c.session_id.clone() else {
            return Ok(None);
        };
        let mine = c
            .tabs
            .iter()
            .any(|t| t.socket.id() == socket.id() && t.session_id.as_deref() == Some(&running));
        if mine {
            Ok(Some(running))
        } else {
            Err(WidgetError::new(
                "unauthorized",
                "this customer's chat was started elsewhere: reconnect with its auth.sessionSecret",
            ))
        }
    }

    /// The running channel session messages of this customer go to.
    fn message_session(
        &self,
        customer_key: &str,
        session_id: &str,
    ) -> Result<Arc<ChannelSession>, WidgetError> {
        if let Some(c) = self.inner.registry.lock().customers.get(customer_key) {
            if let Some(session) = c.session.as_ref().filter(|s| s.id == session_id) {
                return Ok(session.clone());
            }
        }
        let (service_identifier, customer_identifier) = self.identity(customer_key)?;
        let (channel_data, _) =
            chat_request_data(&service_identifier, &customer_identifier, &json!({}))?;
        let session = Arc::new(self.channel_session(customer_key, session_id, channel_data)?);
        if let Some(c) = self.inner.registry.lock().customers.get_mut(customer_key) {
            if c.session_id.as_deref() == Some(session_id) {
                c.session = Some(session.clone());
            }
        }
        Ok(session)
    }

    fn remember_session(&self, customer_key: &str, session_id: &str, conversation_id: &str) {
        let mut reg = self.inner.registry.lock();
        if let Some(c) = reg.customers.get_mut(customer_key) {
            c.session_id = Some(session_id.to_string());
            c.conversation_id = Some(conversation_id.to_string());
        }
        reg.sessions
            .insert(session_id.to_string(), customer_key.to_string());
        reg.conversations
            .insert(conversation_id.to_string(), customer_key.to_string());
    }

    /// Marks which session `socket` may see.
    fn authorize(&self, customer_key: &str, socket: &Socket, session_id: Option<&str>) {
        if let Some(c) = self.inner.registry.lock().customers.get_mut(customer_key) {
            for tab in c.tabs.iter_mut().filter(|t| t.socket.id() == socket.id()) {
                tab.session_id = session_id.map(str::to_owned);
            }
        }
    }

    /// Writes the customer (found or created, named from the form) and the new
    /// session's secret digest; keeps the customer for the session.
    async fn register_customer(
        &self,
        customer_key: &str,
        session_id: &str,
        name: customers::CustomerName,
        digest: String,
    ) -> Result<(), WidgetError> {
        let (_, identifier) = self.identity(customer_key)?;
        let channel_type = self.channel_type(customer_key);
        let session = session_id.to_owned();
        let customer = self
            .inner
            .store
            .write(move |c| {
                let now = now_ms();
                let found = customers::find_or_create(
                    c,
                    &channel_type,
                    &identifier,
                    name.first_name.as_deref(),
                    now,
                )?;
                let id = found
                    .get("_id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                customers::set_name(c, &id, &name)?;
                secrets::put_widget_secret(c, &session, &digest, now)?;
                customers::get(c, &id)
            })
            .await
            .map_err(|e| WidgetError::new("unavailable", e.to_string()))?;
        if let Some(c) = self.inner.registry.lock().customers.get_mut(customer_key) {
            c.customer = Some(customer.to_string().into());
        }
        Ok(())
    }

    /// A new chat session for the customer behind `socket` (limited per address):
    /// writes the customer, named from the form, and the session's secret digest, and
    /// authorizes the tab for it. Answers (session id, secret).
    async fn new_session(
        &self,
        socket: &Socket,
        customer_key: &str,
        name: customers::CustomerName,
    ) -> Result<(String, String), WidgetError> {
        if let Err(retry_ms) = self.inner.limiter.check(socket.peer_ip(), now_ms()) {
            return Err(WidgetError::new(
                "rate_limited",
                format!("too many chat requests from this address; retry in {retry_ms} ms"),
            ));
        }
        let session_id = uuid::Uuid::new_v4().to_string();
        let (secret, digest) = users::new_token();
        self.register_customer(customer_key, &session_id, name, digest)
            .await?;
        // Authorized before the chat exists, so its first events find this tab.
        self.authorize(customer_key, socket, Some(&session_id));
        Ok((session_id, secret))
    }

    async fn chat_requested(
        &self,
        socket: &Socket,
        customer_key: &str,
        payload: &Value,
    ) -> Result<Value, WidgetError> {
        let (service_identifier, customer_identifier) = self.identity(customer_key)?;
        if self.running_session(customer_key, socket)?.is_none() {
            let gate = self
                .gate(customer_key, &service_identifier, payload, false)
                .await?;
            if !gate.open {
                return Err(WidgetError::new("closed", gate.closed_message()));
            }
        }
        let (channel_data, name) =
            chat_request_data(&service_identifier, &customer_identifier, payload)?;
        if self.typing_repeat(customer_key, payload) {
            // Thinned at the edge, as the core would: acknowledged, not delivered.
            return Ok(json!({"status": "ok", "messageId": payload.get("id"), "duplicate": false}));
        }
        let (session_id, secret) = match self.running_session(customer_key, socket)? {
            // A repeated request for the tab's running chat: answered again, no new secret.
            Some(running) => (running, None),
            None => {
                let (session_id, secret) = self.new_session(socket, customer_key, name).await?;
                (session_id, Some(secret))
            }
        };
        let session = self.channel_session(customer_key, &session_id, channel_data)?;
        let topic = self.inner.conversations.chat_requested(session).await?;
        let session_value = topic
            .conversation
            .channel_session
            .get()
            .map(|s| views::customer_session(s))
            .unwrap_or(Value::Null);
        let started_id = session_value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if started_id != session_id {
            // Another tab's request won the race: this tab has no secret for that chat.
            self.authorize(customer_key, socket, None);
            return Err(WidgetError::new(
                "unauthorized",
                "this customer's chat was started elsewhere: reconnect with its auth.sessionSecret",
            ));
        }
        self.remember_session(customer_key, &session_id, &topic.conversation.id);
        self.tell_position_if_queued(&topic.conversation.id);
        let started = json!({
            "channelSession": session_value,
            "conversationId": topic.conversation.id,
            "lastSeq": topic.last_seq,
        });
        self.emit_to(customer_key, "CHANNEL_SESSION_STARTED", started.clone());
        let mut answer = started;
        if let Some(secret) = secret {
            answer["sessionSecret"] = json!(secret);
        }
        Ok(answer)
    }

    async fn message_received(
        &self,
        socket: &Socket,
        customer_key: &str,
        payload: Value,
    ) -> Result<Value, WidgetError> {
        let (session_id, secret) = match self.running_session(customer_key, socket)? {
            Some(running) => (running, None),
            // Typing outside a chat is dropped: it must not start one.
            None if is_notification(&payload) => {
                return Err(WidgetError::new("wrong_state", "no chat is running"))
            }
            None => {
                // The first message starts a chat.
                let started = self
                    .chat_requested(socket, customer_key, &json!({}))
                    .await?;
                let id = started
                    .pointer("/channelSession/id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                (id, started.get("sessionSecret").cloned())
            }
        };
        let session = self.message_session(customer_key, &session_id)?;
        let message = inbound_message(&session, payload)?;
        let message_id = message.id.clone();
        let ack = self
            .inner
            .conversations
            .customer_message(session, message)
            .await?;
        let mut answer = json!({
            "status": "ok",
            "messageId": message_id,
            "conversationId": ack.conversation_id,
            "duplicate": ack.duplicate,
        });
        // A typing indicator is delivered, not stored: it has no seq.
        if ack.seq != EPHEMERAL_SEQ {
            answer["seq"] = json!(ack.seq);
        }
        if let Some(secret) = secret {
            answer["sessionSecret"] = secret;
        }
        Ok(answer)
    }

    async fn chat_ended(&self, socket: &Socket, customer_key: &str) -> Result<Value, WidgetError> {
        let session_id = self
            .running_session(customer_key, socket)?
            .ok_or_else(|| WidgetError::new("wrong_state", "no chat is running"))?;
        self.inner
            .conversations
            .customer_left(&session_id, ChannelSessionReasonCode::Customer)
            .await?;
        Ok(json!({"status": "ok", "channelSessionId": session_id}))
    }
}
