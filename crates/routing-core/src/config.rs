//! Engine-wide routing settings (`[routing]` in the appliance configuration).

use serde::{Deserialize, Serialize};

use crate::Millis;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingConfig {
    /// RONA timeout for queues that do not set their own.
    pub accept_timeout_ms: Millis,
    /// Reason code an agent gets when it goes NOT_READY because of RONA.
    pub rona_reason_code: String,
    /// How long a dropped desk keeps its agent's state before the agent is logged out.
    pub disconnect_grace_ms: Millis,
    /// Global READY / NOT_READY also sets every MRD READY / NOT_READY.
    pub auto_sync_mrd_states: bool,
    /// An agent serving several queues takes tasks of higher-priority queues first.
    pub queue_priority_enabled: bool,
    /// How long a task with a preferred last agent waits for that agent before the queue.
    pub last_agent_wait_ms: Millis,
    /// After a restart, how long agents stay UNKNOWN before they are logged out.
    pub unknown_state_grace_ms: Millis,
    /// Number of recent handled tasks per queue used for estimated wait and service level.
    pub ewt_window: usize,
    /// Handle time assumed for the estimated wait until a queue has handled a task.
    pub default_handle_time_ms: Millis,
}

impl Default for RoutingConfig {
    fn default() -> Self {
        Self {
            accept_timeout_ms: 30_000,
            rona_reason_code: "RONA".to_string(),
            disconnect_grace_ms: 30_000,
            auto_sync_mrd_states: true,
            queue_priority_enabled: true,
            last_agent_wait_ms: 15_000,
            unknown_state_grace_ms: 120_000,
            ewt_window: 50,
            default_handle_time_ms: 180_000,
        }
    }
}
