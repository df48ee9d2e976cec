//! The HTTP face of the endpoint: validates the Engine.IO query (`EIO=4`, `transport`, `sid`),
//! routes each request to the long-polling or WebSocket transport, answers refusals like the
//! reference server (`400 {"code", "message"}`), and applies CORS to long-polling.

use super::engine::TransportKind;
use super::polling;
use super::server::ServerInner;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Refusals with the reference server's codes and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    UnknownTransport,
    UnknownSid,
    BadHandshakeMethod,
    BadRequest(String),
    UnsupportedProtocolVersion,
    PayloadTooLarge,
    ShuttingDown,
}

impl Refusal {
    fn code(&self) -> u8 {
        match self {
            Refusal::UnknownTransport => 0,
            Refusal::UnknownSid => 1,
            Refusal::BadHandshakeMethod => 2,
            Refusal::BadRequest(_) | Refusal::PayloadTooLarge | Refusal::ShuttingDown => 3,
            Refusal::UnsupportedProtocolVersion => 5,
        }
    }

    fn message(&self) -> String {
        match self {
            Refusal::UnknownTransport => "Transport unknown".into(),
            Refusal::UnknownSid => "Session ID unknown".into(),
            Refusal::BadHandshakeMethod => "Bad handshake method".into(),
            Refusal::BadRequest(detail) if detail.is_empty() => "Bad request".into(),
            Refusal::BadRequest(detail) => format!("Bad request: {detail}"),
            Refusal::UnsupportedProtocolVersion => "Unsupported protocol version".into(),
            Refusal::PayloadTooLarge => "Payload too large".into(),
            Refusal::ShuttingDown => "Server shutting down".into(),
        }
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Refusal::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON body: `{"code", "message"}`.
    pub(crate) fn body(&self) -> String {
        json!({ "code": self.code(), "message": self.message() }).to_string()
    }

    pub(crate) fn response(&self) -> HttpResponse {
        HttpResponse::build(self.status())
            .content_type("application/json")
            .body(self.body())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Polling,
    WebSocket,
}

pub(crate) struct EioQuery {
    pub(crate) transport: Transport,
    pub(crate) sid: Option<String>,
}

/// The parameters of a query string (empty when it does not parse).
pub(crate) fn query_map(query_string: &str) -> HashMap<String, String> {
    web::Query::<HashMap<String, String>>::from_query(query_string)
        .map(web::Query::into_inner)
        .unwrap_or_default()
}

/// Validates the Engine.IO query string of a request.
pub(crate) fn parse_query(query_string: &str) -> Result<EioQuery, Refusal> {
    let all = web::Query::<HashMap<String, String>>::from_query(query_string)
        .map_err(|e| Refusal::BadRequest(e.to_string()))?
        .into_inner();
    if all.get("EIO").map(String::as_str) != Some("4") {
        return Err(Refusal::UnsupportedProtocolVersion);
    }
    let transport = match all.get("transport").map(String::as_str) {
        Some("polling") => Transport::Polling,
        Some("websocket") => Transport::WebSocket,
        _ => return Err(Refusal::UnknownTransport),
    };
    Ok(EioQuery {
        transport,
        sid: all.get("sid").cloned(),
    })
}

pub(crate) fn configure(server: Arc<ServerInner>, cfg: &mut web::ServiceConfig) {
    let path = server.config.path.clone();
    let on_get = server.clone();
    let on_post = server.clone();
    let on_options = server;
    cfg.service(
        web::resource(path)
            .route(web::get().to(move |req: HttpRequest| {
                let server = on_get.clone();
                async move { handle_get(server, req).await }
            }))
            .route(web::post().to(move |req: HttpRequest, body: web::Payload| {
                let server = on_post.clone();
                async move { handle_post(server, req, body).await }
            }))
            .route(web::method(Method::OPTIONS).to(move |req: HttpRequest| {
                let server = on_options.clone();
                async move { preflight(&server, &req) }
            }))
            .default_service(web::to(|| async { Refusal::BadHandshakeMethod.response() })),
    );
}

async fn handle_get(server: Arc<ServerInner>, req: HttpRequest) -> HttpResponse {
    let query = match parse_query(req.query_string()) {
        Ok(query) => query,
        Err(refusal) => return with_cors(&server, &req, refusal.response()),
    };
    let response = match (query.transport, query.sid) {
        // WebSocket requests are handed over at the upgrade (`HttpServer`); one that gets here
        // is not a WebSocket handshake, or the endpoint is served by another HTTP server.
        (Transport::WebSocket, _) => match actix_http::ws::verify_handshake(req.head()) {
            Err(err) => Refusal::BadRequest(err.to_string()).response(),
            Ok(()) => Refusal::BadRequest(
                "WebSocket needs the Socket.IO HTTP server (socketio::HttpServer)".into(),
            )
            .response(),
        },
        (Transport::Polling, None) if server.is_shutting_down() => Refusal::ShuttingDown.response(),
        (Transport::Polling, None) => {
            let peer = server
                .config
                .client_ip(req.peer_addr().map(|a| a.ip()), req.headers());
            let (engine, connection) =
                server.open_engine(req.query_string(), TransportKind::Polling, peer);
            connection.spawn();
            polling::text_response(server.open_packet(&engine, true))
        }
        (Transport::Polling, Some(sid)) => match server.engine(&sid) {
            Some(engine) => polling::poll(&server, engine).await,
            None => Refusal::UnknownSid.response(),
        },
    };
    with_cors(&server, &req, response)
}

async fn handle_post(
    server: Arc<ServerInner>,
    req: HttpRequest,
    body: web::Payload,
) -> HttpResponse {
    let query = match parse_query(req.query_string()) {
        Ok(query) => query,
        Err(refusal) => return with_cors(&server, &req, refusal.response()),
    };
    let response = match (query.transport, query.sid) {
        (Transport::WebSocket, _) => Refusal::BadRequest(String::new()).response(),
        (Transport::Polling, None) => Refusal::BadHandshakeMethod.response(),
        (Transport::Polling, Some(sid)) => match server.engine(&sid) {
            Some(engine) => polling::post(&server, engine, &req, body).await,
            None => Refusal::UnknownSid.response(),
        },
    };
    with_cors(&server, &req, response)
}

fn allowed_origin<'a>(server: &ServerInner, req: &'a HttpRequest) -> Option<&'a HeaderValue> {
    let origin = req.headers().get(header::ORIGIN)?;
    let text = origin.to_str().ok()?;
    server.config.allows_origin(text).then_some(origin)
}

fn with_cors(server: &ServerInner, req: &HttpRequest, mut response: HttpResponse) -> HttpResponse {
    if let Some(origin) = allowed_origin(server, req) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

fn preflight(server: &ServerInner, req: &HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    if allowed_origin(server, req).is_some() {
        response.insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"));
        if let Some(requested) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            response.insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone()));
        }
    }
    with_cors(server, req, response.finish())
}
