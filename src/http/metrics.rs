//! `GET /metrics`: the Prometheus text exposition, for the clients
//! [`MetricsAccess`](crate::metrics::MetricsAccess) lets in (403 otherwise, 404 when
//! disabled). The "now" figures are read here, at scrape time.

use super::client_addr::ClientAddr;
use super::error::ApiError;
use super::AppState;
use crate::clock::now_ms;
use crate::metrics::access::Refusal;
use crate::metrics::LiveFigures;
use actix_web::{web, HttpRequest, HttpResponse};

/// The Prometheus text exposition (loopback, allow-listed or token holders only).
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "health",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 403, description = "forbidden: this client may not scrape", body = crate::http::error::ErrorBody),
        (status = 404, description = "not_found: metrics are disabled", body = crate::http::error::ErrorBody)
    ),
    // This host and `metrics.allow` scrape without credentials; others with the token.
    security((), ("metrics" = []))
)]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let access = &state.metrics_access;
    let client = ClientAddr::of(&req, access.trusted_proxies());
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match access.check(client, bearer) {
        Ok(()) => {}
        Err(Refusal::Disabled) => return Err(ApiError::NotFound("route GET /metrics".into())),
        Err(Refusal::Forbidden) => {
            return Err(ApiError::Forbidden(
                "metrics are served to this host, metrics.allow or the metrics.token only".into(),
            ))
        }
    }
    let (mrds, outbox) = state
        .store
        .read(|c| {
            let mrds: Vec<String> = crate::store::directory::list_mrds(c)?
                .into_iter()
                .map(|m| m.name)
                .collect();
            let mut stmt = c.prepare_cached("SELECT state, COUNT(*) FROM outbox GROUP BY state")?;
            let outbox = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .map(|row| row.map(|(s, n)| (s, n.max(0) as u64)))
                .collect::<Result<_, _>>()?;
            Ok((mrds, outbox))
        })
        .await?;
    let mut live = state
        .routing
        .query(move |core, now| LiveFigures::routing(core, now.max(now_ms()), &mrds))
        .await
        .ok_or_else(|| ApiError::Unavailable("routing is not running".into()))?;
    live.outbox = outbox;
    live.sockets = state.socketio.sockets_by_namespace();
    let body = state.metrics.render(&live);
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}
