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

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;

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

    async fn open(
        addr: SocketAddr,
        options: &ConnectOptions,
    ) -> Result<Arc<Connection>, SioClientError> {
        let mut url = format!("ws://{addr}{}?EIO=4&transport=websocket", options.path);
        for (key, value) in &options.query {
            url.push_str(&format!("&{key}={value}"));
        }
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| SioClientError::Transport(e.to_string()))?;
        let (mut sink, mut stream) = ws.split();

        let open = tokio::time::timeout(DEFAULT_TIMEOUT, stream.next())
            .await
            .map_err(|_| SioClientError::Timeout("no Engine.IO open packet".into()))?;
        let engine_id = match open {
            Some(Ok(Message::Text(text))) if text.starts_with('0') => {
                let handshake: Value = serde_json::from_str(&text[1..])
                    .map_err(|e| SioClientError::Protocol(format!("bad open packet: {e}")))?;
                handshake["sid"]
                    .as_str()
                    .ok_or_else(|| SioClientError::Protocol("open packet without sid".into()))?
                    .to_owned()
            }
            other => {
                return Err(SioClientError::Protocol(format!(
                    "expected open packet, got {other:?}"
                )))
            }
        };

        let (out, mut outgoing) = mpsc::unbounded_channel::<Outgoing>();
        let (closed_tx, closed) = watch::channel(None);
        let conn = Arc::new(Connection {
            engine_id,
            out,
            routes: Mutex::new(Routes::default()),
            next_ack: AtomicU64::new(0),
            auto_pong: AtomicBool::new(options.auto_pong),
            closed,
        });

        tokio::spawn(async move {
            while let Some(item) = outgoing.recv().await {
                let sent = match item {
                    Outgoing::Text(text) => sink.send(Message::Text(text)).await,
                    Outgoing::Binary(bytes) => sink.send(Message::Binary(bytes)).await,
                    Outgoing::Close => {
                        let _ = sink.close().await;
                        break;
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
        });

        let reader = conn.clone();
        tokio::spawn(async move {
            let mut info = CloseInfo {
                code: None,
                reason: String::new(),
            };
            while let Some(frame) = stream.next().await {
                match frame {
                    Ok(Message::Text(text)) => reader.on_text(&text),
                    Ok(Message::Close(frame)) => {
                        if let Some(frame) = frame {
                            info.code = Some(u16::from(frame.code));
                            info.reason = frame.reason.into_owned();
                        }
                        break;
                    }
                    Ok(_) => {}
                    Err(err) => {
                        info.reason = err.to_string();
                        break;
                    }
                }
            }
            let mut routes = lock(&reader.routes);
            for (_, route) in routes.namespaces.drain() {
                if let Some(waiter) = route.connected {
                    let _ = waiter.send(Err(SioClientError::Closed));
                }
            }
            routes.acks.clear();
            drop(routes);
            let _ = closed_tx.send(Some(info));
        });
        Ok(conn)
    }

    async fn join_on(
        conn: Arc<Connection>,
        namespace: &str,
        auth: Option<Value>,
    ) -> Result<SioClient, SioClientError> {
        let (connected_tx, connected_rx) = oneshot::channel();
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        lock(&conn.routes).namespaces.insert(
            namespace.to_owned(),
            Route {
                connected: Some(connected_tx),
                events: events_tx,
            },
        );
        let mut packet = header('0', namespace);
        if let Some(auth) = auth {
            packet.push_str(&auth.to_string());
        }
        conn.send(Outgoing::Text(packet))?;
        let result = tokio::time::timeout(DEFAULT_TIMEOUT, connected_rx)
            .await
            .map_err(|_| SioClientError::Timeout(format!("no answer to CONNECT {namespace}")))?
            .unwrap_or(Err(SioClientError::Closed));
        match result {
            Ok(socket_id) => Ok(SioClient {
                conn,
                namespace: namespace.to_owned(),
                socket_id,
                inbox: tokio::sync::Mutex::new(Inbox {
                    rx: events_rx,
                    buffered: VecDeque::new(),
                    disconnected: false,
                }),
            }),
            Err(err) => {
                lock(&conn.routes).namespaces.remove(namespace);
                Err(err)
            }
        }
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

impl Connection {
    fn send(&self, item: Outgoing) -> Result<(), SioClientError> {
        if self.closed.borrow().is_some() {
            return Err(SioClientError::Closed);
        }
        self.out.send(item).map_err(|_| SioClientError::Closed)
    }

    fn on_text(&self, text: &str) {
        match text.chars().next() {
            Some('2') if self.auto_pong.load(Ordering::SeqCst) => {
                let _ = self.out.send(Outgoing::Text("3".into()));
            }
            Some('4') => self.on_socketio(&text[1..]),
            _ => {}
        }
    }

    fn on_socketio(&self, text: &str) {
        let Some(kind) = text.chars().next() else {
            return;
        };
        let mut rest = &text[1..];
        let mut nsp = "/";
        if rest.starts_with('/') {
            let end = rest.find(',').unwrap_or(rest.len());
            nsp = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or("");
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let id = rest[..digits].parse::<u64>().ok();
        rest = &rest[digits..];
        let data: Option<Value> = serde_json::from_str(rest).ok();

        let mut routes = lock(&self.routes);
        match kind {
            '0' => {
                let sid = data
                    .as_ref()
                    .and_then(|d| d["sid"].as_str())
                    .unwrap_or_default()
                    .to_owned();
                if let Some(waiter) = routes
                    .namespaces
                    .get_mut(nsp)
                    .and_then(|r| r.connected.take())
                {
                    let _ = waiter.send(Ok(sid));
                }
            }
            '4' => {
                let data = data.unwrap_or(Value::Null);
                let refusal = SioClientError::ConnectRefused {
                    message: data["message"].as_str().unwrap_or_default().to_owned(),
                    data: data.get("data").cloned(),
                };
                if let Some(waiter) = routes
                    .namespaces
                    .get_mut(nsp)
                    .and_then(|r| r.connected.take())
                {
                    let _ = waiter.send(Err(refusal));
                }
            }
            '2' => {
                let Some(Value::Array(mut items)) = data else {
                    return;
                };
                if items.is_empty() {
                    return;
                }
                let name = match items.remove(0) {
                    Value::String(name) => name,
                    other => other.to_string(),
                };
                if let Some(route) = routes.namespaces.get(nsp) {
                    let _ = route.events.send(Incoming::Event(ReceivedEvent {
                        name,
                        args: items,
                        ack_id: id,
                    }));
                }
            }
            '3' => {
                if let (Some(id), Some(Value::Array(args))) = (id, data) {
                    if let Some(waiter) = routes.acks.remove(&id) {
                        let _ = waiter.send(args);
                    }
                }
            }
            '1' => {
                if let Some(route) = routes.namespaces.get(nsp) {
                    let _ = route.events.send(Incoming::Disconnect);
                }
            }
            _ => {}
        }
    }
}

/// `{"token": token}`, the usual auth payload.
pub fn token_auth(token: &str) -> Value {
    json!({ "token": token })
}
