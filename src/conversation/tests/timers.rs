//! Every timer on simulated time: customer activity, customer SLA, agent SLA (with its
//! thresholds and hold), hold duration, wrap-up.

use super::support::*;
use crate::cim::{
    ChannelSessionReasonCode, ChannelSessionStateName, CimEventName, ConversationState,
    ParticipantRole, TaskStateReason,
};
use crate::conversation::{Effect, Input};

#[test]
fn customer_inactivity_expires_the_session_and_ends_a_queued_conversation() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    assert_eq!(h.core.next_deadline(), Some(T0 + 120_000));
    let quiet = h.advance(119_999);
    assert!(persists(&quiet).is_empty());
    let expired = h.advance(1);
    assert_eq!(event_names(&expired), ["CHANNEL_SESSION_EXPIRED"]);
    let expiry = find_event(&expired, CimEventName::ChannelSessionExpired).unwrap();
    assert_eq!(
        expiry.data.get().unwrap()["state"],
        serde_json::json!({"name": "ENDED", "reasonCode": "INACTIVITY"})
    );
    assert!(has(&expired, |e| matches!(
        e,
        Effect::ChannelSessionClosed {
            reason: ChannelSessionReasonCode::Inactivity,
            state: ChannelSessionStateName::Ended,
            ..
        }
    )));
    assert!(has(&expired, |e| matches!(
        e,
        Effect::CancelTasks {
            disposition: TaskStateReason::Cancelled,
            ..
        }
    )));
    let record = persists(&expired)[0].record.as_ref().unwrap();
    assert_eq!(record.conversation.state, ConversationState::Closed);
    assert_eq!(record.conversation.end_time.get(), Some(&(T0 + 120_000)));
    assert_eq!(record.conversation.duration_in_seconds.get(), Some(&120));
    assert!(has(
        &expired,
        |e| matches!(e, Effect::ConversationClosed { conversation_id } if *conversation_id == conversation)
    ));
    assert_eq!(h.core.next_deadline(), None);
}

#[test]
fn customer_activity_restarts_the_timeout() {
    let mut h = Harness::new(settings());
    h.start("cs-1", 1, ChannelTimers::default());
    h.advance(100_000);
    h.say("cs-1", 1, "m-1", ChannelTimers::default());
    assert_eq!(h.core.next_deadline(), Some(T0 + 220_000));
}

#[test]
fn inactivity_with_an_agent_goes_to_wrapup() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let expired = h.advance(120_000);
    assert!(event_names(&expired).contains(&"CHANNEL_SESSION_EXPIRED".to_owned()));
    assert_eq!(h.state(&conversation), ConversationState::WrapUp);
    assert!(has(&expired, |e| matches!(
        e,
        Effect::WrapupTimerStarted { .. }
    )));
}

#[test]
fn agent_sla_notifies_thresholds_then_expires_and_reroutes() {
    let timers = ChannelTimers {
        response_sla: 40,
        activity: 3600,
        ..ChannelTimers::default()
    };
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, timers);
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    // The customer's first message is unanswered: the SLA runs from the join.
    let joined_at = h.now;
    let at_50 = h.advance(20_000);
    assert!(has(&at_50, |e| matches!(
        e,
        Effect::AgentSlaThreshold { percent: 50, remaining_ms: 20_000, agent_ids, .. }
            if agent_ids == &["agent-1".to_owned()]
    )));
    let at_80 = h.advance(12_000);
    assert!(has(&at_80, |e| matches!(
        e,
        Effect::AgentSlaThreshold { percent: 80, .. }
    )));
    let expired = h.advance(8_000);
    assert_eq!(h.now, joined_at + 40_000);
    assert_eq!(
        event_names(&expired),
        ["AGENT_SLA_EXPIRED", "AGENT_UNSUBSCRIBED"]
    );
    let sla = find_event(&expired, CimEventName::AgentSlaExpired).unwrap();
    assert_eq!(sla.data.get().unwrap()["agentSla"]["totalDuration"], 40);
    let unsubscribed = find_event(&expired, CimEventName::AgentUnsubscribed).unwrap();
    assert_eq!(unsubscribed.data.get().unwrap()["reason"], "SLA_EXPIRED");
    assert!(has(&expired, |e| matches!(
        e,
        Effect::AgentTaskEnded {
            disposition: TaskStateReason::ForceClosed,
            wrap_up: false,
            ..
        }
    )));
    assert!(has(&expired, |e| matches!(
        e,
        Effect::TopicClosed { agent_ids, .. } if agent_ids == &["agent-1".to_owned()]
    )));
    assert_eq!(
        find_agent_requests(&expired).len(),
        1,
        "exactly one new request"
    );
    assert_eq!(h.state(&conversation), ConversationState::Inactive);
}

#[test]
fn an_agent_reply_stops_the_sla_and_the_next_customer_message_restarts_it() {
    let timers = ChannelTimers {
        response_sla: 40,
        activity: 3600,
        ..ChannelTimers::default()
    };
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, timers);
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.advance(10_000);
    h.agent_says(&conversation, "agent-1", "e-1");
    assert!(h
        .core
        .runtime(&conversation)
        .unwrap()
        .timers
        .agent_sla
        .is_none());
    let quiet = h.advance(60_000);
    assert!(!has(&quiet, |e| matches!(
        e,
        Effect::AgentSlaThreshold { .. }
    )));
    h.say("cs-1", 1, "m-2", timers);
    let clock = h
        .core
        .runtime(&conversation)
        .unwrap()
        .timers
        .agent_sla
        .clone()
        .unwrap();
    assert_eq!(clock.started_at, h.now);
    // A whisper is no answer to the customer.
    h.send(Input::AgentEvent {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        event: whisper("w-1", "psst"),
    });
    assert!(h
        .core
        .runtime(&conversation)
        .unwrap()
        .timers
        .agent_sla
        .is_some());
}

#[test]
fn hold_pauses_the_agent_sla_and_resume_continues_it() {
    let timers = ChannelTimers {
        response_sla: 40,
        activity: 3600,
        ..ChannelTimers::default()
    };
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, timers);
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let started = h.now;
    h.advance(10_000);
    let held = h.send(Input::Hold {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        duration_secs: None,
    });
    assert_eq!(event_names(&held), ["CONVERSATION_PAUSED"]);
    assert_eq!(h.state(&conversation), ConversationState::OnHold);
    // While on hold nothing of the SLA fires, however long it lasts.
    let during = h.advance(300_000);
    assert!(!has(&during, |e| matches!(
        e,
        Effect::AgentSlaThreshold { .. }
    )));
    assert!(event_names(&during).is_empty());
    let resumed = h.send(Input::Resume {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
    });
    assert_eq!(event_names(&resumed), ["CONVERSATION_RESUMED"]);
    assert_eq!(h.state(&conversation), ConversationState::Active);
    // 10 s were used before the hold: 50 % (20 s) is 10 s after the resume.
    let resumed_at = h.now;
    let clock = h
        .core
        .runtime(&conversation)
        .unwrap()
        .timers
        .agent_sla
        .clone()
        .unwrap();
    assert_eq!(clock.deadline(), Some(resumed_at + 10_000));
    let expired = h.advance(35_000);
    let event = find_event(&expired, CimEventName::AgentSlaExpired).unwrap();
    assert_eq!(event.timestamp, resumed_at + 30_000);
    assert_eq!(event.timestamp - started, 40_000 + 300_000);
}

#[test]
fn an_agent_message_ends_the_hold() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.send(Input::Hold {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        duration_secs: None,
    });
    let message = h.agent_says(&conversation, "agent-1", "e-1");
    assert_eq!(
        event_names(&message),
        ["CONVERSATION_RESUMED", "AGENT_MESSAGE"]
    );
    assert_eq!(h.state(&conversation), ConversationState::Active);
}

#[test]
fn a_timed_hold_resumes_by_itself() {
    let mut h = Harness::new(settings());
    let conversation = h.start(
        "cs-1",
        1,
        ChannelTimers {
            activity: 3600,
            ..ChannelTimers::default()
        },
    );
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let held = h.send(Input::Hold {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        duration_secs: Some(30),
    });
    let paused = find_event(&held, CimEventName::ConversationPaused).unwrap();
    assert_eq!(
        paused.data.get().unwrap()["holdTimerDetails"],
        serde_json::json!({"totalDuration": 30, "startTime": h.now})
    );
    let later = h.advance(30_000);
    assert_eq!(event_names(&later), ["CONVERSATION_RESUMED"]);
    assert_eq!(h.state(&conversation), ConversationState::Active);
}

#[test]
fn customer_sla_reminds_then_ends_the_conversation() {
    let timers = ChannelTimers {
        activity: 3600,
        customer_sla: 100,
        ..ChannelTimers::default()
    };
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, timers);
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.agent_says(&conversation, "agent-1", "e-1");
    let reminder = h.advance(80_000);
    assert_eq!(studio_texts(&reminder), ["Still there?"]);
    let expired = h.advance(20_000);
    let names = event_names(&expired);
    assert_eq!(names[0], "CUSTOMER_SLA_EXPIRED");
    assert!(names.contains(&"CHANNEL_SESSION_ENDED".to_owned()));
    assert!(has(&expired, |e| matches!(
        e,
        Effect::ChannelSessionClosed {
            state: ChannelSessionStateName::Closed,
            reason: ChannelSessionReasonCode::Inactivity,
            ..
        }
    )));
    assert_eq!(h.state(&conversation), ConversationState::WrapUp);
}

#[test]
fn a_customer_reply_stops_the_customer_sla() {
    let timers = ChannelTimers {
        activity: 3600,
        customer_sla: 100,
        ..ChannelTimers::default()
    };
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, timers);
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.agent_says(&conversation, "agent-1", "e-1");
    h.advance(50_000);
    h.say("cs-1", 1, "m-1", timers);
    let later = h.advance(100_000);
    assert!(studio_texts(&later).is_empty());
    assert!(!event_names(&later).contains(&"CUSTOMER_SLA_EXPIRED".to_owned()));
}

#[test]
fn no_agent_available_tells_the_customer_and_ends() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    let none = h.send(Input::NoAgentAvailable {
        conversation_id: conversation.clone(),
        task: None,
    });
    assert_eq!(
        event_names(&none),
        ["NO_AGENT_AVAILABLE", "BOT_MESSAGE", "CHANNEL_SESSION_ENDED"]
    );
    assert_eq!(studio_texts(&none), ["Nobody is free."]);
    assert!(has(&none, |e| matches!(
        e,
        Effect::ConversationClosed { .. }
    )));
}

#[test]
fn mrd_interruption_puts_the_conversation_on_hold() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let interrupted = h.send(Input::MrdInterrupted {
        agent_id: "agent-1".into(),
        mrd_id: MRD.into(),
        conversations: vec![conversation.clone(), "conv-unknown".into()],
    });
    assert_eq!(
        event_names(&interrupted),
        ["AGENT_MRD_INTERRUPTED", "CONVERSATION_PAUSED"]
    );
    let event = find_event(&interrupted, CimEventName::AgentMrdInterrupted).unwrap();
    assert_eq!(event.data.get().unwrap()["mrdId"], MRD);
    assert_eq!(h.state(&conversation), ConversationState::OnHold);
}

#[test]
fn wrapup_duration_comes_from_settings_and_disabled_wrapup_closes_at_once() {
    let mut s = settings();
    s.conversation.wrapup_enabled = false;
    let mut h = Harness::new(s);
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let ended = h.send(Input::EndConversation {
        conversation_id: conversation.clone(),
        agent_id: None,
        reason: None,
    });
    assert!(!has(&ended, |e| matches!(
        e,
        Effect::WrapupTimerStarted { .. }
    )));
    assert!(has(&ended, |e| matches!(e, Effect::TopicClosed { .. })));
    assert!(has(&ended, |e| matches!(
        e,
        Effect::ChannelSessionClosed {
            reason: ChannelSessionReasonCode::ForceClosed,
            ..
        }
    )));
    assert!(has(&ended, |e| matches!(
        e,
        Effect::ConversationClosed { .. }
    )));
}

#[test]
fn absurd_durations_saturate_instead_of_overflowing() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.send(Input::Hold {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        duration_secs: Some(u64::MAX),
    });
    let hold = h
        .core
        .runtime(&conversation)
        .unwrap()
        .timers
        .hold
        .clone()
        .unwrap();
    assert_eq!(hold.deadline, Some(i64::MAX));
    // The session's activity timeout is still the next deadline.
    assert_eq!(h.core.next_deadline(), Some(T0 + 120_000));
}

#[test]
fn a_wrap_up_published_as_a_message_answers_nobody_and_leaves_the_hold() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.send(Input::Hold {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        duration_secs: None,
    });
    let body = crate::cim::MessageBody::Wrapup(crate::cim::WrapupBody {
        wrapups: Vec::new(),
        note: "internal".to_string().into(),
        markdown_text: crate::cim::Nullable::Absent,
        extra: Default::default(),
    });
    let published = h.send(Input::AgentEvent {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        event: desk_event(CimEventName::AgentMessage, "e-w", "m-w", body),
    });
    assert_eq!(event_names(&published), ["AGENT_MESSAGE"]);
    assert_eq!(h.state(&conversation), ConversationState::OnHold);
}
