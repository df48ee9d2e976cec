//! The `/customer` handshake: which channel, which customer (read only: nothing is
//! written), and whether the connection may resume the customer's running chat (it
//! must present that chat's session secret).

use super::{key, Customer, Tab, Widget};
use crate::socketio::{ConnectError, Socket};
use crate::store::{conversations, customers, directory, secrets};
use serde_json::Value;
use std::collections::HashMap;

impl Widget {
    pub(super) async fn handshake(
        &self,
        socket: Socket,
        auth: Value,
        query: HashMap<String, String>,
    ) -> Result<(), ConnectError> {
        let widget = self;
        let service_identifier = auth_str(&auth, &query, "serviceIdentifier")
            .ok_or_else(|| ConnectError::new("auth.serviceIdentifier is required"))?;
        let customer_identifier = auth_str(&auth, &query, "channelCustomerIdentifier")
            .ok_or_else(|| ConnectError::new("auth.channelCustomerIdentifier is required"))?;
        let last_seq = auth.get("lastSeq").and_then(Value::as_u64);
        let secret = auth_str(&auth, &query, "sessionSecret");
        let sid = service_identifier.clone();
        let cid = customer_identifier.clone();
        // Read only: a handshake writes nothing (customers are created when a chat
        // is requested).
        let found = widget
            .inner
            .store
            .read(move |c| {
                let Some(channel) = directory::channel_by_service_identifier(c, &sid)? else {
                    return Ok(None);
                };
                let channel_type = channel
                    .pointer("/channelType/name")
                    .and_then(Value::as_str)
                    .unwrap_or("WEB")
                    .to_string();
                let Some(customer) = customers::find(c, &channel_type, &cid)? else {
                    return Ok(Some((channel, None, None)));
                };
                // The customer's running chat, if any, and the digest guarding it.
                let customer_id = customer.get("_id").and_then(Value::as_str).unwrap_or("");
                let channel_id = channel.get("id").and_then(Value::as_str).unwrap_or("");
                let running = match conversations::running_session(c, customer_id, channel_id)? {
                    Some((session_id, conversation_id)) => {
                        let digest = secrets::widget_secret(c, &session_id)?;
                        Some((session_id, conversation_id, digest))
                    }
                    None => None,
                };
                Ok(Some((channel, Some(customer), running)))
            })
            .await
            .map_err(|_| ConnectError::new("service unavailable"))?;
        let Some((channel, customer, running)) = found else {
            return Err(ConnectError::new(format!(
                "unknown serviceIdentifier {service_identifier:?}"
            )));
        };
        // A running chat is resumed only with its secret (chats started before
        // secrets existed, or by a connector, have none to check).
        if let Some((_, _, Some(digest))) = &running {
            match &secret {
                Some(secret) if secrets::matches(secret, digest) => {}
                Some(_) => {
                    return Err(ConnectError::new(
                        "unauthorized: wrong auth.sessionSecret for this customer's chat",
                    ))
                }
                None => {
                    return Err(ConnectError::new(
                        "unauthorized: this customer has a running chat; auth.sessionSecret is required",
                    ))
                }
            }
        }
        let customer_key = key(&service_identifier, &customer_identifier);
        let channel = widget.intern_channel(&service_identifier, channel);
        let customer: Option<Box<str>> = customer.map(|c| c.to_string().into());
        {
            let mut reg = widget.inner.registry.lock();
            reg.sockets
                .insert(socket.id().to_string(), customer_key.clone());
            let entry = reg
                .customers
                .entry(customer_key.clone())
                .or_insert_with(|| Customer {
                    service_identifier,
                    channel_customer_identifier: customer_identifier,
                    channel: channel.clone(),
                    customer: None,
                    tabs: Vec::new(),
                    session_id: None,
                    session: None,
                    conversation_id: None,
                    last_typing: None,
                });
            // The channel as it is now: the customer's other tabs connected earlier
            // may hold one since changed (or deleted and made again).
            entry.channel = channel;
            if entry.customer.is_none() {
                entry.customer = customer;
            }
            let replays = last_seq.is_some() && running.is_some();
            entry.tabs.push(Tab {
                socket: socket.clone(),
                session_id: running.as_ref().map(|(s, _, _)| s.clone()),
                held: replays.then(Vec::new),
                replayed_through: 0,
            });
            if entry.session_id.is_none() {
                if let Some((session_id, conversation_id, _)) = &running {
                    entry.session_id = Some(session_id.clone());
                    entry.conversation_id = Some(conversation_id.clone());
                    reg.sessions
                        .insert(session_id.clone(), customer_key.clone());
                    reg.conversations
                        .insert(conversation_id.clone(), customer_key.clone());
                }
            }
        }
        if let (Some(last_seq), Some((_, conversation_id, _))) = (last_seq, &running) {
            widget.replay(&socket, conversation_id, last_seq).await;
        }
        Ok(())
    }
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
