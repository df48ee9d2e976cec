//! `/api/v1/reason-codes` and `/api/v1/wrapup-codes`: anyone signed in reads them
//! (desks offer them); admins create, edit and delete. A delete is soft: the code is
//! no longer offered but stays readable by id, as history names it. After each change
//! every connected desk receives the new list (`onReasonCodes` / `onWrapupCodes`).

use super::{actor, check_len, check_name, record, record_created, record_updated};
use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::responses::{
    BadRequest, BodyRefused, Conflict, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, QueryOf};
use crate::http::AppState;
use crate::store::codes;
use crate::store::directory::{ReasonCodeRow, WrapupCodeRow};
use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_reasons)
        .service(get_reason)
        .service(create_reason)
        .service(update_reason)
        .service(delete_reason)
        .service(list_wrapups)
        .service(get_wrapup)
        .service(create_wrapup)
        .service(update_wrapup)
        .service(delete_wrapup);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CodeListQuery {
    /// Also list deleted codes (default false).
    include_deleted: Option<bool>,
}

/// Pushes the reason codes in use to every desk.
async fn push_reasons(state: &AppState) -> Result<(), ApiError> {
    let list = state.store.read(|c| codes::reason_codes(c, false)).await?;
    state.agents.broadcast(
        "onReasonCodes",
        serde_json::to_value(list).unwrap_or_default(),
    );
    Ok(())
}

/// Pushes the wrap-up codes in use to every desk.
async fn push_wrapups(state: &AppState) -> Result<(), ApiError> {
    let list = state.store.read(|c| codes::wrapup_codes(c, false)).await?;
    state.agents.broadcast(
        "onWrapupCodes",
        serde_json::to_value(list).unwrap_or_default(),
    );
    Ok(())
}

/// Reason codes (deleted ones only with `includeDeleted=true`).
#[utoipa::path(
    tag = "reason-codes",
    params(CodeListQuery),
    responses((status = 200, body = Vec<ReasonCodeRow>), BadRequest, Unauthenticated),
    security(("bearer" = []))
)]
#[get("/reason-codes")]
async fn list_reasons(
    state: web::Data<AppState>,
    _: AuthUser,
    QueryOf(q): QueryOf<CodeListQuery>,
) -> Result<web::Json<Vec<ReasonCodeRow>>, ApiError> {
    let all = q.include_deleted.unwrap_or(false);
    Ok(web::Json(
        state
            .store
            .read(move |c| codes::reason_codes(c, all))
            .await?,
    ))
}

/// One reason code, deleted or not.
#[utoipa::path(
    tag = "reason-codes",
    responses((status = 200, body = ReasonCodeRow), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/reason-codes/{id}")]
async fn get_reason(
    state: web::Data<AppState>,
    _: AuthUser,
    id: web::Path<String>,
) -> Result<web::Json<ReasonCodeRow>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        state
            .store
            .read(move |c| codes::reason_code(c, &id))
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonCodeBody {
    name: String,
    /// NOT_READY or LOGOUT.
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    description: String,
}

fn reason_row(id: String, b: ReasonCodeBody) -> Result<ReasonCodeRow, ApiError> {
    check_name("name", &b.name)?;
    if b.kind != "NOT_READY" && b.kind != "LOGOUT" {
        return Err(ApiError::invalid(
            "type",
            "type must be NOT_READY or LOGOUT",
        ));
    }
    check_len("description", &b.description, 1000)?;
    Ok(ReasonCodeRow {
        id,
        name: b.name,
        kind: b.kind,
        description: b.description,
        deleted: false,
    })
}

/// Create a reason code (one deleted under the same type and name comes back).
#[utoipa::path(
    tag = "reason-codes",
    request_body = ReasonCodeBody,
    responses((status = 201, body = ReasonCodeRow), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/reason-codes")]
async fn create_reason(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<ReasonCodeBody>,
) -> Result<HttpResponse, ApiError> {
    let r = reason_row(String::new(), body.into_inner()?)?;
    let who = actor(&auth);
    let saved = state
        .store
        .write(move |c| {
            let saved = codes::create_reason_code(c, &r.name, &r.kind, &r.description)?;
            record_created(c, &who, "reasonCode", &saved.id, &saved.name, &saved)?;
            Ok(saved)
        })
        .await?;
    push_reasons(&state).await?;
    Ok(HttpResponse::Created().json(saved))
}

/// Edit a reason code.
#[utoipa::path(
    tag = "reason-codes",
    request_body = ReasonCodeBody,
    responses((status = 200, body = ReasonCodeRow), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/reason-codes/{id}")]
async fn update_reason(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<ReasonCodeBody>,
) -> Result<web::Json<ReasonCodeRow>, ApiError> {
    let r = reason_row(id.into_inner(), body.into_inner()?)?;
    let who = actor(&auth);
    let saved = state
        .store
        .write(move |c| {
            let before = codes::reason_code(c, &r.id)?;
            let saved = codes::update_reason_code(c, &r)?;
            record_updated(c, &who, "reasonCode", &r.id, &saved.name, &before, &saved)?;
            Ok(saved)
        })
        .await?;
    push_reasons(&state).await?;
    Ok(web::Json(saved))
}

/// Delete a reason code (soft: still readable by id).
#[utoipa::path(
    tag = "reason-codes",
    responses((status = 204), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[delete("/reason-codes/{id}")]
async fn delete_reason(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let who = actor(&auth);
    state
        .store
        .write(move |c| {
            let before = codes::delete_reason_code(c, &id, now_ms())?;
            let after = codes::reason_code(c, &id)?;
            record(
                c,
                &who,
                "delete",
                "reasonCode",
                &id,
                &before.name,
                Some(&before),
                Some(&after),
            )
        })
        .await?;
    push_reasons(&state).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Wrap-up codes (deleted ones only with `includeDeleted=true`).
#[utoipa::path(
    tag = "wrapup-codes",
    params(CodeListQuery),
    responses((status = 200, body = Vec<WrapupCodeRow>), BadRequest, Unauthenticated),
    security(("bearer" = []))
)]
#[get("/wrapup-codes")]
async fn list_wrapups(
    state: web::Data<AppState>,
    _: AuthUser,
    QueryOf(q): QueryOf<CodeListQuery>,
) -> Result<web::Json<Vec<WrapupCodeRow>>, ApiError> {
    let all = q.include_deleted.unwrap_or(false);
    Ok(web::Json(
        state
            .store
            .read(move |c| codes::wrapup_codes(c, all))
            .await?,
    ))
}

/// One wrap-up code, deleted or not.
#[utoipa::path(
    tag = "wrapup-codes",
    responses((status = 200, body = WrapupCodeRow), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/wrapup-codes/{id}")]
async fn get_wrapup(
    state: web::Data<AppState>,
    _: AuthUser,
    id: web::Path<String>,
) -> Result<web::Json<WrapupCodeRow>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(
        state
            .store
            .read(move |c| codes::wrapup_code(c, &id))
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WrapupCodeBody {
    category_name: String,
    value: String,
}

fn wrapup_row(id: String, b: WrapupCodeBody) -> Result<WrapupCodeRow, ApiError> {
    check_name("categoryName", &b.category_name)?;
    check_name("value", &b.value)?;
    Ok(WrapupCodeRow {
        id,
        category_name: b.category_name,
        value: b.value,
        deleted: false,
    })
}

/// Create a wrap-up code (one deleted under the same category and value comes back).
#[utoipa::path(
    tag = "wrapup-codes",
    request_body = WrapupCodeBody,
    responses((status = 201, body = WrapupCodeRow), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/wrapup-codes")]
async fn create_wrapup(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<WrapupCodeBody>,
) -> Result<HttpResponse, ApiError> {
    let w = wrapup_row(String::new(), body.into_inner()?)?;
    let who = actor(&auth);
    let saved = state
        .store
        .write(move |c| {
            let saved = codes::create_wrapup_code(c, &w.category_name, &w.value)?;
            let name = format!("{}/{}", saved.category_name, saved.value);
            record_created(c, &who, "wrapupCode", &saved.id, &name, &saved)?;
            Ok(saved)
        })
        .await?;
    push_wrapups(&state).await?;
    Ok(HttpResponse::Created().json(saved))
}

/// Edit a wrap-up code.
#[utoipa::path(
    tag = "wrapup-codes",
    request_body = WrapupCodeBody,
    responses((status = 200, body = WrapupCodeRow), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/wrapup-codes/{id}")]
async fn update_wrapup(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<WrapupCodeBody>,
) -> Result<web::Json<WrapupCodeRow>, ApiError> {
    let w = wrapup_row(id.into_inner(), body.into_inner()?)?;
    let who = actor(&auth);
    let saved = state
        .store
        .write(move |c| {
            let before = codes::wrapup_code(c, &w.id)?;
            let saved = codes::update_wrapup_code(c, &w)?;
            let name = format!("{}/{}", saved.category_name, saved.value);
            record_updated(c, &who, "wrapupCode", &w.id, &name, &before, &saved)?;
            Ok(saved)
        })
        .await?;
    push_wrapups(&state).await?;
    Ok(web::Json(saved))
}

/// Delete a wrap-up code (soft: still readable by id).
#[utoipa::path(
    tag = "wrapup-codes",
    responses((status = 204), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[delete("/wrapup-codes/{id}")]
async fn delete_wrapup(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let who = actor(&auth);
    state
        .store
        .write(move |c| {
            let before = codes::delete_wrapup_code(c, &id, now_ms())?;
            let after = codes::wrapup_code(c, &id)?;
            let name = format!("{}/{}", before.category_name, before.value);
            record(
                c,
                &who,
                "delete",
                "wrapupCode",
                &id,
                &name,
                Some(&before),
                Some(&after),
            )
        })
        .await?;
    push_wrapups(&state).await?;
    Ok(HttpResponse::NoContent().finish())
}
