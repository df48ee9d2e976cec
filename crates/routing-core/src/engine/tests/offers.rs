//! Offer at once, best task across queues, FIFO within a priority, capacity,
//! exclusions, named and last agent, decline.

use super::*;
use crate::{Disposition, Effect, Input, RoutingConfig, TaskMode};

#[test]
fn task_is_offered_at_once_on_enqueue() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    let effects = sim.enqueue(task("t1", "sales"));
    assert!(matches!(&effects[0], Effect::TaskEnqueued { task, queue }
        if task.id == "t1" && queue.id == "sales" && task.media.state == MediaState::Queued));
    assert!(matches!(&effects[1], Effect::TaskStateChanged { task }
        if task.media.state == MediaState::Reserved && task.assigned_to.as_deref() == Some("a1")));
    assert_eq!(offers(&effects), vec![pair("a1", "t1")]);
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Active);
}

#[test]
fn waiting_task_is_offered_when_an_agent_becomes_ready() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    assert!(offers(&sim.enqueue(task("t1", "sales"))).is_empty());
    sim.send(Input::AgentConnected {
        agent_id: "a1".into(),
    });
    let effects = sim.set_state("a1", RequestedAgentState::Ready, None);
    assert_eq!(offers(&effects), vec![pair("a1", "t1")]);
}

#[test]
fn agent_takes_best_task_across_queues_by_queue_priority_then_task_priority() {
    let run = |queue_priority_enabled: bool| {
        let mut sim = Sim::with_config(RoutingConfig {
            queue_priority_enabled,
            ..RoutingConfig::default()
        });
        sim.send(Input::UpsertQueue(QueueConfig {
            priority: 1,
            ..queue("low", "chat")
        }));
        sim.send(Input::UpsertQueue(QueueConfig {
            priority: 9,
            ..queue("high", "chat")
        }));
        sim.agent("a1", &[]);
        sim.enqueue(task("t1", "low"));
        sim.now += 1;
        sim.enqueue(NewTask {
            priority: 1,
            ..task("t2", "high")
        });
        sim.now += 1;
        sim.enqueue(NewTask {
            priority: 8,
            ..task("t3", "low")
        });
        offers(&sim.ready("a1"))
    };
    assert_eq!(run(true), vec![pair("a1", "t2"), pair("a1", "t3")]);
    assert_eq!(run(false), vec![pair("a1", "t3"), pair("a1", "t1")]);
}

#[test]
fn equal_priority_tasks_are_served_first_in_first_out() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    for id in ["t1", "t2", "t3"] {
        sim.enqueue(task(id, "sales"));
        sim.now += 10;
    }
    assert_eq!(
        offers(&sim.ready("a1")),
        vec![pair("a1", "t1"), pair("a1", "t2")]
    );
    // Capacity 2 reached: t3 waits until a task ends.
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Busy);
    assert_eq!(sim.media_state("t3"), Some(MediaState::Queued));
    let effects = sim.close("t1");
    assert_eq!(offers(&effects), vec![pair("a1", "t3")]);
}

#[test]
fn wrap_up_frees_capacity_and_ends_done() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    let mut p = profile("a1", &[]);
    p.mrd_max_tasks.insert("chat".into(), 1);
    sim.send(Input::UpsertAgent(p));
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.enqueue(task("t2", "sales"));
    sim.accept("a1", "t1");
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Busy);
    let effects = sim.send(Input::StartWrapUp {
        task_id: "t1".into(),
    });
    let t1 = sim.core.task("t1").unwrap();
    assert_eq!(t1.state.name, crate::TaskStateName::WrapUp);
    assert_eq!(t1.media.state, MediaState::Closed);
    assert_eq!(offers(&effects), vec![pair("a1", "t2")]);
    assert_eq!(sim.core.tasks_of_agent("a1").len(), 2);
    let effects = sim.send(Input::EndWrapUp {
        task_id: "t1".into(),
    });
    assert!(matches!(&effects[0], Effect::TaskStateChanged { task }
        if task.state.reason_code == Some(Disposition::Done) && task.is_closed()));
    assert!(sim.core.task("t1").is_none());
}

#[test]
fn zero_capacity_mrd_is_never_routed() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    let mut p = profile("a1", &[]);
    p.mrd_max_tasks.insert("chat".into(), 0);
    sim.send(Input::UpsertAgent(p));
    sim.ready("a1");
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::NotReady);
    assert!(offers(&sim.enqueue(task("t1", "sales"))).is_empty());
}

#[test]
fn agents_already_in_the_conversation_or_excluded_are_skipped() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.agent("a3", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.ready("a2");
    sim.ready("a3");
    // Same conversation as t1: a1 has room but is already in it; a2 is excluded.
    let conference = NewTask {
        conversation_id: "conv-t1".into(),
        direction: Direction::DirectConference,
        related_task: Some("t1".into()),
        exclude_agents: vec!["a2".into()],
        ..task("t2", "sales")
    };
    assert_eq!(offers(&sim.enqueue(conference)), vec![pair("a3", "t2")]);
}

#[test]
fn named_agent_task_waits_for_that_agent_only() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    let effects = sim.enqueue(named("t1", "sales", "a2"));
    assert!(offers(&effects).is_empty());
    assert_eq!(
        sim.core.task("t1").unwrap().media.mode,
        crate::RoutingMode::Agent
    );
    assert_eq!(offers(&sim.ready("a2")), vec![pair("a2", "t1")]);
}

#[test]
fn named_agent_unknown_is_refused() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    let effects = sim.try_send(Input::EnqueueTask(Box::new(named("t1", "sales", "ghost"))));
    assert!(matches!(
        rejected(&effects),
        Some(crate::RoutingError::UnknownAgent(_))
    ));
    assert!(sim.core.task("t1").is_none());
}

#[test]
fn last_agent_gets_the_task_when_ready_within_the_window() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    let effects = sim.enqueue(NewTask {
        preferred_last_agent: Some("a2".into()),
        ..task("t1", "sales")
    });
    assert!(
        offers(&effects).is_empty(),
        "a1 must not get it inside the window"
    );
    sim.advance(5_000);
    assert_eq!(offers(&sim.ready("a2")), vec![pair("a2", "t1")]);
}

#[test]
fn last_agent_routable_now_gets_the_task_at_once() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.ready("a2");
    let effects = sim.enqueue(NewTask {
        preferred_last_agent: Some("a2".into()),
        ..task("t1", "sales")
    });
    assert_eq!(offers(&effects), vec![pair("a2", "t1")]);
}

#[test]
fn an_excluded_last_agent_is_not_waited_for_and_another_agent_gets_it_at_once() {
    // a1 left conv-t1 with the customer still there and wraps up; the re-route names
    // it as last agent but excludes it: a2, ready, gets the task now, never a1.
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.send(Input::StartWrapUp {
        task_id: "t1".into(),
    });
    sim.ready("a2");
    let effects = sim.enqueue(NewTask {
        conversation_id: "conv-t1".into(),
        preferred_last_agent: Some("a1".into()),
        exclude_agents: vec!["a1".into()],
        ..task("t2", "sales")
    });
    assert_eq!(offers(&effects), vec![pair("a2", "t2")]);
    // Declined by a2, it waits in the queue; a1's wrap-up ending does not bring it back.
    sim.send(Input::DeclineTask {
        agent_id: "a2".into(),
        task_id: "t2".into(),
    });
    let ended = sim.send(Input::EndWrapUp {
        task_id: "t1".into(),
    });
    assert!(offers(&ended).is_empty(), "{ended:?}");
    assert!(offers(&sim.advance(sim.core.config().last_agent_wait_ms + 1)).is_empty());
}

#[test]
fn last_agent_window_over_goes_to_the_queue() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(NewTask {
        preferred_last_agent: Some("a2".into()),
        ..task("t1", "sales")
    });
    let window = sim.core.config().last_agent_wait_ms;
    assert!(offers(&sim.advance(window - 1)).is_empty());
    assert_eq!(offers(&sim.advance(1)), vec![pair("a1", "t1")]);
}

#[test]
fn declined_task_goes_to_another_agent_and_not_back() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    assert_eq!(sim.holder("t1").as_deref(), Some("a1"));
    let effects = sim.send(Input::DeclineTask {
        agent_id: "a1".into(),
        task_id: "t1".into(),
    });
    assert!(offers(&effects).is_empty());
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    assert_eq!(
        sim.core.agent("a1").unwrap().state,
        crate::AgentStateName::Ready
    );
    assert_eq!(offers(&sim.ready("a2")), vec![pair("a2", "t1")]);
}

#[test]
fn declined_named_task_is_cancelled() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(named("t1", "sales", "a1"));
    let effects = sim.send(Input::DeclineTask {
        agent_id: "a1".into(),
        task_id: "t1".into(),
    });
    assert!(matches!(&effects[0], Effect::TaskStateChanged { task }
        if task.state.reason_code == Some(Disposition::Cancelled)));
    assert!(sim.core.task("t1").is_none());
}

#[test]
fn offer_to_agent_false_assigns_without_offer() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    let effects = sim.enqueue(NewTask {
        offer_to_agent: false,
        mode: TaskMode::Agent {
            agent_id: "a1".into(),
        },
        ..task("t1", "sales")
    });
    assert!(offers(&effects).is_empty());
    assert!(effects.iter().any(|e| matches!(e, Effect::TaskAssigned { agent_id, task }
        if agent_id == "a1" && task.media.state == MediaState::Active && task.media.answer_time == sim.now)));
    assert_eq!(
        sim.core.next_deadline(),
        None,
        "no RONA and no TTL once assigned"
    );
}

#[test]
fn refused_inputs_change_nothing() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    let before = sim.core.task("t1").cloned();
    let effects = sim.try_send(Input::AcceptTask {
        agent_id: "a2".into(),
        task_id: "t1".into(),
    });
    assert_eq!(effects.len(), 1);
    assert!(matches!(
        rejected(&effects),
        Some(crate::RoutingError::NotReservedTo { .. })
    ));
    assert_eq!(sim.core.task("t1").cloned(), before);
    for bad in [
        Input::EnqueueTask(Box::new(task("t1", "sales"))),
        Input::EnqueueTask(Box::new(task("t9", "nope"))),
        Input::EnqueueTask(Box::new(NewTask {
            priority: 0,
            ..task("t9", "sales")
        })),
        Input::EnqueueTask(Box::new(NewTask {
            priority: 11,
            ..task("t9", "sales")
        })),
        Input::CloseTask {
            task_id: "nope".into(),
            disposition: Disposition::Done,
        },
        Input::EndWrapUp {
            task_id: "t1".into(),
        },
    ] {
        let effects = sim.try_send(bad);
        assert_eq!(effects.len(), 1, "{effects:?}");
        assert!(rejected(&effects).is_some());
    }
    assert!(sim.core.task("t9").is_none());
    assert_eq!(sim.core.task("t1").cloned(), before);
}

#[test]
fn tasks_made_routable_by_one_input_are_offered_in_queue_order() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    let mut p = profile("a2", &[]);
    p.mrd_max_tasks.insert("chat".into(), 1);
    sim.send(Input::UpsertAgent(p));
    sim.agent("a3", &[]);
    sim.ready("a1");
    // t1 waits for its last agent while t2 (later) goes to a1; then t1 does too,
    // so a1 holds them in the order t2, t1.
    sim.enqueue(NewTask {
        preferred_last_agent: Some("a3".into()),
        ..task("t1", "sales")
    });
    sim.now += 1;
    sim.enqueue(task("t2", "sales"));
    sim.advance(sim.core.config().last_agent_wait_ms);
    assert_eq!(sim.core.agent("a1").unwrap().task_ids, vec!["t2", "t1"]);
    sim.ready("a2");
    // Both offers are taken back; a2 has room for one: the one ahead in the queue.
    let effects = sim.set_state("a1", RequestedAgentState::NotReady, None);
    assert_eq!(offers(&effects), vec![pair("a2", "t1")]);
}
