//! The web chat widget: Socket.IO namespace `/customer`.
//!
//! Handshake `auth: {serviceIdentifier, channelCustomerIdentifier, lastSeq?}`.
//! In: `CHAT_REQUESTED` (with `additionalAttributes` WebChannelData), `MESSAGE_RECEIVED`
//! (acknowledged after commit), `CHAT_ENDED`. Out: `CHANNEL_SESSION_STARTED`,
//! `MESSAGE_RECEIVED`, `CHANNEL_SESSION_ENDED`, `CHANNEL_SESSION_EXPIRED`,
//! `QUEUE_POSITION` and `ERRORS`. Every tab of a customer receives what is meant
//! for the customer; a reconnecting widget gets what it missed since `lastSeq`.

use super::ToCustomer;
use crate::cim::{ChannelSession, ChannelSessionReasonCode, CimEvent, CimMessage};
use crate::clock::now_ms;
use crate::conversation::audience::customer_can_see;
use crate::conversation::handle::{ConversationError, ConversationHandle};
use crate::conversation::views;
use crate::routing::{EffectBatch, MediaState, RoutingHandle};
use crate::socketio::{AckSender, BoxFuture, ConnectError, DisconnectReason, Namespace, Socket};
use crate::store::{customers, directory, events, Store};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::mpsc;

/// One customer as the widget layer knows it (all tabs share it).
struct Customer {
    service_identifier: String,
    channel_customer_identifier: String,
    /// Shared by every customer of the channel (see `intern_channel`).
    channel: Arc<Value>,
    /// The customer's CIM object as JSON text: a few hundred bytes, where the parsed map
    /// costs every connected widget about 1.2 KiB; parsed when a session is built.
    customer: Box<str>,
    sockets: Vec<Socket>,
    /// The channel session the customer is chatting in, once started.
    session_id: Option<String>,
    conversation_id: Option<String>,
    /// That session as messages carry it, built on the first message and shared by
    /// the following ones (stale once `session_id` changes).
    session: Option<Arc<ChannelSession>>,
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
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
struct WidgetError {
    code: &'static str,
    message: String,
}

impl WidgetError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        WidgetError {
            code,
            message: message.into(),
        }
    }
}

impl From<ConversationError> for WidgetError {
    fn from(e: ConversationError) -> Self {
        WidgetError::new(e.code(), e.to_string())
    }
}

fn key(service_identifier: &str, customer: &str) -> String {
    format!("{service_identifier}/{customer}")
}

impl Widget {
    pub fn new(store: Store, conversations: ConversationHandle, routing: RoutingHandle) -> Self {
        Widget {
            inner: Arc::new(WidgetInner {
                registry: Mutex::new(Registry::default()),
                channels: Mutex::new(HashMap::new()),
                store,
                conversations,
                routing,
            }),
        }
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

    /// Emits to every tab of the customer behind `customer_key`.
    fn emit_to(&self, customer_key: &str, event: &str, data: Value) {
        self.emit_json_to(customer_key, event, &data.to_string());
    }

    /// [`Widget::emit_to`] of data already encoded as JSON text.
    fn emit_json_to(&self, customer_key: &str, event: &str, json: &str) {
        let sockets: Vec<Socket> = self
            .inner
            .registry
            .lock()
            .customers
            .get(customer_key)
            .map(|c| c.sockets.clone())
            .unwrap_or_default();
        for s in sockets {
            if let Err(e) = s.emit_json(event, json) {
                tracing::debug!(event, error = %e, "widget emit failed");
            }
        }
    }

    /// Builds the channel session a customer chats in.
    fn channel_session(
        &self,
        customer_key: &str,
        additional_attributes: Option<Value>,
    ) -> Result<ChannelSession, WidgetError> {
        let reg = self.inner.registry.lock();
        let c = reg
            .customers
            .get(customer_key)
            .ok_or_else(|| WidgetError::new("not_connected", "customer is not connected"))?;
        let mut channel_data = json!({
            "channelCustomerIdentifier": c.channel_customer_identifier,
            "serviceIdentifier": c.service_identifier,
            "requestPriority": 0,
            "channelTypeCode": "webChannel",
            "additionalAttributes": [],
        });
        match additional_attributes {
            Some(Value::Array(list)) => channel_data["additionalAttributes"] = Value::Array(list),
            Some(obj @ Value::Object(_)) => {
                channel_data["additionalAttributes"] =
                    json!([{"key": "WebChannelData", "type": "WebChannelData", "value": obj}])
            }
            Some(Value::Null) | None => {}
            Some(_) => {
                return Err(WidgetError::new(
                    "invalid_payload",
                    "additionalAttributes must be a list or a WebChannelData object",
                ))
            }
        }
        let customer: Value = serde_json::from_str(&c.customer)
            .map_err(|e| WidgetError::new("internal", format!("customer: {e}")))?;
        let session = json!({
            "participantType": "ChannelSession",
            "id": c.session_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
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

    /// The running channel session messages of this customer go to.
    fn message_session(&self, customer_key: &str) -> Result<Arc<ChannelSession>, WidgetError> {
        if let Some(c) = self.inner.registry.lock().customers.get(customer_key) {
            if let (Some(session), Some(id)) = (&c.session, &c.session_id) {
                if session.id == *id {
                    return Ok(session.clone());
                }
            }
        }
        let session = Arc::new(self.channel_session(customer_key, None)?);
        if let Some(c) = self.inner.registry.lock().customers.get_mut(customer_key) {
            if c.session_id.as_deref() == Some(session.id.as_str()) {
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

    /// A customer without a running chat may not start one on a disabled channel;
    /// chats already running finish normally.
    async fn refuse_new_chat_on_disabled_channel(
        &self,
        customer_key: &str,
    ) -> Result<(), WidgetError> {
        let (running, sid) = {
            let reg = self.inner.registry.lock();
            match reg.customers.get(customer_key) {
                Some(c) => (c.session_id.is_some(), c.service_identifier.clone()),
                None => return Ok(()),
            }
        };
        if running {
            return Ok(());
        }
        let open = self
            .inner
            .store
            .read(move |c| crate::store::channel_admin::takes_new_chats(c, &sid))
            .await
            .map_err(|e| WidgetError::new("unavailable", e.to_string()))?;
        if open {
            Ok(())
        } else {
            Err(WidgetError::new(
                "channel_disabled",
                "this channel takes no new chats at the moment",
            ))
        }
    }

    async fn chat_requested(
        &self,
        customer_key: &str,
        payload: &Value,
    ) -> Result<Value, WidgetError> {
        self.refuse_new_chat_on_disabled_channel(customer_key)
            .await?;
        let session =
            self.channel_session(customer_key, payload.get("additionalAttributes").cloned())?;
        let topic = self.inner.conversations.chat_requested(session).await?;
        let session_value = topic
            .conversation
            .channel_session
            .get()
            .map(|s| views::customer_session(s))
            .unwrap_or(Value::Null);
        let session_id = session_value
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.remember_session(customer_key, &session_id, &topic.conversation.id);
        let started = json!({
            "channelSession": session_value,
            "conversationId": topic.conversation.id,
            "lastSeq": topic.last_seq,
        });
        self.emit_to(customer_key, "CHANNEL_SESSION_STARTED", started.clone());
        Ok(started)
    }

    async fn message_received(
        &self,
        customer_key: &str,
        payload: &Value,
    ) -> Result<Value, WidgetError> {
        let session_known = self
            .inner
            .registry
            .lock()
            .customers
            .get(customer_key)
            .and_then(|c| c.session_id.clone())
            .is_some();
        if !session_known {
            self.chat_requested(customer_key, &json!({})).await?;
        }
        let session = self.message_session(customer_key)?;
        let message = self.inbound_message(&session, payload)?;
        let message_id = message.id.clone();
        let ack = self
            .inner
            .conversations
            .customer_message(session, message)
            .await?;
        Ok(json!({
            "status": "ok",
            "messageId": message_id,
            "conversationId": ack.conversation_id,
            "seq": ack.seq,
            "duplicate": ack.duplicate,
        }))
    }

    /// A CIM message from the widget. The header's sender and channel data are the
    /// session's: a client value naming another customer or channel is refused
    /// (`sender_mismatch`), an absent one is filled in.
    fn inbound_message(
        &self,
        session: &ChannelSession,
        payload: &Value,
    ) -> Result<CimMessage, WidgetError> {
        let mut message = payload.clone();
        let obj = message
            .as_object_mut()
            .ok_or_else(|| WidgetError::new("invalid_payload", "a message object is required"))?;
        if !obj.contains_key("id") {
            obj.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
        }
        let header = obj.entry("header").or_insert_with(|| json!({}));
        if header.is_null() {
            *header = json!({});
        }
        let Some(header) = header.as_object_mut() else {
            return Err(WidgetError::new(
                "invalid_field",
                "header must be an object",
            ));
        };
        check_claimed_sender(header.get("sender"), session)?;
        check_claimed_channel(header.get("channelData"), session)?;
        // The conversation manager writes the session itself.
        header.remove("channelSession");
        header.insert(
            "sender".into(),
            json!({
                "id": session.customer.id().unwrap_or_default(),
                "type": "CUSTOMER",
                "senderName": session.customer.first_name.as_deref_str().unwrap_or_default(),
                "additionalDetail": null,
            }),
        );
        header.insert(
            "channelData".into(),
            serde_json::to_value(&session.channel_data).unwrap_or(Value::Null),
        );
        header.entry("timestamp").or_insert_with(|| json!(now_ms()));
        CimMessage::from_inbound_value(&message)
            .map_err(|e| WidgetError::new(e.code(), e.to_string()))
    }

    async fn chat_ended(&self, customer_key: &str) -> Result<Value, WidgetError> {
        let session_id = self
            .inner
            .registry
            .lock()
            .customers
            .get(customer_key)
            .and_then(|c| c.session_id.clone())
            .ok_or_else(|| WidgetError::new("wrong_state", "no chat is running"))?;
        self.inner
            .conversations
            .customer_left(&session_id, ChannelSessionReasonCode::Customer)
            .await?;
        Ok(json!({"status": "ok", "channelSessionId": session_id}))
    }

    /// Sends a reconnecting customer the events it may see after `last_seq`.
    async fn replay(&self, customer_key: &str, conversation_id: &str, last_seq: u64) {
        let id = conversation_id.to_string();
        let Ok(history) = self
            .inner
            .store
            .read(move |c| events::since(c, &id, last_seq))
            .await
        else {
            return;
        };
        for mut event in history {
            let visible = serde_json::from_value::<CimEvent>(event.clone())
                .map(|e| customer_can_see(&e))
                .unwrap_or(false);
            if visible {
                views::customer_event_value(&mut event);
                self.emit_to(customer_key, "MESSAGE_RECEIVED", event);
            }
        }
    }

    /// Delivers what the conversation manager committed for customers.
    pub async fn deliveries(
        self,
        mut rx: mpsc::UnboundedReceiver<ToCustomer>,
        outbox: Arc<tokio::sync::Notify>,
    ) {
        while let Some(delivery) = rx.recv().await {
            match delivery {
                ToCustomer::Event {
                    channel_session_id,
                    service_identifier,
                    channel_customer_identifier,
                    event,
                    conversation_id,
                    ..
                } => {
                    let customer = {
                        let mut reg = self.inner.registry.lock();
                        let by_identity = key(&service_identifier, &channel_customer_identifier);
                        if reg.customers.contains_key(&by_identity) {
                            reg.sessions
                                .entry(channel_session_id.clone())
                                .or_insert_with(|| by_identity.clone());
                            reg.conversations
                                .entry(conversation_id.clone())
                                .or_insert_with(|| by_identity.clone());
                            if let Some(c) = reg.customers.get_mut(&by_identity) {
                                c.session_id.get_or_insert(channel_session_id.clone());
                                c.conversation_id.get_or_insert(conversation_id.clone());
                            }
                            Some(by_identity)
                        } else {
                            reg.sessions
                                .get(&channel_session_id)
                                .or_else(|| reg.conversations.get(&conversation_id))
                                .cloned()
                        }
                    };
                    if let Some(customer) = customer {
                        self.emit_json_to(&customer, "MESSAGE_RECEIVED", &event);
                    }
                }
                ToCustomer::SessionEnded {
                    channel_session_id,
                    expired,
                } => {
                    let customer = {
                        let mut reg = self.inner.registry.lock();
                        let key = reg.sessions.remove(&channel_session_id);
                        if let Some(c) = key.as_ref().and_then(|k| reg.customers.get_mut(k)) {
                            c.session_id = None;
                            c.conversation_id = None;
                        }
                        key
                    };
                    if let Some(customer) = customer {
                        let (event, reason) = if expired {
                            ("CHANNEL_SESSION_EXPIRED", "INACTIVITY")
                        } else {
                            ("CHANNEL_SESSION_ENDED", "CUSTOMER")
                        };
                        self.emit_to(
                            &customer,
                            event,
                            json!({"channelSessionId": channel_session_id, "reason": reason}),
                        );
                    }
                }
                ToCustomer::OutboxReady => outbox.notify_one(),
            }
        }
    }

    /// Keeps waiting customers told of their queue position and estimated wait.
    pub async fn queue_positions(self, mut rx: crate::bus::Subscription<EffectBatch>) {
        use crate::routing::Effect;
        while let Some(batch) = rx.recv().await {
            let mut touched = std::collections::HashSet::new();
            {
                let mut reg = self.inner.registry.lock();
                for effect in batch.iter() {
                    let task = match effect {
                        Effect::TaskEnqueued { task, .. } | Effect::TaskStateChanged { task } => {
                            task
                        }
                        Effect::OfferTask { task, .. } | Effect::NoAgentAvailable { task } => task,
                        _ => continue,
                    };
                    touched.insert(task.media.queue.id.clone());
                    if task.media.state == MediaState::Queued && !task.is_closed() {
                        reg.queued.insert(
                            task.conversation_id.clone(),
                            (task.id.clone(), task.media.queue.id.clone()),
                        );
                    } else if reg
                        .queued
                        .get(&task.conversation_id)
                        .is_some_and(|(id, _)| *id == task.id)
                    {
                        reg.queued.remove(&task.conversation_id);
                    }
                }
            }
            if touched.is_empty() {
                continue;
            }
            let waiting: Vec<(String, String)> = {
                let reg = self.inner.registry.lock();
                reg.queued
                    .iter()
                    .filter(|(conv, (_, q))| {
                        touched.contains(q) && reg.conversations.contains_key(*conv)
                    })
                    .map(|(conv, (task, _))| (conv.clone(), task.clone()))
                    .collect()
            };
            if waiting.is_empty() {
                continue;
            }
            let positions = self
                .inner
                .routing
                .query(move |core, _| {
                    waiting
                        .into_iter()
                        .filter_map(|(conv, task)| core.queue_position(&task).map(|p| (conv, p)))
                        .collect::<Vec<_>>()
                })
                .await
                .unwrap_or_default();
            for (conversation_id, p) in positions {
                let customer = self
                    .inner
                    .registry
                    .lock()
                    .conversations
                    .get(&conversation_id)
                    .cloned();
                if let Some(customer) = customer {
                    self.emit_to(
                        &customer,
                        "QUEUE_POSITION",
                        json!({
                            "conversationId": conversation_id,
                            "position": p.position,
                            "estimatedWaitMs": p.estimated_wait_ms,
                        }),
                    );
                }
            }
        }
    }
}

fn mismatch(message: String) -> WidgetError {
    WidgetError::new("sender_mismatch", message)
}

/// A `header.sender` the client sent may only name this customer: its profile id or
/// its `channelCustomerIdentifier`, with type CUSTOMER.
fn check_claimed_sender(
    sender: Option<&Value>,
    session: &ChannelSession,
) -> Result<(), WidgetError> {
    let Some(sender) = sender.filter(|s| !s.is_null()) else {
        return Ok(());
    };
    if !sender.is_object() {
        return Err(WidgetError::new(
            "invalid_field",
            "header.sender must be an object",
        ));
    }
    match sender.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("CUSTOMER") => {}
        Some(other) => {
            return Err(mismatch(format!(
                "header.sender.type {other} is not this customer: a widget sends CUSTOMER messages"
            )))
        }
    }
    let own = [
        session.customer.id().unwrap_or_default(),
        session.channel_customer_identifier(),
    ];
    match sender.get("id") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(id)) if own.contains(&id.as_str()) => Ok(()),
        Some(_) => Err(mismatch(
            "header.sender.id names someone other than this customer".into(),
        )),
    }
}

/// A `header.channelData` the client sent may only name this customer's channel.
fn check_claimed_channel(
    data: Option<&Value>,
    session: &ChannelSession,
) -> Result<(), WidgetError> {
    let Some(data) = data.filter(|d| !d.is_null()) else {
        return Ok(());
    };
    if !data.is_object() {
        return Err(WidgetError::new(
            "invalid_field",
            "header.channelData must be an object",
        ));
    }
    for (field, own) in [
        ("serviceIdentifier", session.service_identifier()),
        (
            "channelCustomerIdentifier",
            session.channel_customer_identifier(),
        ),
    ] {
        match data.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(v)) if v == own => {}
            Some(_) => {
                return Err(mismatch(format!(
                    "header.channelData.{field} is not this customer's"
                )))
            }
        }
    }
    Ok(())
}

fn auth_str(auth: &Value, query: &HashMap<String, String>, field: &str) -> Option<String> {
    auth.get(field)
        .and_then(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .or_else(|| query.get(field).cloned())
        .filter(|s| !s.is_empty() && s.len() <= 256)
}

impl Namespace for Widget {
    fn on_connect(
        &self,
        socket: Socket,
        auth: Value,
        query: HashMap<String, String>,
    ) -> BoxFuture<'static, Result<(), ConnectError>> {
        let widget = self.clone();
        Box::pin(async move {
            let service_identifier = auth_str(&auth, &query, "serviceIdentifier")
                .ok_or_else(|| ConnectError::new("auth.serviceIdentifier is required"))?;
            let customer_identifier = auth_str(&auth, &query, "channelCustomerIdentifier")
                .ok_or_else(|| ConnectError::new("auth.channelCustomerIdentifier is required"))?;
            let last_seq = auth.get("lastSeq").and_then(Value::as_u64);
            let sid = service_identifier.clone();
            let cid = customer_identifier.clone();
            let found = widget
                .inner
                .store
                .write(move |c| {
                    let Some(channel) = directory::channel_by_service_identifier(c, &sid)? else {
                        return Ok(None);
                    };
                    let channel_type = channel
                        .pointer("/channelType/name")
                        .and_then(Value::as_str)
                        .unwrap_or("WEB")
                        .to_string();
                    let customer =
                        customers::find_or_create(c, &channel_type, &cid, None, now_ms())?;
                    // The customer's running chat, if any, so a reconnect rejoins it.
                    let running: Option<(String, String)> = c
                        .prepare_cached(
                            "SELECT s.id, s.conversation_id FROM channel_sessions s
                             JOIN conversations v ON v.id = s.conversation_id
                             WHERE s.customer_id = ?1 AND s.channel_id = ?2 AND s.state = 'STARTED'
                               AND v.state <> 'CLOSED'
                             ORDER BY s.started_at DESC LIMIT 1",
                        )?
                        .query_row(
                            rusqlite::params![
                                customer
                                    .get("_id")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default(),
                                channel
                                    .get("id")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                            ],
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .ok();
                    Ok(Some((channel, customer, running)))
                })
                .await
                .map_err(|_| ConnectError::new("service unavailable"))?;
            let Some((channel, customer, running)) = found else {
                return Err(ConnectError::new(format!(
                    "unknown serviceIdentifier {service_identifier:?}"
                )));
            };
            let customer_key = key(&service_identifier, &customer_identifier);
            let channel = widget.intern_channel(&service_identifier, channel);
            let customer: Box<str> = customer.to_string().into();
            {
                let mut reg = widget.inner.registry.lock();
                reg.sockets
                    .insert(socket.id().to_string(), customer_key.clone());
                let entry = reg
                    .customers
                    .entry(customer_key.clone())
                    .or_insert(Customer {
                        service_identifier,
                        channel_customer_identifier: customer_identifier,
                        channel,
                        customer,
                        sockets: Vec::new(),
                        session_id: None,
                        session: None,
                        conversation_id: None,
                    });
                entry.sockets.push(socket.clone());
                if entry.session_id.is_none() {
                    if let Some((session_id, conversation_id)) = &running {
                        entry.session_id = Some(session_id.clone());
                        entry.conversation_id = Some(conversation_id.clone());
                        reg.sessions
                            .insert(session_id.clone(), customer_key.clone());
                        reg.conversations
                            .insert(conversation_id.clone(), customer_key.clone());
                    }
                }
            }
            if let (Some(last_seq), Some((_, conversation_id))) = (last_seq, &running) {
                widget
                    .replay(&customer_key, conversation_id, last_seq)
                    .await;
            }
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
        let widget = self.clone();
        Box::pin(async move {
            let Some(customer_key) = widget.customer_key(&socket) else {
                return;
            };
            let payload = args.into_iter().next().unwrap_or_else(|| json!({}));
            let result = if !payload.is_object() {
                Err(WidgetError::new(
                    "invalid_payload",
                    format!("{event} expects one JSON object"),
                ))
            } else {
                match event.as_str() {
                    "CHAT_REQUESTED" => widget.chat_requested(&customer_key, &payload).await,
                    "MESSAGE_RECEIVED" => widget.message_received(&customer_key, &payload).await,
                    "CHAT_ENDED" => widget.chat_ended(&customer_key).await,
                    other => Err(WidgetError::new(
                        "unknown_event",
                        format!("unknown event {other:?}"),
                    )),
                }
            };
            match result {
                Ok(answer) => {
                    if let Some(ack) = ack {
                        let _ = ack.send(vec![answer]);
                    }
                }
                Err(e) => {
                    let payload = json!({"code": e.code, "message": e.message, "event": event});
                    let _ = socket.emit("ERRORS", payload.clone());
                    if let Some(ack) = ack {
                        let mut answer = payload;
                        answer["status"] = json!("error");
                        let _ = ack.send(vec![answer]);
                    }
                }
            }
        })
    }

    fn on_disconnect(&self, socket: Socket, _reason: DisconnectReason) {
        let mut reg = self.inner.registry.lock();
        let Some(customer_key) = reg.sockets.remove(socket.id()) else {
            return;
        };
        let now_empty = match reg.customers.get_mut(&customer_key) {
            Some(c) => {
                c.sockets.retain(|s| s.id() != socket.id());
                c.sockets.is_empty()
            }
            None => false,
        };
        // The chat itself goes on: the customer may come back until the activity
        // timeout ends the session. Only the registry entry of a customer with no
        // tab and no chat is dropped.
        if now_empty
            && reg
                .customers
                .get(&customer_key)
                .is_some_and(|c| c.session_id.is_none())
        {
            reg.customers.remove(&customer_key);
        }
    }
}
