//! Customer satisfaction ratings (`csat`): one per conversation, given by its customer
//! once the chat has ended.

use super::{StoreError, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// A customer's rating of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Csat {
    /// 1 (bad) to 5 (very good).
    pub rating: u8,
    pub comment: String,
    #[schema(value_type = i64)]
    pub submitted_at: Millis,
}

/// Stores the rating of `conversation_id`, which must be the conversation of
/// `customer_id` and over for the customer. A second rating is refused.
pub fn submit(
    conn: &Connection,
    conversation_id: &str,
    customer_id: &str,
    csat: &Csat,
) -> StoreResult<()> {
    let state: Option<(String, String)> = conn
        .query_row(
            "SELECT customer_id, state FROM conversations WHERE id = ?1",
            [conversation_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((owner, state)) = state else {
        return Err(StoreError::NotFound(format!(
            "conversation {conversation_id}"
        )));
    };
    if owner != customer_id {
        // Another customer's conversation is none of this one's business.
        return Err(StoreError::NotFound(format!(
            "conversation {conversation_id}"
        )));
    }
    if matches!(state.as_str(), "CREATED" | "ACTIVE" | "ON_HOLD") {
        let ended: bool = conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM channel_sessions
                                WHERE conversation_id = ?1 AND state = 'STARTED')",
            [conversation_id],
            |r| r.get(0),
        )?;
        if !ended {
            return Err(StoreError::invalid(
                "conversationId",
                "the chat is still running; rate it once it has ended",
            ));
        }
    }
    let inserted = conn.execute(
        "INSERT INTO csat (conversation_id, rating, comment, submitted_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(conversation_id) DO NOTHING",
        params![
            conversation_id,
            csat.rating,
            csat.comment,
            csat.submitted_at
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a rating of conversation {conversation_id}"
        )));
    }
    Ok(())
}

/// The rating of a conversation, if its customer gave one.
pub fn get(conn: &Connection, conversation_id: &str) -> StoreResult<Option<Csat>> {
    Ok(conn
        .prepare_cached(
            "SELECT rating, comment, submitted_at FROM csat WHERE conversation_id = ?1",
        )?
        .query_row([conversation_id], |r| {
            Ok(Csat {
                rating: r.get(0)?,
                comment: r.get(1)?,
                submitted_at: r.get(2)?,
            })
        })
        .optional()?)
}
