//! Scenarios of the whole site on the virtual clock: a chat, a RONA, transfers, a
//! restart, and the seams where two drivers used to disagree.

use super::*;
use crate::cim::{ChannelSessionReasonCode, ParticipantRole};
use crate::routing::{
    AgentStateName, Direction, Disposition, Effect as R, MediaState, NewTask, RevokeReason,
    SelectionPolicy, TaskMode,
};
use serde_json::json;

fn accept(w: &mut World, agent: usize, task_id: &str) -> Vec<SiteEffect> {
    let agent = Box::new(w.agent(agent));
    w.send(SiteInput::Accept {
        agent,
        task_id: task_id.to_string(),
    })
}

fn leave(w: &mut World, agent: usize, conversation_id: &str) -> Vec<SiteEffect> {
    let agent_id = w.agent_id(agent);
    w.send(SiteInput::Leave {
        agent_id,
        conversation_id: conversation_id.to_string(),
        reason: "AGENT_LEFT".into(),
    })
}

/// Agent `from` asks for a direct transfer of `own` to agent `to`, which runs out
/// after 30 s if nobody takes it.
fn transfer_with_ttl(w: &mut World, from: usize, to: usize, own: &routing::Task) {
    let mut request = assistance(w, from, to, own, "DIRECT_TRANSFER");
    request.agent_request_ttl_ms = Some(30_000);
    w.routing(routing::Input::EnqueueTask(Box::new(request)));
}

fn not_ready(w: &mut World, agent: usize) -> Vec<SiteEffect> {
    let agent_id = w.agent_id(agent);
    w.routing(routing::Input::SetAgentState {
        agent_id,
        state: RequestedAgentState::NotReady,
        reason_code: None,
    })
}

/// Customer `n` starts a chat that agent `agent` is offered and accepts.
fn served(w: &mut World, n: u32, agent: usize) -> (String, Arc<routing::Task>) {
    let effects = w.customer_says(&format!("cs-{n}"), n, "hello");
    let task = offered_to(&effects, &w.agent_id(agent)).expect("offered");
    accept(w, agent, &task.id);
    (w.conversation_of(n).expect("open"), task)
}

/// Agent 1 serves customer 1's chat and asks for a `kind` request (transfer or
/// conference) that agent 2 is offered: the conversation, agent 1's task and the offer.
fn asked_of_agent_2(w: &mut World, kind: &str) -> (String, Arc<routing::Task>, Arc<routing::Task>) {
    w.ready(1);
    let (conversation, own) = served(w, 1, 1);
    w.ready(2);
    let request = assistance(w, 1, 2, &own, kind);
    let effects = w.routing(routing::Input::EnqueueTask(Box::new(request)));
    let offered = offered_to(&effects, &w.agent_id(2)).expect("offered to agent 2");
    (conversation, own, offered)
}

fn role_of(w: &World, conversation_id: &str, agent: usize) -> Option<ParticipantRole> {
    let id = w.agent_id(agent);
    w.site
        .conversations()
        .conversation(conversation_id)?
        .conversation
        .agents()
        .find(|p| {
            p.as_cc_user().is_some_and(|u| u.id == id) && p.is_active.get().copied() != Some(false)
        })
        .map(|p| p.role.clone())
}

fn refused(effects: &[SiteEffect]) -> bool {
    effects.iter().any(|e| {
        matches!(
            e,
            SiteEffect::Routing(R::Rejected { .. })
                | SiteEffect::Conversation(conversation::Effect::Rejected(_))
        )
    })
}

fn persists(effects: &[SiteEffect]) -> bool {
    effects.iter().any(|e| {
        matches!(
            e,
            SiteEffect::Conversation(conversation::Effect::Persist(_))
        )
    })
}

/// What a desk's transfer or conference request enqueues (`agents::handlers::assist`).
fn assistance(w: &World, from: usize, to: usize, own: &routing::Task, kind: &str) -> NewTask {
    let direction = match kind {
        "DIRECT_TRANSFER" => Direction::DirectTransfer,
        _ => Direction::Consult,
    };
    NewTask {
        task_id: format!("{kind}-{}", own.id),
        media_id: format!("media-{kind}-{}", own.id),
        conversation_id: own.conversation_id.clone(),
        queue_id: QUEUE.into(),
        priority: 1,
        direction,
        mode: TaskMode::Agent {
            agent_id: w.agent_id(to),
        },
        offer_to_agent: true,
        agent_request_ttl_ms: None,
        selection_policy: SelectionPolicy::LongestAvailable,
        preferred_last_agent: None,
        exclude_agents: vec![w.agent_id(from)],
        related_task: Some(own.id.clone()),
        request_session: (*own.media.request_session).clone(),
        metadata: json!({"requestType": kind, "requestedBy": w.agent_id(from)}),
    }
}

#[test]
fn a_chat_is_enqueued_and_offered_in_the_step_of_its_first_message() {
    let mut w = World::new(2);
    w.ready(1);
    let effects = w.customer_says("cs-1", 1, "hello");
    // One step: the conversation, the greeting, FIND_AGENT's task and its offer.
    assert_eq!(
        stored_events(&effects),
        [
            "CHANNEL_SESSION_STARTED",
            "CUSTOMER_MESSAGE",
            "BOT_MESSAGE",
            "TASK_ENQUEUED",
            "TASK_STATE_CHANGED",
            "AGENT_RESERVED"
        ]
    );
    let task = offered_to(&effects, &w.agent_id(1)).expect("offered in the same step");
    let conversation = w.conversation_of(1).unwrap();
    assert_eq!(task.conversation_id, conversation);

    let effects = accept(&mut w, 1, &task.id);
    assert!(!refused(&effects), "{effects:#?}");
    assert_eq!(
        stored_events(&effects),
        ["TASK_STATE_CHANGED", "AGENT_SUBSCRIBED"]
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        SiteEffect::Accepted { agent_id, task: t } if *agent_id == w.agent_id(1) && t.id == task.id
    )));
    assert_eq!(
        w.site.routing().task(&task.id).unwrap().media.state,
        MediaState::Active
    );
    assert_eq!(
        role_of(&w, &conversation, 1),
        Some(ParticipantRole::Primary)
    );

    // The customer's next message reaches the agent's desk.
    let effects = w.customer_says("cs-1", 1, "are you there?");
    let agent_1 = w.agent_id(1);
    assert!(effects.iter().any(|e| matches!(
        e,
        SiteEffect::Conversation(conversation::Effect::ToAgents { agent_ids, .. })
            if agent_ids.contains(&agent_1)
    )));
}

#[test]
fn a_leaving_agent_is_not_offered_its_own_chat_again() {
    let mut w = World::new(2);
    w.ready(1);
    let (conversation, task) = served(&mut w, 1, 1);
    // The customer is still there: the conversation asks for another agent in the
    // step the agent leaves, and the agent (wrapping up, with room for another
    // chat) is not offered it.
    let effects = leave(&mut w, 1, &conversation);
    assert_eq!(
        w.site.routing().task(&task.id).unwrap().state.name,
        TaskStateName::WrapUp
    );
    let again = w
        .site
        .routing()
        .tasks()
        .find(|t| t.conversation_id == conversation && t.id != task.id && !t.is_closed())
        .cloned()
        .expect("a new task for the waiting customer");
    assert_eq!(again.media.state, MediaState::Queued);
    assert!(offered_to(&effects, &w.agent_id(1)).is_none());
    // Another agent gets it the moment it is ready.
    let effects = w.ready(2);
    assert_eq!(
        offered_to(&effects, &w.agent_id(2)).map(|t| t.id.clone()),
        Some(again.id.clone())
    );
    // The wrap-up ends by its timer: the first task closes DONE.
    w.advance(61_000);
    let first = w.site.routing().task(&task.id);
    assert!(first.is_none_or(|t| t.state.reason_code == Some(Disposition::Done)));
}

#[test]
fn an_unanswered_offer_is_rona_and_goes_to_the_next_agent_in_the_same_step() {
    let mut w = World::new(2);
    w.ready(1);
    let effects = w.customer_says("cs-1", 1, "hello");
    let task = offered_to(&effects, &w.agent_id(1)).unwrap();
    w.ready(2);
    // Nothing happens before the accept timeout (20 s).
    assert!(w.advance(19_000).is_empty());
    let effects = w.advance(2_000);
    let agent_1 = w.agent_id(1);
    assert!(routing_effects(&effects).any(|e| matches!(
        e,
        R::RevokeTask { agent_id, reason: RevokeReason::Rona, .. } if *agent_id == agent_1
    )));
    assert_eq!(
        offered_to(&effects, &w.agent_id(2)).map(|t| t.id.clone()),
        Some(task.id.clone())
    );
    assert!(stored_events(&effects).contains(&"AGENT_RESERVED".to_string()));
    let view = w.site.routing().agent(&agent_1).unwrap();
    assert_eq!(view.state, AgentStateName::NotReady);
    // The first agent's late accept is refused and changes nothing.
    let effects = accept(&mut w, 1, &task.id);
    assert!(refused(&effects) && !persists(&effects), "{effects:#?}");
    let effects = accept(&mut w, 2, &task.id);
    assert!(!refused(&effects));
    let conversation = w.conversation_of(1).unwrap();
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Primary)
    );
}

#[test]
fn a_direct_transfer_hands_the_chat_over_in_the_accepting_step() {
    let mut w = World::new(2);
    let (conversation, own, transfer) = asked_of_agent_2(&mut w, "DIRECT_TRANSFER");
    let effects = accept(&mut w, 2, &transfer.id);
    assert!(effects
        .iter()
        .any(|e| matches!(e, SiteEffect::Accepted { .. })));
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Primary)
    );
    let requester = role_of(&w, &conversation, 1);
    assert!(
        !matches!(
            requester,
            Some(ParticipantRole::Primary | ParticipantRole::Assistant)
        ),
        "the requester left: {requester:?}"
    );
    let original = w.site.routing().task(&own.id);
    assert!(original.is_none_or(|t| t.state.reason_code == Some(Disposition::Transferred)));
    assert!(stored_events(&effects).contains(&"AGENT_UNSUBSCRIBED".to_string()));
    // The requester hears who took the chat before its own leave is delivered.
    let requester = w.agent_id(1);
    let told = effects.iter().position(|e| {
        matches!(e, SiteEffect::Conversation(conversation::Effect::NotifyDesks {
            agent_ids, event: "agentAssignedForAssistance", ..
        }) if agent_ids == &vec![requester.clone()])
    });
    let left = effects.iter().position(|e| {
        matches!(e, SiteEffect::Conversation(conversation::Effect::ToAgents { agent_ids, event, .. })
            if agent_ids.contains(&requester) && event.name.as_str() == "AGENT_UNSUBSCRIBED")
    });
    assert!(
        matches!((told, left), (Some(t), Some(l)) if t < l),
        "{told:?} {left:?}"
    );
}

#[test]
fn a_direct_transfer_accepted_after_its_requester_left_is_still_accepted() {
    let mut w = World::new(2);
    let (conversation, own, transfer) = asked_of_agent_2(&mut w, "DIRECT_TRANSFER");
    // The requester leaves into wrap-up before the other agent accepts.
    leave(&mut w, 1, &conversation);
    assert_eq!(role_of(&w, &conversation, 1), Some(ParticipantRole::WrapUp));
    let effects = accept(&mut w, 2, &transfer.id);
    assert!(!refused(&effects), "{effects:#?}");
    assert!(effects
        .iter()
        .any(|e| matches!(e, SiteEffect::Accepted { .. })));
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Primary)
    );
    // The requester's wrap-up is its own: the transfer does not cut it short.
    assert!(!routing_effects(&effects).any(|e| matches!(e, R::TaskTransferred { .. })));
    let requesters = w.site.routing().task(&own.id).map(|t| t.state.name);
    assert_eq!(requesters, Some(routing::TaskStateName::WrapUp));
    // When the wrap-up ends (its timer here) the task closes TRANSFERRED, so the
    // transfer counts in the reports as before.
    let effects = w.advance(30 * 60 * 1000);
    assert!(
        routing_effects(&effects).any(|e| matches!(e, R::TaskStateChanged { task }
            if task.id == own.id && task.state.reason_code == Some(Disposition::Transferred))),
        "{effects:#?}"
    );
}

#[test]
fn an_accept_the_conversation_cannot_take_is_refused_before_routing_ends_the_requesters_task() {
    let mut w = World::new(2);
    let (conversation, own, transfer) = asked_of_agent_2(&mut w, "DIRECT_TRANSFER");
    // Agent 2 joins as a silent monitor while the transfer is offered to it: the
    // conversation will not take it again, so the accept is refused before routing
    // ends the requester's task TRANSFERRED, and the offer is cancelled.
    let monitor = w.agent(2);
    let effects = w.conversation(conversation::Input::AgentJoined {
        conversation_id: conversation.clone(),
        agent: monitor,
        role: ParticipantRole::SilentMonitor,
        task_id: None,
        agent_sla_secs: None,
    });
    assert!(!refused(&effects), "{effects:#?}");
    let effects = accept(&mut w, 2, &transfer.id);
    assert!(refused(&effects), "{effects:#?}");
    assert!(!effects
        .iter()
        .any(|e| matches!(e, SiteEffect::Accepted { .. })));
    let original = w.site.routing().task(&own.id);
    assert!(
        original.is_some_and(|t| t.media.state == MediaState::Active),
        "{original:?}"
    );
    assert!(w.site.routing().task(&transfer.id).is_none());
    assert_eq!(
        role_of(&w, &conversation, 1),
        Some(ParticipantRole::Primary)
    );
}

#[test]
fn a_consult_transfer_completes_when_the_consulting_agent_leaves() {
    let mut w = World::new(2);
    let (conversation, _, consult) = asked_of_agent_2(&mut w, "CONSULT_TRANSFER");
    accept(&mut w, 2, &consult.id);
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Assistant)
    );
    assert_eq!(
        role_of(&w, &conversation, 1),
        Some(ParticipantRole::Primary)
    );
    let effects = leave(&mut w, 1, &conversation);
    assert!(!refused(&effects), "{effects:#?}");
    assert_eq!(
        role_of(&w, &conversation, 2),
        Some(ParticipantRole::Primary)
    );
    assert_ne!(
        role_of(&w, &conversation, 1),
        Some(ParticipantRole::Primary)
    );
    assert!(routing_effects(&effects).any(|e| matches!(e, R::TaskTransferred { .. })));
    // No second agent is asked for: the consulted agent serves the customer.
    assert_eq!(
        w.open_task(&conversation).map(|t| t.id),
        Some(consult.id.clone())
    );
}

#[test]
fn a_customer_leaving_while_offered_takes_the_offer_back_in_that_step() {
    let mut w = World::new(1);
    w.ready(1);
    let effects = w.customer_says("cs-1", 1, "hello");
    let task = offered_to(&effects, &w.agent_id(1)).unwrap();
    let effects = w.conversation(conversation::Input::CustomerLeft {
        channel_session_id: "cs-1".into(),
        reason: ChannelSessionReasonCode::Customer,
    });
    assert!(routing_effects(&effects).any(|e| matches!(
        e,
        R::RevokeTask { task: t, .. } if t.id == task.id
    )));
    assert!(w
        .site
        .routing()
        .task(&task.id)
        .is_none_or(|t| t.is_closed()));
    // The desk's accept, arriving late, is refused and changes nothing.
    let effects = accept(&mut w, 1, &task.id);
    assert!(refused(&effects) && !persists(&effects), "{effects:#?}");
    assert_eq!(
        w.site
            .routing()
            .agent(&w.agent_id(1))
            .unwrap()
            .task_ids
            .len(),
        0
    );
}

#[test]
fn accepting_another_agents_offer_is_refused_and_changes_nothing() {
    let mut w = World::new(2);
    w.ready(1);
    let effects = w.customer_says("cs-1", 1, "hello");
    let task = offered_to(&effects, &w.agent_id(1)).unwrap();
    w.ready(2);
    let effects = accept(&mut w, 2, &task.id);
    assert!(refused(&effects) && !persists(&effects), "{effects:#?}");
    assert_eq!(
        w.site.routing().task(&task.id).unwrap().assigned_to,
        Some(w.agent_id(1))
    );
    let effects = accept(&mut w, 1, "no-such-task");
    assert!(refused(&effects) && !persists(&effects), "{effects:#?}");
}

#[test]
fn a_restart_rebuilds_both_cores_from_the_store_and_carries_on() {
    let mut w = World::new(1);
    w.ready(1);
    // A chat served, one offered and one waiting (the agent takes two at once).
    let (served_chat, served_task) = served(&mut w, 1, 1);
    let effects = w.customer_says("cs-2", 2, "hello");
    let offered = offered_to(&effects, &w.agent_id(1)).unwrap();
    let effects = w.customer_says("cs-3", 3, "hello");
    assert!(offered_to(&effects, &w.agent_id(1)).is_none());
    let waiting = w.conversation_of(3).unwrap();
    let last_seq = w.site.conversations().last_seq(&served_chat).unwrap();

    w.advance(5_000);
    w.restart();
    // Every conversation and task is back; the offer no desk can answer any more
    // went back to its queue, and the agent waits to come back (UNKNOWN).
    for n in 1..=3 {
        assert!(
            w.conversation_of(n).is_some(),
            "customer {n}'s conversation"
        );
    }
    assert_eq!(
        w.site.conversations().last_seq(&served_chat),
        Some(last_seq)
    );
    let agent_1 = w.agent_id(1);
    assert_eq!(
        w.site.routing().task(&served_task.id).unwrap().assigned_to,
        Some(agent_1.clone())
    );
    assert_eq!(
        w.site.routing().agent(&agent_1).unwrap().state,
        AgentStateName::Unknown
    );
    assert!(w.open_task(&waiting).is_some());

    // The desk reconnects: the agent is READY again with its chat, and the offer
    // comes back to it (one chat of room left); the waiting chat keeps waiting.
    let effects = w.routing(routing::Input::AgentConnected {
        agent_id: agent_1.clone(),
    });
    let again = offered_to(&effects, &agent_1).expect("offered again after the restart");
    assert_eq!(again.id, offered.id);
    let effects = accept(&mut w, 1, &offered.id);
    assert!(!refused(&effects), "{effects:#?}");
    // The served chat's sequence goes on where the store left it.
    let effects = w.customer_says("cs-1", 1, "still there?");
    let seq = effects.iter().find_map(|e| match e {
        SiteEffect::Conversation(conversation::Effect::Ack { seq, .. }) => Some(*seq),
        _ => None,
    });
    assert_eq!(seq, Some(last_seq + 1));
    // The agent leaves the first chat (its wrap-up holds no chat's room): the
    // waiting customer's chat is offered to it in that step.
    let effects = leave(&mut w, 1, &served_chat);
    let next = offered_to(&effects, &agent_1).expect("the waiting chat offered");
    assert_eq!(next.conversation_id, waiting);
}

#[test]
fn a_dropped_agents_chat_waits_on_its_own_task_and_goes_to_the_next_agent() {
    let mut w = World::new(2);
    w.ready(1);
    let (conversation, task) = served(&mut w, 1, 1);
    w.routing(routing::Input::AgentDisconnected {
        agent_id: w.agent_id(1),
    });
    // The desk stays away past the disconnect grace (15 s): the agent is logged out
    // and its chat goes back to the queue, ahead of new chats.
    w.advance(15_000);
    let requeued = w.site.routing().task(&task.id).unwrap();
    assert_eq!(requeued.media.state, MediaState::Queued);
    assert_eq!(requeued.media.priority, routing::REROUTE_PRIORITY);
    // The conversation waits on that task, not on a task it does not know.
    let runtime = w.site.conversations().runtime(&conversation).unwrap();
    assert!(runtime.routing_pending);
    assert_eq!(runtime.pending_task_id.as_deref(), Some(task.id.as_str()));
    let effects = w.ready(2);
    assert_eq!(
        offered_to(&effects, &w.agent_id(2)).map(|t| t.id.clone()),
        Some(task.id.clone())
    );
}

#[test]
fn an_offer_taken_back_from_a_monitor_leaves_it_looking_in_and_the_chat_waiting() {
    // The properties test found this: the chat is offered to agent 2, who looks in as
    // a silent monitor, and its desk then stays away past the grace. Routing takes the
    // offer back and re-queues it; the conversation must keep waiting on that task
    // (it waited on none). The monitor leaves because it logged out, not with the
    // offer.
    let mut w = World::new(2);
    w.customer_says("cs-1", 1, "hello");
    let effects = w.ready(2);
    let task = offered_to(&effects, &w.agent_id(2)).expect("offered to agent 2");
    let conversation = w.conversation_of(1).expect("open");
    let monitor = w.agent(2);
    w.conversation(conversation::Input::AgentJoined {
        conversation_id: conversation.clone(),
        agent: monitor,
        role: ParticipantRole::SilentMonitor,
        task_id: None,
        agent_sla_secs: None,
    });
    w.routing(routing::Input::AgentDisconnected {
        agent_id: w.agent_id(2),
    });
    w.advance(15_000);
    let runtime = w.site.conversations().runtime(&conversation).unwrap();
    assert!(runtime.routing_pending);
    assert_eq!(runtime.pending_task_id.as_deref(), Some(task.id.as_str()));
    assert_eq!(role_of(&w, &conversation, 2), None);
    let effects = w.ready(1);
    assert_eq!(
        offered_to(&effects, &w.agent_id(1)).map(|t| t.id.clone()),
        Some(task.id.clone())
    );
}

#[test]
fn a_transfer_that_finds_no_agent_after_the_chat_went_back_to_the_queue_ends_nothing() {
    // The properties test found this: a transfer requeued after the customer's own
    // chat was (its agent's desk gone) became the conversation's request, so its
    // NO_AGENT_AVAILABLE ended the conversation while the chat still waited.
    let mut w = World::new(3);
    w.ready(3);
    let (conversation, own) = served(&mut w, 1, 3);
    w.ready(2);
    transfer_with_ttl(&mut w, 3, 2, &own);
    w.routing(routing::Input::AgentDisconnected {
        agent_id: w.agent_id(3),
    });
    w.advance(15_000);
    // Agent 2, offered the transfer, goes NOT_READY: the transfer waits again.
    not_ready(&mut w, 2);
    let effects = w.advance(60_000);
    assert!(routing_effects(&effects).any(|e| matches!(e, R::NoAgentAvailable { .. })));
    let runtime = w
        .site
        .conversations()
        .runtime(&conversation)
        .expect("still open");
    assert_eq!(runtime.pending_task_id.as_deref(), Some(own.id.as_str()));
    let effects = w.ready(1);
    assert_eq!(
        offered_to(&effects, &w.agent_id(1)).map(|t| t.id.clone()),
        Some(own.id.clone())
    );
}

#[test]
fn a_transfer_that_finds_no_agent_leaves_the_served_chat_with_its_agent() {
    let mut w = World::new(2);
    w.ready(1);
    let (conversation, own) = served(&mut w, 1, 1);
    w.ready(2);
    transfer_with_ttl(&mut w, 1, 2, &own);
    not_ready(&mut w, 2);
    let effects = w.advance(60_000);
    assert!(routing_effects(&effects).any(|e| matches!(e, R::NoAgentAvailable { .. })));
    assert!(stored_events(&effects).contains(&"NO_AGENT_AVAILABLE".to_string()));
    assert!(w.site.conversations().runtime(&conversation).is_some());
    assert_eq!(
        role_of(&w, &conversation, 1),
        Some(ParticipantRole::Primary)
    );
}

#[test]
fn a_transfer_that_finds_no_agent_leaves_the_waiting_customer_waiting() {
    let mut w = World::new(2);
    w.ready(2);
    let (conversation, own) = served(&mut w, 1, 2);
    // The serving agent asks for a transfer to an agent who is not there, and its
    // own desk drops: the customer's chat goes back to the queue.
    w.routing(routing::Input::AgentDisconnected {
        agent_id: w.agent_id(2),
    });
    transfer_with_ttl(&mut w, 2, 1, &own);
    w.advance(16_000);
    assert_eq!(
        w.site.routing().task(&own.id).unwrap().media.state,
        MediaState::Queued
    );
    // The transfer's request runs out: that request ends, the customer's does not.
    let effects = w.advance(15_000);
    assert!(stored_events(&effects).contains(&"NO_AGENT_AVAILABLE".to_string()));
    assert_eq!(w.conversation_of(1).as_deref(), Some(conversation.as_str()));
    let effects = w.ready(1);
    assert_eq!(
        offered_to(&effects, &w.agent_id(1)).map(|t| t.id.clone()),
        Some(own.id.clone())
    );
}

#[test]
fn ending_a_chat_with_a_transfer_pending_cancels_the_transfer_not_the_served_task() {
    let mut w = World::new(2);
    w.ready(1);
    let (conversation, own) = served(&mut w, 1, 1);
    let transfer = assistance(&w, 1, 2, &own, "DIRECT_TRANSFER");
    let transfer_id = transfer.task_id.clone();
    w.routing(routing::Input::EnqueueTask(Box::new(transfer)));
    let effects = w.conversation(conversation::Input::EndConversation {
        conversation_id: conversation.clone(),
        agent_id: Some(w.agent_id(1)),
        reason: None,
    });
    assert!(!refused(&effects), "{effects:#?}");
    // The agent's own task ends as the conversation says (wrap-up or DONE); only the
    // transfer nobody took is cancelled.
    let served_task = w.site.routing().task(&own.id);
    assert!(
        served_task.is_none_or(|t| t.state.reason_code != Some(Disposition::Cancelled)),
        "{served_task:#?}"
    );
    let pending = w.site.routing().task(&transfer_id);
    assert!(pending.is_none_or(|t| t.is_closed()), "{pending:#?}");
}

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
    let monitor = w.agent(2);
    w.conversation(conversation::Input::AgentJoined {
        conversation_id: conversation.clone(),
        agent: monitor,
        role: ParticipantRole::SilentMonitor,
        task_id: None,
        agent_sla_secs: None,
    });
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
        let effects = w.conversation(conversation::Input::AgentJoined {
            conversation_id: conversation_id.clone(),
            agent: w.agent(2),
            role,
            task_id: None,
            agent_sla_secs: None,
        });
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
    let effects = w.conversation(conversation::Input::AgentJoined {
        conversation_id: first.clone(),
        agent: w.agent(3),
        role: ParticipantRole::SilentMonitor,
        task_id: None,
        agent_sla_secs: None,
    });
    assert!(!refused(&effects), "{effects:#?}");
}

#[test]
fn a_chat_asking_for_an_agent_is_not_offered_to_a_supervisor_looking_in() {
    let mut w = World::new(3);
    w.ready(1);
    let (conversation, _) = served(&mut w, 1, 1);
    w.ready(2);
    w.conversation(conversation::Input::AgentJoined {
        conversation_id: conversation.clone(),
        agent: w.agent(2),
        role: ParticipantRole::SilentMonitor,
        task_id: None,
        agent_sla_secs: None,
    });
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
