//! A lean Socket.IO v4 client (Engine.IO v4, WebSocket transport only) for load generation.
//!
//! One [`Client`] is one WebSocket connection with one namespace. A single I/O task per
//! connection reads frames, answers heartbeats, resolves acks and forwards events; it also
//! writes everything queued by [`Client::emit`] and friends, batching what is ready into one
//! flush. Every inbound packet is stamped with [`Instant`] the moment its frame is decoded, so
//! latencies measured from it exclude the time the owner task takes to get scheduled.
//!
//! Payloads stay raw JSON text: owners parse only the fields they need ([`Inbound::args`]),
//! which keeps the tool's own CPU use low while it shares the machine with the server.

use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, thiserror::Error)]
pub enum SioError {
    #[error("connect refused: {0}")]
    Refused(String),
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("connection closed")]
    Closed,
    #[error("transport: {0}")]
    Transport(String),
    #[error("protocol: {0}")]
    Protocol(String),
}

/// One EVENT or tagged ACK received from the server.
#[derive(Debug)]
pub struct Inbound {
    /// When the frame was decoded by the I/O task.
    pub at: Instant,
    pub kind: InboundKind,
    /// The packet's JSON array text (`["name", arg, ...]` for events, `[arg, ...]` for acks).
    pub json: String,
}

#[derive(Debug)]
pub enum InboundKind {
    /// An event. (The server never asks desks or widgets for acks, so none is offered.)
    Event { name: String },
    /// The answer to [`Client::emit_tagged`]: the caller's tag and when it was sent.
    TaggedAck { tag: u64, sent: Instant },
}

impl Inbound {
    pub fn name(&self) -> &str {
        match &self.kind {
            InboundKind::Event { name } => name,
            InboundKind::TaggedAck { .. } => "",
        }
    }

    /// The first argument of an event (or of an ack), parsed into `T`.
    pub fn first_arg<T: DeserializeOwned>(&self) -> Result<T, SioError> {
        match self.kind {
            InboundKind::Event { .. } => {
                nth(&self.json, 1).map_err(|e| SioError::Protocol(format!("{}: {e}", self.name())))
            }
            InboundKind::TaggedAck { .. } => {
                nth(&self.json, 0).map_err(|e| SioError::Protocol(format!("ack: {e}")))
            }
        }
    }
}

/// The element at `skip` of a JSON array, parsed into `T`; the other elements are skipped
/// unparsed (events are `["name", first, ...]`, acks are `[first, ...]`).
struct Nth<T> {
    skip: usize,
    _t: std::marker::PhantomData<T>,
}

impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Nth<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an array with at least {} elements", self.skip + 1)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        for i in 0..self.skip {
            if seq.next_element::<serde::de::IgnoredAny>()?.is_none() {
                return Err(serde::de::Error::invalid_length(i, &self));
            }
        }
        let value = seq
            .next_element::<T>()?
            .ok_or_else(|| serde::de::Error::invalid_length(self.skip, &self))?;
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(value)
    }
}

fn nth<T: DeserializeOwned>(json: &str, skip: usize) -> Result<T, serde_json::Error> {
    use serde::Deserializer;
    let mut de = serde_json::Deserializer::from_str(json);
    let value = (&mut de).deserialize_seq(Nth {
        skip,
        _t: std::marker::PhantomData,
    })?;
    de.end()?;
    Ok(value)
}

enum AckWaiter {
    Once(oneshot::Sender<String>),
    Tagged(u64, Instant),
}

enum Outgoing {
    Text(String),
    Close,
}

struct Shared {
    out: mpsc::UnboundedSender<Outgoing>,
    acks: Mutex<HashMap<u64, AckWaiter>>,
    next_ack: AtomicU64,
}

/// One connected namespace. Cheap to clone; every clone writes to the same connection.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    /// `""` for `/`, `"/customer,"` for another namespace (the packet prefix after the type).
    nsp_prefix: Arc<str>,
}

/// What to do with inbound events.
pub enum Events {
    /// Forward them to the returned receiver.
    Forward,
    /// Drop them (idle connections that only need to stay alive).
    Discard,
}

/// The CONNECT answer and the event stream of a new connection.
pub struct Connected {
    pub client: Client,
    /// Present with [`Events::Forward`]. Ends when the connection closes.
    pub events: Option<mpsc::UnboundedReceiver<Inbound>>,
}

fn ws_config() -> WebSocketConfig {
    // Small write buffer: the I/O task flushes after every batch anyway.
    WebSocketConfig {
        write_buffer_size: 0,
        ..WebSocketConfig::default()
    }
}

/// Opens `ws://addr/socket.io/?EIO=4&transport=websocket` and connects `namespace` with `auth`.
pub async fn connect(
    addr: SocketAddr,
    namespace: &str,
    auth: &Value,
    events: Events,
    timeout: Duration,
) -> Result<Connected, SioError> {
    tokio::time::timeout(timeout, connect_inner(addr, namespace, auth, events))
        .await
        .map_err(|_| SioError::Timeout(format!("connecting {namespace}")))?
}

async fn connect_inner(
    addr: SocketAddr,
    namespace: &str,
    auth: &Value,
    events: Events,
) -> Result<Connected, SioError> {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(ws_config()), true)
        .await
        .map_err(|e| SioError::Transport(e.to_string()))?;

    match ws.next().await {
        Some(Ok(Message::Text(text))) if text.starts_with('0') => {}
        other => {
            return Err(SioError::Protocol(format!(
                "expected the Engine.IO open packet, got {other:?}"
            )))
        }
    }
    let nsp_prefix: Arc<str> = if namespace == "/" {
        "".into()
    } else {
        format!("{namespace},").into()
    };
    ws.send(Message::Text(format!("40{nsp_prefix}{auth}")))
        .await
        .map_err(|e| SioError::Transport(e.to_string()))?;
    loop {
        let text = match ws.next().await {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(frame))) => {
                return Err(SioError::Protocol(format!(
                    "closed during CONNECT: {frame:?}"
                )))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(SioError::Transport(e.to_string())),
            None => return Err(SioError::Closed),
        };
        if text == "2" {
            ws.send(Message::Text("3".into()))
                .await
                .map_err(|e| SioError::Transport(e.to_string()))?;
            continue;
        }
        let Some(rest) = text.strip_prefix('4') else {
            continue;
        };
        let Some((kind, body)) = split_packet(rest, &nsp_prefix) else {
            continue;
        };
        match kind {
            '0' => break,
            '4' => {
                let message = serde_json::from_str::<Value>(body)
                    .ok()
                    .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_else(|| body.to_owned());
                return Err(SioError::Refused(message));
            }
            _ => continue,
        }
    }

    let (out, outgoing) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        out,
        acks: Mutex::new(HashMap::new()),
        next_ack: AtomicU64::new(0),
    });
    let (events_tx, events_rx) = match events {
        Events::Forward => {
            let (tx, rx) = mpsc::unbounded_channel();
            (Some(tx), Some(rx))
        }
        Events::Discard => (None, None),
    };
    tokio::spawn(run_io(
        ws,
        outgoing,
        shared.clone(),
        nsp_prefix.clone(),
        events_tx,
    ));
    Ok(Connected {
        client: Client { shared, nsp_prefix },
        events: events_rx,
    })
}

/// Splits `<type>[<nsp>,]<rest>` for our namespace; `None` for other namespaces.
fn split_packet<'a>(packet: &'a str, nsp_prefix: &str) -> Option<(char, &'a str)> {
    let kind = packet.chars().next()?;
    let rest = &packet[kind.len_utf8()..];
    if nsp_prefix.is_empty() {
        if rest.starts_with('/') {
            return None;
        }
        Some((kind, rest))
    } else {
        rest.strip_prefix(nsp_prefix).map(|r| (kind, r))
    }
}

/// `123[...]` -> (Some(123), "[...]").
fn split_ack_id(body: &str) -> (Option<u64>, &str) {
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    (body[..digits].parse().ok(), &body[digits..])
}

/// The event name of `["name", ...]` without parsing the rest.
fn event_name(json: &str) -> Option<String> {
    let rest = json.strip_prefix("[\"")?;
    let end = rest.find('"')?;
    let name = &rest[..end];
    if name.contains('\\') {
        // Escaped names are not used by the server; parse properly to be safe.
        let array: Vec<Value> = serde_json::from_str(json).ok()?;
        return array.first()?.as_str().map(str::to_owned);
    }
    Some(name.to_owned())
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn run_io(
    mut ws: Ws,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    shared: Arc<Shared>,
    nsp_prefix: Arc<str>,
    events: Option<mpsc::UnboundedSender<Inbound>>,
) {
    loop {
        tokio::select! {
            frame = ws.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                let at = Instant::now();
                if text == "2" {
                    if ws.send(Message::Text("3".into())).await.is_err() {
                        break;
                    }
                    continue;
                }
                if let Some(packet) = text.strip_prefix('4') {
                    if !on_packet(packet, at, &shared, &nsp_prefix, events.as_ref()) {
                        break;
                    }
                }
            }
            item = outgoing.recv() => {
                let Some(item) = item else { break };
                if !write_batch(&mut ws, item, &mut outgoing).await {
                    break;
                }
            }
        }
    }
    // Waiters of acks that will never come see their sender dropped.
    shared.acks.lock().clear();
}

/// Writes `first` and whatever else is already queued, then flushes once. False when the
/// connection is done (closed by us or broken).
async fn write_batch(
    ws: &mut Ws,
    first: Outgoing,
    outgoing: &mut mpsc::UnboundedReceiver<Outgoing>,
) -> bool {
    let mut item = first;
    loop {
        match item {
            Outgoing::Text(text) => {
                if ws.feed(Message::Text(text)).await.is_err() {
                    return false;
                }
            }
            Outgoing::Close => {
                let _ = ws.close(None).await;
                return false;
            }
        }
        match outgoing.try_recv() {
            Ok(next) => item = next,
            Err(_) => break,
        }
    }
    ws.flush().await.is_ok()
}

/// Handles one Socket.IO packet. False when the server disconnected our namespace.
fn on_packet(
    packet: &str,
    at: Instant,
    shared: &Shared,
    nsp_prefix: &str,
    events: Option<&mpsc::UnboundedSender<Inbound>>,
) -> bool {
    let Some((kind, body)) = split_packet(packet, nsp_prefix) else {
        return true;
    };
    match kind {
        '2' => {
            let (_, json) = split_ack_id(body);
            if let (Some(tx), Some(name)) = (events, event_name(json)) {
                let _ = tx.send(Inbound {
                    at,
                    kind: InboundKind::Event { name },
                    json: json.to_owned(),
                });
            }
        }
        '3' => {
            let (Some(id), json) = split_ack_id(body) else {
                return true;
            };
            let waiter = shared.acks.lock().remove(&id);
            match waiter {
                Some(AckWaiter::Once(tx)) => {
                    let _ = tx.send(json.to_owned());
                }
                Some(AckWaiter::Tagged(tag, sent)) => {
                    if let Some(tx) = events {
                        let _ = tx.send(Inbound {
                            at,
                            kind: InboundKind::TaggedAck { tag, sent },
                            json: json.to_owned(),
                        });
                    }
                }
                None => {}
            }
        }
        '1' => return false,
        _ => {}
    }
    true
}

impl Client {
    fn packet(&self, ack_id: Option<u64>, event: &str, data: &impl Serialize) -> String {
        let mut packet = String::with_capacity(256);
        packet.push_str("42");
        packet.push_str(&self.nsp_prefix);
        if let Some(id) = ack_id {
            packet.push_str(&id.to_string());
        }
        // A tuple serializes as a JSON array: ["event", data].
        match serde_json::to_string(&(event, data)) {
            Ok(json) => packet.push_str(&json),
            Err(_) => packet.push_str(&format!("[{}]", Value::String(event.to_owned()))),
        }
        packet
    }

    fn send(&self, text: String) -> Result<(), SioError> {
        self.shared
            .out
            .send(Outgoing::Text(text))
            .map_err(|_| SioError::Closed)
    }

    /// Emits `[event, data]` and waits for the ack; returns the ack's JSON array text.
    pub async fn emit_ack(
        &self,
        event: &str,
        data: &impl Serialize,
        timeout: Duration,
    ) -> Result<String, SioError> {
        let id = self.shared.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.shared.acks.lock().insert(id, AckWaiter::Once(tx));
        self.send(self.packet(Some(id), event, data))?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(json)) => Ok(json),
            Ok(Err(_)) => Err(SioError::Closed),
            Err(_) => {
                self.shared.acks.lock().remove(&id);
                Err(SioError::Timeout(format!("no ack for {event}")))
            }
        }
    }

    /// Emits `[event, data]` asking for an ack that arrives later on the event stream as
    /// [`InboundKind::TaggedAck`] with `tag`. Returns the send instant.
    pub fn emit_tagged(
        &self,
        event: &str,
        data: &impl Serialize,
        tag: u64,
    ) -> Result<Instant, SioError> {
        let id = self.shared.next_ack.fetch_add(1, Ordering::Relaxed);
        let packet = self.packet(Some(id), event, data);
        let sent = Instant::now();
        self.shared
            .acks
            .lock()
            .insert(id, AckWaiter::Tagged(tag, sent));
        self.send(packet)?;
        Ok(sent)
    }

    /// Closes the connection (a WebSocket close frame, then the I/O task ends).
    pub fn close(&self) {
        let _ = self.shared.out.send(Outgoing::Close);
    }

    /// True while the I/O task runs.
    pub fn is_open(&self) -> bool {
        !self.shared.out.is_closed()
    }
}

/// Parses the first element of an ack's JSON array text.
pub fn ack_first<T: DeserializeOwned>(json: &str) -> Result<T, SioError> {
    nth(json, 0).map_err(|e| SioError::Protocol(format!("ack: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_of_other_namespaces_are_skipped() {
        assert_eq!(split_packet("2[\"a\"]", ""), Some(('2', "[\"a\"]")));
        assert_eq!(split_packet("2/customer,[\"a\"]", ""), None);
        assert_eq!(
            split_packet("2/customer,5[\"a\"]", "/customer,"),
            Some(('2', "5[\"a\"]"))
        );
        assert_eq!(split_packet("2[\"a\"]", "/customer,"), None);
    }

    #[test]
    fn ack_ids_and_event_names_are_read_without_parsing_payloads() {
        assert_eq!(split_ack_id("12[1]"), (Some(12), "[1]"));
        assert_eq!(split_ack_id("[1]"), (None, "[1]"));
        assert_eq!(
            event_name("[\"onCimEvent\",{\"x\":1}]").as_deref(),
            Some("onCimEvent")
        );
        assert_eq!(event_name("[\"a\\\"b\",1]").as_deref(), Some("a\"b"));
        assert_eq!(event_name("{}"), None);
    }

    #[test]
    fn first_arguments_are_parsed_from_events_and_acks() {
        let event = Inbound {
            at: Instant::now(),
            kind: InboundKind::Event { name: "x".into() },
            json: r#"["x",{"a":1},2,[3]]"#.into(),
        };
        let v: Value = event.first_arg().unwrap();
        assert_eq!(v["a"], 1);
        let a: Value = ack_first(r#"[{"status":"ok"}]"#).unwrap();
        assert_eq!(a["status"], "ok");
    }
}
