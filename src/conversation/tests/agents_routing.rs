//! An agent team around one chat and the routing engine: a second primary taking over
//! and an assistant promoted, routing removing an agent, the agent request after an
//! agent left (who it excludes, what keeps it pending) and routing notifications
//! becoming events.

use super::support::*;
use crate::cim::{ChannelSessionReasonCode, CimEventName, ConversationState, ParticipantRole};
use crate::conversation::{Effect, Input};

#[test]
fn a_second_primary_takes_over_and_an_assistant_is_promoted_when_the_primary_leaves() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let second = h.join(&conversation, "agent-2", ParticipantRole::Primary);
    assert_eq!(
        event_names(&second),
        ["PARTICIPANT_ROLE_CHANGED", "AGENT_SUBSCRIBED"]
    );
    let left = h.send(Input::AgentLeft {
        conversation_id: conversation.clone(),
        agent_id: "agent-2".into(),
        reason: None,
    });
    let names = event_names(&left);
    assert_eq!(
        names,
        [
            "AGENT_UNSUBSCRIBED",
            "PARTICIPANT_ROLE_CHANGED",
            "PARTICIPANT_ROLE_CHANGED"
        ]
    );
    let record = h.core.conversation(&conversation).unwrap();
    let agent1 = record
        .conversation
        .participants
        .iter()
        .find(|p| p.as_cc_user().is_some_and(|u| u.id == "agent-1"))
        .unwrap();
    assert_eq!(agent1.role, ParticipantRole::Primary);
    assert!(
        find_agent_requests(&left).is_empty(),
        "agent-1 still serves"
    );
    assert_eq!(h.state(&conversation), ConversationState::Active);
}

#[test]
fn routing_removing_an_agent_with_requeue_does_not_ask_twice() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let removed = h.send(Input::AgentRemoved {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        task_id: "task-agent-1".into(),
        reason: "AGENT_LOGOUT".into(),
        task_requeued: true,
    });
    assert_eq!(event_names(&removed), ["AGENT_UNSUBSCRIBED"]);
    assert!(find_agent_requests(&removed).is_empty());
    assert!(!has(&removed, |e| matches!(
        e,
        Effect::AgentTaskEnded { .. }
    )));
    assert_eq!(h.state(&conversation), ConversationState::Inactive);
}

#[test]
fn an_agent_that_left_is_not_asked_for_again_while_it_wraps_up() {
    // Route to last agent is on, and agent-1 leaves with the customer still there:
    // the new request excludes it and names no last agent, so routing offers it to
    // another ready agent at once instead of to the agent in wrap-up.
    let mut h = Harness::new(settings());
    let mut first = session("cs-1", 1, ChannelTimers::default());
    first
        .channel
        .channel_config
        .routing_policy
        .get_mut()
        .unwrap()
        .route_to_last_agent = true;
    let started = h.send(Input::CustomerMessage {
        channel_session: std::sync::Arc::new(first),
        message: Box::new(customer_message("cs-1-m0", 1, "hi")),
    });
    let conversation = find_agent_requests(&started)[0].conversation_id.clone();
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let left = h.send(Input::AgentLeft {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        reason: Some("LEFT".into()),
    });
    let requests = find_agent_requests(&left);
    assert_eq!(requests.len(), 1, "FIND_AGENT again");
    assert_eq!(requests[0].exclude_agents, vec!["agent-1".to_owned()]);
    assert_eq!(requests[0].last_agent_id, None);
}

#[test]
fn the_end_of_an_earlier_task_leaves_the_new_agent_request_pending() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let left = h.send(Input::AgentLeft {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        reason: Some("LEFT".into()),
    });
    assert_eq!(find_agent_requests(&left).len(), 1, "FIND_AGENT again");
    let queue = crate::cim::QueueRef::new(QUEUE, "Default");
    let new_task = crate::cim::Task::new("task-2", conversation.clone(), vec![], None);
    h.send(Input::TaskEnqueued {
        conversation_id: conversation.clone(),
        task: new_task,
        queue,
        agent_sla_secs: None,
    });
    // The first agent's wrap-up ends, and its task closes, after the new request
    // was enqueued.
    let wrapup = h.advance(60_000);
    assert!(has(&wrapup, |e| matches!(e, Effect::WrapupEnded { .. })));
    let mut wrapped_up = crate::cim::Task::new("task-agent-1", conversation.clone(), vec![], None);
    wrapped_up.state.name = crate::cim::TaskStateName::Closed;
    h.send(Input::TaskStateChanged {
        conversation_id: conversation.clone(),
        task: wrapped_up,
    });
    assert!(h.core.runtime(&conversation).unwrap().routing_pending);
    // The customer leaves: the new request is cancelled, not left with the engine.
    let gone = h.send(Input::CustomerLeft {
        channel_session_id: "cs-1".into(),
        reason: ChannelSessionReasonCode::Customer,
    });
    assert!(has(&gone, |e| matches!(e, Effect::CancelTasks { .. })));

    // The request's own task ending does settle it.
    let other = h.start("cs-2", 2, ChannelTimers::default());
    let mut own = crate::cim::Task::new("task-3", other.clone(), vec![], None);
    h.send(Input::TaskEnqueued {
        conversation_id: other.clone(),
        task: own.clone(),
        queue: crate::cim::QueueRef::new(QUEUE, "Default"),
        agent_sla_secs: None,
    });
    own.state.name = crate::cim::TaskStateName::Closed;
    h.send(Input::TaskStateChanged {
        conversation_id: other.clone(),
        task: own,
    });
    assert!(!h.core.runtime(&other).unwrap().routing_pending);
}

#[test]
fn routing_notifications_become_events_and_set_the_agent_sla() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    let task = crate::cim::Task::new("task-1", conversation.clone(), vec![], None);
    let queued = h.send(Input::TaskEnqueued {
        conversation_id: conversation.clone(),
        task: task.clone(),
        queue: crate::cim::QueueRef::new(QUEUE, "Default"),
        agent_sla_secs: Some(30),
    });
    let event = find_event(&queued, CimEventName::TaskEnqueued).unwrap();
    assert_eq!(event.data.get().unwrap()["queue"]["id"], QUEUE);
    assert_eq!(
        event
            .event_emitter
            .get()
            .unwrap()
            .sender_name
            .get()
            .unwrap(),
        "ROUTING_ENGINE"
    );
    assert!(agent_deliveries(&queued).is_empty(), "no agent yet");
    let runtime = h.core.runtime(&conversation).unwrap();
    assert_eq!(runtime.queue_id.as_deref(), Some(QUEUE));
    assert_eq!(runtime.agent_sla_secs, Some(30));
    let reserved = h.send(Input::AgentReserved {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        task: task.clone(),
    });
    assert_eq!(event_names(&reserved), ["AGENT_RESERVED"]);
    let changed = h.send(Input::TaskStateChanged {
        conversation_id: conversation.clone(),
        task,
    });
    assert_eq!(event_names(&changed), ["TASK_STATE_CHANGED"]);
    // The queue's SLA applies once an agent joins while the customer waits.
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let sla = h
        .core
        .runtime(&conversation)
        .unwrap()
        .timers
        .agent_sla
        .clone()
        .unwrap();
    assert_eq!(sla.total_ms, 30_000);
}
