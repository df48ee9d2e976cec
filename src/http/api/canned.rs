//! `/api/v1/canned-responses`: prepared replies (shortcut, text, optional team).
//! Anyone signed in reads them (an agent: site-wide ones and its team's); admins
//! create, edit and delete.

use super::crud::{self, Audited};
use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::responses::{
    BadRequest, BodyRefused, Conflict, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, QueryOf};
use crate::http::page::like_pattern;
use crate::http::AppState;
use crate::store::codes::{self, CannedResponse};
use crate::store::users::Role;
use crate::store::StoreResult;
use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

impl Audited for CannedResponse {
    const KIND: &'static str = "cannedResponse";
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn audit_name(&self) -> String {
        self.shortcut.clone()
    }
}

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(remove);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct CannedListQuery {
    /// Only this team's responses and the site-wide ones.
    team_id: Option<String>,
    /// Case-insensitive search over shortcut and text.
    q: Option<String>,
}

/// The teams whose responses `auth` may read (`None`: all).
fn readable_teams(auth: &AuthUser) -> Option<Vec<String>> {
    match auth.user.role {
        Role::Admin => None,
        Role::Supervisor => Some(
            auth.user
                .supervised_teams
                .iter()
                .map(|t| t.team_id.clone())
                .chain(auth.user.team_id.clone())
                .collect(),
        ),
        Role::Agent => Some(auth.user.team_id.iter().cloned().collect()),
    }
}

/// Canned responses the caller may use.
#[utoipa::path(
    tag = "canned-responses",
    params(CannedListQuery),
    responses((status = 200, body = Vec<CannedResponse>), BadRequest, Unauthenticated),
    security(("bearer" = []))
)]
#[get("/canned-responses")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    QueryOf(q): QueryOf<CannedListQuery>,
) -> Result<web::Json<Vec<CannedResponse>>, ApiError> {
    let teams = match (readable_teams(&auth), q.team_id) {
        (None, None) => None,
        (None, Some(t)) => Some(vec![t]),
        (Some(mine), None) => Some(mine),
        (Some(mine), Some(t)) => Some(mine.into_iter().filter(|m| *m == t).collect()),
    };
    let like = like_pattern(q.q.as_deref());
    crud::read(&state, move |c| {
        codes::canned_responses(c, teams.as_deref(), like.as_deref())
    })
    .await
}

/// One canned response.
#[utoipa::path(
    tag = "canned-responses",
    responses((status = 200, body = CannedResponse), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/canned-responses/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<web::Json<CannedResponse>, ApiError> {
    let id = id.into_inner();
    let found = state
        .store
        .read(move |c| codes::canned_response(c, &id))
        .await?;
    let allowed = match (readable_teams(&auth), &found.team_id) {
        (None, _) | (_, None) => true,
        (Some(mine), Some(t)) => mine.contains(t),
    };
    if !allowed {
        return Err(ApiError::NotFound(format!("canned response {}", found.id)));
    }
    Ok(web::Json(found))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CannedBody {
    /// 1-32 letters, digits, `_` and `-`; unique per team (and among site-wide ones).
    shortcut: String,
    /// 1-4000 characters.
    text: String,
    /// Absent or null: site-wide.
    #[serde(default)]
    team_id: Option<String>,
}

fn canned(id: String, b: CannedBody) -> Result<CannedResponse, ApiError> {
    let ok = !b.shortcut.is_empty()
        && b.shortcut.len() <= 32
        && b.shortcut
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !ok {
        return Err(ApiError::invalid(
            "shortcut",
            "shortcut must be 1-32 letters, digits, '_' or '-'",
        ));
    }
    if b.text.trim().is_empty() || b.text.chars().count() > 4000 {
        return Err(ApiError::invalid("text", "text must be 1-4000 characters"));
    }
    Ok(CannedResponse {
        id,
        shortcut: b.shortcut,
        text: b.text,
        team_id: b.team_id,
    })
}

/// Creates (no id yet) or updates a canned response.
async fn save(
    state: &AppState,
    auth: &AuthUser,
    c: CannedResponse,
) -> Result<CannedResponse, ApiError> {
    let id = (!c.id.is_empty()).then(|| c.id.clone());
    let write = move |conn: &rusqlite::Connection| -> StoreResult<(CannedResponse, ())> {
        Ok((codes::save_canned_response(conn, &c, now_ms())?, ()))
    };
    let (saved, ()) = match id {
        None => crud::created(state, auth, write).await?,
        Some(id) => {
            crud::updated(state, auth, id, codes::canned_response, move |conn, _| {
                write(conn)
            })
            .await?
        }
    };
    Ok(saved)
}

/// Create a canned response.
#[utoipa::path(
    tag = "canned-responses",
    request_body = CannedBody,
    responses((status = 201, body = CannedResponse), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/canned-responses")]
async fn create(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<CannedBody>,
) -> Result<HttpResponse, ApiError> {
    let c = canned(String::new(), body.into_inner()?)?;
    Ok(HttpResponse::Created().json(save(&state, &auth, c).await?))
}

/// Edit a canned response.
#[utoipa::path(
    tag = "canned-responses",
    request_body = CannedBody,
    responses((status = 200, body = CannedResponse), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/canned-responses/{id}")]
async fn update(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<CannedBody>,
) -> Result<web::Json<CannedResponse>, ApiError> {
    let c = canned(id.into_inner(), body.into_inner()?)?;
    Ok(web::Json(save(&state, &auth, c).await?))
}

/// Delete a canned response.
#[utoipa::path(
    tag = "canned-responses",
    responses((status = 204), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[delete("/canned-responses/{id}")]
async fn remove(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    crud::deleted(&state, &auth, move |c| {
        Ok((codes::delete_canned_response(c, &id)?, None, ()))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
