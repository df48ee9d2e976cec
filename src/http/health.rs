//! `/healthz` (the process answers) and `/readyz` (store writable, components running).

use super::AppState;
use crate::health::ComponentStatus;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use std::collections::BTreeMap;

/// `/healthz`: always `{"status": "ok"}` while the process answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Alive {
    /// `ok`.
    pub status: &'static str,
}

/// `/readyz`: whether the store is writable and every component runs.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    /// `ready` or `unavailable`.
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_seconds: u64,
    /// `writable` or `failed`.
    pub store: &'static str,
    /// Each component's status by name.
    pub components: BTreeMap<&'static str, ComponentStatus>,
}

/// The process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Alive)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Alive { status: "ok" })
}

/// Ready to serve: the store is writable and every component runs.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "ready", body = Readiness),
        (status = 503, description = "not ready; `store` and `components` say which part", body = Readiness)
    )
)]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let store_ok = state.store.is_writable().await;
    let ready = store_ok && state.health.all_running();
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started_at.elapsed().as_secs(),
        store: if store_ok { "writable" } else { "failed" },
        components: state.health.snapshot(),
    };
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}
