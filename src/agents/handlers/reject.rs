//! `rejectTask {taskId}`: the agent turns an offer down (a Switchboard addition, see
//! docs/protocol.md). The routing engine routes the task on at once, without waiting
//! for the accept timeout, and never back to this agent; a task offered to this agent
//! by name is cancelled, and its requester hears of it as of any other end.

use super::payload::parse;
use super::{routing_call, DeskError};
use crate::agents::session::DeskSession;
use crate::agents::AgentManager;
use crate::routing::Input;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RejectTask {
    task_id: String,
}

pub(super) async fn reject(
    manager: &AgentManager,
    session: &Arc<DeskSession>,
    payload: &Value,
) -> Result<Value, DeskError> {
    let request: RejectTask = parse(payload)?;
    if request.task_id.is_empty() || request.task_id.len() > 256 {
        return Err(DeskError::invalid("taskId must be 1 to 256 characters"));
    }
    routing_call(
        manager,
        Input::DeclineTask {
            agent_id: session.agent_id().to_string(),
            task_id: request.task_id.clone(),
        },
    )
    .await?;
    Ok(json!({ "taskId": request.task_id, "status": "rejected" }))
}
