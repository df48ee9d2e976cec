//! The widget as a Socket.IO namespace: a handshake admits the tab, each event is
//! dispatched by name (one JSON object, acknowledged with the answer or the error),
//! and a tab that leaves is dropped from the registry.

use super::super::widget_message::WidgetError;
use super::Widget;
use crate::socketio::{AckSender, BoxFuture, ConnectError, DisconnectReason, Namespace, Socket};
use serde_json::{json, Value};
use std::collections::HashMap;

impl Namespace for Widget {
    fn on_connect(
        &self,
        socket: Socket,
        auth: Value,
        query: HashMap<String, String>,
    ) -> BoxFuture<'static, Result<(), ConnectError>> {
        let widget = self.clone();
        Box::pin(async move { widget.handshake(socket, auth, query).await })
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
            } else if crate::cim::nests_deeper_than(&payload, crate::cim::MAX_JSON_DEPTH) {
                Err(WidgetError::new(
                    "invalid_payload",
                    format!(
                        "{event}: the payload nests deeper than {} levels",
                        crate::cim::MAX_JSON_DEPTH
                    ),
                ))
            } else {
                match event.as_str() {
                    "CHAT_REQUESTED" => {
                        widget
                            .chat_requested(&socket, &customer_key, &payload)
                            .await
                    }
                    "MESSAGE_RECEIVED" => {
                        widget
                            .message_received(&socket, &customer_key, payload)
                            .await
                    }
                    "CHAT_ENDED" => widget.chat_ended(&socket, &customer_key).await,
                    "CSAT_SUBMITTED" => widget.csat_submitted(&customer_key, &payload).await,
                    "MESSAGE_LEFT" => widget.message_left(&socket, &customer_key, &payload).await,
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
                    let payload = e.to_payload(&event);
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
                c.tabs.retain(|t| t.socket.id() != socket.id());
                c.tabs.is_empty()
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
