//! Who sees what: silent monitors see everything and the customer sees nothing of them;
//! whispers reach agents only; internal notifications never reach the customer.

use super::support::*;
use crate::cim::{CimEventName, MessageBody, NotificationType, ParticipantRole};
use crate::conversation::audience::customer_can_see;
use crate::conversation::{Effect, Input};

#[test]
fn silent_monitor_sees_everything_and_the_customer_sees_nothing_of_it() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let monitor = h.join(&conversation, "sup-1", ParticipantRole::SilentMonitor);
    assert!(customer_deliveries(&monitor).is_empty());
    let from_customer = h.say("cs-1", 1, "m-1", ChannelTimers::default());
    assert_eq!(agent_deliveries(&from_customer)[0].2, ["agent-1", "sup-1"]);
    let from_agent = h.agent_says(&conversation, "agent-1", "e-1");
    assert_eq!(agent_deliveries(&from_agent)[0].2, ["agent-1", "sup-1"]);
    assert_eq!(customer_deliveries(&from_agent).len(), 1);
    // A silent monitor writes nothing: refused, nothing stored or delivered.
    h.say("cs-1", 1, "m-2", ChannelTimers::default());
    let from_monitor = h.agent_says(&conversation, "sup-1", "e-2");
    assert!(customer_deliveries(&from_monitor).is_empty());
    assert!(agent_deliveries(&from_monitor).is_empty());
    assert!(event_names(&from_monitor).is_empty());
    assert!(has(&from_monitor, |e| matches!(
        e,
        Effect::Rejected(r) if r.code() == "silent_monitor"
    )));
    // A monitor does not answer the customer: the customer still waits for an agent.
    assert!(h.core.runtime(&conversation).unwrap().awaiting_agent_reply);
}

#[test]
fn a_whisperer_writes_whispers_only() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.join(&conversation, "sup-1", ParticipantRole::Whisper);
    h.say("cs-1", 1, "m-1", ChannelTimers::default());
    // The desk composer sends AGENT_MESSAGE: stored and delivered as a whisper.
    let said = h.agent_says(&conversation, "sup-1", "e-1");
    assert_eq!(event_names(&said), ["WHISPER_MESSAGE"]);
    assert!(customer_deliveries(&said).is_empty());
    assert_eq!(agent_deliveries(&said)[0].2, ["agent-1", "sup-1"]);
    let stored = find_event(&said, CimEventName::WhisperMessage).unwrap();
    assert!(!customer_can_see(&stored));
    assert!(h.core.runtime(&conversation).unwrap().awaiting_agent_reply);
}

#[test]
fn whispers_reach_agents_only() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.join(&conversation, "agent-2", ParticipantRole::Assistant);
    let whispered = h.send(Input::AgentEvent {
        conversation_id: conversation.clone(),
        agent_id: "agent-2".into(),
        event: whisper("w-1", "try the refund"),
    });
    assert!(customer_deliveries(&whispered).is_empty());
    assert_eq!(agent_deliveries(&whispered)[0].2, ["agent-1", "agent-2"]);
    assert_eq!(event_names(&whispered), ["WHISPER_MESSAGE"]);
}

#[test]
fn the_customer_sees_agent_typing_and_who_serves_but_no_other_notifications() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    let joined = h.join(&conversation, "agent-1", ParticipantRole::Primary);
    assert_eq!(
        customer_deliveries(&joined).len(),
        1,
        "a serving agent's AGENT_SUBSCRIBED is the widget's \"joined\" line"
    );
    let monitored = h.join(&conversation, "sup-1", ParticipantRole::SilentMonitor);
    assert!(
        customer_deliveries(&monitored).is_empty(),
        "a silent monitor joins unseen"
    );
    let mut typing = desk_event(
        CimEventName::TypingStarted,
        "t-1",
        "t-1",
        MessageBody::notification(NotificationType::TypingStarted),
    );
    typing.event_type = crate::cim::CimEventType::Notification;
    let typed = h.send(Input::AgentEvent {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        event: typing.clone(),
    });
    // Typing is delivered live and never stored: no Persist, no seq.
    assert!(persists(&typed).is_empty(), "typing is not stored");
    assert!(customer_deliveries(&typed).is_empty() && agent_deliveries(&typed).is_empty());
    assert_eq!(
        ephemeral_deliveries(&typed),
        [("TYPING_STARTED".to_owned(), vec!["sup-1".to_owned()], true)],
        "the customer and the other desks see it, the typing desk does not"
    );
    assert!(has(&typed, |e| matches!(e, Effect::Ack { seq: 0, .. })));
    // The same indicator again at once is acknowledged but not delivered again.
    typing.id = "t-2".into();
    let repeated = h.send(Input::AgentEvent {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        event: typing,
    });
    assert!(ephemeral_deliveries(&repeated).is_empty());
    assert!(has(&repeated, |e| matches!(e, Effect::Ack { seq: 0, .. })));
    // Customer typing reaches the agents, not the customer, and is no message.
    let mut message = customer_message("ct-1", 1, "");
    message.body = MessageBody::notification(NotificationType::TypingStarted);
    let customer_typing = h.send(Input::CustomerMessage {
        channel_session: std::sync::Arc::new(session("cs-1", 1, ChannelTimers::default())),
        message: Box::new(message),
    });
    assert!(persists(&customer_typing).is_empty());
    assert_eq!(
        ephemeral_deliveries(&customer_typing),
        [(
            "TYPING_STARTED".to_owned(),
            vec!["agent-1".to_owned(), "sup-1".to_owned()],
            false
        )]
    );
    let sla = h.advance(1);
    assert!(!has(&sla, |e| matches!(
        e,
        Effect::AgentSlaThreshold { .. }
    )));
}
