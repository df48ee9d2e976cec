//! `/api/v1/conversations`: conversation history (any signed-in user; agents see only
//! the conversations they took part in, supervisors and admins all).
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
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::conversations::{self, ConversationFilter, ConversationSummary};
use crate::store::events;
use crate::store::users::Role;
use actix_web::{web, HttpResponse};
use serde_json::json;
use std::collections::HashMap;
use std::ops::RangeInclusive;

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

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/conversations", web::get().to(list))
        .route("/conversations/{id}", web::get().to(get))
        .route("/conversations/{id}/events", web::get().to(transcript));
}

/// Query parameters by name, read one by one with checks that name the parameter.
/// Unknown or repeated parameters are refused; empty values count as absent.
pub(super) struct QueryParams(HashMap<String, String>);

impl QueryParams {
    pub(super) fn parse(raw: Vec<(String, String)>, known: &[&str]) -> Result<Self, ApiError> {
        let mut out = HashMap::new();
        for (name, value) in raw {
            if !known.contains(&name.as_str()) {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter `{name}` (known: {})",
                    known.join(", ")
                )));
            }
            if value.is_empty() {
                continue;
            }
            if out.insert(name.clone(), value).is_some() {
                return Err(ApiError::BadRequest(format!(
                    "query parameter `{name}` is given more than once"
                )));
            }
        }
        Ok(QueryParams(out))
    }

    /// A free-text value (an id), at most 256 characters.
    pub(super) fn text(&mut self, name: &str) -> Result<Option<String>, ApiError> {
        match self.0.remove(name) {
            Some(v) if v.chars().count() > MAX_TEXT_LEN => Err(ApiError::BadRequest(format!(
                "query parameter `{name}` is longer than {MAX_TEXT_LEN} characters"
            ))),
            other => Ok(other),
        }
    }

    /// One of `allowed`, spelled exactly.
    pub(super) fn one_of(
        &mut self,
        name: &str,
        allowed: &[&str],
    ) -> Result<Option<String>, ApiError> {
        match self.0.remove(name) {
            Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::BadRequest(format!(
                "query parameter `{name}` must be one of {}",
                allowed.join(", ")
            ))),
            other => Ok(other),
        }
    }

    /// An integer within `range`.
    pub(super) fn int(
        &mut self,
        name: &str,
        range: RangeInclusive<i64>,
    ) -> Result<Option<i64>, ApiError> {
        let Some(v) = self.0.remove(name) else {
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
}

fn is_agent(auth: &AuthUser) -> bool {
    auth.user.role < Role::Supervisor
}

async fn list(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let mut q = QueryParams::parse(
        query.into_inner(),
        &[
            "state",
            "queueId",
            "agentId",
            "customerId",
            "from",
            "to",
            "limit",
            "offset",
        ],
    )?;
    let mut filter = ConversationFilter {
        state: q.one_of("state", &STATES)?,
        queue_id: q.text("queueId")?,
        agent_id: q.text("agentId")?,
        customer_id: q.text("customerId")?,
        from: q.int("from", 0..=i64::MAX)?,
        to: q.int("to", 0..=i64::MAX)?,
        limit: q.int("limit", 1..=MAX_LIMIT)?.unwrap_or(DEFAULT_LIMIT) as usize,
        offset: q.int("offset", 0..=i64::from(u32::MAX))?.unwrap_or(0) as usize,
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
    Ok(HttpResponse::Ok().json(list))
}

/// The conversation, if it exists and the caller may see it.
async fn visible(
    state: &AppState,
    auth: &AuthUser,
    id: String,
) -> Result<ConversationSummary, ApiError> {
    let agent = is_agent(auth).then(|| auth.user.id.clone());
    let not_found = ApiError::NotFound(format!("conversation {id}"));
    let found = state
        .store
        .read(move |c| {
            let Some(summary) = conversations::get(c, &id)? else {
                return Ok(None);
            };
            match agent {
                Some(agent) if !conversations::agent_took_part(c, &id, &agent)? => Ok(None),
                _ => Ok(Some(summary)),
            }
        })
        .await?;
    found.ok_or(not_found)
}

async fn get(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let summary = visible(&state, &auth, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(summary))
}

async fn transcript(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let mut q = QueryParams::parse(query.into_inner(), &["afterSeq"])?;
    let after = q.int("afterSeq", 0..=i64::MAX)?.unwrap_or(0) as u64;
    let summary = visible(&state, &auth, id.into_inner()).await?;
    let conversation_id = summary.id.clone();
    let history = state
        .store
        .read(move |c| events::since(c, &conversation_id, after))
        .await?;
    let last_seq = history
        .last()
        .and_then(|e| e.get("seq"))
        .and_then(|s| s.as_u64())
        .unwrap_or(summary.last_seq)
        .max(summary.last_seq);
    Ok(HttpResponse::Ok().json(json!({
        "conversationId": summary.id,
        "lastSeq": last_seq,
        "events": history,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parameters_are_checked_by_name() {
        let err = QueryParams::parse(raw(&[("sate", "X")]), &["state"])
            .err()
            .unwrap();
        assert!(err.to_string().contains("`sate`"), "{err}");
        let err = QueryParams::parse(raw(&[("limit", "1"), ("limit", "2")]), &["limit"])
            .err()
            .unwrap();
        assert!(err.to_string().contains("`limit`"), "{err}");

        let mut q = QueryParams::parse(
            raw(&[
                ("state", "OPEN"),
                ("limit", "0"),
                ("to", ""),
                ("queueId", "q"),
            ]),
            &["state", "limit", "to", "queueId"],
        )
        .unwrap();
        let err = q.one_of("state", &STATES).unwrap_err();
        assert!(err.to_string().contains("`state`"), "{err}");
        let err = q.int("limit", 1..=MAX_LIMIT).unwrap_err();
        assert!(err.to_string().contains("`limit`"), "{err}");
        assert_eq!(q.int("to", 0..=10).unwrap(), None, "empty means absent");
        assert_eq!(q.text("queueId").unwrap().as_deref(), Some("q"));
    }
}
