//! `/api/v1/outbox`: the outbound webhook deliveries (supervisors and admins).
//!
//! - `GET /outbox?state=PENDING|DELIVERED|DEAD&conversationId=&limit=` — newest first,
//!   `limit` 1..=1000 (default 100); each entry `{id, messageId, conversationId, url,
//!   payload, state, attempts, nextAttemptAt, lastError, createdAt, deliveredAt}`.
//! - `GET /outbox/{id}` — one entry.
//! - `POST /outbox/{id}/retry` — a DEAD delivery goes back to PENDING with its attempts
//!   reset and the worker is woken; answers the entry. 409 when it is not dead.

use super::conversations::{int_param, one_of, text_param};
use crate::clock::now_ms;
use crate::http::error::responses::{BadRequest, Conflict, Forbidden, NotFound, Unauthenticated};
use crate::http::error::ApiError;
use crate::http::extract::{QueryOf, Supervisor};
use crate::http::AppState;
use crate::store::outbox::{self, OutboxEntry};
use actix_web::{get, post, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

const STATES: [&str; 3] = ["PENDING", "DELIVERED", "DEAD"];
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(get_one).service(retry);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// PENDING, DELIVERED or DEAD.
    #[param(value_type = Option<String>, pattern = "^(PENDING|DELIVERED|DEAD)$")]
    state: Option<String>,
    conversation_id: Option<String>,
    /// 1-1000, default 100.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

/// Outbound webhook deliveries, newest first.
#[utoipa::path(
    tag = "outbox",
    params(OutboxQuery),
    responses((status = 200, body = Vec<OutboxEntry>), BadRequest, Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/outbox")]
async fn list(
    state: web::Data<AppState>,
    _: Supervisor,
    QueryOf(q): QueryOf<OutboxQuery>,
) -> Result<web::Json<Vec<OutboxEntry>>, ApiError> {
    let wanted = one_of("state", q.state, &STATES)?;
    let conversation_id = text_param("conversationId", q.conversation_id)?;
    let limit = int_param("limit", q.limit, 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT) as usize;
    let entries = state
        .store
        .read(move |c| outbox::list(c, wanted.as_deref(), conversation_id.as_deref(), limit))
        .await?;
    Ok(web::Json(entries))
}

/// One delivery.
#[utoipa::path(
    tag = "outbox",
    responses((status = 200, body = OutboxEntry), BadRequest, Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/outbox/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<i64>,
) -> Result<web::Json<OutboxEntry>, ApiError> {
    let id = id.into_inner();
    let entry = state
        .store
        .read(move |c| outbox::get(c, id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("outbox entry {id}")))?;
    Ok(web::Json(entry))
}

/// Put a DEAD delivery back in line (409 when it is not dead).
#[utoipa::path(
    tag = "outbox",
    responses((status = 200, body = OutboxEntry), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/outbox/{id}/retry")]
async fn retry(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<i64>,
) -> Result<web::Json<OutboxEntry>, ApiError> {
    let id = id.into_inner();
    let (retried, entry) = state
        .store
        .write(move |c| {
            let retried = outbox::retry(c, id, now_ms())?;
            Ok((retried, outbox::get(c, id)?))
        })
        .await?;
    let entry = entry.ok_or_else(|| ApiError::NotFound(format!("outbox entry {id}")))?;
    if !retried {
        return Err(ApiError::Conflict(format!(
            "outbox entry {id} is {}; only DEAD deliveries can be retried",
            entry.state
        )));
    }
    state.outbox_wake.wake();
    Ok(web::Json(entry))
}
