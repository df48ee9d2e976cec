//! The routing driver: one tokio task owning the [`RoutingCore`]. It feeds the core
//! inputs (drained in batches) and timer ticks, persists every effect of a batch
//! in one store transaction, and only then publishes the effects to subscribers
//! (agent manager, conversation manager) and answers callers. With the journal on,
//! every input it feeds the core (timer ticks and the restore inputs of a start too)
//! is appended to the input journal in that same transaction (`super::journal`).

use super::journal::Recorder;
use super::loader;
use super::{Effect, Input, RoutingCore, RoutingError, Task};
use crate::clock::{now_ms, Millis};
use crate::health::{Health, RunningGuard};
use crate::live::facts::{self, LiveEvent};
use crate::reports::{self, TallySettings};
use crate::store::journal::{self, Entry, Kind};
use crate::store::objects::Interner;
use crate::store::{tasks, Store, StoreError};
use rusqlite::Connection;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Effects of one committed batch, shared by every subscriber.
pub type EffectBatch = Arc<Vec<Effect>>;

type Query = Box<dyn FnOnce(&RoutingCore, Millis) + Send>;

enum Command {
    Input(Input, Option<oneshot::Sender<Vec<Effect>>>),
    Query(Query),
}

/// Sends inputs to the routing driver and reads its state. Cheap to clone.
#[derive(Clone)]
pub struct RoutingHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl RoutingHandle {
    /// Feeds an input; its effects are persisted and published in order.
    pub fn send(&self, input: Input) {
        if self.tx.send(Command::Input(input, None)).is_err() {
            tracing::debug!("routing driver is gone (shutting down); input dropped");
        }
    }

    /// Feeds an input and returns its effects once they are committed and published.
    /// Empty when the driver is gone.
    pub async fn call(&self, input: Input) -> Vec<Effect> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Input(input, Some(tx))).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Runs `f` against the core after every earlier input was committed.
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&RoutingCore, Millis) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let query: Query = Box::new(move |core, now| {
            let _ = tx.send(f(core, now));
        });
        self.tx.send(Command::Query(query)).ok()?;
        rx.await.ok()
    }
}

/// Where committed effects go and must arrive (agent manager, conversation manager).
pub type Subscriber = mpsc::UnboundedSender<EffectBatch>;

/// Where committed effects are offered to observers that may skip some under load
/// (queue-position notices, dashboards): the bus's lag policy applies.
pub type Observers = crate::bus::Bus<EffectBatch>;

/// Where the task log's rows go once committed (the live figures, `crate::live`).
pub type LiveSink = mpsc::UnboundedSender<Vec<LiveEvent>>;

/// Rebuilds the core from the store and starts the driver task. With `live`, every
/// task change is also appended to the task log (`task_log`) in the same
/// transaction, folded into the report aggregates (`crate::reports::keep`, by
/// `reports`' definitions) in it too, and sent to `live` once committed. Agent state
/// changes always keep their report spans. With `journal`, every input is journaled.
#[allow(clippy::too_many_arguments)]
pub async fn spawn(
    store: Store,
    config: super::RoutingConfig,
    subscribers: Vec<Subscriber>,
    observers: Observers,
    health: Health,
    shutdown: CancellationToken,
    live: Option<LiveSink>,
    reports: TallySettings,
    journal: JournalSettings,
) -> Result<(RoutingHandle, tokio::task::JoinHandle<()>), StoreError> {
    let restore = store.read(loader::load).await?;
    let now = now_ms();
    let mut recorder = Recorder::new(journal.on, journal.snapshot_every_ms);
    recorder.start(now, &config);
    let mut core = RoutingCore::new(config);
    let mut initial = Vec::new();
    for input in restore {
        initial.extend(recorder.handle(&mut core, now, Kind::Restore, input));
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let mut driver = Driver {
        core,
        recorder,
        store,
        subscribers,
        observers,
        live,
        reports,
    };
    // What the restore changed (re-queued reservations, UNKNOWN agents) is committed
    // before anything else runs, with the start and its restore inputs journaled.
    let entries = driver.recorder.take();
    let logged = driver.commit(now, initial.clone(), entries).await?;
    driver.send_live(logged);
    let task = tokio::spawn(driver.run(rx, health, initial, shutdown));
    Ok((RoutingHandle { tx }, task))
}

/// What the driver journals (`super::journal::Recorder`).
#[derive(Clone, Copy, Debug)]
pub struct JournalSettings {
    /// Every input, in the transaction of its effects.
    pub on: bool,
    /// The core's state once per this period (ms; 0: never).
    pub snapshot_every_ms: Millis,
}

struct Driver {
    core: RoutingCore,
    recorder: Recorder,
    store: Store,
    subscribers: Vec<Subscriber>,
    observers: Observers,
    live: Option<LiveSink>,
    reports: TallySettings,
}

const MAX_BATCH: usize = 512;

impl Driver {
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Command>,
        health: Health,
        initial: Vec<Effect>,
        shutdown: CancellationToken,
    ) {
        let _guard = RunningGuard::new(&health, "routing");
        self.publish(initial);
        loop {
            let deadline = self.core.next_deadline();
            let first = tokio::select! {
                cmd = rx.recv() => match cmd {
                    Some(cmd) => Some(cmd),
                    None => break,
                },
                _ = sleep_until(instant_at(deadline)), if deadline.is_some() => None,
                _ = shutdown.cancelled() => break,
            };
            let mut batch: Vec<Command> = first.into_iter().collect();
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            let now = now_ms();
            self.recorder.snapshot_if_due(now, &self.core);
            let mut effects = Vec::new();
            let mut replies = Vec::new();
            let mut queries = Vec::new();
            if self.core.next_deadline().is_some_and(|d| d <= now) {
                effects.extend(
                    self.recorder
                        .handle(&mut self.core, now, Kind::Input, Input::Tick),
                );
            }
            for cmd in batch {
                match cmd {
                    Command::Input(input, reply) => {
                        let name = super::input_name(&input);
                        let produced =
                            self.recorder
                                .handle(&mut self.core, now, Kind::Input, input);
                        if let Some(reply) = reply {
                            replies.push((reply, name, produced.clone()));
                        }
                        effects.extend(produced);
                    }
                    Command::Query(q) => queries.push(q),
                }
            }
            let entries = self.recorder.take();
            match self.commit(now, effects.clone(), entries).await {
                Ok(logged) => {
                    self.send_live(logged);
                    self.publish(effects);
                    for (reply, _, produced) in replies {
                        let _ = reply.send(produced);
                    }
                }
                Err(e) => {
                    // Nothing is published that was not stored: no desk, conversation or
                    // observer hears of this batch, and its callers are told it was not
                    // stored. The core has moved on; the next successful commit of these
                    // records rewrites them whole, an offer no desk saw ends at its accept
                    // timeout, and a restart restores from what is stored. The batch's
                    // inputs are missing from the journal: a replay of this run
                    // diverges after it (docs/architecture.md, "Input journal").
                    tracing::error!(error = %e, "routing effects could not be persisted; none published");
                    let refusal = RoutingError::NotStored(e.to_string());
                    for (reply, input, _) in replies {
                        let _ = reply.send(vec![Effect::Rejected {
                            input,
                            error: refusal.clone(),
                        }]);
                    }
                }
            }
            for q in queries {
                q(&self.core, now);
            }
        }
        tracing::debug!("routing driver stopped");
    }

    fn send_live(&self, logged: Vec<LiveEvent>) {
        if let (Some(live), false) = (&self.live, logged.is_empty()) {
            let _ = live.send(logged);
        }
    }

    fn publish(&self, effects: Vec<Effect>) {
        if effects.is_empty() {
            return;
        }
        let batch: EffectBatch = Arc::new(effects);
        for s in &self.subscribers {
            let _ = s.send(batch.clone());
        }
        self.observers.publish(batch);
    }

    /// Writes every task, agent and pull-request record the effects touch, the
    /// task log's rows and the journal's `entries`, in one transaction; answers the
    /// task log's rows.
    async fn commit(
        &self,
        now: Millis,
        effects: Vec<Effect>,
        entries: Vec<Entry>,
    ) -> Result<Vec<LiveEvent>, StoreError> {
        if effects.is_empty() && entries.is_empty() {
            return Ok(Vec::new());
        }
        let logged: Vec<LiveEvent> = match self.live {
            Some(_) => effects
                .iter()
                .filter_map(|e| facts::of_effect(e, now))
                .collect(),
            None => Vec::new(),
        };
        let log_rows = logged
            .iter()
            .map(|e| {
                Ok((
                    e.task_id().to_string(),
                    e.conversation_id.clone(),
                    serde_json::to_string(e)?,
                ))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut task_rows: Vec<Arc<Task>> = Vec::new();
        let mut agents = Vec::new();
        let mut pulls = Vec::new();
        let mut pull_deletes = Vec::new();
        for effect in &effects {
            match effect {
                Effect::TaskEnqueued { task, .. }
                | Effect::TaskStateChanged { task }
                | Effect::OfferTask { task, .. }
                | Effect::TaskAssigned { task, .. }
                | Effect::RevokeTask { task, .. }
                | Effect::NoAgentAvailable { task }
                | Effect::TaskRerouted { task, .. } => task_rows.push(task.clone()),
                Effect::TaskTransferred { original, new } => {
                    task_rows.push(original.clone());
                    task_rows.push(new.clone());
                }
                Effect::AgentStateChanged { agent, changes } => {
                    agents.push((agent.clone(), changes.clone()))
                }
                Effect::PullRequestAdded { request, .. }
                | Effect::PullRequestUpdated { request, .. }
                | Effect::PullRequestJoined { request, .. } => pulls.push(request.clone()),
                Effect::PullRequestRemoved { request_id, .. } => {
                    pull_deletes.push(request_id.clone())
                }
                Effect::MrdInterrupted { .. }
                | Effect::PullListSubscribed { .. }
                | Effect::PullListUnsubscribed { .. }
                | Effect::Rejected { .. } => {}
            }
        }
        if task_rows.is_empty()
            && agents.is_empty()
            && pulls.is_empty()
            && pull_deletes.is_empty()
            && entries.is_empty()
        {
            return Ok(logged);
        }
        let reports = self.reports;
        let report_rows = logged.clone();
        self.store
            .write(move |c| {
                // Later snapshots of the same task win: they are written last.
                let mut interner = Interner::default();
                for task in &task_rows {
                    write_task(c, &mut interner, task, now)?;
                }
                for (view, changes) in &agents {
                    write_agent(c, view, changes, now)?;
                }
                for request in &pulls {
                    let snapshot = serde_json::to_string(request)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    tasks::save_pull_request(
                        c,
                        &request.id,
                        &request.list_id,
                        &enum_str(&request.state),
                        &snapshot,
                        now,
                    )?;
                }
                for id in &pull_deletes {
                    tasks::delete_pull_request(c, id)?;
                }
                for (task_id, conversation_id, fact) in &log_rows {
                    tasks::append_log(c, task_id, conversation_id, now, fact)?;
                }
                reports::keep::task_rows(c, &report_rows, &reports)?;
                for entry in &entries {
                    journal::append(c, &mut interner, entry)?;
                }
                Ok(())
            })
            .await?;
        Ok(logged)
    }
}

fn instant_at(deadline: Option<Millis>) -> Instant {
    let now = now_ms();
    let wait = deadline.map_or(0, |d| (d - now).max(0)) as u64;
    Instant::now() + Duration::from_millis(wait)
}

/// The serde name of a unit enum value (`READY`, `NOT_READY`, ...).
pub fn enum_str<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn write_task(
    c: &Connection,
    interner: &mut Interner,
    task: &Task,
    now: Millis,
) -> Result<(), StoreError> {
    let value = serde_json::to_value(task).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let snapshot =
        tasks::compact_snapshot(c, interner, value, &task.id, &task.conversation_id, now)?;
    let state = enum_str(&task.state.name);
    let disposition = task.state.reason_code.as_ref().map(enum_str);
    let media_state = enum_str(&task.media.state);
    let direction = enum_str(&task.media.direction);
    let mode = enum_str(&task.media.mode);
    tasks::upsert(
        c,
        &tasks::TaskRow {
            id: &task.id,
            conversation_id: &task.conversation_id,
            state: &state,
            agent_id: task.assigned_to.as_deref(),
            disposition: disposition.as_deref(),
            closed: task.is_closed(),
            snapshot,
            media_id: &task.media.id,
            mrd_id: &task.media.mrd_id,
            queue_id: &task.media.queue.id,
            media_state: &media_state,
            priority: task.media.priority,
            direction: &direction,
            mode: &mode,
            enqueue_time: task.media.enqueue_time,
            answer_time: (task.media.answer_time > 0).then_some(task.media.answer_time),
        },
        now,
    )
}

fn write_agent(
    c: &Connection,
    view: &super::AgentView,
    changes: &[super::StateChange],
    now: Millis,
) -> Result<(), StoreError> {
    use super::StateChangeKind;
    use crate::store::agent_states::{self, StateRow};
    let snapshot = serde_json::to_string(view).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tasks::save_agent_view(c, &view.agent_id, &snapshot, now)?;
    for change in changes {
        let row = match &change.kind {
            StateChangeKind::Agent { state, reason_code } => StateRow {
                user_id: view.agent_id.clone(),
                mrd_id: None,
                state: enum_str(state),
                reason_code: reason_code.clone(),
                changed_at: change.at,
            },
            StateChangeKind::Mrd { mrd_id, state } => StateRow {
                user_id: view.agent_id.clone(),
                mrd_id: Some(mrd_id.clone()),
                state: enum_str(state),
                reason_code: None,
                changed_at: change.at,
            },
        };
        agent_states::record(c, &row)?;
        reports::keep::agent_state(c, &row)?;
    }
    Ok(())
}
