//! Agents: global state (LOGOUT, LOGIN, NOT_READY, READY, UNKNOWN), per-MRD
//! states derived from the agent's wish, its load and interruptions, capacity
//! accounting, availability indexes, desk connects and drops, logouts, and the
//! presence reports with their history rows.

use super::state::{AgentIx, AvailKey, MrdIx, TaskIx};
use super::timers::Timer;
use super::RoutingCore;
use crate::effect::Effect;
use crate::error::RoutingError;
use crate::model::{
    AgentStateName, Disposition, MediaState, MrdStateName, RequestedAgentState, RequestedMrdState,
    RevokeReason, TaskStateName, REROUTE_PRIORITY,
};
use crate::task::Target;
use crate::view::{ResumeState, StateChange, StateChangeKind};

impl RoutingCore {
    // --- inputs ---

    pub(super) fn agent_connected(&mut self, agent_id: &str) -> Result<(), RoutingError> {
        let a = self.agent_ix(agent_id)?;
        let now = self.now;
        let agent = &mut self.agents[a as usize];
        agent.connected = true;
        self.timers.set(
            &mut agent.disconnect_deadline,
            Timer::DisconnectGrace(a),
            None,
        );
        match agent.state {
            AgentStateName::Logout => self.log_in(a),
            AgentStateName::Unknown => {
                self.timers
                    .set(&mut agent.unknown_deadline, Timer::UnknownGrace(a), None);
                let resume = agent.resume.take().unwrap_or(ResumeState {
                    state: AgentStateName::NotReady,
                    reason_code: None,
                });
                if agent.login_time.is_none() {
                    agent.login_time = Some(now);
                }
                match resume.state {
                    AgentStateName::Ready => self.record_global(a, AgentStateName::Ready, None),
                    _ => self.go_not_ready(a, resume.reason_code),
                }
            }
            _ => {}
        }
        self.refresh_agent(a);
        Ok(())
    }

    pub(super) fn agent_disconnected(&mut self, agent_id: &str) -> Result<(), RoutingError> {
        let a = self.agent_ix(agent_id)?;
        let grace_end = self.now + self.config.disconnect_grace_ms.max(0);
        let agent = &mut self.agents[a as usize];
        agent.connected = false;
        if matches!(
            agent.state,
            AgentStateName::Login | AgentStateName::NotReady | AgentStateName::Ready
        ) {
            self.timers.set(
                &mut agent.disconnect_deadline,
                Timer::DisconnectGrace(a),
                Some(grace_end),
            );
        }
        self.refresh_agent(a);
        Ok(())
    }

    pub(super) fn set_agent_state(
        &mut self,
        agent_id: &str,
        requested: RequestedAgentState,
        reason_code: Option<String>,
    ) -> Result<(), RoutingError> {
        let a = self.agent_ix(agent_id)?;
        if requested == RequestedAgentState::Logout {
            self.log_out(a, reason_code);
            return Ok(());
        }
        if !self.agent_at(a).connected {
            return Err(RoutingError::NotConnected(agent_id.to_string()));
        }
        if self.agent_at(a).state == AgentStateName::Logout {
            self.log_in(a);
        }
        match requested {
            RequestedAgentState::Ready => {
                self.record_global(a, AgentStateName::Ready, None);
                if self.config.auto_sync_mrd_states {
                    for am in &mut self.agents[a as usize].mrds {
                        am.ready_requested = true;
                    }
                }
                self.refresh_agent(a);
            }
            _ => self.go_not_ready(a, reason_code),
        }
        Ok(())
    }

    pub(super) fn set_agent_mrd_state(
        &mut self,
        agent_id: &str,
        mrd_id: &str,
        requested: RequestedMrdState,
    ) -> Result<(), RoutingError> {
        let a = self.agent_ix(agent_id)?;
        let m = self.mrd_ix(mrd_id)?;
        match requested {
            RequestedMrdState::Ready => {
                if self.agent_at(a).state != AgentStateName::Ready {
                    return Err(RoutingError::GlobalNotReady(agent_id.to_string()));
                }
                self.agents[a as usize].mrds[m as usize].ready_requested = true;
            }
            RequestedMrdState::NotReady => {
                self.agents[a as usize].mrds[m as usize].ready_requested = false;
                self.revoke_reservations(a, Some(m), RevokeReason::AgentNotReady);
            }
        }
        self.refresh_mrd(a, m);
        Ok(())
    }

    pub(super) fn force_logout(
        &mut self,
        agent_id: &str,
        reason_code: Option<String>,
    ) -> Result<(), RoutingError> {
        let a = self.agent_ix(agent_id)?;
        self.log_out(a, reason_code);
        Ok(())
    }

    pub(super) fn require_logged_in(&self, agent_id: &str) -> Result<(), RoutingError> {
        let a = self.agent_ix(agent_id)?;
        match self.agent_at(a).state {
            AgentStateName::Logout | AgentStateName::Unknown => {
                Err(RoutingError::NotLoggedIn(agent_id.to_string()))
            }
            _ => Ok(()),
        }
    }

    // --- timers ---

    pub(super) fn on_disconnect_grace_over(&mut self, a: AgentIx) {
        self.agents[a as usize].disconnect_deadline = None;
        if !self.agent_at(a).connected {
            self.log_out(a, None);
        }
    }

    pub(super) fn on_unknown_grace_over(&mut self, a: AgentIx) {
        self.agents[a as usize].unknown_deadline = None;
        if self.agent_at(a).state == AgentStateName::Unknown {
            self.log_out(a, None);
        }
    }

    // --- transitions ---

    fn log_in(&mut self, a: AgentIx) {
        self.agents[a as usize].login_time = Some(self.now);
        self.record_global(a, AgentStateName::Login, None);
        self.record_global(a, AgentStateName::NotReady, None);
    }

    /// Global NOT_READY: every MRD goes down (pending where tasks are active) and
    /// outstanding offers are taken back.
    pub(super) fn go_not_ready(&mut self, a: AgentIx, reason_code: Option<String>) {
        self.record_global(a, AgentStateName::NotReady, reason_code);
        for am in &mut self.agents[a as usize].mrds {
            am.ready_requested = false;
        }
        self.revoke_reservations(a, None, RevokeReason::AgentNotReady);
        self.refresh_agent(a);
    }

    /// LOGOUT (asked for, forced, or after a lost desk): reserved and active tasks go
    /// back to their queues at priority 11, wrap-ups end, subscriptions drop.
    pub(super) fn log_out(&mut self, a: AgentIx, reason_code: Option<String>) {
        if self.agent_at(a).state == AgentStateName::Logout {
            return;
        }
        self.record_global(a, AgentStateName::Logout, reason_code);
        let agent = &mut self.agents[a as usize];
        agent.login_time = None;
        agent.resume = None;
        for am in &mut agent.mrds {
            am.ready_requested = false;
        }
        self.timers.set(
            &mut agent.disconnect_deadline,
            Timer::DisconnectGrace(a),
            None,
        );
        self.timers
            .set(&mut agent.unknown_deadline, Timer::UnknownGrace(a), None);
        for t in self.agent_at(a).held.clone() {
            let (state, media) = {
                let task = &self.tasks[t].task;
                (task.state.name, task.media.state)
            };
            match (state, media) {
                (TaskStateName::WrapUp, _) => {
                    self.finish(t, self.wrap_up_end(t));
                }
                (_, MediaState::Reserved) => {
                    self.emit_revoke(t, RevokeReason::AgentLogout);
                    self.release(t);
                    self.reroute(t, a, false);
                }
                (_, MediaState::Active) => {
                    self.release(t);
                    self.reroute(t, a, true);
                }
                _ => {}
            }
        }
        self.release_targeted(a, Disposition::AgentLogout);
        self.refresh_agent(a);
        let agent_id = self.agent_at(a).profile.id.clone();
        self.pull.unsubscribe_all(&agent_id, &mut self.out);
    }

    /// How an answered task its agent left ends when another agent routing brought
    /// into the chat carries it on, so nobody else need be asked: TRANSFERRED when
    /// that agent answered a consult or conference asked for from this task (the chat
    /// is its now), AGENT_LOGOUT when this task was asked for from that agent's (this
    /// agent's part is over). `None`: the chat goes back to its queue.
    fn carried_on(&self, t: TaskIx, from: AgentIx) -> Option<Disposition> {
        let task = &self.tasks[t].task;
        self.conversation_tasks
            .get(task.conversation_id.as_str())
            .into_iter()
            .flatten()
            .map(|&u| &self.tasks[u])
            .filter(|other| {
                other.agent.is_some_and(|a| a != from)
                    && other.task.media.state == MediaState::Active
                    && other.task.state.name == TaskStateName::Active
            })
            .find_map(|other| {
                if other.task.routing.related_task.as_deref() == Some(task.id.as_str()) {
                    Some(Disposition::Transferred)
                } else if task.routing.related_task.as_deref() == Some(other.task.id.as_str()) {
                    Some(Disposition::AgentLogout)
                } else {
                    None
                }
            })
    }

    /// The tasks waiting for the agent by name end with `disposition` (see
    /// `end_unanswered`); a chat that waited for it as its last agent goes to its queue.
    pub(super) fn release_targeted(&mut self, a: AgentIx, disposition: Disposition) {
        let targeted: Vec<TaskIx> = self
            .agent_at(a)
            .targeted
            .iter()
            .map(|p| p.key.task)
            .collect();
        for t in targeted {
            self.stop_waiting(t);
            if matches!(self.tasks[t].task.routing.target, Target::Agent { .. }) {
                self.end_unanswered(t, disposition);
            } else {
                self.tasks[t].task_mut().routing.target = Target::Queue;
                self.start_waiting(t);
                self.moved_on(t);
                self.want_agent_for(t);
            }
        }
    }

    /// Takes back the agent's outstanding offers (on one MRD or all) and re-queues them.
    fn revoke_reservations(&mut self, a: AgentIx, only: Option<MrdIx>, reason: RevokeReason) {
        let reserved: Vec<TaskIx> = self
            .agent_at(a)
            .held
            .iter()
            .copied()
            .filter(|&t| {
                let slot = &self.tasks[t];
                slot.task.media.state == MediaState::Reserved && only.is_none_or(|m| slot.mrd == m)
            })
            .collect();
        for t in reserved {
            self.emit_revoke(t, reason);
            self.release(t);
            self.requeue(t, REROUTE_PRIORITY, None, false);
        }
    }

    /// A task taken from a logged-out agent. An answered one goes back to its queue at
    /// priority 11 even when it was a named agent's (a direct transfer's, say): the
    /// customer is mid-chat and anyone of the queue may carry on. An offer made to
    /// that agent by name ends AGENT_LOGOUT; any other offer goes back to its queue.
    /// The conversation drops the agent (`TaskRerouted`) whenever it had joined, even
    /// when the task could only be closed (its queue is gone).
    fn reroute(&mut self, t: TaskIx, from: AgentIx, was_active: bool) {
        if !was_active && matches!(self.tasks[t].task.routing.target, Target::Agent { .. }) {
            self.end_unanswered(t, Disposition::AgentLogout);
            return;
        }
        if let Some(disposition) = was_active.then(|| self.carried_on(t, from)).flatten() {
            let task = self.finish(t, disposition);
            let from_agent = self.agent_at(from).profile.id.clone();
            self.out.push(Effect::TaskRerouted { task, from_agent });
            return;
        }
        let closed = self.requeue(
            t,
            REROUTE_PRIORITY,
            Some(Disposition::AgentLogout),
            was_active,
        );
        let task = match closed {
            None => self.snapshot(t),
            Some(task) if was_active => task,
            Some(_) => return,
        };
        let from_agent = self.agent_at(from).profile.id.clone();
        self.out.push(Effect::TaskRerouted { task, from_agent });
    }

    fn record_global(&mut self, a: AgentIx, state: AgentStateName, reason_code: Option<String>) {
        let now = self.now;
        let agent = &mut self.agents[a as usize];
        if agent.state == state && agent.reason_code == reason_code {
            return;
        }
        agent.state = state;
        agent.reason_code = reason_code.clone();
        agent.state_since = now;
        agent.changes.push(StateChange {
            at: now,
            kind: StateChangeKind::Agent { state, reason_code },
        });
        self.mark_dirty(a);
    }

    // --- capacity ---

    /// Counts a newly reserved task against the agent's capacity on `m`.
    pub(super) fn hold(&mut self, a: AgentIx, t: TaskIx, m: MrdIx) {
        let now = self.now;
        let non_interruptible = !self.mrds[m as usize].config.interruptible;
        let conversation = self.tasks[t].task.conversation_id.clone();
        self.conversations.entry(conversation).or_default().push(a);
        let agent = &mut self.agents[a as usize];
        if !agent.held.contains(&t) {
            agent.held.push(t);
        }
        let am = &mut agent.mrds[m as usize];
        am.load += 1;
        am.avail_since = now;
        if non_interruptible {
            agent.non_interruptible_load += 1;
            if agent.non_interruptible_load == 1 {
                self.refresh_agent(a);
                return;
            }
        }
        self.refresh_mrd(a, m);
    }

    /// The task stops counting against capacity (closed, wrap-up, revoked, re-routed).
    pub(super) fn unload(&mut self, a: AgentIx, t: TaskIx, m: MrdIx) {
        let now = self.now;
        let non_interruptible = !self.mrds[m as usize].config.interruptible;
        let conversation = &self.tasks[t].task.conversation_id;
        if let Some(holders) = self.conversations.get_mut(conversation) {
            if let Some(i) = holders.iter().position(|&h| h == a) {
                holders.swap_remove(i);
            }
            if holders.is_empty() {
                self.conversations.remove(conversation);
            }
        }
        let agent = &mut self.agents[a as usize];
        let am = &mut agent.mrds[m as usize];
        am.load = am.load.saturating_sub(1);
        am.avail_since = now;
        let mut all = false;
        if non_interruptible {
            agent.non_interruptible_load = agent.non_interruptible_load.saturating_sub(1);
            all = agent.non_interruptible_load == 0;
        }
        if all {
            self.refresh_agent(a);
        } else {
            self.refresh_mrd(a, m);
        }
        // Leaving the conversation may make the agent eligible, on any MRD, for a
        // task of that conversation it was kept away from.
        for other in 0..self.mrds.len() as MrdIx {
            if other != m && self.is_available(a, other) {
                self.work_agents.push_back((a, other));
            }
        }
    }

    /// Detaches a task from its holder: capacity (if it still counted), held list, offer timer.
    pub(super) fn release(&mut self, t: TaskIx) {
        let slot = &mut self.tasks[t];
        let Some(a) = slot.agent.take() else {
            return;
        };
        self.timers.set(&mut slot.timers.rona, Timer::Rona(t), None);
        let counts = slot.task.state.name == TaskStateName::Active
            && matches!(
                slot.task.media.state,
                MediaState::Reserved | MediaState::Active
            );
        let m = slot.mrd;
        if slot.task.routing.accept_deadline.is_some() {
            slot.task_mut().routing.accept_deadline = None;
        }
        self.agents[a as usize].held.retain(|&h| h != t);
        if counts {
            self.unload(a, t, m);
        }
        self.mark_dirty(a);
    }

    // --- derived states and availability ---

    pub(super) fn refresh_agent(&mut self, a: AgentIx) {
        for m in 0..self.agent_at(a).mrds.len() {
            self.refresh_mrd(a, m as MrdIx);
        }
    }

    /// Re-derives the agent's state on `m` and its place among the MRD's available
    /// agents; an agent that became available (or freed capacity) looks for work.
    pub(super) fn refresh_mrd(&mut self, a: AgentIx, m: MrdIx) {
        let now = self.now;
        let mrd = &mut self.mrds[m as usize];
        let agent = &mut self.agents[a as usize];
        let global_ready = agent.live && agent.connected && agent.state == AgentStateName::Ready;
        let interrupted = mrd.config.interruptible && agent.non_interruptible_load > 0;
        let am = &mut agent.mrds[m as usize];
        let state = if !mrd.live || !agent.live {
            MrdStateName::NotReady
        } else if !am.ready_requested {
            if am.load > 0 {
                MrdStateName::PendingNotReady
            } else {
                MrdStateName::NotReady
            }
        } else if interrupted {
            MrdStateName::Interrupted
        } else if am.load == 0 {
            if am.max == 0 {
                MrdStateName::NotReady
            } else {
                MrdStateName::Ready
            }
        } else if am.load < am.max {
            MrdStateName::Active
        } else {
            MrdStateName::Busy
        };
        let changed = state != am.state;
        if changed {
            am.state = state;
            am.state_since = now;
        }
        let available = global_ready && mrd.live && state.is_routable() && am.load < am.max;
        let key = if available {
            if am.avail.is_none() {
                am.avail_since = now;
            }
            Some(AvailKey {
                since: am.avail_since,
                load: am.load,
                agent: a,
            })
        } else {
            None
        };
        if key != am.avail {
            let old = std::mem::replace(&mut am.avail, key);
            if let Some(old) = old {
                mrd.available.remove(&old);
            }
            if let Some(new) = key {
                mrd.available.insert(new);
                if old.is_none_or(|old| new.load < old.load) {
                    self.work_agents.push_back((a, m));
                }
            }
        }
        if changed {
            self.mark_dirty(a);
            if state == MrdStateName::Interrupted {
                self.emit_interrupted(a, m);
            }
        }
    }

    fn emit_interrupted(&mut self, a: AgentIx, m: MrdIx) {
        let agent = self.agent_at(a);
        let mut conversations: Vec<String> = agent
            .held
            .iter()
            .map(|&t| &self.tasks[t])
            .filter(|slot| {
                slot.mrd == m
                    && matches!(
                        slot.task.media.state,
                        MediaState::Reserved | MediaState::Active
                    )
            })
            .map(|slot| slot.task.conversation_id.clone())
            .collect();
        conversations.dedup();
        let effect = Effect::MrdInterrupted {
            mrd_id: self.mrds[m as usize].config.id.clone(),
            agent_id: agent.profile.id.clone(),
            conversations,
        };
        self.out.push(effect);
    }

    /// Emits one presence report per agent changed since the last flush, carrying
    /// the global changes in order and the net per-MRD changes.
    pub(super) fn flush_agent_changes(&mut self) {
        let now = self.now;
        for a in std::mem::take(&mut self.dirty_agents) {
            let agent = &mut self.agents[a as usize];
            agent.dirty = false;
            let mut changes = std::mem::take(&mut agent.changes);
            for (m, am) in agent.mrds.iter_mut().enumerate() {
                if am.state != am.reported_state {
                    am.reported_state = am.state;
                    if self.mrds[m].live {
                        changes.push(StateChange {
                            at: now,
                            kind: StateChangeKind::Mrd {
                                mrd_id: self.mrds[m].config.id.clone(),
                                state: am.state,
                            },
                        });
                    }
                }
            }
            if !changes.is_empty() {
                let agent = Box::new(self.view_of(a));
                self.out.push(Effect::AgentStateChanged { agent, changes });
            }
        }
    }

    /// The agent's capacity on `m`: its own value, else the MRD default.
    pub(super) fn max_tasks(&self, a: AgentIx, m: MrdIx) -> u32 {
        let mrd = &self.mrds[m as usize].config;
        self.agent_at(a)
            .profile
            .mrd_max_tasks
            .get(&mrd.id)
            .copied()
            .unwrap_or(mrd.max_tasks)
    }
}
