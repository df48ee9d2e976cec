//! Customer-side inputs: a chat request, a customer message, the customer leaving.
//! Each finds the customer's place first — the session itself, a running session of the
//! same customer on the same channel, the customer's open conversation, or a new one —
//! and refuses before changing anything.

use serde_json::Value;
use std::sync::Arc;

use super::core::{lookup, OpenMap};
use super::effect::Effect;
use super::error::CoreError;
use super::ids::{IdGen, IdKind};
use super::open::{session_started, OpenConversation};
use super::record::ConversationRuntime;
use super::step::{Ctx, Indexes};
use crate::cim::{
    ChannelSession, ChannelSessionReasonCode, ChannelSessionStateName, CimError, CimEvent,
    CimEventName, CimEventType, CimMessage, Conversation, EventEmitter, MessageBody,
    NotificationType, RoomInfo,
};

/// Where a customer's session lands.
enum Placement {
    /// A running session of an open conversation.
    Running {
        conversation_id: String,
        session_id: String,
    },
    /// A new session in the customer's open conversation.
    Join { conversation_id: String },
    /// A new conversation.
    New { customer_id: String },
}

fn place(
    open: &OpenMap,
    index: &Indexes,
    session: &ChannelSession,
) -> Result<Placement, CoreError> {
    let customer_id = session
        .customer
        .id()
        .filter(|id| !id.trim().is_empty())
        .ok_or(CoreError::MissingCustomerId)?;
    if let Some(conversation) = index
        .by_session
        .get(&session.id)
        .and_then(|id| open.get(id))
    {
        return if conversation.session_running(&session.id) {
            Ok(Placement::Running {
                conversation_id: conversation.id.clone(),
                session_id: session.id.clone(),
            })
        } else {
            Err(CoreError::ChannelSessionEnded {
                channel_session_id: session.id.clone(),
            })
        };
    }
    if let Some(conversation) = index
        .by_customer
        .get(customer_id)
        .and_then(|id| open.get(id))
    {
        let same_channel = conversation.sessions.iter().find(|s| {
            session_started(s)
                && s.service_identifier() == session.service_identifier()
                && s.channel_customer_identifier() == session.channel_customer_identifier()
        });
        return Ok(match same_channel {
            Some(running) => Placement::Running {
                conversation_id: conversation.id.clone(),
                session_id: running.id.clone(),
            },
            None => Placement::Join {
                conversation_id: conversation.id.clone(),
            },
        });
    }
    Ok(Placement::New {
        customer_id: customer_id.to_owned(),
    })
}

/// Carries out a placement; returns (conversation id, session id). Announces a new or
/// joined session to the channel with `ChannelSessionStarted`.
fn settle_in<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    session: ChannelSession,
    placement: Placement,
) -> (String, String) {
    let (conversation_id, new_conversation) = match placement {
        Placement::Running {
            conversation_id,
            session_id,
        } => return (conversation_id, session_id),
        Placement::Join { conversation_id } => (conversation_id, false),
        Placement::New { customer_id } => {
            let conversation_id = cx.new_id(IdKind::Conversation);
            // The room is the customer's: every conversation of a customer shares it.
            let room_info = RoomInfo::contact_center(customer_id.clone());
            let mut first = session.clone();
            first.conversation_id = conversation_id.clone().into();
            first.room_info = room_info.clone().into();
            let bot_id = session.channel.channel_config.bot_id.get().cloned();
            let conversation =
                Conversation::new(conversation_id.clone(), first, room_info, cx.now, bot_id);
            let mut open_conversation = OpenConversation::new(
                conversation,
                Vec::new(),
                ConversationRuntime::default(),
                0,
                customer_id.clone(),
            );
            open_conversation.mark_dirty(cx);
            cx.index
                .by_customer
                .insert(customer_id, conversation_id.clone());
            open.insert(conversation_id.clone(), open_conversation);
            (conversation_id, true)
        }
    };
    let session_id = session.id.clone();
    if let Some(conversation) = open.get_mut(&conversation_id) {
        conversation.add_session(cx, session);
        if let Some(added) = conversation.session(&session_id).cloned() {
            if new_conversation {
                conversation.raise_started(cx, &added);
            }
            cx.effect(Effect::ChannelSessionStarted {
                conversation_id: conversation_id.clone(),
                channel_session: Box::new(added),
                new_conversation,
            });
        }
    }
    (conversation_id, session_id)
}

pub(super) fn chat_requested<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    session: ChannelSession,
) -> Result<(), CoreError> {
    let placement = place(open, cx.index, &session)?;
    let running = matches!(placement, Placement::Running { .. });
    let (conversation_id, session_id) = settle_in(open, cx, session, placement);
    if running {
        // A repeated request for a running session: tell the channel again, change nothing.
        if let Some(existing) = open
            .get(&conversation_id)
            .and_then(|c| c.session(&session_id))
        {
            cx.effect(Effect::ChannelSessionStarted {
                conversation_id,
                channel_session: Box::new(existing.clone()),
                new_conversation: false,
            });
        }
    }
    Ok(())
}

/// How a customer message counts.
enum MessageKind {
    /// Real content: resets the customer's clocks and waits for an agent's answer.
    Conversational,
    /// A typing indicator: shows the customer is there, expects nothing.
    Typing(CimEventName),
    /// A delivery/read receipt.
    Delivery,
}

fn kind_of(body: &MessageBody) -> MessageKind {
    match body {
        MessageBody::Notification(n) => match n.notification_type {
            NotificationType::TypingStopped => MessageKind::Typing(CimEventName::TypingStopped),
            _ => MessageKind::Typing(CimEventName::TypingStarted),
        },
        MessageBody::DeliveryNotification(_) => MessageKind::Delivery,
        _ => MessageKind::Conversational,
    }
}

pub(super) fn customer_message<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    session: Arc<ChannelSession>,
    message: CimMessage,
) -> Result<(), CoreError> {
    if message.id.trim().is_empty() {
        return Err(CimError::missing("id").into());
    }
    if let Some(stored) = cx.index.lookup_id(&message.id) {
        cx.effect(Effect::Ack {
            id: message.id.clone(),
            conversation_id: stored.conversation_id.clone(),
            seq: stored.seq,
            duplicate: true,
        });
        return Ok(());
    }
    let placement = place(open, cx.index, &session)?;
    let kind = kind_of(&message.body);
    if matches!(placement, Placement::New { .. }) && !matches!(kind, MessageKind::Conversational) {
        return Err(CoreError::InvalidEvent(CimError::invalid(
            "body.type",
            "a typing or delivery notification cannot start a conversation",
        )));
    }
    let mut data = serde_json::to_value(&message).map_err(|e| CimError::from_serde("", &e))?;
    let (conversation_id, session_id) = match placement {
        // The usual case: the session is already in the conversation, nothing to copy.
        Placement::Running {
            conversation_id,
            session_id,
        } => (conversation_id, session_id),
        placement => settle_in(open, cx, Arc::unwrap_or_clone(session), placement),
    };
    let Some(conversation) = open.get_mut(&conversation_id) else {
        return Ok(());
    };
    let Some(emitter) = conversation
        .session(&session_id)
        .map(|s| EventEmitter::customer(&s.customer))
    else {
        return Ok(());
    };
    let (name, event_type) = match &kind {
        MessageKind::Conversational => (CimEventName::CustomerMessage, CimEventType::Message),
        MessageKind::Typing(name) => (name.clone(), CimEventType::Notification),
        MessageKind::Delivery => (
            CimEventName::MessageDeliveryNotification,
            CimEventType::Notification,
        ),
    };
    // Typing resets no clock: it is never written, so it must change nothing stored.
    if matches!(kind, MessageKind::Conversational) {
        conversation.reset_activity(cx, &session_id);
    }
    if matches!(kind, MessageKind::Conversational) {
        conversation.set_last_used(cx, &session_id);
    }
    // The sender is the session's customer participant, whatever the client wrote.
    let origin = conversation
        .customer_participant(&session_id)
        .map(|sender| {
            cx.origins
                .of(&conversation.id, sender, conversation.session(&session_id))
        });
    if let Some(origin) = &origin {
        origin.place_keys(&mut data);
    }
    let room_info = conversation.room_info();
    if let Some(header) = data.get_mut("header").and_then(Value::as_object_mut) {
        header.insert("conversationId".into(), conversation_id.clone().into());
        header.insert("roomId".into(), room_info.id.clone().into());
    }
    let message_id = message.id.clone();
    let typing = matches!(kind, MessageKind::Typing(_));
    let mut event = CimEvent::new(
        conversation.next_event_id(cx),
        name,
        event_type,
        conversation_id.clone(),
        emitter,
        None,
        data,
        room_info,
        cx.now,
    );
    event.origin = origin;
    if typing {
        conversation.emit_typing(cx, &session_id, None, event, message_id);
        return Ok(());
    }
    let seq = conversation.emit(cx, event, Some(message_id.clone()));
    conversation.remember_id(cx, message_id.clone(), seq);
    cx.effect(Effect::Ack {
        id: message_id,
        conversation_id,
        seq,
        duplicate: false,
    });
    if matches!(kind, MessageKind::Conversational) {
        conversation.runtime.timers.customer_sla = None;
        conversation.runtime.awaiting_agent_reply = true;
        conversation.maybe_start_agent_sla(cx);
    }
    Ok(())
}

pub(super) fn customer_left<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    session_id: &str,
    reason: ChannelSessionReasonCode,
) -> Result<(), CoreError> {
    let conversation_id = cx
        .index
        .by_session
        .get(session_id)
        .cloned()
        .ok_or_else(|| CoreError::UnknownChannelSession {
            channel_session_id: session_id.to_owned(),
        })?;
    let conversation = lookup(open, cx.index, &conversation_id)?;
    if !conversation.session_running(session_id) {
        return Err(CoreError::ChannelSessionEnded {
            channel_session_id: session_id.to_owned(),
        });
    }
    conversation.end_session(cx, session_id, ChannelSessionStateName::Ended, reason);
    if !conversation.customer_present() {
        conversation.customer_gone(cx, false);
    }
    Ok(())
}
