//! The actix-web application: one factory shared by `main` and the tests.
//!
//! Routes: health, auth, the `/api/v1` resources (one file each under `api/`),
//! the embedded web pages, and whatever the components mount (Socket.IO,
//! connectors). Every failure answers `{code, message}` (see `error`).

pub mod api;
pub mod auth;
pub mod error;
pub mod extract;
pub mod health;
pub mod login_limit;
mod metrics;
pub mod page;
pub mod request_log;
pub mod static_files;
pub mod tls;

/// Who a request comes from and the plain-HTTP redirect live with the HTTP server
/// in the Socket.IO crate, which serves both.
pub use switchboard_socketio::{client_addr, redirect};

use crate::config::Config;
use crate::health::Health;
use crate::store::Store;
use actix_web::{web, HttpRequest, HttpResponse};
use error::ApiError;
use std::sync::Arc;
use std::time::Instant;

/// What every handler can reach.
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub health: Health,
    pub started_at: Instant,
    pub routing: crate::routing::RoutingHandle,
    pub conversations: crate::conversation::handle::ConversationHandle,
    pub agents: crate::agents::AgentManager,
    /// Sockets opened with a token, and revocation (logout, force logout, and the
    /// user changes that end a user's sessions: see `Sessions::revoke_user`).
    pub sessions: crate::sessions::Sessions,
    /// Wakes the webhook outbox worker (a dead delivery put back by the API).
    pub outbox_wake: crate::channels::outbox::OutboxWake,
    pub metrics: crate::metrics::Metrics,
    pub metrics_access: crate::metrics::MetricsAccess,
    pub socketio: crate::socketio::SocketIo,
    /// Failed logins per username and per client address.
    pub login_limiter: login_limit::LoginLimiter,
    /// Attachment settings, files and URL signer.
    pub attachments: crate::attachments::Attachments,
}

/// Mounts every route of the appliance on `cfg`.
pub fn configure(cfg: &mut web::ServiceConfig, max_body: usize) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(max_body)
            .error_handler(move |err, _req| error::json_error(err, max_body).into()),
    )
    .app_data(web::PayloadConfig::default().limit(max_body))
    .app_data(
        web::PathConfig::default().error_handler(|err, _| {
            ApiError::BadRequest(format!("bad path parameter: {err}")).into()
        }),
    )
    .app_data(
        web::QueryConfig::default().error_handler(|err, _| {
            ApiError::BadRequest(format!("bad query parameter: {err}")).into()
        }),
    )
    .app_data(extract::MaxBody(max_body))
    .configure(crate::channels::connector::configure)
    .route("/healthz", web::get().to(health::healthz))
    .route("/readyz", web::get().to(health::readyz))
    .route("/metrics", web::get().to(metrics::metrics));
    // Every /api/v1 route is registered with `service`, so utoipa-actix-web collects
    // it into the OpenAPI document served at /api/v1/openapi.json.
    let scope = utoipa_actix_web::scope("/api/v1").configure(api::configure);
    let mut schemas = Vec::new();
    utoipa_actix_web::OpenApiFactory::schemas(&scope, &mut schemas);
    let paths = utoipa_actix_web::OpenApiFactory::paths(&scope);
    let doc = api::openapi::document(paths, schemas);
    let json = doc.to_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot serialize the OpenAPI document");
        "{}".to_string()
    });
    cfg.app_data(web::Data::new(api::openapi::OpenApiJson(json)))
        .service(scope)
        .route("/", web::get().to(static_files::index))
        .route(
            "/attachments/{id}",
            web::get().to(api::attachments::download),
        )
        .route(
            "/{section:(admin|desk|widget|shared|vendor)}/{path:.*}",
            web::get().to(static_files::asset),
        )
        .route(
            "/{section:(admin|desk|widget)}",
            web::get().to(|req: HttpRequest| async move {
                let section = req.match_info().query("section").to_string();
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", format!("/{section}/")))
                    .finish()
            }),
        );
}

/// The answer for routes that do not exist.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!(
        "route {} {}",
        req.method(),
        req.path()
    )))
}
