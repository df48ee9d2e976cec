//! What reaches the tabs after commit: the conversation manager's deliveries
//! (`MESSAGE_RECEIVED`, session ended/expired), each to the tabs authorized for its
//! channel session, and the queue positions of waiting customers.

use super::{key, Widget};
use crate::channels::ToCustomer;
use crate::cim::ChannelSessionReasonCode;
use crate::delivery::Deliver;
use crate::routing::{EffectBatch, MediaState};
use serde_json::json;
use std::sync::Arc;

/// Delivers what the conversation manager committed for customers, where it publishes
/// each batch (`crate::delivery`).
pub struct WidgetDeliveries {
    widget: Widget,
    /// Woken when new outbox rows were committed.
    outbox: Arc<tokio::sync::Notify>,
}

impl WidgetDeliveries {
    pub fn new(widget: Widget, outbox: Arc<tokio::sync::Notify>) -> Self {
        WidgetDeliveries { widget, outbox }
    }
}

impl Deliver<ToCustomer> for WidgetDeliveries {
    fn deliver(&self, delivery: ToCustomer) {
        let this = &self.widget;
        match delivery {
            ToCustomer::Event {
                channel_session_id,
                service_identifier,
                channel_customer_identifier,
                event,
                conversation_id,
                ..
            } => {
                let customer = {
                    let mut reg = this.inner.registry.lock();
                    let by_identity = key(&service_identifier, &channel_customer_identifier);
                    if reg.customers.contains_key(&by_identity) {
                        reg.sessions
                            .entry(channel_session_id.clone())
                            .or_insert_with(|| by_identity.clone());
                        reg.conversations
                            .entry(conversation_id.clone())
                            .or_insert_with(|| by_identity.clone());
                        if let Some(c) = reg.customers.get_mut(&by_identity) {
                            c.session_id.get_or_insert(channel_session_id.clone());
                            c.conversation_id.get_or_insert(conversation_id.clone());
                        }
                        Some(by_identity)
                    } else {
                        reg.sessions
                            .get(&channel_session_id)
                            .or_else(|| reg.conversations.get(&conversation_id))
                            .cloned()
                    }
                };
                if let Some(customer) = customer {
                    this.emit_json_to(&customer, &channel_session_id, "MESSAGE_RECEIVED", &event);
                }
            }
            ToCustomer::SessionEnded {
                channel_session_id,
                reason,
            } => {
                let customer = {
                    let mut reg = this.inner.registry.lock();
                    let key = reg.sessions.remove(&channel_session_id);
                    if let Some(c) = key.as_ref().and_then(|k| reg.customers.get_mut(k)) {
                        c.session_id = None;
                        c.conversation_id = None;
                    }
                    key
                };
                if let Some(customer) = customer {
                    let event = if reason == ChannelSessionReasonCode::Inactivity {
                        "CHANNEL_SESSION_EXPIRED"
                    } else {
                        "CHANNEL_SESSION_ENDED"
                    };
                    let payload = json!({
                        "channelSessionId": channel_session_id,
                        "reason": reason.as_str(),
                    });
                    this.emit_json_to(
                        &customer,
                        &channel_session_id,
                        event,
                        &payload.to_string().into(),
                    );
                }
            }
            ToCustomer::OutboxReady => self.outbox.notify_one(),
        }
    }
}

impl Widget {
    /// Keeps waiting customers told of their queue position and estimated wait.
    pub async fn queue_positions(self, mut rx: crate::bus::Subscription<EffectBatch>) {
        use crate::routing::Effect;
        while let Some(batch) = rx.recv().await {
            let mut touched = std::collections::HashSet::new();
            {
                let mut reg = self.inner.registry.lock();
                for effect in batch.iter() {
                    let task = match effect {
                        Effect::TaskEnqueued { task, .. } | Effect::TaskStateChanged { task } => {
                            task
                        }
                        Effect::OfferTask { task, .. } | Effect::NoAgentAvailable { task } => task,
                        _ => continue,
                    };
                    touched.insert(task.media.queue.id.clone());
                    if task.media.state == MediaState::Queued && !task.is_closed() {
                        reg.queued.insert(
                            task.conversation_id.clone(),
                            (task.id.clone(), task.media.queue.id.clone()),
                        );
                    } else if reg
                        .queued
                        .get(&task.conversation_id)
                        .is_some_and(|(id, _)| *id == task.id)
                    {
                        reg.queued.remove(&task.conversation_id);
                    }
                }
            }
            if touched.is_empty() {
                continue;
            }
            let waiting: Vec<(String, String)> = {
                let reg = self.inner.registry.lock();
                reg.queued
                    .iter()
                    .filter(|(conv, (_, q))| {
                        touched.contains(q) && reg.conversations.contains_key(*conv)
                    })
                    .map(|(conv, (task, _))| (conv.clone(), task.clone()))
                    .collect()
            };
            if waiting.is_empty() {
                continue;
            }
            self.tell_positions(waiting).await;
        }
    }

    /// Tells a customer who just started a chat its queue position, if its task
    /// already waits: the chat's task may be enqueued in the very step that started
    /// it, before the widget knew the conversation was its own.
    pub(super) fn tell_position_if_queued(&self, conversation_id: &str) {
        let queued = self
            .inner
            .registry
            .lock()
            .queued
            .get(conversation_id)
            .cloned();
        if let Some((task, _)) = queued {
            let this = self.clone();
            let waiting = vec![(conversation_id.to_string(), task)];
            tokio::spawn(async move { this.tell_positions(waiting).await });
        }
    }

    /// Sends each waiting (conversation, task) its queue position and estimated wait.
    async fn tell_positions(&self, waiting: Vec<(String, String)>) {
        let positions = self
            .inner
            .routing
            .query(move |core, _| {
                waiting
                    .into_iter()
                    .filter_map(|(conv, task)| core.queue_position(&task).map(|p| (conv, p)))
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
        for (conversation_id, p) in positions {
            let customer = self
                .inner
                .registry
                .lock()
                .conversations
                .get(&conversation_id)
                .cloned();
            if let Some(customer) = customer {
                self.emit_to(
                    &customer,
                    "QUEUE_POSITION",
                    json!({
                        "conversationId": conversation_id,
                        "position": p.position,
                        "estimatedWaitMs": p.estimated_wait_ms,
                    }),
                );
            }
        }
    }
}
