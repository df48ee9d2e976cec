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
//! freed once written. Messages up to `max_payload` grow the buffers on demand.
//!
//! A WebSocket-only session is one task: it runs the session's connection (Socket.IO state
//! and handlers, [`super::connection`]) next to its pump, so a client message reaches its
//! handler without waking another task. A session upgraded from polling keeps the connection
//! task it got at its polling handshake: its WebSocket task feeds that task through the
//! engine's inbound queue, as the polling POSTs did (moving a running connection between
//! tasks at the upgrade would need it shared, or handed over mid-flight with its handlers).
//!
//! This module owns the session (accept, probe, serving); `pump` moves packets both ways;
//! `frames` owns the WebSocket framing and decoding.

mod frames;
mod pump;

use self::frames::{Incoming, WebSocket};
use self::pump::{Ended, Pump};
use super::connection::Connection;
use super::endpoint::{self, Refusal, Transport};
use super::engine::{CloseReason, Engine, OutboundWriter, TransportKind};
use super::engineio::{self, Packet};
use super::server::ServerInner;
use super::ws_io::WsIo;
use actix_codec::Framed;
use actix_http::body::BodySize;
use actix_http::ws::{self as proto, CloseCode, OpCode, Parser};
use actix_http::{h1, ConnectionType, HttpMessage, Request, Response, StatusCode};
use bytes::{Bytes, BytesMut};
use futures_util::SinkExt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How long the close frame may take to be written on a stalled connection.
const CLOSE_FRAME_TIMEOUT: Duration = Duration::from_secs(1);
/// After the close frame, how long the client's remaining bytes are read and dropped, so that
/// closing the socket with unread input does not reset the connection before the client has
/// read the close frame.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

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
    // The session gets a task of its own; actix-http's dispatcher ends now.
    match upgrading {
        None => {
            let (engine, connection) = server.open_engine(
                req.uri().query().unwrap_or(""),
                TransportKind::WebSocket,
                peer,
            );
            let mut first = BytesMut::new();
            let open = server.open_packet(&engine, false);
            Parser::write_message(&mut first, open.as_bytes(), OpCode::Text, true, false);
            actix_web::rt::spawn(serve_here(engine, ws, first, connection));
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

/// The right to write the session's outbound queue. A poll still holding it returns promptly
/// (the transport changed), then it is ours; `None` if the session closes meanwhile.
async fn take_writer(engine: &Engine) -> Option<OutboundWriter<'_>> {
    if let Some(writer) = engine.try_writer() {
        return Some(writer);
    }
    // Boxed, that wait does not size the task for the session's life.
    Box::pin(async {
        tokio::select! {
            writer = engine.writer() => Some(writer),
            _ = engine.closed() => None,
        }
    })
    .await
}

/// Carries a session upgraded from polling: reads client packets into the inbound queue of
/// its connection task and writes the outbound queue until the session closes, then sends a
/// close frame saying why.
async fn serve<S: WsIo>(engine: Arc<Engine>, ws: WebSocket<S>, first: BytesMut) {
    let ws = match take_writer(&engine).await {
        Some(writer) => {
            let mut pump = Pump::new(&engine, ws, writer, first);
            (&mut pump).await;
            pump.ws
        }
        None => ws,
    };
    let (code, reason) = close_frame(&engine.close_reason());
    // Boxed: the close's timers would otherwise size the task of every idle connection.
    Box::pin(ws.close(code, &reason)).await;
}

/// Carries a WebSocket-only session with its connection in this task: client messages go
/// straight to the connection, which runs the handlers here. `first` holds frames to write
/// before anything queued (the `open` packet).
async fn serve_here<S: WsIo>(
    engine: Arc<Engine>,
    ws: WebSocket<S>,
    first: BytesMut,
    mut connection: Connection,
) {
    // The connection's one timer for the session's life, moved as its deadline changes.
    let sleep = tokio::time::sleep_until(connection.next_deadline());
    tokio::pin!(sleep);
    let engine = &*engine;
    let (pump, ended) = match take_writer(engine).await {
        Some(writer) => {
            let mut pump = Pump::new(engine, ws, writer, first);
            let ended =
                std::future::poll_fn(|cx| pump.poll_here(cx, &mut connection, sleep.as_mut()))
                    .await;
            (Some(pump), ended)
        }
        // Not for a new session, whose queue nobody else holds; closed all the same.
        None => {
            engine.abort(CloseReason::TransportClose);
            Box::pin(ws.close(CloseCode::Error, "transport error")).await;
            (None, Ended::Pump)
        }
    };
    // The session is closed. The handlers are told (then the session is unregistered) while
    // the pump writes what it still holds and the close frame goes out, as when these were
    // two tasks: a stalled client delays neither.
    let finishing = async move {
        connection.finish().await;
        drop(connection);
    };
    let closing = async move {
        let Some(mut pump) = pump else { return };
        if ended == Ended::Connection {
            (&mut pump).await;
        }
        let (code, reason) = close_frame(&engine.close_reason());
        Box::pin(pump.ws.close(code, &reason)).await;
    };
    // Boxed: this state would otherwise size the task of every idle connection.
    Box::pin(futures_util::future::join(finishing, closing)).await;
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
