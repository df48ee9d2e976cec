//! What every event a desk or a bot publishes goes through before it is stored: its
//! client ids and the check for a retry, the message it carries, the stamp and sender
//! it is stored with, and the ack the caller gets.

use super::effect::Effect;
use super::error::CoreError;
use super::ids::IdGen;
use super::open::OpenConversation;
use super::origins::Origins;
use super::step::Ctx;
use crate::cim::{CimError, CimEvent, CimEventType, CimMessage, MessageBody, Participant};

/// The event's client ids: the event id and, for messages, the message id.
pub(super) fn client_ids(event: &CimEvent, message: Option<&CimMessage>) -> Vec<String> {
    let mut ids = vec![event.id.clone()];
    if let Some(message) = message {
        if message.id != event.id && !message.id.trim().is_empty() {
            ids.push(message.id.clone());
        }
    }
    ids
}

/// `Some(seq)` when the event was stored already (a retry); an error when one of its
/// ids belongs to another conversation.
pub(super) fn stored_before<I: IdGen>(
    cx: &Ctx<'_, I>,
    conversation_id: &str,
    ids: &[String],
) -> Result<Option<u64>, CoreError> {
    for id in ids {
        if let Some(record) = cx.index.lookup_id(id) {
            if record.conversation_id != conversation_id {
                return Err(CoreError::IdInUse { id: id.clone() });
            }
            return Ok(Some(record.seq));
        }
    }
    Ok(None)
}

pub(super) fn require_event_id(event: &CimEvent) -> Result<(), CoreError> {
    if event.id.trim().is_empty() {
        return Err(CimError::missing("cimEvent.id").into());
    }
    Ok(())
}

/// The message a MESSAGE-typed event carries.
pub(super) fn message_of(event: &CimEvent) -> Result<Option<CimMessage>, CoreError> {
    if event.event_type == CimEventType::Message {
        Ok(Some(event.message().map_err(|e| match e {
            CimError::MissingField { path } => CimError::missing(format!("cimEvent.{path}")),
            CimError::InvalidField { path, reason } => {
                CimError::invalid(format!("cimEvent.{path}"), reason)
            }
        })?))
    } else {
        Ok(None)
    }
}

/// Stamps a client event as stored by the conversation manager.
pub(super) fn stamp(
    event: &mut CimEvent,
    conversation: &OpenConversation,
    now: crate::clock::Millis,
) {
    event.conversation_id = conversation.id.clone().into();
    event.room_info = conversation.room_info().into();
    event.timestamp = now;
}

/// The message's sender is the participant who published it, whatever the desk wrote
/// (see `views`).
pub(super) fn set_sender(
    event: &mut CimEvent,
    participant: &Participant,
    conversation: &OpenConversation,
    origins: &mut Origins,
) {
    if let Some(data) = event.data.get_mut() {
        let origin = origins.of(&conversation.id, participant, conversation.latest_session());
        origin.place_keys(data);
        event.origin = Some(origin);
    }
}

pub(super) fn ack<I: IdGen>(
    cx: &mut Ctx<'_, I>,
    id: &str,
    conversation_id: &str,
    seq: u64,
    duplicate: bool,
) {
    cx.effect(Effect::Ack {
        id: id.to_owned(),
        conversation_id: conversation_id.to_owned(),
        seq,
        duplicate,
    });
}

/// Whether the message is content (not a notification or a delivery receipt).
pub(super) fn is_content(message: Option<&CimMessage>) -> bool {
    message.is_some_and(|m| {
        !matches!(
            m.body,
            MessageBody::Notification(_) | MessageBody::DeliveryNotification(_)
        )
    })
}
