//! The routing engine: a single-threaded, sans-IO state machine.
//!
//! `handle(now, input)` applies one input at time `now` and returns the effects to
//! persist and publish; `next_deadline()` says when to call it again with
//! [`Input::Tick`]. It never reads a clock and never blocks. Each input first fires
//! the timers already due (each at its own deadline), then applies the input, then
//! routes: tasks that became routable look for an agent and agents that became
//! available look for a task, until nothing more can be matched. Effects follow the
//! order in which things happened; agent presence is reported once per input (or
//! timer) with every history row it produced.
//!
//! Rules where the issue leaves a choice:
//! - Priorities (task and queue): higher is served first; 11 marks re-routes.
//! - An agent is routable on an MRD when it is READY, its desk is connected, the
//!   MRD is READY or ACTIVE and it has room. A dropped desk keeps its state and
//!   tasks for the grace period but gets no new offers.
//! - Going NOT_READY (globally or on one MRD) takes back outstanding offers and
//!   re-queues them at priority 11; active tasks stay (PENDING_NOT_READY).
//! - A declined task goes back to its queue and is never offered to that agent again.
//! - Named-agent tasks wait only for their agent (until the TTL); they end RONA on
//!   RONA, AGENT_LOGOUT on logout, CANCELLED when declined. A preferred last agent
//!   is waited for `last_agent_wait_ms`, then the queue takes over; named and last
//!   agents are not held to the queue's step expressions.
//! - The TTL running out during a reservation revokes it without a RONA penalty.
//!   A re-routed task that had been answered gets a fresh TTL.
//! - When one input makes several tasks routable they are decided best first.

mod agents;
mod config_changes;
mod dispatch;
mod queries;
mod restore;
mod snapshot;
mod state;
mod supervision;
mod tasks;
mod timers;

#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use self::state::{
    AgentIx, AgentSlot, MrdIx, MrdSlot, QueueIx, QueueKey, QueueSlot, Slab, TaskIx, TaskSlot,
};
use self::timers::{Timer, Timers};
use super::config::RoutingConfig;
use super::effect::Effect;
use super::error::RoutingError;
use super::input::Input;
use super::model::{AgentId, ConversationId, MrdId, QueueId, TaskId};
use super::pull::PullBoard;
use super::task::Task;
use crate::Millis;

pub(crate) use self::snapshot::requests_without_data;
pub use self::snapshot::SnapshotError;

#[derive(Serialize, Deserialize)]
pub struct RoutingCore {
    config: RoutingConfig,
    mrds: Vec<MrdSlot>,
    mrd_ids: HashMap<MrdId, MrdIx>,
    queues: Vec<QueueSlot>,
    queue_ids: HashMap<QueueId, QueueIx>,
    agents: Vec<AgentSlot>,
    agent_ids: HashMap<AgentId, AgentIx>,
    tasks: Slab<TaskSlot>,
    task_ids: HashMap<TaskId, TaskIx>,
    /// Agents holding a reserved or active task of each conversation.
    conversations: HashMap<ConversationId, Vec<AgentIx>>,
    /// The open tasks of each conversation, in slab order: derived from `tasks`, so
    /// not in a snapshot (rebuilt when one is read back).
    #[serde(skip)]
    conversation_tasks: HashMap<ConversationId, Vec<TaskIx>>,
    timers: Timers,
    /// Waiting tasks to offer (task-centric decisions), best first, so that tasks
    /// made routable by one input are decided in queue order.
    work_tasks: BTreeSet<QueueKey>,
    /// Agents that became available on an MRD (agent-centric decisions).
    work_agents: VecDeque<(AgentIx, MrdIx)>,
    dirty_agents: Vec<AgentIx>,
    next_seq: u64,
    pull: PullBoard,
    /// The time of what is being processed: the input's time, or a timer's deadline.
    now: Millis,
    /// Effects of the input being handled; always empty between inputs.
    #[serde(skip)]
    out: Vec<Effect>,
}

impl RoutingCore {
    pub fn new(config: RoutingConfig) -> Self {
        Self {
            config,
            mrds: Vec::new(),
            mrd_ids: HashMap::new(),
            queues: Vec::new(),
            queue_ids: HashMap::new(),
            agents: Vec::new(),
            agent_ids: HashMap::new(),
            tasks: Slab::default(),
            task_ids: HashMap::new(),
            conversations: HashMap::new(),
            conversation_tasks: HashMap::new(),
            timers: Timers::default(),
            work_tasks: BTreeSet::new(),
            work_agents: VecDeque::new(),
            dirty_agents: Vec::new(),
            next_seq: 0,
            pull: PullBoard::default(),
            now: 0,
            out: Vec::new(),
        }
    }

    pub fn config(&self) -> &RoutingConfig {
        &self.config
    }

    /// Applies one input at `now`; returns what to persist, then publish, in order.
    pub fn handle(&mut self, now: Millis, input: Input) -> Vec<Effect> {
        self.settle(now);
        self.now = now;
        let name = input_name(&input);
        if let Err(error) = self.apply(input) {
            self.out.push(Effect::Rejected { input: name, error });
        }
        self.settle(now);
        std::mem::take(&mut self.out)
    }

    /// When `handle(_, Input::Tick)` must be called next.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.timers.next_deadline()
    }

    /// Routes what became routable, reports presence, then fires the timers due at
    /// `now` one by one, each at its own deadline, until nothing is left to do.
    fn settle(&mut self, now: Millis) {
        loop {
            self.run_routing();
            self.flush_agent_changes();
            let Some((at, timer)) = self.timers.pop_due(now) else {
                break;
            };
            self.now = at.max(self.now);
            self.fire(timer);
        }
        self.now = now;
    }

    fn fire(&mut self, timer: Timer) {
        match timer {
            Timer::Step(t) => self.on_step_timeout(t),
            Timer::Ttl(t) => self.on_ttl_expired(t),
            Timer::Rona(t) => self.on_rona(t),
            Timer::LastAgent(t) => self.on_last_agent_window_over(t),
            Timer::DisconnectGrace(a) => self.on_disconnect_grace_over(a),
            Timer::UnknownGrace(a) => self.on_unknown_grace_over(a),
        }
    }

    fn apply(&mut self, input: Input) -> Result<(), RoutingError> {
        match input {
            Input::UpsertMrd(config) => self.upsert_mrd(config),
            Input::RemoveMrd { mrd_id } => self.remove_mrd(&mrd_id),
            Input::UpsertQueue(config) => self.upsert_queue(config),
            Input::RemoveQueue { queue_id } => self.remove_queue(&queue_id),
            Input::UpsertAgent(profile) => self.upsert_agent(profile),
            Input::RemoveAgent { agent_id } => self.remove_agent(&agent_id),
            Input::UpsertPullList(config) => {
                self.pull.upsert_list(config);
                Ok(())
            }
            Input::RemovePullList { list_id } => self.pull.remove_list(&list_id, &mut self.out),
            Input::AgentConnected { agent_id } => self.agent_connected(&agent_id),
            Input::AgentDisconnected { agent_id } => self.agent_disconnected(&agent_id),
            Input::SetAgentState {
                agent_id,
                state,
                reason_code,
            } => self.set_agent_state(&agent_id, state, reason_code),
            Input::SetAgentMrdState {
                agent_id,
                mrd_id,
                state,
            } => self.set_agent_mrd_state(&agent_id, &mrd_id, state),
            Input::ForceLogout {
                agent_id,
                reason_code,
            } => self.force_logout(&agent_id, reason_code),
            Input::EnqueueTask(new) => self.enqueue(*new),
            Input::AcceptTask { agent_id, task_id } => self.accept(&agent_id, &task_id),
            Input::DeclineTask { agent_id, task_id } => self.decline(&agent_id, &task_id),
            Input::CloseTask {
                task_id,
                disposition,
            } => self.close(&task_id, disposition),
            Input::StartWrapUp { task_id } => self.start_wrap_up(&task_id),
            Input::EndWrapUp { task_id } => self.end_wrap_up(&task_id),
            Input::CompleteTransfer {
                original_task_id,
                new_task_id,
            } => self.complete_transfer(&original_task_id, &new_task_id),
            Input::FlushQueue { queue_id } => self.flush_queue(queue_id.as_deref()),
            Input::MoveTask { task_id, queue_id } => self.move_task(&task_id, &queue_id),
            Input::OfferTaskTo { task_id, agent_id } => self.offer_task_to(&task_id, &agent_id),
            Input::AddPullRequest(new) => self.pull.add_request(self.now, new, &mut self.out),
            Input::UpdatePullRequest { request_id, state } => {
                self.pull.update_request(&request_id, state, &mut self.out)
            }
            Input::DeletePullRequest { request_id } => {
                self.pull.delete_request(&request_id, &mut self.out)
            }
            Input::SubscribePullList { agent_id, list_id } => {
                self.require_logged_in(&agent_id)?;
                self.pull.subscribe(&agent_id, &list_id, &mut self.out)
            }
            Input::UnsubscribePullList { agent_id, list_id } => {
                self.agent_ix(&agent_id)?;
                self.pull.unsubscribe(&agent_id, &list_id, &mut self.out)
            }
            Input::JoinPullRequest {
                agent_id,
                request_id,
            } => {
                self.require_logged_in(&agent_id)?;
                self.pull.join(&agent_id, &request_id, &mut self.out)
            }
            Input::LeavePullRequest {
                agent_id,
                request_id,
            } => self.pull.leave(&agent_id, &request_id, &mut self.out),
            Input::LeavePullConversation {
                agent_id,
                conversation_id,
            } => {
                self.pull
                    .leave_conversation(&agent_id, &conversation_id, &mut self.out);
                Ok(())
            }
            Input::Tick => Ok(()),
            Input::RestoreAgentState(view) => self.restore_agent(*view),
            Input::RestoreTask(task) => self.restore_task(*task),
            Input::RestorePullRequest(request) => self.pull.restore_request(*request),
        }
    }

    // --- lookups shared by the submodules ---

    fn agent_ix(&self, id: &str) -> Result<AgentIx, RoutingError> {
        self.agent_ids
            .get(id)
            .copied()
            .filter(|&a| self.agents[a as usize].live)
            .ok_or_else(|| RoutingError::UnknownAgent(id.to_string()))
    }

    fn task_ix(&self, id: &str) -> Result<TaskIx, RoutingError> {
        self.task_ids
            .get(id)
            .copied()
            .ok_or_else(|| RoutingError::UnknownTask(id.to_string()))
    }

    fn queue_ix(&self, id: &str) -> Result<QueueIx, RoutingError> {
        self.queue_ids
            .get(id)
            .copied()
            .filter(|&q| self.queues[q as usize].live)
            .ok_or_else(|| RoutingError::UnknownQueue(id.to_string()))
    }

    fn mrd_ix(&self, id: &str) -> Result<MrdIx, RoutingError> {
        self.mrd_ids
            .get(id)
            .copied()
            .filter(|&m| self.mrds[m as usize].live)
            .ok_or_else(|| RoutingError::UnknownMrd(id.to_string()))
    }

    fn agent_at(&self, a: AgentIx) -> &AgentSlot {
        &self.agents[a as usize]
    }

    fn agent_at_mut(&mut self, a: AgentIx) -> &mut AgentSlot {
        &mut self.agents[a as usize]
    }

    fn queue(&self, q: QueueIx) -> &QueueSlot {
        &self.queues[q as usize]
    }

    fn snapshot(&self, t: TaskIx) -> Arc<Task> {
        Arc::clone(&self.tasks[t].task)
    }

    fn emit_task_changed(&mut self, t: TaskIx) {
        let task = self.snapshot(t);
        self.out.push(Effect::TaskStateChanged { task });
    }

    fn mark_dirty(&mut self, a: AgentIx) {
        let agent = &mut self.agents[a as usize];
        if !agent.dirty {
            agent.dirty = true;
            self.dirty_agents.push(a);
        }
    }

    fn take_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }
}

/// The name of an input's kind, as `Effect::Rejected` reports it.
pub fn input_name(input: &Input) -> &'static str {
    match input {
        Input::UpsertMrd(_) => "UpsertMrd",
        Input::RemoveMrd { .. } => "RemoveMrd",
        Input::UpsertQueue(_) => "UpsertQueue",
        Input::RemoveQueue { .. } => "RemoveQueue",
        Input::UpsertAgent(_) => "UpsertAgent",
        Input::RemoveAgent { .. } => "RemoveAgent",
        Input::UpsertPullList(_) => "UpsertPullList",
        Input::RemovePullList { .. } => "RemovePullList",
        Input::AgentConnected { .. } => "AgentConnected",
        Input::AgentDisconnected { .. } => "AgentDisconnected",
        Input::SetAgentState { .. } => "SetAgentState",
        Input::SetAgentMrdState { .. } => "SetAgentMrdState",
        Input::ForceLogout { .. } => "ForceLogout",
        Input::EnqueueTask(_) => "EnqueueTask",
        Input::AcceptTask { .. } => "AcceptTask",
        Input::DeclineTask { .. } => "DeclineTask",
        Input::CloseTask { .. } => "CloseTask",
        Input::StartWrapUp { .. } => "StartWrapUp",
        Input::EndWrapUp { .. } => "EndWrapUp",
        Input::CompleteTransfer { .. } => "CompleteTransfer",
        Input::FlushQueue { .. } => "FlushQueue",
        Input::MoveTask { .. } => "MoveTask",
        Input::OfferTaskTo { .. } => "OfferTaskTo",
        Input::AddPullRequest(_) => "AddPullRequest",
        Input::UpdatePullRequest { .. } => "UpdatePullRequest",
        Input::DeletePullRequest { .. } => "DeletePullRequest",
        Input::SubscribePullList { .. } => "SubscribePullList",
        Input::UnsubscribePullList { .. } => "UnsubscribePullList",
        Input::JoinPullRequest { .. } => "JoinPullRequest",
        Input::LeavePullRequest { .. } => "LeavePullRequest",
        Input::LeavePullConversation { .. } => "LeavePullConversation",
        Input::Tick => "Tick",
        Input::RestoreAgentState(_) => "RestoreAgentState",
        Input::RestoreTask(_) => "RestoreTask",
        Input::RestorePullRequest(_) => "RestorePullRequest",
    }
}
