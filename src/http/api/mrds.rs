//! `/api/v1/mrds`: media routing domains. Anyone signed in reads them (desks need
//! them); admins create, edit and delete (refused while a queue, channel type or
//! agent capacity uses one). Each change reaches the routing engine at once.

use super::crud::{self, Audited};
use super::{apply, check_len, check_name};
use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::responses::{
    BadRequest, BodyRefused, Conflict, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body};
use crate::http::AppState;
use crate::routing::{Input, MrdConfig};
use crate::store::directory::{self, MrdRow};
use crate::store::routing_admin;
use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(remove);
}

/// Every MRD.
#[utoipa::path(
    tag = "mrds",
    responses((status = 200, body = Vec<MrdRow>), Unauthenticated),
    security(("bearer" = []))
)]
#[get("/mrds")]
async fn list(state: web::Data<AppState>, _: AuthUser) -> Result<web::Json<Vec<MrdRow>>, ApiError> {
    crud::read(&state, directory::list_mrds).await
}

/// One MRD.
#[utoipa::path(
    tag = "mrds",
    responses((status = 200, body = MrdRow), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/mrds/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    _: AuthUser,
    id: web::Path<String>,
) -> Result<web::Json<MrdRow>, ApiError> {
    let id = id.into_inner();
    crud::read(&state, move |c| routing_admin::get_mrd(c, &id)).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MrdBody {
    name: String,
    #[serde(default)]
    description: String,
    /// 0-100: the most tasks of this MRD an agent handles at once.
    max_tasks: u32,
    #[serde(default = "yes")]
    #[schema(default = true)]
    interruptible: bool,
}

fn yes() -> bool {
    true
}

fn mrd_row(id: String, b: MrdBody) -> Result<MrdRow, ApiError> {
    check_name("name", &b.name)?;
    check_len("description", &b.description, 1000)?;
    if b.max_tasks > 100 {
        return Err(ApiError::invalid(
            "maxTasks",
            "maxTasks must be between 0 and 100",
        ));
    }
    Ok(MrdRow {
        id,
        name: b.name,
        description: b.description,
        max_tasks: b.max_tasks,
        interruptible: b.interruptible,
    })
}

impl Audited for MrdRow {
    const KIND: &'static str = "mrd";
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn audit_name(&self) -> String {
        self.name.clone()
    }
}

/// Creates or updates the MRD, then hands it to the routing engine.
async fn save(
    state: &AppState,
    auth: &AuthUser,
    row: MrdRow,
    is_new: bool,
) -> Result<MrdRow, ApiError> {
    let saved = row.clone();
    if is_new {
        crud::created(state, auth, move |c| {
            directory::create_mrd(c, &saved, now_ms())?;
            Ok((saved.clone(), ()))
        })
        .await?;
    } else {
        crud::updated(
            state,
            auth,
            row.id.clone(),
            routing_admin::get_mrd,
            move |c, _| {
                directory::update_mrd(c, &saved)?;
                Ok((saved.clone(), ()))
            },
        )
        .await?;
    }
    apply(
        state,
        Input::UpsertMrd(MrdConfig {
            id: row.id.clone(),
            name: row.name.clone(),
            description: row.description.clone(),
            max_tasks: row.max_tasks,
            interruptible: row.interruptible,
        }),
    )
    .await?;
    Ok(row)
}

/// Create an MRD.
#[utoipa::path(
    tag = "mrds",
    request_body = MrdBody,
    responses((status = 201, body = MrdRow), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/mrds")]
async fn create(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<MrdBody>,
) -> Result<HttpResponse, ApiError> {
    let row = mrd_row(uuid::Uuid::new_v4().to_string(), body.into_inner()?)?;
    Ok(HttpResponse::Created().json(save(&state, &auth, row, true).await?))
}

/// Edit an MRD.
///
/// The body replaces the whole record, as on create: a field left out takes its
/// default (empty, unset or the documented default), not its current value.
#[utoipa::path(
    tag = "mrds",
    request_body = MrdBody,
    responses((status = 200, body = MrdRow), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/mrds/{id}")]
async fn update(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<MrdBody>,
) -> Result<web::Json<MrdRow>, ApiError> {
    let row = mrd_row(id.into_inner(), body.into_inner()?)?;
    Ok(web::Json(save(&state, &auth, row, false).await?))
}

/// Delete an MRD nothing uses (409 naming the queues, channel types and agents otherwise).
#[utoipa::path(
    tag = "mrds",
    responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[delete("/mrds/{id}")]
async fn remove(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let mrd_id = id.clone();
    crud::deleted(&state, &auth, move |c| {
        Ok((routing_admin::delete_mrd(c, &mrd_id)?, None, ()))
    })
    .await?;
    apply(&state, Input::RemoveMrd { mrd_id: id }).await?;
    Ok(HttpResponse::NoContent().finish())
}
