//! Live configuration: MRDs, queues (with their steps), agent profiles. A change
//! re-derives what depends on it (capacities, step eligibility, interruptions) and
//! re-evaluates the waiting tasks and available agents it touches.

use std::collections::BTreeSet;

use super::state::{
    AgentIx, AgentMrd, AgentSlot, MrdIx, MrdSlot, QueueIx, QueueMatch, QueueSlot, TaskIx,
};
use super::RoutingCore;
use crate::error::RoutingError;
use crate::expr::Expr;
use crate::model::{
    AgentProfile, AgentStateName, AttrValue, Disposition, MediaState, MrdConfig, QueueConfig,
    TaskStateName, MAX_CLIENT_PRIORITY, MAX_STEPS,
};
use crate::stats::QueueWindow;
use crate::task::QueueRef;

/// Which steps of a queue an agent with `attributes` matches.
fn match_steps(
    steps: &[Expr],
    attributes: &std::collections::BTreeMap<String, AttrValue>,
) -> QueueMatch {
    let mut matched = QueueMatch::default();
    if steps.is_empty() {
        matched.mask = 1;
        return matched;
    }
    for (k, expr) in steps.iter().enumerate() {
        if expr.matches(attributes) {
            matched.mask |= 1 << k;
            matched.skill[k] = expr.skill_sum(attributes);
        }
    }
    matched
}

impl RoutingCore {
    pub(super) fn upsert_mrd(&mut self, config: MrdConfig) -> Result<(), RoutingError> {
        let now = self.now;
        let auto_sync = self.config.auto_sync_mrd_states;
        match self.mrd_ids.get(&config.id).copied() {
            Some(m) => {
                let slot = &mut self.mrds[m as usize];
                let revived = !slot.live;
                let interruptible_changed = slot.config.interruptible != config.interruptible;
                slot.config = config;
                slot.live = true;
                for a in 0..self.agents.len() as AgentIx {
                    let max = self.max_tasks(a, m);
                    let agent = &mut self.agents[a as usize];
                    let ready = auto_sync && agent.state == AgentStateName::Ready;
                    let am = &mut agent.mrds[m as usize];
                    if revived {
                        *am = AgentMrd::new(now, max);
                        am.ready_requested = ready;
                    }
                    am.max = max;
                }
                if interruptible_changed {
                    self.recount_non_interruptible_loads();
                }
            }
            None => {
                let m = self.mrds.len() as MrdIx;
                self.mrd_ids.insert(config.id.clone(), m);
                self.mrds.push(MrdSlot {
                    live: true,
                    config,
                    queues: Vec::new(),
                    available: BTreeSet::new(),
                });
                for a in 0..self.agents.len() as AgentIx {
                    let max = self.max_tasks(a, m);
                    let agent = &mut self.agents[a as usize];
                    let mut am = AgentMrd::new(now, max);
                    am.ready_requested = auto_sync && agent.state == AgentStateName::Ready;
                    agent.mrds.push(am);
                }
            }
        }
        // Capacities and interruptions may change on any MRD of any agent.
        for a in 0..self.agents.len() as AgentIx {
            self.refresh_agent(a);
        }
        Ok(())
    }

    pub(super) fn remove_mrd(&mut self, mrd_id: &str) -> Result<(), RoutingError> {
        let m = self.mrd_ix(mrd_id)?;
        if let Some(queue) = self.queues.iter().find(|q| q.live && q.mrd == m) {
            return Err(RoutingError::MrdInUse {
                mrd: mrd_id.to_string(),
                queue: queue.config.id.clone(),
            });
        }
        if self
            .agents
            .iter()
            .any(|agent| agent.mrds[m as usize].load > 0)
        {
            return Err(RoutingError::MrdBusy(mrd_id.to_string()));
        }
        self.mrds[m as usize].live = false;
        for a in 0..self.agents.len() as AgentIx {
            self.agents[a as usize].mrds[m as usize].ready_requested = false;
            self.refresh_mrd(a, m);
        }
        Ok(())
    }

    pub(super) fn upsert_queue(&mut self, config: QueueConfig) -> Result<(), RoutingError> {
        if !(1..=MAX_CLIENT_PRIORITY).contains(&config.priority) {
            return Err(RoutingError::InvalidPriority(config.priority));
        }
        let m = self.mrd_ix(&config.mrd_id)?;
        if config.steps.len() > MAX_STEPS {
            return Err(RoutingError::TooManySteps(config.steps.len()));
        }
        let mut steps = Vec::with_capacity(config.steps.len());
        for (step, step_config) in config.steps.iter().enumerate() {
            if step_config.timeout_ms < 0 {
                return Err(RoutingError::NegativeTimeout {
                    queue: config.id.clone(),
                    step,
                });
            }
            let expr = Expr::parse(&step_config.expression).map_err(|error| {
                RoutingError::BadExpression {
                    queue: config.id.clone(),
                    step,
                    error,
                }
            })?;
            steps.push(expr);
        }
        let pools = steps.len().max(1);
        let Some(q) = self.queue_ids.get(&config.id).copied() else {
            let q = self.queues.len() as QueueIx;
            self.queue_ids.insert(config.id.clone(), q);
            for agent in &mut self.agents {
                agent
                    .matches
                    .push(match_steps(&steps, &agent.profile.attributes));
            }
            self.queues.push(QueueSlot {
                live: true,
                config,
                mrd: m,
                steps,
                open: vec![BTreeSet::new(); pools],
                targeted: BTreeSet::new(),
                window: QueueWindow::default(),
            });
            self.mrds[m as usize].queues.push(q);
            return Ok(());
        };

        // Take the waiting tasks out, rebuild the queue, put them back in.
        let waiting: Vec<TaskIx> = {
            let queue = self.queue(q);
            queue.open[0]
                .iter()
                .chain(queue.targeted.iter())
                .map(|key| key.task)
                .collect()
        };
        for &t in &waiting {
            self.stop_waiting(t);
        }
        let old_mrd = self.queue(q).mrd;
        self.mrds[old_mrd as usize].queues.retain(|&x| x != q);
        for agent in &mut self.agents {
            agent.matches[q as usize] = match_steps(&steps, &agent.profile.attributes);
        }
        let queue = &mut self.queues[q as usize];
        queue.live = true;
        queue.config = config;
        queue.mrd = m;
        queue.steps = steps;
        queue.open = vec![BTreeSet::new(); pools];
        self.mrds[m as usize].queues.push(q);
        let queue_ref = QueueRef {
            id: self.queue(q).config.id.clone(),
            name: self.queue(q).config.name.clone(),
        };
        let mrd_id = self.mrds[m as usize].config.id.clone();
        for t in waiting {
            let slot = &mut self.tasks[t];
            slot.mrd = m;
            let changed = slot.task.media.queue != queue_ref || slot.task.media.mrd_id != mrd_id;
            if changed {
                let task = slot.task_mut();
                task.media.queue = queue_ref.clone();
                task.media.mrd_id = mrd_id.clone();
            }
            self.start_waiting(t);
            if changed {
                self.emit_task_changed(t);
            }
            self.want_agent_for(t);
        }
        let available: Vec<AgentIx> = self.mrds[m as usize]
            .available
            .iter()
            .map(|key| key.agent)
            .collect();
        self.work_agents
            .extend(available.into_iter().map(|a| (a, m)));
        Ok(())
    }

    pub(super) fn remove_queue(&mut self, queue_id: &str) -> Result<(), RoutingError> {
        let q = self.queue_ix(queue_id)?;
        self.close_waiting_of(q, Disposition::ForceClosed);
        let m = self.queue(q).mrd;
        self.mrds[m as usize].queues.retain(|&x| x != q);
        self.queues[q as usize].live = false;
        Ok(())
    }

    pub(super) fn upsert_agent(&mut self, profile: AgentProfile) -> Result<(), RoutingError> {
        for (attribute, value) in &profile.attributes {
            if let AttrValue::Proficiency(level) = value {
                if !(1..=10).contains(level) {
                    return Err(RoutingError::InvalidProficiency {
                        attribute: attribute.clone(),
                        value: *level,
                    });
                }
            }
        }
        let a = match self.agent_ids.get(&profile.id).copied() {
            Some(a) if self.agents[a as usize].live => {
                self.agents[a as usize].profile = profile;
                a
            }
            Some(a) => {
                self.agents[a as usize] = self.fresh_agent(profile);
                a
            }
            None => {
                let a = self.agents.len() as AgentIx;
                self.agent_ids.insert(profile.id.clone(), a);
                let slot = self.fresh_agent(profile);
                self.agents.push(slot);
                a
            }
        };
        for m in 0..self.mrds.len() as MrdIx {
            let max = self.max_tasks(a, m);
            self.agents[a as usize].mrds[m as usize].max = max;
        }
        let agent = &mut self.agents[a as usize];
        for (q, queue) in self.queues.iter().enumerate() {
            agent.matches[q] = match_steps(&queue.steps, &agent.profile.attributes);
        }
        self.refresh_agent(a);
        // Eligibility may have grown without the agent changing availability.
        for m in 0..self.mrds.len() as MrdIx {
            if self.is_available(a, m) {
                self.work_agents.push_back((a, m));
            }
        }
        Ok(())
    }

    pub(super) fn remove_agent(&mut self, agent_id: &str) -> Result<(), RoutingError> {
        let a = self.agent_ix(agent_id)?;
        self.log_out(a, None);
        // Already logged out, it may still be asked for by name.
        self.release_targeted(a, Disposition::NoAgentAvailable);
        let agent = &mut self.agents[a as usize];
        agent.live = false;
        agent.connected = false;
        self.refresh_agent(a);
        Ok(())
    }

    fn fresh_agent(&self, profile: AgentProfile) -> AgentSlot {
        let now = self.now;
        AgentSlot {
            live: true,
            mrds: self
                .mrds
                .iter()
                .map(|mrd| {
                    let max = profile
                        .mrd_max_tasks
                        .get(&mrd.config.id)
                        .copied()
                        .unwrap_or(mrd.config.max_tasks);
                    AgentMrd::new(now, max)
                })
                .collect(),
            matches: self
                .queues
                .iter()
                .map(|queue| match_steps(&queue.steps, &profile.attributes))
                .collect(),
            profile,
            state: AgentStateName::Logout,
            reason_code: None,
            state_since: now,
            login_time: None,
            connected: false,
            resume: None,
            held: Vec::new(),
            targeted: BTreeSet::new(),
            non_interruptible_load: 0,
            disconnect_deadline: None,
            unknown_deadline: None,
            changes: Vec::new(),
            dirty: false,
        }
    }

    fn recount_non_interruptible_loads(&mut self) {
        for a in 0..self.agents.len() {
            let count = self.agents[a]
                .held
                .iter()
                .filter(|&&t| {
                    let slot = &self.tasks[t];
                    slot.task.state.name == TaskStateName::Active
                        && matches!(
                            slot.task.media.state,
                            MediaState::Reserved | MediaState::Active
                        )
                        && !self.mrds[slot.mrd as usize].config.interruptible
                })
                .count();
            self.agents[a].non_interruptible_load = count as u32;
        }
    }
}
