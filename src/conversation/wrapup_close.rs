//! `closeWrapup`: an agent in wrap-up closes it with its codes and note (seed 004: a
//! MESSAGE event, WRAPUP or PLAIN). The wrap-up is kept with the conversation, its
//! event stored once, and the agent's part in the conversation ends.

use serde_json::json;

use super::agent_inputs::not_a_participant;
use super::core::{lookup, OpenMap};
use super::error::CoreError;
use super::events::agent_emitter;
use super::ids::{IdGen, IdKind};
use super::published::{
    ack, client_ids, message_of, require_event_id, set_sender, stamp, stored_before,
};
use super::step::Ctx;
use crate::cim::{CimError, CimEvent, MessageBody, ParticipantRole};

pub(super) fn close_wrapup<I: IdGen>(
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
    if participant.role != ParticipantRole::WrapUp {
        return Err(CoreError::NotInWrapup {
            conversation_id: conversation_id.to_owned(),
            agent_id: agent_id.to_owned(),
        });
    }
    let user = participant
        .as_cc_user()
        .cloned()
        .ok_or_else(|| not_a_participant(conversation_id, agent_id))?;
    require_event_id(&event)?;
    let message = message_of(&event)?.ok_or_else(|| {
        CoreError::from(CimError::invalid(
            "cimEvent.type",
            "a wrap-up is a MESSAGE event",
        ))
    })?;
    // WRAPUP carries codes and a note; seed 004's sample is a PLAIN body whose text
    // is the note, with no codes.
    let (wrapups, note) = match &message.body {
        MessageBody::Wrapup(body) => (json!(body.wrapups), json!(body.note)),
        MessageBody::Plain(body) => (json!([]), json!(body.markdown_text)),
        other => {
            return Err(CimError::invalid(
                "cimEvent.data.body.type",
                format!("expected WRAPUP or PLAIN, found {}", other.type_name()),
            )
            .into())
        }
    };
    let entry = json!({
        "agentId": agent_id,
        "wrapups": wrapups,
        "note": note,
        "timestamp": cx.now,
    });
    let mut ids = client_ids(&event, Some(&message));
    let mut message_id = message.id.clone();
    match stored_before(cx, conversation_id, &ids) {
        Ok(None) => {}
        // Ids another event has (seed 004's fixed sample sent in every chat, or by
        // every agent of this one, or sent first as a message): the wrap-up is what
        // counts, so its event is stored under ids of its own. A retry of a wrap-up
        // that closed never gets here: its agent is no longer in wrap-up.
        Ok(Some(_)) | Err(CoreError::IdInUse { .. }) => {
            event.id = cx.new_id(IdKind::Event);
            message_id = cx.new_id(IdKind::Event);
            if let Some(data) = event.data.get_mut().and_then(|d| d.as_object_mut()) {
                data.insert("id".into(), json!(message_id));
            }
            ids = vec![event.id.clone(), message_id.clone()];
        }
        Err(other) => return Err(other),
    }
    conversation.record_wrap_up(cx, entry);
    stamp(&mut event, conversation, cx.now);
    event.event_emitter = agent_emitter(&user, &ParticipantRole::WrapUp).into();
    set_sender(&mut event, &participant, conversation, cx.origins);
    let event_id = event.id.clone();
    let seq = conversation.emit(cx, event, Some(message_id));
    for id in ids {
        conversation.remember_id(cx, id, seq);
    }
    ack(cx, &event_id, conversation_id, seq, false);
    conversation.finish_wrapup(cx, agent_id, false);
    Ok(())
}
