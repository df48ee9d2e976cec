//! `/api/v1/teams`: teams with members and supervisors. Supervisors read the teams
//! they supervise; admins create, rename, delete (refused while it has members) and
//! set members and supervisors. Membership reaches routing at once.

use super::{actor, check_name, refresh_agent, snapshot};
use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::responses::{
    BadRequest, BodyRefused, Conflict, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, Supervisor};
use crate::http::AppState;
use crate::sessions::Ended;
use crate::store::audit::{self, Actor, Change};
use crate::store::teams::{self, Team};
use crate::store::users::Role;
use crate::store::StoreResult;
use actix_web::{delete, get, post, put, web, HttpResponse};
use rusqlite::Connection;
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(rename)
        .service(remove)
        .service(set_members)
        .service(set_supervisors);
}

fn supervised(auth: &AuthUser) -> Option<Vec<String>> {
    (auth.user.role != Role::Admin).then(|| {
        auth.user
            .supervised_teams
            .iter()
            .map(|t| t.team_id.clone())
            .collect()
    })
}

/// Teams (a supervisor: the ones it supervises).
#[utoipa::path(
    tag = "teams",
    responses((status = 200, body = Vec<Team>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/teams")]
async fn list(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
) -> Result<web::Json<Vec<Team>>, ApiError> {
    let only = supervised(&auth);
    Ok(web::Json(
        state
            .store
            .read(move |c| teams::list(c, only.as_deref()))
            .await?,
    ))
}

/// One team.
#[utoipa::path(
    tag = "teams",
    responses((status = 200, body = Team), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/teams/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    id: web::Path<String>,
) -> Result<web::Json<Team>, ApiError> {
    let id = id.into_inner();
    if supervised(&auth).is_some_and(|s| !s.contains(&id)) {
        return Err(ApiError::NotFound(format!("team {id}")));
    }
    Ok(web::Json(
        state.store.read(move |c| teams::must_get(c, &id)).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    /// 1-100 characters, unique.
    name: String,
}

/// Runs `change` and records it; `change` answers (entity before, entity after).
fn audited(
    c: &Connection,
    who: &Actor,
    action: &str,
    id: &str,
    change: impl FnOnce(&Connection) -> StoreResult<(Option<Team>, Option<Team>)>,
) -> StoreResult<Option<Team>> {
    let (before, after) = change(c)?;
    let name = after
        .as_ref()
        .or(before.as_ref())
        .map(|t| t.name.clone())
        .unwrap_or_default();
    audit::record(
        c,
        who,
        Change {
            action,
            entity_type: "team",
            entity_id: id,
            entity_name: &name,
            before: before.as_ref().and_then(snapshot),
            after: after.as_ref().and_then(snapshot),
        },
        now_ms(),
    )?;
    Ok(after)
}

fn found(team: Option<Team>) -> Result<Team, ApiError> {
    team.ok_or_else(|| ApiError::Internal("team vanished in its own write".into()))
}

/// Create a team.
#[utoipa::path(
    tag = "teams",
    request_body = TeamBody,
    responses((status = 201, body = Team), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/teams")]
async fn create(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<TeamBody>,
) -> Result<HttpResponse, ApiError> {
    let name = body.into_inner()?.name;
    check_name("name", &name)?;
    let who = actor(&auth);
    let team = state
        .store
        .write(move |c| {
            let team = teams::create(c, name.trim(), now_ms())?;
            audited(c, &who, "create", &team.id.clone(), |_| {
                Ok((None, Some(team)))
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(found(team)?))
}

/// Rename a team.
#[utoipa::path(
    tag = "teams",
    request_body = TeamBody,
    responses((status = 200, body = Team), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/teams/{id}")]
async fn rename(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<TeamBody>,
) -> Result<web::Json<Team>, ApiError> {
    let id = id.into_inner();
    let name = body.into_inner()?.name;
    check_name("name", &name)?;
    let who = actor(&auth);
    let team = state
        .store
        .write(move |c| {
            audited(c, &who, "update", &id, |c| {
                let before = teams::must_get(c, &id)?;
                Ok((Some(before), Some(teams::rename(c, &id, name.trim())?)))
            })
        })
        .await?;
    Ok(web::Json(found(team)?))
}

/// Delete a team without members (409 naming them otherwise).
#[utoipa::path(
    tag = "teams",
    responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[delete("/teams/{id}")]
async fn remove(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let who = actor(&auth);
    let deleted = state
        .store
        .write(move |c| {
            let team = teams::delete(c, &id)?;
            audited(c, &who, "delete", &id, |_| Ok((Some(team.clone()), None)))?;
            Ok(team)
        })
        .await?;
    let supervised: Vec<&str> = deleted.supervisors.iter().map(|u| u.id.as_str()).collect();
    end_changed_sockets(&state, &supervised, &[]);
    Ok(HttpResponse::NoContent().finish())
}

/// The supervisors who gained or lost the team: their desks and consoles were
/// allowed what they had at connect, so they connect again.
fn end_changed_sockets(state: &AppState, then: &[&str], now: &[&str]) {
    let changed = then
        .iter()
        .filter(|id| !now.contains(id))
        .chain(now.iter().filter(|id| !then.contains(id)));
    for id in changed {
        state
            .sessions
            .end_user_sockets(id, None, &Ended::RightsChanged);
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserIds {
    user_ids: Vec<String>,
}

/// Set the team's members to exactly these users.
#[utoipa::path(
    tag = "teams",
    request_body = UserIds,
    responses((status = 200, body = Team), BadRequest, Unauthenticated, Forbidden, NotFound, BodyRefused),
    security(("bearer" = []))
)]
#[put("/teams/{id}/members")]
async fn set_members(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<UserIds>,
) -> Result<web::Json<Team>, ApiError> {
    let id = id.into_inner();
    let ids = body.into_inner()?.user_ids;
    let who = actor(&auth);
    let (team, changed) = state
        .store
        .write(move |c| {
            let mut changed = Vec::new();
            let team = audited(c, &who, "update", &id, |c| {
                let before = teams::must_get(c, &id)?;
                changed = teams::set_members(c, &id, &ids)?;
                Ok((Some(before), Some(teams::must_get(c, &id)?)))
            })?;
            Ok((team, changed))
        })
        .await?;
    for user in changed {
        refresh_agent(&state, &user).await?;
    }
    Ok(web::Json(found(team)?))
}

/// Set the team's supervisors to exactly these supervisors or admins.
#[utoipa::path(
    tag = "teams",
    request_body = UserIds,
    responses((status = 200, body = Team), BadRequest, Unauthenticated, Forbidden, NotFound, BodyRefused),
    security(("bearer" = []))
)]
#[put("/teams/{id}/supervisors")]
async fn set_supervisors(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<UserIds>,
) -> Result<web::Json<Team>, ApiError> {
    let id = id.into_inner();
    let ids = body.into_inner()?.user_ids;
    let who = actor(&auth);
    let (team, was) = state
        .store
        .write(move |c| {
            let was = teams::must_get(c, &id)?.supervisors;
            let team = audited(c, &who, "update", &id, |c| {
                let before = teams::must_get(c, &id)?;
                teams::set_supervisors(c, &id, &ids)?;
                Ok((Some(before), Some(teams::must_get(c, &id)?)))
            })?;
            Ok((team, was))
        })
        .await?;
    let team = found(team)?;
    let now: Vec<&str> = team.supervisors.iter().map(|u| u.id.as_str()).collect();
    let then: Vec<&str> = was.iter().map(|u| u.id.as_str()).collect();
    end_changed_sockets(&state, &then, &now);
    Ok(web::Json(team))
}
