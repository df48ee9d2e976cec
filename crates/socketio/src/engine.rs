//! One Engine.IO session as its transports, sockets and connection task share it: the bounded
//! outbound queue (and its too-slow policy), the inbound channel to the connection task (of
//! polling sessions, upgraded or not; a WebSocket-only session hands packets over in-task), the
//! current transport (polling, upgrading, WebSocket) and the close signal with its reason.

use super::queue::{BoundedQueue, PushError};
use super::socket::{EmitError, Socket};
use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use rand::RngCore;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::futures::Notified;
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

/// Client packets buffered between a transport and the connection task.
const INBOUND_QUEUE: usize = 16;

/// A random 20-character URL-safe id, as the reference server uses for sids.
pub(crate) fn new_id() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 15];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One item of the outbound queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outbound {
    /// An encoded Engine.IO packet, e.g. `2` or `42["event",{}]`.
    Packet(String),
    /// Everything queued before has been written: close the transport cleanly.
    Close,
}

/// The right to write the outbound queue to the client, held by whichever transport currently
/// writes (one pending long-poll GET, or the WebSocket writer).
pub(crate) struct OutboundWriter<'a> {
    queue: &'a BoundedQueue<Outbound>,
    /// A packet taken from the queue that did not fit in the last polling response.
    carry: tokio::sync::MutexGuard<'a, Option<Outbound>>,
}

impl OutboundWriter<'_> {
    /// The next packet; `None` once the session is closed.
    pub(crate) async fn recv(&mut self) -> Option<Outbound> {
        match self.carry.take() {
            Some(item) => Some(item),
            None => self.queue.pop().await,
        }
    }

    /// [`OutboundWriter::recv`] for hand-written futures.
    pub(crate) fn poll_recv(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Outbound>> {
        match self.carry.take() {
            Some(item) => std::task::Poll::Ready(Some(item)),
            None => self.queue.poll_pop(cx),
        }
    }

    /// Queue pushes stop waking the writer until it next waits in [`OutboundWriter::poll_recv`]
    /// (see [`BoundedQueue::unregister_consumer`]).
    pub(crate) fn unregister(&self) {
        self.queue.unregister_consumer();
    }

    pub(crate) fn try_recv(&mut self) -> Option<Outbound> {
        self.carry.take().or_else(|| self.queue.try_pop())
    }

    /// Keeps `item` for the next read (it did not fit in a polling response).
    pub(crate) fn put_back(&mut self, item: Outbound) {
        *self.carry = Some(item);
    }
}

/// Which transport carries the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum TransportKind {
    Polling,
    /// A WebSocket answered the probe; pending polls are ended with `noop`.
    Upgrading,
    WebSocket,
}

impl TransportKind {
    fn from_u8(value: u8) -> TransportKind {
        match value {
            0 => TransportKind::Polling,
            1 => TransportKind::Upgrading,
            _ => TransportKind::WebSocket,
        }
    }
}

/// The session's current transport, and a signal for polls waiting on a change (an atomic and
/// a `Notify` rather than a `watch` channel, whose shared state costs every session 344 bytes).
pub(crate) struct TransportCell {
    kind: AtomicU8,
    changed: Notify,
}

impl TransportCell {
    fn new(kind: TransportKind) -> Self {
        TransportCell {
            kind: AtomicU8::new(kind as u8),
            changed: Notify::new(),
        }
    }

    pub(crate) fn get(&self) -> TransportKind {
        TransportKind::from_u8(self.kind.load(Ordering::SeqCst))
    }

    pub(crate) fn set(&self, kind: TransportKind) {
        self.kind.store(kind as u8, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    /// Sets `to` only if the transport is `from`; returns whether it did.
    pub(crate) fn replace(&self, from: TransportKind, to: TransportKind) -> bool {
        let swapped = self
            .kind
            .compare_exchange(from as u8, to as u8, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok();
        if swapped {
            self.changed.notify_waiters();
        }
        swapped
    }

    /// Completes on the next change; enable it before reading the transport to miss none.
    pub(crate) fn changed(&self) -> Notified<'_> {
        self.changed.notified()
    }
}

/// Why a session ends. The first reason recorded wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The client sent an Engine.IO `close` packet.
    ClientClose,
    /// The WebSocket closed, or a pending poll was abandoned.
    TransportClose,
    TransportError(String),
    PingTimeout,
    /// Malformed, binary or out-of-protocol input.
    BadInput(String),
    /// A WebSocket message or POST body larger than `max_payload`.
    PayloadTooLarge,
    TooSlow,
    /// No namespace connected within `connect_timeout`.
    ConnectTimeout,
    /// The server disconnected the last namespace of the session.
    ServerDisconnect,
    ServerShutdown,
}

impl CloseReason {
    pub(crate) fn disconnect_reason(&self) -> super::DisconnectReason {
        use super::DisconnectReason as D;
        match self {
            CloseReason::ClientClose
            | CloseReason::TransportClose
            | CloseReason::ConnectTimeout => D::TransportClose,
            CloseReason::TransportError(_) => D::TransportError,
            CloseReason::PingTimeout => D::PingTimeout,
            CloseReason::BadInput(_) | CloseReason::PayloadTooLarge => D::ParseError,
            CloseReason::TooSlow => D::TooSlow,
            CloseReason::ServerDisconnect => D::ServerNamespaceDisconnect,
            CloseReason::ServerShutdown => D::ServerShutdown,
        }
    }

    fn log(&self, sid: &str) {
        match self {
            CloseReason::BadInput(detail) => {
                tracing::warn!(sid, reason = %detail, "socket.io: closing connection on bad input")
            }
            CloseReason::PayloadTooLarge => {
                tracing::warn!(
                    sid,
                    "socket.io: closing connection: payload larger than maxPayload"
                )
            }
            CloseReason::TooSlow => {
                tracing::warn!(
                    sid,
                    "socket.io: outbound queue full, closing connection as too slow"
                )
            }
            CloseReason::TransportError(detail) => {
                tracing::info!(sid, reason = %detail, "socket.io: transport error")
            }
            CloseReason::PingTimeout => tracing::info!(sid, "socket.io: ping timeout"),
            CloseReason::ConnectTimeout => {
                tracing::info!(sid, "socket.io: no namespace connected in time")
            }
            other => tracing::debug!(sid, reason = ?other, "socket.io: connection closing"),
        }
    }
}

/// Requests to the connection task from outside it. Pointer-sized on purpose: the channel's
/// first block (32 slots) is allocated per connection.
#[derive(Debug)]
pub(crate) enum Control {
    /// [`Socket::disconnect`] was called (the DISCONNECT packet is already queued).
    Disconnect(Socket),
    /// Flush what is queued, then close ([`super::SocketIo::shutdown`]).
    Shutdown,
}

pub(crate) struct Engine {
    pub(crate) sid: String,
    /// Query string of the session's first request, handed to `Namespace::on_connect` (kept
    /// as text; see [`Engine::query`]).
    query: Box<str>,
    outbound: BoundedQueue<Outbound>,
    /// Locked by the transport that currently writes; a second long-poll fails `try_lock`.
    writer: tokio::sync::Mutex<Option<Outbound>>,
    /// Socket.IO packet texts from the transports to the connection task.
    pub(crate) inbound: BoundedQueue<String>,
    controls: Mutex<Vec<Control>>,
    /// The connection task's waker: woken by requests, pongs and the close.
    task: AtomicWaker,
    /// A client `pong` arrived since the connection task last looked (pong spam costs nothing).
    pong: AtomicBool,
    pub(crate) transport: TransportCell,
    /// A WebSocket is probing this (polling) session.
    pub(crate) probing: AtomicBool,
    /// A long-poll POST is being processed.
    pub(crate) posting: AtomicBool,
    closed: CancellationToken,
    close_reason: OnceLock<CloseReason>,
    /// Pending long-polls answer `noop` instead of `close` when the client closed.
    client_closed: AtomicBool,
    /// The client's address, when the transport knows it.
    peer: OnceLock<IpAddr>,
}

impl Engine {
    pub(crate) fn new(
        query: &str,
        transport: TransportKind,
        outbound_capacity: usize,
    ) -> Arc<Engine> {
        Arc::new(Engine {
            sid: new_id(),
            query: query.into(),
            outbound: BoundedQueue::new(outbound_capacity),
            writer: tokio::sync::Mutex::new(None),
            inbound: BoundedQueue::new(INBOUND_QUEUE),
            controls: Mutex::new(Vec::new()),
            task: AtomicWaker::new(),
            pong: AtomicBool::new(false),
            transport: TransportCell::new(transport),
            probing: AtomicBool::new(false),
            posting: AtomicBool::new(false),
            closed: CancellationToken::new(),
            close_reason: OnceLock::new(),
            client_closed: AtomicBool::new(false),
            peer: OnceLock::new(),
        })
    }

    /// Records the client's address (once, when the session opens).
    pub(crate) fn set_peer(&self, peer: Option<IpAddr>) {
        if let Some(ip) = peer {
            let _ = self.peer.set(ip);
        }
    }

    /// The client's address, if known.
    pub(crate) fn peer(&self) -> Option<IpAddr> {
        self.peer.get().copied()
    }

    pub(crate) fn outbound_capacity(&self) -> usize {
        self.outbound.capacity()
    }

    /// The writer right, if no other transport holds it.
    pub(crate) fn try_writer(&self) -> Option<OutboundWriter<'_>> {
        let carry = self.writer.try_lock().ok()?;
        Some(OutboundWriter {
            queue: &self.outbound,
            carry,
        })
    }

    /// The writer right, once the transport holding it lets go.
    pub(crate) async fn writer(&self) -> OutboundWriter<'_> {
        OutboundWriter {
            queue: &self.outbound,
            carry: self.writer.lock().await,
        }
    }

    /// Queues an encoded Engine.IO packet without waiting. A full queue means the client is
    /// not reading: the connection is closed as too slow.
    pub(crate) fn send(&self, packet: String) -> Result<(), EmitError> {
        if self.is_closed() {
            return Err(EmitError::Closed);
        }
        match self.outbound.try_push(Outbound::Packet(packet)) {
            Ok(()) => Ok(()),
            Err(PushError::Full) => {
                self.abort(CloseReason::TooSlow);
                Err(EmitError::QueueFull)
            }
            Err(PushError::Closed) => Err(EmitError::Closed),
        }
    }

    /// Starts a clean close: the close marker goes behind everything already queued.
    /// Returns false (and aborts) when the queue is full.
    pub(crate) fn close_after_flush(&self, reason: CloseReason) -> bool {
        self.record_reason(reason);
        if self.outbound.try_push(Outbound::Close).is_ok() {
            true
        } else {
            self.abort(CloseReason::TooSlow);
            false
        }
    }

    /// Closes the session now; queued packets are dropped.
    pub(crate) fn abort(&self, reason: CloseReason) {
        self.record_reason(reason);
        self.closed.cancel();
        self.outbound.close();
        self.inbound.close();
        self.task.wake();
    }

    /// The client answered a ping.
    pub(crate) fn pong_received(&self) {
        self.pong.store(true, Ordering::SeqCst);
        self.task.wake();
    }

    /// Whether a pong arrived since the last call.
    pub(crate) fn take_pong(&self) -> bool {
        self.pong.swap(false, Ordering::SeqCst)
    }

    /// Registers the connection task to be woken by requests, pongs and the close; register
    /// before looking at them.
    pub(crate) fn register_task(&self, waker: &std::task::Waker) {
        self.task.register(waker);
    }

    /// The client sent an Engine.IO `close`.
    pub(crate) fn client_close(&self) {
        self.client_closed.store(true, Ordering::Relaxed);
        self.abort(CloseReason::ClientClose);
    }

    fn record_reason(&self, reason: CloseReason) {
        if self.close_reason.get().is_none() {
            let log_it = reason.clone();
            if self.close_reason.set(reason).is_ok() {
                log_it.log(&self.sid);
            }
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    pub(crate) fn closed(&self) -> WaitForCancellationFuture<'_> {
        self.closed.cancelled()
    }

    pub(crate) fn close_reason(&self) -> CloseReason {
        self.close_reason
            .get()
            .cloned()
            .unwrap_or(CloseReason::TransportClose)
    }

    pub(crate) fn closed_by_client(&self) -> bool {
        self.client_closed.load(Ordering::Relaxed)
    }

    pub(crate) fn request(&self, control: Control) {
        self.controls.lock().push(control);
        self.task.wake();
        // After the connection task is gone nobody takes requests; a queued Socket would keep
        // this engine alive through its own Arc.
        if self.is_closed() {
            drop(self.take_requests());
        }
    }

    /// Requests made since the last call, in order.
    pub(crate) fn take_requests(&self) -> Vec<Control> {
        std::mem::take(&mut *self.controls.lock())
    }

    pub(crate) fn transport_kind(&self) -> TransportKind {
        self.transport.get()
    }

    /// The query parameters of the session's first request.
    pub(crate) fn query(&self) -> HashMap<String, String> {
        super::endpoint::query_map(&self.query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_twenty_url_safe_chars_and_distinct() {
        let a = new_id();
        let b = new_id();
        assert_eq!(a.len(), 20);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn full_queue_closes_the_session_as_too_slow() {
        let engine = Engine::new("", TransportKind::WebSocket, 2);
        assert_eq!(engine.send("4a".into()), Ok(()));
        assert_eq!(engine.send("4b".into()), Ok(()));
        assert_eq!(engine.send("4c".into()), Err(EmitError::QueueFull));
        assert!(engine.is_closed());
        assert_eq!(engine.close_reason(), CloseReason::TooSlow);
        assert_eq!(engine.send("4d".into()), Err(EmitError::Closed));
    }

    #[test]
    fn requests_after_close_do_not_keep_the_engine_alive() {
        let engine = Engine::new("", TransportKind::WebSocket, 4);
        let socket = Socket::new(engine.clone(), "/".into());
        engine.abort(CloseReason::TransportClose);
        engine.request(Control::Disconnect(socket));
        assert_eq!(Arc::strong_count(&engine), 1);
    }

    #[tokio::test]
    async fn first_close_reason_wins_and_close_marker_follows_queue() {
        let engine = Engine::new("", TransportKind::WebSocket, 4);
        engine.send("4a".into()).unwrap();
        assert!(engine.close_after_flush(CloseReason::ServerShutdown));
        {
            let mut writer = engine.try_writer().unwrap();
            assert!(engine.try_writer().is_none(), "one writer at a time");
            assert_eq!(writer.try_recv(), Some(Outbound::Packet("4a".into())));
            assert_eq!(writer.try_recv(), Some(Outbound::Close));
        }
        engine.abort(CloseReason::PingTimeout);
        assert_eq!(engine.close_reason(), CloseReason::ServerShutdown);
        assert_eq!(engine.send("4b".into()), Err(EmitError::Closed));
    }
}
