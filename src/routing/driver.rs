//! The routing driver: one tokio task owning the [`RoutingCore`]. It feeds the core
//! inputs (drained in batches) and timer ticks, persists every effect of a batch
//! in one store transaction, and only then publishes the effects to subscribers
//! (agent manager, conversation manager) and answers callers. With the journal on,
//! every input it feeds the core (timer ticks and the restore inputs of a start too)
//! is appended to the input journal in that same transaction (`super::journal`).

use super::journal::Recorder;
use super::loader;
use super::{Effect, Input, RoutingCore, RoutingError};
use crate::clock::{now_ms, Millis};
use crate::health::{Health, RunningGuard};
use crate::live::facts::{self, LiveEvent};
use crate::reports::TallySettings;
use crate::store::journal::{Entry, Kind};
use crate::store::routing_rows::RoutingRows;
use crate::store::{Store, StoreError};
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
    /// A handle whose driver is gone: what it is sent is dropped (tests of senders).
    #[cfg(test)]
    pub(crate) fn detached() -> RoutingHandle {
        let (tx, _) = mpsc::unbounded_channel();
        RoutingHandle { tx }
    }

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
        let rows = RoutingRows::of(&effects, &logged, entries, self.reports)?;
        if rows.is_empty() {
            return Ok(logged);
        }
        self.store.write(move |c| rows.write(c, now)).await?;
        Ok(logged)
    }
}

fn instant_at(deadline: Option<Millis>) -> Instant {
    let now = now_ms();
    let wait = deadline.map_or(0, |d| (d - now).max(0)) as u64;
    Instant::now() + Duration::from_millis(wait)
}

/// The serde name of a unit enum value (`READY`, `NOT_READY`, ...).
pub use crate::store::routing_rows::enum_str;
