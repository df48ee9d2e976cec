//! Global and per-MRD agent states, their transitions and presence reports.

use super::*;
use crate::{
    AgentStateName, Effect, Input, RequestedMrdState, RoutingConfig, RoutingError, StateChangeKind,
};

fn presence(effects: &[Effect]) -> Vec<&[crate::StateChange]> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::AgentStateChanged { changes, .. } => Some(changes.as_slice()),
            _ => None,
        })
        .collect()
}

#[test]
fn connect_logs_in_not_ready_and_records_each_change() {
    let mut sim = Sim::new();
    sim.agent("a1", &[]);
    assert_eq!(sim.core.agent("a1").unwrap().state, AgentStateName::Logout);
    let effects = sim.send(Input::AgentConnected {
        agent_id: "a1".into(),
    });
    let reports = presence(&effects);
    assert_eq!(reports.len(), 1, "one presence per input");
    let states: Vec<_> = reports[0]
        .iter()
        .map(|c| match &c.kind {
            StateChangeKind::Agent { state, .. } => *state,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        states,
        vec![AgentStateName::Login, AgentStateName::NotReady]
    );
    let view = sim.core.agent("a1").unwrap();
    assert_eq!(view.login_time, Some(sim.now));
    assert!(view.connected);
}

#[test]
fn ready_with_auto_sync_sets_every_mrd_ready() {
    let mut sim = Sim::new();
    sim.agent("a1", &[]);
    sim.send(Input::AgentConnected {
        agent_id: "a1".into(),
    });
    sim.now += 1000;
    let effects = sim.set_state("a1", RequestedAgentState::Ready, None);
    let changes = presence(&effects)[0];
    assert_eq!(changes.len(), 3);
    assert!(changes.iter().all(|c| c.at == sim.now));
    assert!(matches!(
        &changes[0].kind,
        StateChangeKind::Agent {
            state: AgentStateName::Ready,
            ..
        }
    ));
    assert!(changes[1..].iter().all(|c| matches!(
        &c.kind,
        StateChangeKind::Mrd {
            state: MrdStateName::Ready,
            ..
        }
    )));
    let view = sim.core.agent("a1").unwrap();
    assert_eq!(view.state_change_time, sim.now);
    assert_eq!(view.mrd_states[0].max_agent_tasks, 2);
    assert_eq!(view.mrd_states[1].max_agent_tasks, 1);
}

#[test]
fn without_auto_sync_each_mrd_is_set_ready_separately_and_needs_global_ready() {
    let mut sim = Sim::with_config(RoutingConfig {
        auto_sync_mrd_states: false,
        ..RoutingConfig::default()
    });
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.send(Input::AgentConnected {
        agent_id: "a1".into(),
    });
    let mrd_ready = Input::SetAgentMrdState {
        agent_id: "a1".into(),
        mrd_id: "chat".into(),
        state: RequestedMrdState::Ready,
    };
    let effects = sim.try_send(mrd_ready.clone());
    assert!(matches!(
        rejected(&effects),
        Some(RoutingError::GlobalNotReady(_))
    ));
    sim.set_state("a1", RequestedAgentState::Ready, None);
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::NotReady);
    sim.enqueue(task("t1", "sales"));
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    let effects = sim.send(mrd_ready);
    assert_eq!(offers(&effects), vec![pair("a1", "t1")]);
    assert_eq!(sim.mrd_state("a1", "voice"), MrdStateName::NotReady);
}

#[test]
fn load_drives_active_and_busy() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Active);
    sim.enqueue(task("t2", "sales"));
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Busy);
    sim.close("t1");
    sim.close("t2");
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Ready);
}

#[test]
fn not_ready_with_active_task_is_pending_until_the_task_ends() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.accept("a1", "t1");
    sim.set_state("a1", RequestedAgentState::NotReady, Some("BREAK"));
    let view = sim.core.agent("a1").unwrap();
    assert_eq!(view.state, AgentStateName::NotReady);
    assert_eq!(view.reason_code.as_deref(), Some("BREAK"));
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::PendingNotReady);
    assert_eq!(sim.mrd_state("a1", "voice"), MrdStateName::NotReady);
    sim.enqueue(task("t2", "sales"));
    assert_eq!(sim.media_state("t2"), Some(MediaState::Queued));
    sim.close("t1");
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::NotReady);
    assert_eq!(sim.media_state("t2"), Some(MediaState::Queued));
}

#[test]
fn not_ready_takes_back_outstanding_offers() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    sim.enqueue(task("t1", "sales"));
    sim.ready("a2");
    let effects = sim.set_state("a1", RequestedAgentState::NotReady, None);
    assert_eq!(
        revokes(&effects),
        vec![(
            "a1".to_string(),
            "t1".to_string(),
            RevokeReason::AgentNotReady
        )]
    );
    assert_eq!(offers(&effects), vec![pair("a2", "t1")]);
}

#[test]
fn mrd_not_ready_only_affects_that_mrd() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.queue("calls", "voice", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.send(Input::SetAgentMrdState {
        agent_id: "a1".into(),
        mrd_id: "chat".into(),
        state: RequestedMrdState::NotReady,
    });
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::NotReady);
    assert!(offers(&sim.enqueue(task("t1", "sales"))).is_empty());
    assert_eq!(
        offers(&sim.enqueue(task("t2", "calls"))),
        vec![pair("a1", "t2")]
    );
}

#[test]
fn state_changes_need_a_connected_desk_but_logout_does_not() {
    let mut sim = Sim::new();
    sim.agent("a1", &[]);
    let effects = sim.try_send(Input::SetAgentState {
        agent_id: "a1".into(),
        state: RequestedAgentState::Ready,
        reason_code: None,
    });
    assert!(matches!(
        rejected(&effects),
        Some(RoutingError::NotConnected(_))
    ));
    sim.ready("a1");
    sim.send(Input::AgentDisconnected {
        agent_id: "a1".into(),
    });
    sim.set_state("a1", RequestedAgentState::Logout, Some("HOME"));
    let view = sim.core.agent("a1").unwrap();
    assert_eq!(view.state, AgentStateName::Logout);
    assert_eq!(view.login_time, None);
    assert!(view
        .mrd_states
        .iter()
        .all(|m| m.state == MrdStateName::NotReady));
}

#[test]
fn ready_again_after_logout_on_a_connected_desk_logs_in_first() {
    let mut sim = Sim::new();
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.set_state("a1", RequestedAgentState::Logout, None);
    let effects = sim.set_state("a1", RequestedAgentState::Ready, None);
    let states: Vec<_> = presence(&effects)[0]
        .iter()
        .filter_map(|c| match &c.kind {
            StateChangeKind::Agent { state, .. } => Some(*state),
            _ => None,
        })
        .collect();
    assert_eq!(
        states,
        vec![
            AgentStateName::Login,
            AgentStateName::NotReady,
            AgentStateName::Ready
        ]
    );
}
