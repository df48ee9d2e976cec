//! Matching: where waiting tasks wait (queue step pools or one agent's list), the
//! two routing decisions (a task looks for an agent; an agent looks for a task),
//! and reserving a task to the agent chosen.

use std::cmp::Reverse;

use super::state::{AgentIx, MrdIx, PickKey, QueueIx, QueueKey, TaskIx, Waiting};
use super::timers::Timer;
use super::RoutingCore;
use crate::effect::Effect;
use crate::model::MediaState;
use crate::select::{self, Candidate};
use crate::task::{Target, Task};

/// Bit mask of pools 0..=step.
fn pools_through(step: usize) -> u16 {
    if step >= 15 {
        u16::MAX
    } else {
        (1u16 << (step + 1)) - 1
    }
}

impl RoutingCore {
    /// Makes every possible match, until no waiting task fits an available agent.
    pub(super) fn run_routing(&mut self) {
        loop {
            if let Some(key) = self.work_tasks.pop_first() {
                self.route_task(key.task);
            } else if let Some((a, m)) = self.work_agents.pop_front() {
                self.fill_agent(a, m);
            } else {
                break;
            }
        }
    }

    /// Queues a task-centric decision for a task that became routable.
    pub(super) fn want_agent_for(&mut self, t: TaskIx) {
        let key = self.queue_key(t);
        self.work_tasks.insert(key);
    }

    /// The task's rank among waiting tasks: priority, then enqueue time, then arrival.
    fn queue_key(&self, t: TaskIx) -> QueueKey {
        let task = &self.tasks[t].task;
        QueueKey {
            priority: Reverse(task.media.priority),
            enqueue_time: task.media.enqueue_time,
            seq: task.routing.seq,
            task: t,
        }
    }

    fn route_task(&mut self, t: TaskIx) {
        let waiting = self
            .tasks
            .get(t)
            .is_some_and(|slot| slot.waiting != Waiting::No);
        if !waiting {
            return;
        }
        if let Some(a) = self.best_agent_for(t) {
            self.reserve(t, a);
        }
    }

    fn fill_agent(&mut self, a: AgentIx, m: MrdIx) {
        while self.is_available(a, m) {
            match self.best_task_for(a, m) {
                Some(t) => self.reserve(t, a),
                None => break,
            }
        }
    }

    pub(super) fn is_available(&self, a: AgentIx, m: MrdIx) -> bool {
        self.agent_at(a)
            .mrds
            .get(m as usize)
            .is_some_and(|am| am.avail.is_some())
    }

    /// Whether `task` may go to agent `a` at all: not excluded, not already in the
    /// conversation.
    pub(super) fn allows(&self, task: &Task, a: AgentIx) -> bool {
        let agent_id = &self.agent_at(a).profile.id;
        if task.routing.exclude_agents.iter().any(|x| x == agent_id) {
            return false;
        }
        self.conversations
            .get(&task.conversation_id)
            .is_none_or(|holders| !holders.contains(&a))
    }

    pub(super) fn queue_priority(&self, q: QueueIx) -> u8 {
        if self.config.queue_priority_enabled {
            self.queue(q).config.priority
        } else {
            0
        }
    }

    /// Task-centric decision: the agent a waiting task goes to now, if any.
    fn best_agent_for(&self, t: TaskIx) -> Option<AgentIx> {
        let slot = &self.tasks[t];
        let task = &slot.task;
        match slot.waiting {
            Waiting::No => None,
            Waiting::Targeted(a, _) => {
                (self.is_available(a, slot.mrd) && self.allows(task, a)).then_some(a)
            }
            Waiting::Queue(_) => {
                let q = slot.queue as usize;
                let pools = self.queues[q].pool_count();
                let open = pools_through((task.routing.step as usize).min(pools - 1));
                let candidates = self.mrds[slot.mrd as usize]
                    .available
                    .iter()
                    .filter_map(|key| {
                        let matched = self.agent_at(key.agent).matches.get(q)?;
                        let pools = matched.mask & open;
                        if pools == 0 || !self.allows(task, key.agent) {
                            return None;
                        }
                        let pool = pools.trailing_zeros();
                        Some(Candidate {
                            agent: key.agent,
                            pool,
                            load: key.load,
                            skill: matched.skill[pool as usize],
                        })
                    });
                select::choose(task.routing.selection_policy, candidates)
            }
        }
    }

    /// Agent-centric decision: the best waiting task agent `a` can take on MRD `m`,
    /// across every queue it serves there and the tasks waiting for it by name.
    fn best_task_for(&self, a: AgentIx, m: MrdIx) -> Option<TaskIx> {
        let agent = self.agent_at(a);
        let mut best: Option<PickKey> = None;
        for &q in &self.mrds[m as usize].queues {
            let Some(matched) = agent.matches.get(q as usize) else {
                continue;
            };
            if matched.mask == 0 {
                continue;
            }
            // Tasks in pool k have step k open; the agent's first matching step
            // is the widest set of tasks it may take.
            let first_step = matched.mask.trailing_zeros() as usize;
            let Some(pool) = self.queue(q).open.get(first_step) else {
                continue;
            };
            let queue_priority = Reverse(self.queue_priority(q));
            for key in pool {
                let pick = PickKey {
                    queue_priority,
                    key: *key,
                };
                if best.is_some_and(|b| b <= pick) {
                    break;
                }
                if self.allows(&self.tasks[key.task].task, a) {
                    best = Some(pick);
                    break;
                }
            }
        }
        for pick in &agent.targeted {
            if best.is_some_and(|b| b <= *pick) {
                break;
            }
            let slot = &self.tasks[pick.key.task];
            if slot.mrd == m && self.allows(&slot.task, a) {
                best = Some(*pick);
                break;
            }
        }
        best.map(|pick| pick.key.task)
    }

    /// Puts a task where it waits, by its target, and arms its step or last-agent timer.
    pub(super) fn start_waiting(&mut self, t: TaskIx) {
        let q = self.tasks[t].queue;
        let target = self.tasks[t].task.routing.target.clone();
        let key = self.queue_key(t);
        let targeted_agent = match &target {
            Target::Queue => None,
            Target::Agent { agent_id } | Target::LastAgent { agent_id, .. } => {
                self.agent_ix(agent_id).ok()
            }
        };
        match targeted_agent {
            Some(a) => {
                let pick = PickKey {
                    queue_priority: Reverse(self.queue_priority(q)),
                    key,
                };
                self.agent_at_mut(a).targeted.insert(pick);
                self.queues[q as usize].targeted.insert(key);
                let slot = &mut self.tasks[t];
                slot.waiting = Waiting::Targeted(a, pick);
                if let Target::LastAgent { until, .. } = target {
                    self.timers.set(
                        &mut slot.timers.last_agent,
                        Timer::LastAgent(t),
                        Some(until),
                    );
                }
            }
            None => {
                if !matches!(target, Target::Queue) {
                    // The agent it waited for is gone: any agent of the queue will do.
                    self.tasks[t].task_mut().routing.target = Target::Queue;
                }
                let queue = &mut self.queues[q as usize];
                let last_pool = queue.pool_count() - 1;
                let slot = &mut self.tasks[t];
                let step = (slot.task.routing.step as usize).min(last_pool);
                if step != slot.task.routing.step as usize {
                    slot.task_mut().routing.step = step as u8;
                }
                for pool in &mut queue.open[..=step] {
                    pool.insert(key);
                }
                slot.waiting = Waiting::Queue(key);
                let next_step_at = queue
                    .config
                    .steps
                    .get(step)
                    .filter(|_| step < last_pool)
                    .map(|config| slot.task.routing.step_opened_at + config.timeout_ms.max(0));
                self.timers
                    .set(&mut slot.timers.step, Timer::Step(t), next_step_at);
            }
        }
    }

    /// Takes a task out of wherever it waits and cancels its waiting timers.
    pub(super) fn stop_waiting(&mut self, t: TaskIx) {
        let slot = &mut self.tasks[t];
        let waiting = std::mem::replace(&mut slot.waiting, Waiting::No);
        self.timers.set(&mut slot.timers.step, Timer::Step(t), None);
        self.timers
            .set(&mut slot.timers.last_agent, Timer::LastAgent(t), None);
        let q = slot.queue as usize;
        match waiting {
            Waiting::No => {}
            Waiting::Queue(key) => {
                for pool in &mut self.queues[q].open {
                    if !pool.remove(&key) {
                        break;
                    }
                }
            }
            Waiting::Targeted(a, pick) => {
                self.agents[a as usize].targeted.remove(&pick);
                self.queues[q].targeted.remove(&pick.key);
            }
        }
    }

    /// Reserves a waiting task to agent `a` (or assigns it outright when the task
    /// is not offered) and tells the agent.
    pub(super) fn reserve(&mut self, t: TaskIx, a: AgentIx) {
        self.stop_waiting(t);
        let now = self.now;
        let accept_timeout = self.accept_timeout(self.tasks[t].queue);
        let agent_id = self.agent_at(a).profile.id.clone();
        let slot = &mut self.tasks[t];
        let m = slot.mrd;
        let offer = slot.task.routing.offer_to_agent;
        slot.agent = Some(a);
        let task = slot.task_mut();
        task.assigned_to = Some(agent_id.clone());
        task.media.state = MediaState::Reserved;
        task.routing.reserved_at = Some(now);
        if offer {
            let deadline = now + accept_timeout;
            slot.task_mut().routing.accept_deadline = Some(deadline);
            self.timers
                .set(&mut slot.timers.rona, Timer::Rona(t), Some(deadline));
        }
        self.hold(a, t, m);
        if offer {
            self.emit_task_changed(t);
            let task = self.snapshot(t);
            self.out.push(Effect::OfferTask { agent_id, task });
        } else {
            self.mark_answered(t);
            self.emit_task_changed(t);
            let task = self.snapshot(t);
            self.out.push(Effect::TaskAssigned { agent_id, task });
        }
    }

    fn accept_timeout(&self, q: QueueIx) -> i64 {
        self.queue(q)
            .config
            .accept_timeout_ms
            .unwrap_or(self.config.accept_timeout_ms)
            .max(0)
    }
}
