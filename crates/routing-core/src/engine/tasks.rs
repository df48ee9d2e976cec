//! Task lifecycle: enqueue, accept, decline, wrap-up, close, transfers, queue
//! flush, and the task timers (step timeouts, agent request TTL, RONA, the
//! last-agent window). Every task change is emitted with the task snapshot.

use std::sync::Arc;

use super::state::{QueueIx, TaskIx, TaskSlot, TaskTimers, Waiting};
use super::timers::Timer;
use super::RoutingCore;
use crate::effect::Effect;
use crate::error::RoutingError;
use crate::input::{NewTask, TaskMode};
use crate::model::{
    Direction, Disposition, MediaState, RevokeReason, RoutingMode, SharedJson, TaskStateName,
    MAX_CLIENT_PRIORITY, REROUTE_PRIORITY,
};
use crate::task::{QueueRef, Target, Task, TaskMedia, TaskRouting, TaskState};

impl RoutingCore {
    // --- inputs ---

    pub(super) fn enqueue(&mut self, new: NewTask) -> Result<(), RoutingError> {
        if self.task_ids.contains_key(&new.task_id) {
            return Err(RoutingError::DuplicateTask(new.task_id));
        }
        let q = self.queue_ix(&new.queue_id)?;
        if !(1..=MAX_CLIENT_PRIORITY).contains(&new.priority) {
            return Err(RoutingError::InvalidPriority(new.priority));
        }
        let now = self.now;
        let (target, mode) = match &new.mode {
            TaskMode::Agent { agent_id } => {
                self.agent_ix(agent_id)?;
                (
                    Target::Agent {
                        agent_id: agent_id.clone(),
                    },
                    RoutingMode::Agent,
                )
            }
            TaskMode::Queue => {
                // An unknown last agent is no error: the customer may outlive the account.
                // Nor is one the task excludes (it left this conversation): the
                // queue's other agents get the task at once.
                let last = new
                    .preferred_last_agent
                    .as_ref()
                    .filter(|id| self.agent_ix(id).is_ok())
                    .filter(|id| !new.exclude_agents.contains(id));
                let target = match last {
                    Some(agent_id) => Target::LastAgent {
                        agent_id: agent_id.clone(),
                        until: now + self.config.last_agent_wait_ms.max(0),
                    },
                    None => Target::Queue,
                };
                (target, RoutingMode::Queue)
            }
        };
        let queue = self.queue(q);
        let m = queue.mrd;
        let queue_ref = QueueRef {
            id: queue.config.id.clone(),
            name: queue.config.name.clone(),
        };
        let ttl_deadline = new.agent_request_ttl_ms.map(|ttl| now + ttl.max(0));
        let seq = self.take_seq();
        let task = Task {
            id: new.task_id.clone(),
            conversation_id: new.conversation_id,
            state: TaskState {
                name: TaskStateName::Active,
                reason_code: None,
            },
            assigned_to: None,
            agent_request_ttl_timer_id: ttl_deadline.map(|_| ttl_timer_id(&new.task_id)),
            media: TaskMedia {
                id: new.media_id,
                mrd_id: self.mrds[m as usize].config.id.clone(),
                queue: queue_ref.clone(),
                direction: new.direction,
                mode,
                metadata: SharedJson::new(new.metadata),
                priority: new.priority,
                state: MediaState::Queued,
                request_session: SharedJson::new(new.request_session),
                enqueue_time: now,
                answer_time: 0,
            },
            routing: TaskRouting {
                target,
                selection_policy: new.selection_policy,
                offer_to_agent: new.offer_to_agent,
                exclude_agents: new.exclude_agents,
                related_task: new.related_task,
                requested_priority: new.priority,
                agent_request_ttl_ms: new.agent_request_ttl_ms,
                ttl_deadline,
                step: 0,
                step_opened_at: now,
                reserved_at: None,
                accept_deadline: None,
                seq,
            },
        };
        let t = self.insert_task(task, q);
        let slot = &mut self.tasks[t];
        self.timers
            .set(&mut slot.timers.ttl, Timer::Ttl(t), ttl_deadline);
        self.start_waiting(t);
        let task = self.snapshot(t);
        self.out.push(Effect::TaskEnqueued {
            task,
            queue: queue_ref,
        });
        self.want_agent_for(t);
        Ok(())
    }

    pub(super) fn accept(&mut self, agent_id: &str, task_id: &str) -> Result<(), RoutingError> {
        let (_, t) = self.reserved_to(agent_id, task_id)?;
        self.mark_answered(t);
        self.emit_task_changed(t);
        self.withdraw_direct_transfers(t);
        let transfers = {
            let routing = &self.tasks[t].task.routing;
            (self.tasks[t].task.media.direction == Direction::DirectTransfer)
                .then(|| routing.related_task.clone())
                .flatten()
        };
        let Some(original) = transfers.and_then(|id| self.task_ix(&id).ok()) else {
            return Ok(());
        };
        if self.tasks[original].task.state.name == TaskStateName::WrapUp {
            // The requester already left and wraps up: its wrap-up is not cut short,
            // and its end closes the task TRANSFERRED (reports count the transfer).
            self.tasks[original].transferred = true;
        } else {
            self.transfer_done(original, t);
        }
        Ok(())
    }

    pub(super) fn decline(&mut self, agent_id: &str, task_id: &str) -> Result<(), RoutingError> {
        let (_, t) = self.reserved_to(agent_id, task_id)?;
        self.release(t);
        if matches!(self.tasks[t].task.routing.target, Target::Agent { .. }) {
            // The one agent asked for said no.
            self.finish(t, Disposition::Cancelled);
            return Ok(());
        }
        let task = self.tasks[t].task_mut();
        task.routing.exclude_agents.push(agent_id.to_string());
        let priority = task.media.priority;
        self.requeue(t, priority, Some(Disposition::Declined), false);
        Ok(())
    }

    pub(super) fn close(
        &mut self,
        task_id: &str,
        disposition: Disposition,
    ) -> Result<(), RoutingError> {
        let t = self.task_ix(task_id)?;
        self.finish(t, disposition);
        Ok(())
    }

    pub(super) fn start_wrap_up(&mut self, task_id: &str) -> Result<(), RoutingError> {
        let t = self.task_ix(task_id)?;
        let slot = &self.tasks[t];
        let (Some(a), MediaState::Active, TaskStateName::Active) =
            (slot.agent, slot.task.media.state, slot.task.state.name)
        else {
            return Err(RoutingError::TaskNotActive(task_id.to_string()));
        };
        let m = slot.mrd;
        self.record_handle_time(t);
        let task = self.tasks[t].task_mut();
        task.state.name = TaskStateName::WrapUp;
        task.media.state = MediaState::Closed;
        self.unload(a, t, m);
        self.emit_task_changed(t);
        Ok(())
    }

    pub(super) fn end_wrap_up(&mut self, task_id: &str) -> Result<(), RoutingError> {
        let t = self.task_ix(task_id)?;
        if self.tasks[t].task.state.name != TaskStateName::WrapUp {
            return Err(RoutingError::TaskNotInWrapUp(task_id.to_string()));
        }
        self.finish(t, self.wrap_up_end(t));
        Ok(())
    }

    /// How a wrap-up that ends closes its task: TRANSFERRED when a direct transfer
    /// of its conversation was accepted meanwhile, else DONE.
    pub(super) fn wrap_up_end(&self, t: TaskIx) -> Disposition {
        if self.tasks[t].transferred {
            Disposition::Transferred
        } else {
            Disposition::Done
        }
    }

    pub(super) fn complete_transfer(
        &mut self,
        original_id: &str,
        new_id: &str,
    ) -> Result<(), RoutingError> {
        let original = self.task_ix(original_id)?;
        let new = self.task_ix(new_id)?;
        if self.tasks[new].task.routing.related_task.as_deref() != Some(original_id) {
            return Err(RoutingError::NotATransfer {
                original: original_id.to_string(),
                new: new_id.to_string(),
            });
        }
        self.transfer_done(original, new);
        Ok(())
    }

    pub(super) fn flush_queue(&mut self, queue_id: Option<&str>) -> Result<(), RoutingError> {
        let queues: Vec<QueueIx> = match queue_id {
            Some(id) => vec![self.queue_ix(id)?],
            None => (0..self.queues.len() as QueueIx)
                .filter(|&q| self.queue(q).live)
                .collect(),
        };
        for q in queues {
            self.close_waiting_of(q, Disposition::ForceClosed);
        }
        Ok(())
    }

    // --- timers ---

    pub(super) fn on_step_timeout(&mut self, t: TaskIx) {
        let now = self.now;
        let slot = &mut self.tasks[t];
        slot.timers.step = None;
        if !matches!(slot.waiting, Waiting::Queue(_)) {
            return;
        }
        self.stop_waiting(t);
        let routing = &mut self.tasks[t].task_mut().routing;
        routing.step = routing.step.saturating_add(1);
        routing.step_opened_at = now;
        self.start_waiting(t);
        self.moved_on(t);
        self.want_agent_for(t);
    }

    pub(super) fn moved_on(&mut self, t: TaskIx) {
        let task = self.snapshot(t);
        self.out.push(Effect::TaskMovedOn { task });
    }

    pub(super) fn on_ttl_expired(&mut self, t: TaskIx) {
        let slot = &mut self.tasks[t];
        slot.timers.ttl = None;
        if !matches!(
            slot.task.media.state,
            MediaState::Queued | MediaState::Reserved
        ) {
            return;
        }
        self.finish(t, Disposition::NoAgentAvailable);
    }

    pub(super) fn on_rona(&mut self, t: TaskIx) {
        let slot = &mut self.tasks[t];
        slot.timers.rona = None;
        let (Some(a), MediaState::Reserved) = (slot.agent, slot.task.media.state) else {
            return;
        };
        self.emit_revoke(t, RevokeReason::Rona);
        self.release(t);
        if matches!(self.tasks[t].task.routing.target, Target::Agent { .. }) {
            self.finish(t, Disposition::Rona);
        } else {
            self.requeue(t, REROUTE_PRIORITY, Some(Disposition::Rona), false);
        }
        let reason = self.config.rona_reason_code.clone();
        self.go_not_ready(a, Some(reason));
    }

    pub(super) fn on_last_agent_window_over(&mut self, t: TaskIx) {
        let now = self.now;
        let slot = &mut self.tasks[t];
        slot.timers.last_agent = None;
        if !matches!(slot.waiting, Waiting::Targeted(..)) {
            return;
        }
        self.stop_waiting(t);
        let routing = &mut self.tasks[t].task_mut().routing;
        routing.target = Target::Queue;
        routing.step_opened_at = now;
        self.start_waiting(t);
        self.moved_on(t);
        self.want_agent_for(t);
    }

    // --- shared steps ---

    pub(super) fn insert_task(&mut self, task: Task, q: QueueIx) -> TaskIx {
        let id = task.id.clone();
        let m = self.queue(q).mrd;
        let t = self.tasks.insert(TaskSlot {
            task: Arc::new(task),
            queue: q,
            mrd: m,
            agent: None,
            waiting: Waiting::No,
            timers: TaskTimers::default(),
            transferred: false,
        });
        self.task_ids.insert(id, t);
        self.index_by_conversation(t);
        t
    }

    /// Notes task `t` under its conversation.
    pub(super) fn index_by_conversation(&mut self, t: TaskIx) {
        let conversation = &self.tasks[t].task.conversation_id;
        let tasks = match self.conversation_tasks.get_mut(conversation.as_str()) {
            Some(tasks) => tasks,
            None => self
                .conversation_tasks
                .entry(conversation.clone())
                .or_default(),
        };
        if let Err(at) = tasks.binary_search(&t) {
            tasks.insert(at, t);
        }
    }

    fn unindex_by_conversation(&mut self, t: TaskIx, conversation: &str) {
        let Some(tasks) = self.conversation_tasks.get_mut(conversation) else {
            return;
        };
        tasks.retain(|&other| other != t);
        if tasks.is_empty() {
            self.conversation_tasks.remove(conversation);
        }
    }

    /// The task (by id) if it is reserved to the agent (by id).
    fn reserved_to(&self, agent_id: &str, task_id: &str) -> Result<(u32, TaskIx), RoutingError> {
        let a = self.agent_ix(agent_id)?;
        let t = self.task_ix(task_id)?;
        let slot = &self.tasks[t];
        if slot.agent != Some(a) || slot.task.media.state != MediaState::Reserved {
            return Err(RoutingError::NotReservedTo {
                task: task_id.to_string(),
                agent: agent_id.to_string(),
            });
        }
        Ok((a, t))
    }

    /// The agent has the task now: media ACTIVE, TTL and RONA stop.
    pub(super) fn mark_answered(&mut self, t: TaskIx) {
        let now = self.now;
        let q = self.tasks[t].queue;
        let slot = &mut self.tasks[t];
        self.timers.set(&mut slot.timers.rona, Timer::Rona(t), None);
        self.timers.set(&mut slot.timers.ttl, Timer::Ttl(t), None);
        let task = slot.task_mut();
        task.media.state = MediaState::Active;
        task.media.answer_time = now;
        task.state.reason_code = None;
        task.agent_request_ttl_timer_id = None;
        task.routing.ttl_deadline = None;
        task.routing.accept_deadline = None;
        let waited = now - task.media.enqueue_time;
        let window = self.config.ewt_window;
        let queue = &mut self.queues[q as usize];
        let within = queue
            .config
            .service_level_threshold_ms
            .is_none_or(|threshold| waited <= threshold);
        queue.window.record_answer(window, within);
    }

    fn record_handle_time(&mut self, t: TaskIx) {
        let slot = &self.tasks[t];
        if slot.task.media.state != MediaState::Active {
            return;
        }
        let handled = self.now - slot.task.media.answer_time;
        let window = self.config.ewt_window;
        let q = slot.queue as usize;
        self.queues[q].window.record_handle_time(window, handled);
    }

    pub(super) fn emit_revoke(&mut self, t: TaskIx, reason: RevokeReason) {
        let Some(a) = self.tasks[t].agent else {
            return;
        };
        let agent_id = self.agent_at(a).profile.id.clone();
        let task = self.snapshot(t);
        self.out.push(Effect::RevokeTask {
            agent_id,
            task,
            reason,
        });
    }

    /// Puts a released task back into its queue (or back to waiting for its named
    /// agent) with `priority`, keeping its enqueue time. A task that had been
    /// `answered` (its agent left it) restarts its agent request TTL and waits in its
    /// queue even when it was a named agent's. When the queue is gone the task is
    /// closed FORCE_CLOSED instead, and its closed snapshot returned.
    pub(super) fn requeue(
        &mut self,
        t: TaskIx,
        priority: u8,
        reason: Option<Disposition>,
        answered: bool,
    ) -> Option<Arc<Task>> {
        let q = self.tasks[t].queue;
        if !self.queue(q).live {
            return Some(self.finish(t, Disposition::ForceClosed));
        }
        let now = self.now;
        let m = self.queue(q).mrd;
        let mrd_id = self.mrds[m as usize].config.id.clone();
        let slot = &mut self.tasks[t];
        slot.mrd = m;
        let task = slot.task_mut();
        task.media.state = MediaState::Queued;
        task.media.priority = priority;
        task.media.answer_time = 0;
        task.media.mrd_id = mrd_id;
        task.assigned_to = None;
        task.state.reason_code = reason;
        task.routing.reserved_at = None;
        task.routing.accept_deadline = None;
        task.routing.step_opened_at = now;
        if matches!(task.routing.target, Target::LastAgent { .. })
            || (answered && matches!(task.routing.target, Target::Agent { .. }))
        {
            task.routing.target = Target::Queue;
        }
        if answered {
            let deadline = task
                .routing
                .agent_request_ttl_ms
                .map(|ttl| now + ttl.max(0));
            task.routing.ttl_deadline = deadline;
            task.agent_request_ttl_timer_id = deadline.map(|_| ttl_timer_id(&task.id));
            self.timers
                .set(&mut slot.timers.ttl, Timer::Ttl(t), deadline);
        }
        self.start_waiting(t);
        self.emit_task_changed(t);
        let task = self.snapshot(t);
        let queue = task.media.queue.clone();
        self.out.push(Effect::TaskEnqueued { task, queue });
        self.want_agent_for(t);
        None
    }

    /// Ends a task in whatever state it is: an outstanding offer is revoked, the
    /// holder is freed, timers stop, the closed snapshot is emitted and the engine
    /// forgets the task. Returns the closed snapshot.
    pub(super) fn finish(&mut self, t: TaskIx, disposition: Disposition) -> Arc<Task> {
        let media_state = self.tasks[t].task.media.state;
        if media_state == MediaState::Reserved {
            let reason = match disposition {
                Disposition::NoAgentAvailable => RevokeReason::NoAgentAvailable,
                Disposition::Rona => RevokeReason::Rona,
                Disposition::AgentLogout => RevokeReason::AgentLogout,
                _ => RevokeReason::TaskClosed,
            };
            self.emit_revoke(t, reason);
        }
        self.record_handle_time(t);
        self.stop_waiting(t);
        self.release(t);
        let slot = &mut self.tasks[t];
        self.timers.set(&mut slot.timers.ttl, Timer::Ttl(t), None);
        self.timers.set(&mut slot.timers.rona, Timer::Rona(t), None);
        let task = slot.task_mut();
        task.state = TaskState {
            name: TaskStateName::Closed,
            reason_code: Some(disposition),
        };
        task.media.state = MediaState::Closed;
        task.agent_request_ttl_timer_id = None;
        task.routing.ttl_deadline = None;
        task.routing.accept_deadline = None;
        let closed = self.snapshot(t);
        self.out.push(Effect::TaskStateChanged {
            task: Arc::clone(&closed),
        });
        if disposition == Disposition::NoAgentAvailable {
            self.out.push(Effect::NoAgentAvailable {
                task: Arc::clone(&closed),
            });
        }
        if let Some(slot) = self.tasks.remove(t) {
            self.task_ids.remove(&slot.task.id);
            self.unindex_by_conversation(t, &slot.task.conversation_id);
        }
        closed
    }

    /// Cancels the direct transfers asked for from task `original` that nobody has
    /// answered yet. Its requester left it (logged out), it was routed again and
    /// another agent has just answered it: the transfer would otherwise end that
    /// agent's task TRANSFERRED while it stays in the chat. A transfer answered
    /// first, while the original still waits, takes the chat instead (`accept`).
    fn withdraw_direct_transfers(&mut self, original: TaskIx) {
        let slot = &self.tasks[original];
        let id = slot.task.id.as_str();
        let pending: Vec<TaskIx> = self
            .conversation_tasks
            .get(slot.task.conversation_id.as_str())
            .into_iter()
            .flatten()
            .copied()
            .filter(|&t| {
                let task = &self.tasks[t].task;
                task.media.direction == Direction::DirectTransfer
                    && task.routing.related_task.as_deref() == Some(id)
                    && matches!(task.media.state, MediaState::Queued | MediaState::Reserved)
            })
            .collect();
        for t in pending {
            self.finish(t, Disposition::Cancelled);
        }
    }

    /// Ends a task no agent answered with `disposition`. Whoever waited on it hears
    /// that no agent is available, as when its TTL runs out: a customer is told so and
    /// its flow ends the chat; an agent that asked for a transfer keeps its chat.
    pub(super) fn end_unanswered(&mut self, t: TaskIx, disposition: Disposition) {
        let task = self.finish(t, disposition);
        if disposition != Disposition::NoAgentAvailable {
            // `finish` announces that one itself.
            self.out.push(Effect::NoAgentAvailable { task });
        }
    }

    fn transfer_done(&mut self, original: TaskIx, new: TaskIx) {
        if original == new {
            return;
        }
        let original = self.finish(original, Disposition::Transferred);
        let new = self.snapshot(new);
        self.out.push(Effect::TaskTransferred { original, new });
    }

    /// Closes every waiting task of queue `q` with `disposition`, each with a
    /// `NoAgentAvailable`.
    pub(super) fn close_waiting_of(&mut self, q: QueueIx, disposition: Disposition) {
        let queue = self.queue(q);
        let mut waiting: Vec<_> = queue.open[0]
            .iter()
            .chain(queue.targeted.iter())
            .copied()
            .collect();
        waiting.sort();
        for key in waiting {
            self.end_unanswered(key.task, disposition);
        }
    }
}

fn ttl_timer_id(task_id: &str) -> String {
    format!("ttl-{task_id}")
}
