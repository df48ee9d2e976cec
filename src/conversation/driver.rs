//! The conversation driver: one tokio task owning the [`ConversationCore`]. It turns
//! requests (desks, channels), committed routing effects and studio answers into
//! core inputs and queues every persist step of a batch (events, conversation rows,
//! outbox rows) as one store write whose completion publishes the batch: only after
//! the commit, and in the order the batches were queued (`sequencer`), are callers
//! answered and events delivered to desks, widgets, routing and the external studio
//! flow, on the store's fsync thread, with no publishing task between. The core goes
//! on with the next batch while the store commits the last one, so the core's work
//! and the commit overlap instead of adding up. What each request becomes, and the
//! answer its caller gets, is in `driver::requests`.

mod requests;

use super::answers::{store_failed, Outcome, Settled, Waiter};
use super::bridge::Bridge;
use super::handle::{ConversationHandle, Request};
use super::publisher::{EventTexts, Publisher, Queued};
use super::sequencer::Sequencer;
use super::views;
use super::{ConversationCore, CoreSettings, Effect, Input};
use crate::agents::ToDesk;
use crate::channels::ToCustomer;
use crate::cim::CimEvent;
use crate::clock::{now_ms, Millis};
use crate::delivery::LateSink;
use crate::health::{Health, RunningGuard};
use crate::routing::{EffectBatch, RoutingHandle};
use crate::site::bridge::conversation_input;
use crate::store::conversation_rows::{self, OutboxRow, RowsWritten};
use crate::store::{conversations as rows, Store, StoreError};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Everything the driver talks to.
pub struct Wiring {
    pub store: Store,
    pub routing: RoutingHandle,
    pub routing_effects: mpsc::UnboundedReceiver<EffectBatch>,
    /// Desk deliveries, made where each batch is published (`crate::delivery`).
    pub to_desk: Arc<LateSink<ToDesk>>,
    /// Customer deliveries, made where each batch is published.
    pub to_customer: Arc<LateSink<ToCustomer>>,
    pub health: Health,
    pub shutdown: CancellationToken,
    /// Committed events the live figures read (`crate::live::facts::is_relevant`),
    /// one batch per commit, in commit order.
    pub committed: Option<mpsc::UnboundedSender<Vec<Arc<CimEvent>>>>,
    /// Received-to-delivered time of every client message or event stored.
    pub message_latency: metrics::Histogram,
}

pub use super::publisher::STUDIO_FALLBACKS;

enum Item {
    Request(Request),
    Routing(EffectBatch),
    Studio(Box<Input>),
}

/// Restores open conversations from the store and starts the driver.
pub async fn spawn(
    settings: CoreSettings,
    wiring: Wiring,
) -> Result<(ConversationHandle, tokio::task::JoinHandle<()>), StoreError> {
    let restored = wiring
        .store
        .read(|c| {
            rows::open_conversations(c, 1024)?
                .into_iter()
                .map(conversation_rows::restore_record)
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let queue_sla = wiring
        .store
        .read(crate::store::directory::list_queues)
        .await?
        .into_iter()
        .map(|q| (q.id, q.agent_sla_secs.max(0) as u32))
        .collect();
    let studio_url = settings.studio.url.clone();
    let mut core = ConversationCore::new(settings);
    let restored_count = restored.len();
    let initial = core.handle(
        now_ms(),
        Input::Restore {
            conversations: restored,
        },
    );
    if restored_count > 0 {
        tracing::info!(
            conversations = restored_count,
            "open conversations restored"
        );
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let (studio_tx, studio_rx) = mpsc::unbounded_channel();
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| StoreError::Corrupt(format!("http client: {e}")))?;
    let handle = ConversationHandle::new(tx, wiring.store.clone());
    let commit_failed = Arc::new(AtomicBool::new(false));
    let live_figures = wiring.committed.is_some();
    let publisher = Publisher {
        bridge: Bridge {
            runtime: tokio::runtime::Handle::current(),
            routing: wiring.routing,
            studio_tx,
            studio_url,
            http,
        },
        to_desk: wiring.to_desk,
        to_customer: wiring.to_customer,
        commit_failed: commit_failed.clone(),
        committed: wiring.committed,
        message_latency: wiring.message_latency,
    };
    let sequencer = Sequencer::new(publisher);
    let driver = Driver {
        core,
        store: wiring.store,
        queue_sla,
        sequencer: sequencer.clone(),
        written: RowsWritten::default(),
        commit_failed,
        live_figures,
        received: std::time::Instant::now(),
    };
    let task = tokio::spawn(async move {
        // Running while the driver runs and until every batch it queued is published.
        let _running = RunningGuard::new(&wiring.health, "conversations");
        driver
            .run(
                rx,
                wiring.routing_effects,
                studio_rx,
                initial,
                wiring.shutdown,
            )
            .await;
        // What the driver queued is still delivered as its writes settle.
        sequencer.drained().await;
        tracing::debug!("conversation driver stopped");
    });
    Ok((handle, task))
}

/// Owns the core: feeds it, queues each batch's write, and each batch's publication
/// behind the earlier ones.
struct Driver {
    core: ConversationCore,
    store: Store,
    queue_sla: HashMap<String, u32>,
    sequencer: Arc<Sequencer>,
    written: RowsWritten,
    /// Set by the publisher when a commit failed: what `written` believes
    /// was written may not have been.
    commit_failed: Arc<AtomicBool>,
    /// Whether committed events go on to the live figures.
    live_figures: bool,
    /// When the batch being handled was received.
    received: std::time::Instant,
}

const MAX_BATCH: usize = 512;

impl Driver {
    async fn run(
        mut self,
        mut requests: mpsc::UnboundedReceiver<Request>,
        mut routing_effects: mpsc::UnboundedReceiver<EffectBatch>,
        mut studio: mpsc::UnboundedReceiver<Input>,
        initial: Vec<Effect>,
        shutdown: CancellationToken,
    ) {
        if !self.finish(now_ms(), initial, Vec::new()).await {
            return;
        }
        let mut routing_open = true;
        let mut studio_open = true;
        loop {
            let deadline = self.core.next_deadline();
            let first = tokio::select! {
                biased;
                r = routing_effects.recv(), if routing_open => match r {
                    Some(r) => Some(Item::Routing(r)),
                    None => {
                        routing_open = false;
                        None
                    }
                },
                s = studio.recv(), if studio_open => match s {
                    Some(s) => Some(Item::Studio(Box::new(s))),
                    // Only the publisher holds the sender, and the driver holds it.
                    None => {
                        studio_open = false;
                        None
                    }
                },
                q = requests.recv() => match q {
                    Some(q) => Some(Item::Request(q)),
                    None => break,
                },
                _ = sleep_until(instant_at(deadline)), if deadline.is_some() => None,
                _ = shutdown.cancelled() => break,
            };
            self.received = std::time::Instant::now();
            let mut batch: Vec<Item> = first.into_iter().collect();
            while batch.len() < MAX_BATCH {
                if let Ok(r) = routing_effects.try_recv() {
                    batch.push(Item::Routing(r));
                } else if let Ok(s) = studio.try_recv() {
                    batch.push(Item::Studio(Box::new(s)));
                } else if let Ok(q) = requests.try_recv() {
                    batch.push(Item::Request(q));
                } else {
                    break;
                }
            }
            let now = now_ms();
            let mut effects = Vec::new();
            let mut waiters = Vec::new();
            if self.core.next_deadline().is_some_and(|d| d <= now) {
                effects.extend(self.core.handle(now, Input::Tick));
            }
            for item in batch {
                match item {
                    Item::Request(request) => {
                        self.request(now, request, &mut effects, &mut waiters)
                    }
                    Item::Routing(batch) => {
                        for effect in batch.iter() {
                            if let Some(input) =
                                conversation_input(effect, |q| self.queue_sla.get(q).copied())
                            {
                                effects.extend(self.core.handle(now, input));
                            }
                        }
                    }
                    Item::Studio(input) => effects.extend(self.core.handle(now, *input)),
                }
            }
            if !self.finish(now, effects, waiters).await {
                tracing::error!("conversation publishing failed; the conversation driver stops");
                break;
            }
        }
    }

    /// Queues the batch's persist steps (with outbox rows) as one write, settles each
    /// caller's answer from the state this batch left, and queues both for
    /// publication once the write has committed. False when publishing failed.
    async fn finish(
        &mut self,
        now: Millis,
        effects: Vec<Effect>,
        waiters: Vec<(Waiter, Outcome)>,
    ) -> bool {
        if self.commit_failed.swap(false, Ordering::Relaxed) {
            self.written.forget_all();
        }
        if tracing::enabled!(tracing::Level::TRACE) {
            for e in &effects {
                tracing::trace!(effect = ?e, "conversation effect");
            }
        }
        let texts = EventTexts::default();
        let mut steps = Vec::new();
        let mut outbound = Vec::new();
        let mut deliveries = Vec::with_capacity(effects.len());
        let mut unencodable = None;
        let mut live = Vec::new();
        for effect in effects {
            match effect {
                Effect::Persist(step) => {
                    if self.live_figures {
                        live.extend(
                            step.events
                                .iter()
                                .filter(|e| crate::live::facts::is_relevant(e.event.name.as_str()))
                                .map(|e| Arc::clone(&e.event)),
                        );
                    }
                    match self.written.encode(*step) {
                        Ok(encoded) => steps.push(encoded),
                        Err(e) => {
                            unencodable.get_or_insert(e);
                        }
                    }
                    continue;
                }
                Effect::ToCustomer {
                    ref conversation_id,
                    ref address,
                    ref event,
                    ..
                } => {
                    if let Some(url) = address
                        .provider_webhook
                        .as_deref()
                        .filter(|u| !u.is_empty())
                    {
                        outbound.push(OutboxRow {
                            message_id: event.id.clone(),
                            conversation_id: conversation_id.clone(),
                            url: url.to_string(),
                            payload: views::customer_event(event),
                        });
                    }
                }
                Effect::ToBots {
                    ref conversation_id,
                    ref bots,
                    ref event,
                    ..
                } => {
                    for bot in bots {
                        if let Some(uri) = bot.uri.as_deref_str().filter(|u| !u.is_empty()) {
                            outbound.push(OutboxRow {
                                message_id: event.id.clone(),
                                conversation_id: conversation_id.clone(),
                                url: uri.to_string(),
                                payload: serde_json::to_value(&**event).unwrap_or(Value::Null),
                            });
                        }
                    }
                }
                _ => {}
            }
            deliveries.push(effect);
        }
        let has_outbox = !outbound.is_empty();
        // Answers reflect the state after this batch, which is what its commit stores.
        let answers: Vec<Settled> = waiters
            .into_iter()
            .map(|(waiter, outcome)| self.settle(waiter, outcome))
            .collect();
        if let Some(e) = unencodable {
            // Like a failed write: nothing of the batch is stored or delivered.
            self.written.forget_all();
            store_failed(&e, answers);
            return true;
        }
        let stores = !(steps.is_empty() && outbound.is_empty());
        let queued = Queued {
            answers,
            deliveries,
            texts,
            has_outbox,
            live,
            received: self.received,
        };
        let Some(ticket) = self.sequencer.queue(queued).await else {
            return false;
        };
        if stores {
            // Published where the commit becomes known, the fsync thread; a write the
            // store could not take settles failed at once (`commit_failed` then
            // has the next batch forget what it believed written).
            let sequencer = self.sequencer.clone();
            self.store
                .submit_then(
                    move |c| conversation_rows::write_batch(c, &steps, &outbound, now),
                    move |stored| sequencer.settle(ticket, stored),
                )
                .await;
        } else {
            // Published here unless earlier batches still wait for their commits.
            self.sequencer.settle(ticket, Ok(()));
        }
        !self.sequencer.broken()
    }
}

fn instant_at(deadline: Option<Millis>) -> Instant {
    let wait = deadline.map_or(0, |d| (d - now_ms()).max(0)) as u64;
    Instant::now() + Duration::from_millis(wait)
}
