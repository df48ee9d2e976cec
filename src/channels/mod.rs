//! Customer channels: the web widget namespace `/customer`, and what the
//! conversation manager delivers to customers.
//!
//! - `widget`: the `/customer` Socket.IO namespace

pub mod widget;

use crate::config::OutboxSettings;
use crate::conversation::handle::ConversationHandle;
use crate::health::Health;
use crate::routing::{EffectBatch, RoutingHandle};
use crate::socketio::SocketIo;
use crate::store::Store;
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

/// What the channels need from the rest of the appliance.
pub struct Wiring {
    pub store: Store,
    pub conversations: ConversationHandle,
    pub routing: RoutingHandle,
    /// Committed routing effects, lossy under load (queue positions are superseded anyway).
    pub routing_effects: crate::bus::Subscription<EffectBatch>,
    pub deliveries: tokio::sync::mpsc::UnboundedReceiver<ToCustomer>,
    pub outbox: OutboxSettings,
    pub health: Health,
}

/// Mounts the widget namespace and starts the channel tasks.
pub fn start(sio: &SocketIo, wiring: Wiring) -> Vec<tokio::task::JoinHandle<()>> {
    let widget = widget::Widget::new(
        wiring.store.clone(),
        wiring.conversations.clone(),
        wiring.routing.clone(),
    );
    sio.add_namespace("/customer", Arc::new(widget.clone()));
    let outbox_wake = Arc::new(tokio::sync::Notify::new());
    vec![
        tokio::spawn(widget.clone().deliveries(wiring.deliveries, outbox_wake)),
        tokio::spawn(widget.queue_positions(wiring.routing_effects)),
    ]
}
