//! The pump of an open WebSocket session: writes the outbound queue and reads client
//! messages until the session ends.
//!
//! Client Socket.IO packets go either to the session's connection task through the engine's
//! inbound queue (a session upgraded from polling: [`Pump`] as a future), or straight to the
//! connection run in this same task (a WebSocket-only session: [`Pump::poll_here`]), which
//! is one hand-off fewer per message: the frame read and its handler run in one poll.

use super::frames::{Incoming, WebSocket};
use crate::connection::Connection;
use crate::engine::{CloseReason, Engine, Outbound, OutboundWriter};
use crate::engineio::{self, Packet};
use crate::queue::PushError;
use crate::ws_io::WsIo;
use actix_http::ws::{OpCode, Parser};
use bytes::{Buf, Bytes, BytesMut};
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::sync::futures::Notified;
use tokio::time::Sleep;

/// Outbound packets are encoded in batches of up to this many bytes.
const WRITE_BATCH: usize = 64 * 1024;

/// What ended [`Pump::poll_here`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ended {
    /// The pump: the session is closed and the pump is done.
    Pump,
    /// The connection saw the session closed; the pump may still have frames to write.
    Connection,
}

/// Moves packets both ways until the session ends. A hand-written future, so that the task of
/// an idle WebSocket holds only this state: it waits through the socket's own readiness
/// wakers and the queue's consumer waker, with no waiter of its own per direction.
pub(super) struct Pump<'a, S> {
    engine: &'a Engine,
    pub(super) ws: WebSocket<S>,
    writer: OutboundWriter<'a>,
    /// Encoded frames not written yet; unallocated when idle.
    out: BytesMut,
    /// Frames were written that the stream may still buffer (TLS records): flush them.
    unflushed: bool,
    /// The queue's close marker was taken: end once `out` is written.
    closing: bool,
    /// The payload of the latest client ping, to answer (answering only the latest of several
    /// pings is allowed).
    pong: Option<Bytes>,
    /// A client packet waiting for room in the inbound queue, or for the connection to accept
    /// it (the socket is not read meanwhile), and the wait for room in the queue.
    held: Option<String>,
    room: Option<Pin<Box<Notified<'a>>>>,
    /// A client message or pong went to the connection in this task since the flag was
    /// cleared: the connection must run again.
    delivered: bool,
}

impl<S: WsIo> Future for Pump<'_, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if this.poll_write(cx).is_ready() || this.poll_read(cx, None).is_ready() {
                return Poll::Ready(());
            }
            // Both directions wait. A ping read meanwhile needs its pong written, unless the
            // socket is not taking bytes (its readiness then wakes us).
            if this.pong.is_none() || !this.out.is_empty() {
                return Poll::Pending;
            }
        }
    }
}

impl<'a, S: WsIo> Pump<'a, S> {
    /// `first` holds frames to write before anything queued (the `open` packet).
    pub(super) fn new(
        engine: &'a Engine,
        ws: WebSocket<S>,
        writer: OutboundWriter<'a>,
        first: BytesMut,
    ) -> Self {
        Pump {
            engine,
            ws,
            writer,
            out: first,
            unflushed: false,
            closing: false,
            pong: None,
            held: None,
            room: None,
            delivered: false,
        }
    }

    /// The pump with the session's connection run in this task: client messages are handed
    /// to it directly. Each pass runs the connection (handler completions, requests,
    /// timers), then writes what is queued, then reads; when a read handed something over,
    /// another pass starts the new handlers and writes what they queued at once. Pending
    /// when every side waits (tokio's cooperative budget also ends a pass on a flood).
    pub(super) fn poll_here(
        &mut self,
        cx: &mut Context<'_>,
        connection: &mut Connection,
        mut sleep: Pin<&mut Sleep>,
    ) -> Poll<Ended> {
        // What the handlers running here queue during this poll is written by a write step
        // below, whose wait on the queue registers this task again. Registered meanwhile,
        // every emit or ack of theirs would wake this very task for a poll with nothing to do.
        self.writer.unregister();
        loop {
            if connection.poll_driven(cx, sleep.as_mut()).is_ready() {
                return Poll::Ready(Ended::Connection);
            }
            if self.poll_write(cx).is_ready() {
                return Poll::Ready(Ended::Pump);
            }
            self.delivered = false;
            if self.poll_read(cx, Some(connection)).is_ready() {
                return Poll::Ready(Ended::Pump);
            }
            // A pong to answer is written by the next pass, as in `poll`.
            let pong_due = self.pong.is_some() && self.out.is_empty();
            if !self.delivered && !pong_due {
                return Poll::Pending;
            }
        }
    }

    /// Writes queued packets; `Ready` when the session ends.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if !self.out.is_empty() {
                match ready!(self.ws.io.poll_write_some(cx, &self.out)) {
                    Ok(0) => return self.end(CloseReason::TransportClose),
                    Ok(n) => {
                        self.out.advance(n);
                        self.unflushed = true;
                        if self.out.is_empty() {
                            self.out = BytesMut::new();
                        }
                    }
                    Err(_) => return self.end(CloseReason::TransportClose),
                }
                continue;
            }
            // Before waiting for a flush: a pending pong then leaves `out` non-empty, which
            // is what `poll` checks to stop looping.
            if let Some(payload) = self.pong.take().filter(|_| !self.closing) {
                Parser::write_message(&mut self.out, &payload, OpCode::Pong, true, false);
                continue;
            }
            if self.unflushed {
                if ready!(self.ws.io.poll_flush_out(cx)).is_err() {
                    return self.end(CloseReason::TransportClose);
                }
                self.unflushed = false;
            }
            if self.closing {
                // The reason recorded by the clean close is kept; this only ends the session.
                return self.end(CloseReason::TransportClose);
            }
            let mut next = ready!(self.writer.poll_recv(cx));
            if next.is_none() {
                // The queue was closed: the session is over.
                return Poll::Ready(());
            }
            while let Some(item) = next.take() {
                match item {
                    Outbound::Packet(text) => Parser::write_message(
                        &mut self.out,
                        text.as_bytes(),
                        OpCode::Text,
                        true,
                        false,
                    ),
                    Outbound::Close => {
                        self.closing = true;
                        break;
                    }
                }
                if self.out.len() < WRITE_BATCH {
                    next = self.writer.try_recv();
                }
            }
        }
    }

    /// Reads client messages and hands them on: to `here` (the connection run in this task)
    /// when given, else into the inbound queue. `Ready` when the session ends.
    fn poll_read(&mut self, cx: &mut Context<'_>, mut here: Option<&mut Connection>) -> Poll<()> {
        loop {
            if let Some(text) = self.held.take() {
                match here.as_deref_mut() {
                    Some(_) if self.engine.is_closed() => return Poll::Ready(()),
                    Some(connection) if connection.accepts_message() => {
                        connection.deliver(&text);
                        self.delivered = true;
                    }
                    Some(_) => {
                        // The connection's backlog is full: stop reading. A handler finishing
                        // (its future runs in this task) or the session closing wakes us.
                        self.held = Some(text);
                        return Poll::Pending;
                    }
                    None => match ready!(self.offer(cx, text)) {
                        Some(()) => {}
                        None => return Poll::Ready(()),
                    },
                }
            }
            match self.ws.reader.decode() {
                Ok(Some(message)) => {
                    if self.on_message(message, here.as_deref_mut()) {
                        return Poll::Ready(());
                    }
                    continue;
                }
                Ok(None) => {}
                Err(err) => return self.end(err.close_reason()),
            }
            match ready!(self.ws.io.poll_read_some(cx, &mut self.ws.reader.buf)) {
                Ok(0) => return self.end(CloseReason::TransportClose),
                Ok(_) => {}
                Err(err) => return self.end(CloseReason::TransportError(err.to_string())),
            }
        }
    }

    /// Puts `text` in the inbound queue: `Ready(Some(()))` once it is there, `Ready(None)`
    /// when the session is closed, `Pending` (holding it) while the queue is full.
    fn offer(&mut self, cx: &mut Context<'_>, text: String) -> Poll<Option<()>> {
        let mut text = text;
        loop {
            match self.engine.inbound.offer(text) {
                Ok(()) => {
                    self.room = None;
                    return Poll::Ready(Some(()));
                }
                Err((PushError::Closed, _)) => return Poll::Ready(None),
                Err((PushError::Full, back)) => match &mut self.room {
                    None => {
                        // Armed before offering again, so no taken item is missed.
                        let mut room = Box::pin(self.engine.inbound.space());
                        room.as_mut().enable();
                        self.room = Some(room);
                        text = back;
                    }
                    Some(room) => {
                        if room.as_mut().poll(cx).is_pending() {
                            self.held = Some(back);
                            return Poll::Pending;
                        }
                        self.room = None;
                        text = back;
                    }
                },
            }
        }
    }

    /// Handles one client message; true when the session ends.
    fn on_message(&mut self, message: Incoming, here: Option<&mut Connection>) -> bool {
        let reason = match message {
            Incoming::Text(text) => match engineio::decode(&text) {
                Ok(Packet::Message(data)) => {
                    self.held = Some(data.to_owned());
                    return false;
                }
                Ok(Packet::Pong(_)) => {
                    match here {
                        Some(connection) => {
                            connection.pong();
                            self.delivered = true;
                        }
                        None => self.engine.pong_received(),
                    }
                    return false;
                }
                Ok(Packet::Noop) => return false,
                Ok(Packet::Close) => {
                    self.engine.client_close();
                    return true;
                }
                Ok(other) => CloseReason::BadInput(format!(
                    "unexpected Engine.IO packet type {} on WebSocket",
                    other.type_char()
                )),
                Err(err) => CloseReason::BadInput(format!("invalid Engine.IO packet: {err}")),
            },
            Incoming::Binary => CloseReason::BadInput("binary frames are not supported".into()),
            Incoming::Ping(payload) => {
                self.pong = Some(payload);
                return false;
            }
            Incoming::Pong => return false,
            Incoming::Close => CloseReason::TransportClose,
        };
        self.engine.abort(reason);
        true
    }

    fn end(&self, reason: CloseReason) -> Poll<()> {
        self.engine.abort(reason);
        Poll::Ready(())
    }
}
