//! Customer channels (being built): what the conversation manager delivers to customers.

use serde_json::Value;
use std::sync::Arc;

/// What the conversation manager delivers to customers after commit.
#[derive(Debug, Clone)]
pub enum ToCustomer {
    /// A CIM event for the customer's widget (`MESSAGE_RECEIVED`, `CHANNEL_SESSION_STARTED`, ...).
    Event {
        conversation_id: String,
        channel_session_id: String,
        seq: u64,
        event: Arc<Value>,
    },
    /// The channel session ended (`CHANNEL_SESSION_ENDED`) or expired (`CHANNEL_SESSION_EXPIRED`).
    SessionEnded {
        channel_session_id: String,
        expired: bool,
    },
    /// New outbox rows were committed: wake the webhook worker.
    OutboxReady,
}
