//! Restart: a conversation rebuilt from what the store holds keeps its state, its
//! sequence, its remembered ids and fires its timers at their original deadlines.

use super::support::*;
use crate::cim::{CimEventName, ConversationState, ParticipantRole};
use crate::conversation::{
    ConversationRecord, ConversationRuntime, Effect, Input, RestoredConversation,
};

/// What a driver would have written: the last record and runtime of each conversation,
/// its last seq and its stored message ids.
fn stored(h: &Harness) -> Vec<RestoredConversation> {
    let mut records: std::collections::HashMap<String, ConversationRecord> = Default::default();
    let mut runtimes: std::collections::HashMap<String, (ConversationRuntime, u64)> =
        Default::default();
    let mut ids: std::collections::HashMap<String, Vec<(String, u64)>> = Default::default();
    for effect in &h.log {
        if let Effect::Persist(step) = effect {
            if let Some(record) = &step.record {
                records.insert(step.conversation_id.clone(), (**record).clone());
            }
            runtimes.insert(
                step.conversation_id.clone(),
                (step.runtime.clone(), step.last_seq),
            );
            for event in &step.events {
                if let Some(id) = &event.message_id {
                    ids.entry(step.conversation_id.clone())
                        .or_default()
                        .push((id.clone(), event.seq));
                }
            }
        }
    }
    records
        .into_iter()
        .filter(|(_, r)| r.conversation.state != ConversationState::Closed)
        .map(|(id, record)| {
            let (runtime, last_seq) = runtimes.remove(&id).unwrap();
            RestoredConversation {
                record,
                runtime,
                last_seq,
                recent_ids: ids.remove(&id).unwrap_or_default(),
            }
        })
        .collect()
}

#[test]
fn a_restored_conversation_fires_its_timers_at_the_original_deadlines() {
    let timers = ChannelTimers {
        activity: 600,
        response_sla: 40,
        ..ChannelTimers::default()
    };
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, timers);
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    let sla_started = h.now;
    h.advance(25_000); // past the 50 % notification
    let deadline = h.core.next_deadline();
    let last_seq = h.core.last_seq(&conversation);

    // The process dies; a new core is rebuilt from the store.
    let mut restarted = Harness::new(settings());
    restarted.now = h.now + 2_000;
    restarted.restore(stored(&h));
    assert_eq!(restarted.core.next_deadline(), deadline);
    assert_eq!(restarted.core.last_seq(&conversation), last_seq);
    assert_eq!(restarted.state(&conversation), ConversationState::Active);
    assert_eq!(
        restarted.core.agent_conversations("agent-1"),
        std::slice::from_ref(&conversation)
    );

    // 80 % at 32 s, expiry at 40 s after the SLA started, as if nothing happened.
    let at_80 = restarted.advance_to(sla_started + 32_000);
    assert!(has(&at_80, |e| matches!(
        e,
        Effect::AgentSlaThreshold { percent: 80, .. }
    )));
    let expired = restarted.advance_to(sla_started + 40_000);
    let event = find_event(&expired, CimEventName::AgentSlaExpired).unwrap();
    assert_eq!(event.timestamp, sla_started + 40_000);
    let seqs: Vec<u64> = persists(&expired)[0].events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs[0], last_seq.unwrap() + 1, "the sequence continues");

    // A retry of a message stored before the restart is still a duplicate.
    let retry = restarted.say("cs-1", 1, "cs-1-m0", timers);
    assert!(matches!(
        retry.as_slice(),
        [Effect::Ack {
            duplicate: true,
            seq: 2,
            ..
        }]
    ));
    // The customer is still found in the restored conversation.
    assert_eq!(
        restarted.core.conversation_of_customer("cust-1"),
        Some(conversation.as_str())
    );
}

#[test]
fn a_restored_wrapup_ends_on_time_and_an_overdue_timer_fires_at_once() {
    let mut h = Harness::new(settings());
    let conversation = h.start("cs-1", 1, ChannelTimers::default());
    h.join(&conversation, "agent-1", ParticipantRole::Primary);
    h.send(Input::AgentLeft {
        conversation_id: conversation.clone(),
        agent_id: "agent-1".into(),
        reason: None,
    });
    let left_at = h.now;
    let mut restarted = Harness::new(settings());
    restarted.now = left_at + 90_000; // down longer than the 60 s wrap-up
    restarted.restore(stored(&h));
    assert_eq!(restarted.core.next_deadline(), Some(left_at + 60_000));
    let fired = restarted.send(Input::Tick);
    assert!(has(&fired, |e| matches!(
        e,
        Effect::WrapupEnded {
            timed_out: true,
            ..
        }
    )));
    // The agent request made before the restart is still pending (routing restores its task).
    assert!(
        restarted
            .core
            .runtime(&conversation)
            .unwrap()
            .routing_pending
    );
}
