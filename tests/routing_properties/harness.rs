//! How the harness drives the engine: a configured core, every input handled and
//! journaled, restarts from the engine's own state, the journal replayed at the end.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use switchboard::routing::expr::Expr;
use switchboard::routing::{digest, AgentView, Effect, Input, MediaState, RoutingCore, Task};

use super::fixture::{mrds, profiles, queues, routing_config};
use super::ops::Op;
use super::{Harness, Journaled, T0};

impl Harness {
    pub(crate) fn new() -> Self {
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
    pub(crate) fn replay_journal(&self) -> Result<(), TestCaseError> {
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

    pub(crate) fn step(&mut self, op: &Op) -> Result<(), TestCaseError> {
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
