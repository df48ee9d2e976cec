//! Simulated-time tests of the engine, one file per group of rules. `Sim` drives a
//! core with a hand-held clock and reads effects and state back.

mod agent_states;
mod config_live;
mod interruption_logout;
mod offers;
mod queries;
mod restore;
mod snapshots;
mod steps_policies;
mod supervision;
mod timers;
mod transfers;

use std::collections::BTreeMap;

use crate::Millis;
use crate::{
    AgentProfile, AttrValue, Direction, Effect, Input, MediaState, MrdConfig, MrdStateName,
    NewTask, QueueConfig, RequestedAgentState, RevokeReason, RoutingConfig, RoutingCore,
    SelectionPolicy, StepConfig, TaskMode,
};

pub(super) const T0: Millis = 1_750_000_000_000;

pub(super) struct Sim {
    pub core: RoutingCore,
    pub now: Millis,
}

impl Sim {
    /// A core with MRD `chat` (max 2, interruptible) and `voice` (max 1, not).
    pub fn new() -> Self {
        Self::with_config(RoutingConfig::default())
    }

    pub fn with_config(config: RoutingConfig) -> Self {
        let mut sim = Self {
            core: RoutingCore::new(config),
            now: T0,
        };
        sim.send(Input::UpsertMrd(mrd("chat", 2, true)));
        sim.send(Input::UpsertMrd(mrd("voice", 1, false)));
        sim
    }

    /// Applies an input that must be accepted.
    pub fn send(&mut self, input: Input) -> Vec<Effect> {
        let effects = self.core.handle(self.now, input.clone());
        if let Some(Effect::Rejected { error, .. }) = effects
            .iter()
            .find(|e| matches!(e, Effect::Rejected { .. }))
        {
            panic!("{input:?} rejected: {error}");
        }
        effects
    }

    /// Applies an input that may be refused.
    pub fn try_send(&mut self, input: Input) -> Vec<Effect> {
        self.core.handle(self.now, input)
    }

    /// Moves the clock and fires what is due.
    pub fn advance(&mut self, ms: Millis) -> Vec<Effect> {
        self.now += ms;
        self.send(Input::Tick)
    }

    pub fn queue(&mut self, id: &str, mrd: &str, steps: &[(&str, Millis)]) {
        let mut config = queue(id, mrd);
        config.steps = steps
            .iter()
            .map(|(expression, timeout_ms)| StepConfig {
                expression: expression.to_string(),
                timeout_ms: *timeout_ms,
            })
            .collect();
        self.send(Input::UpsertQueue(config));
    }

    pub fn agent(&mut self, id: &str, attributes: &[(&str, AttrValue)]) {
        self.send(Input::UpsertAgent(profile(id, attributes)));
    }

    /// Connects the desk and sets the agent READY.
    pub fn ready(&mut self, id: &str) -> Vec<Effect> {
        let mut effects = self.send(Input::AgentConnected {
            agent_id: id.into(),
        });
        effects.extend(self.set_state(id, RequestedAgentState::Ready, None));
        effects
    }

    pub fn set_state(
        &mut self,
        id: &str,
        state: RequestedAgentState,
        reason: Option<&str>,
    ) -> Vec<Effect> {
        self.send(Input::SetAgentState {
            agent_id: id.into(),
            state,
            reason_code: reason.map(str::to_string),
        })
    }

    pub fn enqueue(&mut self, task: NewTask) -> Vec<Effect> {
        self.send(Input::EnqueueTask(Box::new(task)))
    }

    pub fn accept(&mut self, agent: &str, task: &str) -> Vec<Effect> {
        self.send(Input::AcceptTask {
            agent_id: agent.into(),
            task_id: task.into(),
        })
    }

    pub fn close(&mut self, task: &str) -> Vec<Effect> {
        self.send(Input::CloseTask {
            task_id: task.into(),
            disposition: crate::Disposition::Done,
        })
    }

    pub fn holder(&self, task: &str) -> Option<String> {
        self.core.task(task).and_then(|t| t.assigned_to.clone())
    }

    pub fn media_state(&self, task: &str) -> Option<MediaState> {
        self.core.task(task).map(|t| t.media.state)
    }

    pub fn mrd_state(&self, agent: &str, mrd: &str) -> MrdStateName {
        let view = self.core.agent(agent).expect("agent exists");
        view.mrd_states
            .iter()
            .find(|m| m.mrd_id == mrd)
            .map(|m| m.state)
            .expect("mrd exists")
    }
}

pub(super) fn mrd(id: &str, max_tasks: u32, interruptible: bool) -> MrdConfig {
    MrdConfig {
        id: id.into(),
        name: id.to_uppercase(),
        description: String::new(),
        max_tasks,
        interruptible,
    }
}

pub(super) fn queue(id: &str, mrd: &str) -> QueueConfig {
    QueueConfig {
        id: id.into(),
        name: id.into(),
        mrd_id: mrd.into(),
        priority: 5,
        accept_timeout_ms: None,
        agent_sla_ms: None,
        service_level_threshold_ms: None,
        steps: Vec::new(),
    }
}

pub(super) fn profile(id: &str, attributes: &[(&str, AttrValue)]) -> AgentProfile {
    AgentProfile {
        id: id.into(),
        username: format!("user-{id}"),
        team: Some("team".into()),
        attributes: attributes
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        mrd_max_tasks: BTreeMap::new(),
    }
}

/// A queue-mode inbound task with priority 5 and a 120 s TTL.
pub(super) fn task(id: &str, queue: &str) -> NewTask {
    NewTask {
        task_id: id.into(),
        media_id: format!("media-{id}"),
        conversation_id: format!("conv-{id}"),
        queue_id: queue.into(),
        priority: 5,
        direction: Direction::Inbound,
        mode: TaskMode::Queue,
        offer_to_agent: true,
        agent_request_ttl_ms: Some(120_000),
        selection_policy: SelectionPolicy::LongestAvailable,
        preferred_last_agent: None,
        exclude_agents: Vec::new(),
        related_task: None,
        request_session: serde_json::json!({"participantType": "ChannelSession", "id": format!("cs-{id}")}),
        metadata: serde_json::json!({}),
    }
}

pub(super) fn named(id: &str, queue: &str, agent: &str) -> NewTask {
    NewTask {
        mode: TaskMode::Agent {
            agent_id: agent.into(),
        },
        ..task(id, queue)
    }
}

/// (agent, task) of every offer, in order.
pub(super) fn offers(effects: &[Effect]) -> Vec<(String, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::OfferTask { agent_id, task } => Some((agent_id.clone(), task.id.clone())),
            _ => None,
        })
        .collect()
}

pub(super) fn revokes(effects: &[Effect]) -> Vec<(String, String, RevokeReason)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::RevokeTask {
                agent_id,
                task,
                reason,
            } => Some((agent_id.clone(), task.id.clone(), *reason)),
            _ => None,
        })
        .collect()
}

pub(super) fn rejected(effects: &[Effect]) -> Option<&crate::RoutingError> {
    effects.iter().find_map(|e| match e {
        Effect::Rejected { error, .. } => Some(error),
        _ => None,
    })
}

pub(super) fn pair(agent: &str, task: &str) -> (String, String) {
    (agent.to_string(), task.to_string())
}

pub(super) fn skill(level: u8) -> AttrValue {
    AttrValue::Proficiency(level)
}
