//! The WebSocket transport: a WebSocket-only session, or the upgrade of a polling session
//! (`2probe` -> `3probe`, pending polls ended with `noop`, then `5`). One Engine.IO packet per
//! text message; binary messages, oversized messages and malformed packets close the session
//! with a WebSocket close frame that says why.
//!
//! The WebSocket runs on the stream that actix-http hands over at the upgrade
//! ([`super::http_server`]): plain TCP, or TLS over it ([`super::ws_io`]), framed with
//! actix-http's WebSocket codec. An idle WebSocket on plain TCP holds no buffer: bytes are read
//! only once the socket is readable, into a buffer that is released as soon as no partial
//! message is left in it, and each batch of outbound packets is encoded into a buffer that is
//! freed once written. Messages up to `max_payload` grow the buffers on demand. This module
//! owns the session (accept, probe, the pump moving packets both ways); `frames` owns the
//! WebSocket framing and decoding.

mod frames;

use self::frames::{Incoming, Reader, WebSocket};
use super::endpoint::{self, Refusal, Transport};
use super::engine::{CloseReason, Engine, Outbound, OutboundWriter, TransportKind};
use super::engineio::{self, Packet};
use super::queue::PushError;
use super::server::ServerInner;
use super::ws_io::WsIo;
use actix_codec::Framed;
use actix_http::body::BodySize;
use actix_http::ws::{self as proto, CloseCode, OpCode, Parser};
use actix_http::{h1, ConnectionType, HttpMessage, Request, Response, StatusCode};
use bytes::{Buf, Bytes, BytesMut};
use futures_util::SinkExt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;
use tokio::sync::futures::Notified;

/// How long the close frame may take to be written on a stalled connection.
const CLOSE_FRAME_TIMEOUT: Duration = Duration::from_secs(1);
/// After the close frame, how long the client's remaining bytes are read and dropped, so that
/// closing the socket with unread input does not reset the connection before the client has
/// read the close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(1);
/// Outbound packets are encoded in batches of up to this many bytes.
const WRITE_BATCH: usize = 64 * 1024;

/// Answers a `Connection: upgrade` request handed over by actix-http: a WebSocket to the
/// Socket.IO path becomes a session (or upgrades one); anything else is refused.
pub(crate) async fn accept<S: WsIo>(
    server: Arc<ServerInner>,
    req: Request,
    mut framed: Framed<S, h1::Codec>,
) {
    if req.path() != server.config.path {
        let body = serde_json::json!({
            "code": "not_found",
            "message": format!("route {} {}", req.method(), req.path()),
        });
        respond(&mut framed, StatusCode::NOT_FOUND, body.to_string()).await;
        return;
    }
    let query = match endpoint::parse_query(req.uri().query().unwrap_or("")) {
        Ok(query) if query.transport == Transport::WebSocket => query,
        Ok(_) => {
            let refusal = Refusal::BadRequest("only transport=websocket can upgrade".into());
            return refuse(&mut framed, &refusal).await;
        }
        Err(refusal) => return refuse(&mut framed, &refusal).await,
    };
    let upgrading = match query.sid {
        None if server.is_shutting_down() => {
            return refuse(&mut framed, &Refusal::ShuttingDown).await
        }
        None => None,
        Some(sid) => {
            let Some(engine) = server.engine(&sid) else {
                return refuse(&mut framed, &Refusal::UnknownSid).await;
            };
            if engine.is_closed() || engine.transport_kind() != TransportKind::Polling {
                let refusal = Refusal::BadRequest("session cannot be upgraded".into());
                return refuse(&mut framed, &refusal).await;
            }
            if engine.probing.swap(true, Ordering::SeqCst) {
                let refusal = Refusal::BadRequest("an upgrade is already in progress".into());
                return refuse(&mut framed, &refusal).await;
            }
            Some(engine)
        }
    };
    let switched = match proto::handshake(req.head()) {
        Ok(mut response) => {
            let response = response.finish().drop_body();
            framed
                .send((response, BodySize::None).into())
                .await
                .map_err(|err| err.to_string())
        }
        Err(err) => {
            refuse(&mut framed, &Refusal::BadRequest(err.to_string())).await;
            Err(String::new())
        }
    };
    if let Err(detail) = switched {
        if let Some(engine) = &upgrading {
            engine.probing.store(false, Ordering::SeqCst);
        }
        if !detail.is_empty() {
            tracing::debug!(error = %detail, "socket.io: WebSocket handshake failed");
        }
        return;
    }
    let peer = server
        .config
        .client_ip(framed.io_ref().peer_ip(), req.headers());
    let parts = framed.into_parts();
    // Bytes the client sent right behind the request are the first frames; the dispatcher's
    // buffers themselves are dropped here.
    let ws = WebSocket::new(parts.io, &parts.read_buf, server.config.max_payload);
    drop(parts.read_buf);
    drop(parts.write_buf);
    // The connection gets a task of its own; actix-http's dispatcher ends now.
    match upgrading {
        None => {
            let engine = server.open_engine(
                req.uri().query().unwrap_or(""),
                TransportKind::WebSocket,
                peer,
            );
            let mut first = BytesMut::new();
            let open = server.open_packet(&engine, false);
            Parser::write_message(&mut first, open.as_bytes(), OpCode::Text, true, false);
            actix_web::rt::spawn(serve(engine, ws, first));
        }
        Some(engine) => {
            actix_web::rt::spawn(upgrade(engine, ws, server.config.upgrade_timeout));
        }
    }
}

/// Writes a complete HTTP response (the connection is closed after it).
async fn respond<S: WsIo>(framed: &mut Framed<S, h1::Codec>, status: StatusCode, body: String) {
    let mut response = Response::build(status)
        .insert_header((
            actix_http::header::CONTENT_TYPE,
            actix_http::header::HeaderValue::from_static("application/json"),
        ))
        .finish()
        .drop_body();
    response
        .head_mut()
        .set_connection_type(ConnectionType::Close);
    let size = BodySize::Sized(body.len() as u64);
    let sent = async {
        // One write: clients may read no further than the first packet of a refusal.
        framed.feed((response, size).into()).await?;
        framed
            .feed(h1::Message::Chunk(Some(Bytes::from(body))))
            .await?;
        framed.send(h1::Message::Chunk(None)).await
    };
    let _ = tokio::time::timeout(CLOSE_FRAME_TIMEOUT, sent).await;
}

async fn refuse<S: WsIo>(framed: &mut Framed<S, h1::Codec>, refusal: &Refusal) {
    respond(framed, refusal.status(), refusal.body()).await;
}

async fn upgrade<S: WsIo>(engine: Arc<Engine>, mut ws: WebSocket<S>, timeout: Duration) {
    // Boxed: the probe's timer and reads would otherwise size the task for the session's life.
    match Box::pin(probe(&engine, &mut ws, timeout)).await {
        Ok(()) => {
            tracing::debug!(sid = %engine.sid, "socket.io: upgraded to WebSocket");
            // A task of its own: awaited here, the session would carry this one's state too.
            actix_web::rt::spawn(serve(engine, ws, BytesMut::new()));
        }
        Err(detail) => {
            engine
                .transport
                .replace(TransportKind::Upgrading, TransportKind::Polling);
            engine.probing.store(false, Ordering::SeqCst);
            tracing::debug!(sid = %engine.sid, reason = %detail, "socket.io: upgrade abandoned");
            Box::pin(ws.close(CloseCode::Policy, &detail)).await;
        }
    }
}

/// Runs the upgrade handshake on a new WebSocket; the session keeps polling until `5`.
async fn probe<S: WsIo>(
    engine: &Engine,
    ws: &mut WebSocket<S>,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let mut probed = false;
    loop {
        let message = tokio::select! {
            message = ws.reader.next(&mut ws.io) => message,
            _ = &mut deadline => return Err("upgrade timed out".into()),
            _ = engine.closed() => return Err("session closed".into()),
        };
        let text = match message {
            Ok(Incoming::Text(text)) => text,
            Ok(Incoming::Ping(payload)) => {
                let _ = ws.send(OpCode::Pong, &payload).await;
                continue;
            }
            Ok(Incoming::Pong) => continue,
            Ok(Incoming::Binary) => return Err("unexpected binary frame during upgrade".into()),
            Ok(Incoming::Close) => return Err("WebSocket closed during upgrade".into()),
            Err(err) => return Err(format!("WebSocket error during upgrade: {err}")),
        };
        match engineio::decode(&text) {
            Ok(Packet::Ping("probe")) if !probed => {
                ws.send_text(&Packet::Pong("probe").encode())
                    .await
                    .map_err(|_| "WebSocket closed during upgrade".to_owned())?;
                probed = true;
                // Pending and new polls now end with `noop` so the client can pause polling.
                engine.transport.set(TransportKind::Upgrading);
            }
            Ok(Packet::Upgrade) if probed => {
                engine.transport.set(TransportKind::WebSocket);
                return Ok(());
            }
            Ok(Packet::Noop) => {}
            _ => return Err(format!("unexpected packet during upgrade: {text:.32}")),
        }
    }
}

/// Carries an open session: reads client packets and writes the outbound queue until the
/// session closes, then sends a close frame saying why. `first` holds frames to write before
/// anything queued (the `open` packet of a new session).
async fn serve<S: WsIo>(engine: Arc<Engine>, mut ws: WebSocket<S>, first: BytesMut) {
    // A poll still holding the queue returns promptly (the transport changed), then we own it.
    // Boxed, that wait does not size the task for the session's life.
    let writer = match engine.try_writer() {
        Some(writer) => Some(writer),
        None => {
            Box::pin(async {
                tokio::select! {
                    writer = engine.writer() => Some(writer),
                    _ = engine.closed() => None,
                }
            })
            .await
        }
    };
    if let Some(writer) = writer {
        Pump {
            engine: &engine,
            io: &mut ws.io,
            reader: &mut ws.reader,
            writer,
            out: first,
            unflushed: false,
            closing: false,
            pong: None,
            held: None,
            room: None,
        }
        .await;
    }
    let (code, reason) = close_frame(&engine.close_reason());
    // Boxed: the close's timers would otherwise size the task of every idle connection.
    Box::pin(ws.close(code, &reason)).await;
}

fn close_frame(reason: &CloseReason) -> (CloseCode, String) {
    match reason {
        CloseReason::BadInput(detail) => (CloseCode::Policy, detail.clone()),
        CloseReason::PayloadTooLarge => (CloseCode::Size, "message larger than maxPayload".into()),
        CloseReason::TooSlow => (CloseCode::Policy, "too slow: outbound queue full".into()),
        CloseReason::PingTimeout => (CloseCode::Normal, "ping timeout".into()),
        CloseReason::ServerShutdown => (CloseCode::Away, "server shutting down".into()),
        CloseReason::TransportError(_) => (CloseCode::Error, "transport error".into()),
        _ => (CloseCode::Normal, String::new()),
    }
}

/// Moves packets both ways until the session ends. A hand-written future, so that the task of
/// an idle WebSocket holds only this state: it waits through the socket's own readiness
/// wakers and the queue's consumer waker, with no waiter of its own per direction.
struct Pump<'a, S> {
    engine: &'a Engine,
    io: &'a mut S,
    reader: &'a mut Reader,
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
    /// A client packet waiting for room in the inbound queue (the socket is not read
    /// meanwhile), and the wait for that room.
    held: Option<String>,
    room: Option<Pin<Box<Notified<'a>>>>,
}

impl<S: WsIo> Future for Pump<'_, S> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if this.poll_write(cx).is_ready() || this.poll_read(cx).is_ready() {
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

impl<S: WsIo> Pump<'_, S> {
    /// Writes queued packets; `Ready` when the session ends.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if !self.out.is_empty() {
                match ready!(self.io.poll_write_some(cx, &self.out)) {
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
                if ready!(self.io.poll_flush_out(cx)).is_err() {
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

    /// Reads client messages into the inbound queue; `Ready` when the session ends.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if let Some(text) = self.held.take() {
                match self.engine.inbound.offer(text) {
                    Ok(()) => self.room = None,
                    Err((PushError::Closed, _)) => return Poll::Ready(()),
                    Err((PushError::Full, text)) => {
                        self.held = Some(text);
                        match &mut self.room {
                            None => {
                                // Armed before offering again, so no taken item is missed.
                                let mut room = Box::pin(self.engine.inbound.space());
                                room.as_mut().enable();
                                self.room = Some(room);
                            }
                            Some(room) => {
                                ready!(room.as_mut().poll(cx));
                                self.room = None;
                            }
                        }
                        continue;
                    }
                }
            }
            match self.reader.decode() {
                Ok(Some(message)) => {
                    if self.on_message(message) {
                        return Poll::Ready(());
                    }
                    continue;
                }
                Ok(None) => {}
                Err(err) => return self.end(err.close_reason()),
            }
            match ready!(self.io.poll_read_some(cx, &mut self.reader.buf)) {
                Ok(0) => return self.end(CloseReason::TransportClose),
                Ok(_) => {}
                Err(err) => return self.end(CloseReason::TransportError(err.to_string())),
            }
        }
    }

    /// Handles one client message; true when the session ends.
    fn on_message(&mut self, message: Incoming) -> bool {
        let reason = match message {
            Incoming::Text(text) => match engineio::decode(&text) {
                Ok(Packet::Message(data)) => {
                    self.held = Some(data.to_owned());
                    return false;
                }
                Ok(Packet::Pong(_)) => {
                    self.engine.pong_received();
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
