//! Property tests of the routing engine: random interleavings of arrivals, agent
//! state changes, desk drops, accepts, declines, wrap-ups, closes, configuration
//! changes, restarts and clock advances. After every step the engine's state is
//! checked against the routing rules, using only its public API and an
//! independent evaluation of the queue-step expressions. Every input is also
//! journaled as the routing driver journals it (`digest::journal_form`, the effects'
//! digest); at the end the journal replays in fresh cores with no divergence, so the
//! engine decides only from its inputs and `now` (issue 19's replay rests on it).

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;
use switchboard::routing::expr::Expr;
use switchboard::routing::{
    digest, AgentProfile, AgentStateName, AgentView, AttrValue, Direction, Disposition, Effect,
    Input, MediaState, MrdConfig, MrdStateName, NewTask, QueueConfig, RequestedAgentState,
    RequestedMrdState, RevokeReason, RoutingConfig, RoutingCore, SelectionPolicy, StepConfig,
    Target, Task, TaskMode, TaskStateName,
};

const AGENTS: usize = 5;
const MRDS: [&str; 2] = ["chat", "voice"];
const T0: i64 = 1_700_000_000_000;

#[derive(Clone, Debug)]
enum Op {
    Enqueue {
        queue: usize,
        priority: u8,
        policy: u8,
        target: u8,
        agent: usize,
        ttl: u8,
        join_conversation_of: Option<usize>,
        exclude: Option<usize>,
        offer: bool,
    },
    Connect(usize),
    Disconnect(usize),
    State(usize, u8),
    MrdState(usize, usize, bool),
    ForceLogout(usize),
    Accept(usize, bool),
    Decline(usize),
    Close(usize),
    WrapUp(usize),
    EndWrapUp(usize),
    Advance(i64),
    Flush(Option<usize>),
    Capacity(usize, usize, u32),
    Skill(usize, u8),
    Restart,
    /// The journal notes the core's state (as the driver does daily).
    Snapshot,
}

fn op() -> impl Strategy<Value = Op> {
    let agent = 0..AGENTS;
    prop_oneof![
        6 => (
            0..3usize,
            1..=10u8,
            0..3u8,
            0..8u8,
            0..AGENTS,
            0..3u8,
            proptest::option::weighted(0.15, 0..16usize),
            proptest::option::weighted(0.1, 0..AGENTS),
            proptest::bool::weighted(0.9),
        )
            .prop_map(
                |(queue, priority, policy, target, agent, ttl, join, exclude, offer)| {
                    Op::Enqueue {
                        queue,
                        priority,
                        policy,
                        target,
                        agent,
                        ttl,
                        join_conversation_of: join,
                        exclude,
                        offer,
                    }
                }
            ),
        3 => agent.clone().prop_map(Op::Connect),
        1 => agent.clone().prop_map(Op::Disconnect),
        4 => (agent.clone(), 0..3u8).prop_map(|(a, s)| Op::State(a, s)),
        1 => (agent.clone(), 0..2usize, any::<bool>()).prop_map(|(a, m, r)| Op::MrdState(a, m, r)),
        1 => agent.clone().prop_map(Op::ForceLogout),
        5 => (0..16usize, proptest::bool::weighted(0.1)).prop_map(|(p, wrong)| Op::Accept(p, wrong)),
        1 => (0..16usize).prop_map(Op::Decline),
        3 => (0..16usize).prop_map(Op::Close),
        1 => (0..16usize).prop_map(Op::WrapUp),
        1 => (0..16usize).prop_map(Op::EndWrapUp),
        5 => prop_oneof![1..2_000i64, 2_000..40_000i64].prop_map(Op::Advance),
        1 => proptest::option::of(0..3usize).prop_map(Op::Flush),
        1 => (agent.clone(), 0..2usize, 0..4u32).prop_map(|(a, m, c)| Op::Capacity(a, m, c)),
        1 => (agent, 0..11u8).prop_map(|(a, s)| Op::Skill(a, s)),
        1 => Just(Op::Restart),
        1 => Just(Op::Snapshot),
    ]
}

fn routing_config() -> RoutingConfig {
    RoutingConfig {
        accept_timeout_ms: 20_000,
        disconnect_grace_ms: 15_000,
        last_agent_wait_ms: 5_000,
        unknown_state_grace_ms: 25_000,
        ..RoutingConfig::default()
    }
}

fn mrds() -> Vec<MrdConfig> {
    vec![
        MrdConfig {
            id: "chat".into(),
            name: "Chat".into(),
            description: String::new(),
            max_tasks: 2,
            interruptible: true,
        },
        MrdConfig {
            id: "voice".into(),
            name: "Voice".into(),
            description: String::new(),
            max_tasks: 1,
            interruptible: false,
        },
    ]
}

fn queues() -> Vec<QueueConfig> {
    let step = |expression: &str, timeout_ms: i64| StepConfig {
        expression: expression.into(),
        timeout_ms,
    };
    let queue = |id: &str, mrd: &str, priority: u8, steps: Vec<StepConfig>| QueueConfig {
        id: id.into(),
        name: id.into(),
        mrd_id: mrd.into(),
        priority,
        accept_timeout_ms: None,
        agent_sla_ms: None,
        service_level_threshold_ms: None,
        steps,
    };
    vec![
        queue("any", "chat", 3, vec![]),
        QueueConfig {
            accept_timeout_ms: Some(8_000),
            ..queue(
                "skilled",
                "chat",
                7,
                vec![step("skill >= 5", 6_000), step("skill >= 2 OR vip", 0)],
            )
        },
        queue("calls", "voice", 5, vec![step("voice == true", 0)]),
    ]
}

fn profiles() -> Vec<AgentProfile> {
    let attrs: [&[(&str, AttrValue)]; AGENTS] = [
        &[
            ("skill", AttrValue::Proficiency(8)),
            ("voice", AttrValue::Bool(true)),
        ],
        &[("skill", AttrValue::Proficiency(3))],
        &[
            ("vip", AttrValue::Bool(true)),
            ("voice", AttrValue::Bool(true)),
        ],
        &[],
        &[
            ("skill", AttrValue::Proficiency(6)),
            ("vip", AttrValue::Bool(true)),
        ],
    ];
    attrs
        .iter()
        .enumerate()
        .map(|(i, attrs)| AgentProfile {
            id: format!("a{i}"),
            username: format!("agent{i}"),
            team: None,
            attributes: attrs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            mrd_max_tasks: if i == 4 {
                BTreeMap::from([("chat".to_string(), 1)])
            } else {
                BTreeMap::new()
            },
        })
        .collect()
}

/// One journaled step: a fresh core, an input as journaled with its `now` and the
/// digest of its effects, or a snapshot of the core's state.
enum Journaled {
    Start,
    Snapshot(serde_json::Value),
    Input {
        at: i64,
        input: serde_json::Value,
        digest: u64,
    },
}

struct Harness {
    core: RoutingCore,
    journal: Vec<Journaled>,
    now: i64,
    queues: Vec<QueueConfig>,
    steps: HashMap<String, Vec<Expr>>,
    profiles: Vec<AgentProfile>,
    /// Tasks that were ever answered: their TTL restarts when re-routed.
    answered: HashSet<String>,
    /// Load per (agent, MRD) after the previous step.
    previous_load: HashMap<(String, String), u32>,
    next_task: u32,
}

impl Harness {
    fn new() -> Self {
        let queues = queues();
        let steps = queues
            .iter()
            .map(|q| {
                let exprs = q
                    .steps
                    .iter()
                    .map(|s| Expr::parse(&s.expression).expect("test expressions parse"))
                    .collect();
                (q.id.clone(), exprs)
            })
            .collect();
        let mut harness = Self {
            core: RoutingCore::new(routing_config()),
            journal: vec![Journaled::Start],
            now: T0,
            queues,
            steps,
            profiles: profiles(),
            answered: HashSet::new(),
            previous_load: HashMap::new(),
            next_task: 0,
        };
        harness.configure();
        harness
    }

    fn configure(&mut self) {
        let mut inputs: Vec<Input> = mrds().into_iter().map(Input::UpsertMrd).collect();
        inputs.extend(self.queues.iter().cloned().map(Input::UpsertQueue));
        inputs.extend(self.profiles.iter().cloned().map(Input::UpsertAgent));
        for input in inputs {
            let effects = self.handle(input);
            assert!(effects
                .iter()
                .all(|e| !matches!(e, Effect::Rejected { .. })));
        }
    }

    /// Has the core handle `input` now, journaling it.
    fn handle(&mut self, mut input: Input) -> Vec<Effect> {
        let journaled = digest::journal_form(&mut input).expect("inputs serialize");
        let effects = self.core.handle(self.now, input);
        self.journal.push(Journaled::Input {
            at: self.now,
            input: journaled,
            digest: digest::digest(&effects),
        });
        effects
    }

    /// Replays the journal in fresh cores: every input decides as it did.
    fn replay_journal(&self) -> Result<(), TestCaseError> {
        let mut core = RoutingCore::new(routing_config());
        for (n, step) in self.journal.iter().enumerate() {
            match step {
                Journaled::Start => core = RoutingCore::new(routing_config()),
                // The rebuilt state equals the one noted, and a core read back from
                // the snapshot goes on deciding as the running one did.
                Journaled::Snapshot(state) => {
                    let rebuilt = core.state_snapshot().expect("states serialize");
                    prop_assert!(
                        rebuilt == *state,
                        "step {} : the state at the snapshot differs",
                        n
                    );
                    core = RoutingCore::from_state_snapshot(state.clone())
                        .map_err(|e| TestCaseError::fail(format!("step {n}: {e}")))?;
                }
                Journaled::Input { at, input, digest } => {
                    let decoded: Input = serde_json::from_value(input.clone())
                        .map_err(|e| TestCaseError::fail(format!("{input}: {e}")))?;
                    let effects = core.handle(*at, decoded);
                    prop_assert_eq!(
                        digest::digest(&effects),
                        *digest,
                        "step {} diverged: {} gave {}",
                        n,
                        input,
                        digest::brief(&effects)
                    );
                }
            }
        }
        Ok(())
    }

    fn open_tasks(&self, filter: impl Fn(&Task) -> bool) -> Vec<Task> {
        let mut tasks: Vec<Task> = self.core.tasks().filter(|t| filter(t)).cloned().collect();
        tasks.sort_by(|a, b| a.id.cmp(&b.id));
        tasks
    }

    fn pick(&self, index: usize, filter: impl Fn(&Task) -> bool) -> Option<Task> {
        let tasks = self.open_tasks(filter);
        (!tasks.is_empty()).then(|| tasks[index % tasks.len()].clone())
    }

    fn input_for(&mut self, op: &Op) -> Option<Input> {
        let agent_id = |i: usize| format!("a{i}");
        Some(match op.clone() {
            Op::Enqueue {
                queue,
                priority,
                policy,
                target,
                agent,
                ttl,
                join_conversation_of,
                exclude,
                offer,
            } => {
                self.next_task += 1;
                let id = format!("t{}", self.next_task);
                let conversation_id = join_conversation_of
                    .and_then(|i| self.pick(i, |_| true))
                    .map(|t| t.conversation_id)
                    .unwrap_or_else(|| format!("conv-{id}"));
                let mode = if target == 6 {
                    TaskMode::Agent {
                        agent_id: agent_id(agent),
                    }
                } else {
                    TaskMode::Queue
                };
                Input::EnqueueTask(Box::new(NewTask {
                    task_id: id.clone(),
                    media_id: format!("m-{id}"),
                    conversation_id,
                    queue_id: self.queues[queue].id.clone(),
                    priority,
                    direction: Direction::Inbound,
                    mode,
                    offer_to_agent: offer,
                    agent_request_ttl_ms: [Some(15_000), Some(60_000), None][ttl as usize],
                    selection_policy: [
                        SelectionPolicy::LongestAvailable,
                        SelectionPolicy::LeastActiveTasks,
                        SelectionPolicy::MostSkilled,
                    ][policy as usize],
                    preferred_last_agent: (target == 7).then(|| agent_id(agent)),
                    exclude_agents: exclude.map(agent_id).into_iter().collect(),
                    related_task: None,
                    request_session: serde_json::json!({}),
                    metadata: serde_json::json!({}),
                }))
            }
            Op::Connect(a) => Input::AgentConnected {
                agent_id: agent_id(a),
            },
            Op::Disconnect(a) => Input::AgentDisconnected {
                agent_id: agent_id(a),
            },
            Op::State(a, s) => Input::SetAgentState {
                agent_id: agent_id(a),
                state: [
                    RequestedAgentState::Ready,
                    RequestedAgentState::NotReady,
                    RequestedAgentState::Logout,
                ][s as usize],
                reason_code: None,
            },
            Op::MrdState(a, m, ready) => Input::SetAgentMrdState {
                agent_id: agent_id(a),
                mrd_id: MRDS[m].into(),
                state: if ready {
                    RequestedMrdState::Ready
                } else {
                    RequestedMrdState::NotReady
                },
            },
            Op::ForceLogout(a) => Input::ForceLogout {
                agent_id: agent_id(a),
                reason_code: Some("SUPERVISOR".into()),
            },
            Op::Accept(i, wrong) => {
                let task = self.pick(i, |t| t.media.state == MediaState::Reserved)?;
                let holder = task.assigned_to.clone()?;
                let agent = if wrong {
                    agent_id((holder[1..].parse::<usize>().unwrap_or(0) + 1) % AGENTS)
                } else {
                    holder
                };
                Input::AcceptTask {
                    agent_id: agent,
                    task_id: task.id,
                }
            }
            Op::Decline(i) => {
                let task = self.pick(i, |t| t.media.state == MediaState::Reserved)?;
                Input::DeclineTask {
                    agent_id: task.assigned_to.clone()?,
                    task_id: task.id,
                }
            }
            Op::Close(i) => Input::CloseTask {
                task_id: self.pick(i, |_| true)?.id,
                disposition: Disposition::Done,
            },
            Op::WrapUp(i) => Input::StartWrapUp {
                task_id: self
                    .pick(i, |t| {
                        t.media.state == MediaState::Active && t.state.name == TaskStateName::Active
                    })?
                    .id,
            },
            Op::EndWrapUp(i) => Input::EndWrapUp {
                task_id: self.pick(i, |t| t.state.name == TaskStateName::WrapUp)?.id,
            },
            Op::Advance(ms) => {
                self.now += ms;
                Input::Tick
            }
            Op::Flush(queue) => Input::FlushQueue {
                queue_id: queue.map(|q| self.queues[q].id.clone()),
            },
            Op::Capacity(a, m, capacity) => {
                self.profiles[a]
                    .mrd_max_tasks
                    .insert(MRDS[m].to_string(), capacity);
                Input::UpsertAgent(self.profiles[a].clone())
            }
            Op::Skill(a, level) => {
                let attributes = &mut self.profiles[a].attributes;
                if level == 0 {
                    attributes.remove("skill");
                } else {
                    attributes.insert("skill".into(), AttrValue::Proficiency(level));
                }
                Input::UpsertAgent(self.profiles[a].clone())
            }
            Op::Restart | Op::Snapshot => return None,
        })
    }

    /// Rebuilds a fresh engine from the tasks and agent states of the current one.
    fn restart(&mut self) -> Vec<Effect> {
        let mut tasks: Vec<Task> = self.core.tasks().cloned().collect();
        tasks.sort_by_key(|t| t.routing.seq);
        let agents: Vec<AgentView> = self.core.agents().collect();
        self.core = RoutingCore::new(routing_config());
        self.journal.push(Journaled::Start);
        self.configure();
        let mut effects = Vec::new();
        for view in agents {
            effects.extend(self.handle(Input::RestoreAgentState(Box::new(view))));
        }
        for task in tasks {
            effects.extend(self.handle(Input::RestoreTask(Box::new(task))));
        }
        effects
    }

    fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
        let before: HashMap<String, Task> = self
            .core
            .tasks()
            .map(|t| (t.id.clone(), t.clone()))
            .collect();
        let effects = match self.input_for(op) {
            Some(input) => self.handle(input),
            None if matches!(op, Op::Restart) => self.restart(),
            None if matches!(op, Op::Snapshot) => {
                let state = self.core.state_snapshot().expect("states serialize");
                self.journal.push(Journaled::Snapshot(state));
                return Ok(());
            }
            None => return Ok(()),
        };
        for effect in &effects {
            if let Some(task) = task_of(effect) {
                if task.media.state == MediaState::Active {
                    self.answered.insert(task.id.clone());
                }
            }
            if let Effect::Rejected { error, .. } = effect {
                // Only refusals a desk can cause; a well-formed config change never is.
                prop_assert!(
                    !matches!(
                        op,
                        Op::Enqueue { .. } | Op::Capacity(..) | Op::Skill(..) | Op::Restart
                    ),
                    "{op:?} refused: {error}"
                );
            }
        }
        let timers_may_have_fired = matches!(op, Op::Advance(_) | Op::Restart);
        self.check(&effects, &before, timers_may_have_fired)
    }

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

    fn check(
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

fn task_of(effect: &Effect) -> Option<&Task> {
    match effect {
        Effect::TaskEnqueued { task, .. }
        | Effect::TaskStateChanged { task }
        | Effect::OfferTask { task, .. }
        | Effect::TaskAssigned { task, .. }
        | Effect::RevokeTask { task, .. }
        | Effect::NoAgentAvailable { task }
        | Effect::TaskRerouted { task, .. } => Some(task),
        _ => None,
    }
}

proptest! {
    #[test]
    fn routing_rules_hold_after_every_step(ops in proptest::collection::vec(op(), 1..120)) {
        let mut harness = Harness::new();
        for op in &ops {
            harness.step(op)?;
        }
        harness.replay_journal()?;
    }
}
