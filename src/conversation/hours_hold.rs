//! Messages left outside business hours: a conversation that holds its customer's
//! message and is not routed until the channel's hours open.
//!
//! `MessageLeft` creates the conversation as a chat would (customer session, the
//! message stored) but marks it `waiting_for_hours` with the `hours_open` deadline
//! the channel layer computed from the schedule: no greeting, no agent request (from
//! any flow), and no customer inactivity expiry while it waits (the customer has
//! left). At the deadline (a timer like any other, so it survives a restart), or at
//! once when an admin's new hours are open, the conversation asks routing for an agent
//! on its channel's queue. `HoursChanged` moves the deadline of every waiting
//! conversation of a channel when its hours change.

use std::sync::Arc;

use super::core::OpenMap;
use super::customer_inputs::customer_message;
use super::error::CoreError;
use super::ids::IdGen;
use super::open::OpenConversation;
use super::step::Ctx;
use super::studio::FindAgentAction;
use crate::cim::{ChannelSession, CimMessage};
use crate::clock::Millis;

/// Stores a message left while the channel is closed; routed at `opens_at` (`None`:
/// the hours never open as set now; an admin's change sets it).
pub(super) fn message_left<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    session: ChannelSession,
    message: CimMessage,
    opens_at: Option<Millis>,
) -> Result<(), CoreError> {
    let held = opens_at.is_none_or(|at| at > cx.now);
    let customer = session.customer.id().map(str::to_owned);
    let had_open = customer
        .as_deref()
        .and_then(|c| cx.index.by_customer.get(c))
        .is_some_and(|id| open.contains_key(id));
    customer_message(open, cx, Arc::new(session), message)?;
    if had_open || !held {
        // A running chat takes the message as any other; an open channel routes it now.
        return Ok(());
    }
    let Some(conversation) = customer
        .as_deref()
        .and_then(|c| cx.index.by_customer.get(c).cloned())
        .and_then(|id| open.get_mut(&id))
    else {
        return Ok(());
    };
    conversation.runtime.waiting_for_hours = true;
    conversation.runtime.timers.hours_open = opens_at;
    conversation.runtime.timers.customer_activity.clear();
    conversation.runtime.awaiting_agent_reply = true;
    conversation.touch(cx);
    Ok(())
}

/// The channel's hours changed: every conversation waiting on it now opens at
/// `opens_at` (at once when that is not in the future).
pub(super) fn hours_changed<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    channel_id: &str,
    opens_at: Option<Millis>,
) -> Result<(), CoreError> {
    let mut waiting: Vec<String> = open
        .values()
        .filter(|c| c.runtime.waiting_for_hours)
        .filter(|c| {
            c.current_session()
                .is_some_and(|s| s.channel.id == channel_id)
        })
        .map(|c| c.id.clone())
        .collect();
    // In a stable order: the effects' order is journaled (`conversation::digest`).
    waiting.sort();
    for id in waiting {
        let Some(conversation) = open.get_mut(&id) else {
            continue;
        };
        conversation.runtime.timers.hours_open = opens_at;
        conversation.touch(cx);
        if opens_at.is_some_and(|at| at <= cx.now) {
            release(conversation, cx);
        }
    }
    Ok(())
}

/// The hours opened: the conversation asks for an agent like a new chat.
pub(super) fn release<I: IdGen>(conversation: &mut OpenConversation, cx: &mut Ctx<'_, I>) {
    conversation.runtime.waiting_for_hours = false;
    conversation.runtime.timers.hours_open = None;
    conversation.touch(cx);
    if let Err(reason) = conversation.find_agent(cx, &FindAgentAction::default()) {
        tracing::warn!(conversation = %conversation.id, %reason, "a left message could not be routed when the hours opened");
    }
}
