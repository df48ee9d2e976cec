//! Customer channels: the web widget namespace `/customer`, the connector endpoint,
//! the outbound webhook outbox, and what the conversation manager delivers to customers.
//!
//! - `widget`: the `/customer` Socket.IO namespace (`widget_message`: what a widget
//!   sends, checked; `widget_form`: what it tells about its customer; `limits`: chat
//!   requests per address)
//! - `connector`: `POST /ccm/message/receive` for channel connectors
//! - `outbox`: the worker delivering outbound messages to `providerWebhook`s
//! - `prechat`, `hours`: a channel's pre-chat form and business hours (checked
//!   definitions, submissions, and when the channel is open)

pub mod connector;
pub mod hours;
pub mod limits;
pub mod outbox;
pub mod prechat;
pub mod widget;
mod widget_form;
mod widget_message;

use crate::config::{ChannelSettings, OutboxSettings};
use crate::conversation::handle::ConversationHandle;
use crate::health::Health;
use crate::routing::{EffectBatch, RoutingHandle};
use crate::socketio::SocketIo;
use crate::store::Store;
use std::sync::Arc;

pub use crate::delivery::ToCustomer;

/// What the channels need from the rest of the appliance.
pub struct Wiring {
    pub store: Store,
    pub conversations: ConversationHandle,
    pub routing: RoutingHandle,
    /// Committed routing effects, lossy under load (queue positions are superseded anyway).
    pub routing_effects: crate::bus::Subscription<EffectBatch>,
    /// The conversation publisher's customer deliveries, attached to the widget here.
    pub deliveries: Arc<crate::delivery::LateSink<ToCustomer>>,
    pub outbox: OutboxSettings,
    pub channels: ChannelSettings,
    /// `site.time_zone`: business hours without a zone of their own are read in it.
    pub site_zone: jiff::tz::TimeZone,
    /// Shared with the HTTP API, which wakes the worker when it puts a dead row back.
    pub outbox_wake: outbox::OutboxWake,
    pub health: Health,
    /// Signs the attachment URLs of a replayed transcript afresh.
    pub attachment_urls: crate::attachments::signing::Signer,
}

/// Mounts the widget namespace and starts the channel tasks (widget deliveries,
/// queue positions, the outbox worker). The connector route is mounted by the HTTP app
/// (`connector::configure`).
pub fn start(sio: &SocketIo, wiring: Wiring) -> Vec<tokio::task::JoinHandle<()>> {
    let widget = widget::Widget::new(
        wiring.store.clone(),
        wiring.conversations.clone(),
        wiring.routing.clone(),
        limits::ChatLimiter::new(
            wiring.channels.chat_requests_per_minute,
            wiring.channels.chat_request_burst,
            wiring.channels.limit_loopback,
        ),
        wiring.attachment_urls.clone(),
        wiring.site_zone,
    );
    sio.add_namespace("/customer", Arc::new(widget.clone()));
    wiring
        .deliveries
        .attach(Arc::new(widget::WidgetDeliveries::new(
            widget.clone(),
            wiring.outbox_wake.notify(),
        )));
    let mut tasks = vec![tokio::spawn(widget.queue_positions(wiring.routing_effects))];
    match outbox::OutboxWorker::new(wiring.store, wiring.outbox, wiring.outbox_wake) {
        Ok(worker) => tasks.push(tokio::spawn(worker.run(wiring.health))),
        Err(e) => {
            tracing::error!(error = %e, "outbox worker cannot start; webhooks are not delivered");
            wiring
                .health
                .set("outbox", crate::health::ComponentStatus::Failed);
        }
    }
    tasks
}
