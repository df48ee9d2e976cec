//! `/api/v1/conversations`: conversation history (any signed-in user; agents see only
//! the conversations they took part in, supervisors those an agent of the teams they
//! supervise (or they themselves) took part in, admins all).
//!
//! - `GET /conversations?state=&queueId=&agentId=&customerId=&from=&to=&limit=&offset=`
//!   — newest first; `from`/`to` bound the creation time (epoch ms, inclusive);
//!   `limit` 1..=500 (default 50). Each item `{id, customerId, state, queueId,
//!   lastAgentId, creationTime, endTime, lastSeq, conversation}`.
//! - `GET /conversations/{id}` — one conversation, the same shape.
//! - `GET /conversations/{id}/events?afterSeq=` — the transcript:
//!   `{conversationId, lastSeq, events: [cimEvent + seq, ...]}` in sequence order.
//!
//! Bad query parameters answer 400 naming the parameter; a conversation that does not
//! exist (or, for an agent, one it did not take part in) answers 404.

use crate::http::auth::AuthUser;
use crate::http::error::responses::{BadRequest, Forbidden, NotFound, Unauthenticated};
use crate::http::error::ApiError;
use crate::http::extract::QueryOf;
use crate::http::AppState;
use crate::store::conversations::{self, ConversationFilter, ConversationSummary, SupervisorScope};
use crate::store::users::Role;
use crate::store::{attachments, events};
use actix_web::{get, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::ops::RangeInclusive;
use utoipa_actix_web::service_config::ServiceConfig;

const STATES: [&str; 7] = [
    "CREATED",
    "ACTIVE",
    "ON_HOLD",
    "CUSTOMER_LEFT",
    "WRAP_UP",
    "INACTIVE",
    "CLOSED",
];
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 500;
const MAX_TEXT_LEN: usize = 256;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list).service(get_one).service(transcript);
}

/// An integer query parameter within `range` (400 bad_request naming it otherwise).
pub(super) fn int_param(
    name: &str,
    value: Option<String>,
    range: RangeInclusive<i64>,
) -> Result<Option<i64>, ApiError> {
    let Some(v) = value else {
        return Ok(None);
    };
    v.parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .map(Some)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "query parameter `{name}` must be an integer from {} to {}",
                range.start(),
                range.end()
            ))
        })
}

/// One of `allowed`, spelled exactly.
pub(super) fn one_of(
    name: &str,
    value: Option<String>,
    allowed: &[&str],
) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::BadRequest(format!(
            "query parameter `{name}` must be one of {}",
            allowed.join(", ")
        ))),
        other => Ok(other),
    }
}

/// A free-text value (an id), at most 256 characters.
pub(super) fn text_param(name: &str, value: Option<String>) -> Result<Option<String>, ApiError> {
    match value {
        Some(v) if v.chars().count() > MAX_TEXT_LEN => Err(ApiError::BadRequest(format!(
            "query parameter `{name}` is longer than {MAX_TEXT_LEN} characters"
        ))),
        other => Ok(other),
    }
}

fn is_agent(auth: &AuthUser) -> bool {
    auth.user.role < Role::Supervisor
}

/// A supervisor's scope (`None` for admins and agents).
fn scope_of(auth: &AuthUser) -> Option<SupervisorScope> {
    (auth.user.role == Role::Supervisor).then(|| SupervisorScope {
        user_id: auth.user.id.clone(),
        team_ids: auth
            .user
            .supervised_teams
            .iter()
            .map(|t| t.team_id.clone())
            .collect(),
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ConversationListQuery {
    /// CREATED, ACTIVE, ON_HOLD, CUSTOMER_LEFT, WRAP_UP, INACTIVE or CLOSED.
    #[param(value_type = Option<String>, pattern = "^(CREATED|ACTIVE|ON_HOLD|CUSTOMER_LEFT|WRAP_UP|INACTIVE|CLOSED)$")]
    state: Option<String>,
    queue_id: Option<String>,
    /// Conversations this agent took part in (agents: only their own id).
    agent_id: Option<String>,
    customer_id: Option<String>,
    /// Creation time from (epoch ms, inclusive).
    #[param(value_type = Option<i64>)]
    from: Option<String>,
    /// Creation time to (epoch ms, inclusive).
    #[param(value_type = Option<i64>)]
    to: Option<String>,
    /// 1-500, default 50.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500)]
    limit: Option<String>,
    /// Default 0.
    #[param(value_type = Option<i64>, minimum = 0)]
    offset: Option<String>,
}

/// Conversation history, newest first (agents: their own; supervisors: their teams').
#[utoipa::path(
    tag = "conversations",
    params(ConversationListQuery),
    responses((status = 200, body = Vec<ConversationSummary>), BadRequest, Unauthenticated, Forbidden),
    security(("bearer" = []))
)]
#[get("/conversations")]
async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    QueryOf(q): QueryOf<ConversationListQuery>,
) -> Result<web::Json<Vec<ConversationSummary>>, ApiError> {
    let mut filter = ConversationFilter {
        state: one_of("state", q.state, &STATES)?,
        queue_id: text_param("queueId", q.queue_id)?,
        agent_id: text_param("agentId", q.agent_id)?,
        customer_id: text_param("customerId", q.customer_id)?,
        from: int_param("from", q.from, 0..=i64::MAX)?,
        to: int_param("to", q.to, 0..=i64::MAX)?,
        limit: int_param("limit", q.limit, 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT) as usize,
        offset: int_param("offset", q.offset, 0..=i64::from(u32::MAX))?.unwrap_or(0) as usize,
        scope: scope_of(&auth),
    };
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        if from > to {
            return Err(ApiError::BadRequest(
                "query parameter `from` must not be after `to`".into(),
            ));
        }
    }
    if is_agent(&auth) {
        match &filter.agent_id {
            Some(other) if *other != auth.user.id => {
                return Err(ApiError::Forbidden(
                    "agents may only list their own conversations (agentId)".into(),
                ))
            }
            _ => filter.agent_id = Some(auth.user.id.clone()),
        }
    }
    let list = state
        .store
        .read(move |c| conversations::list(c, &filter))
        .await?;
    Ok(web::Json(list))
}

/// The conversation, if it exists and the caller may see it: agents the ones they
/// took part in, supervisors the ones an agent of their teams took part in.
pub(super) async fn visible(
    state: &AppState,
    auth: &AuthUser,
    id: String,
) -> Result<ConversationSummary, ApiError> {
    let agent = is_agent(auth).then(|| auth.user.id.clone());
    let scope = scope_of(auth);
    let not_found = ApiError::NotFound(format!("conversation {id}"));
    let found = state
        .store
        .read(move |c| {
            let Some(summary) = conversations::get(c, &id)? else {
                return Ok(None);
            };
            if let Some(agent) = agent {
                if !conversations::agent_took_part(c, &id, &agent)? {
                    return Ok(None);
                }
            }
            if let Some(scope) = scope {
                if !conversations::in_scope(c, &id, &scope)? {
                    return Ok(None);
                }
            }
            Ok(Some(summary))
        })
        .await?;
    found.ok_or(not_found)
}

/// One conversation.
#[utoipa::path(
    tag = "conversations",
    responses((status = 200, body = ConversationSummary), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/conversations/{id}")]
async fn get_one(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<web::Json<ConversationSummary>, ApiError> {
    Ok(web::Json(visible(&state, &auth, id.into_inner()).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct TranscriptQuery {
    /// Only events after this sequence number (default 0: all).
    #[param(value_type = Option<i64>, minimum = 0)]
    after_seq: Option<String>,
}

/// A conversation's transcript.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transcript {
    pub conversation_id: String,
    pub last_seq: u64,
    /// CIM events with their `seq`, in sequence order.
    pub events: Vec<Value>,
}

/// A conversation's events (same visibility as the conversation).
#[utoipa::path(
    tag = "conversations",
    params(TranscriptQuery),
    responses((status = 200, body = Transcript), BadRequest, Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/conversations/{id}/events")]
async fn transcript(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    QueryOf(q): QueryOf<TranscriptQuery>,
) -> Result<web::Json<Transcript>, ApiError> {
    let after = int_param("afterSeq", q.after_seq, 0..=i64::MAX)?.unwrap_or(0) as u64;
    let summary = visible(&state, &auth, id.into_inner()).await?;
    let conversation_id = summary.id.clone();
    let (mut history, owned) = state
        .store
        .read(move |c| {
            Ok((
                events::since(c, &conversation_id, after)?,
                attachments::ids_of_conversation(c, &conversation_id)?,
            ))
        })
        .await?;
    // Attachment URLs expire: the transcript's are signed afresh.
    state
        .attachments
        .signer
        .resign_events(&mut history, crate::clock::now_ms(), &owned);
    let last_seq = history
        .last()
        .and_then(|e| e.get("seq"))
        .and_then(|s| s.as_u64())
        .unwrap_or(summary.last_seq)
        .max(summary.last_seq);
    Ok(web::Json(Transcript {
        conversation_id: summary.id,
        last_seq,
        events: history,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_checked_by_name() {
        let err = one_of("state", Some("OPEN".into()), &STATES).unwrap_err();
        assert!(err.to_string().contains("`state`"), "{err}");
        let err = int_param("limit", Some("0".into()), 1..=MAX_LIMIT).unwrap_err();
        assert!(err.to_string().contains("`limit`"), "{err}");
        assert_eq!(int_param("to", None, 0..=10).unwrap(), None);
        assert_eq!(
            text_param("queueId", Some("q".into())).unwrap().as_deref(),
            Some("q")
        );
        assert!(text_param("queueId", Some("x".repeat(300))).is_err());
    }
}
