//! The HTTP long-polling transport: a GET waits for queued packets and returns them as one
//! payload (`\x1e`-separated, at most `max_payload` bytes); a POST delivers a payload of client
//! packets and is answered `ok`. One GET and one POST at a time per session; overlapping
//! requests, malformed or oversized bodies close the session.

use super::endpoint::Refusal;
use super::engine::{CloseReason, Engine, Outbound, OutboundWriter, TransportKind};
use super::engineio::{self, Packet};
use super::server::ServerInner;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

pub(crate) fn text_response(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=UTF-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

/// Closes the session if a pending GET is dropped before answering (the client went away),
/// like the reference server.
struct AbandonGuard<'a> {
    engine: &'a Engine,
    armed: bool,
}

impl Drop for AbandonGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.engine.abort(CloseReason::TransportClose);
        }
    }
}

/// Answers a long-poll GET.
pub(crate) async fn poll(server: &ServerInner, engine: Arc<Engine>) -> HttpResponse {
    if engine.is_closed() {
        return Refusal::UnknownSid.response();
    }
    if engine.transport_kind() == TransportKind::WebSocket {
        return Refusal::BadRequest("session uses WebSocket".into()).response();
    }
    let Some(mut writer) = engine.try_writer() else {
        engine.abort(CloseReason::BadInput(
            "overlapping long-poll GET requests".into(),
        ));
        return Refusal::BadRequest("overlapping poll".into()).response();
    };
    let mut guard = AbandonGuard {
        engine: &engine,
        armed: true,
    };
    let max = server.config.max_payload;
    let (body, close_after) = loop {
        let changed = engine.transport.changed();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if engine.is_closed() {
            // A client that sent `close` gets `noop` on its pending poll; otherwise the
            // session was closed by the server.
            let last = if engine.closed_by_client() { "6" } else { "1" };
            break (last.to_owned(), false);
        }
        let kind = engine.transport_kind();
        let (payload, close_after) = drain(&mut writer, max);
        if !payload.is_empty() {
            break (payload, close_after);
        }
        if kind != TransportKind::Polling {
            // Upgrading: end this poll so the client can pause polling.
            break ("6".to_owned(), false);
        }
        tokio::select! {
            biased;
            _ = engine.closed() => {}
            item = writer.recv() => {
                if let Some(item) = item {
                    writer.put_back(item);
                }
            }
            _ = changed => {}
        }
    };
    guard.armed = false;
    drop(writer);
    if close_after {
        engine.abort(CloseReason::TransportClose);
    }
    text_response(body)
}

/// Takes queued packets into one payload of at most `max` bytes (at least one packet).
/// Returns true when the payload ends with the session's `close` packet.
fn drain(writer: &mut OutboundWriter<'_>, max: usize) -> (String, bool) {
    let mut payload = String::new();
    while let Some(item) = writer.try_recv() {
        match item {
            Outbound::Packet(text) => {
                if !payload.is_empty() && payload.len() + 1 + text.len() > max {
                    writer.put_back(Outbound::Packet(text));
                    break;
                }
                engineio::push_to_payload(&mut payload, &text);
            }
            Outbound::Close => {
                engineio::push_to_payload(&mut payload, "1");
                return (payload, true);
            }
        }
    }
    (payload, false)
}

struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

enum BodyError {
    TooLarge,
    Transport(String),
}

async fn read_body(mut payload: web::Payload, max: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| BodyError::Transport(e.to_string()))?;
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn refuse(engine: &Engine, reason: CloseReason) -> HttpResponse {
    let refusal = match &reason {
        CloseReason::PayloadTooLarge => Refusal::PayloadTooLarge,
        CloseReason::BadInput(detail) => Refusal::BadRequest(detail.clone()),
        _ => Refusal::BadRequest(String::new()),
    };
    engine.abort(reason);
    refusal.response()
}

/// Answers a long-poll POST carrying client packets.
pub(crate) async fn post(
    server: &ServerInner,
    engine: Arc<Engine>,
    req: &HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    if engine.is_closed() {
        return Refusal::UnknownSid.response();
    }
    if engine.transport_kind() == TransportKind::WebSocket {
        return Refusal::BadRequest("session uses WebSocket".into()).response();
    }
    if engine.posting.swap(true, Ordering::SeqCst) {
        return refuse(
            &engine,
            CloseReason::BadInput("overlapping long-poll POST requests".into()),
        );
    }
    let _posting = ClearOnDrop(&engine.posting);

    let max = server.config.max_payload;
    if declared_length(req).is_some_and(|len| len > max) {
        return refuse(&engine, CloseReason::PayloadTooLarge);
    }
    let is_binary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/octet-stream"));
    if is_binary {
        return refuse(
            &engine,
            CloseReason::BadInput("binary payloads are not supported".into()),
        );
    }
    let body = match read_body(payload, max).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return refuse(&engine, CloseReason::PayloadTooLarge),
        Err(BodyError::Transport(detail)) => {
            return refuse(&engine, CloseReason::TransportError(detail))
        }
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return refuse(
            &engine,
            CloseReason::BadInput("POST body is not UTF-8".into()),
        );
    };

    for packet in engineio::decode_payload(text) {
        match packet {
            Ok(Packet::Message(data)) => {
                tokio::select! {
                    sent = engine.inbound.push(data.to_owned()) => {
                        if sent.is_err() {
                            break;
                        }
                    }
                    _ = engine.closed() => break,
                }
            }
            Ok(Packet::Pong(_)) => engine.pong_received(),
            Ok(Packet::Close) => {
                engine.client_close();
                break;
            }
            Ok(Packet::Noop) => {}
            Ok(other) => {
                return refuse(
                    &engine,
                    CloseReason::BadInput(format!(
                        "unexpected Engine.IO packet type {} over polling",
                        other.type_char()
                    )),
                )
            }
            Err(err) => {
                return refuse(
                    &engine,
                    CloseReason::BadInput(format!("invalid Engine.IO packet: {err}")),
                )
            }
        }
    }
    HttpResponse::Ok()
        .content_type("text/html")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body("ok")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drain_caps_payload_and_keeps_the_rest() {
        let engine = Engine::new("", TransportKind::Polling, 8);
        engine.send("4aaaa".into()).unwrap();
        engine.send("4bbbb".into()).unwrap();
        engine.send("4cccc".into()).unwrap();
        let mut writer = engine.writer().await;
        assert_eq!(
            drain(&mut writer, 11),
            ("4aaaa\u{1e}4bbbb".to_owned(), false)
        );
        assert_eq!(drain(&mut writer, 11), ("4cccc".to_owned(), false));
        assert_eq!(drain(&mut writer, 11), (String::new(), false));
    }

    #[tokio::test]
    async fn drain_always_takes_one_packet_even_if_larger_than_max() {
        let engine = Engine::new("", TransportKind::Polling, 8);
        engine.send("4toolong".into()).unwrap();
        let mut writer = engine.writer().await;
        assert_eq!(drain(&mut writer, 2), ("4toolong".to_owned(), false));
    }

    #[tokio::test]
    async fn drain_ends_with_close_packet() {
        let engine = Engine::new("", TransportKind::Polling, 8);
        engine.send("41".into()).unwrap();
        assert!(engine.close_after_flush(CloseReason::ServerDisconnect));
        let mut writer = engine.writer().await;
        assert_eq!(drain(&mut writer, 100), ("41\u{1e}1".to_owned(), true));
    }
}
