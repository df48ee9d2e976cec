//! The one HTTP error type: every failure answers `{code, message}` with its status,
//! plus `field` for a refused value and `blockers` for a refused delete; and the
//! OpenAPI response sets each route lists for the codes it can answer.

use crate::store::{Blocker, StoreError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Validation(String),
    /// A refused value; `field` names it as the client sent it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// A change refused while other entities use this one.
    #[error("{message}")]
    InUse {
        message: String,
        blockers: Vec<Blocker>,
    },
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid username or password")]
    BadCredentials,
    /// Too many attempts; answered 429 with `Retry-After`.
    #[error("too many failed attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The routing engine refused the change: 409 with the refusal's own code
    /// (docs/protocol.md, "Refusal codes").
    #[error("{0}")]
    Refused(crate::routing::RoutingError),
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type: send application/json")]
    UnsupportedMediaType,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

/// What every failure answers.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code: bad_request, invalid_field, unauthenticated,
    /// bad_credentials, rate_limited, forbidden, not_found, conflict, payload_too_large,
    /// unsupported_media_type, unavailable, internal; a 409 from the routing engine
    /// carries its refusal code instead of conflict (unknown_agent, not_waiting, ...:
    /// docs/protocol.md, "Refusal codes").
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The refused field (`name`, `routingPolicy.routingObjectId`, `steps[1].expression`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What blocks a refused delete (409 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blockers: Vec<Blocker>,
}

impl ApiError {
    /// The stable machine-readable code clients match on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Validation(_) | ApiError::Invalid { .. } => "invalid_field",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) | ApiError::InUse { .. } => "conflict",
            ApiError::Refused(e) => e.code(),
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::Validation(_) | ApiError::Invalid { .. } => {
                StatusCode::BAD_REQUEST
            }
            ApiError::Unauthenticated | ApiError::BadCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::InUse { .. } | ApiError::Refused(_) => {
                StatusCode::CONFLICT
            }
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            tracing::error!(%detail, "internal error answered with 500");
        }
        let mut resp = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthenticated) {
            resp.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let ApiError::RateLimited { retry_after_secs } = self {
            resp.insert_header(("Retry-After", retry_after_secs.to_string()));
        }
        let (field, blockers) = match self {
            ApiError::Invalid { field, .. } => (Some(field.clone()), Vec::new()),
            ApiError::InUse { blockers, .. } => (None, blockers.clone()),
            _ => (None, Vec::new()),
        };
        resp.json(ErrorBody {
            code: self.code().to_string(),
            message: self.to_string(),
            field,
            blockers,
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::Closed => ApiError::Unavailable("store is shutting down".into()),
            StoreError::Invalid { field, message } => ApiError::Invalid { field, message },
            StoreError::InUse { message, blockers } => ApiError::InUse { message, blockers },
            StoreError::NotDurable | StoreError::NotCommitted => {
                ApiError::Unavailable(e.to_string())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    /// A refused value of `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// OpenAPI response sets: each route lists the ones it can answer.
pub mod responses {
    use super::ErrorBody;

    /// 400: malformed body or query, or a refused value (`field` names it).
    #[derive(utoipa::IntoResponses)]
    #[response(
        status = 400,
        description = "bad_request (malformed JSON, unknown query parameter) or invalid_field (`field` names the refused value)"
    )]
    #[allow(dead_code)]
    pub struct BadRequest(ErrorBody);

    /// 401: no, unknown, revoked or expired token.
    #[derive(utoipa::IntoResponses)]
    #[response(
        status = 401,
        description = "unauthenticated: no, unknown, revoked or expired bearer token"
    )]
    #[allow(dead_code)]
    pub struct Unauthenticated(ErrorBody);

    /// 403: the caller's role or team scope does not allow it.
    #[derive(utoipa::IntoResponses)]
    #[response(
        status = 403,
        description = "forbidden: the caller's role (or team scope) does not allow it; checked before the body is read"
    )]
    #[allow(dead_code)]
    pub struct Forbidden(ErrorBody);

    /// 404: the entity or a referenced one does not exist.
    #[derive(utoipa::IntoResponses)]
    #[response(
        status = 404,
        description = "not_found: the entity (or one the body references) does not exist"
    )]
    #[allow(dead_code)]
    pub struct NotFound(ErrorBody);

    /// 409: duplicate, in use (`blockers`), a self-lockout, or a routing refusal.
    #[derive(utoipa::IntoResponses)]
    #[response(
        status = 409,
        description = "conflict: a duplicate name, a change refused while others use the entity (`blockers` names them), or an action that would lock the site out; or a routing engine refusal with its own code (unknown_agent, not_logged_in, ...: docs/protocol.md, \"Refusal codes\")"
    )]
    #[allow(dead_code)]
    pub struct Conflict(ErrorBody);

    /// 413 and 415: the body is too large or not JSON.
    #[derive(utoipa::IntoResponses)]
    pub enum BodyRefused {
        #[response(status = 413, description = "payload_too_large")]
        TooLarge(ErrorBody),
        #[response(
            status = 415,
            description = "unsupported_media_type: send application/json"
        )]
        NotJson(ErrorBody),
    }
}

/// Maps actix's JSON extractor failures to clear `{code, message}` answers.
pub fn json_error(err: actix_web::error::JsonPayloadError, limit: usize) -> ApiError {
    use actix_web::error::JsonPayloadError as J;
    match err {
        J::OverflowKnownLength { .. } | J::Overflow { .. } => ApiError::PayloadTooLarge { limit },
        J::ContentType => ApiError::UnsupportedMediaType,
        J::Deserialize(e) => {
            if e.is_data() {
                ApiError::Validation(format!("invalid request body: {e}"))
            } else {
                ApiError::BadRequest(format!("malformed JSON: {e}"))
            }
        }
        other => ApiError::BadRequest(format!("cannot read request body: {other}")),
    }
}
