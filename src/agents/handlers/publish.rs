//! `publishCimEvent` (agent messages of every body type, typing notifications,
//! whispers, ...) and `closeWrapup`: validated, stored, then delivered.

use super::{optional_str, DeskError};
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::cim::{CimEvent, CloseWrapup};
use crate::socketio::BoxFuture;
use serde_json::{json, Value};
use std::sync::Arc;

/// Validates a `publishCimEvent` and hands it to the conversation manager at once, so
/// a desk's events keep their order while the next one is read; the returned future
/// resolves to the ack after the event is stored.
pub fn start_publish(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<BoxFuture<'static, Result<Value, DeskError>>, DeskError> {
    let raw = payload
        .get("cimEvent")
        .ok_or_else(|| DeskError::invalid("cimEvent is required"))?;
    let event =
        CimEvent::from_value_at(raw, "cimEvent").map_err(|e| DeskError::invalid(e.to_string()))?;
    let conversation_id = optional_str(payload, "conversationId")
        .or_else(|| event.conversation_id.as_deref_str())
        .ok_or_else(|| DeskError::invalid("conversationId is required"))?
        .to_string();
    if event
        .conversation_id
        .as_deref_str()
        .is_some_and(|c| c != conversation_id)
    {
        return Err(DeskError::invalid(
            "cimEvent.conversationId differs from conversationId",
        ));
    }
    if optional_str(payload, "agentId").is_some_and(|a| a != session.agent_id()) {
        return Err(DeskError::forbidden("agentId is not the connected agent"));
    }
    let stored = manager
        .conversations()
        .agent_event(&conversation_id, session.agent_id(), event);
    Ok(Box::pin(async move {
        let seq = stored.await?;
        Ok(json!({"status": "ok", "conversationId": conversation_id, "seq": seq}))
    }))
}

pub(super) async fn close_wrapup(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let request =
        CloseWrapup::from_value(payload).map_err(|e| DeskError::invalid(e.to_string()))?;
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
