//! Which committed routing effects are an offered, answered or abandoned task (the
//! definitions of docs/metrics.md, the same the supervisor figures use), and the wait
//! of each offer. Sans-IO: effects in, occurrences out.
//!
//! - **offered**: `TASK_ENQUEUED` of a new task (its step opened at its own enqueue
//!   time); a task put back after RONA or logout keeps its enqueue time but opens a
//!   new step, so it is not offered again.
//! - **answered**: the first snapshot of a task whose media is ACTIVE. Answered open
//!   tasks are remembered (and forgotten when they close), so a task answered again
//!   after a requeue counts once.
//! - **abandoned**: a task closed CANCELLED or NO_AGENT_AVAILABLE that was never
//!   answered, unless an agent asked for it (a transfer, conference or consult request
//!   no one took: its agent kept the customer).

use crate::clock::Millis;
use crate::routing::{Disposition, Effect, MediaState, QueueRef, Task, TaskStateName};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TaskOccurrence {
    Offered(QueueRef),
    Answered(QueueRef),
    Abandoned(QueueRef),
    /// An offer made this long after the task's enqueue (ms).
    OfferWait(Millis),
}

#[derive(Default)]
pub(super) struct TaskFold {
    /// Open tasks already counted as answered.
    answered: HashSet<String>,
}

impl TaskFold {
    pub(super) fn observe(&mut self, effect: &Effect, now: Millis) -> Vec<TaskOccurrence> {
        let mut out = Vec::new();
        match effect {
            Effect::TaskEnqueued { task, queue }
                if task.routing.step_opened_at == task.media.enqueue_time
                    && task.media.answer_time == 0 =>
            {
                out.push(TaskOccurrence::Offered(queue.clone()));
            }
            Effect::OfferTask { task, .. } => {
                out.push(TaskOccurrence::OfferWait(now - task.media.enqueue_time));
            }
            Effect::TaskStateChanged { task } => self.state(task, &mut out),
            Effect::TaskAssigned { task, .. } => self.state(task, &mut out),
            Effect::TaskTransferred { original, new } => {
                self.state(original, &mut out);
                self.state(new, &mut out);
            }
            _ => {}
        }
        out
    }

    fn state(&mut self, task: &Task, out: &mut Vec<TaskOccurrence>) {
        let queue = || task.media.queue.clone();
        if task.state.name == TaskStateName::Closed {
            let was_answered = self.answered.remove(&task.id);
            let gave_up = matches!(
                task.state.reason_code,
                Some(Disposition::Cancelled | Disposition::NoAgentAvailable)
            );
            if !was_answered
                && task.media.answer_time == 0
                && gave_up
                && !task.media.direction.is_assistance()
            {
                out.push(TaskOccurrence::Abandoned(queue()));
            }
            return;
        }
        if task.media.state == MediaState::Active && self.answered.insert(task.id.clone()) {
            out.push(TaskOccurrence::Answered(queue()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{
        AgentProfile, Direction, Input, MrdConfig, NewTask, QueueConfig, RequestedAgentState,
        RoutingConfig, RoutingCore, SelectionPolicy, TaskMode,
    };
    use std::collections::BTreeMap;

    const T0: Millis = 1_750_000_000_000;

    fn queue() -> QueueRef {
        QueueRef {
            id: "q1".into(),
            name: "Sales".into(),
        }
    }

    /// A core with MRD `chat`, queue `q1` on it and agents `a1`, `a2`.
    fn core() -> RoutingCore {
        let mut core = RoutingCore::new(RoutingConfig::default());
        core.handle(
            T0,
            Input::UpsertMrd(MrdConfig {
                id: "chat".into(),
                name: "CHAT".into(),
                description: String::new(),
                max_tasks: 2,
                interruptible: true,
            }),
        );
        core.handle(
            T0,
            Input::UpsertQueue(QueueConfig {
                id: "q1".into(),
                name: "Sales".into(),
                mrd_id: "chat".into(),
                priority: 5,
                accept_timeout_ms: Some(10_000),
                agent_sla_ms: None,
                service_level_threshold_ms: None,
                steps: Vec::new(),
            }),
        );
        for id in ["a1", "a2"] {
            core.handle(
                T0,
                Input::UpsertAgent(AgentProfile {
                    id: id.into(),
                    username: id.into(),
                    team: Some("team".into()),
                    attributes: BTreeMap::new(),
                    mrd_max_tasks: BTreeMap::new(),
                }),
            );
        }
        core
    }

    fn task(id: &str) -> Input {
        task_of(id, Direction::Inbound)
    }

    fn task_of(id: &str, direction: Direction) -> Input {
        Input::EnqueueTask(Box::new(NewTask {
            task_id: id.into(),
            media_id: format!("media-{id}"),
            conversation_id: format!("conv-{id}"),
            queue_id: "q1".into(),
            priority: 5,
            direction,
            mode: TaskMode::Queue,
            offer_to_agent: true,
            agent_request_ttl_ms: Some(600_000),
            selection_policy: SelectionPolicy::LongestAvailable,
            preferred_last_agent: None,
            exclude_agents: Vec::new(),
            related_task: None,
            request_session: serde_json::json!({"participantType": "ChannelSession", "id": "cs"}),
            metadata: serde_json::json!({}),
        }))
    }

    fn ready(agent: &str) -> Vec<Input> {
        vec![
            Input::AgentConnected {
                agent_id: agent.into(),
            },
            Input::SetAgentState {
                agent_id: agent.into(),
                state: RequestedAgentState::Ready,
                reason_code: None,
            },
        ]
    }

    /// Feeds `inputs` at `at` and folds what they produced.
    fn step(
        core: &mut RoutingCore,
        fold: &mut TaskFold,
        at: Millis,
        inputs: Vec<Input>,
    ) -> Vec<TaskOccurrence> {
        let mut out = Vec::new();
        for input in inputs {
            for effect in core.handle(at, input) {
                out.extend(fold.observe(&effect, at));
            }
        }
        out
    }

    fn counts(occ: &[TaskOccurrence]) -> (usize, usize, usize) {
        let n = |f: fn(&TaskOccurrence) -> bool| occ.iter().filter(|o| f(o)).count();
        (
            n(|o| matches!(o, TaskOccurrence::Offered(_))),
            n(|o| matches!(o, TaskOccurrence::Answered(_))),
            n(|o| matches!(o, TaskOccurrence::Abandoned(_))),
        )
    }

    #[test]
    fn a_task_answered_after_a_rona_is_offered_and_answered_once() {
        let mut core = core();
        let mut fold = TaskFold::default();
        let mut seen = step(&mut core, &mut fold, T0, vec![task("t1")]);
        seen.extend(step(&mut core, &mut fold, T0 + 1_000, ready("a1")));
        let waits: Vec<Millis> = seen
            .iter()
            .filter_map(|o| match o {
                TaskOccurrence::OfferWait(ms) => Some(*ms),
                _ => None,
            })
            .collect();
        assert_eq!(waits, vec![1_000], "offered a second after its enqueue");
        // The offer runs out (RONA): back in the queue, then a second agent takes it.
        seen.extend(step(&mut core, &mut fold, T0 + 12_000, vec![Input::Tick]));
        seen.extend(step(&mut core, &mut fold, T0 + 13_000, ready("a2")));
        assert_eq!(
            core.task("t1")
                .and_then(|t| t.assigned_to.clone())
                .as_deref(),
            Some("a2")
        );
        let accept = Input::AcceptTask {
            agent_id: "a2".into(),
            task_id: "t1".into(),
        };
        seen.extend(step(&mut core, &mut fold, T0 + 14_000, vec![accept]));
        assert_eq!(counts(&seen), (1, 1, 0), "{seen:?}");
        assert!(seen.contains(&TaskOccurrence::Offered(queue())));
        assert!(seen.contains(&TaskOccurrence::Answered(queue())));
        // Closing an answered task is no abandon, whatever its disposition.
        let close = Input::CloseTask {
            task_id: "t1".into(),
            disposition: Disposition::Cancelled,
        };
        seen.extend(step(&mut core, &mut fold, T0 + 20_000, vec![close]));
        assert_eq!(counts(&seen), (1, 1, 0), "{seen:?}");
        assert!(fold.answered.is_empty(), "closed tasks are forgotten");
    }

    #[test]
    fn a_task_the_customer_leaves_unanswered_is_abandoned() {
        let mut core = core();
        let mut fold = TaskFold::default();
        let mut seen = step(&mut core, &mut fold, T0, vec![task("t1"), task("t2")]);
        let leave = |id: &str, disposition| Input::CloseTask {
            task_id: id.into(),
            disposition,
        };
        seen.extend(step(
            &mut core,
            &mut fold,
            T0 + 3_000,
            vec![leave("t1", Disposition::Cancelled)],
        ));
        assert_eq!(counts(&seen), (2, 0, 1), "{seen:?}");
        assert!(seen.contains(&TaskOccurrence::Abandoned(queue())));
        // A flush (FORCE_CLOSED) is neither answered nor abandoned.
        seen.extend(step(
            &mut core,
            &mut fold,
            T0 + 4_000,
            vec![leave("t2", Disposition::ForceClosed)],
        ));
        assert_eq!(counts(&seen), (2, 0, 1), "{seen:?}");
    }

    #[test]
    fn an_agents_request_no_agent_took_is_offered_and_not_abandoned() {
        let mut core = core();
        let mut fold = TaskFold::default();
        let requests = [
            Direction::DirectTransfer,
            Direction::DirectConference,
            Direction::Consult,
        ];
        let mut seen = Vec::new();
        for (i, direction) in requests.into_iter().enumerate() {
            let id = format!("t{i}");
            seen.extend(step(
                &mut core,
                &mut fold,
                T0,
                vec![task_of(&id, direction)],
            ));
            // Withdrawn, declined or its conversation ended: closed CANCELLED.
            let close = Input::CloseTask {
                task_id: id,
                disposition: Disposition::Cancelled,
            };
            seen.extend(step(&mut core, &mut fold, T0 + 30_000, vec![close]));
        }
        assert_eq!(counts(&seen), (3, 0, 0), "{seen:?}");
    }
}
