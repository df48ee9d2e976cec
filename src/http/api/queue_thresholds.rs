//! `/api/v1/queues/{id}/thresholds`: the per-queue limits that turn the queue amber
//! or red on the supervisor console (read: supervisors; change: admins).

use crate::http::error::responses::{
    BadRequest, BodyRefused, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, Supervisor};
use crate::http::AppState;
use crate::store::queue_thresholds::{self, Thresholds};
use actix_web::{get, put, web};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get).service(put);
}

/// A queue's amber/red thresholds on the supervisor console.
#[utoipa::path(
    tag = "queues",
    responses((status = 200, body = Thresholds), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/queues/{id}/thresholds")]
async fn get(
    state: web::Data<AppState>,
    _: Supervisor,
    path: web::Path<String>,
) -> Result<web::Json<Thresholds>, ApiError> {
    let queue_id = path.into_inner();
    let id = queue_id.clone();
    let (exists, all) = state
        .store
        .read(move |c| {
            let exists = crate::store::directory::list_queues(c)?
                .iter()
                .any(|q| q.id == id);
            Ok((exists, queue_thresholds::all(c)?))
        })
        .await?;
    if !exists {
        return Err(ApiError::NotFound(format!("queue {queue_id}")));
    }
    Ok(web::Json(all.get(&queue_id).cloned().unwrap_or_default()))
}

/// Amber must come before red: a shorter wait, a higher service level.
fn validate(t: &Thresholds) -> Result<(), ApiError> {
    for (field, pct) in [
        ("serviceLevelAmberPct", t.service_level_amber_pct),
        ("serviceLevelRedPct", t.service_level_red_pct),
    ] {
        if pct.is_some_and(|p| p > 100) {
            return Err(ApiError::invalid(
                field,
                format!("{field} must be 0 to 100"),
            ));
        }
    }
    if let (Some(amber), Some(red)) = (t.longest_wait_amber_secs, t.longest_wait_red_secs) {
        if amber > red {
            return Err(ApiError::invalid(
                "longestWaitAmberSecs",
                "longestWaitAmberSecs must not exceed longestWaitRedSecs",
            ));
        }
    }
    if let (Some(amber), Some(red)) = (t.service_level_amber_pct, t.service_level_red_pct) {
        if amber < red {
            return Err(ApiError::invalid(
                "serviceLevelAmberPct",
                "serviceLevelAmberPct must not be below serviceLevelRedPct",
            ));
        }
    }
    Ok(())
}

/// Set a queue's amber/red thresholds.
#[utoipa::path(
    tag = "queues",
    request_body = Thresholds,
    responses((status = 200, body = Thresholds), BadRequest, Unauthenticated, Forbidden, NotFound, BodyRefused),
    security(("bearer" = []))
)]
#[put("/queues/{id}/thresholds")]
async fn put(
    state: web::Data<AppState>,
    _: Admin,
    path: web::Path<String>,
    body: Body<Thresholds>,
) -> Result<web::Json<Thresholds>, ApiError> {
    let queue_id = path.into_inner();
    let thresholds = body.into_inner()?;
    validate(&thresholds)?;
    let id = queue_id.clone();
    let saved = thresholds.clone();
    let found = state
        .store
        .write(move |c| queue_thresholds::set(c, &id, &saved))
        .await?;
    if !found {
        return Err(ApiError::NotFound(format!("queue {queue_id}")));
    }
    Ok(web::Json(thresholds))
}
