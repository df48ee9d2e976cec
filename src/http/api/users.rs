//! `/api/v1/users`: list (supervisors and admins) and create (admins).

use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::users::{self, NewUser, Role};
use actix_web::{web, HttpResponse};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users", web::get().to(list))
        .route("/users", web::post().to(create));
}

async fn list(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
    let list = state.store.read(users::list_users).await?;
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CreateUser {
    username: String,
    password: String,
    role: Role,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    team_id: Option<String>,
}

async fn create(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: web::Json<CreateUser>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    let body = body.into_inner();
    validate_username(&body.username)?;
    let password = body.password;
    let hash = web::block(move || users::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Validation(e.to_string()))?;
    let user = state
        .store
        .write(move |c| {
            users::create_user(
                c,
                NewUser {
                    username: body.username.clone(),
                    first_name: body.first_name.clone(),
                    last_name: body.last_name.clone(),
                    role: body.role,
                    team_id: body.team_id.clone(),
                    password_hash: hash.clone(),
                },
                now_ms(),
            )
        })
        .await?;
    Ok(HttpResponse::Created().json(user))
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
        Err(ApiError::Validation(
            "username must be 1-64 characters of letters, digits, '.', '_', '-' or '@'".into(),
        ))
    }
}
