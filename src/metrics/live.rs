//! The "now" figures of a scrape: waiting tasks per queue, agents by MRD state,
//! sockets by namespace and outbox rows by state, read from their owners when
//! `/metrics` is asked for (nothing on the message path keeps them).

use super::{set_gauge, AGENTS, OUTBOX, QUEUE_LONGEST_WAIT, QUEUE_WAITING, SOCKETS};
use crate::clock::Millis;
use crate::routing::{MediaState, MrdStateName, QueueRef, RoutingCore};
use metrics::Label;
use metrics_exporter_prometheus::PrometheusRecorder;
use std::collections::BTreeMap;

/// Every MRD state an agent can be in, so each has a series from the first scrape.
const MRD_STATES: [MrdStateName; 6] = [
    MrdStateName::Ready,
    MrdStateName::Active,
    MrdStateName::Busy,
    MrdStateName::NotReady,
    MrdStateName::PendingNotReady,
    MrdStateName::Interrupted,
];
/// Outbox row states.
pub const OUTBOX_STATES: [&str; 3] = ["PENDING", "DELIVERED", "DEAD"];

#[derive(Debug, Clone, PartialEq)]
pub struct QueueNow {
    pub queue: QueueRef,
    pub waiting: u64,
    pub longest_wait_ms: Millis,
}

/// What a scrape reports as "now".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveFigures {
    pub queues: Vec<QueueNow>,
    /// (MRD name, state) → logged-in agents.
    pub agents: BTreeMap<(String, String), u64>,
    /// Namespace → connected sockets.
    pub sockets: Vec<(String, usize)>,
    /// Outbox state → rows.
    pub outbox: BTreeMap<String, u64>,
}

impl LiveFigures {
    /// Queues and agents as the routing engine sees them at `now`; `mrds` are the
    /// site's MRD names (so an MRD nobody is logged in to still has its series).
    pub fn routing(core: &RoutingCore, now: Millis, mrds: &[String]) -> LiveFigures {
        let mut queues: BTreeMap<String, QueueNow> = core
            .queue_configs()
            .map(|q| {
                let now = QueueNow {
                    queue: QueueRef {
                        id: q.id.clone(),
                        name: q.name.clone(),
                    },
                    waiting: 0,
                    longest_wait_ms: 0,
                };
                (q.id.clone(), now)
            })
            .collect();
        for task in core.tasks() {
            if !matches!(task.media.state, MediaState::Queued | MediaState::Reserved) {
                continue;
            }
            if let Some(q) = queues.get_mut(&task.media.queue.id) {
                q.waiting += 1;
                q.longest_wait_ms = q.longest_wait_ms.max(now - task.media.enqueue_time);
            }
        }
        let mut agents = BTreeMap::new();
        for mrd in mrds {
            for state in MRD_STATES {
                agents.insert((mrd.clone(), crate::routing::handle::enum_str(&state)), 0);
            }
        }
        for agent in core.agents() {
            use crate::routing::AgentStateName as G;
            if matches!(agent.state, G::Logout | G::Unknown) {
                continue;
            }
            for m in &agent.mrd_states {
                let key = (
                    m.mrd_name.clone(),
                    crate::routing::handle::enum_str(&m.state),
                );
                *agents.entry(key).or_insert(0) += 1;
            }
        }
        LiveFigures {
            queues: queues.into_values().collect(),
            agents,
            ..LiveFigures::default()
        }
    }

    /// Sets every gauge of these figures.
    pub(super) fn record(&self, recorder: &PrometheusRecorder) {
        for q in &self.queues {
            let labels = || {
                vec![
                    Label::new("queue", q.queue.name.clone()),
                    Label::new("queue_id", q.queue.id.clone()),
                ]
            };
            set_gauge(recorder, QUEUE_WAITING, labels(), q.waiting as f64);
            let wait = q.longest_wait_ms.max(0) as f64 / 1000.0;
            set_gauge(recorder, QUEUE_LONGEST_WAIT, labels(), wait);
        }
        for ((mrd, state), count) in &self.agents {
            let labels = vec![
                Label::new("mrd", mrd.clone()),
                Label::new("state", state.clone()),
            ];
            set_gauge(recorder, AGENTS, labels, *count as f64);
        }
        for (namespace, count) in &self.sockets {
            let labels = vec![Label::new("namespace", namespace.clone())];
            set_gauge(recorder, SOCKETS, labels, *count as f64);
        }
        for state in OUTBOX_STATES {
            let count = self.outbox.get(state).copied().unwrap_or(0);
            let labels = vec![Label::new("state", state)];
            set_gauge(recorder, OUTBOX, labels, count as f64);
        }
    }
}
