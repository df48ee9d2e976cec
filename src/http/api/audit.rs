//! `GET /api/v1/audit`: the audit log of configuration changes (admins), newest
//! first, filtered and paged.

use crate::http::error::responses::{BadRequest, Forbidden, Unauthenticated};
use crate::http::error::ApiError;
use crate::http::extract::{in_range, Admin, QueryOf};
use crate::http::page::{like_pattern, Page, Window};
use crate::http::AppState;
use crate::store::audit::{self, AuditEntry, AuditFilter};
use actix_web::{get, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// user, team, mrd, routingAttribute, queue, channel, pullList, reasonCode,
    /// wrapupCode, cannedResponse, capacities, attributes.
    entity_type: Option<String>,
    entity_id: Option<String>,
    actor_id: Option<String>,
    /// create, update, delete, disable, enable, password_reset, password_change.
    action: Option<String>,
    /// Epoch ms, inclusive.
    from: Option<i64>,
    /// Epoch ms, inclusive.
    to: Option<i64>,
    /// Case-insensitive search over entity name and actor username.
    q: Option<String>,
    /// 1-500, default 50.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// The audit log, newest first.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), BadRequest, Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/audit")]
async fn list(
    state: web::Data<AppState>,
    _: Admin,
    QueryOf(q): QueryOf<AuditQuery>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let window = Window::new(q.limit, q.offset)?;
    in_range("from", q.from, 0, i64::MAX)?;
    in_range("to", q.to, 0, i64::MAX)?;
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if from > to {
            return Err(ApiError::invalid("from", "from must not be after to"));
        }
    }
    let filter = AuditFilter {
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor_id: q.actor_id,
        action: q.action,
        from: q.from,
        to: q.to,
        like: like_pattern(q.q.as_deref()),
    };
    let (items, total) = state
        .store
        .read(move |c| audit::list(c, &filter, window.limit, window.offset))
        .await?;
    Ok(web::Json(window.page(items, total)))
}
