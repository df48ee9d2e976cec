//! Messages left outside business hours on simulated time: stored but not routed, no
//! greeting and no inactivity expiry while waiting, routed at the hours-open deadline
//! (also after a restart), and moved or released at once when the hours change.

use super::support::*;
use crate::cim::CimEventName;
use crate::conversation::{Effect, Input};

const HOUR: i64 = 3_600_000;

fn leave(h: &mut Harness, session_id: &str, customer: u32, opens_at: Option<i64>) -> Vec<Effect> {
    h.send(Input::MessageLeft {
        channel_session: Box::new(session(session_id, customer, ChannelTimers::default())),
        message: Box::new(customer_message(
            &format!("{session_id}-m0"),
            customer,
            "Please call me back",
        )),
        opens_at,
    })
}

fn conversation_of(effects: &[Effect]) -> String {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Ack {
                conversation_id, ..
            } => Some(conversation_id.clone()),
            _ => None,
        })
        .expect("an ack")
}

#[test]
fn a_left_message_waits_for_the_hours_then_is_routed() {
    let mut h = Harness::new(settings());
    let opens = T0 + 10 * HOUR;
    let left = leave(&mut h, "cs-1", 1, Some(opens));
    let conversation = conversation_of(&left);
    assert!(
        event_names(&left).contains(&"CUSTOMER_MESSAGE".to_owned()),
        "{:?}",
        event_names(&left)
    );
    assert!(
        find_agent_requests(&left).is_empty(),
        "not routed while closed"
    );
    assert!(
        studio_texts(&left).is_empty(),
        "no greeting for a left message"
    );
    // The only deadline is the opening: no inactivity expiry while it waits.
    assert_eq!(h.core.next_deadline(), Some(opens));
    let before = h.advance_to(opens - 1);
    assert!(find_agent_requests(&before).is_empty());
    assert!(find_event(&before, CimEventName::ChannelSessionExpired).is_none());
    let opened = h.advance(1);
    let requests = find_agent_requests(&opened);
    assert_eq!(requests.len(), 1, "routed when the hours open");
    assert_eq!(requests[0].conversation_id, conversation);
    assert_eq!(requests[0].queue.as_deref(), Some(QUEUE));
}

#[test]
fn a_message_left_while_open_is_routed_at_once() {
    let mut h = Harness::new(settings());
    let left = leave(&mut h, "cs-1", 1, Some(T0));
    assert_eq!(find_agent_requests(&left).len(), 1);
}

#[test]
fn new_hours_move_the_opening_or_open_at_once() {
    let mut h = Harness::new(settings());
    leave(&mut h, "cs-1", 1, None);
    leave(&mut h, "cs-2", 2, Some(T0 + 48 * HOUR));
    assert_eq!(h.core.next_deadline(), Some(T0 + 48 * HOUR));
    // Another channel's hours change nothing here.
    let other = h.send(Input::HoursChanged {
        channel_id: "ch-other".into(),
        opens_at: Some(T0),
    });
    assert!(find_agent_requests(&other).is_empty());
    let moved = h.send(Input::HoursChanged {
        channel_id: "ch-1".into(),
        opens_at: Some(T0 + HOUR),
    });
    assert!(find_agent_requests(&moved).is_empty());
    assert_eq!(h.core.next_deadline(), Some(T0 + HOUR));
    h.advance(HOUR / 2);
    let now_open = h.send(Input::HoursChanged {
        channel_id: "ch-1".into(),
        opens_at: Some(h.now),
    });
    assert_eq!(
        find_agent_requests(&now_open).len(),
        2,
        "both routed at once"
    );
}

#[test]
fn the_customer_writing_again_does_not_start_the_chat_early() {
    let mut h = Harness::new(settings());
    let opens = T0 + 5 * HOUR;
    leave(&mut h, "cs-1", 1, Some(opens));
    let again = h.say("cs-1", 1, "m-2", ChannelTimers::default());
    assert!(find_agent_requests(&again).is_empty());
    assert_eq!(h.core.next_deadline(), Some(opens));
    assert_eq!(find_agent_requests(&h.advance_to(opens)).len(), 1);
}

#[test]
fn the_wait_survives_a_restart() {
    let mut h = Harness::new(settings());
    let opens = T0 + 3 * HOUR;
    let left = leave(&mut h, "cs-1", 1, Some(opens));
    let conversation = conversation_of(&left);
    let stored = h.core.conversation(&conversation).expect("open");
    let restored = crate::conversation::RestoredConversation {
        record: stored,
        runtime: persists(&left).last().expect("persisted").runtime.clone(),
        last_seq: persists(&left).last().unwrap().last_seq,
        recent_ids: vec![],
    };
    let mut after = Harness::new(settings());
    after.now = h.now;
    after.restore(vec![restored]);
    assert_eq!(after.core.next_deadline(), Some(opens));
    assert_eq!(find_agent_requests(&after.advance_to(opens)).len(), 1);
}
