//! Rebuilding the engine after a restart from stored tasks and agent states.

use super::*;
use crate::{AgentStateName, Disposition, Effect, Input, Task, REROUTE_PRIORITY};

/// Stored state of a running engine: a1 READY holding t1 (active) and t2
/// (reserved); t3 queued at step 2 of `tech`; a2 NOT_READY.
fn before_crash() -> (Sim, Vec<Task>, Vec<crate::AgentView>) {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.queue(
        "tech",
        "chat",
        &[("skill >= 9", 10_000), ("skill >= 5", 10_000), ("", 0)],
    );
    sim.agent("a1", &[]);
    sim.agent("a2", &[("skill", skill(6))]);
    sim.ready("a1");
    sim.send(Input::AgentConnected {
        agent_id: "a2".into(),
    });
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.enqueue(task("t2", "sales"));
    sim.enqueue(task("t3", "tech"));
    sim.advance(10_000);
    let tasks = ["t1", "t2", "t3"]
        .iter()
        .map(|id| sim.core.task(id).unwrap().clone())
        .collect();
    let agents = ["a1", "a2"]
        .iter()
        .map(|id| sim.core.agent(id).unwrap())
        .collect();
    (sim, tasks, agents)
}

fn restarted(at: Millis, tasks: &[Task], agents: &[crate::AgentView]) -> (Sim, Vec<Effect>) {
    let mut sim = Sim::new();
    sim.now = at;
    sim.queue("sales", "chat", &[]);
    sim.queue(
        "tech",
        "chat",
        &[("skill >= 9", 10_000), ("skill >= 5", 10_000), ("", 0)],
    );
    sim.agent("a1", &[]);
    sim.agent("a2", &[("skill", skill(6))]);
    let mut effects = Vec::new();
    for view in agents {
        effects.extend(sim.send(Input::RestoreAgentState(Box::new(view.clone()))));
    }
    for task in tasks {
        effects.extend(sim.send(Input::RestoreTask(Box::new(task.clone()))));
    }
    (sim, effects)
}

#[test]
fn restart_brings_back_queued_reserved_and_active_tasks() {
    let (old, tasks, agents) = before_crash();
    let (mut sim, effects) = restarted(old.now + 2_000, &tasks, &agents);
    assert_eq!(sim.core.task_count(), 3);
    let a1 = sim.core.agent("a1").unwrap();
    assert_eq!(a1.state, AgentStateName::Unknown);
    assert_eq!(
        a1.resume.as_ref().map(|r| r.state),
        Some(AgentStateName::Ready)
    );
    assert!(!a1.connected);
    // The active task stays with its agent; the reservation of a desk that is not
    // connected went back to the queue with its enqueue time.
    assert_eq!(a1.task_ids, vec!["t1"]);
    let t2 = sim.core.task("t2").unwrap();
    assert_eq!(t2.media.state, MediaState::Queued);
    assert_eq!(t2.media.priority, REROUTE_PRIORITY);
    assert_eq!(t2.media.enqueue_time, tasks[1].media.enqueue_time);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::TaskEnqueued { task, .. } if task.id == "t2")));
    // t3 kept its step and the step timer schedule: step 3 opens 20 s after enqueue.
    let t3 = sim.core.task("t3").unwrap();
    assert_eq!(t3.routing.step, 1);
    assert_eq!(t3.media.enqueue_time, tasks[2].media.enqueue_time);
    // a2 (skill 6) matches step 2 but is UNKNOWN until it reconnects.
    let effects = sim.send(Input::AgentConnected {
        agent_id: "a2".into(),
    });
    assert!(
        offers(&effects).is_empty(),
        "a2 was NOT_READY before the restart"
    );
    assert_eq!(
        sim.core.agent("a2").unwrap().state,
        AgentStateName::NotReady
    );
    // a1 comes back READY and gets the re-queued reservation (capacity 2, t1 active).
    let effects = sim.send(Input::AgentConnected {
        agent_id: "a1".into(),
    });
    assert_eq!(sim.core.agent("a1").unwrap().state, AgentStateName::Ready);
    assert_eq!(offers(&effects), vec![pair("a1", "t2")]);
    // The next step of t3 opens on its original schedule.
    let step_three_at = tasks[2].media.enqueue_time + 20_000;
    sim.now = step_three_at - 1;
    sim.send(Input::Tick);
    assert_eq!(sim.core.task("t3").unwrap().routing.step, 1);
    sim.now = step_three_at;
    sim.send(Input::Tick);
    assert_eq!(sim.core.task("t3").unwrap().routing.step, 2);
}

#[test]
fn agents_that_do_not_come_back_are_logged_out_and_their_tasks_rerouted() {
    let (old, tasks, agents) = before_crash();
    let (mut sim, _) = restarted(old.now, &tasks, &agents);
    let grace = sim.core.config().unknown_state_grace_ms;
    let effects = sim.advance(grace);
    assert_eq!(sim.core.agent("a1").unwrap().state, AgentStateName::Logout);
    assert_eq!(sim.core.agent("a2").unwrap().state, AgentStateName::Logout);
    assert!(effects.iter().any(|e| matches!(e,
        Effect::TaskRerouted { task, from_agent } if task.id == "t1" && from_agent == "a1")));
    let t1 = sim.core.task("t1").unwrap();
    assert_eq!(t1.state.reason_code, Some(Disposition::AgentLogout));
    assert_eq!(t1.media.state, MediaState::Queued);
    assert_eq!(t1.media.priority, REROUTE_PRIORITY);
    assert_eq!(t1.routing.ttl_deadline, Some(sim.now + 120_000));
}

#[test]
fn tasks_of_a_deleted_queue_are_closed_on_restore() {
    let (old, tasks, _) = before_crash();
    let mut sim = Sim::new();
    sim.now = old.now;
    sim.queue("sales", "chat", &[]);
    let effects = sim.send(Input::RestoreTask(Box::new(tasks[2].clone())));
    assert!(matches!(&effects[0], Effect::TaskStateChanged { task }
        if task.id == "t3" && task.state.reason_code == Some(Disposition::ForceClosed)));
    assert!(sim.core.task("t3").is_none());
    let effects = sim.try_send(Input::RestoreTask(Box::new(tasks[0].clone())));
    assert!(rejected(&effects).is_none());
    let effects = sim.try_send(Input::RestoreTask(Box::new(tasks[0].clone())));
    assert!(matches!(
        rejected(&effects),
        Some(crate::RoutingError::DuplicateTask(_))
    ));
}

#[test]
fn queued_task_past_its_ttl_at_restore_ends_at_once() {
    let (old, tasks, agents) = before_crash();
    let (_, effects) = restarted(old.now + 200_000, &tasks, &agents);
    let expired: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::NoAgentAvailable { task } => Some(task.id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(expired, vec!["t2", "t3"]);
}

/// A task as its stored row has it: the last effect that carried it (the store writes
/// a task's row from the effects only).
fn stored_row(effects: &[Effect], id: &str) -> Option<Task> {
    effects
        .iter()
        .flat_map(Effect::tasks)
        .filter(|task| task.id == id)
        .last()
        .map(|task| (**task).clone())
}

#[test]
fn a_task_restored_from_its_row_resumes_at_the_step_it_reached() {
    let steps = [("skill >= 9", 10_000), ("skill >= 5", 10_000), ("", 0)];
    let mut sim = Sim::new();
    sim.queue("tech", "chat", &steps);
    sim.agent("a2", &[("skill", skill(3))]);
    let mut effects = sim.enqueue(task("t3", "tech"));
    effects.extend(sim.advance(10_000));
    effects.extend(sim.advance(10_000));
    let row = stored_row(&effects, "t3").expect("a row");
    assert_eq!(row.routing.step, 2, "the row follows the steps");

    let mut after = Sim::new();
    after.now = sim.now + 1_000;
    after.queue("tech", "chat", &steps);
    after.agent("a2", &[("skill", skill(3))]);
    after.send(Input::RestoreTask(Box::new(row)));
    // The last step (anyone) is open at once, as it was before the restart.
    assert_eq!(offers(&after.ready("a2")), vec![pair("a2", "t3")]);
}

#[test]
fn restoring_a_call_beside_a_chat_announces_no_interruption_again() {
    let mut sim = Sim::new();
    sim.queue("chats", "chat", &[]);
    sim.queue("calls", "voice", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("c1", "chats"));
    sim.accept("a1", "c1");
    sim.enqueue(task("v1", "calls"));
    sim.accept("a1", "v1");
    let tasks: Vec<Task> = ["c1", "v1"]
        .iter()
        .map(|id| sim.core.task(id).unwrap().clone())
        .collect();
    let agent = sim.core.agent("a1").unwrap();

    let mut after = Sim::new();
    after.now = sim.now + 1_000;
    after.queue("chats", "chat", &[]);
    after.queue("calls", "voice", &[]);
    after.agent("a1", &[]);
    after.send(Input::RestoreAgentState(Box::new(agent)));
    // The chat first: the call's restore then notes the chat's MRD interrupted, as it
    // was before the restart, and says nothing of it.
    let mut effects = Vec::new();
    for task in tasks {
        effects.extend(after.send(Input::RestoreTask(Box::new(task))));
    }
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::MrdInterrupted { .. })),
        "{effects:#?}"
    );
    assert_eq!(after.mrd_state("a1", "chat"), MrdStateName::Interrupted);
}
