//! The span every HTTP request is logged in. Like tracing-actix-web's default, but the client
//! address is the one [`ClientAddr`] resolves: `X-Forwarded-For` counts only when the peer is
//! a trusted proxy (`http.trusted_proxies`); the default span would take anyone's header.
//! The span and the line logged at debug level for each finished request have the target
//! `switchboard::access` (an access log: `log.level = "info,switchboard::access=debug"`).

use super::client_addr::ClientAddr;
use super::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{web, Error};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};

pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let peer = request
            .peer_addr()
            .map_or(std::net::IpAddr::from([0, 0, 0, 0]), |a| a.ip());
        let client = match request.app_data::<web::Data<AppState>>() {
            Some(state) => ClientAddr::from_headers(
                peer,
                request.headers(),
                state.metrics_access.trusted_proxies(),
            ),
            None => ClientAddr {
                ip: peer,
                relayed: false,
            },
        };
        let route = request.match_pattern().unwrap_or_else(|| "default".into());
        tracing::info_span!(
            target: "switchboard::access",
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.uri().path_and_query().map_or("", |p| p.as_str()),
            http.client_ip = %client.ip,
            http.relayed = client.relayed,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let status = match outcome {
            Ok(response) => response.status().as_u16(),
            Err(err) => err.as_response_error().status_code().as_u16(),
        };
        span.in_scope(|| tracing::debug!(target: "switchboard::access", status, "request served"));
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}
