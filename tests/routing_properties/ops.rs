//! The random steps a run is made of, and the engine input each becomes (picking the
//! task or agent it acts on from the engine's current state).

use proptest::prelude::*;
use switchboard::routing::{
    AttrValue, Direction, Disposition, Input, MediaState, NewTask, RequestedAgentState,
    RequestedMrdState, SelectionPolicy, Task, TaskMode, TaskStateName,
};

use super::{Harness, AGENTS, MRDS};

#[derive(Clone, Debug)]
pub(crate) enum Op {
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

pub(crate) fn op() -> impl Strategy<Value = Op> {
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

impl Harness {
    fn open_tasks(&self, filter: impl Fn(&Task) -> bool) -> Vec<Task> {
        let mut tasks: Vec<Task> = self.core.tasks().filter(|t| filter(t)).cloned().collect();
        tasks.sort_by(|a, b| a.id.cmp(&b.id));
        tasks
    }

    fn pick(&self, index: usize, filter: impl Fn(&Task) -> bool) -> Option<Task> {
        let tasks = self.open_tasks(filter);
        (!tasks.is_empty()).then(|| tasks[index % tasks.len()].clone())
    }

    pub(crate) fn input_for(&mut self, op: &Op) -> Option<Input> {
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
}
