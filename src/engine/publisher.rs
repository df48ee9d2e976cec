//! The conversation publisher: the publish step of a batch once its commit is known,
//! run where that becomes known (the store's fsync thread, in commit order, through
//! `super::sequencer`), with no task of its own. It answers the batch's callers and
//! carries out its effects: events to desks and widgets (each event's JSON written
//! once, [`EventTexts`]), committed events to the live figures, studio calls through
//! the [`Bridge`], and the batch's routing effects ([`RoutingBatch`]: the agent
//! manager, the metrics, observers, the task log's live figures, routing callers).
//! All of it is synchronous: it queues text on sockets and sends on unbounded
//! channels, never waits. A batch whose commit failed delivers nothing.

use super::answers::{store_failed, Settled};
use super::studio::Bridge;
use crate::cim::{self, CimEvent};
use crate::conversation::{customer_wire, views, Effect};
use crate::delivery::LateSink;
use crate::delivery::ToCustomer;
use crate::delivery::ToDesk;
use crate::live::facts::LiveEvent;
use crate::routing::handle::{Answer, EffectBatch, LiveSink, Observers, Subscriber};
use crate::routing::{self, RoutingError};
use crate::store::{StoreError, StoreResult};
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// Studio calls that fell back to the built-in flow since start.
pub static STUDIO_FALLBACKS: AtomicU64 = AtomicU64::new(0);

/// Carries out committed batches; `super::sequencer` hands them over in queue order.
pub(super) struct Publisher {
    pub(super) bridge: Bridge,
    pub(super) to_desk: Arc<LateSink<ToDesk>>,
    pub(super) to_customer: Arc<LateSink<ToCustomer>>,
    /// Cancelled when a commit failed: the core's state is then ahead of the store,
    /// so the engine halts (`super::Wiring::halted`).
    pub(super) halted: CancellationToken,
    pub(super) committed: Option<mpsc::UnboundedSender<Vec<Arc<CimEvent>>>>,
    pub(super) message_latency: metrics::Histogram,
    pub(super) routing: RoutingOut,
}

/// Where committed routing effects go.
pub(super) struct RoutingOut {
    /// Must hear of every batch (agent manager, metrics).
    pub(super) subscribers: Vec<Subscriber>,
    /// May skip batches under load (queue positions, dashboards).
    pub(super) observers: Observers,
    /// The task log's rows, for the live figures.
    pub(super) task_log: Option<LiveSink>,
}

/// A routing call's answer: its own effects, sent to its caller; the input's name
/// for a refusal.
pub(super) type RoutingReply = (
    oneshot::Sender<Vec<routing::Effect>>,
    &'static str,
    Vec<routing::Effect>,
);

/// A batch's routing part: its effects, the task log's rows it stores, and what its
/// routing callers wait for.
pub(super) struct RoutingBatch {
    pub(super) effects: Vec<routing::Effect>,
    pub(super) logged: Vec<LiveEvent>,
    pub(super) replies: Vec<RoutingReply>,
    pub(super) answers: Vec<Answer>,
}

impl RoutingBatch {
    /// The batch was not stored: no one hears of its effects, and each call is
    /// answered with a refusal saying so. The core has moved on; the next successful
    /// commit of these records rewrites them whole, an offer no desk saw ends at its
    /// accept timeout, and a restart restores from what is stored. The batch's
    /// inputs are missing from the journal: a replay of this run diverges after it
    /// (docs/architecture.md, "Input journal").
    pub(super) fn not_stored(self, err: &StoreError) {
        if !self.effects.is_empty() {
            tracing::error!(error = %err, "routing effects could not be persisted; none published");
        }
        let refusal = RoutingError::NotStored(err.to_string());
        for (reply, input, _) in self.replies {
            let _ = reply.send(vec![routing::Effect::Rejected {
                input,
                error: refusal.clone(),
            }]);
        }
        for answer in self.answers {
            answer();
        }
    }
}

/// One batch between its core step and its delivery: the callers' settled answers
/// and the effects to carry out once the batch's write (if any) has committed.
pub(super) struct Queued {
    pub(super) answers: Vec<Settled>,
    pub(super) deliveries: Vec<Effect>,
    pub(super) texts: EventTexts,
    pub(super) has_outbox: bool,
    /// The batch's events the live figures read, sent on once committed.
    pub(super) live: Vec<Arc<CimEvent>>,
    /// When the driver received the batch's first request (a std clock: the
    /// publish step runs off the runtime).
    pub(super) received: Instant,
    pub(super) routing: RoutingBatch,
}

impl Publisher {
    /// Answers the batch's callers and delivers its effects once `stored` says its
    /// write committed (`Ok` too for a batch that stored nothing); a failed write
    /// delivers nothing and fails the callers.
    pub(super) fn publish(&self, batch: Queued, stored: StoreResult<()>) {
        let Queued {
            answers,
            deliveries,
            mut texts,
            has_outbox,
            live,
            received,
            routing,
        } = batch;
        if let Err(e) = stored {
            if !self.halted.is_cancelled() {
                tracing::error!(error = %e, "a batch of the engine could not be stored; the engine halts so that a restart continues from what is stored");
                self.halted.cancel();
            }
            store_failed(&e, answers);
            routing.not_stored(&e);
            return;
        }
        // Routing first, as when routing committed before the conversations heard of
        // it. The agent manager delivers routing effects from its own task, so a desk
        // may still see a conversation's events before the routing message of the same
        // step; desks take either order (the e2e desk tests).
        self.publish_routing(routing);
        if has_outbox {
            self.to_customer.deliver(ToCustomer::OutboxReady);
        }
        for answer in answers {
            answer.send();
        }
        if let (Some(sink), false) = (&self.committed, live.is_empty()) {
            let _ = sink.send(live);
        }
        let mut stored = 0u32;
        for effect in deliveries {
            if matches!(
                effect,
                Effect::Ack {
                    duplicate: false,
                    seq,
                    ..
                } if seq != crate::conversation::typing::EPHEMERAL_SEQ
            ) {
                stored += 1;
            }
            self.deliver(effect, &mut texts);
        }
        if stored > 0 {
            let latency = received.elapsed().as_secs_f64();
            for _ in 0..stored {
                self.message_latency.record(latency);
            }
        }
    }

    /// Publishes a committed batch's routing effects, then answers its callers.
    fn publish_routing(&self, batch: RoutingBatch) {
        let RoutingBatch {
            effects,
            logged,
            replies,
            answers,
        } = batch;
        if let (Some(sink), false) = (&self.routing.task_log, logged.is_empty()) {
            let _ = sink.send(logged);
        }
        if !effects.is_empty() {
            let batch: EffectBatch = Arc::new(effects);
            for subscriber in &self.routing.subscribers {
                let _ = subscriber.send(batch.clone());
            }
            self.routing.observers.publish(batch);
        }
        for (reply, _, effects) in replies {
            let _ = reply.send(effects);
        }
        for answer in answers {
            answer();
        }
    }

    /// Carries out one committed effect.
    fn deliver(&self, effect: Effect, texts: &mut EventTexts) {
        match effect {
            Effect::Persist(_) | Effect::Ack { .. } | Effect::Rejected(_) => {}
            Effect::ToCustomer {
                conversation_id,
                address,
                seq,
                event,
            } => {
                if address
                    .provider_webhook
                    .as_deref()
                    .is_none_or(str::is_empty)
                {
                    self.to_customer.deliver(ToCustomer::Event {
                        conversation_id,
                        channel_session_id: address.channel_session_id,
                        service_identifier: address.service_identifier,
                        channel_customer_identifier: address.channel_customer_identifier,
                        event: texts.customer_wire(&event, seq),
                    });
                }
            }
            Effect::ToAgents {
                conversation_id,
                agent_ids,
                seq,
                event,
            } => {
                self.to_desk.deliver(ToDesk::CimEvent {
                    agent_ids,
                    conversation_id,
                    seq,
                    event: texts.wire(&event, seq),
                });
            }
            Effect::Ephemeral {
                conversation_id,
                agent_ids,
                customer,
                event,
            } => self.deliver_ephemeral(conversation_id, agent_ids, customer, &event),
            Effect::ToBots { .. } | Effect::ChannelSessionStarted { .. } => {}
            Effect::ChannelSessionClosed {
                channel_session_id,
                reason,
                ..
            } => {
                self.to_customer.deliver(ToCustomer::SessionEnded {
                    channel_session_id,
                    reason,
                });
            }
            // What a conversation asks of routing the site applied inside the step.
            Effect::FindAgent(_)
            | Effect::CancelTasks { .. }
            | Effect::AgentTaskEnded { .. }
            | Effect::WrapupEnded { .. } => {}
            Effect::WrapupTimerStarted {
                conversation_id,
                agent_id,
                task_id,
                duration_secs,
                room_info,
            } => {
                self.to_desk.deliver(ToDesk::WrapupTimerStarted {
                    agent_id,
                    payload: json!({
                        "task": task_id.map(|id| json!({"id": id})),
                        "duration": duration_secs,
                        "conversationId": conversation_id,
                        "roomInfo": room_info,
                    }),
                });
            }
            Effect::TopicClosed {
                conversation_id,
                agent_ids,
            } => {
                self.to_desk.deliver(ToDesk::TopicClosed {
                    agent_ids,
                    conversation_id,
                });
            }
            Effect::NotifyDesks {
                agent_ids,
                event,
                payload,
            } => self.to_desk.deliver(ToDesk::Notify {
                agent_ids,
                event,
                payload,
            }),
            Effect::AgentSlaThreshold {
                conversation_id,
                agent_ids,
                percent,
                remaining_ms,
            } => {
                self.to_desk.deliver(ToDesk::Notify {
                    agent_ids,
                    event: "agentSlaThreshold",
                    payload: json!({
                        "conversationId": conversation_id,
                        "percent": percent,
                        "remainingMs": remaining_ms,
                    }),
                });
            }
            Effect::CallStudio {
                request_id,
                message,
                timeout_ms,
                ..
            } => self.bridge.call_studio(request_id, *message, timeout_ms),
            Effect::StudioFallback {
                conversation_id,
                intent,
                reason,
                ..
            } => {
                STUDIO_FALLBACKS.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(conversation = %conversation_id, intent = %intent, %reason, "external flow failed; built-in flow used");
            }
            Effect::ActionFailed {
                conversation_id,
                action,
                reason,
            } => {
                tracing::warn!(conversation = %conversation_id, action, %reason, "studio action failed");
            }
            Effect::ConversationClosed { conversation_id } => {
                tracing::debug!(conversation = %conversation_id, "conversation closed");
            }
        }
    }

    /// A typing indicator: the desks get it as `onCimEvent` and the widget as
    /// `MESSAGE_RECEIVED`, both without a `seq`.
    fn deliver_ephemeral(
        &self,
        conversation_id: String,
        agent_ids: Vec<String>,
        customer: Option<crate::conversation::CustomerAddress>,
        event: &Arc<CimEvent>,
    ) {
        if let Some(address) = customer {
            self.to_customer.deliver(ToCustomer::Event {
                conversation_id: conversation_id.clone(),
                channel_session_id: address.channel_session_id,
                service_identifier: address.service_identifier,
                channel_customer_identifier: address.channel_customer_identifier,
                event: Arc::from(views::customer_event(event).to_string()),
            });
        }
        if !agent_ids.is_empty() {
            self.to_desk.deliver(ToDesk::Ephemeral {
                agent_ids,
                conversation_id,
                event: Arc::from(cim::event_text(event)),
            });
        }
    }
}

/// Each event of a batch encoded to JSON once: the stored text, the wire text (with
/// its `seq`) shared by every desk that receives it, and the customer's view of it.
#[derive(Default)]
pub(super) struct EventTexts {
    /// Keyed by the event's address; the map holds the `Arc` so the address stays its.
    plain: HashMap<usize, (Arc<CimEvent>, Arc<str>)>,
    wire: HashMap<(usize, u64), Arc<str>>,
    customer: HashMap<(usize, u64), (Arc<CimEvent>, Arc<str>)>,
}

impl EventTexts {
    fn plain(&mut self, event: &Arc<CimEvent>) -> Arc<str> {
        self.plain
            .entry(Arc::as_ptr(event) as usize)
            .or_insert_with(|| (event.clone(), Arc::from(cim::event_text(event))))
            .1
            .clone()
    }

    fn wire(&mut self, event: &Arc<CimEvent>, seq: u64) -> Arc<str> {
        let key = (Arc::as_ptr(event) as usize, seq);
        if let Some(text) = self.wire.get(&key) {
            return text.clone();
        }
        let plain = self.plain(event);
        let text: Arc<str> = Arc::from(cim::wire_text(event, &plain, seq));
        self.wire.insert(key, text.clone());
        text
    }

    /// The customer's view of the event (`views::customer_event`) with its `seq`,
    /// written straight from the event ([`customer_wire`]).
    fn customer_wire(&mut self, event: &Arc<CimEvent>, seq: u64) -> Arc<str> {
        let key = (Arc::as_ptr(event) as usize, seq);
        self.customer
            .entry(key)
            .or_insert_with(|| {
                // The entry holds the event: its address stays unique while keyed.
                let text = customer_wire::customer_event_text(event, seq);
                (event.clone(), Arc::from(text))
            })
            .1
            .clone()
    }
}
