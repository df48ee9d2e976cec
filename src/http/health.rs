//! `/healthz` (the process answers) and `/readyz` (store writable, components running).

use super::AppState;
use actix_web::{web, HttpResponse};
use serde_json::json;

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Object)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Ready to serve: the store is writable and every component runs.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "ready", body = Object),
        (status = 503, description = "not ready; the body says which component", body = Object)
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store_ok = state.store.is_writable().await;
    let components = state.health.snapshot();
    let ready = store_ok && state.health.all_running();
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": state.started_at.elapsed().as_secs(),
        "store": if store_ok { "writable" } else { "failed" },
        "components": components,
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
