//! `/api/v1/pull-lists`: pull-mode lists. Supervisors read; admins create, edit and
//! delete (refused while a channel routes to one). Changes reach routing at once.

use super::crud::{self, Audited};
use super::{apply, check_name};
use crate::http::error::responses::{
    BadRequest, BodyRefused, Conflict, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, Supervisor};
use crate::http::AppState;
use crate::routing::{Input, PullListConfig};
use crate::store::directory;
use crate::store::routing_admin::{self, PullList};
use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

impl Audited for PullList {
    const KIND: &'static str = "pullList";
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn audit_name(&self) -> String {
        self.name.clone()
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(remove);
}

/// Every pull list.
#[utoipa::path(
    tag = "pull-lists",
    responses((status = 200, body = Vec<PullList>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/pull-lists")]
async fn list(
    state: web::Data<AppState>,
    _: Supervisor,
) -> Result<web::Json<Vec<PullList>>, ApiError> {
    crud::read(&state, routing_admin::list_pull_lists).await
}

/// One pull list.
#[utoipa::path(
    tag = "pull-lists",
    responses((status = 200, body = PullList), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/pull-lists/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<String>,
) -> Result<web::Json<PullList>, ApiError> {
    let id = id.into_inner();
    crud::read(&state, move |c| routing_admin::get_pull_list(c, &id)).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PullListBody {
    name: String,
    #[serde(default)]
    queue_id: Option<String>,
}

async fn engine(state: &AppState, p: &PullList) -> Result<(), ApiError> {
    apply(
        state,
        Input::UpsertPullList(PullListConfig {
            id: p.id.clone(),
            name: p.name.clone(),
        }),
    )
    .await
}

/// Create a pull list.
#[utoipa::path(
    tag = "pull-lists",
    request_body = PullListBody,
    responses((status = 201, body = PullList), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/pull-lists")]
async fn create(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<PullListBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    check_name("name", &b.name)?;
    let (saved, ()) = crud::created(&state, &auth, move |c| {
        routing_admin::check_queue_ref(c, "queueId", b.queue_id.as_deref())?;
        let id = directory::create_pull_list(c, &b.name, b.queue_id.as_deref())?;
        Ok((routing_admin::get_pull_list(c, &id)?, ()))
    })
    .await?;
    engine(&state, &saved).await?;
    Ok(HttpResponse::Created().json(saved))
}

/// Edit a pull list.
#[utoipa::path(
    tag = "pull-lists",
    request_body = PullListBody,
    responses((status = 200, body = PullList), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/pull-lists/{id}")]
async fn update(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<PullListBody>,
) -> Result<web::Json<PullList>, ApiError> {
    let b = body.into_inner()?;
    check_name("name", &b.name)?;
    let p = PullList {
        id: id.into_inner(),
        name: b.name,
        queue_id: b.queue_id,
    };
    let (saved, ()) = crud::updated(
        &state,
        &auth,
        p.id.clone(),
        routing_admin::get_pull_list,
        move |c, _| Ok((routing_admin::update_pull_list(c, &p)?, ())),
    )
    .await?;
    engine(&state, &saved).await?;
    Ok(web::Json(saved))
}

/// Delete a pull list no channel routes to (409 naming them otherwise).
#[utoipa::path(
    tag = "pull-lists",
    responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[delete("/pull-lists/{id}")]
async fn remove(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let del = id.clone();
    crud::deleted(&state, &auth, move |c| {
        Ok((routing_admin::delete_pull_list(c, &del)?, None, ()))
    })
    .await?;
    apply(&state, Input::RemovePullList { list_id: id }).await?;
    Ok(HttpResponse::NoContent().finish())
}
