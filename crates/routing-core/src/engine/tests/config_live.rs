//! Live configuration changes re-evaluate waiting tasks and available agents.

use super::*;
use crate::{Disposition, Effect, Input, RoutingError};

#[test]
fn agent_gaining_a_skill_takes_the_waiting_task() {
    let mut sim = Sim::new();
    sim.queue("tech", "chat", &[("skill >= 5", 0)]);
    sim.agent("a1", &[("skill", skill(2))]);
    sim.ready("a1");
    sim.enqueue(task("t1", "tech"));
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    let effects = sim.send(Input::UpsertAgent(profile("a1", &[("skill", skill(6))])));
    assert_eq!(offers(&effects), vec![pair("a1", "t1")]);
}

#[test]
fn changed_steps_re_evaluate_waiting_tasks() {
    let mut sim = Sim::new();
    sim.queue("tech", "chat", &[("skill >= 5", 60_000), ("skill >= 1", 0)]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "tech"));
    sim.advance(60_000);
    assert_eq!(sim.core.task("t1").unwrap().routing.step, 1);
    let mut config = queue("tech", "chat");
    config.name = "Tech support".into();
    config.steps = vec![StepConfig {
        expression: "".into(),
        timeout_ms: 0,
    }];
    let effects = sim.send(Input::UpsertQueue(config));
    assert_eq!(offers(&effects), vec![pair("a1", "t1")]);
    let t1 = sim.core.task("t1").unwrap();
    assert_eq!(t1.routing.step, 0);
    assert_eq!(t1.media.queue.name, "Tech support");
}

#[test]
fn moving_a_queue_to_another_mrd_moves_its_waiting_tasks() {
    let mut sim = Sim::new();
    sim.queue("q", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.send(Input::SetAgentMrdState {
        agent_id: "a1".into(),
        mrd_id: "chat".into(),
        state: crate::RequestedMrdState::NotReady,
    });
    sim.enqueue(task("t1", "q"));
    let effects = sim.send(Input::UpsertQueue(queue("q", "voice")));
    assert_eq!(offers(&effects), vec![pair("a1", "t1")]);
    assert_eq!(sim.core.task("t1").unwrap().media.mrd_id, "voice");
    assert_eq!(sim.mrd_state("a1", "voice"), MrdStateName::Busy);
}

#[test]
fn raising_capacity_routes_waiting_tasks() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    for id in ["t1", "t2", "t3"] {
        sim.enqueue(task(id, "sales"));
    }
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Busy);
    let effects = sim.send(Input::UpsertMrd(mrd("chat", 3, true)));
    assert_eq!(offers(&effects), vec![pair("a1", "t3")]);
    // Lowering it leaves the tasks and makes the agent BUSY.
    sim.send(Input::UpsertMrd(mrd("chat", 1, true)));
    assert_eq!(sim.core.tasks_of_agent("a1").len(), 3);
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Busy);
    sim.close("t1");
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Busy);
}

#[test]
fn new_mrd_is_ready_for_ready_agents_with_auto_sync() {
    let mut sim = Sim::new();
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.send(Input::UpsertMrd(mrd("email", 10, true)));
    assert_eq!(sim.mrd_state("a1", "email"), MrdStateName::Ready);
}

#[test]
fn making_an_mrd_non_interruptible_interrupts_live() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.send(Input::UpsertMrd(mrd("chat", 2, false)));
    // voice is non-interruptible but chat is not interruptible either: nothing interrupted.
    assert_eq!(sim.mrd_state("a1", "voice"), MrdStateName::Ready);
    sim.send(Input::UpsertMrd(mrd("voice", 1, true)));
    assert_eq!(sim.mrd_state("a1", "voice"), MrdStateName::Interrupted);
}

#[test]
fn removing_a_queue_closes_its_waiting_tasks_but_not_running_ones() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    let mut p = profile("a1", &[]);
    p.mrd_max_tasks.insert("chat".into(), 1);
    sim.send(Input::UpsertAgent(p));
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.enqueue(task("t2", "sales"));
    let effects = sim.send(Input::RemoveQueue {
        queue_id: "sales".into(),
    });
    assert!(matches!(&effects[0], Effect::TaskStateChanged { task }
        if task.id == "t2" && task.state.reason_code == Some(Disposition::ForceClosed)));
    assert!(sim.core.task("t1").is_some());
    let effects = sim.try_send(Input::EnqueueTask(Box::new(task("t3", "sales"))));
    assert!(matches!(
        rejected(&effects),
        Some(RoutingError::UnknownQueue(_))
    ));
    sim.close("t1");
}

#[test]
fn invalid_configuration_is_refused_and_changes_nothing() {
    let mut sim = Sim::new();
    sim.queue("q", "chat", &[("skill >= 5", 0)]);
    let mut bad = queue("q", "chat");
    bad.steps = vec![StepConfig {
        expression: "skill >=".into(),
        timeout_ms: 0,
    }];
    let effects = sim.try_send(Input::UpsertQueue(bad));
    assert!(matches!(
        rejected(&effects),
        Some(RoutingError::BadExpression { step: 0, .. })
    ));
    assert_eq!(
        sim.core.queue_config("q").unwrap().steps[0].expression,
        "skill >= 5"
    );
    let eleven = QueueConfig {
        steps: vec![
            StepConfig {
                expression: String::new(),
                timeout_ms: 1
            };
            11
        ],
        ..queue("q2", "chat")
    };
    assert!(matches!(
        rejected(&sim.try_send(Input::UpsertQueue(eleven))),
        Some(RoutingError::TooManySteps(11))
    ));
    assert!(matches!(
        rejected(&sim.try_send(Input::UpsertQueue(queue("q3", "fax")))),
        Some(RoutingError::UnknownMrd(_))
    ));
    assert!(matches!(
        rejected(&sim.try_send(Input::UpsertAgent(profile("a", &[("skill", skill(11))])))),
        Some(RoutingError::InvalidProficiency { .. })
    ));
    assert!(matches!(
        rejected(&sim.try_send(Input::RemoveMrd {
            mrd_id: "chat".into()
        })),
        Some(RoutingError::MrdInUse { .. })
    ));
    sim.send(Input::RemoveMrd {
        mrd_id: "voice".into(),
    });
    assert!(sim.core.mrd("voice").is_none());
}

#[test]
fn removing_an_agent_reroutes_its_tasks_and_ends_tasks_named_for_it() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.send(Input::SetAgentState {
        agent_id: "a1".into(),
        state: RequestedAgentState::NotReady,
        reason_code: None,
    });
    sim.enqueue(named("t2", "sales", "a1"));
    sim.ready("a2");
    let effects = sim.send(Input::RemoveAgent {
        agent_id: "a1".into(),
    });
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::NoAgentAvailable { task } if task.id == "t2")));
    assert_eq!(sim.holder("t1").as_deref(), Some("a2"));
    assert!(sim.core.agent("a1").is_none());
    // The same id may come back as a new agent.
    sim.agent("a1", &[]);
    assert_eq!(
        sim.core.agent("a1").unwrap().state,
        crate::AgentStateName::Logout
    );
}
