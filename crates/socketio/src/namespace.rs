//! The handler API the domain layers implement: one [`Namespace`] per Socket.IO namespace.

use super::socket::{AckSender, Socket};
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;

/// Handles the sockets of one namespace (e.g. `/` for agent desks, `/customer` for widgets).
///
/// Guarantees the connection loop gives every implementation:
/// - `on_event` calls of one socket are sequential, in arrival order: the next event of that
///   socket is not delivered before the previous future completes. Sockets (and namespaces of
///   one connection) are independent of each other.
/// - `on_disconnect` is called exactly once for every socket whose `on_connect` returned `Ok`,
///   after its last `on_event` future has completed, and never for a refused socket.
pub trait Namespace: Send + Sync + 'static {
    /// A client asks to join the namespace. `auth` is the CONNECT payload (`{}` when the client
    /// sent none); `query` is the query string of the session's first HTTP request (e.g.
    /// `token`). `Ok(())` sends CONNECT `{sid}`; `Err` sends CONNECT_ERROR `{message, data}`.
    ///
    /// Events emitted on `socket` while this future runs are delivered right after the CONNECT
    /// packet, and discarded if the connection is refused.
    fn on_connect(
        &self,
        socket: Socket,
        auth: Value,
        query: HashMap<String, String>,
    ) -> BoxFuture<'static, Result<(), ConnectError>>;

    /// One EVENT from the client. `ack` is present when the client asked for an answer.
    fn on_event(
        &self,
        socket: Socket,
        event: String,
        args: Vec<Value>,
        ack: Option<AckSender>,
    ) -> BoxFuture<'static, ()>;

    /// The socket left the namespace; `socket.emit` fails from now on.
    fn on_disconnect(&self, socket: Socket, reason: DisconnectReason);
}

/// A refused namespace connection, sent to the client as CONNECT_ERROR: the desk's
/// `connect_error` handler receives an `Error` with this `message` and `data`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    pub message: String,
    pub data: Option<Value>,
}

impl ConnectError {
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    pub(crate) fn to_payload(&self) -> Value {
        let mut payload = serde_json::Map::new();
        payload.insert("message".into(), Value::String(self.message.clone()));
        if let Some(data) = &self.data {
            payload.insert("data".into(), data.clone());
        }
        Value::Object(payload)
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

/// Why a socket left its namespace. `as_str` gives the reference server's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// The client sent DISCONNECT for this namespace (`socket.disconnect()` on the client).
    ClientNamespaceDisconnect,
    /// The server called [`Socket::disconnect`].
    ServerNamespaceDisconnect,
    /// The client closed the connection, or it was lost.
    TransportClose,
    /// The transport failed (I/O or WebSocket protocol error).
    TransportError,
    /// The client did not answer a heartbeat ping in time.
    PingTimeout,
    /// The client sent a malformed, oversized or unsupported (binary) packet, or violated the
    /// protocol; only this connection is closed.
    ParseError,
    /// The client did not read fast enough: its outbound queue was full.
    TooSlow,
    /// [`super::SocketIo::shutdown`].
    ServerShutdown,
}

impl DisconnectReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::TooSlow => "too slow",
            DisconnectReason::ServerShutdown => "server shutting down",
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
