//! Routing engine benchmark: 1,000 agents, 20 queues, 10,000 queued tasks.
//!
//! The world: one chat MRD (4 tasks per agent); 19 skill queues with two steps
//! (`sN >= 7` for 30 s, then `sN >= 3`) and one VIP queue (`vip == true`, higher
//! queue priority). Task priorities are random 1–10.
//! 750 skilled agents (three skills each) are READY and full; 200 trainees
//! (no skills) and 50 VIP agents are READY and idle — the trainees have been
//! available longest, so every VIP decision walks past them. 10,000 tasks wait.
//!
//! Measured (criterion, then a per-call timing loop for percentiles):
//! - `enqueue_routed`: a VIP task arrives and is reserved to a VIP agent;
//! - `enqueue_queued`: a skill task arrives while everyone is full;
//! - `agent_ready`: a skilled agent with one free slot goes READY and takes the
//!   best task across its three queues;
//! - `task_closed`: a full agent ends a task and takes the next one;
//! - `mixed`: sustained enqueue / close / accept / tick / state-change stream, one
//!   arrival per simulated millisecond (so step timers fire as they would live).
//!
//! The decisions are measured at a fixed simulated time (no timer fires inside
//! them); each is prepared and cleaned up outside the timed call so the world
//! stays at 10,000 waiting tasks.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use switchboard::routing::{
    AgentProfile, AttrValue, Direction, Disposition, Effect, Input, MrdConfig, NewTask,
    QueueConfig, RequestedAgentState, RoutingConfig, RoutingCore, SelectionPolicy, StepConfig,
    TaskMode,
};

const QUEUES: usize = 20;
const VIP_QUEUE: usize = QUEUES - 1;
const SKILLED: usize = 750;
const TRAINEES: usize = 200;
const VIPS: usize = 50;
const CAPACITY: u32 = 4;
const QUEUED: usize = 10_000;
const T0: i64 = 1_700_000_000_000;

struct World {
    core: RoutingCore,
    now: i64,
    rng: StdRng,
    next_task: u64,
    /// Active tasks: (task, agent).
    active: Vec<(String, String)>,
    /// Skilled agents with a proficiency of 7 or more somewhere: they always find
    /// work, because new arrivals only open the `>= 3` step after 30 s.
    experts: Vec<usize>,
}

fn queue_id(q: usize) -> String {
    format!("q{q}")
}

fn skilled_id(i: usize) -> String {
    format!("skilled-{i}")
}

impl World {
    fn build() -> Self {
        let mut world = Self {
            core: RoutingCore::new(RoutingConfig::default()),
            now: T0,
            rng: StdRng::seed_from_u64(7),
            next_task: 0,
            active: Vec::new(),
            experts: Vec::new(),
        };
        world.apply(Input::UpsertMrd(MrdConfig {
            id: "chat".into(),
            name: "Chat".into(),
            description: String::new(),
            max_tasks: CAPACITY,
            interruptible: true,
        }));
        for q in 0..QUEUES {
            let step = |expression: String, timeout_ms| StepConfig {
                expression,
                timeout_ms,
            };
            let steps = if q == VIP_QUEUE {
                vec![step("vip == true".into(), 0)]
            } else {
                vec![
                    step(format!("s{q} >= 7"), 30_000),
                    step(format!("s{q} >= 3"), 0),
                ]
            };
            world.apply(Input::UpsertQueue(QueueConfig {
                id: queue_id(q),
                name: queue_id(q),
                mrd_id: "chat".into(),
                // The VIP queue outranks the others; equal priorities elsewhere keep
                // every skill queue populated (with priorities the top queues drain).
                priority: if q == VIP_QUEUE { 10 } else { 5 },
                accept_timeout_ms: None,
                agent_sla_ms: None,
                service_level_threshold_ms: None,
                steps,
            }));
        }
        let profile = |id: String, attributes: Vec<(String, AttrValue)>| AgentProfile {
            id,
            username: String::new(),
            team: None,
            attributes: attributes.into_iter().collect(),
            mrd_max_tasks: Default::default(),
        };
        let mut ready_order = Vec::new();
        for i in 0..TRAINEES {
            let id = format!("trainee-{i}");
            world.apply(Input::UpsertAgent(profile(id.clone(), vec![])));
            ready_order.push(id);
        }
        for i in 0..VIPS {
            let id = format!("vip-{i}");
            world.apply(Input::UpsertAgent(profile(
                id.clone(),
                vec![("vip".into(), AttrValue::Bool(true))],
            )));
            ready_order.push(id);
        }
        let skill_queues: Vec<usize> = (0..VIP_QUEUE).collect();
        for i in 0..SKILLED {
            let skills: Vec<(String, AttrValue)> = skill_queues
                .choose_multiple(&mut world.rng, 3)
                .map(|&q| {
                    let level = world.rng.gen_range(3..=10);
                    (format!("s{q}"), AttrValue::Proficiency(level))
                })
                .collect();
            if skills
                .iter()
                .any(|(_, level)| matches!(level, AttrValue::Proficiency(7..)))
            {
                world.experts.push(i);
            }
            world.apply(Input::UpsertAgent(profile(skilled_id(i), skills)));
        }
        for id in ready_order {
            world.ready(&id);
        }
        // 13,000 arrivals; 30 s later every one has its second step open (skill >= 3),
        // then the skilled agents come in and fill up: 10,000 remain waiting.
        for _ in 0..SKILLED * CAPACITY as usize + QUEUED {
            world.now += 1;
            world.enqueue_skill_task();
        }
        world.now += 31_000;
        world.apply(Input::Tick);
        for i in 0..SKILLED {
            let effects = world.ready(&skilled_id(i));
            world.accept_offers(&effects);
        }
        assert_eq!(world.active.len(), SKILLED * CAPACITY as usize);
        assert_eq!(world.waiting(), QUEUED);
        world
    }

    fn apply(&mut self, input: Input) -> Vec<Effect> {
        let effects = self.core.handle(self.now, input);
        if let Some(Effect::Rejected { error, input }) = effects
            .iter()
            .find(|e| matches!(e, Effect::Rejected { .. }))
        {
            panic!("{input} refused: {error}");
        }
        effects
    }

    fn ready(&mut self, id: &str) -> Vec<Effect> {
        self.apply(Input::AgentConnected {
            agent_id: id.into(),
        });
        self.apply(Input::SetAgentState {
            agent_id: id.into(),
            state: RequestedAgentState::Ready,
            reason_code: None,
        })
    }

    fn waiting(&self) -> usize {
        (0..QUEUES)
            .filter_map(|q| self.core.queue_stats(&queue_id(q), self.now))
            .map(|s| s.waiting as usize)
            .sum()
    }

    fn new_task(&mut self, queue: usize) -> Input {
        self.next_task += 1;
        let id = format!("task-{}", self.next_task);
        Input::EnqueueTask(Box::new(NewTask {
            task_id: id.clone(),
            media_id: format!("media-{id}"),
            conversation_id: format!("conv-{id}"),
            queue_id: queue_id(queue),
            priority: self.rng.gen_range(1..=10),
            direction: Direction::Inbound,
            mode: TaskMode::Queue,
            offer_to_agent: true,
            agent_request_ttl_ms: Some(3_600_000),
            selection_policy: SelectionPolicy::LongestAvailable,
            preferred_last_agent: None,
            exclude_agents: Vec::new(),
            related_task: None,
            request_session: serde_json::json!({"participantType": "ChannelSession", "id": id}),
            metadata: serde_json::json!({}),
        }))
    }

    /// Replaces each task taken from a queue by a new arrival in the same queue, so
    /// the world keeps 10,000 waiting tasks spread as at the start.
    fn replace_taken(&mut self, effects: &[Effect]) {
        let taken: Vec<usize> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::OfferTask { task, .. } => task.media.queue.id[1..].parse().ok(),
                _ => None,
            })
            .collect();
        for queue in taken {
            let input = self.new_task(queue);
            let effects = self.apply(input);
            self.accept_offers(&effects);
        }
    }

    fn enqueue_skill_task(&mut self) -> Vec<Effect> {
        let queue = self.rng.gen_range(0..VIP_QUEUE);
        let input = self.new_task(queue);
        self.apply(input)
    }

    /// Accepts every offer in `effects`, recording the tasks as active.
    fn accept_offers(&mut self, effects: &[Effect]) {
        for effect in effects {
            if let Effect::OfferTask { agent_id, task } = effect {
                self.core.handle(
                    self.now,
                    Input::AcceptTask {
                        agent_id: agent_id.clone(),
                        task_id: task.id.clone(),
                    },
                );
                self.active.push((task.id.clone(), agent_id.clone()));
            }
        }
    }

    fn take_active_of(&mut self, agent: &str) -> Option<String> {
        let i = self.active.iter().position(|(_, a)| a == agent)?;
        Some(self.active.swap_remove(i).0)
    }

    fn close_input(task_id: String) -> Input {
        Input::CloseTask {
            task_id,
            disposition: Disposition::Done,
        }
    }
}

/// One measured decision: untimed preparation, the timed input, untimed cleanup.
trait Scenario {
    fn prepare(&mut self, world: &mut World) -> Input;
    fn cleanup(&mut self, world: &mut World, effects: Vec<Effect>);
}

/// A VIP task arrives; a VIP agent (behind 200 idle trainees) gets it.
struct EnqueueRouted;

impl Scenario for EnqueueRouted {
    fn prepare(&mut self, world: &mut World) -> Input {
        world.new_task(VIP_QUEUE)
    }

    fn cleanup(&mut self, world: &mut World, effects: Vec<Effect>) {
        let Some(Effect::OfferTask { task, .. }) = effects
            .iter()
            .find(|e| matches!(e, Effect::OfferTask { .. }))
        else {
            panic!("the VIP task was not routed: {effects:?}");
        };
        world.apply(World::close_input(task.id.clone()));
    }
}

/// A skill task arrives while every skilled agent is full.
struct EnqueueQueued;

impl Scenario for EnqueueQueued {
    fn prepare(&mut self, world: &mut World) -> Input {
        let queue = world.rng.gen_range(0..VIP_QUEUE);
        world.new_task(queue)
    }

    fn cleanup(&mut self, world: &mut World, effects: Vec<Effect>) {
        let Some(Effect::TaskEnqueued { task, .. }) = effects.first() else {
            panic!("expected TaskEnqueued: {effects:?}");
        };
        world.apply(World::close_input(task.id.clone()));
    }
}

/// A skilled agent with three active tasks goes READY and takes the best waiting task.
struct AgentReady;

impl Scenario for AgentReady {
    fn prepare(&mut self, world: &mut World) -> Input {
        let expert = world.experts[world.rng.gen_range(0..world.experts.len())];
        let agent = skilled_id(expert);
        world.apply(Input::SetAgentState {
            agent_id: agent.clone(),
            state: RequestedAgentState::NotReady,
            reason_code: None,
        });
        if let Some(task) = world.take_active_of(&agent) {
            world.apply(World::close_input(task));
        }
        Input::SetAgentState {
            agent_id: agent,
            state: RequestedAgentState::Ready,
            reason_code: None,
        }
    }

    fn cleanup(&mut self, world: &mut World, effects: Vec<Effect>) {
        assert!(
            effects
                .iter()
                .any(|e| matches!(e, Effect::OfferTask { .. })),
            "the agent took nothing: {effects:?}"
        );
        world.accept_offers(&effects);
        world.replace_taken(&effects);
    }
}

/// A full agent ends a task and at once takes the next one.
struct TaskClosed;

impl Scenario for TaskClosed {
    fn prepare(&mut self, world: &mut World) -> Input {
        let i = world.rng.gen_range(0..world.active.len());
        let (task, _) = world.active.swap_remove(i);
        World::close_input(task)
    }

    fn cleanup(&mut self, world: &mut World, effects: Vec<Effect>) {
        world.accept_offers(&effects);
        world.replace_taken(&effects);
    }
}

fn measure(world: &mut World, scenario: &mut dyn Scenario, iterations: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iterations {
        let input = scenario.prepare(world);
        let start = Instant::now();
        let effects = world.core.handle(world.now, input);
        total += start.elapsed();
        scenario.cleanup(world, black_box(effects));
    }
    total
}

/// Runs the mixed stream for `inputs` inputs; returns the time spent in `handle`.
fn mixed(world: &mut World, inputs: u64) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    let mut pending: Vec<Input> = Vec::new();
    while done < inputs {
        if pending.is_empty() {
            // One arrival per simulated millisecond: step timers and TTLs keep firing.
            world.now += 1;
            let queue = world.rng.gen_range(0..VIP_QUEUE);
            pending.push(world.new_task(queue));
            let i = world.rng.gen_range(0..world.active.len());
            let (task, _) = world.active.swap_remove(i);
            pending.push(World::close_input(task));
            pending.push(Input::Tick);
            if world.rng.gen_ratio(1, 10) {
                let agent = skilled_id(world.rng.gen_range(0..SKILLED));
                for state in [RequestedAgentState::NotReady, RequestedAgentState::Ready] {
                    pending.push(Input::SetAgentState {
                        agent_id: agent.clone(),
                        state,
                        reason_code: None,
                    });
                }
            }
            pending.reverse();
        }
        let Some(input) = pending.pop() else { break };
        let start = Instant::now();
        let effects = world.core.handle(world.now, input);
        total += start.elapsed();
        done += 1;
        for effect in &effects {
            if let Effect::OfferTask { agent_id, task } = effect {
                // Accepts are inputs too: queue them next.
                pending.push(Input::AcceptTask {
                    agent_id: agent_id.clone(),
                    task_id: task.id.clone(),
                });
                world.active.push((task.id.clone(), agent_id.clone()));
            }
        }
        black_box(effects);
    }
    total
}

fn criterion_benches(c: &mut Criterion) {
    let mut world = World::build();
    let mut group = c.benchmark_group("routing_decision");
    group.bench_function("enqueue_routed", |b| {
        b.iter_custom(|n| measure(&mut world, &mut EnqueueRouted, n))
    });
    group.bench_function("enqueue_queued", |b| {
        b.iter_custom(|n| measure(&mut world, &mut EnqueueQueued, n))
    });
    group.bench_function("agent_ready", |b| {
        b.iter_custom(|n| measure(&mut world, &mut AgentReady, n))
    });
    group.bench_function("task_closed", |b| {
        b.iter_custom(|n| measure(&mut world, &mut TaskClosed, n))
    });
    group.finish();

    const BATCH: u64 = 1_000;
    let mut group = c.benchmark_group("routing_throughput");
    group.throughput(Throughput::Elements(BATCH));
    group.bench_function("mixed_1000_inputs", |b| {
        b.iter_custom(|n| (0..n).map(|_| mixed(&mut world, BATCH)).sum())
    });
    group.finish();
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Times each call separately and prints median, p99, p99.9 and max.
fn percentiles() {
    const SAMPLES: usize = 20_000;
    let mut world = World::build();
    println!();
    println!(
        "per-decision latency, {SAMPLES} samples each (1,000 agents, 20 queues, 10,000 queued):"
    );
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10}",
        "scenario", "median", "p99", "p99.9", "max"
    );
    let scenarios: [(&str, &mut dyn Scenario); 4] = [
        ("enqueue_routed", &mut EnqueueRouted),
        ("enqueue_queued", &mut EnqueueQueued),
        ("agent_ready", &mut AgentReady),
        ("task_closed", &mut TaskClosed),
    ];
    for (name, scenario) in scenarios {
        let mut samples: Vec<Duration> = (0..SAMPLES)
            .map(|_| measure(&mut world, scenario, 1))
            .collect();
        samples.sort();
        println!(
            "{:<16} {:>10.2?} {:>10.2?} {:>10.2?} {:>10.2?}",
            name,
            percentile(&samples, 0.5),
            percentile(&samples, 0.99),
            percentile(&samples, 0.999),
            samples[samples.len() - 1]
        );
    }
    let inputs = 500_000;
    let before = world.now;
    let wall = Instant::now();
    let in_handle = mixed(&mut world, inputs);
    let wall = wall.elapsed();
    println!(
        "mixed stream: {inputs} inputs over {} s of simulated time: {:.0} inputs/s in handle(), {:.0} inputs/s wall (including the load generator); {} waiting at the end",
        (world.now - before) / 1000,
        inputs as f64 / in_handle.as_secs_f64(),
        inputs as f64 / wall.as_secs_f64(),
        world.waiting()
    );
}

/// What the input journal's daily snapshot of this world costs the routing driver:
/// the core's state serialized (the driver's pause), its size, and reading it back.
fn snapshot_cost() {
    const RUNS: usize = 5;
    let world = World::build();
    let mut taken = Vec::new();
    let mut read = Vec::new();
    let mut bytes = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let state = world.core.state_snapshot().expect("the state serializes");
        taken.push(started.elapsed());
        bytes = serde_json::to_vec(&state).map_or(0, |v| v.len());
        let started = Instant::now();
        black_box(RoutingCore::from_state_snapshot(state).expect("the state reads back"));
        read.push(started.elapsed());
    }
    taken.sort();
    read.sort();
    println!(
        "state snapshot (1,000 agents, 20 queues, 10,000 queued, 3,000 active): taken in {:.2?}, {} KiB of JSON, read back in {:.2?} (medians of {RUNS})",
        taken[RUNS / 2],
        bytes / 1024,
        read[RUNS / 2]
    );
}

fn main() {
    // `ROUTING_BENCH=snapshot` measures the snapshot alone.
    if std::env::var("ROUTING_BENCH").as_deref() != Ok("snapshot") {
        let mut criterion = Criterion::default().configure_from_args();
        criterion_benches(&mut criterion);
        criterion.final_summary();
        percentiles();
    }
    snapshot_cost();
}
