//! RONA, agent request TTL and the deadlines the driver sleeps on.

use super::*;
use crate::{AgentStateName, Disposition, Effect, Input, REROUTE_PRIORITY};

#[test]
fn rona_revokes_sets_not_ready_and_requeues_at_priority_11_keeping_enqueue_time() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    let enqueued_at = sim.now;
    assert_eq!(sim.core.next_deadline(), Some(enqueued_at + 30_000));
    sim.advance(10_000);
    sim.ready("a2");
    assert!(revokes(&sim.advance(19_999)).is_empty());
    let effects = sim.advance(1);
    assert_eq!(
        revokes(&effects),
        vec![("a1".to_string(), "t1".to_string(), RevokeReason::Rona)]
    );
    assert_eq!(offers(&effects), vec![pair("a2", "t1")]);
    let a1 = sim.core.agent("a1").unwrap();
    assert_eq!(a1.state, AgentStateName::NotReady);
    assert_eq!(a1.reason_code.as_deref(), Some("RONA"));
    let t1 = sim.core.task("t1").unwrap();
    assert_eq!(t1.media.priority, REROUTE_PRIORITY);
    assert_eq!(t1.media.enqueue_time, enqueued_at);
    assert_eq!(t1.routing.requested_priority, 5);
    // The re-queue was announced before the new offer.
    let requeued = effects
        .iter()
        .position(|e| matches!(e, Effect::TaskEnqueued { .. }));
    let offered = effects
        .iter()
        .position(|e| matches!(e, Effect::OfferTask { .. }));
    assert!(requeued < offered);
}

#[test]
fn rona_task_goes_ahead_of_tasks_that_arrived_later() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    let mut p = profile("a1", &[]);
    p.mrd_max_tasks.insert("chat".into(), 1);
    sim.send(Input::UpsertAgent(p));
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(NewTask {
        priority: 1,
        ..task("t1", "sales")
    });
    sim.now += 1;
    sim.enqueue(NewTask {
        priority: 10,
        ..task("t2", "sales")
    });
    sim.advance(30_000);
    assert_eq!(sim.media_state("t2"), Some(MediaState::Queued));
    let effects = sim.ready("a2");
    assert_eq!(offers(&effects), vec![pair("a2", "t1"), pair("a2", "t2")]);
}

#[test]
fn queue_accept_timeout_overrides_the_default() {
    let mut sim = Sim::new();
    sim.send(Input::UpsertQueue(QueueConfig {
        accept_timeout_ms: Some(5_000),
        ..queue("fast", "chat")
    }));
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "fast"));
    assert_eq!(
        sim.core.task("t1").unwrap().routing.accept_deadline,
        Some(sim.now + 5_000)
    );
    assert_eq!(revokes(&sim.advance(5_000)).len(), 1);
}

#[test]
fn accepted_task_stops_rona_and_ttl() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.advance(1_000);
    let effects = sim.accept("a1", "t1");
    let t1 = sim.core.task("t1").unwrap();
    assert_eq!(t1.media.state, MediaState::Active);
    assert_eq!(t1.media.answer_time, sim.now);
    assert_eq!(t1.agent_request_ttl_timer_id, None);
    assert!(
        matches!(&effects[0], Effect::TaskStateChanged { task } if task.media.state == MediaState::Active)
    );
    assert_eq!(sim.core.next_deadline(), None);
    assert!(sim.advance(1_000_000).is_empty());
}

#[test]
fn ttl_closes_an_unanswered_task_no_agent_available() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.enqueue(NewTask {
        agent_request_ttl_ms: Some(60_000),
        ..task("t1", "sales")
    });
    assert!(sim
        .core
        .task("t1")
        .unwrap()
        .agent_request_ttl_timer_id
        .is_some());
    assert_eq!(sim.core.next_deadline(), Some(sim.now + 60_000));
    assert!(sim.advance(59_999).is_empty());
    let effects = sim.advance(1);
    assert!(matches!(&effects[0], Effect::TaskStateChanged { task }
        if task.is_closed() && task.state.reason_code == Some(Disposition::NoAgentAvailable)
            && task.media.state == MediaState::Closed));
    assert!(matches!(&effects[1], Effect::NoAgentAvailable { task } if task.id == "t1"));
    assert!(sim.core.task("t1").is_none());
    assert_eq!(sim.core.next_deadline(), None);
}

#[test]
fn ttl_during_a_reservation_revokes_it_without_penalising_the_agent() {
    let mut sim = Sim::new();
    sim.send(Input::UpsertQueue(QueueConfig {
        accept_timeout_ms: Some(50_000),
        ..queue("slow", "chat")
    }));
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(NewTask {
        agent_request_ttl_ms: Some(20_000),
        ..task("t1", "slow")
    });
    let effects = sim.advance(20_000);
    assert_eq!(
        revokes(&effects),
        vec![(
            "a1".to_string(),
            "t1".to_string(),
            RevokeReason::NoAgentAvailable
        )]
    );
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::NoAgentAvailable { .. })));
    assert_eq!(sim.core.agent("a1").unwrap().state, AgentStateName::Ready);
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Ready);
}

#[test]
fn named_agent_that_never_comes_ends_no_agent_available() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a2");
    sim.enqueue(named("t1", "sales", "a1"));
    let effects = sim.advance(120_000);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::NoAgentAvailable { task } if task.id == "t1")));
}

#[test]
fn named_agent_rona_ends_the_task_rona() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(named("t1", "sales", "a1"));
    let effects = sim.advance(30_000);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::TaskStateChanged { task }
        if task.is_closed() && task.state.reason_code == Some(Disposition::Rona))));
    assert!(sim.core.task("t1").is_none());
}

#[test]
fn timers_fire_at_their_own_deadline_when_ticked_late() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.ready("a2");
    sim.enqueue(task("t1", "sales"));
    let reserved_at = sim.now;
    // One late tick: RONA at +30 s re-offers to a2, whose offer expires at +60 s.
    let effects = sim.advance(65_000);
    assert_eq!(revokes(&effects).len(), 2);
    let a1 = sim.core.agent("a1").unwrap();
    assert_eq!(a1.state_change_time, reserved_at + 30_000);
    let a2 = sim.core.agent("a2").unwrap();
    assert_eq!(a2.state_change_time, reserved_at + 60_000);
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
}
