//! Scenarios of the whole site on the virtual clock: a chat, a RONA, a restart, and
//! the seams where two drivers used to disagree; the helpers the other scenario
//! files share (`pair_transfers`, `pair_departures`).

use super::*;
use crate::cim::{ChannelSessionReasonCode, ParticipantRole};
use crate::routing::{
    AgentStateName, Direction, Disposition, Effect as R, MediaState, NewTask, RevokeReason,
    SelectionPolicy, TaskMode,
};
use serde_json::json;

pub(super) fn accept(w: &mut World, agent: usize, task_id: &str) -> Vec<SiteEffect> {
    let agent = Box::new(w.agent(agent));
    w.send(SiteInput::Accept {
        agent,
        task_id: task_id.to_string(),
    })
}

pub(super) fn leave(w: &mut World, agent: usize, conversation_id: &str) -> Vec<SiteEffect> {
    let agent_id = w.agent_id(agent);
    w.send(SiteInput::Leave {
        agent_id,
        conversation_id: conversation_id.to_string(),
        reason: "AGENT_LEFT".into(),
    })
}

/// Agent `from` asks for a direct transfer of `own` to agent `to`, which runs out
/// after 30 s if nobody takes it.
pub(super) fn transfer_with_ttl(w: &mut World, from: usize, to: usize, own: &routing::Task) {
    let mut request = assistance(w, from, to, own, "DIRECT_TRANSFER");
    request.agent_request_ttl_ms = Some(30_000);
    w.routing(routing::Input::EnqueueTask(Box::new(request)));
}

pub(super) fn not_ready(w: &mut World, agent: usize) -> Vec<SiteEffect> {
    let agent_id = w.agent_id(agent);
    w.routing(routing::Input::SetAgentState {
        agent_id,
        state: RequestedAgentState::NotReady,
        reason_code: None,
    })
}

/// Customer `n` starts a chat that agent `agent` is offered and accepts.
pub(super) fn served(w: &mut World, n: u32, agent: usize) -> (String, Arc<routing::Task>) {
    let effects = w.customer_says(&format!("cs-{n}"), n, "hello");
    let task = offered_to(&effects, &w.agent_id(agent)).expect("offered");
    accept(w, agent, &task.id);
    (w.conversation_of(n).expect("open"), task)
}

/// Agent 1 serves customer 1's chat and asks for a `kind` request (transfer or
/// conference) that agent 2 is offered: the conversation, agent 1's task and the offer.
pub(super) fn asked_of_agent_2(
    w: &mut World,
    kind: &str,
) -> (String, Arc<routing::Task>, Arc<routing::Task>) {
    w.ready(1);
    let (conversation, own) = served(w, 1, 1);
    w.ready(2);
    let request = assistance(w, 1, 2, &own, kind);
    let effects = w.routing(routing::Input::EnqueueTask(Box::new(request)));
    let offered = offered_to(&effects, &w.agent_id(2)).expect("offered to agent 2");
    (conversation, own, offered)
}

/// Agent `agent` joins `conversation_id` in `role` without a task of it (a supervisor
/// looking in or barging in).
pub(super) fn joins_without_task(
    w: &mut World,
    conversation_id: &str,
    agent: usize,
    role: ParticipantRole,
) -> Vec<SiteEffect> {
    let agent = w.agent(agent);
    w.conversation(conversation::Input::AgentJoined {
        conversation_id: conversation_id.to_string(),
        agent,
        role,
        task_id: None,
        agent_sla_secs: None,
    })
}

pub(super) fn role_of(w: &World, conversation_id: &str, agent: usize) -> Option<ParticipantRole> {
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

pub(super) fn refused(effects: &[SiteEffect]) -> bool {
    effects.iter().any(|e| {
        matches!(
            e,
            SiteEffect::Routing(R::Rejected { .. })
                | SiteEffect::Conversation(conversation::Effect::Rejected(_))
        )
    })
}

pub(super) fn persists(effects: &[SiteEffect]) -> bool {
    effects.iter().any(|e| {
        matches!(
            e,
            SiteEffect::Conversation(conversation::Effect::Persist(_))
        )
    })
}

/// What a desk's transfer or conference request enqueues (`agents::handlers::assist`).
pub(super) fn assistance(
    w: &World,
    from: usize,
    to: usize,
    own: &routing::Task,
    kind: &str,
) -> NewTask {
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
    joins_without_task(&mut w, &conversation, 2, ParticipantRole::SilentMonitor);
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
