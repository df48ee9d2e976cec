//! The connection under the client: the WebSocket handshake, the writer and reader tasks,
//! a namespace's CONNECT, and how the server's Engine.IO and Socket.IO packets reach
//! their namespace (events, DISCONNECT) or waiting ack.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;

use super::{
    header, lock, CloseInfo, ConnectOptions, Connection, Inbox, Incoming, Outgoing, ReceivedEvent,
    Route, Routes, SioClient, SioClientError, DEFAULT_TIMEOUT,
};

impl SioClient {
    pub(super) async fn open(
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

    pub(super) async fn join_on(
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
}
impl Connection {
    pub(super) fn send(&self, item: Outgoing) -> Result<(), SioClientError> {
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
