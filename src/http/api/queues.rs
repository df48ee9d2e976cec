//! `/api/v1/queues`: queues with their steps. Anyone signed in reads them (paged);
//! admins create, edit and delete (refused while a channel or pull list routes to the
//! queue, or it has open tasks), and check a step expression as they type. Each change
//! reaches the routing engine at once.

use super::{actor, apply, check_name, record, record_deleted};
use crate::clock::now_ms;
use crate::http::auth::AuthUser;
use crate::http::error::responses::{
    BadRequest, BodyRefused, Conflict, Forbidden, NotFound, Unauthenticated,
};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, Body, QueryOf};
use crate::http::page::{like_pattern, Page, Window};
use crate::http::AppState;
use crate::routing::{expr::Expr, loader, Input};
use crate::store::directory::{self, QueueRow, QueueStepRow};
use crate::store::{routing_admin, StoreError};
use actix_web::{delete, get, post, put, web, HttpResponse};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(check_expression)
        .service(list)
        .service(get_one)
        .service(create)
        .service(update)
        .service(remove);
}

/// A queue as the API shows it: every stored field plus the accept timeout in force.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    #[serde(flatten)]
    pub queue: QueueRow,
    /// `acceptTimeoutSecs`, or the engine default (`routing.accept_timeout_secs`) when null.
    pub effective_accept_timeout_secs: i64,
}

fn view(state: &AppState, queue: QueueRow) -> Queue {
    let default = state.config.routing.accept_timeout_secs as i64;
    Queue {
        effective_accept_timeout_secs: queue.accept_timeout_secs.unwrap_or(default),
        queue,
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct QueueListQuery {
    /// Case-insensitive search over the name.
    q: Option<String>,
    mrd_id: Option<String>,
    /// 1-500, default 50.
    limit: Option<i64>,
    /// Default 0.
    offset: Option<i64>,
}

/// List queues, one page at a time.
#[utoipa::path(
    tag = "queues",
    params(QueueListQuery),
    responses((status = 200, body = Page<Queue>), BadRequest, Unauthenticated),
    security(("bearer" = []))
)]
#[get("/queues")]
async fn list(
    state: web::Data<AppState>,
    _: AuthUser,
    QueryOf(q): QueryOf<QueueListQuery>,
) -> Result<web::Json<Page<Queue>>, ApiError> {
    let window = Window::new(q.limit, q.offset)?;
    let like = like_pattern(q.q.as_deref());
    let (rows, total) = state
        .store
        .read(move |c| {
            routing_admin::queue_page(
                c,
                like.as_deref(),
                q.mrd_id.as_deref(),
                window.limit,
                window.offset,
            )
        })
        .await?;
    let items = rows.into_iter().map(|r| view(&state, r)).collect();
    Ok(web::Json(window.page(items, total)))
}

/// One queue.
#[utoipa::path(
    tag = "queues",
    responses((status = 200, body = Queue), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/queues/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    _: AuthUser,
    id: web::Path<String>,
) -> Result<web::Json<Queue>, ApiError> {
    let id = id.into_inner();
    let row = state
        .store
        .read(move |c| routing_admin::get_queue(c, &id))
        .await?;
    Ok(web::Json(view(&state, row)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StepBody {
    /// Empty: every agent. See `POST /queues/check-expression`.
    #[serde(default)]
    expression: String,
    /// Seconds before the next step; the last step waits forever.
    timeout_secs: i64,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct QueueBody {
    name: String,
    mrd_id: String,
    /// 1-10, default 1.
    #[serde(default = "one")]
    #[schema(default = 1, minimum = 1, maximum = 10)]
    priority: u8,
    /// Absent or null: the engine's default (routing.accept_timeout_secs).
    #[serde(default)]
    accept_timeout_secs: Option<i64>,
    /// 0-86400 seconds.
    #[serde(default = "sixty")]
    #[schema(default = 60, minimum = 0, maximum = 86400)]
    agent_sla_secs: i64,
    /// 0-86400 seconds.
    #[serde(default = "thirty")]
    #[schema(default = 30, minimum = 0, maximum = 86400)]
    service_level_secs: i64,
    /// At most 10.
    #[serde(default)]
    steps: Vec<StepBody>,
}

fn one() -> u8 {
    1
}
fn thirty() -> i64 {
    30
}
fn sixty() -> i64 {
    60
}

/// A step expression's problem, if any, given the site's attribute names.
fn expression_problem(expression: &str, known: &[String]) -> (Option<String>, Vec<String>) {
    if expression.trim().is_empty() {
        return (None, Vec::new());
    }
    match Expr::parse(expression) {
        Err(e) => (Some(e.to_string()), Vec::new()),
        Ok(parsed) => {
            let mut names: Vec<String> = Vec::new();
            for t in parsed.terms() {
                if !names.contains(&t.attribute) {
                    names.push(t.attribute.clone());
                }
            }
            let unknown = names.iter().find(|n| !known.contains(n));
            let problem = unknown.map(|n| format!("unknown routing attribute {n:?}"));
            (problem, names)
        }
    }
}

fn known_attributes(c: &Connection) -> Result<Vec<String>, StoreError> {
    Ok(routing_admin::list_attributes(c)?
        .into_iter()
        .map(|a| a.name)
        .collect())
}

fn queue_row(id: String, b: QueueBody) -> Result<QueueRow, ApiError> {
    check_name("name", &b.name)?;
    if !(1..=10).contains(&b.priority) {
        return Err(ApiError::invalid(
            "priority",
            "priority must be between 1 and 10",
        ));
    }
    if b.accept_timeout_secs
        .is_some_and(|s| !(1..=86_400).contains(&s))
    {
        return Err(ApiError::invalid(
            "acceptTimeoutSecs",
            "acceptTimeoutSecs must be 1-86400 seconds, or null for the default",
        ));
    }
    if !(0..=86_400).contains(&b.agent_sla_secs) {
        return Err(ApiError::invalid(
            "agentSlaSecs",
            "agentSlaSecs must be 0-86400 seconds",
        ));
    }
    if !(0..=86_400).contains(&b.service_level_secs) {
        return Err(ApiError::invalid(
            "serviceLevelSecs",
            "serviceLevelSecs must be 0-86400 seconds",
        ));
    }
    if b.steps.len() > 10 {
        return Err(ApiError::invalid("steps", "a queue has at most 10 steps"));
    }
    for (i, step) in b.steps.iter().enumerate() {
        if !(0..=86_400).contains(&step.timeout_secs) {
            return Err(ApiError::invalid(
                format!("steps[{i}].timeoutSecs"),
                format!("steps[{i}].timeoutSecs must be 0-86400 seconds"),
            ));
        }
        if step.expression.len() > 1000 {
            return Err(ApiError::invalid(
                format!("steps[{i}].expression"),
                format!("steps[{i}].expression is longer than 1000 characters"),
            ));
        }
    }
    Ok(QueueRow {
        id,
        name: b.name,
        mrd_id: b.mrd_id,
        priority: b.priority,
        accept_timeout_secs: b.accept_timeout_secs,
        agent_sla_secs: b.agent_sla_secs,
        service_level_secs: b.service_level_secs,
        steps: b
            .steps
            .into_iter()
            .map(|s| QueueStepRow {
                expression: s.expression,
                timeout_secs: s.timeout_secs,
            })
            .collect(),
    })
}

/// Checks references the store knows: the MRD and the step expressions' attributes.
fn check_refs(c: &Connection, q: &QueueRow) -> Result<(), StoreError> {
    if !directory::list_mrds(c)?.iter().any(|m| m.id == q.mrd_id) {
        return Err(StoreError::invalid(
            "mrdId",
            format!("MRD {} does not exist", q.mrd_id),
        ));
    }
    let known = known_attributes(c)?;
    for (i, step) in q.steps.iter().enumerate() {
        if let (Some(problem), _) = expression_problem(&step.expression, &known) {
            return Err(StoreError::invalid(
                format!("steps[{i}].expression"),
                format!("steps[{i}].expression: {problem}"),
            ));
        }
    }
    Ok(())
}

async fn save(
    state: &AppState,
    auth: &AuthUser,
    row: QueueRow,
    is_new: bool,
) -> Result<Queue, ApiError> {
    let who = actor(auth);
    let saved = row.clone();
    state
        .store
        .write(move |c| {
            check_refs(c, &saved)?;
            let before = if is_new {
                directory::create_queue(c, &saved, now_ms())?;
                None
            } else {
                let before = routing_admin::get_queue(c, &saved.id)?;
                directory::update_queue(c, &saved)?;
                Some(before)
            };
            let action = if is_new { "create" } else { "update" };
            record(
                c,
                &who,
                action,
                "queue",
                &saved.id,
                &saved.name,
                before.as_ref(),
                Some(&saved),
            )
        })
        .await?;
    apply(state, Input::UpsertQueue(loader::queue_config(row.clone()))).await?;
    Ok(view(state, row))
}

/// Create a queue.
#[utoipa::path(
    tag = "queues",
    request_body = QueueBody,
    responses((status = 201, body = Queue), BadRequest, Unauthenticated, Forbidden, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[post("/queues")]
async fn create(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    body: Body<QueueBody>,
) -> Result<HttpResponse, ApiError> {
    let row = queue_row(uuid::Uuid::new_v4().to_string(), body.into_inner()?)?;
    Ok(HttpResponse::Created().json(save(&state, &auth, row, true).await?))
}

/// Edit a queue and its steps (waiting tasks follow the new steps).
///
/// The body replaces the whole record, as on create: a field left out takes its
/// default (empty, unset or the documented default), not its current value.
#[utoipa::path(
    tag = "queues",
    request_body = QueueBody,
    responses((status = 200, body = Queue), BadRequest, Unauthenticated, Forbidden, NotFound, Conflict, BodyRefused),
    security(("bearer" = []))
)]
#[put("/queues/{id}")]
async fn update(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    id: web::Path<String>,
    body: Body<QueueBody>,
) -> Result<web::Json<Queue>, ApiError> {
    let row = queue_row(id.into_inner(), body.into_inner()?)?;
    Ok(web::Json(save(&state, &auth, row, false).await?))
}

/// Delete a queue; 409 naming the channels and pull lists that route to it, or while it has open tasks.
#[utoipa::path(
    tag = "queues",
    responses((status = 204), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[delete("/queues/{id}")]
async fn remove(
    state: web::Data<AppState>,
    Admin(auth): Admin,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let queue_id = id.clone();
    let open = state
        .routing
        .query(move |core, _| {
            core.tasks()
                .filter(|t| t.media.queue.id == queue_id && !t.is_closed())
                .count()
        })
        .await
        .unwrap_or(0);
    let who = actor(&auth);
    let del = id.clone();
    state
        .store
        .write(move |c| {
            let before = routing_admin::get_queue(c, &del)?;
            StoreError::unless_blocked(
                &format!("queue {}", before.name),
                routing_admin::queue_blockers(c, &del)?,
            )?;
            if open > 0 {
                return Err(StoreError::InUse {
                    message: format!(
                        "queue {} has {open} open task(s); flush it first",
                        before.name
                    ),
                    blockers: Vec::new(),
                });
            }
            directory::delete_queue(c, &del)?;
            record_deleted(c, &who, "queue", &del, &before.name, &before)
        })
        .await?;
    apply(&state, Input::RemoveQueue { queue_id: id }).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpressionBody {
    expression: String,
}

/// The verdict on a step expression.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ExpressionCheck {
    pub valid: bool,
    /// Why it is refused (absent when valid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The attribute names it uses.
    pub attributes: Vec<String>,
}

/// Check a step expression (syntax and attribute names) without saving anything.
#[utoipa::path(
    tag = "queues",
    request_body = ExpressionBody,
    responses((status = 200, body = ExpressionCheck), BadRequest, Unauthenticated, Forbidden, BodyRefused),
    security(("bearer" = []))
)]
#[post("/queues/check-expression")]
async fn check_expression(
    state: web::Data<AppState>,
    _: Admin,
    body: Body<ExpressionBody>,
) -> Result<web::Json<ExpressionCheck>, ApiError> {
    let expression = body.into_inner()?.expression;
    if expression.len() > 1000 {
        return Err(ApiError::invalid(
            "expression",
            "expression is longer than 1000 characters",
        ));
    }
    let known = state.store.read(known_attributes).await?;
    let (problem, attributes) = expression_problem(&expression, &known);
    Ok(web::Json(ExpressionCheck {
        valid: problem.is_none(),
        message: problem,
        attributes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_checked_against_known_attributes() {
        let known = vec!["billing".to_string()];
        assert_eq!(expression_problem("", &known), (None, vec![]));
        let (p, names) = expression_problem("billing >= 5", &known);
        assert_eq!((p, names), (None, vec!["billing".to_string()]));
        let (p, _) = expression_problem("billing >= 5 AND french", &known);
        assert!(p.unwrap().contains("french"));
        let (p, _) = expression_problem("billing >=", &known);
        assert!(p.is_some());
    }
}
