//! A client's membership of one namespace, as handed to the domain layers: emit (with or
//! without ack), disconnect, and the answer handle for client acks.

use super::engine::Engine;
use super::packet::{self, Packet, RESERVED_EVENTS};
use futures_util::future::{BoxFuture, FutureExt};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Why an emit was not queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    #[error("socket is disconnected")]
    Closed,
    /// The client is not reading: the connection has been closed as too slow.
    #[error("outbound queue full: connection closed as too slow")]
    QueueFull,
    #[error("{0:?} is a reserved event name")]
    ReservedEvent(String),
}

/// Why an emit with ack got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    #[error("no ack within the timeout")]
    Timeout,
    #[error("socket disconnected before acking")]
    Closed,
    #[error(transparent)]
    Emit(#[from] EmitError),
}

enum SocketState {
    /// `on_connect` is running: emits wait here and follow the CONNECT packet.
    Connecting {
        buffered: Vec<String>,
        disconnect_requested: bool,
    },
    Connected,
    Closed,
}

struct SocketInner {
    id: String,
    namespace: String,
    engine: Arc<Engine>,
    state: Mutex<SocketState>,
    acks: Mutex<HashMap<u64, oneshot::Sender<Vec<Value>>>>,
    next_ack_id: AtomicU64,
}

/// One client connected to one namespace. Cheap to clone; `Send + Sync`.
#[derive(Clone)]
pub struct Socket {
    inner: Arc<SocketInner>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.inner.id)
            .field("namespace", &self.inner.namespace)
            .field("engine_id", &self.inner.engine.sid)
            .finish()
    }
}

impl PartialEq for Socket {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Socket {}

impl Socket {
    pub(crate) fn new(engine: Arc<Engine>, namespace: String) -> Self {
        Socket {
            inner: Arc::new(SocketInner {
                id: super::engine::new_id(),
                namespace,
                engine,
                state: Mutex::new(SocketState::Connecting {
                    buffered: Vec::new(),
                    disconnect_requested: false,
                }),
                acks: Mutex::new(HashMap::new()),
                next_ack_id: AtomicU64::new(0),
            }),
        }
    }

    /// The Socket.IO socket id (sent to the client in the CONNECT packet).
    pub fn id(&self) -> &str {
        &self.inner.id
    }

    /// The namespace, e.g. `/` or `/customer`.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The Engine.IO session id of the underlying connection (shared by its namespaces).
    pub fn engine_id(&self) -> &str {
        &self.inner.engine.sid
    }

    /// The client's IP address, when the transport knows it.
    pub fn peer_ip(&self) -> Option<std::net::IpAddr> {
        self.inner.engine.peer()
    }

    /// True from `on_connect` until the socket is disconnected: emits are accepted.
    pub fn is_connected(&self) -> bool {
        match &*self.inner.state.lock() {
            SocketState::Connecting {
                disconnect_requested,
                ..
            } => !disconnect_requested && !self.inner.engine.is_closed(),
            SocketState::Connected => !self.inner.engine.is_closed(),
            SocketState::Closed => false,
        }
    }

    /// Queues EVENT `[event, data]` without waiting. `EmitError::QueueFull` means the client
    /// was not reading and its connection has been closed as too slow.
    pub fn emit(&self, event: &str, data: Value) -> Result<(), EmitError> {
        self.emit_inner(event, None, data)
    }

    /// [`Socket::emit`] with `data` already encoded as JSON text, so one encoding of
    /// an event serves every socket it goes to. The caller vouches that `json` is
    /// one valid JSON value.
    pub fn emit_json(&self, event: &str, json: &str) -> Result<(), EmitError> {
        if RESERVED_EVENTS.contains(&event) {
            return Err(EmitError::ReservedEvent(event.to_owned()));
        }
        let mut text = String::with_capacity(json.len() + event.len() + 16);
        text.push('4');
        packet::write_event_json(&mut text, &self.inner.namespace, event, json);
        self.send_packet(text)
    }

    /// Queues EVENT `[event, data]` asking for an ack (the packet is queued at once, before the
    /// future is polled). Resolves to the client's ack arguments, `AckError::Timeout` after
    /// `timeout`, or `AckError::Closed` if the socket disconnects first.
    pub fn emit_with_ack(
        &self,
        event: &str,
        data: Value,
        timeout: Duration,
    ) -> BoxFuture<'static, Result<Vec<Value>, AckError>> {
        let id = self.inner.next_ack_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.inner.acks.lock().insert(id, tx);
        let pending = PendingAck {
            socket: self.clone(),
            id,
        };
        let sent = self.emit_inner(event, Some(id), data);
        async move {
            let _pending = pending;
            sent?;
            match tokio::time::timeout(timeout, rx).await {
                Ok(Ok(args)) => Ok(args),
                Ok(Err(_)) => Err(AckError::Closed),
                Err(_) => Err(AckError::Timeout),
            }
        }
        .boxed()
    }

    /// Sends DISCONNECT for this namespace and leaves it; `on_disconnect` follows with
    /// `ServerNamespaceDisconnect`. When it was the connection's last namespace, the connection
    /// is then closed cleanly. `reason` is logged.
    pub fn disconnect(&self, reason: &str) {
        let text = engine_message(&Packet::Disconnect {
            nsp: self.inner.namespace.clone(),
        });
        let mut state = self.inner.state.lock();
        match &mut *state {
            SocketState::Connecting {
                buffered,
                disconnect_requested,
            } => {
                if !*disconnect_requested {
                    *disconnect_requested = true;
                    buffered.push(text);
                    self.log_disconnect(reason);
                }
            }
            SocketState::Connected => {
                *state = SocketState::Closed;
                drop(state);
                self.log_disconnect(reason);
                // A full queue already closes the whole connection; nothing more to do then.
                let _ = self.inner.engine.send(text);
                self.inner
                    .engine
                    .request(super::engine::Control::Disconnect(self.clone()));
            }
            SocketState::Closed => {}
        }
    }

    fn log_disconnect(&self, reason: &str) {
        tracing::info!(
            sid = %self.inner.engine.sid,
            socket = %self.inner.id,
            namespace = %self.inner.namespace,
            reason,
            "socket.io: server disconnects socket"
        );
    }

    fn emit_inner(&self, event: &str, id: Option<u64>, data: Value) -> Result<(), EmitError> {
        if RESERVED_EVENTS.contains(&event) {
            return Err(EmitError::ReservedEvent(event.to_owned()));
        }
        let mut text = String::from("4");
        packet::write_event(
            &mut text,
            &self.inner.namespace,
            id,
            event,
            std::slice::from_ref(&data),
        );
        self.send_packet(text)
    }

    /// Queues an encoded Engine.IO packet for this socket, respecting its state.
    fn send_packet(&self, text: String) -> Result<(), EmitError> {
        let mut state = self.inner.state.lock();
        match &mut *state {
            SocketState::Connecting {
                buffered,
                disconnect_requested,
            } => {
                if *disconnect_requested || self.inner.engine.is_closed() {
                    return Err(EmitError::Closed);
                }
                // One queue slot stays free for the CONNECT packet that precedes them.
                if buffered.len() + 1 >= self.inner.engine.outbound_capacity() {
                    self.inner.engine.abort(super::engine::CloseReason::TooSlow);
                    return Err(EmitError::QueueFull);
                }
                buffered.push(text);
                Ok(())
            }
            SocketState::Connected => self.inner.engine.send(text),
            SocketState::Closed => Err(EmitError::Closed),
        }
    }

    /// `on_connect` succeeded: queue CONNECT `{sid}` and what was emitted meanwhile.
    /// Returns whether the socket stays connected (false when `disconnect` was called during
    /// `on_connect`, in which case its DISCONNECT packet has been queued too).
    pub(crate) fn complete_connect(&self) -> Result<bool, EmitError> {
        let connect = engine_message(&Packet::Connect {
            nsp: self.inner.namespace.clone(),
            data: Some(json!({ "sid": self.inner.id })),
        });
        let mut state = self.inner.state.lock();
        let SocketState::Connecting {
            buffered,
            disconnect_requested,
        } = std::mem::replace(&mut *state, SocketState::Closed)
        else {
            return Err(EmitError::Closed);
        };
        self.inner.engine.send(connect)?;
        for text in buffered {
            self.inner.engine.send(text)?;
        }
        if !disconnect_requested {
            *state = SocketState::Connected;
        }
        Ok(!disconnect_requested)
    }

    /// The socket is gone (refused, disconnected, or its connection closed): emits fail and
    /// pending acks resolve to `AckError::Closed`.
    pub(crate) fn mark_closed(&self) {
        *self.inner.state.lock() = SocketState::Closed;
        self.inner.acks.lock().clear();
    }

    /// The client answered server event `id`.
    pub(crate) fn resolve_ack(&self, id: u64, args: Vec<Value>) {
        match self.inner.acks.lock().remove(&id) {
            Some(tx) => {
                let _ = tx.send(args);
            }
            None => tracing::debug!(
                sid = %self.inner.engine.sid,
                socket = %self.inner.id,
                id,
                "socket.io: ack for unknown or expired id ignored"
            ),
        }
    }
}

/// Removes the ack slot when the waiting future ends or is dropped.
struct PendingAck {
    socket: Socket,
    id: u64,
}

impl Drop for PendingAck {
    fn drop(&mut self) {
        self.socket.inner.acks.lock().remove(&self.id);
    }
}

/// Answers one client event that asked for an ack. Dropping it without `send` leaves the
/// client's callback unanswered.
pub struct AckSender {
    socket: Socket,
    id: u64,
}

impl fmt::Debug for AckSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AckSender")
            .field("socket", &self.socket.inner.id)
            .field("id", &self.id)
            .finish()
    }
}

impl AckSender {
    pub(crate) fn new(socket: Socket, id: u64) -> Self {
        AckSender { socket, id }
    }

    /// Queues ACK with `args` (the client's callback receives them as its arguments).
    pub fn send(self, args: Vec<Value>) -> Result<(), EmitError> {
        let mut text = String::from("4");
        packet::write_ack(&mut text, &self.socket.inner.namespace, self.id, &args);
        self.socket.send_packet(text)
    }
}

/// A Socket.IO packet wrapped in an Engine.IO `message` packet.
pub(crate) fn engine_message(packet: &Packet) -> String {
    let mut text = String::from("4");
    packet.encode_into(&mut text);
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Outbound, TransportKind};

    fn socket(capacity: usize) -> (Socket, Arc<Engine>) {
        let engine = Engine::new("", TransportKind::WebSocket, capacity);
        (Socket::new(engine.clone(), "/admin".into()), engine)
    }

    async fn queued(engine: &Engine) -> Vec<String> {
        let mut writer = engine.writer().await;
        let mut out = Vec::new();
        while let Some(Outbound::Packet(text)) = writer.try_recv() {
            out.push(text);
        }
        out
    }

    #[tokio::test]
    async fn emits_during_connect_follow_the_connect_packet() {
        let (socket, engine) = socket(8);
        socket.emit("hello", json!({"a": 1})).unwrap();
        assert!(queued(&engine).await.is_empty());
        assert_eq!(socket.complete_connect(), Ok(true));
        socket.emit("after", json!(2)).unwrap();
        let sent = queued(&engine).await;
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0], format!(r#"40/admin,{{"sid":"{}"}}"#, socket.id()));
        assert_eq!(sent[1], r#"42/admin,["hello",{"a":1}]"#);
        assert_eq!(sent[2], r#"42/admin,["after",2]"#);
    }

    #[tokio::test]
    async fn disconnect_during_connect_is_sent_after_connect() {
        let (socket, engine) = socket(8);
        socket.disconnect("test");
        assert!(!socket.is_connected());
        assert_eq!(socket.emit("x", json!(1)), Err(EmitError::Closed));
        assert_eq!(socket.complete_connect(), Ok(false));
        let sent = queued(&engine).await;
        assert_eq!(sent[1], "41/admin,");
    }

    #[tokio::test]
    async fn reserved_events_are_refused() {
        let (socket, _engine) = socket(8);
        assert_eq!(
            socket.emit("disconnect", json!(null)),
            Err(EmitError::ReservedEvent("disconnect".into()))
        );
    }

    #[tokio::test]
    async fn acks_resolve_time_out_and_close() {
        let (socket, engine) = socket(8);
        socket.complete_connect().unwrap();
        let answered = socket.emit_with_ack("q", json!(1), Duration::from_secs(5));
        let sent = queued(&engine).await;
        assert_eq!(sent[1], r#"42/admin,0["q",1]"#);
        socket.resolve_ack(0, vec![json!("yes")]);
        assert_eq!(answered.await, Ok(vec![json!("yes")]));

        let timed_out = socket.emit_with_ack("q", json!(2), Duration::from_millis(10));
        assert_eq!(timed_out.await, Err(AckError::Timeout));
        assert!(socket.inner.acks.lock().is_empty());

        let closed = socket.emit_with_ack("q", json!(3), Duration::from_secs(5));
        socket.mark_closed();
        assert_eq!(closed.await, Err(AckError::Closed));
    }

    #[tokio::test]
    async fn ack_sender_writes_ack_packet() {
        let (socket, engine) = socket(8);
        socket.complete_connect().unwrap();
        AckSender::new(socket.clone(), 7)
            .send(vec![json!("ok"), json!(1)])
            .unwrap();
        let sent = queued(&engine).await;
        assert_eq!(sent[1], r#"43/admin,7["ok",1]"#);
    }

    #[tokio::test]
    async fn too_many_emits_while_connecting_close_as_too_slow() {
        let (socket, engine) = socket(3);
        socket.emit("a", json!(1)).unwrap();
        socket.emit("b", json!(1)).unwrap();
        assert_eq!(socket.emit("c", json!(1)), Err(EmitError::QueueFull));
        assert!(engine.is_closed());
    }
}
