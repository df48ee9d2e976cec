//! The customer's history as the desk's customer panel reads it: who may see a
//! conversation may see the same customer's other conversations and their
//! transcripts (an agent serving a customer needs what was said before, even by
//! colleagues). Everything else about conversations is in `conversations`.
//!
//! - `GET /conversations/{id}/customer-history?limit=` — the customer's other
//!   conversations, newest first (default 20, at most 100).
//! - `GET /conversations/{id}/customer-history/{pastId}/events` — the transcript of one
//!   of them.

use super::conversations::{int_param, visible, Transcript};
use crate::http::auth::AuthUser;
use crate::http::error::responses::{BadRequest, NotFound, Unauthenticated};
use crate::http::error::ApiError;
use crate::http::extract::QueryOf;
use crate::http::AppState;
use crate::store::conversations::{self, ConversationFilter, ConversationSummary};
use crate::store::{attachments, events};
use actix_web::{get, web};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(history).service(past_transcript);
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// 1-100, default 20.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

/// The other conversations of this conversation's customer, newest first.
#[utoipa::path(
    tag = "conversations",
    params(HistoryQuery),
    responses((status = 200, body = Vec<ConversationSummary>), BadRequest, Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/conversations/{id}/customer-history")]
async fn history(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<String>,
    QueryOf(q): QueryOf<HistoryQuery>,
) -> Result<web::Json<Vec<ConversationSummary>>, ApiError> {
    let limit = int_param("limit", q.limit, 1..=100)?.unwrap_or(20) as usize;
    let current = visible(&state, &auth, id.into_inner()).await?;
    let filter = ConversationFilter {
        state: None,
        queue_id: None,
        agent_id: None,
        customer_id: Some(current.customer_id.clone()),
        from: None,
        to: None,
        // One more than asked: the current conversation is left out below.
        limit: limit + 1,
        offset: 0,
        scope: None,
    };
    let mut list = state
        .store
        .read(move |c| conversations::list(c, &filter))
        .await?;
    list.retain(|c| c.id != current.id);
    list.truncate(limit);
    Ok(web::Json(list))
}

/// The transcript of one of the customer's other conversations.
#[utoipa::path(
    tag = "conversations",
    responses((status = 200, body = Transcript), Unauthenticated, NotFound),
    security(("bearer" = []))
)]
#[get("/conversations/{id}/customer-history/{past_id}/events")]
async fn past_transcript(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<web::Json<Transcript>, ApiError> {
    let (id, past_id) = path.into_inner();
    let current = visible(&state, &auth, id).await?;
    let not_found = ApiError::NotFound(format!("conversation {past_id}"));
    let past = state
        .store
        .read(move |c| conversations::get(c, &past_id))
        .await?
        .filter(|p| p.customer_id == current.customer_id)
        .ok_or(not_found)?;
    let conversation_id = past.id.clone();
    let (mut past_events, owned) = state
        .store
        .read(move |c| {
            Ok((
                events::since(c, &conversation_id, 0)?,
                attachments::ids_of_conversation(c, &conversation_id)?,
            ))
        })
        .await?;
    state
        .attachments
        .signer
        .resign_events(&mut past_events, crate::clock::now_ms(), &owned);
    Ok(web::Json(Transcript {
        conversation_id: past.id,
        last_seq: past.last_seq,
        events: past_events,
    }))
}
