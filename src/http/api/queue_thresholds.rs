//! `/api/v1/queues/{id}/thresholds`: the per-queue limits that turn the queue amber
//! or red on the supervisor console (read: supervisors; change: admins).

use crate::http::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::queue_thresholds::{self, Thresholds};
use crate::store::users::Role;
use actix_web::{web, HttpResponse};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/queues/{id}/thresholds", web::get().to(get))
        .route("/queues/{id}/thresholds", web::put().to(put));
}

async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
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
    Ok(HttpResponse::Ok().json(all.get(&queue_id).cloned().unwrap_or_default()))
}

/// Amber must come before red: a shorter wait, a higher service level.
fn validate(t: &Thresholds) -> Result<(), ApiError> {
    for (field, pct) in [
        ("serviceLevelAmberPct", t.service_level_amber_pct),
        ("serviceLevelRedPct", t.service_level_red_pct),
    ] {
        if pct.is_some_and(|p| p > 100) {
            return Err(ApiError::Validation(format!("{field} must be 0 to 100")));
        }
    }
    if let (Some(amber), Some(red)) = (t.longest_wait_amber_secs, t.longest_wait_red_secs) {
        if amber > red {
            return Err(ApiError::Validation(
                "longestWaitAmberSecs must not exceed longestWaitRedSecs".into(),
            ));
        }
    }
    if let (Some(amber), Some(red)) = (t.service_level_amber_pct, t.service_level_red_pct) {
        if amber < red {
            return Err(ApiError::Validation(
                "serviceLevelAmberPct must not be below serviceLevelRedPct".into(),
            ));
        }
    }
    Ok(())
}

async fn put(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    body: web::Json<Thresholds>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let queue_id = path.into_inner();
    let thresholds = body.into_inner();
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
    Ok(HttpResponse::Ok().json(thresholds))
}
