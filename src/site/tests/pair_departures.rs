//! Scenarios of the whole site on the virtual clock where agents go: pull-mode
//! joins, logouts (of a serving, consulted, monitoring or barged-in agent), a
//! serving agent moved to monitor, a flushed queue, and offers around supervisors
//! looking in.

use super::pair::*;
use super::*;
use crate::cim::{ChannelSessionReasonCode, ParticipantRole};
use crate::routing::{Disposition, Effect as R, MediaState};

fn join_pull(w: &mut World, agent: usize, request_id: &str) -> Vec<SiteEffect> {
    let agent = Box::new(w.agent(agent));
    w.send(SiteInput::JoinPull {
        agent,
        request_id: request_id.to_string(),
    })
}

/// A pull-mode request for customer `n`'s new chat on `list-1`.
fn pull_request(w: &mut World, n: u32) -> (String, String) {
    w.customer_says(&format!("cs-{n}"), n, "hello");
    let conversation_id = w.conversation_of(n).expect("open");
    let request_id = format!("pr-{n}");
    let effects = w.routing(routing::Input::AddPullRequest(routing::NewPullRequest {
        id: request_id.clone(),
        list_id: "list-1".into(),
        conversation_id: conversation_id.clone(),
        data: serde_json::Value::Null,
    }));
    assert!(!refused(&effects), "{effects:#?}");
    (conversation_id, request_id)
}

#[test]
fn a_pull_mode_join_enters_request_and_conversation_in_one_step() {
    let mut w = World::new(3);
    w.routing(routing::Input::UpsertPullList(routing::PullListConfig {
        id: "list-1".into(),
        name: "Pull".into(),
    }));
    // Logged in, not READY: nobody is pushed the chat.
    for n in 1..=3 {
        let agent_id = w.agent_id(n);
        w.routing(routing::Input::AgentConnected {
            agent_id: agent_id.clone(),
        });
        if n < 3 {
            w.routing(routing::Input::SubscribePullList {
                agent_id,
                list_id: "list-1".into(),
            });
        }
    }
    let (conversation, request) = pull_request(&mut w, 1);

    let effects = join_pull(&mut w, 1, &request);
    assert!(effects.iter().any(|e| matches!(
        e,
        SiteEffect::PullJoined { agent_id, conversation_id }
            if *agent_id == w.agent_id(1) && *conversation_id == conversation
    )));
    assert!(stored_events(&effects).contains(&"AGENT_SUBSCRIBED".to_string()));
    assert_eq!(
        role_of(&w, &conversation, 1),
        Some(ParticipantRole::Primary)
    );
    join_pull(&mut w, 2, &request);
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Assistant)
    );

    // Joined twice, not subscribed, unknown request: refused, nothing stored.
    for (agent, request_id) in [(1, request.as_str()), (3, request.as_str()), (1, "pr-none")] {
        let effects = join_pull(&mut w, agent, request_id);
        assert!(refused(&effects) && !persists(&effects), "{effects:#?}");
    }

    // The conversation ended: its request can no longer be joined, and the join
    // changes neither core.
    let (_, gone) = pull_request(&mut w, 2);
    w.conversation(conversation::Input::CustomerLeft {
        channel_session_id: "cs-2".into(),
        reason: ChannelSessionReasonCode::Customer,
    });
    let effects = join_pull(&mut w, 1, &gone);
    assert!(refused(&effects) && !persists(&effects), "{effects:#?}");
    let joined = w
        .site
        .routing()
        .pull_request(&gone)
        .map(|r| r.joined_agents.clone());
    assert!(
        joined.as_ref().is_none_or(|agents| agents.is_empty()),
        "{joined:?}"
    );
}

#[test]
fn a_queued_chat_offered_to_an_agent_already_in_it_goes_on_to_another_agent() {
    let mut w = World::new(2);
    w.ready(2);
    let effects = w.customer_says("cs-1", 1, "hello");
    let task = offered_to(&effects, &w.agent_id(2)).expect("offered to agent 2");
    let conversation = w.conversation_of(1).expect("open");
    // Agent 2 (a supervisor, say) looks in as a silent monitor before accepting.
    joins_without_task(&mut w, &conversation, 2, ParticipantRole::SilentMonitor);
    let effects = accept(&mut w, 2, &task.id);
    assert!(refused(&effects), "{effects:#?}");
    // Declined, not cancelled: the customer's chat waits for the next agent.
    let effects = w.ready(1);
    let offered = offered_to(&effects, &w.agent_id(1)).expect("offered to agent 1");
    assert_eq!(offered.conversation_id, conversation);
    accept(&mut w, 1, &offered.id);
    assert_eq!(
        role_of(&w, &conversation, 1),
        Some(ParticipantRole::Primary)
    );
}

fn log_out(w: &mut World, agent: usize) -> Vec<SiteEffect> {
    let agent_id = w.agent_id(agent);
    w.routing(routing::Input::SetAgentState {
        agent_id,
        state: RequestedAgentState::Logout,
        reason_code: None,
    })
}

#[test]
fn a_transferred_chat_whose_agent_logs_out_goes_back_to_the_queue() {
    let mut w = World::new(3);
    let (conversation, _, transfer) = asked_of_agent_2(&mut w, "DIRECT_TRANSFER");
    accept(&mut w, 2, &transfer.id);
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Primary)
    );
    // The task was agent 2's by name; once answered it is a chat like any other.
    log_out(&mut w, 2);
    assert_eq!(role_of(&w, &conversation, 2), None);
    let requeued = w.site.routing().task(&transfer.id).unwrap();
    assert_eq!(requeued.media.state, MediaState::Queued);
    let runtime = w.site.conversations().runtime(&conversation).unwrap();
    assert!(runtime.routing_pending);
    assert_eq!(
        runtime.pending_task_id.as_deref(),
        Some(transfer.id.as_str())
    );
    let effects = w.ready(3);
    let offered = offered_to(&effects, &w.agent_id(3)).expect("offered to agent 3");
    assert_eq!(offered.id, transfer.id);
    accept(&mut w, 3, &offered.id);
    assert_eq!(
        role_of(&w, &conversation, 3),
        Some(ParticipantRole::Primary)
    );
}

#[test]
fn a_pending_direct_transfer_is_withdrawn_when_the_rerouted_chat_is_answered() {
    let mut w = World::new(3);
    w.ready(1);
    let (conversation, own) = served(&mut w, 1, 1);
    // Agent 2 is asked by name but is not ready; agent 1 then logs out.
    let request = assistance(&w, 1, 2, &own, "DIRECT_TRANSFER");
    let transfer_id = request.task_id.clone();
    w.routing(routing::Input::EnqueueTask(Box::new(request)));
    log_out(&mut w, 1);
    assert_eq!(
        w.site.routing().task(&own.id).map(|t| t.media.state),
        Some(MediaState::Queued)
    );
    let effects = w.ready(3);
    assert_eq!(
        offered_to(&effects, &w.agent_id(3)).map(|t| t.id.clone()),
        Some(own.id.clone())
    );
    let effects = accept(&mut w, 3, &own.id);
    assert!(
        routing_effects(&effects).any(|e| matches!(e, R::TaskStateChanged { task }
            if task.id == transfer_id && task.state.reason_code == Some(Disposition::Cancelled))),
        "{effects:#?}"
    );
    // Agent 2, ready now, is offered nothing; the chat stays with agent 3.
    let effects = w.ready(2);
    assert!(offered_to(&effects, &w.agent_id(2)).is_none());
    assert_eq!(
        role_of(&w, &conversation, 3),
        Some(ParticipantRole::Primary)
    );
    let held = w.site.routing().task(&own.id).unwrap();
    assert_eq!(held.assigned_to.as_deref(), Some(w.agent_id(3).as_str()));
}

#[test]
fn a_serving_agent_moved_to_monitor_ends_its_task() {
    let mut w = World::new(2);
    w.ready(1);
    let (conversation, task) = served(&mut w, 1, 1);
    let effects = w.conversation(conversation::Input::ChangeRole {
        conversation_id: conversation.clone(),
        agent_id: w.agent_id(1),
        role: ParticipantRole::SilentMonitor,
    });
    assert!(
        routing_effects(&effects).any(|e| matches!(e, R::TaskStateChanged { task: t }
            if t.id == task.id && t.state.reason_code == Some(Disposition::Done))),
        "{effects:#?}"
    );
    assert_eq!(
        role_of(&w, &conversation, 1),
        Some(ParticipantRole::SilentMonitor)
    );
    let agent = w.site.routing().agent(&w.agent_id(1)).unwrap();
    assert!(agent.mrd_states.iter().all(|m| m.load == 0), "{agent:?}");
    // The chat ends: nothing of agent 1's is left open.
    w.conversation(conversation::Input::EndConversation {
        conversation_id: conversation.clone(),
        agent_id: None,
        reason: None,
    });
    assert_eq!(w.site.routing().tasks().count(), 0);
}

#[test]
fn a_consulted_agent_carries_on_alone_when_the_consulting_agent_logs_out() {
    let mut w = World::new(3);
    let (conversation, own, consult) = asked_of_agent_2(&mut w, "CONSULT_TRANSFER");
    accept(&mut w, 2, &consult.id);
    w.ready(3);
    let effects = log_out(&mut w, 1);
    // Agent 3, ready, is not even offered the chat for a moment.
    assert!(
        offered_to(&effects, &w.agent_id(3)).is_none(),
        "{effects:#?}"
    );
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Primary)
    );
    // The chat is served: agent 1's task does not wait in the queue for a third
    // agent, it ends as a transfer to the consulted one.
    assert!(
        routing_effects(&effects).any(|e| matches!(e, R::TaskStateChanged { task }
            if task.id == own.id && task.state.reason_code == Some(Disposition::Transferred))),
        "{effects:#?}"
    );
    assert!(w.site.routing().task(&own.id).is_none());
    let runtime = w.site.conversations().runtime(&conversation).unwrap();
    assert!(!runtime.routing_pending);
}

#[test]
fn a_consult_answered_after_the_consulting_agent_left_makes_its_agent_primary() {
    let mut w = World::new(2);
    let (conversation, _, consult) = asked_of_agent_2(&mut w, "CONSULT_TRANSFER");
    leave(&mut w, 1, &conversation);
    let effects = accept(&mut w, 2, &consult.id);
    assert!(!refused(&effects), "{effects:#?}");
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Primary)
    );
    assert_eq!(
        w.site
            .conversations()
            .conversation(&conversation)
            .map(|r| r.conversation.state.clone()),
        Some(crate::cim::ConversationState::Active)
    );
}

#[test]
fn a_consulted_agent_that_logs_out_leaves_the_chat_with_its_agent() {
    let mut w = World::new(3);
    let (conversation, own, consult) = asked_of_agent_2(&mut w, "CONSULT_TRANSFER");
    accept(&mut w, 2, &consult.id);
    w.ready(3);
    let effects = log_out(&mut w, 2);
    assert!(
        offered_to(&effects, &w.agent_id(3)).is_none(),
        "{effects:#?}"
    );
    assert_eq!(role_of(&w, &conversation, 2), None);
    assert_eq!(
        role_of(&w, &conversation, 1),
        Some(ParticipantRole::Primary)
    );
    // The consult's part is over: it does not wait in the queue for another agent.
    assert!(
        routing_effects(&effects).any(|e| matches!(e, R::TaskStateChanged { task }
            if task.id == consult.id
                && task.state.reason_code == Some(Disposition::AgentLogout))),
        "{effects:#?}"
    );
    assert_eq!(
        w.site.routing().task(&own.id).map(|t| t.media.state),
        Some(MediaState::Active)
    );
}

#[test]
fn a_flushed_queue_tells_its_waiting_customer_and_ends_the_chat() {
    let mut w = World::new(1);
    w.customer_says("cs-1", 1, "hello");
    let conversation = w.conversation_of(1).expect("open");
    assert!(w.open_task(&conversation).is_some());
    let effects = w.routing(routing::Input::FlushQueue {
        queue_id: Some(QUEUE.into()),
    });
    let stored = stored_events(&effects);
    assert!(
        stored.contains(&"NO_AGENT_AVAILABLE".to_string()),
        "{stored:?}"
    );
    // The customer is not left in a chat nobody will take.
    assert!(w.conversation_of(1).is_none(), "{stored:?}");
}

#[test]
fn an_agent_that_logs_out_leaves_the_chats_it_monitors_or_barged_into() {
    let mut w = World::new(3);
    w.ready(1);
    let (first, _) = served(&mut w, 1, 1);
    let (second, _) = served(&mut w, 2, 1);
    w.ready(2);
    for (conversation_id, role) in [
        (&first, ParticipantRole::SilentMonitor),
        (&second, ParticipantRole::Assistant),
    ] {
        let effects = joins_without_task(&mut w, conversation_id, 2, role);
        assert!(!refused(&effects), "{effects:#?}");
    }
    let effects = log_out(&mut w, 2);
    let stored = stored_events(&effects);
    assert_eq!(
        stored.iter().filter(|e| *e == "AGENT_UNSUBSCRIBED").count(),
        2,
        "{stored:?}"
    );
    for conversation_id in [&first, &second] {
        assert_eq!(role_of(&w, conversation_id, 2), None);
        assert_eq!(
            role_of(&w, conversation_id, 1),
            Some(ParticipantRole::Primary)
        );
    }
    // Another supervisor may monitor now.
    let effects = joins_without_task(&mut w, &first, 3, ParticipantRole::SilentMonitor);
    assert!(!refused(&effects), "{effects:#?}");
}

#[test]
fn a_chat_asking_for_an_agent_is_not_offered_to_a_supervisor_looking_in() {
    let mut w = World::new(3);
    w.ready(1);
    let (conversation, _) = served(&mut w, 1, 1);
    w.ready(2);
    joins_without_task(&mut w, &conversation, 2, ParticipantRole::SilentMonitor);
    // Agent 1 leaves the customer: the chat asks for another agent, and agent 2, ready
    // but in it as a monitor, could not accept it.
    let effects = leave(&mut w, 1, &conversation);
    assert!(
        offered_to(&effects, &w.agent_id(2)).is_none(),
        "{effects:#?}"
    );
    let task = w
        .site
        .routing()
        .tasks_of_conversation(&conversation)
        .find(|t| t.media.state == MediaState::Queued)
        .cloned()
        .expect("the chat waits for an agent");
    assert!(
        task.routing.exclude_agents.contains(&w.agent_id(2)),
        "{task:#?}"
    );
    let effects = w.ready(3);
    assert_eq!(
        offered_to(&effects, &w.agent_id(3)).map(|t| t.id.clone()),
        Some(task.id)
    );
}

/// A supervisor who barged in stays with the customer when the agent leaves, as on a
/// telephone conference: it takes over as PRIMARY and no other agent is asked for
/// while it serves. It leaves as a serving agent does (to wrap-up, which is on here),
/// and then the chat asks for an agent.
#[test]
fn a_supervisor_who_barged_in_takes_over_when_the_agent_leaves() {
    let mut w = World::new(3);
    w.ready(1);
    let (conversation, own) = served(&mut w, 1, 1);
    let effects = joins_without_task(&mut w, &conversation, 2, ParticipantRole::Assistant);
    assert!(!refused(&effects), "{effects:#?}");
    w.ready(3);

    let effects = leave(&mut w, 1, &conversation);
    assert!(!refused(&effects), "{effects:#?}");
    assert_eq!(role_of(&w, &conversation, 1), Some(ParticipantRole::WrapUp));
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Primary)
    );
    assert!(
        offered_to(&effects, &w.agent_id(3)).is_none(),
        "{effects:#?}"
    );
    assert!(
        w.site
            .routing()
            .tasks_of_conversation(&conversation)
            .all(|t| t.id == own.id),
        "no other task while the supervisor serves"
    );
    assert_eq!(w.conversation_of(1).as_ref(), Some(&conversation));

    let effects = leave(&mut w, 2, &conversation);
    assert!(!refused(&effects), "{effects:#?}");
    assert_eq!(role_of(&w, &conversation, 2), Some(ParticipantRole::WrapUp));
    let offered = offered_to(&effects, &w.agent_id(3)).expect("the chat asks for an agent");
    assert_eq!(offered.conversation_id, conversation);
}
