//! Supervisor actions on waiting tasks: move to another queue, offer to a named agent.

use super::*;
use crate::{Disposition, Effect, Input, RoutingError};

fn move_to(task: &str, queue: &str) -> Input {
    Input::MoveTask {
        task_id: task.into(),
        queue_id: queue.into(),
    }
}

fn offer_to(task: &str, agent: &str) -> Input {
    Input::OfferTaskTo {
        task_id: task.into(),
        agent_id: agent.into(),
    }
}

#[test]
fn a_moved_task_waits_in_the_new_queue_from_now_and_is_offered_there() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[("billing >= 5", 60_000)]);
    sim.queue("support", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    // a1 does not match sales' step 1: the task waits.
    assert!(offers(&sim.enqueue(task("t1", "sales"))).is_empty());
    sim.now += 7_000;
    let effects = sim.send(move_to("t1", "support"));
    let Effect::TaskEnqueued { task, queue } = &effects[0] else {
        panic!("first effect is the enqueue in the new queue: {effects:?}");
    };
    assert_eq!(queue.id, "support");
    assert_eq!(task.media.queue.id, "support");
    assert_eq!(
        task.media.enqueue_time, sim.now,
        "its wait starts at the move"
    );
    assert_eq!(task.routing.step, 0);
    assert_eq!(offers(&effects), vec![pair("a1", "t1")]);
    let stats = sim.core.queue_stats("sales", sim.now).unwrap();
    assert_eq!(stats.waiting, 0, "nothing left waiting in sales");
}

#[test]
fn a_move_is_refused_and_changes_nothing_unless_the_task_waits_in_another_live_queue() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.queue("support", "chat", &[]);
    sim.enqueue(task("t1", "sales"));
    let cases = [
        (move_to("t1", "sales"), "same queue"),
        (move_to("t1", "nowhere"), "unknown queue"),
        (move_to("t9", "support"), "unknown task"),
    ];
    for (input, why) in cases {
        let effects = sim.try_send(input);
        assert!(rejected(&effects).is_some(), "{why}: {effects:?}");
        assert_eq!(effects.len(), 1, "{why}: nothing but the refusal");
        assert_eq!(sim.core.task("t1").unwrap().media.queue.id, "sales");
    }
    // An offered task is not waiting any more.
    sim.agent("a1", &[]);
    sim.ready("a1");
    assert_eq!(sim.media_state("t1"), Some(MediaState::Reserved));
    let effects = sim.try_send(move_to("t1", "support"));
    assert_eq!(
        rejected(&effects),
        Some(&RoutingError::NotWaiting("t1".into()))
    );
    assert_eq!(sim.holder("t1").as_deref(), Some("a1"));
    // A task waiting for a named agent is that agent's.
    sim.agent("a2", &[]);
    sim.enqueue(named("t2", "sales", "a2"));
    let effects = sim.try_send(move_to("t2", "support"));
    assert_eq!(
        rejected(&effects),
        Some(&RoutingError::NotWaiting("t2".into()))
    );
}

#[test]
fn a_moved_task_can_change_mrd_and_starts_at_the_first_step() {
    let mut sim = Sim::new();
    sim.queue("chats", "chat", &[]);
    sim.queue("calls", "voice", &[("vip", 10_000), ("", 0)]);
    sim.enqueue(task("t1", "chats"));
    sim.send(move_to("t1", "calls"));
    let moved = sim.core.task("t1").unwrap();
    assert_eq!(moved.media.mrd_id, "voice");
    assert_eq!(moved.routing.step, 0);
    // Not vip: nobody until step 2 opens after 10 s.
    sim.agent("a1", &[]);
    assert!(offers(&sim.ready("a1")).is_empty());
    assert_eq!(offers(&sim.advance(10_000)), vec![pair("a1", "t1")]);
}

#[test]
fn a_task_offered_to_a_named_agent_skips_the_steps_and_returns_to_its_queue_on_decline() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[("billing >= 5", 60_000)]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    assert!(offers(&sim.enqueue(task("t1", "sales"))).is_empty());
    let effects = sim.send(offer_to("t1", "a1"));
    assert_eq!(offers(&effects), vec![pair("a1", "t1")]);
    assert_eq!(sim.media_state("t1"), Some(MediaState::Reserved));
    // Declined: back in sales, waiting, and not offered to a1 again.
    let effects = sim.send(Input::DeclineTask {
        agent_id: "a1".into(),
        task_id: "t1".into(),
    });
    assert!(offers(&effects).is_empty());
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    assert_eq!(sim.core.task("t1").unwrap().media.queue.id, "sales");
    // Its reason says why it waits again (the reports count it as a reject).
    assert_eq!(
        sim.core.task("t1").unwrap().state.reason_code,
        Some(Disposition::Declined)
    );
    let effects = sim.try_send(offer_to("t1", "a1"));
    assert!(matches!(
        rejected(&effects),
        Some(RoutingError::AgentUnavailable { .. })
    ));
}

#[test]
fn an_offer_to_an_agent_that_cannot_take_the_task_is_refused() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[("billing >= 5", 60_000)]);
    sim.agent("a1", &[]);
    sim.enqueue(task("t1", "sales"));
    // Logged out / not ready.
    let effects = sim.try_send(offer_to("t1", "a1"));
    assert!(matches!(
        rejected(&effects),
        Some(RoutingError::AgentUnavailable { .. })
    ));
    sim.send(Input::AgentConnected {
        agent_id: "a1".into(),
    });
    let effects = sim.try_send(offer_to("t1", "a1"));
    assert!(rejected(&effects).is_some(), "NOT_READY");
    let effects = sim.try_send(offer_to("t1", "ghost"));
    assert_eq!(
        rejected(&effects),
        Some(&RoutingError::UnknownAgent("ghost".into()))
    );
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    // No room: a1 holds two chats (max 2).
    sim.queue("other", "chat", &[]);
    sim.set_state("a1", RequestedAgentState::Ready, None);
    sim.enqueue(task("t2", "other"));
    sim.enqueue(task("t3", "other"));
    sim.accept("a1", "t2");
    sim.accept("a1", "t3");
    let effects = sim.try_send(offer_to("t1", "a1"));
    assert!(rejected(&effects).is_some(), "no room");
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
}

#[test]
fn an_unanswered_named_offer_is_a_rona_and_the_task_waits_in_its_queue_again() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[("billing >= 5", 600_000)]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.send(offer_to("t1", "a1"));
    let timeout = sim.core.config().accept_timeout_ms;
    let effects = sim.advance(timeout);
    assert_eq!(
        revokes(&effects),
        vec![("a1".into(), "t1".into(), RevokeReason::Rona)]
    );
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    assert_eq!(sim.core.task("t1").unwrap().media.queue.id, "sales");
}
