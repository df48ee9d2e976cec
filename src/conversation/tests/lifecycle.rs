//! A chat from first message to CLOSED: start, greeting and agent request, agents
//! joining and leaving, messages both ways, duplicates, the customer leaving and coming
//! back, wrap-up. Agent roles and the routing engine around a chat are in
//! `agents_routing`.

use super::support::*;
use crate::cim::{
    ChannelSessionReasonCode, ChannelSessionStateName, CimEventName, ConversationState,
    MessageBody, ParticipantRole, TaskStateReason,
};
use crate::conversation::{Effect, Input};

#[test]
fn chat_request_starts_a_conversation_greets_and_finds_an_agent() {
    let mut h = Harness::new(settings());
    let effects = h.send(Input::ChatRequested {
        channel_session: Box::new(session("cs-1", 1, ChannelTimers::default())),
    });
    assert_eq!(
        event_names(&effects),
        ["CHANNEL_SESSION_STARTED", "BOT_MESSAGE"]
    );
    let persist = persists(&effects)[0];
    assert_eq!(persist.events[0].seq, 1);
    assert_eq!(persist.events[1].seq, 2);
    let record = persist
        .record
        .as_ref()
        .expect("a new conversation is recorded");
    assert_eq!(record.conversation.state, ConversationState::Created);
    assert_eq!(record.conversation.creation_time.get(), Some(&T0));
    assert_eq!(record.channel_sessions.len(), 1);
    assert_eq!(
        record.channel_sessions[0]
            .conversation_id
            .get()
            .map(String::as_str),
        Some("conv-1")
    );
    assert_eq!(record.conversation.room_info.get().unwrap().id, "cust-1");
    let started = effects.iter().find_map(|e| match e {
        Effect::ChannelSessionStarted {
            channel_session,
            new_conversation,
            ..
        } => Some((channel_session.id.clone(), *new_conversation)),
        _ => None,
    });
    assert_eq!(started, Some(("cs-1".into(), true)));
    assert_eq!(studio_texts(&effects), ["Hello!"]);
    let requests = find_agent_requests(&effects);
    assert_eq!(requests.len(), 1);
    let request = requests[0];
    assert_eq!(request.conversation_id, "conv-1");
    assert_eq!(request.queue.as_deref(), Some(QUEUE));
    assert_eq!(request.mrd_id.as_deref(), Some(MRD));
    assert_eq!(request.priority, 1);
    assert_eq!(request.agent_request_ttl_secs, Some(120));
    assert_eq!(request.channel_session.id, "cs-1");
    assert!(h.core.runtime("conv-1").unwrap().routing_pending);
    // Asking again for the running session changes nothing and re-announces it.
    let again = h.send(Input::ChatRequested {
        channel_session: Box::new(session("cs-1", 1, ChannelTimers::default())),
    });
    assert!(persists(&again).is_empty());
    assert!(matches!(
        again.as_slice(),
        [Effect::ChannelSessionStarted {
            new_conversation: false,
            ..
        }]
    ));
}

#[test]
fn first_message_opens_the_conversation_and_is_acknowledged() {
    let mut h = Harness::new(settings());
    let effects = h.say("cs-1", 1, "m-1", ChannelTimers::default());
    assert_eq!(
        event_names(&effects),
        ["CHANNEL_SESSION_STARTED", "CUSTOMER_MESSAGE", "BOT_MESSAGE"]
    );
    assert!(has(&effects, |e| matches!(
        e,
        Effect::Ack { id, seq: 2, duplicate: false, .. } if id == "m-1"
    )));
    let stored = &persists(&effects)[0].events[1];
    assert_eq!(stored.message_id.as_deref(), Some("m-1"));
    assert_eq!(stored.event.message().unwrap().id, "m-1");
    assert_eq!(find_agent_requests(&effects).len(), 1);
}

#[test]
fn agent_joins_and_messages_flow_both_ways_in_sequence() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    let joined = h.join(&conversation, "agent-1", ParticipantRole::Primary);
    assert_eq!(event_names(&joined), ["AGENT_SUBSCRIBED"]);
    assert_eq!(h.state(&conversation), ConversationState::Active);
    assert!(!h.core.runtime(&conversation).unwrap().routing_pending);
    let subscribed = find_event(&joined, CimEventName::AgentSubscribed).unwrap();
    assert_eq!(
        subscribed.data.get().unwrap()["agentParticipant"]["participant"]["id"],
        "agent-1"
    );
    assert_eq!(agent_deliveries(&joined)[0].2, ["agent-1"]);

    let from_customer = h.say("cs-1", 1, "m-2", ChannelTimers::default());
    let (seq, name, agents) = agent_deliveries(&from_customer)[0].clone();
    assert_eq!((seq, name.as_str()), (5, "CUSTOMER_MESSAGE"));
    assert_eq!(agents, ["agent-1"]);
    assert!(
        customer_deliveries(&from_customer).is_empty(),
        "no echo to the sender"
    );
    assert!(
        persists(&from_customer)[0].record.is_none(),
        "a message does not rewrite the conversation"
    );

    let from_agent = h.agent_says(&conversation, "agent-1", "e-1");
    assert_eq!(
        customer_deliveries(&from_agent),
        [(6, "AGENT_MESSAGE".to_owned())]
    );
    assert_eq!(agent_deliveries(&from_agent)[0].0, 6);
    assert!(has(&from_agent, |e| matches!(
        e,
        Effect::Ack { id, seq: 6, duplicate: false, .. } if id == "e-1"
    )));
    let stored = find_event(&from_agent, CimEventName::AgentMessage).unwrap();
    assert_eq!(
        stored.conversation_id.get().map(String::as_str),
        Some(conversation.as_str())
    );
    assert_eq!(stored.timestamp, h.now);
    assert_eq!(stored.event_emitter.get().unwrap().id, "agent-1");
    assert_eq!(h.core.last_seq(&conversation), Some(6));
}

#[test]
fn a_retried_message_is_stored_once_and_acknowledged_again() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let first = h.say("cs-1", 1, "m-9", ChannelTimers::default());
    let seq = first
        .iter()
        .find_map(|e| match e {
            Effect::Ack { seq, .. } => Some(*seq),
            _ => None,
        })
        .unwrap();
    let retry = h.say("cs-1", 1, "m-9", ChannelTimers::default());
    assert_eq!(
        retry,
        [Effect::Ack {
            id: "m-9".into(),
            conversation_id: conversation.clone(),
            seq,
            duplicate: true
        }]
    );
    // The same for a desk event retried with its id.
    let sent = h.agent_says(&conversation, "agent-1", "e-7");
    let again = h.agent_says(&conversation, "agent-1", "e-7");
    assert!(persists(&again).is_empty());
    let seq = sent.iter().find_map(|e| match e {
        Effect::Ack { seq, .. } => Some(*seq),
        _ => None,
    });
    assert!(matches!(
        again.as_slice(),
        [Effect::Ack { duplicate: true, seq: s, .. }] if Some(*s) == seq
    ));
}

#[test]
fn a_retry_after_the_conversation_closed_is_still_a_duplicate() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.send(Input::CustomerLeft {
        channel_session_id: "cs-1".into(),
        reason: ChannelSessionReasonCode::Customer,
    });
    assert!(h.core.conversation(&conversation).is_none());
    let retry = h.say("cs-1", 1, "cs-1-m0", ChannelTimers::default());
    assert!(matches!(
        retry.as_slice(),
        [Effect::Ack {
            duplicate: true,
            seq: 2,
            ..
        }]
    ));
}

#[test]
fn customer_returns_to_the_open_conversation_with_a_new_session() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    // A second session of the same customer (another tab after the first one closed,
    // another device) joins the open conversation: no second greeting, no second request.
    let joined = h.send(Input::ChatRequested {
        channel_session: {
            let mut s = session("cs-2", 1, ChannelTimers::default());
            s.channel_data.channel_customer_identifier = "web-1-phone".into();
            Box::new(s)
        },
    });
    assert_eq!(event_names(&joined), ["CHANNEL_SESSION_STARTED"]);
    assert!(find_agent_requests(&joined).is_empty());
    assert!(has(&joined, |e| matches!(
        e,
        Effect::ChannelSessionStarted { conversation_id, new_conversation: false, .. }
            if *conversation_id == conversation
    )));
    assert_eq!(
        h.core.conversation_of_session("cs-2"),
        Some(conversation.as_str())
    );
    // A message under an unknown session id of the same channel and customer lands in
    // the running session.
    let same = h.say("cs-other", 1, "m-5", ChannelTimers::default());
    assert!(!has(&same, |e| matches!(
        e,
        Effect::ChannelSessionStarted { .. }
    )));
    assert_eq!(
        h.core
            .conversation(&conversation)
            .unwrap()
            .channel_sessions
            .len(),
        2
    );
}

#[test]
fn customer_back_after_leaving_resumes_with_the_same_agent_without_wrapup() {
    let mut s = settings();
    s.conversation.wrapup_enabled = false;
    let mut h = Harness::new(s);
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let left = h.send(Input::CustomerLeft {
        channel_session_id: "cs-1".into(),
        reason: ChannelSessionReasonCode::Network,
    });
    assert_eq!(event_names(&left), ["CHANNEL_SESSION_ENDED"]);
    assert!(has(&left, |e| matches!(
        e,
        Effect::ChannelSessionClosed {
            state: ChannelSessionStateName::Ended,
            reason: ChannelSessionReasonCode::Network,
            ..
        }
    )));
    assert_eq!(h.state(&conversation), ConversationState::CustomerLeft);
    let back = h.say("cs-2", 1, "m-back", ChannelTimers::default());
    assert_eq!(
        event_names(&back),
        ["CHANNEL_SESSION_STARTED", "CUSTOMER_MESSAGE"]
    );
    assert_eq!(h.state(&conversation), ConversationState::Active);
    assert_eq!(agent_deliveries(&back)[1].2, ["agent-1"]);
    // The agent's answer goes to the new session.
    let answer = h.agent_says(&conversation, "agent-1", "e-1");
    assert!(has(&answer, |e| matches!(
        e,
        Effect::ToCustomer { address, .. } if address.channel_session_id == "cs-2"
    )));
    // Without wrap-up, the last agent leaving a customer-less conversation closes it.
    h.send(Input::CustomerLeft {
        channel_session_id: "cs-2".into(),
        reason: ChannelSessionReasonCode::Customer,
    });
    let gone = h.send(Input::AgentLeft {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        reason: None,
    });
    assert!(has(&gone, |e| matches!(
        e,
        Effect::ConversationClosed { .. }
    )));
    assert!(has(&gone, |e| matches!(
        e,
        Effect::AgentTaskEnded {
            wrap_up: false,
            disposition: TaskStateReason::Done,
            ..
        }
    )));
}

#[test]
fn agent_leaving_starts_wrapup_and_finds_another_agent() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let left = h.send(Input::AgentLeft {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        reason: Some("LEFT".into()),
    });
    assert_eq!(
        event_names(&left),
        ["AGENT_UNSUBSCRIBED", "PARTICIPANT_ROLE_CHANGED"]
    );
    let role = find_event(&left, CimEventName::ParticipantRoleChanged).unwrap();
    assert_eq!(
        role.data.get().unwrap()["conversationParticipant"]["role"],
        "WRAP_UP"
    );
    assert!(has(&left, |e| matches!(
        e,
        Effect::WrapupTimerStarted { agent_id, duration_secs: 60, task_id: Some(t), .. }
            if agent_id == "agent-1" && t == "task-agent-1"
    )));
    assert!(has(&left, |e| matches!(
        e,
        Effect::AgentTaskEnded { wrap_up: true, .. }
    )));
    assert_eq!(find_agent_requests(&left).len(), 1, "FIND_AGENT again");
    assert_eq!(h.state(&conversation), ConversationState::Inactive);
    // The wrap-up runs out after 60 s.
    let expired = h.advance(60_000);
    assert!(has(&expired, |e| matches!(
        e,
        Effect::WrapupEnded { agent_id, timed_out: true, .. } if agent_id == "agent-1"
    )));
    assert!(has(&expired, |e| matches!(
        e,
        Effect::TopicClosed { agent_ids, .. } if agent_ids == &["agent-1".to_owned()]
    )));
    assert!(h.core.agent_conversations("agent-1").is_empty());
    assert_eq!(h.state(&conversation), ConversationState::Inactive);
}

#[test]
fn customer_leaving_puts_agents_in_wrapup_and_the_wrapup_closes_the_conversation() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.join(&conversation, "sup-1", ParticipantRole::SilentMonitor);
    let left = h.send(Input::CustomerLeft {
        channel_session_id: "cs-1".into(),
        reason: ChannelSessionReasonCode::Customer,
    });
    assert_eq!(h.state(&conversation), ConversationState::WrapUp);
    assert!(has(&left, |e| matches!(
        e,
        Effect::WrapupTimerStarted { .. }
    )));
    assert!(has(&left, |e| matches!(
        e,
        Effect::TopicClosed { agent_ids, .. } if agent_ids == &["sup-1".to_owned()]
    )));
    assert_eq!(
        h.core.conversation_of_customer("cust-1"),
        None,
        "a new chat opens a new conversation"
    );
    let closed = h.send(Input::CloseWrapup {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        event: wrapup_event("w-1"),
    });
    let record = persists(&closed)[0].record.as_ref().unwrap();
    assert_eq!(record.conversation.state, ConversationState::Closed);
    assert_eq!(
        record.conversation.wrap_ups.get().unwrap()[0]["wrapups"][0]["categoryName"],
        "Sales"
    );
    assert!(has(&closed, |e| matches!(
        e,
        Effect::WrapupEnded {
            timed_out: false,
            ..
        }
    )));
    assert!(has(
        &closed,
        |e| matches!(e, Effect::Ack { id, duplicate: false, .. } if id == "w-1")
    ));
    assert!(has(&closed, |e| matches!(
        e,
        Effect::ConversationClosed { .. }
    )));
    assert!(customer_deliveries(&closed).is_empty());
}

#[test]
fn a_plain_wrapup_body_is_the_note_with_no_codes() {
    // Seed 004's closeWrapup sample: a PLAIN body whose markdownText is the note.
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.send(Input::CustomerLeft {
        channel_session_id: "cs-1".into(),
        reason: ChannelSessionReasonCode::Customer,
    });
    let closed = h.send(Input::CloseWrapup {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        event: desk_event(
            CimEventName::AgentMessage,
            "w-plain",
            "w-plain-msg",
            MessageBody::plain("fsadf"),
        ),
    });
    assert!(rejected(&closed).is_none(), "{closed:#?}");
    let record = persists(&closed)[0].record.as_ref().unwrap();
    let entry = &record.conversation.wrap_ups.get().unwrap()[0];
    assert_eq!(entry["note"], "fsadf");
    assert_eq!(entry["wrapups"], serde_json::json!([]));
    assert_eq!(entry["agentId"], "agent-1");
    assert_eq!(record.conversation.state, ConversationState::Closed);
}

#[test]
fn agent_ending_the_conversation_closes_sessions_and_wraps_up() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let ended = h.send(Input::EndConversation {
        conversation_id: conversation.clone(),
        agent_id: Some("agent-1".into()),
        reason: None,
    });
    assert!(has(&ended, |e| matches!(
        e,
        Effect::ChannelSessionClosed {
            state: ChannelSessionStateName::Closed,
            reason: ChannelSessionReasonCode::Agent,
            ..
        }
    )));
    assert_eq!(h.state(&conversation), ConversationState::WrapUp);
    let later = h.advance(60_000);
    let record = persists(&later)[0].record.as_ref().unwrap();
    assert_eq!(record.conversation.state, ConversationState::Closed);
    assert_eq!(record.conversation.end_time.get(), Some(&(T0 + 60_000)));
    assert_eq!(record.conversation.duration_in_seconds.get(), Some(&60));
    let session = &record.channel_sessions[0];
    assert_eq!(session.state_name(), Some(&ChannelSessionStateName::Closed));
}
