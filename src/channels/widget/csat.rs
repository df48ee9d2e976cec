//! `CSAT_SUBMITTED {conversationId, rating, comment}`: after a chat ends, its customer
//! rates it 1-5 with an optional comment (a Switchboard addition, docs/protocol.md).
//! The connection's own customer must be the conversation's; one rating each.

use super::{Widget, WidgetError};
use crate::clock::now_ms;
use crate::store::csat::{self, Csat};
use crate::store::{customers, StoreError};
use serde::Deserialize;
use serde_json::{json, Value};

const MAX_COMMENT_CHARS: usize = 2_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CsatSubmitted {
    conversation_id: String,
    rating: u8,
    #[serde(default)]
    comment: Option<String>,
}

impl Widget {
    pub(super) async fn csat_submitted(
        &self,
        customer_key: &str,
        payload: &Value,
    ) -> Result<Value, WidgetError> {
        let request: CsatSubmitted = serde_json::from_value(payload.clone())
            .map_err(|e| WidgetError::new("invalid_payload", e.to_string()))?;
        if request.conversation_id.is_empty() || request.conversation_id.len() > 256 {
            return Err(WidgetError::new(
                "invalid_payload",
                "conversationId must be 1 to 256 characters",
            ));
        }
        if !(1..=5).contains(&request.rating) {
            return Err(WidgetError::new(
                "invalid_payload",
                "rating must be a whole number from 1 to 5",
            ));
        }
        let comment = request.comment.unwrap_or_default().trim().to_string();
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(WidgetError::new(
                "invalid_payload",
                format!("comment is longer than {MAX_COMMENT_CHARS} characters"),
            ));
        }
        let (_, identifier) = self.identity(customer_key)?;
        let channel_type = self.channel_type(customer_key);
        let conversation_id = request.conversation_id.clone();
        let rating = Csat {
            rating: request.rating,
            comment,
            submitted_at: now_ms(),
        };
        self.inner
            .store
            .write(move |c| {
                let customer =
                    customers::find_id(c, &channel_type, &identifier)?.ok_or_else(|| {
                        StoreError::NotFound(format!("conversation {conversation_id}"))
                    })?;
                csat::submit(c, &conversation_id, &customer, &rating)?;
                crate::reports::keep::rating(
                    c,
                    &conversation_id,
                    i64::from(rating.rating),
                    rating.submitted_at,
                )
            })
            .await
            .map_err(|e| match e {
                StoreError::NotFound(m) => WidgetError::new("not_found", format!("{m} not found")),
                StoreError::Conflict(_) => {
                    WidgetError::new("already_rated", "this chat has already been rated")
                }
                StoreError::Invalid { message, .. } => WidgetError::new("wrong_state", message),
                other => WidgetError::new("unavailable", other.to_string()),
            })?;
        Ok(
            json!({"status": "ok", "conversationId": request.conversation_id, "rating": request.rating}),
        )
    }
}
