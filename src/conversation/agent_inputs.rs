//! Inputs from the agent manager (desk requests) and from bots: joining, leaving,
//! publishing events, role changes, hold, ending the conversation (wrap-up closes in
//! `wrapup_close`). Every
//! handler checks the conversation, the participant and the request before it changes
//! anything. What every published event goes through (its ids and the retry check, its
//! stamp, its ack) is in `published`.

use serde_json::Value;

use super::core::{lookup, OpenMap};
use super::effect::Effect;
use super::error::CoreError;
use super::events::agent_emitter;
use super::ids::IdGen;
use super::open::{is_serving_role, OpenConversation};
use super::published::{
    ack, client_ids, is_content, message_of, require_event_id, set_sender, stamp, stored_before,
};
use super::step::Ctx;
use super::studio::IntentFacts;
use super::typing::is_typing;
use crate::cim::{
    CcUser, ChannelSessionReasonCode, CimError, CimEvent, CimEventName, ConversationState,
    FindAgentData, ParticipantRole, TaskStateReason,
};

pub(super) fn not_a_participant(conversation_id: &str, agent_id: &str) -> CoreError {
    CoreError::NotAParticipant {
        conversation_id: conversation_id.to_owned(),
        agent_id: agent_id.to_owned(),
    }
}

fn invalid_state(conversation: &OpenConversation, action: &'static str) -> CoreError {
    CoreError::InvalidState {
        conversation_id: conversation.id.clone(),
        state: conversation.state().clone(),
        action,
    }
}

pub(super) fn agent_joined<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    agent: CcUser,
    role: ParticipantRole,
    task_id: Option<String>,
    agent_sla_secs: Option<u32>,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    if agent.id.trim().is_empty() {
        return Err(CimError::missing("agent.id").into());
    }
    if !agent_role_allowed(&role) {
        return Err(CoreError::InvalidRole {
            role: role.to_string(),
            action: "join as",
        });
    }
    join_refusal(conversation, &agent.id).map_or(Ok(()), Err)?;
    let wrapping_up = conversation
        .agent(&agent.id)
        .is_some_and(|p| p.role == ParticipantRole::WrapUp);
    if wrapping_up {
        conversation.finish_wrapup(cx, &agent.id, false);
    }
    if let Some(secs) = agent_sla_secs {
        conversation.runtime.agent_sla_secs = Some(secs);
    }
    conversation.add_agent(cx, agent, role, task_id);
    Ok(())
}

/// Why the conversation would not take `agent_id` now, if it would not: the customer
/// is gone or the conversation is wrapping up, or the agent is in it already (an
/// agent in wrap-up may come back).
pub(super) fn join_refusal(conversation: &OpenConversation, agent_id: &str) -> Option<CoreError> {
    if !conversation.customer_present()
        || matches!(
            conversation.state(),
            ConversationState::WrapUp | ConversationState::CustomerLeft
        )
    {
        return Some(invalid_state(conversation, "join"));
    }
    match conversation.agent(agent_id) {
        Some(p) if p.role != ParticipantRole::WrapUp => Some(CoreError::AlreadyParticipant {
            conversation_id: conversation.id.clone(),
            agent_id: agent_id.to_owned(),
        }),
        _ => None,
    }
}

pub(super) fn agent_left<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    agent_id: &str,
    reason: Option<String>,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    let index = conversation
        .agent_index(agent_id)
        .ok_or_else(|| not_a_participant(conversation_id, agent_id))?;
    if conversation.conversation.participants[index].role == ParticipantRole::WrapUp {
        return Err(CoreError::InWrapup {
            agent_id: agent_id.to_owned(),
            action: "leave before closing the wrap-up",
        });
    }
    conversation.agent_leaves(cx, index, reason.as_deref().unwrap_or("AGENT_LEFT"));
    Ok(())
}

pub(super) fn agent_removed<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    agent_id: &str,
    task_id: &str,
    reason: &str,
    task_requeued: bool,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    let index = conversation
        .agent_index(agent_id)
        .ok_or_else(|| not_a_participant(conversation_id, agent_id))?;
    let serving = conversation
        .runtime
        .agent_tasks
        .get(agent_id)
        .is_some_and(|own| own == task_id);
    if !serving {
        // Routing took back an offer of this chat from an agent that is in it
        // otherwise (a supervisor looking in): its place is not that task's.
        return Ok(());
    }
    let was_primary =
        conversation.conversation.participants[index].role == ParticipantRole::Primary;
    conversation.drop_agent(cx, index, None, reason, true);
    conversation.promote_if_no_primary(cx);
    if task_requeued && conversation.served_through_a_task() {
        // Another agent routing brought in serves the chat still (a consulted one):
        // the task need not wait for one. A PRIMARY's ends as a transfer to the
        // assistant that took over; an assistant's part is simply over.
        cx.effect(Effect::AgentTaskEnded {
            conversation_id: conversation_id.to_owned(),
            agent_id: agent_id.to_owned(),
            task_id: Some(task_id.to_owned()),
            disposition: if was_primary {
                TaskStateReason::Transferred
            } else {
                TaskStateReason::AgentLogout
            },
            wrap_up: false,
        });
    } else if task_requeued && conversation.customer_present() {
        // The agent's task went back to its queue: that task is the request now, and
        // only its end settles it.
        conversation.runtime.routing_pending = true;
        conversation.runtime.pending_task_id = Some(task_id.to_owned());
    }
    conversation.settle(cx);
    Ok(())
}

/// The agent logged out: it leaves the conversations it is in without a task of
/// them (see [`super::Input::AgentLoggedOut`]), in conversation id order.
pub(super) fn agent_logged_out<I: IdGen>(open: &mut OpenMap, cx: &mut Ctx<'_, I>, agent_id: &str) {
    let mut present: Vec<String> = open
        .iter()
        .filter(|(_, c)| !c.closed && !c.runtime.agent_tasks.contains_key(agent_id))
        .filter(|(_, c)| {
            c.agent(agent_id)
                .is_some_and(|p| p.role != ParticipantRole::WrapUp)
        })
        .map(|(id, _)| id.clone())
        .collect();
    present.sort();
    for id in present {
        let Some(conversation) = open.get_mut(&id) else {
            continue;
        };
        let Some(index) = conversation.agent_index(agent_id) else {
            continue;
        };
        // A serving joiner's end tells routing (a pull-mode request it joined).
        conversation.drop_agent(
            cx,
            index,
            Some(TaskStateReason::AgentLogout),
            "AGENT_LOGOUT",
            true,
        );
        conversation.promote_if_no_primary(cx);
        conversation.settle(cx);
    }
}

/// Event names a desk may publish into a conversation.
fn desk_may_publish(name: &CimEventName) -> bool {
    matches!(
        name,
        CimEventName::AgentMessage
            | CimEventName::WhisperMessage
            | CimEventName::TypingStarted
            | CimEventName::TypingStopped
            | CimEventName::MessageDeliveryNotification
    )
}

pub(super) fn agent_event<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    agent_id: &str,
    mut event: CimEvent,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    let participant = conversation
        .agent(agent_id)
        .ok_or_else(|| not_a_participant(conversation_id, agent_id))?
        .clone();
    let role = participant.role.clone();
    let user = participant
        .as_cc_user()
        .cloned()
        .ok_or_else(|| not_a_participant(conversation_id, agent_id))?;
    match role {
        ParticipantRole::WrapUp => {
            return Err(CoreError::InWrapup {
                agent_id: agent_id.to_owned(),
                action: "publish events",
            })
        }
        ParticipantRole::SilentMonitor => {
            return Err(CoreError::SilentMonitor {
                agent_id: agent_id.to_owned(),
            })
        }
        // A whisperer's messages are whispers, whatever the desk called them.
        ParticipantRole::Whisper if event.name == CimEventName::AgentMessage => {
            event.name = CimEventName::WhisperMessage;
        }
        _ => {}
    }
    if !desk_may_publish(&event.name) {
        return Err(CoreError::EventNotAllowed {
            name: event.name.to_string(),
        });
    }
    require_event_id(&event)?;
    let message = message_of(&event)?;
    let ids = client_ids(&event, message.as_ref());
    if let Some(seq) = stored_before(cx, conversation_id, &ids)? {
        ack(cx, &event.id, conversation_id, seq, true);
        return Ok(());
    }
    if is_typing(&event.name) {
        stamp(&mut event, conversation, cx.now);
        event.event_emitter = agent_emitter(&user, &role).into();
        if message.is_some() {
            set_sender(&mut event, &participant, conversation, cx.origins);
        }
        let event_id = event.id.clone();
        conversation.emit_typing(cx, agent_id, Some(agent_id), event, event_id);
        return Ok(());
    }
    // A wrap-up published as a message is the agents' only: it answers nobody.
    let answers_customer = is_serving_role(&role)
        && event.name == CimEventName::AgentMessage
        && is_content(message.as_ref())
        && !super::audience::is_wrap_up(&event);
    if answers_customer && conversation.on_hold() {
        conversation.resume(cx, Some(agent_id.to_owned()));
    }
    stamp(&mut event, conversation, cx.now);
    event.event_emitter = agent_emitter(&user, &role).into();
    if message.is_some() {
        set_sender(&mut event, &participant, conversation, cx.origins);
    }
    let event_id = event.id.clone();
    let message_id = message.map(|m| m.id);
    let seq = conversation.emit(cx, event, message_id);
    for id in ids {
        conversation.remember_id(cx, id, seq);
    }
    ack(cx, &event_id, conversation_id, seq, false);
    if answers_customer {
        conversation.runtime.timers.agent_sla = None;
        conversation.runtime.awaiting_agent_reply = false;
        conversation.touch(cx);
        if conversation.customer_present() {
            conversation.maybe_start_customer_sla(cx);
        }
    }
    Ok(())
}

fn agent_role_allowed(role: &ParticipantRole) -> bool {
    matches!(
        role,
        ParticipantRole::Primary
            | ParticipantRole::Assistant
            | ParticipantRole::SilentMonitor
            | ParticipantRole::Whisper
    )
}

pub(super) fn change_role<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    agent_id: &str,
    role: ParticipantRole,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    let index = conversation
        .agent_index(agent_id)
        .ok_or_else(|| not_a_participant(conversation_id, agent_id))?;
    let current = conversation.conversation.participants[index].role.clone();
    if current == ParticipantRole::WrapUp {
        return Err(CoreError::InWrapup {
            agent_id: agent_id.to_owned(),
            action: "change role",
        });
    }
    if !agent_role_allowed(&role) {
        return Err(CoreError::InvalidRole {
            role: role.to_string(),
            action: "change to",
        });
    }
    if current == role {
        return Ok(());
    }
    if role == ParticipantRole::Primary {
        let primaries: Vec<usize> = conversation
            .active_agent_indices()
            .into_iter()
            .filter(|i| {
                *i != index
                    && conversation.conversation.participants[*i].role == ParticipantRole::Primary
            })
            .collect();
        for other in primaries {
            conversation.change_role(
                cx,
                other,
                ParticipantRole::Assistant,
                Some("PRIMARY_CHANGED"),
            );
        }
    }
    let stops_serving = is_serving_role(&current) && !is_serving_role(&role);
    conversation.change_role(cx, index, role, Some("ROLE_CHANGED"));
    if stops_serving {
        conversation.end_serving_task(cx, index);
    }
    conversation.promote_if_no_primary(cx);
    conversation.settle(cx);
    Ok(())
}

fn serving_agent<'a>(
    conversation: &'a OpenConversation,
    agent_id: &str,
    action: &'static str,
) -> Result<&'a crate::cim::Participant, CoreError> {
    let participant = conversation
        .agent(agent_id)
        .ok_or_else(|| not_a_participant(&conversation.id, agent_id))?;
    if !is_serving_role(&participant.role) {
        return Err(CoreError::InvalidRole {
            role: participant.role.to_string(),
            action,
        });
    }
    Ok(participant)
}

pub(super) fn hold<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    agent_id: &str,
    duration_secs: Option<u64>,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    serving_agent(conversation, agent_id, "put a conversation on hold as")?;
    if *conversation.state() != ConversationState::Active {
        return Err(invalid_state(conversation, "hold"));
    }
    conversation.hold(cx, Some(agent_id.to_owned()), duration_secs);
    Ok(())
}

pub(super) fn resume<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    agent_id: &str,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    serving_agent(conversation, agent_id, "resume a conversation as")?;
    if *conversation.state() != ConversationState::OnHold {
        return Err(invalid_state(conversation, "resume"));
    }
    conversation.resume(cx, Some(agent_id.to_owned()));
    Ok(())
}

pub(super) fn end_conversation<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    agent_id: Option<String>,
    reason: Option<ChannelSessionReasonCode>,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    if let Some(agent_id) = &agent_id {
        serving_agent(conversation, agent_id, "end a conversation as")?;
    }
    let default_reason = if agent_id.is_some() {
        ChannelSessionReasonCode::Agent
    } else {
        ChannelSessionReasonCode::ForceClosed
    };
    let reason = reason.unwrap_or(default_reason);
    if *conversation.state() == ConversationState::WrapUp {
        if agent_id.is_some() {
            return Err(invalid_state(conversation, "end"));
        }
        conversation.close(cx, reason);
    } else {
        conversation.end_conversation(cx, reason);
    }
    Ok(())
}

/// Event names a bot may publish.
fn bot_may_publish(name: &CimEventName) -> bool {
    matches!(
        name,
        CimEventName::BotMessage
            | CimEventName::BotSuggestion
            | CimEventName::FindAgent
            | CimEventName::TypingStarted
            | CimEventName::TypingStopped
    )
}

/// FIND_AGENT `data.queue` is a queue id/name or a `{id, name}` object.
fn find_agent_facts(event: &CimEvent) -> IntentFacts {
    let data: FindAgentData = event.data_as().unwrap_or(FindAgentData {
        queue: Default::default(),
        request_type: Default::default(),
        additional_details: Default::default(),
        extra: Default::default(),
    });
    let queue = match data.queue.get() {
        Some(Value::String(q)) if !q.trim().is_empty() => Some(q.clone()),
        Some(Value::Object(q)) => q
            .get("id")
            .or_else(|| q.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    };
    IntentFacts {
        queue,
        request_type: data.request_type.get().cloned(),
        reason: None,
    }
}

pub(super) fn bot_event<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    mut event: CimEvent,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    let bot_id = event
        .event_emitter
        .get()
        .map(|e| e.id.clone())
        .filter(|id| !id.trim().is_empty())
        .ok_or_else(|| CoreError::from(CimError::missing("cimEvent.eventEmitter.id")))?;
    if !conversation.active_bots().iter().any(|b| b.id == bot_id) {
        return Err(CoreError::BotNotAParticipant {
            conversation_id: conversation_id.to_owned(),
            bot_id,
        });
    }
    if !bot_may_publish(&event.name) {
        return Err(CoreError::EventNotAllowed {
            name: event.name.to_string(),
        });
    }
    require_event_id(&event)?;
    let message = message_of(&event)?;
    let ids = client_ids(&event, message.as_ref());
    if let Some(seq) = stored_before(cx, conversation_id, &ids)? {
        ack(cx, &event.id, conversation_id, seq, true);
        return Ok(());
    }
    stamp(&mut event, conversation, cx.now);
    let event_id = event.id.clone();
    if is_typing(&event.name) {
        conversation.emit_typing(cx, &bot_id, None, event, event_id);
        return Ok(());
    }
    let expects_answer = event.name == CimEventName::BotMessage && is_content(message.as_ref());
    let seq = if event.name == CimEventName::FindAgent {
        let facts = find_agent_facts(&event);
        conversation.emit_with_intent(cx, event, facts)
    } else {
        conversation.emit(cx, event, message.map(|m| m.id))
    };
    for id in ids {
        conversation.remember_id(cx, id, seq);
    }
    ack(cx, &event_id, conversation_id, seq, false);
    if expects_answer && conversation.customer_present() {
        conversation.maybe_start_customer_sla(cx);
    }
    Ok(())
}
