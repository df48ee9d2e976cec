//! `/api/v1/outbox`: the outbound webhook deliveries (supervisors and admins).
//!
//! - `GET /outbox?state=PENDING|DELIVERED|DEAD&conversationId=&limit=` — newest first,
//!   `limit` 1..=1000 (default 100); each entry `{id, messageId, conversationId, url,
//!   payload, state, attempts, nextAttemptAt, lastError, createdAt, deliveredAt}`.
//! - `GET /outbox/{id}` — one entry.
//! - `POST /outbox/{id}/retry` — a DEAD delivery goes back to PENDING with its attempts
//!   reset and the worker is woken; answers the entry. 409 when it is not dead.

use super::conversations::QueryParams;
use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::outbox;
use crate::store::users::Role;
use actix_web::{web, HttpResponse};

const STATES: [&str; 3] = ["PENDING", "DELIVERED", "DEAD"];
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/outbox", web::get().to(list))
        .route("/outbox/{id}", web::get().to(get))
        .route("/outbox/{id}/retry", web::post().to(retry));
}

async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
    let mut q = QueryParams::parse(query.into_inner(), &["state", "conversationId", "limit"])?;
    let wanted = q.one_of("state", &STATES)?;
    let conversation_id = q.text("conversationId")?;
    let limit = q.int("limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT) as usize;
    let entries = state
        .store
        .read(move |c| outbox::list(c, wanted.as_deref(), conversation_id.as_deref(), limit))
        .await?;
    Ok(HttpResponse::Ok().json(entries))
}

async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
    let id = id.into_inner();
    let entry = state
        .store
        .read(move |c| outbox::get(c, id))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("outbox entry {id}")))?;
    Ok(HttpResponse::Ok().json(entry))
}

async fn retry(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
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
    Ok(HttpResponse::Ok().json(entry))
}
