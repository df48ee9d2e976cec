//! The figures of one run, with the definitions of docs/metrics.md, counted per task
//! that arrived in the period (its answer or abandon may come after the period's
//! end): offered, answered, abandoned, service level, ASA; and occupancy over the
//! period, per MRD: time holding at least one reserved or active task on the MRD ÷
//! time logged in (wrap-up frees the slot and is not counted, as in the engine).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::source::Workload;
use crate::clock::Millis;
use crate::routing::{AgentStateName, AgentView, Disposition, MrdId, QueueId, Task};

/// Service-level threshold for queues without one (docs/metrics.md).
const DEFAULT_SERVICE_LEVEL_MS: Millis = 30_000;

/// One queue's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueFigures {
    pub offered: u64,
    pub answered: u64,
    /// Answered within the queue's service-level threshold.
    pub answered_within: u64,
    /// Answered after any wait at all (for the probability of wait).
    pub answered_after_wait: u64,
    pub abandoned: u64,
    pub short_abandons: u64,
    pub wait_sum_ms: i64,
    /// Offered but neither answered nor abandoned when the run ended.
    pub unfinished: u64,
}

impl QueueFigures {
    /// Answered within the threshold ÷ (answered + abandoned − short abandons), in %.
    pub fn service_level_pct(&self) -> Option<f64> {
        let base = (self.answered + self.abandoned).saturating_sub(self.short_abandons);
        (base > 0).then(|| 100.0 * self.answered_within as f64 / base as f64)
    }

    /// Mean wait of the answered tasks, seconds.
    pub fn asa_secs(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.wait_sum_ms as f64 / 1000.0 / self.answered as f64)
    }

    pub fn abandon_pct(&self) -> Option<f64> {
        (self.offered > 0).then(|| 100.0 * self.abandoned as f64 / self.offered as f64)
    }

    /// Share of answered tasks that waited at all.
    pub fn wait_probability(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.answered_after_wait as f64 / self.answered as f64)
    }
}

/// The figures of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub queues: BTreeMap<QueueId, QueueFigures>,
    /// Per MRD: (time with at least one task on it, time logged in), ms, over the period.
    pub occupancy: BTreeMap<MrdId, (i64, i64)>,
    /// (time with at least one task on any MRD, time logged in), ms, over the period.
    pub occupancy_all: (i64, i64),
    /// Inputs the routing core refused (none in a sound run but the arrivals below).
    pub rejected: u64,
    /// Arrivals the core refused: their queue is no longer configured.
    pub refused_arrivals: u64,
}

impl Figures {
    pub fn occupancy_pct(&self, mrd: &str) -> Option<f64> {
        ratio(self.occupancy.get(mrd).copied()?)
    }

    /// Occupancy over every MRD: time with at least one task ÷ time logged in.
    pub fn occupancy_all_pct(&self) -> Option<f64> {
        ratio(self.occupancy_all)
    }
}

fn ratio((busy, logged_in): (i64, i64)) -> Option<f64> {
    (logged_in > 0).then(|| 100.0 * busy as f64 / logged_in as f64)
}

/// One agent's presence since `since`.
struct Presence {
    since: Millis,
    logged_in: bool,
    /// MRDs the agent may take tasks on, and whether it holds one there.
    mrds: Vec<(MrdId, bool)>,
}

pub(super) struct Tally {
    from: Millis,
    to: Millis,
    thresholds: HashMap<QueueId, Millis>,
    short_abandon_ms: Millis,
    figures: Figures,
    seen: HashSet<String>,
    presence: BTreeMap<String, Presence>,
    pub rejected: u64,
    pub refused_arrivals: u64,
}

impl Tally {
    pub fn new(work: &Workload, from: Millis, to: Millis) -> Self {
        let mut figures = Figures::default();
        for q in &work.queues {
            figures.queues.insert(q.id.clone(), QueueFigures::default());
            figures.occupancy.entry(q.mrd_id.clone()).or_insert((0, 0));
        }
        Tally {
            from,
            to,
            thresholds: work
                .queues
                .iter()
                .map(|q| {
                    let ms = q
                        .service_level_threshold_ms
                        .unwrap_or(DEFAULT_SERVICE_LEVEL_MS);
                    (q.id.clone(), ms)
                })
                .collect(),
            short_abandon_ms: work.short_abandon_ms,
            figures,
            seen: HashSet::new(),
            presence: BTreeMap::new(),
            rejected: 0,
            refused_arrivals: 0,
        }
    }

    fn queue(&mut self, task: &Task) -> &mut QueueFigures {
        self.figures
            .queues
            .entry(task.media.queue.id.clone())
            .or_default()
    }

    /// A task entered its queue; a task put back after RONA or a logout is not offered again.
    pub fn enqueued(&mut self, task: &Task) {
        if self.seen.insert(task.id.clone()) {
            self.queue(task).offered += 1;
        }
    }

    pub fn answered(&mut self, task: &Task) {
        let wait = (task.media.answer_time - task.media.enqueue_time).max(0);
        let threshold = self
            .thresholds
            .get(&task.media.queue.id)
            .copied()
            .unwrap_or(DEFAULT_SERVICE_LEVEL_MS);
        let q = self.queue(task);
        q.answered += 1;
        q.wait_sum_ms += wait;
        q.answered_within += u64::from(wait <= threshold);
        q.answered_after_wait += u64::from(wait > 0);
    }

    pub fn closed(&mut self, task: &Task, answered: bool, now: Millis) {
        let abandoned = !answered
            && matches!(
                task.state.reason_code,
                Some(Disposition::Cancelled | Disposition::NoAgentAvailable)
            )
            && !task.media.direction.is_assistance();
        if abandoned {
            let short = now - task.media.enqueue_time < self.short_abandon_ms;
            let q = self.queue(task);
            q.abandoned += 1;
            q.short_abandons += u64::from(short);
        }
    }

    /// The agent's presence changed at `now`.
    pub fn agent(&mut self, view: &AgentView, now: Millis) {
        let logged_in = !matches!(view.state, AgentStateName::Logout | AgentStateName::Unknown);
        let mrds = view
            .mrd_states
            .iter()
            .filter(|m| m.max_agent_tasks > 0)
            .map(|m| (m.mrd_id.clone(), m.load > 0))
            .collect();
        let next = Presence {
            since: now,
            logged_in,
            mrds,
        };
        if let Some(before) = self.presence.insert(view.agent_id.clone(), next) {
            self.count(&before, now);
        }
    }

    fn count(&mut self, p: &Presence, until: Millis) {
        let span = until.min(self.to) - p.since.max(self.from);
        if span <= 0 || !p.logged_in {
            return;
        }
        self.figures.occupancy_all.1 += span;
        if p.mrds.iter().any(|(_, busy)| *busy) {
            self.figures.occupancy_all.0 += span;
        }
        for (mrd, busy) in &p.mrds {
            let entry = self.figures.occupancy.entry(mrd.clone()).or_insert((0, 0));
            entry.1 += span;
            if *busy {
                entry.0 += span;
            }
        }
    }

    /// The figures, with presence counted up to the period's end.
    pub fn finish(mut self, to: Millis) -> Figures {
        let open: Vec<Presence> = std::mem::take(&mut self.presence).into_values().collect();
        for p in &open {
            self.count(p, to);
        }
        for q in self.figures.queues.values_mut() {
            q.unfinished = q.offered.saturating_sub(q.answered + q.abandoned);
        }
        self.figures.rejected = self.rejected;
        self.figures.refused_arrivals = self.refused_arrivals;
        self.figures
    }
}
