//! Live routing state for supervisors: agent presence, open tasks with queue
//! position, queue statistics; and the supervisor actions force logout and
//! queue flush.

use crate::http::auth::AuthUser;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::routing::{driver::enum_str, Effect, Input};
use crate::sessions::{Actor, Ended};
use crate::store::users::Role;
use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/agents", web::get().to(agents))
        .route("/agents/{id}/logout", web::post().to(force_logout))
        .route("/agents/{id}/state-history", web::get().to(state_history))
        .route("/tasks", web::get().to(tasks))
        .route("/queues/{id}/stats", web::get().to(queue_stats))
        .route("/queues/{id}/flush", web::post().to(flush_queue))
        .route("/queues/flush", web::post().to(flush_all));
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

async fn agents(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
    let views = state
        .routing
        .query(|core, _| core.agents().collect::<Vec<_>>())
        .await
        .ok_or_else(|| ApiError::Unavailable("routing engine".into()))?;
    let visible: Vec<_> = views
        .into_iter()
        .filter(|v| check_team(&auth, v.team.as_deref()).is_ok())
        .collect();
    Ok(HttpResponse::Ok().json(visible))
}

async fn force_logout(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
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
    Ok(HttpResponse::Ok().json(json!({"agentId": agent_id, "state": "LOGOUT"})))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    from: Option<i64>,
    to: Option<i64>,
}

/// Every state change of one agent between `from` and `to` (epoch ms), for reports.
async fn state_history(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
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
    Ok(HttpResponse::Ok().json(rows))
}

fn rejected(effects: &[Effect]) -> Result<(), ApiError> {
    for e in effects {
        if let Effect::Rejected { error, .. } = e {
            return Err(match error {
                crate::routing::RoutingError::NotStored(_) => {
                    ApiError::Unavailable(error.to_string())
                }
                _ => ApiError::Conflict(error.to_string()),
            });
        }
    }
    Ok(())
}

async fn tasks(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
    let list = state
        .routing
        .query(|core, _| {
            core.tasks()
                .filter(|t| !t.is_closed())
                .map(|t| {
                    let position = core.queue_position(&t.id);
                    json!({
                        "id": t.id,
                        "conversationId": t.conversation_id,
                        "state": enum_str(&t.state.name),
                        "mediaState": enum_str(&t.media.state),
                        "queue": {"id": t.media.queue.id, "name": t.media.queue.name},
                        "priority": t.media.priority,
                        "direction": enum_str(&t.media.direction),
                        "assignedTo": t.assigned_to,
                        "enqueueTime": t.media.enqueue_time,
                        "answerTime": t.media.answer_time,
                        "position": position.map(|p| p.position),
                        "estimatedWaitMs": position.and_then(|p| p.estimated_wait_ms),
                    })
                })
                .collect::<Vec<Value>>()
        })
        .await
        .ok_or_else(|| ApiError::Unavailable("routing engine".into()))?;
    Ok(HttpResponse::Ok().json(list))
}

async fn queue_stats(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Supervisor)?;
    let queue_id = path.into_inner();
    let id = queue_id.clone();
    let stats = state
        .routing
        .query(move |core, now| core.queue_stats(&id, now))
        .await
        .flatten()
        .ok_or_else(|| ApiError::NotFound(format!("queue {queue_id}")))?;
    Ok(HttpResponse::Ok().json(stats))
}

async fn flush(state: &AppState, queue_id: Option<String>) -> Result<HttpResponse, ApiError> {
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
    Ok(HttpResponse::Ok().json(json!({"queueId": queue_id, "closedTasks": closed})))
}

async fn flush_queue(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    flush(&state, Some(path.into_inner())).await
}

async fn flush_all(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    auth.require(Role::Admin)?;
    flush(&state, None).await
}
