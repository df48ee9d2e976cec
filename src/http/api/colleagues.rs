//! `GET /api/v1/colleagues`: the agents a desk can transfer a chat to or bring into a
//! conference, with the presence a person needs to pick one (state per MRD and
//! load). Any signed-in user may read it: it names agents and their state only, the
//! way a desk's transfer list does in every contact center.

use crate::http::auth::AuthUser;
use crate::http::error::responses::Unauthenticated;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::routing::handle::enum_str;
use crate::routing::AgentView;
use actix_web::{get, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(colleagues);
}

/// One agent as a transfer list shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Colleague {
    id: String,
    username: String,
    team: Option<String>,
    /// Global state: LOGIN, READY, NOT_READY, LOGOUT or UNKNOWN (after a restart).
    state: String,
    reason_code: Option<String>,
    /// Whether a desk is connected now.
    connected: bool,
    mrds: Vec<ColleagueMrd>,
}

/// The agent's state on one MRD.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ColleagueMrd {
    mrd_id: String,
    mrd_name: String,
    /// READY, NOT_READY, ACTIVE, BUSY, PENDING_NOT_READY or INTERRUPTED.
    state: String,
    load: u32,
    max_agent_tasks: u32,
}

impl From<AgentView> for Colleague {
    fn from(v: AgentView) -> Self {
        Colleague {
            id: v.agent_id.to_string(),
            username: v.username,
            team: v.team,
            state: enum_str(&v.state),
            reason_code: v.reason_code,
            connected: v.connected,
            mrds: v
                .mrd_states
                .into_iter()
                .map(|m| ColleagueMrd {
                    mrd_id: m.mrd_id.to_string(),
                    mrd_name: m.mrd_name,
                    state: enum_str(&m.state),
                    load: m.load,
                    max_agent_tasks: m.max_agent_tasks,
                })
                .collect(),
        }
    }
}

/// Every agent known to the routing engine, logged-in ones first, then by name.
#[utoipa::path(
    tag = "routing",
    responses((status = 200, body = Vec<Colleague>), Unauthenticated),
    security(("bearer" = []))
)]
#[get("/colleagues")]
async fn colleagues(
    state: web::Data<AppState>,
    _: AuthUser,
) -> Result<web::Json<Vec<Colleague>>, ApiError> {
    let views = state
        .routing
        .query(|core, _| core.agents().collect::<Vec<_>>())
        .await
        .ok_or_else(|| ApiError::Unavailable("routing engine".into()))?;
    let mut list: Vec<Colleague> = views.into_iter().map(Colleague::from).collect();
    list.sort_by(|a, b| {
        (a.state == "LOGOUT", &a.username).cmp(&(b.state == "LOGOUT", &b.username))
    });
    Ok(web::Json(list))
}
