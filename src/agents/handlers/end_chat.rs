//! `endChat {conversationId}`: an agent in the conversation ends it for the customer
//! (a Switchboard addition, see docs/protocol.md). The customer's channel session
//! ends with reason `AGENT`, the widget says so, and every agent goes to wrap-up as
//! when the customer leaves. Monitors cannot end a chat.

use super::payload::parse;
use super::DeskError;
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::cim::{ChannelSessionReasonCode, ParticipantRole};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndChat {
    conversation_id: String,
}

pub(super) async fn end_chat(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let request: EndChat = parse(payload)?;
    if request.conversation_id.is_empty() || request.conversation_id.len() > 256 {
        return Err(DeskError::invalid(
            "conversationId must be 1 to 256 characters",
        ));
    }
    let topic = manager
        .conversations()
        .topic(&request.conversation_id)
        .await?;
    let role = topic
        .conversation
        .agent_members()
        .into_iter()
        .find(|(id, _)| id == session.agent_id())
        .map(|(_, role)| role)
        .ok_or_else(|| {
            DeskError::forbidden(format!(
                "the agent is not a participant of conversation {}",
                request.conversation_id
            ))
        })?;
    if !matches!(role, ParticipantRole::Primary | ParticipantRole::Assistant) {
        return Err(DeskError::forbidden(
            "only an agent serving the customer can end the chat",
        ));
    }
    let channel_session_id = topic
        .conversation
        .channel_session
        .get()
        .map(|s| s.id.clone())
        .ok_or_else(|| DeskError::new("wrong_state", "the customer has already left"))?;
    manager
        .conversations()
        .customer_left(&channel_session_id, ChannelSessionReasonCode::Agent)
        .await?;
    Ok(json!({ "conversationId": request.conversation_id, "status": "ended" }))
}
