//! The connection of an Engine.IO session: its Socket.IO state (its namespaces and their
//! sockets), the heartbeat, dispatch of client packets to the namespace handlers (one event
//! at a time per socket), and on close telling every handler exactly once.
//!
//! A polling session (and one that later upgrades to WebSocket) runs it in a task of its
//! own ([`Connection::spawn`]), fed through the engine's inbound queue. A WebSocket-only
//! session runs it inside its WebSocket task (`ws`), which hands each client message over
//! with [`Connection::deliver`] and polls the rest with [`Connection::poll_driven`]: a frame
//! reaches its handler with no other task woken.

mod handlers;

use self::handlers::{notify_disconnect, start_event, Running};
use super::engine::{CloseReason, Control, Engine};
use super::heartbeat::{Heartbeat, HeartbeatAction};
use super::namespace::{ConnectError, DisconnectReason, Namespace};
use super::packet::{self, Packet};
use super::server::{ServerInner, SocketCount};
use super::small_map::SmallMap;
use super::socket::{engine_message, Socket};
use futures_util::future::FutureExt;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use tokio::time::{Instant, Sleep};

/// Client events waiting for their socket's previous handler, per connection. When reached,
/// the connection stops reading from its transport (TCP backpressure) until handlers catch up.
const MAX_BACKLOG: usize = 64;

/// What woke the connection task.
enum Wake {
    Closed,
    Done(Completion),
    Controls(Vec<Control>),
    Pong,
    Message(String),
    Deadline,
}

enum Completion {
    Connect {
        nsp: String,
        socket_id: String,
        result: Result<(), ConnectError>,
    },
    Event {
        nsp: String,
        socket_id: String,
    },
}

struct PendingEvent {
    event: String,
    args: Vec<Value>,
    ack: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Connected,
}

/// A socket of this connection in one namespace.
struct Member {
    socket: Socket,
    handler: Arc<dyn Namespace>,
    phase: Phase,
    /// An `on_event` future of this socket is running.
    busy: bool,
    backlog: VecDeque<PendingEvent>,
    /// Counts this socket in its namespace's gauge while it is connected.
    counted: Option<SocketCount>,
}

/// A socket that left while its last `on_event` was still running.
struct Leaving {
    socket: Socket,
    handler: Arc<dyn Namespace>,
    reason: DisconnectReason,
}

/// Removes the session from the registry and stops its transports when the task ends,
/// including by panic.
struct Registration {
    server: Arc<ServerInner>,
    engine: Arc<Engine>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.engine.abort(CloseReason::TransportClose);
        drop(self.engine.take_requests());
        self.server.remove_engine(&self.engine.sid);
    }
}

pub(crate) struct Connection {
    registration: Registration,
    engine: Arc<Engine>,
    members: SmallMap<Member>,
    /// Keyed by socket id.
    leaving: SmallMap<Leaving>,
    running: Running,
    backlog_len: usize,
    heartbeat: Heartbeat,
    idle_deadline: Option<Instant>,
    close_deadline: Option<Instant>,
}

impl Connection {
    /// The connection of a session just registered; the caller runs it (`spawn`, or drives it
    /// in the transport's task). Dropping it unregisters the session.
    pub(crate) fn new(server: Arc<ServerInner>, engine: Arc<Engine>) -> Self {
        let now = Instant::now();
        let config = &server.config;
        Connection {
            heartbeat: Heartbeat::new(now, config.ping_interval, config.ping_timeout),
            idle_deadline: Some(now + config.connect_timeout),
            close_deadline: None,
            registration: Registration {
                server: server.clone(),
                engine: engine.clone(),
            },
            engine,
            members: SmallMap::default(),
            leaving: SmallMap::default(),
            running: Running::default(),
            backlog_len: 0,
        }
    }

    fn server(&self) -> &ServerInner {
        &self.registration.server
    }

    /// Runs the connection in a task of its own, fed through the engine's inbound queue.
    pub(crate) fn spawn(self) {
        tokio::spawn(self.run());
    }

    async fn run(mut self) {
        self.serve().await;
        self.finish().await;
    }

    async fn serve(&mut self) {
        // One timer for the connection's life, moved whenever the next deadline changes.
        let sleep = tokio::time::sleep_until(self.next_deadline());
        tokio::pin!(sleep);
        loop {
            let deadline = self.next_deadline();
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            let accepting = self.accepts_message();
            let wake =
                std::future::poll_fn(|cx| self.poll_wake(cx, sleep.as_mut(), accepting)).await;
            if !self.handle(wake) {
                break;
            }
        }
    }

    /// Handles one wake; false once the session is closed.
    fn handle(&mut self, wake: Wake) -> bool {
        match wake {
            Wake::Closed => return false,
            Wake::Done(done) => self.on_completion(done),
            Wake::Controls(controls) => {
                for control in controls {
                    self.on_control(control);
                }
            }
            Wake::Pong => self.pong(),
            Wake::Message(text) => self.on_message(&text),
            Wake::Deadline => self.on_deadline(),
        }
        true
    }

    /// For a transport that runs the connection in its own task: handles everything that is
    /// ready (handler completions, requests, deadlines) except client messages, which the
    /// transport hands over with [`Connection::deliver`]. `Ready` once the session is closed;
    /// then [`Connection::finish`]. `sleep` is the connection's one timer, kept by the caller.
    pub(crate) fn poll_driven(
        &mut self,
        cx: &mut Context<'_>,
        mut sleep: Pin<&mut Sleep>,
    ) -> Poll<()> {
        loop {
            let deadline = self.next_deadline();
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            let wake = ready!(self.poll_wake(cx, sleep.as_mut(), false));
            if !self.handle(wake) {
                return Poll::Ready(());
            }
        }
    }

    /// Whether a client message may be handed over now. False while the backlog is full (the
    /// transport then stops reading: TCP backpressure) and while the session is closing.
    pub(crate) fn accepts_message(&self) -> bool {
        self.backlog_len < MAX_BACKLOG && self.close_deadline.is_none()
    }

    /// A client Socket.IO packet, from a transport that drives the connection (call
    /// [`Connection::poll_driven`] next: the packet may have started a handler).
    pub(crate) fn deliver(&mut self, text: &str) {
        self.on_message(text);
    }

    /// The client answered a ping.
    pub(crate) fn pong(&mut self) {
        self.heartbeat.on_pong(Instant::now());
    }

    /// What the task must handle next, in this order of priority. Polled by hand rather than
    /// through `select!` over one future per source, so that the task of an idle connection
    /// holds its timer and no waiter per source (the engine wakes it through one waker).
    fn poll_wake(
        &mut self,
        cx: &mut Context<'_>,
        sleep: Pin<&mut tokio::time::Sleep>,
        accepting: bool,
    ) -> Poll<Wake> {
        self.engine.register_task(cx.waker());
        if self.engine.is_closed() {
            return Poll::Ready(Wake::Closed);
        }
        if let Poll::Ready(Some(done)) = self.running.poll_next(cx) {
            return Poll::Ready(Wake::Done(done));
        }
        let controls = self.engine.take_requests();
        if !controls.is_empty() {
            return Poll::Ready(Wake::Controls(controls));
        }
        if self.engine.take_pong() {
            return Poll::Ready(Wake::Pong);
        }
        if accepting {
            if let Poll::Ready(Some(text)) = self.engine.inbound.poll_pop(cx) {
                return Poll::Ready(Wake::Message(text));
            }
        }
        if sleep.poll(cx).is_ready() {
            return Poll::Ready(Wake::Deadline);
        }
        Poll::Pending
    }

    /// The connection's next timer deadline.
    pub(crate) fn next_deadline(&self) -> Instant {
        [self.idle_deadline, self.close_deadline]
            .into_iter()
            .flatten()
            .fold(self.heartbeat.deadline(), Instant::min)
    }

    fn on_deadline(&mut self) {
        let now = Instant::now();
        if self.close_deadline.is_some_and(|d| now >= d) {
            self.engine.abort(CloseReason::TransportClose);
            return;
        }
        if self.idle_deadline.is_some_and(|d| now >= d) {
            self.engine.abort(CloseReason::ConnectTimeout);
            return;
        }
        if now >= self.heartbeat.deadline() {
            match self.heartbeat.on_deadline(now) {
                // A full queue closes the connection inside `send`.
                HeartbeatAction::SendPing => {
                    let _ = self.engine.send("2".to_owned());
                }
                HeartbeatAction::TimedOut => self.engine.abort(CloseReason::PingTimeout),
                HeartbeatAction::Wait => {}
            }
        }
    }

    fn bad_input(&self, detail: String) {
        self.engine.abort(CloseReason::BadInput(detail));
    }

    fn on_message(&mut self, text: &str) {
        match packet::decode(text) {
            Err(err) => self.bad_input(format!("invalid Socket.IO packet: {err}")),
            Ok(Packet::Connect { nsp, data }) => self.on_connect(nsp, data),
            Ok(Packet::Disconnect { nsp }) => self.on_client_disconnect(&nsp),
            Ok(Packet::Event {
                nsp,
                id,
                event,
                args,
            }) => self.on_event(
                &nsp,
                PendingEvent {
                    event,
                    args,
                    ack: id,
                },
            ),
            Ok(Packet::Ack { nsp, id, args }) => match self.members.get(&nsp) {
                Some(member) if member.phase == Phase::Connected => {
                    member.socket.resolve_ack(id, args)
                }
                _ => self.ignore("ACK", &nsp),
            },
            Ok(Packet::ConnectError { .. }) => {
                self.bad_input("CONNECT_ERROR is not sent by clients".to_owned())
            }
        }
    }

    /// Packets for a namespace the client is not (or no longer) connected to can race with a
    /// server-side disconnect; they are dropped rather than failing the whole connection.
    fn ignore(&self, kind: &str, nsp: &str) {
        tracing::debug!(
            sid = %self.engine.sid,
            namespace = nsp,
            kind,
            "socket.io: packet for a namespace that is not connected ignored"
        );
    }

    fn on_connect(&mut self, nsp: String, data: Option<Value>) {
        if self.members.contains_key(&nsp) {
            self.bad_input(format!("duplicate CONNECT for namespace {nsp}"));
            return;
        }
        let Some(handler) = self.server().namespace(&nsp) else {
            let refusal = engine_message(&Packet::ConnectError {
                nsp,
                data: json!({ "message": "Invalid namespace" }),
            });
            let _ = self.engine.send(refusal);
            return;
        };
        let socket = Socket::new(self.engine.clone(), nsp.clone());
        let auth = data.unwrap_or_else(|| json!({}));
        let connecting = handler.on_connect(socket.clone(), auth, self.engine.query());
        let socket_id = socket.id().to_owned();
        let namespace = nsp.clone();
        let sid = self.engine.sid.clone();
        self.running.push(
            async move {
                let result = AssertUnwindSafe(connecting)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| {
                        tracing::error!(sid, namespace, "socket.io: on_connect panicked");
                        Err(ConnectError::new("Internal server error"))
                    });
                Completion::Connect {
                    nsp: namespace,
                    socket_id,
                    result,
                }
            }
            .boxed(),
        );
        self.members.insert(
            nsp,
            Member {
                socket,
                handler,
                phase: Phase::Connecting,
                busy: false,
                backlog: VecDeque::new(),
                counted: None,
            },
        );
        self.idle_deadline = None;
    }

    fn on_client_disconnect(&mut self, nsp: &str) {
        match self.members.get(nsp).map(|m| m.phase) {
            Some(Phase::Connected) => {
                self.remove_member(nsp, DisconnectReason::ClientNamespaceDisconnect);
                self.after_member_left(false);
            }
            Some(Phase::Connecting) => self.bad_input(format!(
                "DISCONNECT for namespace {nsp} before it connected"
            )),
            None => self.ignore("DISCONNECT", nsp),
        }
    }

    fn on_event(&mut self, nsp: &str, event: PendingEvent) {
        match self.members.get_mut(nsp) {
            Some(member) if member.phase == Phase::Connected => {
                if member.busy {
                    member.backlog.push_back(event);
                    self.backlog_len += 1;
                } else {
                    start_event(&mut self.running, member, event);
                }
            }
            _ => self.ignore("EVENT", nsp),
        }
    }

    fn on_completion(&mut self, done: Completion) {
        match done {
            Completion::Connect {
                nsp,
                socket_id,
                result,
            } => self.on_connect_done(nsp, socket_id, result),
            Completion::Event { nsp, socket_id } => {
                if let Some(member) = self
                    .members
                    .get_mut(&nsp)
                    .filter(|m| m.socket.id() == socket_id)
                {
                    match member.backlog.pop_front() {
                        Some(next) => {
                            self.backlog_len -= 1;
                            start_event(&mut self.running, member, next);
                        }
                        None => member.busy = false,
                    }
                } else if let Some(left) = self.leaving.remove(&socket_id) {
                    notify_disconnect(&left.handler, left.socket, left.reason);
                }
            }
        }
    }

    fn on_connect_done(
        &mut self,
        nsp: String,
        socket_id: String,
        result: Result<(), ConnectError>,
    ) {
        let Some(member) = self
            .members
            .get_mut(&nsp)
            .filter(|m| m.socket.id() == socket_id)
        else {
            return;
        };
        match result {
            Ok(()) => match member.socket.complete_connect() {
                Ok(true) => {
                    member.phase = Phase::Connected;
                    member.counted = Some(self.registration.server.count_socket(&nsp));
                    tracing::debug!(sid = %self.engine.sid, socket = %socket_id, namespace = %nsp, "socket.io: socket connected");
                }
                Ok(false) => {
                    member.phase = Phase::Connected;
                    self.remove_member(&nsp, DisconnectReason::ServerNamespaceDisconnect);
                    self.after_member_left(true);
                }
                // The queue was full: the connection is closing; `finish` reports the socket.
                Err(_) => member.phase = Phase::Connected,
            },
            Err(refusal) => {
                member.socket.mark_closed();
                self.members.remove(&nsp);
                tracing::info!(sid = %self.engine.sid, namespace = %nsp, reason = %refusal.message, "socket.io: namespace connection refused");
                let _ = self.engine.send(engine_message(&Packet::ConnectError {
                    nsp,
                    data: refusal.to_payload(),
                }));
                self.after_member_left(false);
            }
        }
    }

    fn on_control(&mut self, control: Control) {
        match control {
            Control::Disconnect(socket) => {
                let nsp = socket.namespace();
                let is_current = self
                    .members
                    .get(nsp)
                    .is_some_and(|m| m.socket == socket && m.phase == Phase::Connected);
                if is_current {
                    self.remove_member(nsp, DisconnectReason::ServerNamespaceDisconnect);
                    self.after_member_left(true);
                }
            }
            Control::Shutdown => self.begin_close(CloseReason::ServerShutdown),
        }
    }

    fn remove_member(&mut self, nsp: &str, reason: DisconnectReason) {
        let Some(member) = self.members.remove(nsp) else {
            return;
        };
        member.socket.mark_closed();
        self.backlog_len -= member.backlog.len();
        if member.busy {
            self.leaving.insert(
                member.socket.id().to_owned(),
                Leaving {
                    socket: member.socket,
                    handler: member.handler,
                    reason,
                },
            );
        } else {
            notify_disconnect(&member.handler, member.socket, reason);
        }
    }

    /// With no namespace left, a server-side disconnect closes the connection cleanly; after a
    /// client-side one the client may still connect another namespace within `connect_timeout`.
    fn after_member_left(&mut self, by_server: bool) {
        if !self.members.is_empty() {
            return;
        }
        if by_server {
            self.begin_close(CloseReason::ServerDisconnect);
        } else {
            self.idle_deadline = Some(Instant::now() + self.server().config.connect_timeout);
        }
    }

    fn begin_close(&mut self, reason: CloseReason) {
        if self.close_deadline.is_none() {
            self.close_deadline = Some(Instant::now() + self.server().config.close_grace);
            self.engine.close_after_flush(reason);
        }
    }

    /// Once the session is closed: waits for running handlers, then tells every socket's
    /// handler of its disconnect, exactly once.
    pub(crate) async fn finish(&mut self) {
        let reason = self.engine.close_reason().disconnect_reason();
        for member in self.members.values() {
            member.socket.mark_closed();
        }
        // Let running handlers end first, so `on_disconnect` follows a socket's last event.
        while let Some(done) = self.running.next().await {
            if let Completion::Connect {
                nsp,
                socket_id,
                result: Err(_),
            } = done
            {
                if self
                    .members
                    .get(&nsp)
                    .is_some_and(|m| m.socket.id() == socket_id)
                {
                    self.members.remove(&nsp);
                }
            }
        }
        for (_, member) in self.members.drain() {
            notify_disconnect(&member.handler, member.socket, reason);
        }
        for (_, left) in self.leaving.drain() {
            notify_disconnect(&left.handler, left.socket, left.reason);
        }
    }
}
