//! Scenarios of the whole site on the virtual clock around transfers: a direct
//! transfer handed over in the accepting step (also after its requester left), an
//! accept the conversation refuses, a consult completing, transfers that find no
//! agent, and a chat ended with a transfer pending.

use super::pair::*;
use super::*;
use crate::cim::ParticipantRole;
use crate::routing::{Disposition, Effect as R, MediaState};

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
    let effects = joins_without_task(&mut w, &conversation, 2, ParticipantRole::SilentMonitor);
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
