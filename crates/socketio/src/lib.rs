//! Switchboard's Socket.IO v4 server over actix-web: protocol only, no domain. Its own
//! crate in the workspace; the app re-exports it as `switchboard::socketio`.
//!
//! Engine.IO v4 (protocol revision 4) at `config.path` (default `/socket.io/`): WebSocket, and
//! HTTP long-polling with upgrade to WebSocket, so stock `socket.io-client` 4.x connects with
//! default options and with `transports: ['websocket']`. Socket.IO protocol revision 5 on top:
//! namespaces, CONNECT with auth, CONNECT_ERROR, DISCONNECT, EVENT and ACK both ways. Binary
//! attachments are refused.
//!
//! Domain layers implement [`Namespace`] and register it with [`SocketIo::add_namespace`];
//! the app that mounts the endpoint ([`SocketIo::configure`]) is served by [`HttpServer`],
//! which takes WebSocket connections off actix-http (see `ws` for why).
//!
//! One tokio task per connection owns its Socket.IO state ([`connection`]): a WebSocket-only
//! session's WebSocket task runs it next to its socket (a frame reaches its handler with no
//! other task woken); a polling session, upgraded or not, has a connection task of its own
//! that its transports feed with text. Limits: `max_payload` per message/POST, `outbound_queue` packets per connection
//! (full: the connection is closed as too slow and logged with its sid), a bounded inbound
//! backlog (then the connection stops being read). Bad input closes only its own connection.

pub mod client_addr;
mod config;
mod connection;
mod endpoint;
mod engine;
pub mod engineio;
mod heartbeat;
mod http_server;
mod namespace;
pub mod packet;
mod polling;
mod queue;
pub mod redirect;
mod server;
mod small_map;
mod socket;
mod ws;
mod ws_io;

pub use config::SocketIoConfig;
pub use futures_util::future::BoxFuture;
pub use http_server::HttpServer;
pub use namespace::{ConnectError, DisconnectReason, Namespace};
pub use server::SocketIo;
pub use socket::{AckError, AckSender, EmitError, Socket};
