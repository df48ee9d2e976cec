//! Live routing state for supervisors: agent presence, open tasks with queue
//! position, queue statistics; and the supervisor actions force logout and
//! queue flush. A supervisor sees and acts on the agents of the teams it supervises
//! (and their tasks, plus queued tasks nobody holds yet); queue statistics are
//! readable for every queue (they name no agent or customer, and a queue serves
//! agents of several teams). Admins see everything.

use crate::http::auth::AuthUser;
use crate::http::error::responses::{BadRequest, Conflict, Forbidden, NotFound, Unauthenticated};
use crate::http::error::ApiError;
use crate::http::extract::{Admin, QueryOf, Supervisor};
use crate::http::AppState;
use crate::routing::{handle::enum_str, Effect, Input};
use crate::routing::{AgentView, QueueStats};
use crate::sessions::{Actor, Ended};
use crate::store::agent_states::StateRow;
use crate::store::users::Role;
use actix_web::{get, post, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(agents)
        .service(force_logout)
        .service(state_history)
        .service(tasks)
        .service(queue_stats)
        .service(flush_all)
        .service(flush_queue);
}

/// The answer to a force logout.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedOut {
    pub agent_id: String,
    /// Always `LOGOUT`.
    pub state: String,
}

/// An open task with its place in the queue.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenTask {
    pub id: String,
    pub conversation_id: String,
    /// ACTIVE or WRAP_UP.
    pub state: String,
    /// QUEUED, RESERVED or ACTIVE.
    pub media_state: String,
    pub queue: QueueName,
    /// 1-11 (11: re-routed).
    pub priority: u8,
    /// INBOUND, OUTBOUND, DIRECT_TRANSFER, ...
    pub direction: String,
    pub assigned_to: Option<String>,
    /// Epoch ms.
    pub enqueue_time: i64,
    /// Epoch ms; 0 until an agent accepts.
    pub answer_time: i64,
    /// 1 = next to be served (queued tasks only).
    pub position: Option<u32>,
    pub estimated_wait_ms: Option<i64>,
}

/// A queue's id and name.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QueueName {
    pub id: String,
    pub name: String,
}

/// The answer to a queue flush.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Flushed {
    /// The queue flushed; null when every queue was.
    pub queue_id: Option<String>,
    /// Waiting tasks closed FORCE_CLOSED.
    pub closed_tasks: usize,
}

/// Refuses a supervisor acting on an agent outside the teams it supervises.
fn check_team(auth: &AuthUser, team: Option<&str>) -> Result<(), ApiError> {
    if auth.user.role == Role::Admin {
        return Ok(());
    }
    match team {
        Some(t) if auth.user.supervised_teams.iter().any(|s| s.team_id == t) => Ok(()),
        _ => Err(ApiError::Forbidden(
            "supervisors act only on agents of the teams they supervise".into(),
        )),
    }
}

/// The agent must exist and be in a team the caller supervises (admins: any).
async fn authorize_for_agent(
    state: &AppState,
    auth: &AuthUser,
    agent_id: &str,
) -> Result<(), ApiError> {
    let id = agent_id.to_string();
    let team = state
        .routing
        .query(move |core, _| core.agent(&id).map(|a| a.team))
        .await
        .flatten()
        .ok_or_else(|| ApiError::NotFound(format!("agent {agent_id}")))?;
    check_team(auth, team.as_deref())
}

/// Agents' live presence (supervisors: agents of their teams; admins: every agent).
#[utoipa::path(
    tag = "routing",
    responses((status = 200, description = "the routing engine's AgentView of each agent", body = Vec<AgentView>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/agents")]
async fn agents(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
) -> Result<web::Json<Vec<AgentView>>, ApiError> {
    let views = state
        .routing
        .query(|core, _| core.agents().collect::<Vec<_>>())
        .await
        .ok_or_else(|| ApiError::Unavailable("routing engine".into()))?;
    let visible: Vec<_> = views
        .into_iter()
        .filter(|v| check_team(&auth, v.team.as_deref()).is_ok())
        .collect();
    Ok(web::Json(visible))
}

/// Log an agent out (supervisors: agents of their teams).
#[utoipa::path(
    tag = "routing",
    responses((status = 200, body = LoggedOut), Unauthenticated, Forbidden, NotFound, Conflict),
    security(("bearer" = []))
)]
#[post("/agents/{id}/logout")]
async fn force_logout(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    path: web::Path<String>,
) -> Result<web::Json<LoggedOut>, ApiError> {
    let agent_id = path.into_inner();
    authorize_for_agent(&state, &auth, &agent_id).await?;
    let effects = state
        .routing
        .call(Input::ForceLogout {
            agent_id: agent_id.clone(),
            reason_code: None,
        })
        .await;
    rejected(&effects)?;
    // The agent's tokens end too: its desk is told who did it and closed, `/me`
    // answers 401 and the desk cannot reconnect; the agent signs in again.
    state
        .sessions
        .revoke_user(
            &agent_id,
            Ended::ForcedLogout {
                by: Actor::of(&auth.user),
                reason_code: None,
            },
        )
        .await?;
    Ok(web::Json(LoggedOut {
        agent_id,
        state: "LOGOUT".into(),
    }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Epoch ms, inclusive (default 0).
    from: Option<i64>,
    /// Epoch ms, inclusive (default: now).
    to: Option<i64>,
}

/// Every state change of one agent between `from` and `to` (epoch ms), for reports.
#[utoipa::path(
    tag = "routing",
    params(HistoryQuery),
    responses((status = 200, body = Vec<StateRow>), BadRequest, Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/agents/{id}/state-history")]
async fn state_history(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
    path: web::Path<String>,
    QueryOf(query): QueryOf<HistoryQuery>,
) -> Result<web::Json<Vec<StateRow>>, ApiError> {
    let agent_id = path.into_inner();
    authorize_for_agent(&state, &auth, &agent_id).await?;
    let from = query.from.unwrap_or(0);
    let to = query.to.unwrap_or(i64::MAX);
    if from > to {
        return Err(ApiError::BadRequest("from must not be after to".into()));
    }
    let rows = state
        .store
        .read(move |c| crate::store::agent_states::history(c, &agent_id, from, to))
        .await?;
    Ok(web::Json(rows))
}

fn rejected(effects: &[Effect]) -> Result<(), ApiError> {
    for e in effects {
        if let Effect::Rejected { error, .. } = e {
            return Err(match error {
                crate::routing::RoutingError::NotStored(_) => {
                    ApiError::Unavailable(error.to_string())
                }
                _ => ApiError::Refused(error.clone()),
            });
        }
    }
    Ok(())
}

/// Open tasks with queue position (supervisors: tasks held by agents of their teams,
/// and queued tasks nobody holds yet).
#[utoipa::path(
    tag = "routing",
    responses((status = 200, body = Vec<OpenTask>), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/tasks")]
async fn tasks(
    state: web::Data<AppState>,
    Supervisor(auth): Supervisor,
) -> Result<web::Json<Vec<OpenTask>>, ApiError> {
    let list = state
        .routing
        .query(move |core, _| {
            core.tasks()
                .filter(|t| !t.is_closed())
                .filter(|t| match &t.assigned_to {
                    None => true,
                    Some(agent) => {
                        let team = core.agent(agent).and_then(|a| a.team);
                        check_team(&auth, team.as_deref()).is_ok()
                    }
                })
                .map(|t| {
                    let position = core.queue_position(&t.id);
                    OpenTask {
                        id: t.id.clone(),
                        conversation_id: t.conversation_id.clone(),
                        state: enum_str(&t.state.name),
                        media_state: enum_str(&t.media.state),
                        queue: QueueName {
                            id: t.media.queue.id.clone(),
                            name: t.media.queue.name.clone(),
                        },
                        priority: t.media.priority,
                        direction: enum_str(&t.media.direction),
                        assigned_to: t.assigned_to.clone(),
                        enqueue_time: t.media.enqueue_time,
                        answer_time: t.media.answer_time,
                        position: position.map(|p| p.position),
                        estimated_wait_ms: position.and_then(|p| p.estimated_wait_ms),
                    }
                })
                .collect::<Vec<OpenTask>>()
        })
        .await
        .ok_or_else(|| ApiError::Unavailable("routing engine".into()))?;
    Ok(web::Json(list))
}

/// A queue's live statistics (any queue: they name no agent or customer).
#[utoipa::path(
    tag = "routing",
    responses((status = 200, body = QueueStats), Unauthenticated, Forbidden, NotFound),
    security(("bearer" = []))
)]
#[get("/queues/{id}/stats")]
async fn queue_stats(
    state: web::Data<AppState>,
    _: Supervisor,
    path: web::Path<String>,
) -> Result<web::Json<QueueStats>, ApiError> {
    let queue_id = path.into_inner();
    let id = queue_id.clone();
    let stats = state
        .routing
        .query(move |core, now| core.queue_stats(&id, now))
        .await
        .flatten()
        .ok_or_else(|| ApiError::NotFound(format!("queue {queue_id}")))?;
    Ok(web::Json(stats))
}

async fn flush(state: &AppState, queue_id: Option<String>) -> Result<web::Json<Flushed>, ApiError> {
    let effects = state
        .routing
        .call(Input::FlushQueue {
            queue_id: queue_id.clone(),
        })
        .await;
    rejected(&effects)?;
    let closed = effects
        .iter()
        .filter(|e| matches!(e, Effect::TaskStateChanged { task } if task.is_closed()))
        .count();
    Ok(web::Json(Flushed {
        queue_id,
        closed_tasks: closed,
    }))
}

/// Close every queued task of a queue.
#[utoipa::path(
    tag = "routing",
    responses((status = 200, body = Flushed), Unauthenticated, Forbidden, Conflict),
    security(("bearer" = []))
)]
#[post("/queues/{id}/flush")]
async fn flush_queue(
    state: web::Data<AppState>,
    _: Admin,
    path: web::Path<String>,
) -> Result<web::Json<Flushed>, ApiError> {
    flush(&state, Some(path.into_inner())).await
}

/// Close every queued task of every queue.
#[utoipa::path(
    tag = "routing",
    responses((status = 200, body = Flushed), Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[post("/queues/flush")]
async fn flush_all(state: web::Data<AppState>, _: Admin) -> Result<web::Json<Flushed>, ApiError> {
    flush(&state, None).await
}
