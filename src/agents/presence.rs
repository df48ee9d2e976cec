//! The `agentPresence` payload: the agent as a CCUser, its global state, its
//! per-MRD states with capacities, and its login time.

use crate::cim::CcUser;
use crate::routing::handle::enum_str;
use crate::routing::AgentView;
use serde_json::{json, Value};

pub fn payload(agent: &CcUser, view: &AgentView) -> Value {
    let mut agent = agent.clone();
    agent.associated_mrds = view
        .mrd_states
        .iter()
        .map(|m| json!({"mrdId": m.mrd_id, "maxAgentTasks": m.max_agent_tasks}))
        .collect::<Vec<_>>()
        .into();
    json!({
        "agent": agent,
        "state": {"name": enum_str(&view.state), "reasonCode": view.reason_code},
        "stateChangeTime": view.state_change_time,
        "agentMrdStates": view.mrd_states.iter().map(|m| json!({
            "mrd": {
                "id": m.mrd_id,
                "name": m.mrd_name,
                "maxRequests": m.max_requests,
                "interruptible": m.interruptible,
            },
            "state": enum_str(&m.state),
            "stateChangeTime": m.state_change_time,
            "maxAgentTasks": m.max_agent_tasks,
            "activeTasks": m.load,
        })).collect::<Vec<_>>(),
        "agentLoginTime": view.login_time,
        "connected": view.connected,
        "taskIds": view.task_ids,
    })
}
