//! The WebSocket transport (actix-ws): a WebSocket-only session, or the upgrade of a polling
//! session (`2probe` -> `3probe`, pending polls ended with `noop`, then `5`). One Engine.IO
//! packet per text frame; binary frames, oversized messages and malformed packets close the
//! session with a WebSocket close frame that says why.

use super::endpoint::Refusal;
use super::engine::{CloseReason, Engine, Outbound, OutboundWriter, TransportKind};
use super::engineio::{self, Packet};
use super::server::ServerInner;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, AggregatedMessageStream, CloseCode, ProtocolError, Session};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// How long the close frame may take to be queued on a stalled connection.
const CLOSE_FRAME_TIMEOUT: Duration = Duration::from_secs(1);

/// Accepts a WebSocket request: a new session when `sid` is absent, else an upgrade probe.
pub(crate) fn accept(
    server: &Arc<ServerInner>,
    req: &HttpRequest,
    body: web::Payload,
    sid: Option<String>,
    query: HashMap<String, String>,
) -> HttpResponse {
    let upgrading = match sid {
        None if server.is_shutting_down() => return Refusal::ShuttingDown.response(),
        None => None,
        Some(sid) => {
            let Some(engine) = server.engine(&sid) else {
                return Refusal::UnknownSid.response();
            };
            if engine.is_closed() || engine.transport_kind() != TransportKind::Polling {
                return Refusal::BadRequest("session cannot be upgraded".into()).response();
            }
            if engine.probing.swap(true, Ordering::SeqCst) {
                return Refusal::BadRequest("an upgrade is already in progress".into()).response();
            }
            Some(engine)
        }
    };
    let (response, session, stream) = match actix_ws::handle(req, body) {
        Ok(parts) => parts,
        Err(err) => {
            if let Some(engine) = &upgrading {
                engine.probing.store(false, Ordering::SeqCst);
            }
            return Refusal::BadRequest(err.to_string()).response();
        }
    };
    let max = server.config.max_payload;
    let stream = stream
        .max_frame_size(max)
        .aggregate_continuations()
        .max_continuation_size(max);
    let server = server.clone();
    match upgrading {
        None => {
            let engine = server.open_engine(query, TransportKind::WebSocket);
            let open = server.open_packet(&engine, false);
            actix_web::rt::spawn(async move {
                let mut session = session;
                if session.text(open).await.is_err() {
                    engine.abort(CloseReason::TransportClose);
                    return;
                }
                serve(engine, session, stream).await;
            });
        }
        Some(engine) => {
            actix_web::rt::spawn(upgrade(server, engine, session, stream));
        }
    }
    response
}

async fn upgrade(
    server: Arc<ServerInner>,
    engine: Arc<Engine>,
    mut session: Session,
    mut stream: AggregatedMessageStream,
) {
    match probe(&server, &engine, &mut session, &mut stream).await {
        Ok(()) => {
            tracing::debug!(sid = %engine.sid, "socket.io: upgraded to WebSocket");
            serve(engine, session, stream).await;
        }
        Err(detail) => {
            engine.transport.send_if_modified(|kind| {
                let revert = *kind == TransportKind::Upgrading;
                if revert {
                    *kind = TransportKind::Polling;
                }
                revert
            });
            engine.probing.store(false, Ordering::SeqCst);
            tracing::debug!(sid = %engine.sid, reason = %detail, "socket.io: upgrade abandoned");
            let _ = tokio::time::timeout(
                CLOSE_FRAME_TIMEOUT,
                session.close(Some((CloseCode::Policy, detail).into())),
            )
            .await;
        }
    }
}

/// Runs the upgrade handshake on a new WebSocket; the session keeps polling until `5`.
async fn probe(
    server: &ServerInner,
    engine: &Engine,
    session: &mut Session,
    stream: &mut AggregatedMessageStream,
) -> Result<(), String> {
    let deadline = tokio::time::sleep(server.config.upgrade_timeout);
    tokio::pin!(deadline);
    let mut probed = false;
    loop {
        let message = tokio::select! {
            message = stream.recv() => message,
            _ = &mut deadline => return Err("upgrade timed out".into()),
            _ = engine.closed() => return Err("session closed".into()),
        };
        let text = match message {
            Some(Ok(AggregatedMessage::Text(text))) => text,
            Some(Ok(AggregatedMessage::Ping(bytes))) => {
                let _ = session.pong(&bytes).await;
                continue;
            }
            Some(Ok(AggregatedMessage::Pong(_))) => continue,
            Some(Ok(other)) => return Err(format!("unexpected frame during upgrade: {other:?}")),
            Some(Err(err)) => return Err(format!("WebSocket error during upgrade: {err}")),
            None => return Err("WebSocket closed during upgrade".into()),
        };
        match engineio::decode(&text) {
            Ok(Packet::Ping("probe")) if !probed => {
                session
                    .text(Packet::Pong("probe").encode())
                    .await
                    .map_err(|_| "WebSocket closed during upgrade".to_owned())?;
                probed = true;
                // Pending and new polls now end with `noop` so the client can pause polling.
                engine.transport.send_replace(TransportKind::Upgrading);
            }
            Ok(Packet::Upgrade) if probed => {
                engine.transport.send_replace(TransportKind::WebSocket);
                return Ok(());
            }
            Ok(Packet::Noop) => {}
            _ => return Err(format!("unexpected packet during upgrade: {text:.32}")),
        }
    }
}

/// Carries an open session: reads client packets and writes the outbound queue until the
/// session closes, then sends a close frame saying why.
async fn serve(engine: Arc<Engine>, session: Session, mut stream: AggregatedMessageStream) {
    // A poll still holding the queue returns promptly (the transport changed), then we own it.
    let writer = tokio::select! {
        writer = engine.writer() => Some(writer),
        _ = engine.closed() => None,
    };
    if let Some(writer) = writer {
        tokio::select! {
            _ = read_loop(&engine, &mut stream, session.clone()) => {}
            _ = write_loop(&engine, writer, session.clone()) => {}
            _ = engine.closed() => {}
        }
    }
    let reason = engine.close_reason();
    let frame = close_frame(&reason);
    let _ = tokio::time::timeout(CLOSE_FRAME_TIMEOUT, session.close(Some(frame.into()))).await;
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

async fn write_loop(engine: &Engine, mut writer: OutboundWriter<'_>, mut session: Session) {
    while let Some(item) = writer.recv().await {
        match item {
            Outbound::Packet(text) => {
                if session.text(text).await.is_err() {
                    engine.abort(CloseReason::TransportClose);
                    return;
                }
            }
            Outbound::Close => {
                // The reason recorded by the clean close is kept; this only ends the session.
                engine.abort(CloseReason::TransportClose);
                return;
            }
        }
    }
}

async fn read_loop(engine: &Engine, stream: &mut AggregatedMessageStream, mut session: Session) {
    while let Some(message) = stream.recv().await {
        match message {
            Ok(AggregatedMessage::Text(text)) => match engineio::decode(&text) {
                Ok(Packet::Message(data)) => {
                    if engine.inbound.push(data.to_owned()).await.is_err() {
                        return;
                    }
                }
                Ok(Packet::Pong(_)) => engine.pong.notify_one(),
                Ok(Packet::Close) => {
                    engine.client_close();
                    return;
                }
                Ok(Packet::Noop) => {}
                Ok(other) => {
                    engine.abort(CloseReason::BadInput(format!(
                        "unexpected Engine.IO packet type {} on WebSocket",
                        other.type_char()
                    )));
                    return;
                }
                Err(err) => {
                    engine.abort(CloseReason::BadInput(format!(
                        "invalid Engine.IO packet: {err}"
                    )));
                    return;
                }
            },
            Ok(AggregatedMessage::Binary(_)) => {
                engine.abort(CloseReason::BadInput(
                    "binary frames are not supported".into(),
                ));
                return;
            }
            Ok(AggregatedMessage::Ping(bytes)) => {
                let _ = session.pong(&bytes).await;
            }
            Ok(AggregatedMessage::Pong(_)) => {}
            Ok(AggregatedMessage::Close(_)) => {
                engine.abort(CloseReason::TransportClose);
                return;
            }
            Err(ProtocolError::Overflow) => {
                engine.abort(CloseReason::PayloadTooLarge);
                return;
            }
            Err(ProtocolError::Io(err)) if err.to_string().contains("continuation size") => {
                engine.abort(CloseReason::PayloadTooLarge);
                return;
            }
            Err(ProtocolError::Io(err)) => {
                engine.abort(CloseReason::TransportError(err.to_string()));
                return;
            }
            Err(err) => {
                engine.abort(CloseReason::BadInput(format!(
                    "WebSocket protocol error: {err}"
                )));
                return;
            }
        }
    }
    engine.abort(CloseReason::TransportClose);
}
