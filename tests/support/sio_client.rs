//! A small Socket.IO v4 test client over tokio-tungstenite (WebSocket transport, EIO=4).
//!
//! It speaks the wire format itself (not through `switchboard::socketio`), so it checks the
//! server rather than sharing its bugs. One [`SioClient`] is one namespace of one connection;
//! [`SioClient::join`] adds another namespace on the same connection.
//!
//! ```ignore
//! let desk = SioClient::connect(addr, "/", json!({"token": token})).await?;
//! desk.emit("changeAgentState", json!({...}))?;
//! let presence = desk.expect("agentPresence", Duration::from_secs(2)).await?;
//! let reply = desk.emit_ack("topicSubscription", json!({...})).await?;
//! let offer = desk.expect_event("taskRequest", Duration::from_secs(2)).await?;
//! desk.ack(&offer, vec![json!({"accepted": true})])?;
//! desk.close().await;
//! ```

mod connection;

use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Default wait for connects and acks.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SioClientError {
    /// The server answered CONNECT_ERROR (the browser client's `connect_error`).
    #[error("connect refused: {message}")]
    ConnectRefused {
        message: String,
        data: Option<Value>,
    },
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("connection closed")]
    Closed,
    #[error("transport: {0}")]
    Transport(String),
    #[error("protocol: {0}")]
    Protocol(String),
}

/// How the server closed the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseInfo {
    /// WebSocket close code (1000 normal, 1001 going away, 1008 policy, 1009 too big...);
    /// `None` when the connection ended without a close frame.
    pub code: Option<u16>,
    pub reason: String,
}

/// One EVENT received from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedEvent {
    pub name: String,
    pub args: Vec<Value>,
    /// Present when the server asked for an ack: answer with [`SioClient::ack`].
    pub ack_id: Option<u64>,
}

impl ReceivedEvent {
    /// The first argument (`null` when there is none).
    pub fn data(&self) -> Value {
        self.args.first().cloned().unwrap_or(Value::Null)
    }
}

/// Options of [`SioClient::connect_with`].
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub namespace: String,
    /// CONNECT payload; `None` sends a bare CONNECT.
    pub auth: Option<Value>,
    /// Extra query parameters of the handshake request (e.g. `token`).
    pub query: Vec<(String, String)>,
    /// Answer server pings (turn off to play a dead peer).
    pub auto_pong: bool,
    pub path: String,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            namespace: "/".into(),
            auth: None,
            query: Vec::new(),
            auto_pong: true,
            path: "/socket.io/".into(),
        }
    }
}

enum Incoming {
    Event(ReceivedEvent),
    Disconnect,
}

struct Route {
    connected: Option<oneshot::Sender<Result<String, SioClientError>>>,
    events: mpsc::UnboundedSender<Incoming>,
}

#[derive(Default)]
struct Routes {
    namespaces: HashMap<String, Route>,
    acks: HashMap<u64, oneshot::Sender<Vec<Value>>>,
}

enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
    Close,
}

struct Connection {
    engine_id: String,
    out: mpsc::UnboundedSender<Outgoing>,
    routes: Mutex<Routes>,
    next_ack: AtomicU64,
    auto_pong: AtomicBool,
    closed: watch::Receiver<Option<CloseInfo>>,
}

struct Inbox {
    rx: mpsc::UnboundedReceiver<Incoming>,
    buffered: VecDeque<ReceivedEvent>,
    disconnected: bool,
}

/// One namespace of a Socket.IO connection.
pub struct SioClient {
    conn: Arc<Connection>,
    namespace: String,
    socket_id: String,
    inbox: tokio::sync::Mutex<Inbox>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `<type>[<nsp>,]` prefix; the main namespace is omitted.
fn header(kind: char, nsp: &str) -> String {
    let mut text = format!("4{kind}");
    if nsp != "/" {
        text.push_str(nsp);
        text.push(',');
    }
    text
}

impl SioClient {
    /// Opens a WebSocket connection to `addr` and connects `namespace` with `auth`.
    pub async fn connect(
        addr: SocketAddr,
        namespace: &str,
        auth: Value,
    ) -> Result<SioClient, SioClientError> {
        Self::connect_with(
            addr,
            ConnectOptions {
                namespace: namespace.into(),
                auth: Some(auth),
                ..ConnectOptions::default()
            },
        )
        .await
    }

    pub async fn connect_with(
        addr: SocketAddr,
        options: ConnectOptions,
    ) -> Result<SioClient, SioClientError> {
        let conn = Self::open(addr, &options).await?;
        Self::join_on(conn, &options.namespace, options.auth).await
    }

    /// Connects another namespace over the same connection (as socket.io-client multiplexes).
    pub async fn join(&self, namespace: &str, auth: Value) -> Result<SioClient, SioClientError> {
        Self::join_on(self.conn.clone(), namespace, Some(auth)).await
    }

    /// The Socket.IO socket id the server assigned in its CONNECT packet.
    pub fn id(&self) -> &str {
        &self.socket_id
    }

    /// The Engine.IO session id (shared by every namespace of the connection).
    pub fn engine_id(&self) -> &str {
        &self.conn.engine_id
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Stops (or resumes) answering server pings, to play a dead peer.
    pub fn set_auto_pong(&self, on: bool) {
        self.conn.auto_pong.store(on, Ordering::SeqCst);
    }

    /// Emits `[event, data]`.
    pub fn emit(&self, event: &str, data: Value) -> Result<(), SioClientError> {
        self.emit_args(event, vec![data])
    }

    /// Emits `[event, ...args]`.
    pub fn emit_args(&self, event: &str, args: Vec<Value>) -> Result<(), SioClientError> {
        self.send_event(event, args, None)
    }

    /// Emits `[event, data]` asking for an ack; returns the ack arguments.
    pub async fn emit_ack(&self, event: &str, data: Value) -> Result<Vec<Value>, SioClientError> {
        self.emit_ack_timeout(event, vec![data], DEFAULT_TIMEOUT)
            .await
    }

    pub async fn emit_ack_timeout(
        &self,
        event: &str,
        args: Vec<Value>,
        timeout: Duration,
    ) -> Result<Vec<Value>, SioClientError> {
        let id = self.conn.next_ack.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        lock(&self.conn.routes).acks.insert(id, tx);
        self.send_event(event, args, Some(id))?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(args)) => Ok(args),
            Ok(Err(_)) => Err(SioClientError::Closed),
            Err(_) => {
                lock(&self.conn.routes).acks.remove(&id);
                Err(SioClientError::Timeout(format!("no ack for {event:?}")))
            }
        }
    }

    fn send_event(
        &self,
        event: &str,
        args: Vec<Value>,
        id: Option<u64>,
    ) -> Result<(), SioClientError> {
        let mut packet = header('2', &self.namespace);
        if let Some(id) = id {
            packet.push_str(&id.to_string());
        }
        let mut array = vec![Value::String(event.to_owned())];
        array.extend(args);
        packet.push_str(&Value::Array(array).to_string());
        self.conn.send(Outgoing::Text(packet))
    }

    /// Answers a server event that asked for an ack.
    pub fn ack(&self, event: &ReceivedEvent, args: Vec<Value>) -> Result<(), SioClientError> {
        let id = event.ack_id.ok_or_else(|| {
            SioClientError::Protocol(format!("{:?} did not ask for an ack", event.name))
        })?;
        let mut packet = header('3', &self.namespace);
        packet.push_str(&id.to_string());
        packet.push_str(&Value::Array(args).to_string());
        self.conn.send(Outgoing::Text(packet))
    }

    /// Waits for the next `event` (other events stay buffered) and returns its first argument.
    pub async fn expect(&self, event: &str, timeout: Duration) -> Result<Value, SioClientError> {
        Ok(self.expect_event(event, timeout).await?.data())
    }

    /// Waits for the next `event` (other events stay buffered for later `expect`s).
    pub async fn expect_event(
        &self,
        event: &str,
        timeout: Duration,
    ) -> Result<ReceivedEvent, SioClientError> {
        let mut inbox = self.inbox.lock().await;
        if let Some(pos) = inbox.buffered.iter().position(|e| e.name == event) {
            if let Some(found) = inbox.buffered.remove(pos) {
                return Ok(found);
            }
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, inbox.rx.recv()).await {
                Err(_) => {
                    let seen: Vec<&str> = inbox.buffered.iter().map(|e| e.name.as_str()).collect();
                    return Err(SioClientError::Timeout(format!(
                        "no {event:?} within {timeout:?} (buffered: {seen:?})"
                    )));
                }
                Ok(None) => return Err(SioClientError::Closed),
                Ok(Some(Incoming::Event(received))) if received.name == event => {
                    return Ok(received)
                }
                Ok(Some(Incoming::Event(other))) => inbox.buffered.push_back(other),
                Ok(Some(Incoming::Disconnect)) => inbox.disconnected = true,
            }
        }
    }

    /// The next event in arrival order, whatever its name.
    pub async fn next_event(&self, timeout: Duration) -> Result<ReceivedEvent, SioClientError> {
        let mut inbox = self.inbox.lock().await;
        if let Some(first) = inbox.buffered.pop_front() {
            return Ok(first);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, inbox.rx.recv()).await {
                Err(_) => {
                    return Err(SioClientError::Timeout(format!(
                        "no event within {timeout:?}"
                    )))
                }
                Ok(None) => return Err(SioClientError::Closed),
                Ok(Some(Incoming::Event(received))) => return Ok(received),
                Ok(Some(Incoming::Disconnect)) => inbox.disconnected = true,
            }
        }
    }

    /// Fails if `event` arrives within `duration`.
    pub async fn expect_silence(
        &self,
        event: &str,
        duration: Duration,
    ) -> Result<(), SioClientError> {
        match self.expect_event(event, duration).await {
            Ok(received) => Err(SioClientError::Protocol(format!(
                "unexpected {event:?}: {:?}",
                received.args
            ))),
            Err(SioClientError::Timeout(_)) | Err(SioClientError::Closed) => Ok(()),
            Err(other) => Err(other),
        }
    }

    /// Waits until the server sends DISCONNECT for this namespace.
    pub async fn expect_disconnect(&self, timeout: Duration) -> Result<(), SioClientError> {
        let mut inbox = self.inbox.lock().await;
        let deadline = tokio::time::Instant::now() + timeout;
        while !inbox.disconnected {
            match tokio::time::timeout_at(deadline, inbox.rx.recv()).await {
                Err(_) => return Err(SioClientError::Timeout("no DISCONNECT".into())),
                Ok(None) => return Err(SioClientError::Closed),
                Ok(Some(Incoming::Event(other))) => inbox.buffered.push_back(other),
                Ok(Some(Incoming::Disconnect)) => inbox.disconnected = true,
            }
        }
        Ok(())
    }

    /// Sends a raw Engine.IO text frame (e.g. a malformed packet).
    pub fn send_raw(&self, text: &str) -> Result<(), SioClientError> {
        self.conn.send(Outgoing::Text(text.to_owned()))
    }

    /// Sends a raw binary frame.
    pub fn send_binary(&self, bytes: Vec<u8>) -> Result<(), SioClientError> {
        self.conn.send(Outgoing::Binary(bytes))
    }

    /// Leaves this namespace (DISCONNECT); the connection stays open.
    pub fn disconnect(&self) -> Result<(), SioClientError> {
        self.conn.send(Outgoing::Text(header('1', &self.namespace)))
    }

    /// Closes the whole connection (every namespace on it).
    pub async fn close(&self) {
        let _ = self.conn.send(Outgoing::Close);
        let _ = self.closed(Duration::from_secs(2)).await;
    }

    pub fn is_closed(&self) -> bool {
        self.conn.closed.borrow().is_some()
    }

    /// Waits until the connection is closed and says how.
    pub async fn closed(&self, timeout: Duration) -> Result<CloseInfo, SioClientError> {
        let mut closed = self.conn.closed.clone();
        let result = tokio::time::timeout(timeout, closed.wait_for(Option::is_some)).await;
        match result {
            Ok(Ok(info)) => Ok(info.clone().unwrap_or(CloseInfo {
                code: None,
                reason: String::new(),
            })),
            Ok(Err(_)) => Err(SioClientError::Closed),
            Err(_) => Err(SioClientError::Timeout("connection still open".into())),
        }
    }
}

/// `{"token": token}`, the usual auth payload.
pub fn token_auth(token: &str) -> Value {
    json!({ "token": token })
}
