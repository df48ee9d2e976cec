//! Login, logout and the bearer-token extractor with role checks.

use super::client_addr::ClientAddr;
use super::error::ApiError;
use super::AppState;
use crate::clock::now_ms;
use crate::store::users::{self, Role, User};
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// The authenticated caller of a `/api/v1` route.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub token_hash: String,
}

impl AuthUser {
    /// Refuses callers below `role` (admin > supervisor > agent).
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this action needs the {role} role"
            )))
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get("Authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Resolves a raw token to its live user.
pub async fn user_for_token(state: &AppState, token: &str) -> Result<Option<User>, ApiError> {
    let digest = users::token_digest(token);
    Ok(state
        .store
        .read(move |c| users::user_for_token(c, &digest, now_ms()))
        .await?)
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("app state missing".into()))?;
            let token = token.ok_or(ApiError::Unauthenticated)?;
            let user = user_for_token(&state, &token)
                .await?
                .ok_or(ApiError::Unauthenticated)?;
            Ok(AuthUser {
                user,
                token_hash: users::token_digest(&token),
            })
        })
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
    password: String,
}

/// A successful login.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginAnswer {
    /// The bearer token for `Authorization: Bearer <token>` and the desk handshake.
    pub token: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub user: User,
}

/// Signs in, within the login limit (see `login_limit`): only failures count.
pub async fn login(
    state: web::Data<AppState>,
    req: &HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.into_inner();
    if username.is_empty() || password.is_empty() {
        return Err(ApiError::Validation(
            "username and password are required".into(),
        ));
    }
    let trusted = state.metrics_access.trusted_proxies();
    let client = ClientAddr::of(req, trusted);
    let attempt = state
        .login_limiter
        .begin(&username, client, trusted, now_ms())
        .map_err(|retry_ms| {
            tracing::warn!(ip = %client.ip, "login refused: too many failed logins");
            ApiError::RateLimited {
                retry_after_secs: retry_ms.div_ceil(1000).max(1),
            }
        })?;
    let found = state
        .store
        .read(move |c| users::find_for_login(c, &username))
        .await?;
    // Verify against a dummy hash for unknown users so timing does not reveal them.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, DUMMY_HASH.to_string()),
    };
    let ok = web::block(move || users::verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        _ => {
            state.login_limiter.failed(attempt, now_ms());
            return Err(ApiError::BadCredentials);
        }
    };
    let (token, digest) = users::new_token();
    let ttl = (state.config.http.token_ttl_secs as i64).saturating_mul(1000);
    let user_id = user.id.clone();
    state
        .store
        .write(move |c| users::create_session(c, &user_id, &digest, now_ms(), ttl))
        .await?;
    Ok(HttpResponse::Ok().json(LoginAnswer {
        token,
        expires_in: state.config.http.token_ttl_secs,
        user,
    }))
}

/// An argon2 hash of a random string, verified against when the user is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0X2ba7mvhd2U1ZIjfUsnAHw2VQoE3tqoQnYwLA9cK4o";

pub async fn logout(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    // The token is revoked, then every socket opened with it is told and closed.
    state
        .sessions
        .revoke_token(&auth.token_hash, crate::sessions::Ended::LoggedOut)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn me(auth: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(auth.user)
}
