//! The engine driver: one tokio task owning the [`Site`] — the routing core and the
//! conversation core, bridged inside each step (`crate::site`). It turns requests
//! (desks, channels), routing commands (`RoutingHandle`) and studio answers into site
//! inputs and queues every effect of a batch — task, agent and pull-request rows, the
//! task log and its report aggregates, the input journal, conversation events and
//! rows, outbox rows — as one store write whose completion publishes the batch: only
//! after the commit, and in the order the batches were queued (`sequencer`), are
//! routing effects published (agent manager, metrics, observers, live figures),
//! callers answered and events delivered to desks, widgets and the external studio
//! flow, on the store's fsync thread, with no publishing task between. The site goes
//! on with the next batch while the store commits the last one, so the core's work
//! and the commit overlap instead of adding up. What each conversation request
//! becomes, and the answer its caller gets, is in `engine::requests`.

mod answers;
mod publisher;
mod requests;
mod sequencer;
mod studio;

use crate::cim::CimEvent;
use crate::clock::{now_ms, Millis};
use crate::conversation::handle::{ConversationHandle, Request};
use crate::conversation::views;
use crate::conversation::{CoreSettings, Effect, Input, UuidIds};
use crate::delivery::LateSink;
use crate::delivery::ToCustomer;
use crate::delivery::ToDesk;
use crate::health::{Health, RunningGuard};
use crate::journal::Recorder;
use crate::live::facts;
use crate::reports::TallySettings;
use crate::routing::handle::{Answer, Command, JournalSettings, LiveSink, Observers, Subscriber};
use crate::routing::{self, loader, RoutingConfig, RoutingHandle};
use crate::site::{Site, SiteEffect, SiteInput};
use crate::store::conversation_rows::{self, OutboxRow, RowsWritten};
use crate::store::journal::Kind;
use crate::store::routing_rows::RoutingRows;
use crate::store::{conversations as rows, Store, StoreError};
use answers::{Outcome, Settled, Waiter};
use publisher::{EventTexts, Publisher, Queued, RoutingBatch, RoutingOut, RoutingReply};
use sequencer::Sequencer;
use serde_json::Value;
use std::sync::Arc;
use studio::Bridge;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Everything the driver talks to.
pub struct Wiring {
    pub store: Store,
    pub routing: RoutingConfig,
    /// What the routing part of each batch notes in the input journal.
    pub journal: JournalSettings,
    /// Where committed routing effects must arrive (agent manager, metrics).
    pub subscribers: Vec<Subscriber>,
    /// Where committed routing effects are offered (dashboards, queue positions).
    pub observers: Observers,
    /// With it, every task change is appended to the task log (`task_log`) in the
    /// batch's transaction, folded into the report aggregates by `reports`, and sent
    /// here once committed (the live figures). Agent state changes always keep
    /// their report spans.
    pub task_log: Option<LiveSink>,
    pub reports: TallySettings,
    /// Desk deliveries, made where each batch is published (`crate::delivery`).
    pub to_desk: Arc<LateSink<ToDesk>>,
    /// Customer deliveries, made where each batch is published.
    pub to_customer: Arc<LateSink<ToCustomer>>,
    pub health: Health,
    pub shutdown: CancellationToken,
    /// Cancelled by the engine when a batch could not be committed. Its core has then
    /// moved past what is stored (a message it took is one it would answer as a
    /// duplicate), so it handles nothing more and the appliance stops: a restart
    /// rebuilds it from what is stored, as after `kill -9`.
    pub halted: CancellationToken,
    /// Committed events the live figures read (`crate::live::facts::is_relevant`),
    /// one batch per commit, in commit order.
    pub committed: Option<mpsc::UnboundedSender<Vec<Arc<CimEvent>>>>,
    /// Received-to-delivered time of every client message or event stored.
    pub message_latency: metrics::Histogram,
}

pub use publisher::STUDIO_FALLBACKS;

/// The engine, started.
pub struct Engine {
    pub routing: RoutingHandle,
    pub conversations: ConversationHandle,
    pub task: tokio::task::JoinHandle<()>,
}

enum Item {
    Request(Request),
    Routing(Command),
    Studio(Box<Input>),
}

/// What a batch's routing callers wait for: each call's own effects, each query's
/// answer; sent once the batch's write has committed.
#[derive(Default)]
struct RoutingCallers {
    replies: Vec<RoutingReply>,
    answers: Vec<Answer>,
}

/// Rebuilds the site from the store (open conversations, the routing
/// configuration, agents, open tasks and pull requests), commits what the restore
/// changed (re-queued reservations, UNKNOWN agents) and starts the driver.
pub async fn spawn(settings: CoreSettings, wiring: Wiring) -> Result<Engine, StoreError> {
    let restored = wiring
        .store
        .read(|c| {
            rows::open_conversations(c, 1024)?
                .into_iter()
                .map(conversation_rows::restore_record)
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let routing_restore = wiring.store.read(loader::load).await?;
    let now = now_ms();
    let mut recorder = Recorder::new(wiring.journal.on, wiring.journal.snapshot_every_ms);
    recorder.start(now, &wiring.routing);
    recorder.noting_as(Kind::Restore);
    let studio_url = settings.studio.url.clone();
    let mut site = Site::with_steps(
        wiring.routing.clone(),
        settings,
        UuidIds::default(),
        recorder,
    );
    let restored_count = restored.len();
    let initial = site.restore(now, restored, routing_restore);
    site.routing_and_steps().1.noting_as(Kind::Input);
    if restored_count > 0 {
        tracing::info!(
            conversations = restored_count,
            "open conversations restored"
        );
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let (routing, routing_rx) = RoutingHandle::new();
    let (studio_tx, studio_rx) = mpsc::unbounded_channel();
    let http = reqwest::Client::builder()
        .build()
        .map_err(|e| StoreError::Corrupt(format!("http client: {e}")))?;
    let handle = ConversationHandle::new(tx, wiring.store.clone());
    let live_figures = wiring.committed.is_some();
    let task_log = wiring.task_log.is_some();
    let publisher = Publisher {
        bridge: Bridge {
            runtime: tokio::runtime::Handle::current(),
            studio_tx,
            studio_url,
            http,
        },
        to_desk: wiring.to_desk,
        to_customer: wiring.to_customer,
        halted: wiring.halted.clone(),
        committed: wiring.committed,
        message_latency: wiring.message_latency,
        routing: RoutingOut {
            subscribers: wiring.subscribers,
            observers: wiring.observers,
            task_log: wiring.task_log,
        },
    };
    let sequencer = Sequencer::new(publisher);
    let mut driver = Driver {
        site,
        store: wiring.store,
        sequencer: sequencer.clone(),
        written: RowsWritten::default(),
        halted: wiring.halted,
        live_figures,
        task_log,
        reports: wiring.reports,
        received: std::time::Instant::now(),
    };
    // What the restore changed is committed (and published) before anything else.
    if !driver
        .finish(now, initial, Vec::new(), RoutingCallers::default())
        .await
    {
        return Err(StoreError::Corrupt(
            "the engine's restore could not be published".into(),
        ));
    }
    // The engine starts only on what is stored: a restore the store refused stops the
    // start, as a failed migration does (the publisher logged why).
    sequencer.drained().await;
    if driver.halted.is_cancelled() {
        return Err(StoreError::Corrupt(
            "the engine's restore could not be stored".into(),
        ));
    }
    let health = wiring.health;
    let shutdown = wiring.shutdown;
    let task = tokio::spawn(async move {
        // Running while the driver runs and until every batch it queued is published.
        let _routing = RunningGuard::new(&health, "routing");
        let _conversations = RunningGuard::new(&health, "conversations");
        driver.run(rx, routing_rx, studio_rx, shutdown).await;
        // What the driver queued is still delivered as its writes settle.
        sequencer.drained().await;
        tracing::debug!("engine driver stopped");
    });
    Ok(Engine {
        routing,
        conversations: handle,
        task,
    })
}

/// Owns the site: feeds it, queues each batch's write, and each batch's publication
/// behind the earlier ones.
struct Driver {
    site: Site<UuidIds, Recorder>,
    store: Store,
    sequencer: Arc<Sequencer>,
    written: RowsWritten,
    /// Cancelled by the publisher when a commit failed (`Wiring::halted`).
    halted: CancellationToken,
    /// Whether committed events go on to the live figures.
    live_figures: bool,
    /// Whether task changes go to the task log (and on to the live figures).
    task_log: bool,
    reports: TallySettings,
    /// When the batch being handled was received.
    received: std::time::Instant,
}

const MAX_BATCH: usize = 512;

impl Driver {
    async fn run(
        mut self,
        mut requests: mpsc::UnboundedReceiver<Request>,
        mut routing: mpsc::UnboundedReceiver<Command>,
        mut studio: mpsc::UnboundedReceiver<Input>,
        shutdown: CancellationToken,
    ) {
        let mut routing_open = true;
        let mut studio_open = true;
        loop {
            let deadline = self.site.next_deadline();
            let first = tokio::select! {
                biased;
                r = routing.recv(), if routing_open => match r {
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
                _ = self.halted.cancelled() => break,
            };
            if self.halted.is_cancelled() {
                // What was taken in meanwhile is dropped: its callers hear that the
                // engine is unavailable, and nothing is decided on a state the store
                // does not have.
                break;
            }
            self.received = std::time::Instant::now();
            let mut batch: Vec<Item> = first.into_iter().collect();
            while batch.len() < MAX_BATCH {
                if let Ok(r) = routing.try_recv() {
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
            {
                let (routing, conversations, ids, recorder) = self.site.cores_and_steps();
                if recorder.snapshot_if_due(now, routing) {
                    recorder.note_conversations(now, conversations, Some(ids));
                }
            }
            let mut effects = Vec::new();
            let mut waiters = Vec::new();
            let mut callers = RoutingCallers::default();
            if self.site.next_deadline().is_some_and(|d| d <= now) {
                effects.extend(self.site.handle(now, SiteInput::Tick));
            }
            for item in batch {
                match item {
                    Item::Request(request) => {
                        self.request(now, request, &mut effects, &mut waiters)
                    }
                    Item::Routing(Command::Input(input, reply)) => {
                        let name = routing::input_name(&input);
                        let step = self.site.handle_step(now, SiteInput::Routing(input));
                        if let Some(reply) = reply {
                            let own = step.effects[step.own.clone()]
                                .iter()
                                .filter_map(|e| match e {
                                    SiteEffect::Routing(e) => Some(e.clone()),
                                    _ => None,
                                })
                                .collect();
                            callers.replies.push((reply, name, own));
                        }
                        effects.extend(step.effects);
                    }
                    Item::Routing(Command::Query(query)) => {
                        callers.answers.push(query(self.site.routing(), now));
                    }
                    Item::Studio(input) => {
                        effects.extend(self.site.handle(now, SiteInput::Conversation(input)))
                    }
                }
            }
            if !self.finish(now, effects, waiters, callers).await {
                tracing::error!("the engine's publishing failed; the engine halts");
                self.halted.cancel();
                break;
            }
        }
    }

    /// Queues the batch's routing rows, persist steps and outbox rows as one write,
    /// settles each caller's answer from the state this batch left, and queues both
    /// for publication once the write has committed. False when publishing failed.
    async fn finish(
        &mut self,
        now: Millis,
        effects: Vec<SiteEffect>,
        waiters: Vec<(Waiter, Outcome)>,
        callers: RoutingCallers,
    ) -> bool {
        if tracing::enabled!(tracing::Level::TRACE) {
            for e in &effects {
                tracing::trace!(effect = ?e, "engine effect");
            }
        }
        let texts = EventTexts::default();
        let mut steps = Vec::new();
        let mut outbound = Vec::new();
        let mut deliveries = Vec::with_capacity(effects.len());
        let mut routing_effects = Vec::new();
        let mut unencodable = None;
        let mut live = Vec::new();
        for effect in effects {
            let effect = match effect {
                SiteEffect::Conversation(effect) => effect,
                SiteEffect::Routing(effect) => {
                    routing_effects.push(effect);
                    continue;
                }
                SiteEffect::Unroutable { conversation_id } => {
                    tracing::warn!(conversation = %conversation_id, "FIND_AGENT without a queue; nothing to route to");
                    continue;
                }
                // Answers to the desk that accepted or joined (`engine::requests`).
                SiteEffect::Accepted { .. } | SiteEffect::PullJoined { .. } => continue,
            };
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
        let logged: Vec<facts::LiveEvent> = match self.task_log {
            true => routing_effects
                .iter()
                .filter_map(|e| facts::of_effect(e, now))
                .collect(),
            false => Vec::new(),
        };
        let entries = self.site.routing_and_steps().1.take();
        let routing_rows = RoutingRows::of(&routing_effects, &logged, entries, self.reports);
        // Answers reflect the state after this batch, which is what its commit stores.
        let answers: Vec<Settled> = waiters
            .into_iter()
            .map(|(waiter, outcome)| self.settle(waiter, outcome))
            .collect();
        let routing = RoutingBatch {
            effects: routing_effects,
            logged,
            replies: callers.replies,
            answers: callers.answers,
        };
        let queued = Queued {
            answers,
            deliveries,
            texts,
            has_outbox,
            live,
            received: self.received,
            routing,
        };
        let Some(ticket) = self.sequencer.queue(queued).await else {
            return false;
        };
        let routing_rows = match (unencodable, routing_rows) {
            (None, Ok(rows)) => rows,
            (Some(e), _) | (None, Err(e)) => {
                // Like a failed write, published in its turn: nothing of the batch is
                // stored or delivered, and its callers hear why after the batches
                // before it are out. The engine halts now, so that no batch queued
                // behind this one writes.
                self.halted.cancel();
                self.sequencer.settle(ticket, Err(e));
                return !self.sequencer.broken();
            }
        };
        let stores = !(steps.is_empty() && outbound.is_empty() && routing_rows.is_empty());
        if stores {
            // Published where the commit becomes known, the fsync thread; a write the
            // store could not take settles failed at once and halts the engine. A
            // batch queued behind a failed one writes nothing: its rows were encoded
            // against rows that are not there.
            let sequencer = self.sequencer.clone();
            let halted = self.halted.clone();
            self.store
                .submit_then(
                    move |c| {
                        if halted.is_cancelled() {
                            return Err(StoreError::NotCommitted);
                        }
                        let written = conversation_rows::write_batch(c, &steps, &outbound, now)
                            .and_then(|()| match routing_rows.is_empty() {
                                true => Ok(()),
                                false => routing_rows.write(c, now),
                            });
                        if written.is_err() {
                            // At once, on the writer thread: the jobs after this one in
                            // the writer's queue are this engine's later batches.
                            halted.cancel();
                        }
                        written
                    },
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
