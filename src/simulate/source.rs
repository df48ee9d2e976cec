//! What a simulation runs on: the arrivals (behind [`ArrivalSource`], so the store's
//! task log today and the input journal later can both feed it), the agents with
//! their shifts, and the recorded accept delays and handle times drawn from.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::Rng;

use super::SimError;
use crate::clock::Millis;
use crate::routing::{
    AgentId, AgentProfile, MrdConfig, QueueConfig, QueueId, RoutingConfig, SelectionPolicy,
};

/// One task entering a queue, as recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrival {
    /// The recorded task's id (the simulated task takes it).
    pub task_id: String,
    /// When it entered the queue (its `enqueueTime`).
    pub at: Millis,
    pub queue_id: QueueId,
    /// 1–10, as asked on enqueue.
    pub priority: u8,
    pub policy: SelectionPolicy,
    /// `agentRequestTtl`; `None` waits for an agent forever.
    pub ttl_ms: Option<Millis>,
    /// The customer leaves this long after entering the queue unless an agent has
    /// answered by then (the recorded abandon); `None`: the customer waits.
    pub patience_ms: Option<Millis>,
}

/// Where arrivals come from.
pub trait ArrivalSource {
    /// The tasks that entered a queue at `from <= at < to`, in time order.
    fn arrivals(&self, from: Millis, to: Millis) -> Result<Vec<Arrival>, SimError>;
}

impl ArrivalSource for [Arrival] {
    fn arrivals(&self, from: Millis, to: Millis) -> Result<Vec<Arrival>, SimError> {
        let mut found: Vec<Arrival> = self
            .iter()
            .filter(|a| a.at >= from && a.at < to)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.task_id.cmp(&b.task_id)));
        Ok(found)
    }
}

/// What a simulated agent does at a time of its shift (its recorded global states).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftState {
    Ready,
    NotReady,
    /// Ends the shift: takes no new task and logs out once its tasks are done.
    Logout,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ShiftChange {
    pub at: Millis,
    pub state: ShiftState,
    pub reason: Option<String>,
}

/// One agent of the simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentPlan {
    pub profile: AgentProfile,
    /// Its state changes, oldest first.
    pub shift: Vec<ShiftChange>,
    /// Whose recorded accept delays it draws from (itself, or the agent it copies).
    pub sample_as: AgentId,
}

impl AgentPlan {
    /// Time logged in between `from` and `to` by the shift (to order agents by).
    pub fn planned_ms(&self, from: Millis, to: Millis) -> Millis {
        let mut total = 0;
        let mut since: Option<Millis> = None;
        for change in &self.shift {
            let at = change.at.clamp(from, to);
            match (change.state, since) {
                (ShiftState::Logout, Some(start)) => {
                    total += at - start;
                    since = None;
                }
                (ShiftState::Ready | ShiftState::NotReady, None) => since = Some(at),
                _ => {}
            }
        }
        total + since.map_or(0, |start| to - start)
    }
}

/// The recorded times the simulated agents draw from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pools {
    /// Offer to accept, per agent.
    pub accept_by_agent: BTreeMap<AgentId, Vec<Millis>>,
    /// Offer to accept, every agent's (for agents with none of their own).
    pub accept_all: Vec<Millis>,
    /// (answer to wrap-up or close, wrap-up to close) per agent who handled.
    pub handle_by_agent: BTreeMap<AgentId, Vec<(Millis, Millis)>>,
    /// The same per queue (for agents with fewer than [`OWN_HANDLE_SAMPLES`]).
    pub handle_by_queue: BTreeMap<QueueId, Vec<(Millis, Millis)>>,
    /// The same for every queue (for queues with none of their own).
    pub handle_all: Vec<(Millis, Millis)>,
}

impl Pools {
    /// An accept delay for an offer to an agent sampled as `agent`.
    pub fn accept_delay(&self, agent: &str, rng: &mut StdRng) -> Millis {
        let pool = self
            .accept_by_agent
            .get(agent)
            .filter(|p| !p.is_empty())
            .unwrap_or(&self.accept_all);
        pick(pool, rng).unwrap_or(0)
    }

    /// A (handle, wrap-up) time for a task of `queue` answered by an agent sampled as
    /// `agent`: from the agent's own handled tasks when it has enough of them, else from
    /// the queue's, else from every queue's; `fallback` when nothing was recorded.
    pub fn handle(
        &self,
        agent: &str,
        queue: &str,
        fallback: Millis,
        rng: &mut StdRng,
    ) -> (Millis, Millis) {
        let pool = self
            .handle_by_agent
            .get(agent)
            .filter(|p| p.len() >= OWN_HANDLE_SAMPLES)
            .or_else(|| self.handle_by_queue.get(queue).filter(|p| !p.is_empty()))
            .unwrap_or(&self.handle_all);
        pick(pool, rng).unwrap_or((fallback, 0))
    }
}

/// An agent's handle times are drawn from its own once it handled this many tasks.
pub const OWN_HANDLE_SAMPLES: usize = 10;

fn pick<T: Copy>(pool: &[T], rng: &mut StdRng) -> Option<T> {
    (!pool.is_empty()).then(|| pool[rng.gen_range(0..pool.len())])
}

/// Everything one simulation run needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    pub routing: RoutingConfig,
    pub mrds: Vec<MrdConfig>,
    pub queues: Vec<QueueConfig>,
    pub agents: Vec<AgentPlan>,
    pub arrivals: Vec<Arrival>,
    pub pools: Pools,
    /// Abandons shorter than this are left out of the service level.
    pub short_abandon_ms: Millis,
}
