//! Bad inputs are refused with a clear error and change nothing.

use super::support::*;
use crate::cim::{
    ChannelSessionReasonCode, CimEventName, ConversationState, MessageBody, ParticipantRole,
};
use crate::conversation::{CoreError, Effect, Input};

/// Applies `input` and asserts it was refused with `code` and left the conversation as
/// it was (record, sequence, timers).
fn refused(h: &mut Harness, conversation: &str, input: Input, code: &str) -> CoreError {
    let record = h.core.conversation(conversation);
    let runtime = h.core.runtime(conversation).cloned();
    let seq = h.core.last_seq(conversation);
    let deadline = h.core.next_deadline();
    let effects = h.send(input);
    let error = rejected(&effects)
        .unwrap_or_else(|| panic!("expected a refusal, got {effects:#?}"))
        .clone();
    assert_eq!(error.code(), code, "{error}");
    assert_eq!(h.core.conversation(conversation), record);
    assert_eq!(h.core.runtime(conversation).cloned(), runtime);
    assert_eq!(h.core.last_seq(conversation), seq);
    assert_eq!(h.core.next_deadline(), deadline);
    error
}

#[test]
fn unknown_conversations_and_foreign_agents_are_refused() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let error = refused(
        &mut h,
        &conversation,
        Input::AgentEvent {
            conversation_id: "conv-404".into(),
            agent_id: "agent-1".into(),
            event: agent_text("e-1", "x"),
        },
        "unknown_conversation",
    );
    assert_eq!(error.to_string(), "unknown conversation `conv-404`");
    refused(
        &mut h,
        &conversation,
        Input::AgentEvent {
            conversation_id: conversation.clone(),
            agent_id: "agent-2".into(),
            event: agent_text("e-1", "x"),
        },
        "not_a_participant",
    );
    refused(
        &mut h,
        &conversation,
        Input::AgentLeft {
            conversation_id: conversation.clone(),
            agent_id: "agent-2".into(),
            reason: None,
        },
        "not_a_participant",
    );
    refused(
        &mut h,
        &conversation,
        Input::AgentJoined {
            conversation_id: conversation.clone(),
            agent: agent("agent-1"),
            role: ParticipantRole::Primary,
            task_id: None,
            agent_sla_secs: None,
        },
        "already_participant",
    );
    refused(
        &mut h,
        &conversation,
        Input::AgentJoined {
            conversation_id: conversation.clone(),
            agent: agent("agent-3"),
            role: ParticipantRole::WrapUp,
            task_id: None,
            agent_sla_secs: None,
        },
        "invalid_role",
    );
    refused(
        &mut h,
        &conversation,
        Input::TaskEnqueued {
            conversation_id: "conv-404".into(),
            task: crate::cim::Task::new("t", "conv-404", vec![], None),
            queue: crate::cim::QueueRef::new("q", "q"),
            agent_sla_secs: None,
        },
        "unknown_conversation",
    );
}

#[test]
fn bad_requests_from_a_participant_are_refused() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let mut foreign_name = agent_text("e-1", "x");
    foreign_name.name = CimEventName::AgentSubscribed;
    refused(
        &mut h,
        &conversation,
        Input::AgentEvent {
            conversation_id: conversation.clone(),
            agent_id: "agent-1".into(),
            event: foreign_name,
        },
        "event_not_allowed",
    );
    let mut broken = agent_text("e-2", "x");
    broken.data = serde_json::json!({"id": "m", "header": {"sender": {"id": "s", "type": "AGENT"}}, "body": {"markdownText": "x"}}).into();
    let error = refused(
        &mut h,
        &conversation,
        Input::AgentEvent {
            conversation_id: conversation.clone(),
            agent_id: "agent-1".into(),
            event: broken,
        },
        "missing_field",
    );
    assert!(
        error.to_string().contains("cimEvent.data.body.type"),
        "{error}"
    );
    refused(
        &mut h,
        &conversation,
        Input::Resume {
            conversation_id: conversation.clone(),
            agent_id: "agent-1".into(),
        },
        "invalid_state",
    );
    refused(
        &mut h,
        &conversation,
        Input::CloseWrapup {
            conversation_id: conversation.clone(),
            agent_id: "agent-1".into(),
            event: wrapup_event("w-1"),
        },
        "not_in_wrapup",
    );
    // An id already used in another conversation.
    let other = h.start("cs-2", 2, ChannelTimers::default());
    h.join(&other, "agent-1", ParticipantRole::Primary);
    h.agent_says(&other, "agent-1", "shared-id");
    let error = refused(
        &mut h,
        &conversation,
        Input::AgentEvent {
            conversation_id: conversation.clone(),
            agent_id: "agent-1".into(),
            event: agent_text("shared-id", "x"),
        },
        "id_in_use",
    );
    // The refusal does not name the conversation that holds the id.
    assert!(!error.to_string().contains(&other), "{error}");
    // A wrap-up body that is neither WRAPUP nor PLAIN, from an agent in wrap-up.
    h.send(Input::AgentLeft {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        reason: None,
    });
    refused(
        &mut h,
        &conversation,
        Input::CloseWrapup {
            conversation_id: conversation.clone(),
            agent_id: "agent-1".into(),
            event: desk_event(
                CimEventName::AgentMessage,
                "w-2",
                "w-2",
                MessageBody::notification(crate::cim::NotificationType::TypingStarted),
            ),
        },
        "invalid_field",
    );
    refused(
        &mut h,
        &conversation,
        Input::AgentEvent {
            conversation_id: conversation.clone(),
            agent_id: "agent-1".into(),
            event: agent_text("e-9", "x"),
        },
        "in_wrapup",
    );
}

#[test]
fn customer_side_errors_are_refused() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    refused(
        &mut h,
        &conversation,
        Input::CustomerLeft {
            channel_session_id: "cs-404".into(),
            reason: ChannelSessionReasonCode::Customer,
        },
        "unknown_channel_session",
    );
    let mut anonymous = session("cs-3", 3, ChannelTimers::default());
    anonymous.customer.mongo_id = crate::cim::Nullable::Null;
    refused(
        &mut h,
        &conversation,
        Input::ChatRequested {
            channel_session: Box::new(anonymous),
        },
        "missing_customer_id",
    );
    let mut typing = customer_message("t-1", 4, "");
    typing.body = MessageBody::notification(crate::cim::NotificationType::TypingStarted);
    refused(
        &mut h,
        &conversation,
        Input::CustomerMessage {
            channel_session: std::sync::Arc::new(session("cs-4", 4, ChannelTimers::default())),
            message: Box::new(typing),
        },
        "invalid_field",
    );
    assert_eq!(
        h.core.conversation_ids(),
        std::slice::from_ref(&conversation)
    );
    // Two customers, two conversations.
    let second = h.start("cs-5", 5, ChannelTimers::default());
    assert_ne!(second, conversation);
}

#[test]
fn events_after_close_are_refused() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.send(Input::EndConversation {
        conversation_id: conversation.clone(),
        agent_id: None,
        reason: None,
    });
    h.advance(60_000);
    assert_eq!(h.state(&conversation), ConversationState::Closed);
    let effects = h.agent_says(&conversation, "agent-1", "late");
    assert_eq!(
        rejected(&effects).map(CoreError::code),
        Some("conversation_closed")
    );
    let effects = h.send(Input::NoAgentAvailable {
        conversation_id: conversation.clone(),
        task: None,
    });
    assert_eq!(
        rejected(&effects).map(CoreError::code),
        Some("conversation_closed")
    );
    // The ended session cannot be used again; the customer starts afresh.
    let effects = h.say("cs-1", 1, "m-late", ChannelTimers::default());
    assert!(has(&effects, |e| matches!(
        e,
        Effect::ChannelSessionStarted {
            new_conversation: true,
            ..
        }
    )));
}
