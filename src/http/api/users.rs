//! `/api/v1/users`: paged search (supervisors see their teams), create, edit,
//! disable/enable, admin password reset and delete (admins). Disabling or resetting
//! a user revokes its tokens, logs it out of routing and closes its desk at once.

use super::{actor, check_len, refresh_agent, snapshot};
use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::responses::{
    BadRequest, BodyRefused, Conflict, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, QueryOf, Supervisor};
use crate::http::page::{like_pattern, Page, Window};
use crate::http::AppState;
use crate::sessions::Ended;
use crate::store::audit::{self, Change};
use crate::store::user_admin::{self, UserEdit, UserFilter};
use crate::store::users::{self, NewUser, Role, User};
use crate::store::StoreError;
use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(disable)
        .service(enable)
        .service(reset_password)
        .service(remove);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UserListQuery {
    /// Case-insensitive search over username, first and last name.
    q: Option<String>,
    role: Option<Role>,
    team_id: Option<String>,
    disabled: Option<bool>,
    /// 1-500, default 50.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// The teams a supervisor may see users of (`None`: an admin sees all).
fn scope_of(auth: &AuthUser) -> Option<(String, Vec<String>)> {
    (auth.user.role != Role::Admin).then(|| {
        (
            auth.user.id.clone(),
            auth.user
                .supervised_teams
                .iter()
                .map(|t| t.team_id.clone())
                .collect(),
        )
    })
}

/// List users, one page at a time.
#[utoipa::path(
    tag = "users",
    params(UserListQuery),
    responses((status = 200, body = Page<User>), BadRequest, Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/users")]
async fn list(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    QueryOf(q): QueryOf<UserListQuery>,
) -> Result<web::Json<Page<User>>, ApiError> {
    let window = Window::new(q.limit, q.offset)?;
    let filter = UserFilter {
        like: like_pattern(q.q.as_deref()),
        role: q.role,
        team_id: q.team_id,
        disabled: q.disabled,
        scope: scope_of(&auth),
    };
    let (items, total) = state
        .store
        .read(move |c| user_admin::page(c, &filter, window.limit, window.offset))
        .await?;
    Ok(web::Json(window.page(items, total)))
}

/// The user, if the caller may see it (a supervisor: itself and its teams' members).
pub(crate) async fn visible_user(
    state: &AppState,
    auth: &AuthUser,
    id: String,
) -> Result<User, ApiError> {
    let not_found = ApiError::NotFound(format!("user {id}"));
    let user = state
        .store
        .read(move |c| users::get_user(c, &id))
        .await?
        .ok_or(not_found)?;
    match scope_of(auth) {
        Some((me, teams))
            if user.id != me && !user.team_id.as_ref().is_some_and(|t| teams.contains(t)) =>
        {
            Err(ApiError::NotFound(format!("user {}", user.id)))
        }
        _ => Ok(user),
    }
}

/// One user.
#[utoipa::path(
    tag = "users",
    responses((status = 200, body = User), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    id: web::Path<String>,
) -> Result<web::Json<User>, ApiError> {
    Ok(web::Json(
        visible_user(&state, &auth, id.into_inner()).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateUser {
    /// 1-64 of letters, digits, `.`, `_`, `-`, `@`.
    username: String,
    /// At least 5 characters.
    password: String,
    role: Role,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    team_id: Option<String>,
    /// Teams a supervisor or admin supervises.
    #[serde(default)]
    supervised_team_ids: Vec<String>,
}

fn check_person(first: &str, last: &str) -> Result<(), ApiError> {
    check_len("firstName", first, 100)?;
    check_len("lastName", last, 100)
}

async fn hash(password: String, field: &'static str) -> Result<String, ApiError> {
    web::block(move || users::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::invalid(field, format!("{field}: {e}")))
}

/// Create a user (agents join routing at once).
#[utoipa::path(
    tag = "users",
    request_body = CreateUser,
    responses((status = 201, body = User), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/users")]
async fn create(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    validate_username(&b.username)?;
    check_person(&b.first_name, &b.last_name)?;
    let hash = hash(b.password, "password").await?;
    let who = actor(&auth);
    let user = state
        .store
        .write(move |c| {
            let edit = UserEdit {
                first_name: b.first_name.clone(),
                last_name: b.last_name.clone(),
                role: b.role,
                team_id: b.team_id.clone(),
                supervised_team_ids: b.supervised_team_ids.clone(),
            };
            user_admin::check_teams(c, &edit)?;
            let user = users::create_user(
                c,
                NewUser {
                    username: b.username.clone(),
                    first_name: b.first_name.clone(),
                    last_name: b.last_name.clone(),
                    role: b.role,
                    team_id: b.team_id.clone(),
                    password_hash: hash.clone(),
                },
                now_ms(),
            )?;
            user_admin::set_supervised(c, &user.id, &b.supervised_team_ids)?;
            let user = users::get_user(c, &user.id)?
                .ok_or_else(|| StoreError::NotFound(format!("user {}", user.id)))?;
            audit::record(
                c,
                &who,
                Change {
                    action: "create",
                    entity_type: "user",
                    entity_id: &user.id,
                    entity_name: &user.username,
                    before: None,
                    after: snapshot(&user),
                },
                now_ms(),
            )?;
            Ok(user)
        })
        .await?;
    refresh_agent(&state, &user.id).await?;
    Ok(HttpResponse::Created().json(user))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateUser {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    role: Role,
    /// `null` or absent: no team.
    #[serde(default)]
    team_id: Option<String>,
    #[serde(default)]
    supervised_team_ids: Vec<String>,
}

/// Refuses an action that would leave the site without an enabled admin.
fn keep_an_admin(c: &rusqlite::Connection, target: &User) -> Result<(), StoreError> {
    if target.role == Role::Admin
        && !target.disabled
        && user_admin::other_enabled_admins(c, &target.id)? == 0
    {
        return Err(StoreError::Conflict(format!(
            "{} is the last enabled admin; the site would have no admin left",
            target.username
        )));
    }
    Ok(())
}

fn not_self(auth: &AuthUser, id: &str, what: &str) -> Result<(), ApiError> {
    if auth.user.id == id {
        return Err(ApiError::Conflict(format!("you cannot {what} yourself")));
    }
    Ok(())
}

/// Edit a user's names, role, team and supervised teams (the username never changes).
///
/// The body replaces the whole record, as on create: a field left out takes its
/// default (empty, unset or the documented default), not its current value.
#[utoipa::path(
    tag = "users",
    request_body = UpdateUser,
    responses((status = 200, body = User), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/users/{id}")]
async fn update(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<UpdateUser>,
) -> Result<web::Json<User>, ApiError> {
    let id = id.into_inner();
    let b = body.into_inner()?;
    check_person(&b.first_name, &b.last_name)?;
    if b.role != Role::Admin {
        not_self(&auth, &id, "demote")?;
    }
    let who = actor(&auth);
    let uid = id.clone();
    let user = state
        .store
        .write(move |c| {
            let before = users::get_user(c, &uid)?
                .ok_or_else(|| StoreError::NotFound(format!("user {uid}")))?;
            if b.role != Role::Admin {
                keep_an_admin(c, &before)?;
            }
            let after = user_admin::update(
                c,
                &uid,
                &UserEdit {
                    first_name: b.first_name.clone(),
                    last_name: b.last_name.clone(),
                    role: b.role,
                    team_id: b.team_id.clone(),
                    supervised_team_ids: b.supervised_team_ids.clone(),
                },
            )?;
            audit::record(
                c,
                &who,
                Change {
                    action: "update",
                    entity_type: "user",
                    entity_id: &uid,
                    entity_name: &after.username,
                    before: snapshot(&before),
                    after: snapshot(&after),
                },
                now_ms(),
            )?;
            Ok((before, after))
        })
        .await?;
    let (before, user) = user;
    refresh_agent(&state, &id).await?;
    if before.role != user.role || before.supervised_teams != user.supervised_teams {
        // A desk or console checks what its user may do against what it was at
        // connect: it connects again to be checked against this.
        state
            .sessions
            .end_user_sockets(&id, None, &Ended::RightsChanged);
    }
    Ok(web::Json(user))
}

/// Ends everything a user has open: it leaves routing (its tasks re-routed), then
/// every session ends at once through [`crate::sessions::Sessions::revoke_user`]: all its tokens
/// revoked and every socket opened with them (desk and supervisor console) told `why`
/// and closed.
async fn cut_off(state: &AppState, user_id: &str, why: Ended) -> Result<(), ApiError> {
    refresh_agent(state, user_id).await?;
    state.sessions.revoke_user(user_id, why).await?;
    Ok(())
}

async fn set_disabled(
    state: &AppState,
    auth: &AuthUser,
    id: String,
    disabled: bool,
) -> Result<User, ApiError> {
    let who = actor(auth);
    let uid = id.clone();
    let user = state
        .store
        .write(move |c| {
            let before = users::get_user(c, &uid)?
                .ok_or_else(|| StoreError::NotFound(format!("user {uid}")))?;
            if disabled {
                keep_an_admin(c, &before)?;
            }
            let after = user_admin::set_disabled(c, &uid, disabled)?;
            if disabled {
                user_admin::revoke_sessions(c, &uid, None, now_ms())?;
            }
            audit::record(
                c,
                &who,
                Change {
                    action: if disabled { "disable" } else { "enable" },
                    entity_type: "user",
                    entity_id: &uid,
                    entity_name: &after.username,
                    before: snapshot(&before),
                    after: snapshot(&after),
                },
                now_ms(),
            )?;
            Ok(after)
        })
        .await?;
    if disabled {
        cut_off(state, &id, Ended::UserDisabled).await?;
    } else {
        refresh_agent(state, &id).await?;
    }
    Ok(user)
}

/// Disable a user: tokens revoked, desk closed, out of routing; history stays.
#[utoipa::path(
    tag = "users",
    responses((status = 200, body = User), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/users/{id}/disable")]
async fn disable(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<web::Json<User>, ApiError> {
    let id = id.into_inner();
    not_self(&auth, &id, "disable")?;
    Ok(web::Json(set_disabled(&state, &auth, id, true).await?))
}

/// Enable a disabled user.
#[utoipa::path(
    tag = "users",
    responses((status = 200, body = User), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[post("/users/{id}/enable")]
async fn enable(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<web::Json<User>, ApiError> {
    Ok(web::Json(
        set_disabled(&state, &auth, id.into_inner(), false).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    /// The new password, at least 5 characters.
    password: String,
}

/// Set a user's password (admin reset): every token of that user is revoked.
#[utoipa::path(
    tag = "users",
    request_body = ResetPassword,
    responses((status = 204), BadRequest, Unauthenticated, Forbidden, NotFound, BodyRefused),
    security(("bearer" = []))
)]
#[post("/users/{id}/password")]
async fn reset_password(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<ResetPassword>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let hash = hash(body.into_inner()?.password, "password").await?;
    let who = actor(&auth);
    let uid = id.clone();
    state
        .store
        .write(move |c| {
            let user = users::get_user(c, &uid)?
                .ok_or_else(|| StoreError::NotFound(format!("user {uid}")))?;
            user_admin::set_password_hash(c, &uid, &hash)?;
            user_admin::revoke_sessions(c, &uid, None, now_ms())?;
            audit::record(
                c,
                &who,
                Change {
                    action: "password_reset",
                    entity_type: "user",
                    entity_id: &uid,
                    entity_name: &user.username,
                    before: None,
                    after: None,
                },
                now_ms(),
            )
        })
        .await?;
    // Every token and socket of the user, desk and console, ends now.
    state
        .sessions
        .revoke_user(&id, Ended::PasswordChanged)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Delete a user; one with history is disabled instead (200 with the user).
#[utoipa::path(
    tag = "users",
    responses(
        (status = 204, description = "deleted"),
        (status = 200, description = "the user has history: disabled instead", body = User),
        Unauthenticated, Forbidden, NotFound, Conflict
    ),
    security(("bearer" = []))
)]
#[delete("/users/{id}")]
async fn remove(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    not_self(&auth, &id, "delete")?;
    let uid = id.clone();
    let history = state
        .store
        .read(move |c| user_admin::has_history(c, &uid))
        .await?;
    if history {
        let user = set_disabled(&state, &auth, id, true).await?;
        return Ok(HttpResponse::Ok().json(user));
    }
    let who = actor(&auth);
    let uid = id.clone();
    state
        .store
        .write(move |c| {
            let before = users::get_user(c, &uid)?
                .ok_or_else(|| StoreError::NotFound(format!("user {uid}")))?;
            keep_an_admin(c, &before)?;
            user_admin::delete(c, &uid)?;
            audit::record(
                c,
                &who,
                Change {
                    action: "delete",
                    entity_type: "user",
                    entity_id: &uid,
                    entity_name: &before.username,
                    before: snapshot(&before),
                    after: None,
                },
                now_ms(),
            )
        })
        .await?;
    cut_off(&state, &id, Ended::Revoked).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Usernames are 1..64 characters of letters, digits, `.`, `_`, `-` and `@`.
pub fn validate_username(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "username",
            "username must be 1-64 characters of letters, digits, '.', '_', '-' or '@'",
        ))
    }
}
