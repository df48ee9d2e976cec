//! MRD interruption, desk drops with their grace period, forced logout.

use super::*;
use crate::{AgentStateName, Disposition, Effect, Input, Target, REROUTE_PRIORITY};

fn rerouted(effects: &[Effect]) -> Vec<(String, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::TaskRerouted { task, from_agent } => {
                Some((from_agent.clone(), task.id.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn non_interruptible_reservation_interrupts_the_other_mrds_until_freed() {
    let mut sim = Sim::new();
    sim.queue("chats", "chat", &[]);
    sim.queue("calls", "voice", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("c1", "chats"));
    sim.accept("a1", "c1");
    let effects = sim.enqueue(task("v1", "calls"));
    assert_eq!(offers(&effects), vec![pair("a1", "v1")]);
    let interrupted: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::MrdInterrupted {
                mrd_id,
                agent_id,
                conversations,
            } => Some((mrd_id.clone(), agent_id.clone(), conversations.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        interrupted,
        vec![(
            "chat".to_string(),
            "a1".to_string(),
            vec!["conv-c1".to_string()]
        )]
    );
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Interrupted);
    assert_eq!(sim.mrd_state("a1", "voice"), MrdStateName::Busy);
    // No chat while interrupted, although chat has room.
    assert!(offers(&sim.enqueue(task("c2", "chats"))).is_empty());
    sim.accept("a1", "v1");
    let effects = sim.close("v1");
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Busy);
    assert_eq!(offers(&effects), vec![pair("a1", "c2")]);
}

#[test]
fn interruptible_reservation_interrupts_nothing() {
    let mut sim = Sim::new();
    sim.queue("chats", "chat", &[]);
    sim.queue("calls", "voice", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    let effects = sim.enqueue(task("c1", "chats"));
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::MrdInterrupted { .. })));
    assert_eq!(sim.mrd_state("a1", "voice"), MrdStateName::Ready);
    assert_eq!(
        offers(&sim.enqueue(task("v1", "calls"))),
        vec![pair("a1", "v1")]
    );
}

#[test]
fn dropped_desk_keeps_state_during_grace_and_gets_no_new_tasks() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.send(Input::AgentDisconnected {
        agent_id: "a1".into(),
    });
    assert_eq!(sim.core.agent("a1").unwrap().state, AgentStateName::Ready);
    assert!(offers(&sim.enqueue(task("t1", "sales"))).is_empty());
    sim.advance(29_000);
    let effects = sim.send(Input::AgentConnected {
        agent_id: "a1".into(),
    });
    assert_eq!(offers(&effects), vec![pair("a1", "t1")]);
    // The grace timer was cancelled.
    sim.accept("a1", "t1");
    sim.advance(60_000);
    assert_eq!(sim.core.agent("a1").unwrap().state, AgentStateName::Ready);
}

#[test]
fn grace_over_logs_out_and_reroutes_reserved_and_active_tasks_at_priority_11() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.enqueue(task("t2", "sales"));
    assert_eq!(sim.holder("t2").as_deref(), Some("a1"));
    sim.send(Input::AgentDisconnected {
        agent_id: "a1".into(),
    });
    sim.now += 20_000;
    sim.send(Input::AgentConnected {
        agent_id: "a2".into(),
    });
    sim.set_state("a2", RequestedAgentState::Ready, None);
    // t2's RONA (30 s) comes after the grace (30 s from the drop at 0 s)? Both at 30 s:
    // the grace ends at 30 s as well; either way a1 must end logged out with nothing.
    let effects = sim.advance(10_000);
    let a1 = sim.core.agent("a1").unwrap();
    assert_eq!(a1.state, AgentStateName::Logout);
    assert!(a1.task_ids.is_empty());
    assert!(rerouted(&effects).contains(&("a1".to_string(), "t1".to_string())));
    let t1 = sim.core.task("t1").unwrap();
    assert_eq!(t1.media.priority, REROUTE_PRIORITY);
    assert_eq!(t1.state.reason_code, Some(Disposition::AgentLogout));
    assert_eq!(t1.assigned_to.as_deref(), Some("a2"));
    assert_eq!(sim.holder("t2").as_deref(), Some("a2"));
}

#[test]
fn force_logout_reroutes_at_once() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.enqueue(task("t2", "sales"));
    sim.ready("a2");
    let effects = sim.send(Input::ForceLogout {
        agent_id: "a1".into(),
        reason_code: Some("SUPERVISOR".into()),
    });
    assert_eq!(
        revokes(&effects),
        vec![(
            "a1".to_string(),
            "t2".to_string(),
            RevokeReason::AgentLogout
        )]
    );
    assert_eq!(rerouted(&effects), vec![pair("a1", "t1"), pair("a1", "t2")]);
    let a1 = sim.core.agent("a1").unwrap();
    assert_eq!(a1.state, AgentStateName::Logout);
    assert_eq!(a1.reason_code.as_deref(), Some("SUPERVISOR"));
    assert_eq!(sim.holder("t1").as_deref(), Some("a2"));
    assert_eq!(sim.holder("t2").as_deref(), Some("a2"));
    // An answered task gets a fresh TTL when it is re-routed.
    let t1 = sim.core.task("t1").unwrap();
    assert_eq!(t1.routing.ttl_deadline, Some(sim.now + 120_000));
}

#[test]
fn logout_ends_wrap_up_and_named_offers_and_reroutes_answered_named_tasks() {
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
    sim.enqueue(named("t2", "sales", "a1"));
    sim.accept("a1", "t2");
    sim.enqueue(named("t3", "sales", "a1"));
    assert_eq!(sim.media_state("t3"), Some(MediaState::Reserved));
    let effects = sim.set_state("a1", RequestedAgentState::Logout, None);
    let closed: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::TaskStateChanged { task } if task.is_closed() => {
                Some((task.id.clone(), task.state.reason_code))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        closed,
        vec![
            ("t1".to_string(), Some(Disposition::Done)),
            ("t3".to_string(), Some(Disposition::AgentLogout))
        ]
    );
    // The answered named task (a chat a1 carried on) is the queue's now: the
    // conversation drops a1, and another agent of the queue gets it.
    assert!(effects.iter().any(|e| matches!(e,
        Effect::TaskRerouted { task, from_agent } if task.id == "t2" && from_agent == "a1")));
    let t2 = sim.core.task("t2").unwrap();
    assert_eq!(t2.media.state, MediaState::Queued);
    assert_eq!(t2.routing.target, Target::Queue);
    assert_eq!(offers(&sim.ready("a2")), vec![pair("a2", "t2")]);
}

#[test]
fn an_answered_task_whose_queue_is_gone_still_drops_its_logged_out_agent() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.send(Input::RemoveQueue {
        queue_id: "sales".into(),
    });
    let effects = sim.set_state("a1", RequestedAgentState::Logout, None);
    assert!(effects.iter().any(|e| matches!(e,
        Effect::TaskRerouted { task, from_agent }
            if task.id == "t1" && from_agent == "a1" && task.is_closed())));
    assert_eq!(sim.core.task_count(), 0);
}

#[test]
fn logout_ends_what_waits_for_the_agent_by_name_and_sends_its_last_agent_chats_to_the_queue() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.send(Input::AgentConnected {
        agent_id: "a1".into(),
    });
    // Not READY: a transfer asked of a1 by name, and a chat that waits for a1 as its
    // last agent, both wait for it.
    sim.enqueue(named("t1", "sales", "a1"));
    sim.enqueue(NewTask {
        preferred_last_agent: Some("a1".into()),
        ..task("t2", "sales")
    });
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    let effects = sim.set_state("a1", RequestedAgentState::Logout, None);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::NoAgentAvailable { task }
        if task.id == "t1" && task.state.reason_code == Some(Disposition::AgentLogout))));
    assert!(sim.core.task("t1").is_none());
    assert_eq!(sim.core.task("t2").unwrap().routing.target, Target::Queue);
    assert_eq!(offers(&sim.ready("a2")), vec![pair("a2", "t2")]);
}
