//! Transfers and conferences, queue flush, pull mode through the engine.

use super::*;
use crate::{
    Disposition, Effect, Input, NewPullRequest, PullListConfig, PullRequestState, RoutingError,
    TaskStateName,
};

fn active_with(sim: &mut Sim, agent: &str, id: &str) {
    sim.enqueue(task(id, "sales"));
    sim.accept(agent, id);
}

fn sales_with_two_agents() -> Sim {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.ready("a1");
    active_with(&mut sim, "a1", "t1");
    sim.ready("a2");
    sim
}

#[test]
fn accepted_direct_transfer_ends_the_original_transferred() {
    let mut sim = sales_with_two_agents();
    let transfer = NewTask {
        conversation_id: "conv-t1".into(),
        direction: Direction::DirectTransfer,
        related_task: Some("t1".into()),
        ..task("t2", "sales")
    };
    assert_eq!(offers(&sim.enqueue(transfer)), vec![pair("a2", "t2")]);
    let effects = sim.accept("a2", "t2");
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::TaskTransferred { original, new }
        if original.id == "t1" && original.state.reason_code == Some(Disposition::Transferred)
            && new.id == "t2")));
    assert!(sim.core.task("t1").is_none());
    assert!(sim.core.tasks_of_agent("a1").is_empty());
    assert_eq!(sim.mrd_state("a1", "chat"), MrdStateName::Ready);
}

#[test]
fn a_direct_transfer_accepted_while_its_requester_wraps_up_leaves_the_wrap_up_alone() {
    let mut sim = sales_with_two_agents();
    sim.enqueue(NewTask {
        conversation_id: "conv-t1".into(),
        direction: Direction::DirectTransfer,
        related_task: Some("t1".into()),
        ..task("t2", "sales")
    });
    sim.send(Input::StartWrapUp {
        task_id: "t1".into(),
    });
    let effects = sim.accept("a2", "t2");
    assert!(!effects
        .iter()
        .any(|e| matches!(e, Effect::TaskTransferred { .. })));
    assert_eq!(
        sim.core.task("t1").map(|t| t.state.name),
        Some(TaskStateName::WrapUp)
    );
    let effects = sim.send(Input::EndWrapUp {
        task_id: "t1".into(),
    });
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::TaskStateChanged { task }
        if task.id == "t1" && task.state.reason_code == Some(Disposition::Transferred))));
    assert_eq!(sim.holder("t2").as_deref(), Some("a2"));
}

/// a1 holds t1 and asks for a direct transfer (t2) to a2, who is not ready; then a1
/// logs out, so t1 goes back to its queue.
fn transfer_pending_when_the_requester_logs_out() -> Sim {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.agent("a3", &[]);
    sim.ready("a1");
    active_with(&mut sim, "a1", "t1");
    sim.send(Input::AgentConnected {
        agent_id: "a2".into(),
    });
    let pending = sim.enqueue(NewTask {
        conversation_id: "conv-t1".into(),
        direction: Direction::DirectTransfer,
        related_task: Some("t1".into()),
        ..named("t2", "sales", "a2")
    });
    assert!(offers(&pending).is_empty());
    sim.set_state("a1", RequestedAgentState::Logout, None);
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    sim
}

#[test]
fn a_rerouted_original_answered_by_another_agent_withdraws_the_pending_direct_transfer() {
    let mut sim = transfer_pending_when_the_requester_logs_out();
    assert_eq!(offers(&sim.ready("a3")), vec![pair("a3", "t1")]);
    let effects = sim.accept("a3", "t1");
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::TaskStateChanged { task }
        if task.id == "t2" && task.state.reason_code == Some(Disposition::Cancelled))));
    assert!(sim.core.task("t2").is_none());
    // a2, ready now, is offered nothing, and t1 stays with a3.
    assert!(offers(&sim.ready("a2")).is_empty());
    assert_eq!(sim.holder("t1").as_deref(), Some("a3"));
    assert_eq!(sim.media_state("t1"), Some(MediaState::Active));
}

#[test]
fn a_pending_direct_transfer_answered_first_takes_the_rerouted_chat() {
    let mut sim = transfer_pending_when_the_requester_logs_out();
    // a2 is offered the chat itself first; it declines, and then its transfer.
    assert_eq!(offers(&sim.ready("a2")), vec![pair("a2", "t1")]);
    let declined = sim.send(Input::DeclineTask {
        agent_id: "a2".into(),
        task_id: "t1".into(),
    });
    assert_eq!(offers(&declined), vec![pair("a2", "t2")]);
    assert_eq!(sim.media_state("t1"), Some(MediaState::Queued));
    let effects = sim.accept("a2", "t2");
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::TaskTransferred { original, new }
        if original.id == "t1" && original.state.reason_code == Some(Disposition::Transferred)
            && new.id == "t2")));
    assert!(sim.core.task("t1").is_none());
    assert_eq!(offers(&sim.ready("a3")), Vec::new());
    assert_eq!(sim.holder("t2").as_deref(), Some("a2"));
}

#[test]
fn conference_and_consult_keep_the_original_until_the_transfer_completes() {
    let mut sim = sales_with_two_agents();
    sim.agent("a3", &[]);
    sim.ready("a3");
    sim.enqueue(NewTask {
        conversation_id: "conv-t1".into(),
        direction: Direction::DirectConference,
        related_task: Some("t1".into()),
        ..task("conf", "sales")
    });
    sim.accept("a2", "conf");
    sim.enqueue(NewTask {
        conversation_id: "conv-t1".into(),
        direction: Direction::Consult,
        related_task: Some("t1".into()),
        ..task("consult", "sales")
    });
    assert_eq!(sim.holder("consult").as_deref(), Some("a3"));
    sim.accept("a3", "consult");
    assert!(sim.core.task("t1").is_some());
    let effects = sim.try_send(Input::CompleteTransfer {
        original_task_id: "conf".into(),
        new_task_id: "consult".into(),
    });
    assert!(matches!(
        rejected(&effects),
        Some(RoutingError::NotATransfer { .. })
    ));
    let effects = sim.send(Input::CompleteTransfer {
        original_task_id: "t1".into(),
        new_task_id: "consult".into(),
    });
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::TaskTransferred { original, .. } if original.id == "t1")));
    assert!(sim.core.task("t1").is_none());
    assert!(sim.core.task("conf").is_some());
}

#[test]
fn flush_closes_queued_tasks_force_closed() {
    let mut sim = Sim::new();
    sim.queue("sales", "chat", &[]);
    sim.queue("support", "chat", &[]);
    sim.agent("a1", &[]);
    sim.ready("a1");
    sim.enqueue(task("reserved", "sales"));
    sim.send(Input::SetAgentState {
        agent_id: "a1".into(),
        state: RequestedAgentState::NotReady,
        reason_code: None,
    });
    sim.enqueue(task("s1", "sales"));
    sim.enqueue(task("s2", "sales"));
    sim.enqueue(task("p1", "support"));
    let effects = sim.send(Input::FlushQueue {
        queue_id: Some("sales".into()),
    });
    let closed: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::TaskStateChanged { task }
                if task.state.reason_code == Some(Disposition::ForceClosed) =>
            {
                Some(task.id.clone())
            }
            _ => None,
        })
        .collect();
    // "reserved" was revoked by NOT_READY and waits again at the head of the queue.
    assert_eq!(closed, vec!["reserved", "s1", "s2"]);
    // Each customer that waited hears that no agent is available.
    let told: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::NoAgentAvailable { task } => Some(task.id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(told, closed);
    assert!(sim.core.task("p1").is_some());
    sim.send(Input::FlushQueue { queue_id: None });
    assert_eq!(sim.core.task_count(), 0);
}

#[test]
fn pull_lists_need_a_logged_in_agent_and_logout_drops_subscriptions() {
    let mut sim = Sim::new();
    sim.agent("a1", &[]);
    sim.agent("a2", &[]);
    sim.send(Input::UpsertPullList(PullListConfig {
        id: "leads".into(),
        name: "Leads".into(),
    }));
    sim.send(Input::AddPullRequest(NewPullRequest {
        id: "r1".into(),
        list_id: "leads".into(),
        conversation_id: "c1".into(),
        data: serde_json::json!({}),
    }));
    let subscribe = |agent: &str| Input::SubscribePullList {
        agent_id: agent.into(),
        list_id: "leads".into(),
    };
    let effects = sim.try_send(subscribe("a1"));
    assert!(matches!(
        rejected(&effects),
        Some(RoutingError::NotLoggedIn(_))
    ));
    sim.ready("a1");
    sim.ready("a2");
    let effects = sim.send(subscribe("a1"));
    assert!(
        matches!(&effects[0], Effect::PullListSubscribed { requests, .. } if requests.len() == 1)
    );
    sim.send(subscribe("a2"));
    for agent in ["a1", "a2"] {
        let effects = sim.send(Input::JoinPullRequest {
            agent_id: agent.into(),
            request_id: "r1".into(),
        });
        assert!(
            matches!(&effects[0], Effect::PullRequestJoined { agent_id, .. } if agent_id == agent)
        );
    }
    let request = sim.core.pull_request("r1").unwrap();
    assert_eq!(request.state, PullRequestState::Active);
    assert_eq!(request.joined_agents, vec!["a1", "a2"]);
    let effects = sim.set_state("a1", RequestedAgentState::Logout, None);
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::PullListUnsubscribed { agent_id, .. } if agent_id == "a1")));
    assert!(!sim.core.is_subscribed("a1", "leads"));
    assert!(sim.core.is_subscribed("a2", "leads"));
}
