//! The routing rules checked after every step, against an independent evaluation of
//! the queue-step expressions and the agents' states.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use switchboard::routing::{
    AgentStateName, AgentView, Effect, MediaState, MrdStateName, RevokeReason, Target, Task,
    TaskStateName,
};

use super::fixture::routing_config;
use super::Harness;

impl Harness {
    fn agent_views(&self) -> HashMap<String, AgentView> {
        self.core
            .agents()
            .map(|v| (v.agent_id.clone(), v))
            .collect()
    }

    fn eligible(
        &self,
        agent: &AgentView,
        task: &Task,
        holders: &HashMap<String, HashSet<String>>,
    ) -> bool {
        if task.routing.exclude_agents.contains(&agent.agent_id) {
            return false;
        }
        if holders
            .get(&task.conversation_id)
            .is_some_and(|h| h.contains(&agent.agent_id))
        {
            return false;
        }
        match &task.routing.target {
            Target::Agent { agent_id } | Target::LastAgent { agent_id, .. } => {
                *agent_id == agent.agent_id
            }
            Target::Queue => {
                let steps = &self.steps[&task.media.queue.id];
                if steps.is_empty() {
                    return true;
                }
                let profile = self
                    .profiles
                    .iter()
                    .find(|p| p.id == agent.agent_id)
                    .expect("profile");
                let open = (task.routing.step as usize).min(steps.len() - 1);
                steps[..=open]
                    .iter()
                    .any(|e| e.matches(&profile.attributes))
            }
        }
    }

    fn routable_with_room(agent: &AgentView, mrd_id: &str) -> bool {
        agent.state == AgentStateName::Ready
            && agent.connected
            && agent.mrd_states.iter().any(|m| {
                m.mrd_id == mrd_id
                    && matches!(m.state, MrdStateName::Ready | MrdStateName::Active)
                    && m.load < m.max_agent_tasks
            })
    }

    fn accept_timeout(&self, queue_id: &str) -> i64 {
        self.queues
            .iter()
            .find(|q| q.id == queue_id)
            .and_then(|q| q.accept_timeout_ms)
            .unwrap_or(routing_config().accept_timeout_ms)
    }

    pub(crate) fn check(
        &mut self,
        effects: &[Effect],
        before: &HashMap<String, Task>,
        timers_may_have_fired: bool,
    ) -> Result<(), TestCaseError> {
        let now = self.now;
        let agents = self.agent_views();
        let tasks: Vec<Task> = self.core.tasks().cloned().collect();

        // Nothing overdue is left armed.
        if let Some(deadline) = self.core.next_deadline() {
            prop_assert!(deadline > now, "deadline {deadline} not fired at {now}");
        }

        // The index of tasks by conversation holds exactly the open tasks.
        for task in &tasks {
            let indexed: Vec<&str> = self
                .core
                .tasks_of_conversation(&task.conversation_id)
                .map(|t| t.id.as_str())
                .collect();
            let scanned: Vec<&str> = tasks
                .iter()
                .filter(|t| t.conversation_id == task.conversation_id)
                .map(|t| t.id.as_str())
                .collect();
            prop_assert_eq!(indexed, scanned, "tasks of {}", &task.conversation_id);
        }

        // Holders: each held task is held by exactly the agent it names.
        let mut holder_of: HashMap<String, String> = HashMap::new();
        for view in agents.values() {
            for task_id in &view.task_ids {
                let previous = holder_of.insert(task_id.clone(), view.agent_id.clone());
                prop_assert!(previous.is_none(), "{task_id} held by two agents");
            }
        }
        let mut load: HashMap<(String, String), u32> = HashMap::new();
        let mut conversation_holders: HashMap<String, HashSet<String>> = HashMap::new();
        for task in &tasks {
            let held = task.state.name == TaskStateName::WrapUp
                || matches!(task.media.state, MediaState::Reserved | MediaState::Active);
            if held {
                let holder = task.assigned_to.clone().unwrap_or_default();
                prop_assert_eq!(
                    holder_of.get(&task.id),
                    Some(&holder),
                    "holder of {}",
                    &task.id
                );
                prop_assert!(!task.routing.exclude_agents.contains(&holder));
            } else {
                prop_assert!(
                    !holder_of.contains_key(&task.id),
                    "{} queued but held",
                    task.id
                );
            }
            if task.state.name == TaskStateName::Active
                && matches!(task.media.state, MediaState::Reserved | MediaState::Active)
            {
                let holder = task.assigned_to.clone().unwrap_or_default();
                *load
                    .entry((holder.clone(), task.media.mrd_id.clone()))
                    .or_default() += 1;
                let fresh = conversation_holders
                    .entry(task.conversation_id.clone())
                    .or_default()
                    .insert(holder.clone());
                prop_assert!(
                    fresh,
                    "{holder} twice in conversation {}",
                    task.conversation_id
                );
            }
        }

        // Capacity: never above maxAgentTasks, except right after the capacity was lowered.
        for view in agents.values() {
            for mrd in &view.mrd_states {
                let key = (view.agent_id.clone(), mrd.mrd_id.clone());
                let counted = load.get(&key).copied().unwrap_or(0);
                prop_assert_eq!(counted, mrd.load, "load of {:?}", &key);
                let before = self.previous_load.get(&key).copied().unwrap_or(0);
                prop_assert!(
                    counted <= mrd.max_agent_tasks || counted <= before,
                    "{:?} at {} of {}",
                    key,
                    counted,
                    mrd.max_agent_tasks
                );
                self.previous_load.insert(key, counted);
            }
        }

        // Per-MRD states agree with the agent's wish and its load.
        for view in agents.values() {
            for mrd in &view.mrd_states {
                let expected = if view.state == AgentStateName::Logout {
                    Some(MrdStateName::NotReady)
                } else if !mrd.ready_requested {
                    Some(if mrd.load > 0 {
                        MrdStateName::PendingNotReady
                    } else {
                        MrdStateName::NotReady
                    })
                } else if mrd.state == MrdStateName::Interrupted {
                    None
                } else if mrd.load == 0 {
                    Some(if mrd.max_agent_tasks == 0 {
                        MrdStateName::NotReady
                    } else {
                        MrdStateName::Ready
                    })
                } else if mrd.load < mrd.max_agent_tasks {
                    Some(MrdStateName::Active)
                } else {
                    Some(MrdStateName::Busy)
                };
                if let Some(expected) = expected {
                    prop_assert_eq!(mrd.state, expected, "{} on {}", &view.agent_id, &mrd.mrd_id);
                }
                if mrd.state == MrdStateName::Interrupted {
                    let holds_voice = view
                        .mrd_states
                        .iter()
                        .any(|m| m.mrd_id == "voice" && m.load > 0);
                    prop_assert!(mrd.mrd_id == "chat" && holds_voice, "{view:?}");
                }
            }
        }

        // Reservations: only to READY agents whose MRD is up, within the accept timeout.
        for task in tasks
            .iter()
            .filter(|t| t.media.state == MediaState::Reserved)
        {
            let holder = &agents[task.assigned_to.as_deref().unwrap_or_default()];
            prop_assert_eq!(
                holder.state,
                AgentStateName::Ready,
                "{} reserved to {:?}",
                &task.id,
                holder
            );
            let mrd = holder
                .mrd_states
                .iter()
                .find(|m| m.mrd_id == task.media.mrd_id)
                .expect("mrd view");
            prop_assert!(
                !matches!(
                    mrd.state,
                    MrdStateName::NotReady | MrdStateName::PendingNotReady
                ),
                "{} reserved on a {:?} MRD",
                task.id,
                mrd.state
            );
            let reserved_at = task.routing.reserved_at.expect("reserved_at");
            let timeout = self.accept_timeout(&task.media.queue.id);
            prop_assert!(
                now < reserved_at + timeout,
                "{} reserved since {reserved_at}",
                task.id
            );
            prop_assert_eq!(task.routing.accept_deadline, Some(reserved_at + timeout));
        }
        for effect in effects {
            if let Effect::OfferTask { agent_id, task } = effect {
                let still = tasks.iter().any(|t| {
                    t.id == task.id
                        && t.media.state == MediaState::Reserved
                        && t.assigned_to.as_deref() == Some(agent_id)
                });
                if still {
                    prop_assert!(agents[agent_id].connected, "offer to a dropped desk");
                }
                prop_assert!(
                    self.eligible(&agents[agent_id], task, &HashMap::new()),
                    "{} offered to {agent_id}, who does not match its open steps",
                    task.id
                );
            }
        }

        // RONA: the agent that let an offer expire is NOT_READY with the RONA reason.
        for effect in effects {
            if let Effect::RevokeTask {
                agent_id,
                reason: RevokeReason::Rona,
                ..
            } = effect
            {
                let agent = &agents[agent_id];
                prop_assert!(
                    (agent.state == AgentStateName::NotReady
                        && agent.reason_code.as_deref() == Some("RONA"))
                        || agent.state == AgentStateName::Logout,
                    "{agent_id} still {:?} after RONA",
                    agent.state
                );
            }
        }

        // TTL: nothing unanswered outlives it.
        for task in tasks
            .iter()
            .filter(|t| matches!(t.media.state, MediaState::Queued | MediaState::Reserved))
        {
            if let Some(deadline) = task.routing.ttl_deadline {
                prop_assert!(now < deadline, "{} past its TTL", task.id);
                let ttl = task.routing.agent_request_ttl_ms.expect("ttl");
                if !self.answered.contains(&task.id) {
                    prop_assert_eq!(deadline, task.media.enqueue_time + ttl);
                } else {
                    prop_assert!(deadline <= now + ttl);
                }
            } else {
                prop_assert!(
                    task.routing.agent_request_ttl_ms.is_none(),
                    "{} lost its TTL",
                    task.id
                );
            }
            if let (Target::LastAgent { until, .. }, MediaState::Queued) =
                (&task.routing.target, task.media.state)
            {
                prop_assert!(now < *until, "{} still waits for its last agent", task.id);
            }
        }

        // Never left waiting while a suitable agent has room.
        for task in tasks.iter().filter(|t| t.media.state == MediaState::Queued) {
            for agent in agents.values() {
                prop_assert!(
                    !(Self::routable_with_room(agent, &task.media.mrd_id)
                        && self.eligible(agent, task, &conversation_holders)),
                    "{} waits while {} could take it: {:?}",
                    task.id,
                    agent.agent_id,
                    agent
                );
            }
        }

        // Within a priority, first in first out: an offered task had nobody ahead of
        // it in its queue that the same agent could have taken. An input is applied in
        // full before anything is routed, so what waits after it waited at every
        // offer it caused. When timers fired (one routing round each) only tasks that
        // waited unchanged through the whole step are compared, and an agent in a
        // conversation before or after the step counts as in it.
        let mut holders_around = conversation_holders.clone();
        for task in before.values().filter(|_| timers_may_have_fired) {
            if task.state.name == TaskStateName::Active
                && matches!(task.media.state, MediaState::Reserved | MediaState::Active)
            {
                if let Some(holder) = &task.assigned_to {
                    holders_around
                        .entry(task.conversation_id.clone())
                        .or_default()
                        .insert(holder.clone());
                }
            }
        }
        let rank = |t: &Task| {
            (
                std::cmp::Reverse(t.media.priority),
                t.media.enqueue_time,
                t.routing.seq,
            )
        };
        for effect in effects {
            let Effect::OfferTask {
                agent_id,
                task: offered,
            } = effect
            else {
                continue;
            };
            if offered.routing.target != Target::Queue {
                continue;
            }
            for waiting in tasks.iter().filter(|t| {
                t.media.state == MediaState::Queued
                    && t.id != offered.id
                    && t.media.queue.id == offered.media.queue.id
                    && t.routing.target == Target::Queue
                    && rank(t) < rank(offered)
                    && (!timers_may_have_fired
                        || before.get(&t.id).is_some_and(|b| {
                            b.media.state == MediaState::Queued
                                && b.media.priority == t.media.priority
                                && b.routing.step == t.routing.step
                                && b.routing.target == t.routing.target
                        }))
            }) {
                let agent = &agents[agent_id];
                prop_assert!(
                    !self.eligible(agent, waiting, &holders_around),
                    "{} offered to {agent_id} before {}",
                    offered.id,
                    waiting.id
                );
            }
        }
        Ok(())
    }
}
