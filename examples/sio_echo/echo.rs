//! The echo namespace used to exercise the Socket.IO layer end to end (Rust integration tests
//! and the node `socket.io-client` tests). Requires auth `{token: "good"}` (or `?token=good`).
//!
//! Events: `echo` (emits `echo` back with the first argument, acks with all arguments),
//! `ask` (asks the client `question` with an ack, then emits `answer` with the client's reply),
//! `slow {ms}` (answers `slow_done` after a delay), `flood {count}` (emits `flood` `count`
//! times at once), `disconnect_me`, `panic` (in the handler's future), `panic_now` (in the
//! call that makes it). Every disconnect is recorded for assertions.

// The disconnect records are read by tests/socketio_protocol/, not by the example binary.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchboard::socketio::{
    AckSender, BoxFuture, ConnectError, DisconnectReason, Namespace, Socket,
};
use tokio::sync::Notify;

/// One `on_disconnect` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnected {
    pub socket_id: String,
    pub namespace: String,
    pub reason: DisconnectReason,
}

#[derive(Default)]
pub struct EchoNamespace {
    disconnects: Mutex<Vec<Disconnected>>,
    changed: Notify,
}

impl EchoNamespace {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn disconnects(&self) -> Vec<Disconnected> {
        self.disconnects
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }

    /// Waits for the `on_disconnect` of `socket_id`.
    pub async fn wait_disconnect(
        &self,
        socket_id: &str,
        timeout: Duration,
    ) -> Option<DisconnectReason> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(found) = self
                .disconnects()
                .into_iter()
                .find(|d| d.socket_id == socket_id)
            {
                return Some(found.reason);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return None;
            }
        }
    }
}

fn token_is_good(auth: &Value, query: &HashMap<String, String>) -> bool {
    auth.get("token").and_then(Value::as_str) == Some("good")
        || query.get("token").map(String::as_str) == Some("good")
}

impl Namespace for EchoNamespace {
    fn on_connect(
        &self,
        socket: Socket,
        auth: Value,
        query: HashMap<String, String>,
    ) -> BoxFuture<'static, Result<(), ConnectError>> {
        Box::pin(async move {
            if !token_is_good(&auth, &query) {
                return Err(
                    ConnectError::new("invalid token").with_data(json!({"code": "AUTH_FAILED"}))
                );
            }
            // Emitted before the CONNECT packet is sent: the client must still see it after.
            let _ = socket.emit(
                "welcome",
                json!({"id": socket.id(), "namespace": socket.namespace(), "auth": auth}),
            );
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
        assert!(
            event != "panic_now",
            "the client asked this handler to panic before its future"
        );
        Box::pin(async move {
            let first = args.first().cloned().unwrap_or(Value::Null);
            match event.as_str() {
                "echo" => {
                    let _ = socket.emit("echo", first);
                    if let Some(ack) = ack {
                        let _ = ack.send(args);
                    }
                }
                "ask" => {
                    let reply = socket
                        .emit_with_ack("question", first, Duration::from_secs(5))
                        .await;
                    match reply {
                        Ok(answer) => {
                            let _ = socket.emit("answer", Value::Array(answer));
                        }
                        Err(err) => {
                            let _ = socket.emit("answer_error", json!(err.to_string()));
                        }
                    }
                }
                "slow" => {
                    let ms = first.get("ms").and_then(Value::as_u64).unwrap_or(100);
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    let _ = socket.emit("slow_done", first);
                }
                "flood" => {
                    let count = first.get("count").and_then(Value::as_u64).unwrap_or(0);
                    for i in 0..count {
                        if socket.emit("flood", json!(i)).is_err() {
                            break;
                        }
                    }
                }
                "disconnect_me" => socket.disconnect("requested by client"),
                "panic" => panic!("the client asked this handler to panic"),
                other => {
                    let _ = socket.emit("unknown_event", json!({"event": other}));
                }
            }
        })
    }

    fn on_disconnect(&self, socket: Socket, reason: DisconnectReason) {
        if let Ok(mut disconnects) = self.disconnects.lock() {
            disconnects.push(Disconnected {
                socket_id: socket.id().to_owned(),
                namespace: socket.namespace().to_owned(),
                reason,
            });
        }
        self.changed.notify_waiters();
    }
}
