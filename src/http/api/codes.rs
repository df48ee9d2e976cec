//! `/api/v1/reason-codes` and `/api/v1/wrapup-codes`: anyone signed in reads them
//! (desks offer them); admins create, edit and delete. A delete is soft: the code is
//! no longer offered but stays readable by id, as history names it. After each change
//! every connected desk receives the new list (`onReasonCodes` / `onWrapupCodes`).

use super::crud::{self, Audited};
use super::{check_len, check_name};
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
use crate::store::StoreResult;
use actix_web::{delete, get, post, put, web, HttpResponse};
use rusqlite::Connection;
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

impl Audited for ReasonCodeRow {
    const KIND: &'static str = "reasonCode";
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn audit_name(&self) -> String {
        self.name.clone()
    }
}

impl Audited for WrapupCodeRow {
    const KIND: &'static str = "wrapupCode";
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn audit_name(&self) -> String {
        format!("{}/{}", self.category_name, self.value)
    }
}

/// What differs between reason codes and wrap-up codes; the handlers below are the
/// same for both.
trait CodeKind: 'static {
    type Row: Audited + Clone + Sync;
    /// The desk event that carries the list in use after a change.
    const EVENT: &'static str;
    fn list(c: &Connection, include_deleted: bool) -> StoreResult<Vec<Self::Row>>;
    fn get(c: &Connection, id: &str) -> StoreResult<Self::Row>;
    fn create(c: &Connection, row: &Self::Row) -> StoreResult<Self::Row>;
    fn update(c: &Connection, row: &Self::Row) -> StoreResult<Self::Row>;
    fn delete(c: &Connection, id: &str, now: i64) -> StoreResult<Self::Row>;
}

struct Reasons;
struct Wrapups;

impl CodeKind for Reasons {
    type Row = ReasonCodeRow;
    const EVENT: &'static str = "onReasonCodes";
    fn list(c: &Connection, include_deleted: bool) -> StoreResult<Vec<ReasonCodeRow>> {
        codes::reason_codes(c, include_deleted)
    }
    fn get(c: &Connection, id: &str) -> StoreResult<ReasonCodeRow> {
        codes::reason_code(c, id)
    }
    fn create(c: &Connection, r: &ReasonCodeRow) -> StoreResult<ReasonCodeRow> {
        codes::create_reason_code(c, &r.name, &r.kind, &r.description)
    }
    fn update(c: &Connection, r: &ReasonCodeRow) -> StoreResult<ReasonCodeRow> {
        codes::update_reason_code(c, r)
    }
    fn delete(c: &Connection, id: &str, now: i64) -> StoreResult<ReasonCodeRow> {
        codes::delete_reason_code(c, id, now)
    }
}

impl CodeKind for Wrapups {
    type Row = WrapupCodeRow;
    const EVENT: &'static str = "onWrapupCodes";
    fn list(c: &Connection, include_deleted: bool) -> StoreResult<Vec<WrapupCodeRow>> {
        codes::wrapup_codes(c, include_deleted)
    }
    fn get(c: &Connection, id: &str) -> StoreResult<WrapupCodeRow> {
        codes::wrapup_code(c, id)
    }
    fn create(c: &Connection, w: &WrapupCodeRow) -> StoreResult<WrapupCodeRow> {
        codes::create_wrapup_code(c, &w.category_name, &w.value)
    }
    fn update(c: &Connection, w: &WrapupCodeRow) -> StoreResult<WrapupCodeRow> {
        codes::update_wrapup_code(c, w)
    }
    fn delete(c: &Connection, id: &str, now: i64) -> StoreResult<WrapupCodeRow> {
        codes::delete_wrapup_code(c, id, now)
    }
}

/// Pushes the codes in use to every desk.
async fn push<K: CodeKind>(state: &AppState) -> Result<(), ApiError> {
    let list = state.store.read(|c| K::list(c, false)).await?;
    state
        .agents
        .broadcast(K::EVENT, serde_json::to_value(list).unwrap_or_default());
    Ok(())
}

async fn list_of<K: CodeKind>(
    state: &AppState,
    q: CodeListQuery,
) -> Result<web::Json<Vec<K::Row>>, ApiError> {
    let all = q.include_deleted.unwrap_or(false);
    crud::read(state, move |c| K::list(c, all)).await
}

async fn get_of<K: CodeKind>(state: &AppState, id: String) -> Result<web::Json<K::Row>, ApiError> {
    crud::read(state, move |c| K::get(c, &id)).await
}

async fn create_of<K: CodeKind>(
    state: &AppState,
    auth: &AuthUser,
    row: K::Row,
) -> Result<HttpResponse, ApiError> {
    let (saved, ()) = crud::created(state, auth, move |c| Ok((K::create(c, &row)?, ()))).await?;
    push::<K>(state).await?;
    Ok(HttpResponse::Created().json(saved))
}

async fn update_of<K: CodeKind>(
    state: &AppState,
    auth: &AuthUser,
    row: K::Row,
) -> Result<web::Json<K::Row>, ApiError> {
    let id = row.audit_id().to_string();
    let (saved, ()) = crud::updated(state, auth, id, K::get, move |c, _| {
        Ok((K::update(c, &row)?, ()))
    })
    .await?;
    push::<K>(state).await?;
    Ok(web::Json(saved))
}

/// Soft: the code stays readable by id (history names it).
async fn delete_of<K: CodeKind>(
    state: &AppState,
    auth: &AuthUser,
    id: String,
) -> Result<HttpResponse, ApiError> {
    crud::deleted(state, auth, move |c| {
        let before = K::delete(c, &id, now_ms())?;
        Ok((before, Some(K::get(c, &id)?), ()))
    })
    .await?;
    push::<K>(state).await?;
    Ok(HttpResponse::NoContent().finish())
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
    list_of::<Reasons>(&state, q).await
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
    get_of::<Reasons>(&state, id.into_inner()).await
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
    let row = reason_row(String::new(), body.into_inner()?)?;
    create_of::<Reasons>(&state, &auth, row).await
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
    let row = reason_row(id.into_inner(), body.into_inner()?)?;
    update_of::<Reasons>(&state, &auth, row).await
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
    delete_of::<Reasons>(&state, &auth, id.into_inner()).await
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
    list_of::<Wrapups>(&state, q).await
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
    get_of::<Wrapups>(&state, id.into_inner()).await
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
    let row = wrapup_row(String::new(), body.into_inner()?)?;
    create_of::<Wrapups>(&state, &auth, row).await
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
    let row = wrapup_row(id.into_inner(), body.into_inner()?)?;
    update_of::<Wrapups>(&state, &auth, row).await
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
    delete_of::<Wrapups>(&state, &auth, id.into_inner()).await
}
