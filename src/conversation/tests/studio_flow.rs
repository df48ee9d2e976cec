//! The external flow: intents go out as studio calls, answers are applied, failures and
//! silence fall back to the built-in flow; actions from a flow.

use serde_json::json;

use super::support::*;
use crate::cim::{CimEventName, ConversationState, ParticipantRole};
use crate::conversation::studio::FindAgentAction;
use crate::conversation::{parse_actions, Action, CoreSettings, Effect, Input};

fn external(intents: &[&str]) -> CoreSettings {
    let mut s = settings();
    s.studio.url = "http://flow.test/hook".into();
    s.studio.intents = intents.iter().map(|i| (*i).to_owned()).collect();
    s.studio.timeout_ms = 2_000;
    s
}

fn studio_calls(effects: &[Effect]) -> Vec<(String, String, serde_json::Value)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::CallStudio {
                request_id,
                intent,
                message,
                ..
            } => Some((
                request_id.clone(),
                intent.to_string(),
                serde_json::to_value(message).unwrap(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn an_external_intent_waits_for_the_flow_and_applies_its_answer() {
    let mut h = Harness::new(external(&["CONVERSATION_STARTED"]));
    let started = h.send(Input::ChatRequested {
        channel_session: Box::new(session("cs-1", 1, ChannelTimers::default())),
    });
    assert!(find_agent_requests(&started).is_empty(), "the flow decides");
    assert!(studio_texts(&started).is_empty());
    let calls = studio_calls(&started);
    assert_eq!(calls.len(), 1);
    let (request_id, intent, message) = &calls[0];
    assert_eq!(intent, "CONVERSATION_STARTED");
    assert_eq!(message["_msgid"], json!(request_id));
    assert_eq!(message["payload"]["intent"], "CONVERSATION_STARTED");
    assert_eq!(message["payload"]["roomId"], "cust-1");
    assert_eq!(message["payload"]["conversation"]["id"], "conv-1");
    assert_eq!(
        message["payload"]["entities"]["channelSession"]["id"],
        "cs-1"
    );
    // The pending call is a timer of the conversation (it survives a restart).
    assert!(h
        .core
        .runtime("conv-1")
        .unwrap()
        .timers
        .studio_calls
        .contains_key(request_id));
    let answer = parse_actions(&json!([
        {"type": "SEND_MESSAGE", "data": {"text": "Welcome to ACME"}},
        {"type": "UPDATE_CONVERSATION_DATA", "data": {"conversationData": {"tier": "gold"}}},
        {"type": "FIND_AGENT", "data": {"queue": "vip", "priority": 5}},
    ]))
    .unwrap();
    let applied = h.send(Input::StudioActions {
        request_id: request_id.clone(),
        actions: answer,
    });
    assert_eq!(studio_texts(&applied), ["Welcome to ACME"]);
    assert_eq!(
        event_names(&applied),
        ["BOT_MESSAGE", "CONVERSATION_DATA_CHANGED"]
    );
    let request = find_agent_requests(&applied)[0];
    assert_eq!(
        (request.queue.as_deref(), request.priority),
        (Some("vip"), 5)
    );
    let record = h.core.conversation("conv-1").unwrap();
    assert_eq!(
        record.conversation.data("tier").unwrap().value.get(),
        Some(&json!("gold"))
    );
    // A late second answer is refused.
    let late = h.send(Input::StudioActions {
        request_id: request_id.clone(),
        actions: vec![],
    });
    assert_eq!(
        rejected(&late).map(|e| e.code()),
        Some("unknown_studio_request")
    );
}

#[test]
fn a_failed_flow_falls_back_to_the_builtin_flow() {
    let mut h = Harness::new(external(&[]));
    let started = h.send(Input::ChatRequested {
        channel_session: Box::new(session("cs-1", 1, ChannelTimers::default())),
    });
    let calls = studio_calls(&started);
    let intents: Vec<&str> = calls.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(intents, ["CHANNEL_SESSION_STARTED", "CONVERSATION_STARTED"]);
    assert_eq!(
        calls[0].2["payload"]["entities"]["cimEvent"]["name"],
        "CHANNEL_SESSION_STARTED"
    );
    let failed = h.send(Input::StudioFailed {
        request_id: calls[1].0.clone(),
        reason: "HTTP 500".into(),
    });
    assert!(has(&failed, |e| matches!(
        e,
        Effect::StudioFallback { intent: CimEventName::ConversationStarted, reason, .. } if reason == "HTTP 500"
    )));
    assert_eq!(studio_texts(&failed), ["Hello!"]);
    assert_eq!(find_agent_requests(&failed).len(), 1);
}

#[test]
fn an_unanswered_call_falls_back_at_its_deadline() {
    let mut h = Harness::new(external(&["CONVERSATION_STARTED"]));
    h.send(Input::ChatRequested {
        channel_session: Box::new(session("cs-1", 1, ChannelTimers::default())),
    });
    let deadline = h.core.next_deadline().unwrap();
    assert_eq!(deadline, T0 + 2_000 + 1_000);
    let fell_back = h.advance(3_000);
    assert!(has(&fell_back, |e| matches!(
        e,
        Effect::StudioFallback { .. }
    )));
    assert_eq!(find_agent_requests(&fell_back).len(), 1);
}

#[test]
fn a_customer_gone_while_the_flow_decides_is_closed_after_the_answer() {
    let mut h = Harness::new(external(&["CHANNEL_SESSION_EXPIRED"]));
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    let expired = h.advance(120_000);
    let calls = studio_calls(&expired);
    assert_eq!(calls[0].1, "CHANNEL_SESSION_EXPIRED");
    assert_eq!(
        h.state(&conversation),
        ConversationState::Created,
        "waits for the flow"
    );
    let answered = h.send(Input::StudioActions {
        request_id: calls[0].0.clone(),
        actions: vec![],
    });
    assert!(has(&answered, |e| matches!(
        e,
        Effect::ConversationClosed { .. }
    )));
}

#[test]
fn flow_actions_on_participants_and_bots() {
    let mut h = Harness::new(external(&["AGENT_SUBSCRIBED"]));
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    let joined = h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let request_id = studio_calls(&joined)[0].0.clone();
    let actions = parse_actions(&json!([
        {"type": "ASSIGN_BOT", "data": {"botId": "bot-1", "name": "rasa", "role": "ASSISTANT"}},
        {"type": "CHANGE_PARTICIPANT_ROLE", "data": {"agentId": "agent-1", "role": "SILENT_MONITOR"}},
        {"type": "REVOKE_BOT", "data": {"botId": "nobody"}},
        {"type": "CHANGE_PARTICIPANT_ROLE", "data": {"participantId": "cust-1", "role": "PRIMARY"}},
    ]))
    .unwrap();
    let applied = h.send(Input::StudioActions {
        request_id,
        actions,
    });
    assert_eq!(
        event_names(&applied),
        ["PARTICIPANT_ROLE_CHANGED", "PARTICIPANT_ROLE_CHANGED"]
    );
    let failures: Vec<&str> = applied
        .iter()
        .filter_map(|e| match e {
            Effect::ActionFailed { action, .. } => Some(*action),
            _ => None,
        })
        .collect();
    assert_eq!(failures, ["REVOKE_BOT", "CHANGE_PARTICIPANT_ROLE"]);
    // A monitor serves nobody: the agent's task ends, and frees its capacity.
    assert!(has(&applied, |e| matches!(
        e,
        Effect::AgentTaskEnded { agent_id, task_id: Some(task), wrap_up: false, .. }
            if agent_id == "agent-1" && task == "task-agent-1"
    )));
    // The only agent now monitors: nobody serves, the conversation is INACTIVE.
    assert_eq!(h.state(&conversation), ConversationState::Inactive);
    // The bot receives customer messages and may answer the customer.
    let message = h.say("cs-1", 1, "m-1", ChannelTimers::default());
    assert!(has(&message, |e| matches!(
        e,
        Effect::ToBots { bots, .. } if bots[0].id == "bot-1"
    )));
    let mut bot_reply = desk_event(
        CimEventName::BotMessage,
        "b-1",
        "b-1-msg",
        crate::cim::MessageBody::plain("I am a bot"),
    );
    bot_reply.event_emitter = crate::cim::EventEmitter::bot("bot-1", "rasa").into();
    let replied = h.send(Input::BotEvent {
        conversation_id: conversation.clone(),
        event: bot_reply.clone(),
    });
    assert_eq!(customer_deliveries(&replied).len(), 1);
    bot_reply.id = "b-2".into();
    bot_reply.event_emitter = crate::cim::EventEmitter::bot("bot-9", "other").into();
    let stranger = h.send(Input::BotEvent {
        conversation_id: conversation.clone(),
        event: bot_reply,
    });
    assert_eq!(
        rejected(&stranger).map(|e| e.code()),
        Some("bot_not_a_participant")
    );
}

#[test]
fn removing_the_customer_session_through_the_flow_ends_the_conversation() {
    let mut h = Harness::new(external(&["CONVERSATION_STARTED"]));
    let started = h.send(Input::ChatRequested {
        channel_session: Box::new(session("cs-9", 9, ChannelTimers::default())),
    });
    let request_id = studio_calls(&started)[0].0.clone();
    let closed = h.send(Input::StudioActions {
        request_id,
        actions: vec![Action::RemoveChannelSession {
            channel_session_id: None,
            reason: None,
        }],
    });
    assert_eq!(event_names(&closed), ["CHANNEL_SESSION_ENDED"]);
    assert!(has(&closed, |e| matches!(
        e,
        Effect::ConversationClosed { .. }
    )));
}

#[test]
fn a_bot_can_ask_for_an_agent() {
    let mut h = Harness::new(external(&["CONVERSATION_STARTED"]));
    let started = h.send(Input::ChatRequested {
        channel_session: Box::new(session("cs-1", 1, ChannelTimers::default())),
    });
    let request_id = studio_calls(&started)[0].0.clone();
    h.send(Input::StudioActions {
        request_id,
        actions: vec![Action::AssignBot(crate::conversation::AssignBotAction {
            bot_id: "bot-1".into(),
            name: None,
            bot_type: Some("RASA".into()),
            uri: None,
            role: ParticipantRole::Primary,
        })],
    });
    let find = crate::cim::CimEvent::new(
        "fa-1",
        CimEventName::FindAgent,
        crate::cim::CimEventType::Notification,
        "conv-1",
        crate::cim::EventEmitter::bot("bot-1", "Rasa"),
        None,
        json!({"queue": "vip", "requestType": "CHAT", "additionalDetails": null}),
        crate::cim::RoomInfo::contact_center("x"),
        T0,
    );
    let asked = h.send(Input::BotEvent {
        conversation_id: "conv-1".into(),
        event: find,
    });
    assert_eq!(event_names(&asked), ["FIND_AGENT"]);
    let request = find_agent_requests(&asked)[0];
    assert_eq!(request.queue.as_deref(), Some("vip"));
    assert_eq!(request.request_type.as_deref(), Some("CHAT"));
    // A second request while this one is pending is refused by the built-in flow.
    let again = h.send(Input::StudioActions {
        request_id: "unknown".into(),
        actions: vec![Action::FindAgent(FindAgentAction::default())],
    });
    assert!(rejected(&again).is_some());
    assert!(h.core.runtime("conv-1").unwrap().routing_pending);
}

/// Answers every studio call in `effects` (and those its answers raise) with no actions.
fn answer_all(h: &mut Harness, effects: &[Effect]) {
    for (request_id, _, _) in studio_calls(effects) {
        let more = h.send(Input::StudioActions {
            request_id,
            actions: vec![],
        });
        answer_all(h, &more);
    }
}

/// Advances the clock like `Harness::advance`, answering studio calls as they are made.
fn advance_answering(h: &mut Harness, ms: i64) {
    let until = h.now + ms;
    while let Some(at) = h.core.next_deadline().filter(|at| *at <= until) {
        h.now = at;
        let effects = h.send(Input::Tick);
        answer_all(h, &effects);
    }
    h.now = until;
}

#[test]
fn every_intent_of_the_seed_is_raised_with_the_documented_payload() {
    let mut h = Harness::new(external(&[]));
    let timers = ChannelTimers {
        activity: 600,
        response_sla: 40,
        customer_sla: 100,
    };
    let started = h.send(Input::ChatRequested {
        channel_session: Box::new(session("cs-1", 1, timers)),
    });
    let calls = studio_calls(&started);
    h.send(Input::StudioActions {
        request_id: calls[0].0.clone(),
        actions: vec![],
    });
    let bot = h.send(Input::StudioActions {
        request_id: calls[1].0.clone(),
        actions: parse_actions(&json!([{"type": "ASSIGN_BOT", "botId": "bot-1"}])).unwrap(),
    });
    answer_all(&mut h, &bot);
    let conversation = "conv-1".to_owned();
    let find = crate::cim::CimEvent::new(
        "fa-1",
        CimEventName::FindAgent,
        crate::cim::CimEventType::Notification,
        "x",
        crate::cim::EventEmitter::bot("bot-1", "Rasa"),
        None,
        json!({"queue": null, "requestType": null, "additionalDetails": null}),
        crate::cim::RoomInfo::contact_center("x"),
        T0,
    );
    let steps: Vec<Input> = vec![
        Input::BotEvent {
            conversation_id: conversation.clone(),
            event: find,
        },
        Input::TaskEnqueued {
            conversation_id: conversation.clone(),
            task: crate::cim::Task::new("t-1", conversation.clone(), vec![], None),
            queue: crate::cim::QueueRef::new(QUEUE, "Default"),
            agent_sla_secs: None,
        },
        Input::TaskStateChanged {
            conversation_id: conversation.clone(),
            task: crate::cim::Task::new("t-1", conversation.clone(), vec![], None),
        },
    ];
    for input in steps {
        let effects = h.send(input);
        answer_all(&mut h, &effects);
    }
    let said = h.say("cs-1", 1, "m-1", timers);
    answer_all(&mut h, &said);
    let joined = h.join(&conversation, "agent-1", ParticipantRole::Primary);
    answer_all(&mut h, &joined);
    let second = h.join(&conversation, "agent-2", ParticipantRole::Primary);
    answer_all(&mut h, &second);
    advance_answering(&mut h, 40_000);
    let answered = h.agent_says(&conversation, "agent-2", "e-1");
    answer_all(&mut h, &answered);
    for input in [
        Input::Hold {
            conversation_id: conversation.clone(),
            agent_id: "agent-2".into(),
            duration_secs: None,
        },
        Input::Resume {
            conversation_id: conversation.clone(),
            agent_id: "agent-2".into(),
        },
        Input::MrdInterrupted {
            agent_id: "agent-2".into(),
            mrd_id: MRD.into(),
            conversations: vec![conversation.clone()],
        },
    ] {
        let effects = h.send(input);
        answer_all(&mut h, &effects);
    }
    advance_answering(&mut h, 100_000);
    for input in [
        Input::AgentLeft {
            conversation_id: conversation.clone(),
            agent_id: "agent-1".into(),
            reason: None,
        },
        Input::NoAgentAvailable {
            conversation_id: conversation.clone(),
            task: None,
        },
    ] {
        let effects = h.send(input);
        answer_all(&mut h, &effects);
    }
    advance_answering(&mut h, 600_000);

    let log = h.log.clone();
    let raised = studio_calls(&log);
    for intent in crate::conversation::studio::INTENTS {
        let call = raised
            .iter()
            .find(|(_, name, _)| name == intent.as_str())
            .unwrap_or_else(|| panic!("{intent} was never raised"));
        let payload = &call.2["payload"];
        assert_eq!(payload["intent"], intent.as_str());
        assert_eq!(payload["roomId"], "cust-1");
        assert_eq!(payload["conversation"]["id"], conversation.as_str());
        assert_eq!(call.2["_msgid"], json!(call.0));
        if *intent == CimEventName::ConversationStarted {
            assert_eq!(payload["entities"]["channelSession"]["id"], "cs-1");
            continue;
        }
        let event = &payload["entities"]["cimEvent"];
        assert_eq!(event["name"], intent.as_str(), "{intent}");
        assert_eq!(event["conversationId"], conversation.as_str());
        assert_eq!(event["roomInfo"]["id"], "cust-1");
        assert!(event["timestamp"].is_i64() && event["id"].is_string());
        assert!(event["eventEmitter"]["type"].is_string());
    }
    let by_name = |name: &str| {
        raised
            .iter()
            .find(|(_, n, _)| n == name)
            .map(|c| c.2["payload"]["entities"]["cimEvent"].clone())
            .unwrap()
    };
    assert_eq!(
        by_name("AGENT_SLA_EXPIRED")["eventEmitter"]["senderName"],
        "CONVERSATION_MONITOR"
    );
    assert_eq!(
        by_name("AGENT_SLA_EXPIRED")["data"]["id"],
        conversation.as_str()
    );
    assert_eq!(
        by_name("CUSTOMER_SLA_EXPIRED")["data"]["id"],
        conversation.as_str()
    );
    assert_eq!(by_name("TASK_ENQUEUED")["data"]["queue"]["id"], QUEUE);
    assert_eq!(
        by_name("AGENT_SUBSCRIBED")["data"]["agentParticipant"]["role"],
        "PRIMARY"
    );
    assert_eq!(
        by_name("PARTICIPANT_ROLE_CHANGED")["data"]["conversationParticipant"]["type"],
        "BOT"
    );
    assert_eq!(
        by_name("AGENT_MRD_INTERRUPTED")["data"]["agentId"],
        "agent-2"
    );
    assert_eq!(by_name("CHANNEL_SESSION_STARTED")["data"]["id"], "cs-1");
    assert_eq!(
        by_name("CHANNEL_SESSION_EXPIRED")["data"]["state"]["reasonCode"],
        "INACTIVITY"
    );
    assert_eq!(by_name("FIND_AGENT")["eventEmitter"]["id"], "bot-1");
    assert!(!has(&log, |e| matches!(e, Effect::StudioFallback { .. })));
}
