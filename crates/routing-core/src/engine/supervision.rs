//! Supervisor actions on a waiting task: move it to another queue, or offer it to a
//! named agent now. Both apply only to a task waiting in its queue (not reserved,
//! not answered, not waiting for a named agent); a refused action changes nothing.

use super::RoutingCore;
use crate::effect::Effect;
use crate::error::RoutingError;
use crate::model::MediaState;
use crate::task::{QueueRef, Target};

use super::state::{TaskIx, Waiting};

impl RoutingCore {
    /// The task, if it waits in its queue (or for its last agent, which any agent of
    /// the queue may replace).
    fn waiting_in_queue(&self, task_id: &str) -> Result<TaskIx, RoutingError> {
        let t = self.task_ix(task_id)?;
        let slot = &self.tasks[t];
        let queued = slot.task.media.state == MediaState::Queued
            && slot.waiting != Waiting::No
            && !matches!(slot.task.routing.target, Target::Agent { .. });
        if queued {
            Ok(t)
        } else {
            Err(RoutingError::NotWaiting(task_id.to_string()))
        }
    }

    /// Moves a waiting task to `queue_id`: it waits there from now, at step 1 with its
    /// own enqueue time (like a transfer into the queue), keeping its priority and
    /// its agent request TTL. Emits `TaskEnqueued` naming the new queue.
    pub(super) fn move_task(&mut self, task_id: &str, queue_id: &str) -> Result<(), RoutingError> {
        let t = self.waiting_in_queue(task_id)?;
        let q = self.queue_ix(queue_id)?;
        if self.tasks[t].queue == q {
            return Err(RoutingError::SameQueue {
                task: task_id.to_string(),
                queue: queue_id.to_string(),
            });
        }
        let now = self.now;
        self.stop_waiting(t);
        let queue = self.queue(q);
        let m = queue.mrd;
        let queue_ref = QueueRef {
            id: queue.config.id.clone(),
            name: queue.config.name.clone(),
        };
        let mrd_id = self.mrds[m as usize].config.id.clone();
        let seq = self.take_seq();
        let slot = &mut self.tasks[t];
        slot.queue = q;
        slot.mrd = m;
        let task = slot.task_mut();
        task.media.queue = queue_ref.clone();
        task.media.mrd_id = mrd_id;
        task.media.enqueue_time = now;
        task.state.reason_code = None;
        task.routing.target = Target::Queue;
        task.routing.step = 0;
        task.routing.step_opened_at = now;
        task.routing.seq = seq;
        self.start_waiting(t);
        let task = self.snapshot(t);
        self.out.push(Effect::TaskEnqueued {
            task,
            queue: queue_ref,
        });
        self.want_agent_for(t);
        Ok(())
    }

    /// Offers a waiting task to `agent_id` now, whatever the queue's steps say.
    /// Refused unless the agent could take it this moment: READY with a connected
    /// desk, its MRD READY or ACTIVE with room, not excluded from the task (it
    /// declined it) and not already in the conversation. A decline or RONA then
    /// returns the task to its queue as for any offer.
    pub(super) fn offer_task_to(
        &mut self,
        task_id: &str,
        agent_id: &str,
    ) -> Result<(), RoutingError> {
        let t = self.waiting_in_queue(task_id)?;
        let a = self.agent_ix(agent_id)?;
        let slot = &self.tasks[t];
        if !self.is_available(a, slot.mrd) || !self.allows(&slot.task, a) {
            return Err(RoutingError::AgentUnavailable {
                agent: agent_id.to_string(),
                task: task_id.to_string(),
            });
        }
        if matches!(slot.task.routing.target, Target::LastAgent { .. }) {
            self.tasks[t].task_mut().routing.target = Target::Queue;
        }
        self.reserve(t, a);
        Ok(())
    }
}
