//! The one refusal a desk (namespace `/`) or a widget (`/customer`) gets: a stable
//! `code` and a message, acked and sent as `errors {code, message, event}`. A refused
//! request changes nothing. Conversation and routing refusals keep their own codes.

use crate::conversation::handle::ConversationError;
use crate::routing::RoutingError;
use serde_json::{json, Value};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new("invalid_payload", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new("forbidden", message)
    }

    /// The `errors` event payload for a request named `event`.
    pub fn to_payload(&self, event: &str) -> Value {
        json!({"code": self.code, "message": self.message, "event": event})
    }
}

impl From<ConversationError> for Refusal {
    fn from(e: ConversationError) -> Self {
        Refusal::new(e.code(), e.to_string())
    }
}

impl From<RoutingError> for Refusal {
    fn from(e: RoutingError) -> Self {
        Refusal::new(e.code(), e.to_string())
    }
}
