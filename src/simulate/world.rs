//! The virtual clock: feeds the real routing core the arrivals, the agents' shifts,
//! their accepts, wrap-ups and closes and the customers' abandons, each at its time,
//! and calls it at every `next_deadline()` (step timeouts, RONA, TTL) as the routing
//! driver does — but without waiting: the clock jumps from one event to the next.
//!
//! Simulated agents accept every offer after a delay drawn from their recorded ones,
//! handle a task for a time drawn from their own recorded handle times (or, with
//! fewer than ten, the queue's; then wrap up for the drawn wrap-up time), follow their recorded shift and at its end take no
//! new task and log out once their tasks are done. A customer leaves at its recorded
//! patience unless answered by then. Draws are seeded: a run is deterministic, and a
//! task's handle time is drawn with its own seed, so both runs of a comparison give a
//! task the same draw from the same agent's times.

use std::collections::{BTreeMap, HashMap};

use rand::rngs::StdRng;
use rand::SeedableRng;

use super::source::{ShiftState, Workload};
use super::tally::{Figures, Tally};
use super::SimError;
use crate::clock::Millis;
use crate::journal::Recorder;
use crate::routing::{
    Direction, Disposition, Effect, Input, MediaState, NewTask, RequestedAgentState, RoutingCore,
    TaskMode, TaskStateName,
};
use crate::store::journal::{Entry, Kind};

/// After the period, the run goes on this long at most for the tasks that arrived in
/// it to be answered, abandoned or closed.
pub const DRAIN_MS: Millis = 6 * 3_600_000;
/// A guard against a run that never settles (inputs handled per arrival).
const STEPS_PER_ARRIVAL: u64 = 200;

#[derive(Clone, Copy, Debug)]
enum Event {
    Arrive(usize),
    Shift {
        agent: usize,
        change: usize,
    },
    Accept {
        agent: usize,
        task: usize,
        epoch: u32,
    },
    EndTalk {
        task: usize,
        epoch: u32,
    },
    EndWrap {
        task: usize,
        epoch: u32,
    },
    Abandon(usize),
}

#[derive(Default)]
struct TaskTrack {
    /// Bumped by every offer, revoke and re-route: stale events are dropped.
    epoch: u32,
    answered: bool,
    closed: bool,
    holder: Option<usize>,
    wrap_ms: Millis,
}

#[derive(Default)]
struct AgentTrack {
    connected: bool,
    /// Tasks answered and not closed (wrap-up included).
    held: u32,
    /// The shift ended: log out once `held` is 0.
    leaving: bool,
}

struct World<'w> {
    work: &'w Workload,
    core: RoutingCore,
    /// Journals the inputs when the run is recorded ([`journal`]); off otherwise.
    recorder: Recorder,
    now: Millis,
    seq: u64,
    events: BTreeMap<(Millis, u64), Event>,
    tasks: Vec<TaskTrack>,
    task_ix: HashMap<String, usize>,
    agents: Vec<AgentTrack>,
    agent_ix: HashMap<String, usize>,
    rng: StdRng,
    seed: u64,
    tally: Tally,
    closed: usize,
}

/// Runs `work` over `[from, to)` and returns the figures of the tasks that arrived in it.
pub fn simulate(work: &Workload, from: Millis, to: Millis, seed: u64) -> Result<Figures, SimError> {
    let mut world = World::new(work, from, to, seed, Recorder::new(false, 0));
    world.run(to, to + DRAIN_MS)?;
    Ok(world.tally.finish(to))
}

/// Runs `work` over `[from, to)` as [`simulate`] does and returns the journal the
/// engine driver would have written of it: a start, the configuration as its restore
/// rows, then every input with its `now`, and a snapshot of the core's state once
/// every `snapshot_every` ms. A day of traffic on the virtual clock, for the replay.
pub fn journal(
    work: &Workload,
    from: Millis,
    to: Millis,
    seed: u64,
    snapshot_every: Millis,
) -> Result<Vec<Entry>, SimError> {
    let mut world = World::new(work, from, to, seed, Recorder::new(true, snapshot_every));
    world.run(to, to + DRAIN_MS)?;
    Ok(world.recorder.take())
}

impl<'w> World<'w> {
    fn new(
        work: &'w Workload,
        from: Millis,
        to: Millis,
        seed: u64,
        mut recorder: Recorder,
    ) -> Self {
        recorder.start(from, &work.routing);
        let mut core = RoutingCore::new(work.routing.clone());
        let setup = (work.mrds.iter().cloned().map(Input::UpsertMrd))
            .chain(work.queues.iter().cloned().map(Input::UpsertQueue))
            .chain(
                work.agents
                    .iter()
                    .map(|a| Input::UpsertAgent(a.profile.clone())),
            );
        for input in setup {
            recorder.handle(&mut core, from, Kind::Restore, input);
        }
        let arrivals = &work.arrivals;
        let mut world = World {
            work,
            core,
            recorder,
            now: from,
            seq: 0,
            events: BTreeMap::new(),
            tasks: arrivals.iter().map(|_| TaskTrack::default()).collect(),
            task_ix: arrivals
                .iter()
                .enumerate()
                .map(|(i, a)| (a.task_id.clone(), i))
                .collect(),
            agents: work.agents.iter().map(|_| AgentTrack::default()).collect(),
            agent_ix: work
                .agents
                .iter()
                .enumerate()
                .map(|(i, a)| (a.profile.id.clone(), i))
                .collect(),
            rng: StdRng::seed_from_u64(seed),
            seed,
            tally: Tally::new(work, from, to),
            closed: 0,
        };
        for (i, arrival) in arrivals.iter().enumerate() {
            world.at(arrival.at.max(from), Event::Arrive(i));
        }
        for (agent, plan) in work.agents.iter().enumerate() {
            for (change, c) in plan.shift.iter().enumerate() {
                world.at(c.at.max(from), Event::Shift { agent, change });
            }
        }
        world
    }

    fn at(&mut self, at: Millis, event: Event) {
        self.seq += 1;
        self.events.insert((at, self.seq), event);
    }

    /// Runs until every task is closed and the period is over (the shifts play to its
    /// end, for occupancy), or until `end`.
    fn run(&mut self, to: Millis, end: Millis) -> Result<(), SimError> {
        let limit = (self.tasks.len() as u64 + self.agents.len() as u64 + 1) * STEPS_PER_ARRIVAL;
        let mut steps = 0u64;
        loop {
            let next_event = self.events.first_key_value().map(|(&(at, _), _)| at);
            let deadline = self.core.next_deadline();
            let (at, timer_first) = match (deadline, next_event) {
                (Some(d), Some(e)) => (d.min(e), d <= e),
                (Some(d), None) => (d, true),
                (None, Some(e)) => (e, false),
                (None, None) => break,
            };
            let all_closed = self.closed == self.tasks.len();
            if at > end || (all_closed && at >= to) {
                break;
            }
            self.now = self.now.max(at);
            if timer_first {
                self.input(Input::Tick);
            } else if let Some((_, event)) = self.events.pop_first() {
                self.fire(event);
            }
            steps += 1;
            if steps > limit {
                return Err(SimError::Runaway(limit));
            }
        }
        Ok(())
    }

    fn fire(&mut self, event: Event) {
        match event {
            Event::Arrive(i) => self.arrive(i),
            Event::Shift { agent, change } => self.shift(agent, change),
            Event::Accept { agent, task, epoch } => {
                if self.tasks[task].epoch == epoch && !self.tasks[task].closed {
                    self.input(Input::AcceptTask {
                        agent_id: self.work.agents[agent].profile.id.clone(),
                        task_id: self.work.arrivals[task].task_id.clone(),
                    });
                }
            }
            Event::EndTalk { task, epoch } => {
                let t = &self.tasks[task];
                if t.epoch != epoch || t.closed {
                    return;
                }
                let task_id = self.work.arrivals[task].task_id.clone();
                if t.wrap_ms > 0 {
                    let at = self.now + t.wrap_ms;
                    self.at(at, Event::EndWrap { task, epoch });
                    self.input(Input::StartWrapUp { task_id });
                } else {
                    self.input(Input::CloseTask {
                        task_id,
                        disposition: Disposition::Done,
                    });
                }
            }
            Event::EndWrap { task, epoch } => {
                if self.tasks[task].epoch == epoch && !self.tasks[task].closed {
                    let task_id = self.work.arrivals[task].task_id.clone();
                    self.input(Input::EndWrapUp { task_id });
                }
            }
            Event::Abandon(task) => {
                if !self.tasks[task].answered && !self.tasks[task].closed {
                    let task_id = self.work.arrivals[task].task_id.clone();
                    self.input(Input::CloseTask {
                        task_id,
                        disposition: Disposition::Cancelled,
                    });
                }
            }
        }
    }

    fn arrive(&mut self, i: usize) {
        let a = &self.work.arrivals[i];
        if let Some(patience) = a.patience_ms {
            self.at(self.now + patience.max(0), Event::Abandon(i));
        }
        let refused_before = self.tally.rejected;
        self.input(Input::EnqueueTask(Box::new(NewTask {
            task_id: a.task_id.clone(),
            media_id: format!("{}-media", a.task_id),
            // One conversation per task: transfers and returning customers arrive as
            // tasks of their own.
            conversation_id: format!("sim-{}", a.task_id),
            queue_id: a.queue_id.clone(),
            priority: a.priority.clamp(1, 10),
            direction: Direction::Inbound,
            mode: TaskMode::Queue,
            offer_to_agent: true,
            agent_request_ttl_ms: a.ttl_ms,
            selection_policy: a.policy,
            preferred_last_agent: None,
            exclude_agents: Vec::new(),
            related_task: None,
            request_session: serde_json::Value::Null,
            metadata: serde_json::Value::Null,
        })));
        if self.tally.rejected > refused_before {
            // Its queue is gone from today's configuration: it is counted apart.
            self.tally.refused_arrivals += 1;
            if !self.tasks[i].closed {
                self.tasks[i].closed = true;
                self.closed += 1;
            }
        }
    }

    fn shift(&mut self, agent: usize, change: usize) {
        let plan = &self.work.agents[agent];
        let c = &plan.shift[change];
        let agent_id = plan.profile.id.clone();
        let track = &mut self.agents[agent];
        match c.state {
            ShiftState::Logout => {
                if !track.connected {
                    return;
                }
                if track.held == 0 {
                    track.leaving = false;
                    self.log_out(agent);
                } else {
                    track.leaving = true;
                    self.input(Input::SetAgentState {
                        agent_id,
                        state: RequestedAgentState::NotReady,
                        reason_code: c.reason.clone(),
                    });
                }
            }
            ShiftState::Ready | ShiftState::NotReady => {
                track.leaving = false;
                if !track.connected {
                    track.connected = true;
                    self.input(Input::AgentConnected {
                        agent_id: agent_id.clone(),
                    });
                }
                let (state, reason_code) = match c.state {
                    ShiftState::Ready => (RequestedAgentState::Ready, None),
                    _ => (RequestedAgentState::NotReady, c.reason.clone()),
                };
                self.input(Input::SetAgentState {
                    agent_id,
                    state,
                    reason_code,
                });
            }
        }
    }

    fn log_out(&mut self, agent: usize) {
        let agent_id = self.work.agents[agent].profile.id.clone();
        self.input(Input::SetAgentState {
            agent_id,
            state: RequestedAgentState::Logout,
            reason_code: None,
        });
    }

    fn input(&mut self, input: Input) {
        self.recorder.snapshot_if_due(self.now, &self.core);
        let effects = self
            .recorder
            .handle(&mut self.core, self.now, Kind::Input, input);
        for effect in effects {
            self.effect(effect);
        }
    }

    fn effect(&mut self, effect: Effect) {
        match effect {
            Effect::TaskEnqueued { task, .. } => self.tally.enqueued(&task),
            Effect::OfferTask { agent_id, task } => {
                let (Some(&t), Some(&a)) =
                    (self.task_ix.get(&task.id), self.agent_ix.get(&agent_id))
                else {
                    return;
                };
                self.tasks[t].epoch += 1;
                let sample_as = &self.work.agents[a].sample_as;
                let delay = self.work.pools.accept_delay(sample_as, &mut self.rng);
                let epoch = self.tasks[t].epoch;
                self.at(
                    self.now + delay.max(0),
                    Event::Accept {
                        agent: a,
                        task: t,
                        epoch,
                    },
                );
            }
            Effect::TaskAssigned { agent_id, task } => {
                if let (Some(&t), Some(&a)) =
                    (self.task_ix.get(&task.id), self.agent_ix.get(&agent_id))
                {
                    self.start_handling(t, a);
                }
            }
            Effect::RevokeTask { task, .. } => self.bump(&task.id),
            Effect::TaskRerouted { task, .. } => {
                self.bump(&task.id);
                if let Some(&t) = self.task_ix.get(&task.id) {
                    self.release(t);
                }
            }
            Effect::TaskStateChanged { task } | Effect::NoAgentAvailable { task } => {
                let Some(&t) = self.task_ix.get(&task.id) else {
                    return;
                };
                if task.state.name == TaskStateName::Closed {
                    if !self.tasks[t].closed {
                        self.tasks[t].closed = true;
                        self.closed += 1;
                        self.tally.closed(&task, self.tasks[t].answered, self.now);
                        self.release(t);
                    }
                } else if task.media.state == MediaState::Active && !self.tasks[t].answered {
                    self.tally.answered(&task);
                    let holder = task
                        .assigned_to
                        .as_ref()
                        .and_then(|id| self.agent_ix.get(id).copied());
                    if let Some(a) = holder {
                        self.start_handling(t, a);
                    }
                }
            }
            Effect::AgentStateChanged { agent, .. } => self.tally.agent(&agent, self.now),
            Effect::Rejected { .. } => self.tally.rejected += 1,
            _ => {}
        }
    }

    fn bump(&mut self, task_id: &str) {
        if let Some(&t) = self.task_ix.get(task_id) {
            self.tasks[t].epoch += 1;
        }
    }

    /// An agent answered task `t`: it handles it for the task's drawn time.
    fn start_handling(&mut self, t: usize, a: usize) {
        let arrival = &self.work.arrivals[t];
        let mut rng =
            StdRng::seed_from_u64(self.seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let fallback = self.work.routing.default_handle_time_ms;
        let sample_as = &self.work.agents[a].sample_as;
        let (talk, wrap) = self
            .work
            .pools
            .handle(sample_as, &arrival.queue_id, fallback, &mut rng);
        let track = &mut self.tasks[t];
        track.answered = true;
        track.holder = Some(a);
        track.wrap_ms = wrap.max(0);
        track.epoch += 1;
        let epoch = track.epoch;
        self.agents[a].held += 1;
        self.at(self.now + talk.max(0), Event::EndTalk { task: t, epoch });
    }

    /// Task `t` left its agent (closed or re-routed); a leaving agent with nothing left
    /// logs out.
    fn release(&mut self, t: usize) {
        let Some(a) = self.tasks[t].holder.take() else {
            return;
        };
        let track = &mut self.agents[a];
        track.held = track.held.saturating_sub(1);
        if track.held == 0 && track.leaving {
            track.leaving = false;
            self.log_out(a);
        }
    }
}
