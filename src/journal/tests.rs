//! The conversation core journaled by the recorder on simulated time: a scenario
//! (a chat, an agent, a duplicate, a refusal, typing, SLA timers, a wrap-up) read
//! back from its rows recomputes every input's effects, from the start or from a
//! snapshot taken in its middle; no row holds what anyone wrote; a session a refused
//! input journaled whole is not referred to after.

use super::{read_back, ConversationState, Recorder};
use crate::cim::{ChannelSessionReasonCode, CimEventName, MessageBody, ParticipantRole};
use crate::clock::Millis;
use crate::conversation::tests::support::{
    agent, agent_text, customer_message, desk_event, session, settings, wrapup_event,
    ChannelTimers, T0,
};
use crate::conversation::StoredEvent;
use crate::conversation::{digest, ConversationCore, Effect, Input, SequentialIds};
use crate::site::Steps;
use crate::store::events;
use crate::store::journal::{Entry, Kind};
use crate::store::objects::Interner;
use rusqlite::Connection;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

const TIMERS: ChannelTimers = ChannelTimers {
    activity: 900,
    response_sla: 60,
    customer_sla: 600,
};

struct Journaled {
    core: ConversationCore<SequentialIds>,
    recorder: Recorder,
    now: Millis,
    /// The events the core's steps stored, with their conversation.
    stored: Vec<(String, StoredEvent)>,
}

impl Journaled {
    /// A journaled core at `T0` that has read back no conversation.
    fn started() -> Journaled {
        let mut j = Journaled {
            core: ConversationCore::with_ids(settings(), SequentialIds::default()),
            recorder: Recorder::new(true, 0),
            now: T0,
            stored: Vec::new(),
        };
        j.send(Input::Restore {
            conversations: Vec::new(),
        });
        j
    }

    fn send(&mut self, input: Input) -> Vec<Effect> {
        let effects = self
            .recorder
            .conversation_step(&mut self.core, self.now, input);
        for effect in &effects {
            if let Effect::Persist(step) = effect {
                let id = &step.conversation_id;
                self.stored
                    .extend(step.events.iter().map(|e| (id.clone(), e.clone())));
            }
        }
        effects
    }

    /// The journal's rows, and a database holding the events the steps stored (a
    /// row refers to its message's).
    fn finish(mut self) -> (Vec<Entry>, Connection) {
        let conn = crate::store::test_connection();
        let mut interner = Interner::default();
        for (conversation_id, stored) in &self.stored {
            let message_id = stored.message_id.as_deref();
            events::tests::append_stored(
                &conn,
                &mut interner,
                conversation_id,
                &stored.event,
                stored.seq,
                message_id,
            );
        }
        (self.recorder.take(), conn)
    }

    /// Moves the clock to `until`, ticking at every deadline on the way.
    fn advance_to(&mut self, until: Millis) {
        while let Some(at) = self.core.next_deadline().filter(|at| *at <= until) {
            self.now = at.max(self.now);
            self.send(Input::Tick);
        }
        self.now = until;
    }
}

fn scenario() -> (Vec<Entry>, Connection) {
    let mut j = Journaled::started();
    let session = Arc::new(session("s-1", 1, TIMERS));
    let effects = j.send(Input::CustomerMessage {
        channel_session: session.clone(),
        message: Box::new(customer_message("m-1", 1, "my secret question")),
    });
    let conversation_id = effects
        .iter()
        .find_map(|e| match e {
            Effect::Ack {
                conversation_id, ..
            } => Some(conversation_id.clone()),
            _ => None,
        })
        .expect("acknowledged");
    j.now += 2_000;
    j.send(Input::AgentJoined {
        conversation_id: conversation_id.clone(),
        agent: agent("a-1"),
        role: ParticipantRole::Primary,
        task_id: Some("t-1".into()),
        agent_sla_secs: Some(120),
    });
    j.now += 1_000;
    j.send(Input::AgentEvent {
        conversation_id: conversation_id.clone(),
        agent_id: "a-1".into(),
        event: agent_text("e-1", "my secret answer"),
    });
    // A retry of the first message, and an event for a conversation that is not open.
    j.send(Input::CustomerMessage {
        channel_session: session.clone(),
        message: Box::new(customer_message("m-1", 1, "my secret question")),
    });
    j.send(Input::AgentEvent {
        conversation_id: "no-such-conversation".into(),
        agent_id: "a-1".into(),
        event: agent_text("e-2", "my secret aside"),
    });
    let typing = desk_event(
        CimEventName::TypingStarted,
        "e-3",
        "e-3-msg",
        MessageBody::plain(""),
    );
    j.send(Input::AgentEvent {
        conversation_id: conversation_id.clone(),
        agent_id: "a-1".into(),
        event: typing,
    });
    j.recorder.note_conversations(j.now, &j.core, None);
    j.now += 5_000;
    j.send(Input::CustomerMessage {
        channel_session: session,
        message: Box::new(customer_message("m-2", 1, "my secret follow-up")),
    });
    // The SLA thresholds and the customer's reminder fire on the clock.
    j.advance_to(j.now + 100_000);
    j.send(Input::CustomerLeft {
        channel_session_id: "s-1".into(),
        reason: ChannelSessionReasonCode::Customer,
    });
    j.now += 3_000;
    j.send(Input::CloseWrapup {
        conversation_id,
        agent_id: "a-1".into(),
        event: wrapup_event("e-4"),
    });
    j.advance_to(j.now + 3_600_000);
    j.finish()
}

/// Replays `rows` from the state row at `from`; the recomputed effects of each input
/// compared, in brief.
fn replay_from(conn: &Connection, rows: &[Entry], from: usize) -> Vec<String> {
    let state: ConversationState<SequentialIds> =
        serde_json::from_value(rows[from].input.clone()).unwrap();
    let mut core = ConversationCore::from_state_snapshot(state.settings, state.state);
    let mut sessions = std::collections::HashMap::new();
    let mut compared = Vec::new();
    for (n, row) in rows.iter().enumerate().skip(from + 1) {
        if row.kind == Kind::ConversationState {
            let rebuilt = serde_json::to_value(core.state_snapshot()).unwrap();
            assert_eq!(row.input["state"], rebuilt, "row {n}");
            sessions.clear();
            continue;
        }
        let input = read_back(conn, row, &mut sessions).unwrap().input;
        let effects = core.handle(row.at, input);
        assert_eq!(
            digest::digest(&effects),
            row.digest,
            "row {n}: {}\nexpected {}\nrecomputed {}",
            row.input,
            row.effects,
            digest::brief(&effects)
        );
        compared.push(digest::brief(&effects));
    }
    compared
}

#[test]
fn a_journaled_conversation_replays_from_its_start_and_from_a_snapshot() {
    let (rows, conn) = scenario();
    assert_eq!(rows[0].kind, Kind::ConversationState);
    let states: Vec<usize> = (0..rows.len())
        .filter(|n| rows[*n].kind == Kind::ConversationState)
        .collect();
    assert_eq!(states.len(), 2, "the start and the snapshot");
    let inputs = rows.len() - states.len();
    assert!(inputs >= 10, "{inputs} inputs");
    let briefs = replay_from(&conn, &rows, 0);
    assert_eq!(briefs.len(), inputs);
    assert!(!replay_from(&conn, &rows, states[1]).is_empty());
    // The refusal and the duplicate are journaled with the rest.
    assert!(briefs.iter().any(|b| b.contains("rejected")), "{briefs:?}");
    assert!(briefs.iter().any(|b| b.contains("duplicate")), "{briefs:?}");
}

#[test]
fn no_row_holds_what_was_written_and_a_changed_row_diverges() {
    let (rows, conn) = scenario();
    for row in &rows {
        let text = row.input.to_string();
        assert!(!text.contains("my secret"), "{text}");
    }
    // A message body is a reference to its stored event; the wrap-up keeps its codes.
    let message = rows
        .iter()
        .find(|r| r.input.get("CustomerMessage").is_some())
        .unwrap();
    // A customer's message is its stored event's data; its session, after the first
    // message, the one journaled whole before.
    let kept = &message.input["CustomerMessage"]["message"];
    assert!(kept["$stored"].is_u64(), "{kept}");
    assert_eq!(
        kept.as_object().unwrap().len(),
        1,
        "id and plain type stored: {kept}"
    );
    let later = rows
        .iter()
        .filter(|r| r.input.get("CustomerMessage").is_some())
        .nth(1)
        .unwrap();
    assert_eq!(
        later.input["CustomerMessage"]["channel_session"],
        serde_json::json!({"$session": "s-1"})
    );
    // A desk's event stored as it came keeps its id in the stored event only.
    let answer = rows
        .iter()
        .find(|r| r.input.get("AgentEvent").is_some())
        .unwrap();
    let event = &answer.input["AgentEvent"]["event"];
    assert!(
        event.get("id").is_none() && event["data"]["$stored"].is_u64(),
        "{event}"
    );
    // Only a row that may hold the customer's values is indexed for an erasure.
    assert_eq!(message.kind, Kind::ConversationPersonal);
    assert_eq!(later.kind, Kind::ConversationInput);
    let wrapup = rows
        .iter()
        .find(|r| r.input.get("CloseWrapup").is_some())
        .unwrap();
    let kept = &wrapup.input["CloseWrapup"]["event"]["data"];
    assert_eq!(kept["type"], "WRAPUP", "{kept}");
    assert!(kept["wrapups"].is_array(), "{kept}");
    assert!(kept["$stored"].is_u64(), "{kept}");

    // A journal whose agent joined another conversation is not what the core decides.
    let mut changed = rows.clone();
    let joined = changed
        .iter_mut()
        .find(|r| r.input.get("AgentJoined").is_some())
        .unwrap();
    joined.input["AgentJoined"]["conversation_id"] = serde_json::json!("conv-9");
    let replayed = std::panic::catch_unwind(AssertUnwindSafe(|| replay_from(&conn, &changed, 0)));
    assert!(replayed.is_err(), "the changed join must diverge");
}

#[test]
fn a_message_whose_stored_event_is_gone_reads_back_as_a_stand_in_of_its_type() {
    let (rows, _) = scenario();
    let gone = crate::store::test_connection();
    let mut sessions = std::collections::HashMap::new();
    let message = rows
        .iter()
        .find(|r| r.input.get("CustomerMessage").is_some())
        .unwrap();
    let seq = message.input["CustomerMessage"]["message"]["$stored"].clone();
    let back = read_back(&gone, message, &mut sessions).unwrap();
    assert!(back.stood_in);
    let Input::CustomerMessage { message, .. } = back.input else {
        panic!("a customer's message");
    };
    let conversation = rows[1..]
        .iter()
        .find_map(|r| r.conversation_id.clone())
        .unwrap();
    // Unique like the id it stands for: the core remembers the ids it saw.
    assert_eq!(message.id, format!("$stored-{conversation}-{seq}"));
    assert!(super::conversation::is_stand_in_id(&message.id));
    assert_eq!(
        message.body,
        MessageBody::plain(crate::retention::scrub::ERASED)
    );
    let wrapup = rows
        .iter()
        .find(|r| r.input.get("CloseWrapup").is_some())
        .unwrap();
    let Input::CloseWrapup { event, .. } = read_back(&gone, wrapup, &mut sessions).unwrap().input
    else {
        panic!("a wrap-up");
    };
    let data = event.data.get().unwrap();
    assert_eq!(data["body"]["type"], "WRAPUP", "{data}");
    assert!(event.id.starts_with("$stored-event-"), "{}", event.id);
    assert_ne!(
        Some(event.id.as_str()),
        data["id"].as_str(),
        "two ids, as stored"
    );
    assert!(data["body"]["wrapups"].is_array(), "{data}");
}

/// The row of `event`, an agent's message the core stored as #3.
fn stored_agent_row(event: crate::cim::CimEvent) -> Entry {
    let mut input = Input::AgentEvent {
        conversation_id: "conv-1".into(),
        agent_id: "a-1".into(),
        event: event.clone(),
    };
    let encoded = super::conversation::encode(&Default::default(), &mut input).unwrap();
    assert_eq!(
        input,
        Input::AgentEvent {
            conversation_id: "conv-1".into(),
            agent_id: "a-1".into(),
            event: event.clone(),
        },
        "the core gets the input as it came"
    );
    let message_id = event.data.get().unwrap()["id"].as_str().unwrap().to_owned();
    let stored = crate::conversation::StoredEvent {
        seq: 3,
        message_id: Some(message_id),
        event: Arc::new(event),
    };
    let persist = crate::conversation::PersistStep {
        conversation_id: "conv-1".into(),
        last_seq: 3,
        record: None,
        runtime: Default::default(),
        events: vec![stored],
    };
    super::conversation::entry(T0, encoded, &[&Effect::Persist(Box::new(persist))], 0).unwrap()
}

#[test]
fn a_stored_row_keeps_only_what_no_client_wrote_else_an_erasure_scrubs_it() {
    let plain = stored_agent_row(agent_text("e-1", "my secret answer"));
    assert_eq!(plain.kind, Kind::ConversationInput, "{}", plain.input);
    // A type this build does not know is what the client wrote.
    let odd = MessageBody::Other {
        body_type: "Jane Doe +1 555 0100".into(),
        fields: Default::default(),
    };
    let odd = stored_agent_row(desk_event(
        CimEventName::AgentMessage,
        "e-2",
        "e-2-msg",
        odd,
    ));
    assert_eq!(odd.kind, Kind::ConversationPersonal, "{}", odd.input);
    let wrapup = stored_agent_row(wrapup_event("e-3"));
    assert_eq!(wrapup.kind, Kind::ConversationPersonal, "{}", wrapup.input);
}

#[test]
fn a_session_a_refused_input_journaled_whole_is_no_longer_referred_to() {
    let mut j = Journaled::started();
    let first = Arc::new(session("s-1", 1, TIMERS));
    j.send(Input::CustomerMessage {
        channel_session: first.clone(),
        message: Box::new(customer_message("m-1", 1, "hello")),
    });
    // Another copy of the session, journaled whole with an input the core refuses (a
    // message without an id): a replay keeps that copy for the id.
    let mut other = session("s-1", 1, TIMERS);
    other.latest_intent = serde_json::json!("ASK").into();
    j.send(Input::CustomerMessage {
        channel_session: Arc::new(other),
        message: Box::new(customer_message("", 1, "refused")),
    });
    j.send(Input::CustomerMessage {
        channel_session: first,
        message: Box::new(customer_message("m-2", 1, "again")),
    });
    let rows = j.recorder.take();
    let kept = |n: usize| rows[rows.len() - n].input["CustomerMessage"]["channel_session"].clone();
    assert_eq!(
        kept(2)["latestIntent"],
        "ASK",
        "the refused input's copy, whole"
    );
    assert!(
        kept(1).get(super::SESSION).is_none(),
        "the first copy is journaled whole again, not referred to: {}",
        kept(1)
    );
}
