//! The what-if: a workload with agents added or removed, a queue's step timeouts
//! changed, or every task routed with another selection policy.

use super::source::{AgentPlan, Workload};
use super::SimError;
use crate::clock::Millis;
use crate::routing::SelectionPolicy;

/// `--agents +N|-N`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgentDelta(pub i64);

impl std::str::FromStr for AgentDelta {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        text.trim()
            .parse::<i64>()
            .map(AgentDelta)
            .map_err(|_| format!("`{text}` is not a number of agents such as +5 or -3"))
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Changes {
    /// Added agents copy the recorded agents with the most planned time (profile,
    /// capacities, shift, accept delays), in that order; removed agents are those
    /// with the most planned time.
    pub agents: AgentDelta,
    /// (queue id or name, seconds): every step of the queue searched this long alone.
    pub step_timeout: Option<(String, i64)>,
    /// Every task routed with this policy.
    pub policy: Option<SelectionPolicy>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.agents.0 == 0 && self.step_timeout.is_none() && self.policy.is_none()
    }

    /// One line saying what changed, for the report.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.agents.0 != 0 {
            parts.push(format!("agents {:+}", self.agents.0));
        }
        if let Some((queue, secs)) = &self.step_timeout {
            parts.push(format!("queue {queue} step timeout {secs} s"));
        }
        if let Some(policy) = self.policy {
            parts.push(format!(
                "policy {}",
                crate::routing::handle::enum_str(&policy)
            ));
        }
        if parts.is_empty() {
            "no change".to_string()
        } else {
            parts.join(", ")
        }
    }

    /// The workload with the change applied; agents are ranked by their planned time
    /// in `[from, to)`.
    pub fn apply(&self, work: &Workload, from: Millis, to: Millis) -> Result<Workload, SimError> {
        let mut changed = work.clone();
        if let Some((queue, secs)) = &self.step_timeout {
            let q = changed
                .queues
                .iter_mut()
                .find(|q| &q.id == queue || &q.name == queue)
                .ok_or_else(|| SimError::UnknownQueue(queue.clone()))?;
            for step in &mut q.steps {
                step.timeout_ms = secs.saturating_mul(1000).max(0);
            }
        }
        if let Some(policy) = self.policy {
            for arrival in &mut changed.arrivals {
                arrival.policy = policy;
            }
        }
        let delta = self.agents.0;
        if delta != 0 {
            let ranked = ranked(work, from, to);
            if delta < 0 {
                let drop = delta.unsigned_abs() as usize;
                if drop > ranked.len() {
                    return Err(SimError::TooFewAgents(delta, ranked.len()));
                }
                let gone: Vec<&str> = ranked[..drop]
                    .iter()
                    .map(|a| a.profile.id.as_str())
                    .collect();
                changed
                    .agents
                    .retain(|a| !gone.contains(&a.profile.id.as_str()));
            } else if !ranked.is_empty() {
                for n in 0..delta as usize {
                    let model = ranked[n % ranked.len()];
                    let mut copy: AgentPlan = model.clone();
                    copy.profile.id = format!("sim-extra-{}", n + 1);
                    copy.profile.username = format!("sim-extra-{}", n + 1);
                    changed.agents.push(copy);
                }
            }
        }
        Ok(changed)
    }
}

/// The agents with a shift, most planned time first (ties by id).
fn ranked(work: &Workload, from: Millis, to: Millis) -> Vec<&AgentPlan> {
    let mut agents: Vec<(&AgentPlan, i64)> = work
        .agents
        .iter()
        .filter(|a| !a.shift.is_empty())
        .map(|a| (a, a.planned_ms(from, to)))
        .collect();
    agents.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.profile.id.cmp(&b.0.profile.id))
    });
    agents.into_iter().map(|(a, _)| a).collect()
}
