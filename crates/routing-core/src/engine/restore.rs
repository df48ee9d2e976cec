//! Rebuilding after a restart from what the driver stored: agents come back
//! UNKNOWN (until their desk reconnects or the unknown-state grace ends), queued
//! tasks come back with their enqueue time, step and timers, reservations of
//! agents that are not connected go back to the queue, active tasks stay with
//! their agent.

use std::sync::Arc;

use super::state::{AgentIx, MrdIx, TaskIx};
use super::timers::Timer;
use super::RoutingCore;
use crate::effect::Effect;
use crate::error::RoutingError;
use crate::model::{AgentStateName, Disposition, MediaState, TaskStateName, REROUTE_PRIORITY};
use crate::task::{Task, TaskState};
use crate::view::{AgentView, ResumeState, StateChange, StateChangeKind};

impl RoutingCore {
    pub(super) fn restore_agent(&mut self, view: AgentView) -> Result<(), RoutingError> {
        let a = self.agent_ix(&view.agent_id)?;
        let grace_end = self.now + self.config.unknown_state_grace_ms.max(0);
        for mrd_view in &view.mrd_states {
            if let Ok(m) = self.mrd_ix(&mrd_view.mrd_id) {
                self.agents[a as usize].mrds[m as usize].ready_requested =
                    mrd_view.ready_requested && view.state != AgentStateName::Logout;
            }
        }
        let agent = &mut self.agents[a as usize];
        agent.connected = false;
        agent.state = view.state;
        agent.reason_code = view.reason_code.clone();
        agent.state_since = view.state_change_time;
        if view.state == AgentStateName::Logout {
            agent.login_time = None;
            agent.resume = None;
            self.refresh_agent(a);
            return Ok(());
        }
        agent.login_time = view.login_time;
        agent.resume = match view.state {
            AgentStateName::Unknown => view.resume,
            AgentStateName::Login => Some(ResumeState {
                state: AgentStateName::NotReady,
                reason_code: None,
            }),
            state => Some(ResumeState {
                state,
                reason_code: view.reason_code,
            }),
        };
        self.timers.set(
            &mut agent.unknown_deadline,
            Timer::UnknownGrace(a),
            Some(grace_end),
        );
        self.record_unknown(a);
        self.refresh_agent(a);
        Ok(())
    }

    fn record_unknown(&mut self, a: AgentIx) {
        let now = self.now;
        let agent = &mut self.agents[a as usize];
        if agent.state == AgentStateName::Unknown {
            return;
        }
        agent.state = AgentStateName::Unknown;
        agent.reason_code = None;
        agent.state_since = now;
        agent.changes.push(StateChange {
            at: now,
            kind: StateChangeKind::Agent {
                state: AgentStateName::Unknown,
                reason_code: None,
            },
        });
        self.mark_dirty(a);
    }

    /// Counts a restored task against its agent's capacity. An MRD interruption that
    /// notes is not news (it was announced before the restart, and the order tasks are
    /// restored in decides whether it shows): it is not announced again.
    fn hold_restored(&mut self, a: AgentIx, t: TaskIx, m: MrdIx) {
        let before = self.out.len();
        self.hold(a, t, m);
        let noted = self.out.split_off(before);
        self.out.extend(
            noted
                .into_iter()
                .filter(|e| !matches!(e, Effect::MrdInterrupted { .. })),
        );
    }

    pub(super) fn restore_task(&mut self, task: Task) -> Result<(), RoutingError> {
        if task.is_closed() {
            return Err(RoutingError::BadRestore {
                task: task.id,
                reason: "the task is closed".to_string(),
            });
        }
        if self.task_ids.contains_key(&task.id) {
            return Err(RoutingError::DuplicateTask(task.id));
        }
        let Ok(q) = self.queue_ix(&task.media.queue.id) else {
            // Its queue was deleted while the engine was down: nothing can serve it.
            let mut closed = task;
            closed.state = TaskState {
                name: TaskStateName::Closed,
                reason_code: Some(Disposition::ForceClosed),
            };
            closed.media.state = MediaState::Closed;
            closed.agent_request_ttl_timer_id = None;
            closed.routing.ttl_deadline = None;
            closed.routing.accept_deadline = None;
            self.out.push(Effect::TaskStateChanged {
                task: Arc::new(closed),
            });
            return Ok(());
        };
        self.next_seq = self.next_seq.max(task.routing.seq.saturating_add(1));
        let holder = task
            .assigned_to
            .as_deref()
            .and_then(|id| self.agent_ix(id).ok());
        let media_mrd: Option<MrdIx> = self.mrd_ix(&task.media.mrd_id).ok();
        let (state, media_state) = (task.state.name, task.media.state);
        let accept_deadline = task.routing.accept_deadline;
        let ttl_deadline = task.routing.ttl_deadline;
        let t = self.insert_task(task, q);
        let queue_mrd = self.queue(q).mrd;
        let m = media_mrd.unwrap_or(queue_mrd);
        self.tasks[t].mrd = m;
        if matches!(media_state, MediaState::Queued | MediaState::Reserved) {
            let slot = &mut self.tasks[t];
            self.timers
                .set(&mut slot.timers.ttl, Timer::Ttl(t), ttl_deadline);
        }
        match (state, media_state, holder) {
            (TaskStateName::WrapUp, _, Some(a)) => {
                self.tasks[t].agent = Some(a);
                self.agents[a as usize].held.push(t);
            }
            (TaskStateName::WrapUp, _, None) => {
                self.finish(t, Disposition::Done);
            }
            (_, MediaState::Queued, _) => {
                self.tasks[t].mrd = queue_mrd;
                self.start_waiting(t);
                self.want_agent_for(t);
            }
            (_, MediaState::Reserved, Some(a)) if self.agent_at(a).connected => {
                self.tasks[t].agent = Some(a);
                self.hold_restored(a, t, m);
                let deadline = accept_deadline.unwrap_or(self.now);
                let slot = &mut self.tasks[t];
                self.timers
                    .set(&mut slot.timers.rona, Timer::Rona(t), Some(deadline));
            }
            (_, MediaState::Reserved, _) => {
                self.requeue(t, REROUTE_PRIORITY, None, false);
            }
            (_, MediaState::Active, Some(a))
                if self.agent_at(a).state != AgentStateName::Logout =>
            {
                self.tasks[t].agent = Some(a);
                self.hold_restored(a, t, m);
            }
            (_, MediaState::Active, _) => {
                let from_agent = self.tasks[t].task.assigned_to.clone();
                let closed =
                    self.requeue(t, REROUTE_PRIORITY, Some(Disposition::AgentLogout), true);
                if let Some(from_agent) = from_agent {
                    let task = closed.unwrap_or_else(|| Arc::clone(&self.tasks[t].task));
                    self.out.push(Effect::TaskRerouted { task, from_agent });
                }
            }
            (_, MediaState::Closed, _) => {
                self.finish(t, Disposition::Done);
            }
        }
        Ok(())
    }
}
