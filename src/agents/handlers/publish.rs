//! `publishCimEvent` (agent messages of every body type, typing notifications,
//! whispers, ...) and `closeWrapup`: validated, stored, then delivered (typing is
//! delivered without being stored). The message's
//! sender is the connected agent: the conversation manager writes it into the header
//! whatever the desk sent, so a desk may leave `header.sender` out.

use super::payload::{blank_or_string, parse};
use super::DeskError;
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::cim::{CimEvent, CloseWrapup};
use crate::conversation::typing::EPHEMERAL_SEQ;
use crate::socketio::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// The `publishCimEvent` envelope, read once its `cimEvent` is taken out (so the event,
/// the big part, is neither copied nor walked twice). `conversationId` may be left to
/// the event's own; `agentId`, if given, must name the connected agent (`null` or `""`
/// is none for both).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublishEnvelope {
    #[serde(default, deserialize_with = "blank_or_string")]
    conversation_id: Option<String>,
    #[serde(default, deserialize_with = "blank_or_string")]
    agent_id: Option<String>,
}

/// Validates a `publishCimEvent` and hands it to the conversation manager at once, so
/// a desk's events keep their order while the next one is read; the returned future
/// resolves to the ack after the event is stored.
pub fn start_publish(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    mut payload: Value,
) -> Result<BoxFuture<'static, Result<Value, DeskError>>, DeskError> {
    let mut raw = payload
        .as_object_mut()
        .and_then(|map| map.remove("cimEvent"))
        .ok_or_else(|| DeskError::invalid("cimEvent is required"))?;
    let envelope: PublishEnvelope = parse(&payload)?;
    default_sender(&mut raw, session.agent_id());
    let event =
        CimEvent::from_value_at(&raw, "cimEvent").map_err(|e| DeskError::invalid(e.to_string()))?;
    let conversation_id = match envelope.conversation_id {
        Some(id) => id,
        None => event
            .conversation_id
            .as_deref_str()
            .ok_or_else(|| DeskError::invalid("conversationId is required"))?
            .to_string(),
    };
    if event
        .conversation_id
        .as_deref_str()
        .is_some_and(|c| c != conversation_id)
    {
        return Err(DeskError::invalid(
            "cimEvent.conversationId differs from conversationId",
        ));
    }
    if envelope.agent_id.is_some_and(|a| a != session.agent_id()) {
        return Err(DeskError::forbidden("agentId is not the connected agent"));
    }
    let stored = manager
        .conversations()
        .agent_event(&conversation_id, session.agent_id(), event);
    Ok(Box::pin(async move {
        let seq = stored.await?;
        if seq == EPHEMERAL_SEQ {
            // Typing: delivered, not stored, so no seq.
            return Ok(json!({"status": "ok", "conversationId": conversation_id}));
        }
        Ok(json!({"status": "ok", "conversationId": conversation_id, "seq": seq}))
    }))
}

pub(super) async fn close_wrapup(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let mut payload = payload.clone();
    if let Some(raw) = payload.get_mut("cimEvent") {
        default_sender(raw, session.agent_id());
    }
    let request =
        CloseWrapup::from_value(&payload).map_err(|e| DeskError::invalid(e.to_string()))?;
    if request.agent_id != session.agent_id() {
        return Err(DeskError::forbidden("agentId is not the connected agent"));
    }
    manager
        .conversations()
        .close_wrapup(
            &request.conversation_id,
            session.agent_id(),
            request.cim_event,
        )
        .await?;
    // The conversation manager ends the routing task's wrap-up once this is stored.
    Ok(json!({"status": "ok", "conversationId": request.conversation_id}))
}

/// Prepares the header of a desk's message event for validation: the conversation
/// manager writes the sender and channel session itself, so a missing
/// `data.header.sender` (or its `id`) gets a placeholder naming the connected agent, and
/// the desk's `channelSession` (a full or reduced copy of it, or anything else) is
/// dropped unread.
fn default_sender(raw: &mut Value, agent_id: &str) {
    let Some(data) = raw.get_mut("data").and_then(Value::as_object_mut) else {
        return;
    };
    let header = data.entry("header").or_insert_with(|| json!({}));
    let Some(header) = header.as_object_mut() else {
        return;
    };
    header.remove("channelSession");
    let sender = header.entry("sender").or_insert(Value::Null);
    if sender.is_null() {
        *sender = json!({"id": agent_id, "type": "AGENT"});
    }
    if let Some(sender) = sender.as_object_mut() {
        if !sender.get("id").is_some_and(Value::is_string) {
            sender.insert("id".into(), json!(agent_id));
        }
        sender.entry("type").or_insert(json!("AGENT"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::handlers::payload::{assert_refused, not_blank_or_strings};
    use serde_json::json;

    #[test]
    fn the_envelope_fields_are_optional_but_not_of_the_wrong_type() {
        let ok: PublishEnvelope = parse(&json!({"roomInfo": {"x": 1}})).unwrap();
        assert_eq!((ok.conversation_id, ok.agent_id), (None, None));
        let valid = json!({"conversationId": "c1", "agentId": "a1"});
        let ok: PublishEnvelope = parse(&valid).unwrap();
        assert_eq!(ok.conversation_id.as_deref(), Some("c1"));
        assert_eq!(ok.agent_id.as_deref(), Some("a1"));
        for field in ["conversationId", "agentId"] {
            assert_refused::<PublishEnvelope>(&valid, field, &not_blank_or_strings());
            let mut blank = valid.clone();
            blank[field] = json!(null);
            parse::<PublishEnvelope>(&blank).expect("a null envelope field is none");
        }
    }
}
