//! The caller's own account: login, logout, `/me`, and changing its own password
//! with the old one (every other token of the user is revoked, this one stays).

use super::actor;
use crate::clock::now_ms;
use crate::http::auth::{self, AuthUser, LoginAnswer, LoginRequest};
use crate::http::error::responses::{BadRequest, BodyRefused, Unauthenticated};
use crate::http::error::ApiError;
use crate::http::extract::Body;
use crate::http::AppState;
use crate::sessions::Ended;
use crate::store::audit::{self, Change};
use crate::store::user_admin;
use crate::store::users::{self, User};
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(logout)
        .service(me)
        .service(change_password);
}

/// Sign in: a bearer token for the API and the desk.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginAnswer),
        BadRequest,
        (status = 401, description = "bad_credentials: wrong username or password, or a disabled user", body = crate::http::error::ErrorBody),
        (status = 429, description = "rate_limited: too many failed logins for this username or from this address (`[login]` settings); `Retry-After` says when to try again", body = crate::http::error::ErrorBody),
        BodyRefused
    )
)]
#[post("/auth/login")]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    auth::login(state, &req, web::Json(body.into_inner()?)).await
}

/// Sign out: the token is revoked.
#[utoipa::path(
    tag = "auth",
    responses((status = 204), Unauthenticated),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
async fn logout(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    auth::logout(state, auth).await
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, body = User), Unauthenticated),
    security(("bearer" = []))
)]
#[get("/me")]
async fn me(auth: AuthUser) -> HttpResponse {
    auth::me(auth).await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChangePassword {
    old_password: String,
    /// At least 5 characters.
    new_password: String,
}

/// Change your own password; every other token of yours is revoked.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePassword,
    responses(
        (status = 204),
        BadRequest,
        (status = 401, description = "unauthenticated, or bad_credentials when oldPassword is wrong (field oldPassword)", body = crate::http::error::ErrorBody),
        BodyRefused
    ),
    security(("bearer" = []))
)]
#[put("/me/password")]
async fn change_password(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Body<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner()?;
    let id = auth.user.id.clone();
    let stored = state
        .store
        .read(move |c| user_admin::password_hash(c, &id))
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let old = b.old_password;
    let new = b.new_password;
    let (ok, hash) = web::block(move || {
        (
            users::verify_password(&old, &stored),
            users::hash_password(&new),
        )
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    if !ok {
        return Err(ApiError::BadCredentials);
    }
    let hash = hash.map_err(|e| ApiError::invalid("newPassword", format!("newPassword: {e}")))?;
    let who = actor(&auth);
    let id = auth.user.id.clone();
    let keep = auth.token_hash.clone();
    let name = auth.user.username.clone();
    let (user_id, kept) = (id.clone(), keep.clone());
    state
        .store
        .write(move |c| {
            user_admin::set_password_hash(c, &id, &hash)?;
            user_admin::revoke_sessions(c, &id, Some(&keep), now_ms())?;
            audit::record(
                c,
                &who,
                Change {
                    action: "password_change",
                    entity_type: "user",
                    entity_id: &id,
                    entity_name: &name,
                    before: None,
                    after: None,
                },
                now_ms(),
            )
        })
        .await?;
    // The other tokens are revoked with the password: their sockets close now, not
    // at their next request.
    state
        .sessions
        .end_user_sockets(&user_id, Some(&kept), &Ended::PasswordChanged);
    Ok(HttpResponse::NoContent().finish())
}
