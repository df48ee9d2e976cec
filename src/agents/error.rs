//! The desk's `errors {code, message, event}`: every refused request gets one,
//! and changes nothing.

use crate::conversation::handle::ConversationError;
use crate::routing::RoutingError;
use serde_json::{json, Value};

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DeskError {
    pub code: &'static str,
    pub message: String,
}

impl DeskError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        DeskError {
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

impl From<ConversationError> for DeskError {
    fn from(e: ConversationError) -> Self {
        DeskError::new(e.code(), e.to_string())
    }
}

impl From<RoutingError> for DeskError {
    fn from(e: RoutingError) -> Self {
        DeskError::new(e.code(), e.to_string())
    }
}
