//! Read-only queries for APIs and desks: agent presence, tasks, queue position with
//! estimated wait, queue statistics, configuration and pull-mode lists.

use super::state::{AgentIx, Waiting};
use super::RoutingCore;
use crate::model::{AgentStateName, MediaState, MrdConfig, QueueConfig};
use crate::pull::PullRequest;
use crate::stats::estimated_wait;
use crate::task::Task;
use crate::view::{AgentMrdView, AgentView, QueuePosition, QueueStats};
use crate::Millis;

impl RoutingCore {
    /// The agent's presence: global state, per-MRD states and capacities, held tasks.
    pub fn agent(&self, agent_id: &str) -> Option<AgentView> {
        self.agent_ix(agent_id).ok().map(|a| self.view_of(a))
    }

    /// Every known agent's presence, in registration order.
    pub fn agents(&self) -> impl Iterator<Item = AgentView> + '_ {
        (0..self.agents.len() as AgentIx)
            .filter(|&a| self.agent_at(a).live)
            .map(|a| self.view_of(a))
    }

    pub fn task(&self, task_id: &str) -> Option<&Task> {
        let t = self.task_ix(task_id).ok()?;
        Some(&self.tasks[t].task)
    }

    /// Every open task (queued, reserved, active, in wrap-up).
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().map(|(_, slot)| &*slot.task)
    }

    /// The open tasks of a conversation (queued, reserved, active, in wrap-up).
    pub fn tasks_of_conversation<'a>(
        &'a self,
        conversation_id: &str,
    ) -> impl Iterator<Item = &'a Task> + 'a {
        self.conversation_tasks
            .get(conversation_id)
            .into_iter()
            .flatten()
            .map(|&t| &*self.tasks[t].task)
    }

    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Tasks the agent holds: reserved, active or in wrap-up.
    pub fn tasks_of_agent(&self, agent_id: &str) -> Vec<&Task> {
        let Ok(a) = self.agent_ix(agent_id) else {
            return Vec::new();
        };
        self.agent_at(a)
            .held
            .iter()
            .map(|&t| &*self.tasks[t].task)
            .collect()
    }

    /// Where a queued task stands: 1 = next among the tasks it competes with (its
    /// queue, or the list of its named/last agent), and the estimated wait from the
    /// queue's recent handle times and the capacity of the ready agents serving it.
    pub fn queue_position(&self, task_id: &str) -> Option<QueuePosition> {
        let t = self.task_ix(task_id).ok()?;
        let slot = &self.tasks[t];
        let queue = self.queue(slot.queue);
        let (ahead, capacity) = match slot.waiting {
            Waiting::No => return None,
            Waiting::Queue(key) => {
                let ahead = queue.open[0].range(..key).count();
                let capacity: u64 = (0..self.agents.len() as AgentIx)
                    .filter(|&a| {
                        let agent = self.agent_at(a);
                        agent
                            .matches
                            .get(slot.queue as usize)
                            .is_some_and(|m| m.mask != 0)
                    })
                    .map(|a| self.serving_capacity(a, slot.mrd))
                    .sum();
                (ahead, capacity)
            }
            Waiting::Targeted(a, pick) => {
                let ahead = self.agent_at(a).targeted.range(..pick).count();
                (ahead, self.serving_capacity(a, slot.mrd))
            }
        };
        let position = u32::try_from(ahead.saturating_add(1)).unwrap_or(u32::MAX);
        let handle = queue
            .window
            .average_handle_ms()
            .unwrap_or(self.config.default_handle_time_ms);
        Some(QueuePosition {
            position,
            estimated_wait_ms: estimated_wait(position, capacity, handle),
        })
    }

    /// Slots agent `a` works on MRD `m` while READY there (0 when it does not serve).
    fn serving_capacity(&self, a: AgentIx, m: u32) -> u64 {
        let agent = self.agent_at(a);
        let serving = agent.live
            && agent.connected
            && agent.state == AgentStateName::Ready
            && agent
                .mrds
                .get(m as usize)
                .is_some_and(|am| am.ready_requested);
        if serving {
            u64::from(agent.mrds[m as usize].max)
        } else {
            0
        }
    }

    /// Waiting, reserved and active counts, oldest wait, staffed and ready agents,
    /// average handle time and service level of a queue at `now`.
    pub fn queue_stats(&self, queue_id: &str, now: Millis) -> Option<QueueStats> {
        let q = self.queue_ix(queue_id).ok()?;
        let queue = self.queue(q);
        let oldest_enqueue_time = queue.open[0]
            .iter()
            .chain(queue.targeted.iter())
            .map(|key| key.enqueue_time)
            .min();
        let mut reserved = 0;
        let mut active = 0;
        let mut staffed = 0;
        let mut ready = 0;
        for a in 0..self.agents.len() as AgentIx {
            let agent = self.agent_at(a);
            if !agent.live {
                continue;
            }
            for &t in &agent.held {
                let slot = &self.tasks[t];
                if slot.queue == q {
                    match slot.task.media.state {
                        MediaState::Reserved => reserved += 1,
                        MediaState::Active => active += 1,
                        _ => {}
                    }
                }
            }
            let serves = agent.matches.get(q as usize).is_some_and(|m| m.mask != 0);
            let logged_in = !matches!(
                agent.state,
                AgentStateName::Logout | AgentStateName::Unknown
            );
            if serves && logged_in {
                staffed += 1;
                if self.is_available(a, queue.mrd) {
                    ready += 1;
                }
            }
        }
        Some(QueueStats {
            queue_id: queue.config.id.clone(),
            queue_name: queue.config.name.clone(),
            mrd_id: self.mrds[queue.mrd as usize].config.id.clone(),
            waiting: (queue.open[0].len() + queue.targeted.len()) as u32,
            oldest_enqueue_time,
            oldest_wait_ms: oldest_enqueue_time.map(|t| (now - t).max(0)),
            reserved,
            active,
            staffed_agents: staffed,
            ready_agents: ready,
            average_handle_time_ms: queue.window.average_handle_ms(),
            service_level: queue.window.service_level(),
        })
    }

    pub fn mrd(&self, mrd_id: &str) -> Option<&MrdConfig> {
        let m = self.mrd_ix(mrd_id).ok()?;
        Some(&self.mrds[m as usize].config)
    }

    pub fn queue_config(&self, queue_id: &str) -> Option<&QueueConfig> {
        let q = self.queue_ix(queue_id).ok()?;
        Some(&self.queue(q).config)
    }

    pub fn queue_configs(&self) -> impl Iterator<Item = &QueueConfig> {
        self.queues.iter().filter(|q| q.live).map(|q| &q.config)
    }

    pub fn pull_request(&self, request_id: &str) -> Option<&PullRequest> {
        self.pull.request(request_id)
    }

    /// The pull-mode requests of a conversation (one, unless it was routed again).
    pub fn pull_requests_of_conversation<'a>(
        &'a self,
        conversation_id: &'a str,
    ) -> impl Iterator<Item = &'a PullRequest> + 'a {
        self.pull.requests_of_conversation(conversation_id)
    }

    /// The requests of a pull-mode list, oldest first.
    pub fn pull_list_requests(&self, list_id: &str) -> Option<Vec<&PullRequest>> {
        self.pull.list_requests(list_id)
    }

    pub fn is_subscribed(&self, agent_id: &str, list_id: &str) -> bool {
        self.pull.is_subscribed(agent_id, list_id)
    }

    pub(super) fn view_of(&self, a: AgentIx) -> AgentView {
        let agent = self.agent_at(a);
        AgentView {
            agent_id: agent.profile.id.clone(),
            username: agent.profile.username.clone(),
            team: agent.profile.team.clone(),
            state: agent.state,
            reason_code: agent.reason_code.clone(),
            state_change_time: agent.state_since,
            login_time: agent.login_time,
            connected: agent.connected,
            resume: agent.resume.clone(),
            mrd_states: agent
                .mrds
                .iter()
                .zip(&self.mrds)
                .filter(|(_, mrd)| mrd.live)
                .map(|(am, mrd)| AgentMrdView {
                    mrd_id: mrd.config.id.clone(),
                    mrd_name: mrd.config.name.clone(),
                    interruptible: mrd.config.interruptible,
                    max_requests: mrd.config.max_tasks,
                    state: am.state,
                    state_change_time: am.state_since,
                    max_agent_tasks: am.max,
                    load: am.load,
                    ready_requested: am.ready_requested,
                })
                .collect(),
            task_ids: agent
                .held
                .iter()
                .map(|&t| self.tasks[t].task.id.clone())
                .collect(),
        }
    }
}
