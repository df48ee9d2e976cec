//! The conversation driver: one tokio task owning the [`ConversationCore`]. It turns
//! requests (desks, channels), committed routing effects and studio answers into
//! core inputs and queues every persist step of a batch (events, conversation rows,
//! outbox rows) as one store write. Its publisher task awaits those writes in the
//! order they were queued and only after each commit answers callers and delivers
//! events to desks, widgets, routing and the external studio flow. The core goes on
//! with the next batch while the store commits the last one, so the core's work and
//! the commit overlap instead of adding up.

use super::handle::{ConversationError, ConversationHandle, MessageAck, Reply, Request, Topic};
use super::stored_runtime::{CarriedRuntime, StoredRuntimes};
use super::{customer_wire, views};
use super::{
    parse_actions, ConversationCore, ConversationRecord, ConversationRuntime, CoreError,
    CoreSettings, Effect, FindAgentRequest, Input, PersistStep, RestoredConversation,
};
use crate::agents::ToDesk;
use crate::channels::ToCustomer;
use crate::cim::{self, ChannelSession, CimEvent, Conversation, ParticipantType, TaskStateReason};
use crate::clock::{now_ms, Millis};
use crate::delivery::LateSink;
use crate::health::{Health, RunningGuard};
use crate::routing::{self, driver::enum_str, Disposition, EffectBatch, RoutingHandle};
use crate::store::objects::Interner;
use crate::store::{
    conversations as rows, event_runtime, events, outbox, Pending, Store, StoreError,
};
use rusqlite::Connection;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Everything the driver talks to.
pub struct Wiring {
    pub store: Store,
    pub routing: RoutingHandle,
    pub routing_effects: mpsc::UnboundedReceiver<EffectBatch>,
    /// Desk deliveries, made on the publisher's task (`crate::delivery`).
    pub to_desk: Arc<LateSink<ToDesk>>,
    /// Customer deliveries, made on the publisher's task.
    pub to_customer: Arc<LateSink<ToCustomer>>,
    pub health: Health,
    pub shutdown: CancellationToken,
    /// Committed events the live figures read (`crate::live::facts::is_relevant`),
    /// one batch per commit, in commit order.
    pub committed: Option<mpsc::UnboundedSender<Vec<Arc<CimEvent>>>>,
    /// Received-to-delivered time of every client message or event stored.
    pub message_latency: metrics::Histogram,
}

/// Studio calls that fell back to the built-in flow since start.
pub static STUDIO_FALLBACKS: AtomicU64 = AtomicU64::new(0);

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
                .map(restore_record)
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
        routing: wiring.routing,
        to_desk: wiring.to_desk,
        to_customer: wiring.to_customer,
        studio_tx,
        studio_url,
        http,
        commit_failed: commit_failed.clone(),
        committed: wiring.committed,
        message_latency: wiring.message_latency,
    };
    let (publish_tx, publish_rx) = mpsc::channel(PUBLISH_DEPTH);
    let driver = Driver {
        core,
        store: wiring.store,
        queue_sla,
        publish: publish_tx,
        stored_routing: StoredRouting::default(),
        stored_runtimes: StoredRuntimes::default(),
        commit_failed,
        live_figures,
        received: Instant::now(),
    };
    let task = tokio::spawn(async move {
        // Running while the driver runs and until the publisher has delivered all.
        let _running = RunningGuard::new(&wiring.health, "conversations");
        let publishing = tokio::spawn(publisher.run(publish_rx));
        driver
            .run(
                rx,
                wiring.routing_effects,
                studio_rx,
                initial,
                wiring.shutdown,
            )
            .await;
        // The driver dropped its sender: what it queued is still delivered.
        if let Err(e) = publishing.await {
            tracing::error!(error = %e, "conversation publisher failed");
        }
        tracing::debug!("conversation driver stopped");
    });
    Ok((handle, task))
}

fn restore_record(stored: rows::StoredConversation) -> Result<RestoredConversation, StoreError> {
    let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("{what}: {e}"));
    let conversation: Conversation =
        serde_json::from_value(stored.snapshot).map_err(|e| corrupt("conversation", e))?;
    let channel_sessions: Vec<ChannelSession> = stored
        .channel_sessions
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .map_err(|e| corrupt("channel session", e))?;
    let runtime: ConversationRuntime =
        serde_json::from_value(stored.timers).map_err(|e| corrupt("conversation timers", e))?;
    Ok(RestoredConversation {
        record: ConversationRecord {
            conversation,
            channel_sessions,
        },
        runtime,
        last_seq: stored.last_seq,
        recent_ids: stored.recent_ids,
    })
}

/// A caller waiting for the outcome of its input, answered after commit.
enum Waiter {
    Topic(String, Reply<Topic>),
    Unit(Reply<()>),
    Seq(String, Reply<u64>),
    Message(Reply<MessageAck>),
    ChatTopic(Reply<Topic>),
    AgentConversations(String, oneshot::Sender<Vec<String>>),
}

/// Owns the core: feeds it, queues each batch's write, hands the rest to the publisher.
struct Driver {
    core: ConversationCore,
    store: Store,
    queue_sla: HashMap<String, u32>,
    publish: mpsc::Sender<Queued>,
    stored_routing: StoredRouting,
    stored_runtimes: StoredRuntimes,
    /// Set by the publisher when a commit failed: what `stored_routing` believes
    /// was written may not have been.
    commit_failed: Arc<AtomicBool>,
    /// Whether committed events go on to the live figures.
    live_figures: bool,
    /// When the batch being handled was received.
    received: Instant,
}

/// The queue and last agent each open conversation's row was last written with,
/// so a message step skips the conversation-row update when neither changed.
/// Knows only what this driver wrote: an unknown conversation is always updated.
#[derive(Default)]
struct StoredRouting(HashMap<String, (Option<String>, Option<String>)>);

impl StoredRouting {
    /// After a failed write nothing this driver wrote can be assumed stored.
    fn forget_all(&mut self) {
        self.0.clear();
    }

    /// Records what `step` writes; true when a step without a record must update
    /// the conversation row's queue or last agent.
    fn note(&mut self, step: &PersistStep) -> bool {
        self.note_parts(
            &step.conversation_id,
            &step.runtime.queue_id,
            &step.runtime.last_agent_id,
            step.record.as_ref().map(|r| &r.conversation.state),
        )
    }

    /// [`StoredRouting::note`] for a step of conversation `id` whose record (when it
    /// has one) is in `record_state`.
    fn note_parts(
        &mut self,
        id: &str,
        queue: &Option<String>,
        agent: &Option<String>,
        record_state: Option<&cim::ConversationState>,
    ) -> bool {
        if let Some(state) = record_state {
            // A full step writes the whole row, queue and last agent included.
            if *state == cim::ConversationState::Closed {
                self.0.remove(id);
            } else {
                self.0
                    .insert(id.to_string(), (queue.clone(), agent.clone()));
            }
            return false;
        }
        // Looked up before inserting: a message step of a known conversation (the
        // usual case) allocates nothing here.
        let known = self.0.contains_key(id);
        if !known {
            self.0.insert(id.to_string(), (None, None));
        }
        let Some((stored_queue, stored_agent)) = self.0.get_mut(id) else {
            return true;
        };
        // The update only ever sets the fields present in the runtime.
        let changed = !known
            || (queue.is_some() && queue != stored_queue)
            || (agent.is_some() && agent != stored_agent);
        if queue.is_some() {
            stored_queue.clone_from(queue);
        }
        if agent.is_some() {
            stored_agent.clone_from(agent);
        }
        changed
    }
}

/// A persist step with its JSON already encoded by the driver.
struct EncodedStep {
    step: PersistStep,
    events: Vec<events::EncodedEvent>,
    /// The whole runtime, for a step that writes a conversation or runtime row.
    timers: String,
    /// For a step that only appends events: what its last event carries (see
    /// `stored_runtime`), `None` when the runtime did not change.
    carried: Option<event_runtime::EncodedRuntime>,
    /// For a step without a record: the conversation row's queue or last agent may
    /// differ from the runtime's.
    routing_changed: bool,
}

/// Carries out committed batches, in the order they were queued.
struct Publisher {
    routing: RoutingHandle,
    to_desk: Arc<LateSink<ToDesk>>,
    to_customer: Arc<LateSink<ToCustomer>>,
    studio_tx: mpsc::UnboundedSender<Input>,
    studio_url: String,
    http: reqwest::Client,
    commit_failed: Arc<AtomicBool>,
    committed: Option<mpsc::UnboundedSender<Vec<Arc<CimEvent>>>>,
    message_latency: metrics::Histogram,
}

/// One batch between its core step and its delivery: the write it waits for (none
/// when it stored nothing), the callers' settled answers and the effects to carry out.
struct Queued {
    commit: Option<Pending<()>>,
    answers: Vec<Settled>,
    deliveries: Vec<Effect>,
    texts: EventTexts,
    has_outbox: bool,
    /// The batch's events the live figures read, sent on once committed.
    live: Vec<Arc<CimEvent>>,
    /// When the driver received the batch's first request.
    received: Instant,
}

const MAX_BATCH: usize = 512;
/// Batches queued for delivery before the core waits: bounds the work in flight
/// when the store falls behind.
const PUBLISH_DEPTH: usize = 256;

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
                    // Only the publisher holds the sender: it has stopped.
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
            self.received = Instant::now();
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
                            if let Some(input) = self.routing_input(effect) {
                                effects.extend(self.core.handle(now, input));
                            }
                        }
                    }
                    Item::Studio(input) => effects.extend(self.core.handle(now, *input)),
                }
            }
            if !self.finish(now, effects, waiters).await {
                tracing::error!("conversation publisher stopped; the conversation driver stops");
                break;
            }
        }
    }

    /// Feeds one request; its outcome is answered after commit.
    fn request(
        &mut self,
        now: Millis,
        request: Request,
        effects: &mut Vec<Effect>,
        waiters: &mut Vec<(Waiter, Outcome)>,
    ) {
        let (input, waiter) = match request {
            Request::AgentJoined {
                conversation_id,
                agent,
                role,
                task,
                reply,
            } => {
                let task_id = task
                    .as_ref()
                    .and_then(|t| t.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let agent_sla_secs = task
                    .as_ref()
                    .and_then(|t| t.pointer("/activeMedia/0/queue/id"))
                    .and_then(Value::as_str)
                    .and_then(|q| self.queue_sla.get(q).copied())
                    .filter(|s| *s > 0);
                (
                    Input::AgentJoined {
                        conversation_id: conversation_id.clone(),
                        agent: *agent,
                        role,
                        task_id,
                        agent_sla_secs,
                    },
                    Waiter::Topic(conversation_id, reply),
                )
            }
            Request::AgentLeft {
                conversation_id,
                agent_id,
                reason,
                reply,
            } => (
                Input::AgentLeft {
                    conversation_id,
                    agent_id,
                    reason: Some(reason),
                },
                Waiter::Unit(reply),
            ),
            Request::AgentEvent {
                conversation_id,
                agent_id,
                event,
                reply,
            } => (
                Input::AgentEvent {
                    conversation_id: conversation_id.clone(),
                    agent_id,
                    event: *event,
                },
                Waiter::Seq(conversation_id, reply),
            ),
            Request::CloseWrapup {
                conversation_id,
                agent_id,
                event,
                reply,
            } => (
                Input::CloseWrapup {
                    conversation_id,
                    agent_id,
                    event: *event,
                },
                Waiter::Unit(reply),
            ),
            Request::Topic {
                conversation_id,
                reply,
            } => {
                // No input: answered with the state after this batch commits.
                waiters.push((Waiter::Topic(conversation_id, reply), Outcome::default()));
                return;
            }
            Request::ChangeRole {
                conversation_id,
                agent_id,
                role,
                reply,
            } => (
                Input::ChangeRole {
                    conversation_id,
                    agent_id,
                    role,
                },
                Waiter::Unit(reply),
            ),
            Request::QueueSla { queue_id, secs } => {
                self.queue_sla.insert(queue_id, secs);
                return;
            }
            Request::ConversationsOfAgent { agent_id, reply } => {
                // Answered like a topic: with the state after this batch, once the
                // batches before it have committed.
                waiters.push((
                    Waiter::AgentConversations(agent_id, reply),
                    Outcome::default(),
                ));
                return;
            }
            Request::ChatRequested { session, reply } => (
                Input::ChatRequested {
                    channel_session: session,
                },
                Waiter::ChatTopic(reply),
            ),
            Request::CustomerMessage {
                session,
                message,
                reply,
            } => (
                Input::CustomerMessage {
                    channel_session: session,
                    message,
                },
                Waiter::Message(reply),
            ),
            Request::CustomerLeft {
                channel_session_id,
                reason,
                reply,
            } => (
                Input::CustomerLeft {
                    channel_session_id,
                    reason,
                },
                Waiter::Unit(reply),
            ),
            Request::MessageLeft {
                session,
                message,
                opens_at,
                reply,
            } => (
                Input::MessageLeft {
                    channel_session: session,
                    message,
                    opens_at,
                },
                Waiter::Message(reply),
            ),
            Request::HoursChanged {
                channel_id,
                opens_at,
            } => {
                effects.extend(self.core.handle(
                    now,
                    Input::HoursChanged {
                        channel_id,
                        opens_at,
                    },
                ));
                return;
            }
        };
        let produced = self.core.handle(now, input);
        waiters.push((waiter, Outcome::of(&produced)));
        effects.extend(produced);
    }

    /// The conversation input a committed routing effect means, if any.
    fn routing_input(&self, effect: &routing::Effect) -> Option<Input> {
        use routing::Effect as R;
        let cim_task = |t: &routing::Task| serde_json::from_value::<cim::Task>(t.to_cim()).ok();
        match effect {
            R::TaskEnqueued { task, queue } => Some(Input::TaskEnqueued {
                conversation_id: task.conversation_id.clone(),
                task: cim_task(task)?,
                queue: cim::QueueRef {
                    id: queue.id.clone(),
                    name: queue.name.clone().into(),
                    extra: Default::default(),
                },
                agent_sla_secs: self.queue_sla.get(&queue.id).copied().filter(|s| *s > 0),
            }),
            R::TaskStateChanged { task } => Some(Input::TaskStateChanged {
                conversation_id: task.conversation_id.clone(),
                task: cim_task(task)?,
            }),
            R::OfferTask { agent_id, task } => Some(Input::AgentReserved {
                conversation_id: task.conversation_id.clone(),
                agent_id: agent_id.clone(),
                task: cim_task(task)?,
            }),
            R::NoAgentAvailable { task } => Some(Input::NoAgentAvailable {
                conversation_id: task.conversation_id.clone(),
                task: cim_task(task),
            }),
            R::TaskRerouted { task, from_agent } => Some(Input::AgentRemoved {
                conversation_id: task.conversation_id.clone(),
                agent_id: from_agent.clone(),
                reason: task
                    .state
                    .reason_code
                    .map_or("REROUTED".to_string(), |d| enum_str(&d)),
                task_requeued: !task.is_closed(),
            }),
            R::MrdInterrupted {
                mrd_id,
                agent_id,
                conversations,
            } => Some(Input::MrdInterrupted {
                agent_id: agent_id.clone(),
                mrd_id: mrd_id.clone(),
                conversations: conversations.clone(),
            }),
            _ => None,
        }
    }

    /// Queues the batch's persist steps (with outbox rows) as one write, settles each
    /// caller's answer from the state this batch left, and hands both to the publisher.
    /// False when the publisher is gone.
    async fn finish(
        &mut self,
        now: Millis,
        effects: Vec<Effect>,
        waiters: Vec<(Waiter, Outcome)>,
    ) -> bool {
        if self.commit_failed.swap(false, Ordering::Relaxed) {
            self.stored_routing.forget_all();
            self.stored_runtimes.forget_all();
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
                    // Encoded here, so the writer thread only stores shared objects,
                    // binds and inserts.
                    let events = match step
                        .events
                        .iter()
                        .map(|e| {
                            serde_json::to_value(&*e.event).map(|v| {
                                events::encode(
                                    v,
                                    &step.conversation_id,
                                    e.message_id.as_deref(),
                                    e.event.timestamp,
                                )
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                    {
                        Ok(events) => events,
                        Err(e) => {
                            unencodable.get_or_insert(StoreError::Corrupt(e.to_string()));
                            continue;
                        }
                    };
                    let runtime = match json_value(&step.runtime) {
                        Ok(r) => r,
                        Err(e) => {
                            unencodable.get_or_insert(e);
                            continue;
                        }
                    };
                    let (timers, carried) = if carries_runtime(&step) {
                        match self.stored_runtimes.carried(&step.conversation_id, runtime) {
                            CarriedRuntime::Unchanged => (String::new(), None),
                            CarriedRuntime::Text(text) => {
                                let at = step.events.last().map_or(0, |e| e.event.timestamp);
                                (String::new(), Some(event_runtime::encode(&text, at)))
                            }
                        }
                    } else {
                        let text = runtime.to_string();
                        let closed = step.record.as_ref().is_some_and(|r| {
                            r.conversation.state == cim::ConversationState::Closed
                        });
                        self.stored_runtimes
                            .stored_whole(&step.conversation_id, runtime, closed);
                        (text, None)
                    };
                    let routing_changed = self.stored_routing.note(&step);
                    steps.push(EncodedStep {
                        step: *step,
                        events,
                        timers,
                        carried,
                        routing_changed,
                    });
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
            self.stored_routing.forget_all();
            self.stored_runtimes.forget_all();
            store_failed(&e, answers);
            return true;
        }
        let commit = if steps.is_empty() && outbound.is_empty() {
            None
        } else {
            let queued = self
                .store
                .submit(move |c| {
                    let mut interner = Interner::default();
                    for step in &steps {
                        write_step(c, &mut interner, step, now)?;
                    }
                    for row in &outbound {
                        outbox::enqueue(
                            c,
                            &row.message_id,
                            Some(&row.conversation_id),
                            &row.url,
                            &row.payload,
                            now,
                        )?;
                    }
                    Ok(())
                })
                .await;
            match queued {
                Ok(pending) => Some(pending),
                Err(e) => {
                    self.stored_routing.forget_all();
                    self.stored_runtimes.forget_all();
                    store_failed(&e, answers);
                    return true;
                }
            }
        };
        let queued = Queued {
            commit,
            answers,
            deliveries,
            texts,
            has_outbox,
            live,
            received: self.received,
        };
        self.publish.send(queued).await.is_ok()
    }

    /// The answer a caller gets once its batch has committed.
    fn settle(&self, waiter: Waiter, outcome: Outcome) -> Settled {
        let Outcome {
            rejected,
            ack,
            session_started,
        } = outcome;
        match waiter {
            Waiter::Unit(reply) => Settled::Unit(reply, rejected.map_or(Ok(()), Err)),
            Waiter::Topic(id, reply) => {
                let answer = match rejected {
                    Some(e) => Err(e),
                    None => self.topic(&id),
                };
                Settled::Topic(reply, Box::new(answer))
            }
            Waiter::Seq(id, reply) => {
                let answer = match rejected {
                    Some(e) => Err(e),
                    None => Ok(ack
                        .map(|a| a.seq)
                        .or_else(|| self.core.last_seq(&id))
                        .unwrap_or(0)),
                };
                Settled::Seq(reply, answer)
            }
            Waiter::Message(reply) => {
                let answer = match rejected {
                    Some(e) => Err(e),
                    None => ack
                        .ok_or_else(|| ConversationError::Invalid("message was not stored".into())),
                };
                Settled::Message(reply, answer)
            }
            Waiter::ChatTopic(reply) => {
                let answer = match rejected {
                    Some(e) => Err(e),
                    None => session_started
                        .ok_or_else(|| ConversationError::WrongState("no session started".into()))
                        .and_then(|id| self.topic(&id)),
                };
                Settled::Topic(reply, Box::new(answer))
            }
            Waiter::AgentConversations(agent_id, reply) => {
                Settled::AgentConversations(reply, self.core.agent_conversations(&agent_id))
            }
        }
    }

    fn topic(&self, conversation_id: &str) -> Result<Topic, ConversationError> {
        let record = self.core.conversation(conversation_id).ok_or_else(|| {
            ConversationError::NotFound(format!("conversation {conversation_id}"))
        })?;
        Ok(Topic {
            conversation: record.conversation,
            last_seq: self.core.last_seq(conversation_id).unwrap_or(0),
        })
    }
}

impl Publisher {
    async fn run(self, mut queue: mpsc::Receiver<Queued>) {
        while let Some(batch) = queue.recv().await {
            self.publish(batch).await;
        }
    }

    /// Waits for the batch's commit, then answers its callers and delivers its effects.
    async fn publish(&self, batch: Queued) {
        let Queued {
            commit,
            answers,
            deliveries,
            mut texts,
            has_outbox,
            live,
            received,
        } = batch;
        if let Some(commit) = commit {
            if let Err(e) = commit.committed().await {
                self.commit_failed.store(true, Ordering::Relaxed);
                store_failed(&e, answers);
                return;
            }
        }
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
                } if seq != super::typing::EPHEMERAL_SEQ
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
            Effect::FindAgent(request) => self.find_agent(*request),
            Effect::CancelTasks {
                conversation_id,
                disposition,
            } => self.cancel_tasks(conversation_id, disposition),
            Effect::AgentTaskEnded {
                conversation_id,
                agent_id,
                task_id,
                disposition,
                wrap_up,
            } => {
                // A pull-mode agent holds no task; its list request still lists it
                // until it leaves there too (and the list's subscribers are told).
                self.routing.send(routing::Input::LeavePullConversation {
                    agent_id,
                    conversation_id,
                });
                if let Some(task_id) = task_id {
                    self.routing.send(if wrap_up {
                        routing::Input::StartWrapUp { task_id }
                    } else {
                        routing::Input::CloseTask {
                            task_id,
                            disposition: disposition_of(&disposition),
                        }
                    });
                }
            }
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
            Effect::WrapupEnded { task_id, .. } => {
                if let Some(task_id) = task_id {
                    self.routing.send(routing::Input::EndWrapUp { task_id });
                }
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
            } => self.call_studio(request_id, *message, timeout_ms),
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

    /// FIND_AGENT: a routing task on the requested queue (or the channel's), or a
    /// pull-mode request on PULL channels.
    /// A typing indicator: the desks get it as `onCimEvent` and the widget as
    /// `MESSAGE_RECEIVED`, both without a `seq`.
    fn deliver_ephemeral(
        &self,
        conversation_id: String,
        agent_ids: Vec<String>,
        customer: Option<super::CustomerAddress>,
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

    fn find_agent(&self, request: FindAgentRequest) {
        let policy = request
            .channel_session
            .channel
            .channel_config
            .routing_policy
            .get()
            .cloned();
        let queue = request.queue.clone().or_else(|| {
            policy
                .as_ref()
                .and_then(|p| p.routing_object_id.get().cloned())
        });
        let Some(queue_id) = queue else {
            tracing::warn!(conversation = %request.conversation_id, "FIND_AGENT without a queue; nothing to route to");
            return;
        };
        let session = serde_json::to_value(&*request.channel_session).unwrap_or(Value::Null);
        let mode = request
            .routing_mode
            .clone()
            .or_else(|| policy.as_ref().map(|p| p.routing_mode.clone()));
        if mode == Some(cim::RoutingMode::Pull) {
            self.routing
                .send(routing::Input::AddPullRequest(routing::NewPullRequest {
                    id: uuid::Uuid::new_v4().to_string(),
                    list_id: queue_id,
                    conversation_id: request.conversation_id,
                    data: json!({"channelSession": session}),
                }));
            return;
        }
        let selection = match request
            .selection_policy
            .clone()
            .or_else(|| policy.as_ref().map(|p| p.agent_selection_policy.clone()))
            .map(|p| p.as_str().to_string())
            .as_deref()
        {
            Some("LEAST_ACTIVE_TASKS") => routing::SelectionPolicy::LeastActiveTasks,
            Some("MOST_SKILLED") => routing::SelectionPolicy::MostSkilled,
            _ => routing::SelectionPolicy::LongestAvailable,
        };
        let ttl_secs = request
            .agent_request_ttl_secs
            .or_else(|| policy.as_ref().map(|p| p.agent_request_ttl))
            .filter(|s| *s > 0);
        let route_to_last = policy.as_ref().is_some_and(|p| p.route_to_last_agent);
        // Desks accept offers (taskRequest, then topicSubscription); a named agent
        // (offerToAgent with lastAgentId) is offered the task alone.
        let (mode, named) = match (&request.last_agent_id, request.offer_to_agent) {
            (Some(agent), true) => (
                routing::TaskMode::Agent {
                    agent_id: agent.clone(),
                },
                true,
            ),
            _ => (routing::TaskMode::Queue, false),
        };
        let task = routing::NewTask {
            task_id: uuid::Uuid::new_v4().to_string(),
            media_id: uuid::Uuid::new_v4().to_string(),
            conversation_id: request.conversation_id,
            queue_id,
            priority: request.priority.clamp(1, 10) as u8,
            direction: routing::Direction::Inbound,
            mode,
            offer_to_agent: true,
            agent_request_ttl_ms: ttl_secs.map(|s| s * 1000),
            selection_policy: selection,
            preferred_last_agent: if route_to_last && !named {
                request.last_agent_id
            } else {
                None
            },
            exclude_agents: request.exclude_agents,
            related_task: None,
            request_session: session,
            metadata: json!({"requestType": request.request_type}),
        };
        self.routing
            .send(routing::Input::EnqueueTask(Box::new(task)));
    }

    fn cancel_tasks(&self, conversation_id: String, disposition: TaskStateReason) {
        let routing = self.routing.clone();
        let disposition = disposition_of(&disposition);
        tokio::spawn(async move {
            let id = conversation_id.clone();
            let open: Vec<String> = routing
                .query(move |core, _| {
                    core.tasks()
                        .filter(|t| t.conversation_id == id && !t.is_closed())
                        .map(|t| t.id.clone())
                        .collect()
                })
                .await
                .unwrap_or_default();
            for task_id in open {
                routing.send(routing::Input::CloseTask {
                    task_id,
                    disposition,
                });
            }
        });
    }

    /// Asks the external flow; its answer (or failure) comes back as an input.
    fn call_studio(&self, request_id: String, message: cim::StudioMessage, timeout_ms: i64) {
        let http = self.http.clone();
        let url = self.studio_url.clone();
        let back = self.studio_tx.clone();
        tokio::spawn(async move {
            let outcome = async {
                let resp = http
                    .post(&url)
                    .timeout(Duration::from_millis(timeout_ms.max(1) as u64))
                    .json(&message)
                    .send()
                    .await
                    .map_err(|e| format!("request failed: {e}"))?;
                if !resp.status().is_success() {
                    return Err(format!("answered HTTP {}", resp.status()));
                }
                let body: Value = resp
                    .json()
                    .await
                    .map_err(|e| format!("answer is not JSON: {e}"))?;
                parse_actions(&body).map_err(|e| format!("bad actions: {e}"))
            }
            .await;
            let input = match outcome {
                Ok(actions) => Input::StudioActions {
                    request_id,
                    actions,
                },
                Err(reason) => Input::StudioFailed { request_id, reason },
            };
            let _ = back.send(input);
        });
    }
}

struct OutboxRow {
    message_id: String,
    conversation_id: String,
    url: String,
    payload: Value,
}

/// A caller's answer, settled when its batch was handled and sent after the commit.
enum Settled {
    Topic(Reply<Topic>, Box<Result<Topic, ConversationError>>),
    Unit(Reply<()>, Result<(), ConversationError>),
    Seq(Reply<u64>, Result<u64, ConversationError>),
    Message(Reply<MessageAck>, Result<MessageAck, ConversationError>),
    AgentConversations(oneshot::Sender<Vec<String>>, Vec<String>),
}

impl Settled {
    fn send(self) {
        match self {
            Settled::Topic(r, a) => drop(r.send(*a)),
            Settled::Unit(r, a) => drop(r.send(a)),
            Settled::Seq(r, a) => drop(r.send(a)),
            Settled::Message(r, a) => drop(r.send(a)),
            Settled::AgentConversations(r, a) => drop(r.send(a)),
        }
    }

    fn fail(self, err: ConversationError) {
        match self {
            Settled::Topic(r, _) => drop(r.send(Err(err))),
            Settled::Unit(r, _) => drop(r.send(Err(err))),
            Settled::Seq(r, _) => drop(r.send(Err(err))),
            Settled::Message(r, _) => drop(r.send(Err(err))),
            // No error to give: the caller sees the answer dropped (no conversations).
            Settled::AgentConversations(r, _) => drop(r),
        }
    }
}

/// A batch that could not be stored: nothing of it is delivered; its callers hear why.
fn store_failed(err: &StoreError, answers: Vec<Settled>) {
    tracing::error!(error = %err, "conversation step could not be stored; nothing is delivered");
    let err = ConversationError::Unavailable(format!("store: {err}"));
    for answer in answers {
        answer.fail(err.clone());
    }
}

fn core_error(err: &CoreError) -> ConversationError {
    ConversationError::Refused {
        code: err.code(),
        message: err.to_string(),
    }
}

fn disposition_of(reason: &TaskStateReason) -> Disposition {
    match reason.as_str() {
        "AGENT_LOGOUT" => Disposition::AgentLogout,
        "CANCELLED" => Disposition::Cancelled,
        "TRANSFERRED" => Disposition::Transferred,
        "NO_AGENT_AVAILABLE" => Disposition::NoAgentAvailable,
        "FORCE_CLOSED" => Disposition::ForceClosed,
        "RONA" => Disposition::Rona,
        _ => Disposition::Done,
    }
}

/// What a waiting caller needs from the effects its input produced.
#[derive(Default)]
struct Outcome {
    rejected: Option<ConversationError>,
    ack: Option<MessageAck>,
    session_started: Option<String>,
}

impl Outcome {
    fn of(produced: &[Effect]) -> Outcome {
        let mut outcome = Outcome::default();
        for effect in produced {
            match effect {
                Effect::Rejected(err) if outcome.rejected.is_none() => {
                    outcome.rejected = Some(core_error(err));
                }
                Effect::Ack {
                    conversation_id,
                    seq,
                    duplicate,
                    ..
                } if outcome.ack.is_none() => {
                    outcome.ack = Some(MessageAck {
                        conversation_id: conversation_id.clone(),
                        seq: *seq,
                        duplicate: *duplicate,
                    });
                }
                Effect::ChannelSessionStarted {
                    conversation_id, ..
                } if outcome.session_started.is_none() => {
                    outcome.session_started = Some(conversation_id.clone());
                }
                _ => {}
            }
        }
        outcome
    }
}

/// Each event of a batch encoded to JSON once: the stored text, the wire text (with
/// its `seq`) shared by every desk that receives it, and the customer's view of it.
#[derive(Default)]
struct EventTexts {
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

fn instant_at(deadline: Option<Millis>) -> Instant {
    let wait = deadline.map_or(0, |d| (d - now_ms()).max(0)) as u64;
    Instant::now() + Duration::from_millis(wait)
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A step that changes no conversation row keeps its runtime on its last event
/// (appended anyway) rather than on the runtime row's page of its own.
fn carries_runtime(step: &PersistStep) -> bool {
    step.record.is_none() && !step.events.is_empty()
}

fn json_value<T: serde::Serialize>(value: &T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Writes one conversation step: its events, and its rows when the record changed.
fn write_step(
    c: &Connection,
    interner: &mut Interner,
    encoded: &EncodedStep,
    now: Millis,
) -> Result<(), StoreError> {
    let EncodedStep {
        step,
        events: texts,
        timers,
        carried,
        routing_changed,
    } = encoded;
    let last = step.events.len().saturating_sub(1);
    for (i, (stored, text)) in step.events.iter().zip(texts).enumerate() {
        let event = &stored.event;
        events::append(
            c,
            interner,
            &events::EventRow {
                id: &event.id,
                conversation_id: &step.conversation_id,
                seq: stored.seq,
                name: event.name.as_str(),
                kind: event.event_type.as_str(),
                timestamp: event.timestamp,
                message_id: stored.message_id.as_deref(),
                event: text,
                runtime: if i == last { carried.as_ref() } else { None },
            },
        )?;
    }
    let Some(record) = &step.record else {
        if *routing_changed {
            rows::update_routing(
                c,
                &step.conversation_id,
                step.runtime.queue_id.as_deref(),
                step.runtime.last_agent_id.as_deref(),
                now,
            )?;
        }
        if !carries_runtime(step) {
            rows::write_runtime(c, &step.conversation_id, timers, step.last_seq, now)?;
        }
        return Ok(());
    };
    let conv = &record.conversation;
    let customer_id = conv
        .customer
        .get()
        .and_then(|c| c.id())
        .map(str::to_owned)
        .or_else(|| {
            record
                .channel_sessions
                .first()
                .and_then(|s| s.customer.id().map(str::to_owned))
        })
        .unwrap_or_default();
    rows::upsert(
        c,
        &rows::ConversationRow {
            id: &conv.id,
            customer_id: &customer_id,
            room_id: conv.room_info.get().map_or("", |r| r.id.as_str()),
            state: conv.state.as_str(),
            direction: conv
                .conversation_direction
                .get()
                .map_or("INBOUND", |d| d.as_str()),
            queue_id: step.runtime.queue_id.as_deref(),
            last_agent_id: step.runtime.last_agent_id.as_deref(),
            data: json_text(&conv.conversation_data)?,
            metadata: interner.compact(c, json_value(&conv.metadata)?)?,
            timers: timers.clone(),
            snapshot: interner.compact(c, json_value(conv)?)?,
            creation_time: conv.creation_time.get().copied().unwrap_or(now),
            end_time: conv.end_time.get().copied(),
            last_seq: step.last_seq,
        },
        now,
    )?;
    for session in &record.channel_sessions {
        let state = session.state_name().map_or("STARTED", |s| s.as_str());
        let reason = match &session.state {
            cim::Nullable::Value(s) => s.reason_code().map(|r| r.as_str().to_string()),
            _ => None,
        };
        rows::upsert_channel_session(
            c,
            &rows::ChannelSessionRow {
                id: &session.id,
                conversation_id: &conv.id,
                channel_id: &session.channel.id,
                customer_id: session.customer.id().unwrap_or(&customer_id),
                state,
                reason_code: reason.as_deref(),
                session: interner.compact_whole(c, json_value(session)?)?,
                started_at: conv.creation_time.get().copied().unwrap_or(now),
                ended_at: (state != "STARTED").then_some(now),
            },
        )?;
    }
    for p in &conv.participants {
        let reference = match p.participant_type {
            ParticipantType::Agent => p.as_cc_user().map(|u| u.id.clone()),
            ParticipantType::Customer => p.as_channel_session().map(|s| s.id.clone()),
            _ => p.as_bot().map(|b| b.id.clone()),
        }
        .unwrap_or_default();
        let active = p.is_active.get().copied().unwrap_or(true);
        rows::upsert_participant(
            c,
            &rows::ParticipantRow {
                id: &p.id,
                conversation_id: &conv.id,
                kind: p.participant_type.as_str(),
                role: p.role.as_str(),
                participant_ref: &reference,
                state: p.state.get().map(|s| s.as_str()),
                joined_at: p.joining_time.get().copied().unwrap_or(now),
                left_at: if active {
                    None
                } else {
                    Some(p.state_changed_on.get().copied().unwrap_or(now))
                },
                participant: interner.compact_whole(c, json_value(p)?)?,
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::StoredRouting;
    use crate::cim::ConversationState;

    fn some(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn the_conversation_row_is_updated_only_when_queue_or_last_agent_may_differ() {
        let mut stored = StoredRouting::default();
        // Never written by this driver (e.g. restored): always updated.
        assert!(stored.note_parts("c1", &some("q1"), &None, None));
        assert!(!stored.note_parts("c1", &some("q1"), &None, None));
        // Absent fields are left alone by the update, so they change nothing.
        assert!(!stored.note_parts("c1", &None, &None, None));
        assert!(stored.note_parts("c1", &some("q1"), &some("a1"), None));
        assert!(!stored.note_parts("c1", &None, &some("a1"), None));
        assert!(stored.note_parts("c1", &some("q2"), &some("a1"), None));

        // A full step wrote both; the next message step has nothing to update.
        let active = ConversationState::Active;
        assert!(!stored.note_parts("c2", &some("q1"), &some("a1"), Some(&active)));
        assert!(!stored.note_parts("c2", &some("q1"), &some("a1"), None));
        assert!(stored.note_parts("c2", &some("q1"), &some("a2"), None));

        // A closed conversation is forgotten.
        let closed = ConversationState::Closed;
        assert!(!stored.note_parts("c2", &some("q1"), &some("a2"), Some(&closed)));
        assert!(stored.note_parts("c2", &some("q1"), &some("a2"), None));

        // After a failed write nothing is taken as stored.
        assert!(!stored.note_parts("c1", &some("q2"), &some("a1"), None));
        stored.forget_all();
        assert!(stored.note_parts("c1", &some("q2"), &some("a1"), None));
    }
}
