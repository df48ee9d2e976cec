//! Prometheus metrics: the appliance's registry (a `metrics-exporter-prometheus`
//! recorder of its own, no process-global state, so several appliances can run in one
//! test process), the histograms the hot paths record into, and the rendering of
//! `GET /metrics`.
//!
//! The hot paths only touch pre-registered handles: a histogram sample is a lock-free
//! push into an atomic bucket, a counter an atomic add. Gauges that describe "now"
//! (queues, agents, sockets, the outbox) are read at scrape time from their owners,
//! so nothing on the message path keeps them up to date. Every series is registered
//! at start, so the first scrape already shows every name (zero counters, empty
//! histograms). Definitions: docs/metrics.md.

pub mod access;
mod live;
mod tasks;

pub use access::{MetricsAccess, MetricsConfig};
pub use live::LiveFigures;

use metrics::{Counter, Histogram, Key, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tasks::{TaskFold, TaskOccurrence};

pub const OFFER_LATENCY: &str = "switchboard_offer_latency_seconds";
pub const MESSAGE_LATENCY: &str = "switchboard_message_latency_seconds";
pub const STORE_COMMIT: &str = "switchboard_store_commit_seconds";
pub const TASKS_OFFERED: &str = "switchboard_tasks_offered_total";
pub const TASKS_ANSWERED: &str = "switchboard_tasks_answered_total";
pub const TASKS_ABANDONED: &str = "switchboard_tasks_abandoned_total";
pub const QUEUE_WAITING: &str = "switchboard_queue_waiting";
pub const QUEUE_LONGEST_WAIT: &str = "switchboard_queue_longest_wait_seconds";
pub const AGENTS: &str = "switchboard_agents";
pub const SOCKETS: &str = "switchboard_sockets";
pub const OUTBOX: &str = "switchboard_outbox_messages";

/// Sub-second to a minute: store commits and message delivery.
const FAST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];
/// Waits in a queue: a tenth of a second to an hour.
const WAIT_BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// How often queued histogram samples are folded into their buckets between scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

static META: Metadata<'static> = Metadata::new(module_path!(), metrics::Level::INFO, None);

/// The appliance's metrics. Cheap to clone; every clone is the same registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    offer_latency: Histogram,
    message_latency: Histogram,
    store_commit: Histogram,
    tasks: Mutex<TaskCounters>,
    process: metrics_process::Collector,
}

/// The per-queue task counters and the fold that decides what they count.
#[derive(Default)]
struct TaskCounters {
    fold: TaskFold,
    queues: HashMap<String, QueueCounters>,
}

struct QueueCounters {
    offered: Counter,
    answered: Counter,
    abandoned: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let builder = PrometheusBuilder::new()
            .set_buckets(FAST_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(Matcher::Full(OFFER_LATENCY.into()), WAIT_BUCKETS)
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let histogram = |name: &'static str, help: &'static str| {
            recorder.describe_histogram(name.into(), Some(Unit::Seconds), help.into());
            recorder.register_histogram(&Key::from_static_name(name), &META)
        };
        let offer_latency = histogram(
            OFFER_LATENCY,
            "Time from a task's enqueue to each offer (taskRequest) of it to an agent.",
        );
        let message_latency = histogram(
            MESSAGE_LATENCY,
            "Time from the conversation manager receiving a client message or event to its delivery to the recipients, after commit.",
        );
        let store_commit = histogram(
            STORE_COMMIT,
            "Time from a store transaction's start to its commit being durable on disk.",
        );
        for (name, help) in [
            (TASKS_OFFERED, "Tasks entering a queue (new or transferred in); a task put back after RONA or logout is not offered again."),
            (TASKS_ANSWERED, "Tasks an agent accepted (the first time their media became ACTIVE)."),
            (TASKS_ABANDONED, "Never-answered tasks closed because the customer left or the agent request TTL ran out."),
        ] {
            recorder.describe_counter(name.into(), None, help.into());
        }
        for (name, unit, help) in [
            (
                QUEUE_WAITING,
                None,
                "Tasks of the queue waiting for an agent (QUEUED or RESERVED).",
            ),
            (
                QUEUE_LONGEST_WAIT,
                Some(Unit::Seconds),
                "Wait of the oldest waiting task of the queue; 0 when none waits.",
            ),
            (AGENTS, None, "Logged-in agents by their state on each MRD."),
            (
                SOCKETS,
                None,
                "Connected Socket.IO sockets by namespace (/ = desks, /customer = widgets).",
            ),
            (
                OUTBOX,
                None,
                "Webhook outbox rows by state (PENDING, DELIVERED, DEAD).",
            ),
        ] {
            recorder.describe_gauge(name.into(), unit, help.into());
        }
        let process = metrics_process::Collector::default();
        metrics::with_local_recorder(&recorder, || process.describe());
        Metrics {
            inner: Arc::new(Inner {
                recorder,
                handle,
                offer_latency,
                message_latency,
                store_commit,
                tasks: Mutex::new(TaskCounters::default()),
                process,
            }),
        }
    }

    /// Folds queued histogram samples into their buckets every few seconds, so memory
    /// stays flat however rarely `/metrics` is scraped. Ends when the runtime stops.
    pub fn spawn_upkeep(&self) -> tokio::task::JoinHandle<()> {
        let handle = self.inner.handle.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP);
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        })
    }

    /// The store-commit histogram, for [`crate::store::Store::observe_commits`].
    pub fn store_commit(&self) -> Histogram {
        self.inner.store_commit.clone()
    }

    /// The received-to-delivered histogram the engine driver records into.
    pub fn message_latency(&self) -> Histogram {
        self.inner.message_latency.clone()
    }

    /// Counts what one committed routing batch did (offers, answers, abandons) and
    /// records each offer's wait. `now` is when the batch was published.
    pub fn observe_routing(&self, effects: &[crate::routing::Effect], now: crate::clock::Millis) {
        let mut counters = self.inner.tasks.lock();
        let TaskCounters { fold, queues } = &mut *counters;
        for effect in effects {
            for occurrence in fold.observe(effect, now) {
                match occurrence {
                    TaskOccurrence::Offered(q) => self.queue(queues, &q).offered.increment(1),
                    TaskOccurrence::Answered(q) => self.queue(queues, &q).answered.increment(1),
                    TaskOccurrence::Abandoned(q) => self.queue(queues, &q).abandoned.increment(1),
                    TaskOccurrence::OfferWait(ms) => {
                        self.inner.offer_latency.record(ms.max(0) as f64 / 1000.0)
                    }
                }
            }
        }
    }

    /// Consumes committed routing batches until the driver stops.
    pub fn spawn_routing_fold(
        &self,
        mut batches: tokio::sync::mpsc::UnboundedReceiver<crate::routing::EffectBatch>,
    ) -> tokio::task::JoinHandle<()> {
        let metrics = self.clone();
        tokio::spawn(async move {
            while let Some(batch) = batches.recv().await {
                metrics.observe_routing(&batch, crate::clock::now_ms());
            }
        })
    }

    /// The counters of queue `q`, registered (at zero) on first use.
    fn queue<'a>(
        &self,
        queues: &'a mut HashMap<String, QueueCounters>,
        q: &crate::routing::QueueRef,
    ) -> &'a QueueCounters {
        queues.entry(q.id.clone()).or_insert_with(|| {
            let labels = vec![
                Label::new("queue", q.name.clone()),
                Label::new("queue_id", q.id.clone()),
            ];
            let counter = |name: &'static str| {
                self.inner
                    .recorder
                    .register_counter(&Key::from_parts(name, labels.clone()), &META)
            };
            QueueCounters {
                offered: counter(TASKS_OFFERED),
                answered: counter(TASKS_ANSWERED),
                abandoned: counter(TASKS_ABANDONED),
            }
        })
    }

    /// The Prometheus text exposition: the live figures of `now`, then every series.
    pub fn render(&self, live: &LiveFigures) -> String {
        {
            let mut counters = self.inner.tasks.lock();
            for q in &live.queues {
                self.queue(&mut counters.queues, &q.queue);
            }
        }
        live.record(&self.inner.recorder);
        metrics::with_local_recorder(&self.inner.recorder, || self.inner.process.collect());
        self.inner.handle.render()
    }
}

/// Registers a gauge of `name` with `labels` and sets it.
fn set_gauge(recorder: &PrometheusRecorder, name: &'static str, labels: Vec<Label>, value: f64) {
    recorder
        .register_gauge(&Key::from_parts(name, labels), &META)
        .set(value);
}
