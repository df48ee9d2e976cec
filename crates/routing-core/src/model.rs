//! The routing vocabulary: identifiers, configuration records (MRDs, queues, steps,
//! agent profiles) and the state enums shared by tasks, agents and effects.
//!
//! Every enum serializes with the names the documented platform uses
//! (`NOT_READY`, `DIRECT_TRANSFER`, ...), so stored rows and published payloads agree.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Millis;

pub type AgentId = String;
pub type TaskId = String;
pub type QueueId = String;
pub type MrdId = String;
pub type ConversationId = String;
pub type PullListId = String;
pub type PullRequestId = String;

/// A queue holds at most this many precision steps.
pub const MAX_STEPS: usize = 10;
/// Priority given to tasks that come back after RONA or an agent logout: above every
/// priority a client may ask for (1–10), so they go to the head of their queue.
pub const REROUTE_PRIORITY: u8 = 11;
/// Highest priority (task or queue) a client may set.
pub const MAX_CLIENT_PRIORITY: u8 = 10;

/// A JSON value shared between task snapshots without deep copies.
///
/// Request sessions are kilobytes of channel data; every effect carries a task
/// snapshot, so the payload is reference-counted and never cloned.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SharedJson(Arc<serde_json::Value>);

impl SharedJson {
    pub fn new(value: serde_json::Value) -> Self {
        Self(Arc::new(value))
    }
}

impl Deref for SharedJson {
    type Target = serde_json::Value;
    fn deref(&self) -> &serde_json::Value {
        &self.0
    }
}

impl From<serde_json::Value> for SharedJson {
    fn from(value: serde_json::Value) -> Self {
        Self::new(value)
    }
}

impl Serialize for SharedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SharedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(deserializer).map(Self::new)
    }
}

/// A media routing domain (chat, voice, ...): the unit of agent capacity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MrdConfig {
    pub id: MrdId,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Default `maxAgentTasks` for agents without their own value on this MRD.
    pub max_tasks: u32,
    /// An interruptible MRD is set INTERRUPTED while its agent holds a task on a
    /// non-interruptible MRD.
    pub interruptible: bool,
}

/// One precision step of a queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepConfig {
    /// e.g. `sales >= 5 AND english == true`; empty matches every agent.
    pub expression: String,
    /// How long this step is searched alone before the next step opens.
    pub timeout_ms: Millis,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueConfig {
    pub id: QueueId,
    pub name: String,
    pub mrd_id: MrdId,
    /// 1–10, higher is served first when queue priority is enabled.
    pub priority: u8,
    /// RONA timeout for offers from this queue; the engine default when absent.
    #[serde(default)]
    pub accept_timeout_ms: Option<Millis>,
    /// Agent response SLA (kept for the conversation manager).
    #[serde(default)]
    pub agent_sla_ms: Option<Millis>,
    /// Answered within this wait counts towards the service level.
    #[serde(default)]
    pub service_level_threshold_ms: Option<Millis>,
    #[serde(default)]
    pub steps: Vec<StepConfig>,
}

/// A routing attribute value on an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    Bool(bool),
    /// Proficiency 1–10.
    Proficiency(u8),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentProfile {
    pub id: AgentId,
    pub username: String,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub attributes: BTreeMap<String, AttrValue>,
    /// Per-MRD `maxAgentTasks`; MRDs not listed use the MRD's default. 0 = never routed there.
    #[serde(default)]
    pub mrd_max_tasks: BTreeMap<MrdId, u32>,
}

/// A pull-mode list that agents subscribe to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullListConfig {
    pub id: PullListId,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AgentStateName {
    Logout,
    Login,
    NotReady,
    Ready,
    Unknown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MrdStateName {
    NotReady,
    Ready,
    Active,
    Busy,
    PendingNotReady,
    Interrupted,
}

impl MrdStateName {
    /// Only READY and ACTIVE MRDs receive new tasks.
    pub fn is_routable(self) -> bool {
        matches!(self, Self::Ready | Self::Active)
    }
}

/// What an agent (desk or supervisor) may ask for globally.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestedAgentState {
    Ready,
    NotReady,
    Logout,
}

/// What an agent may ask for on one MRD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RequestedMrdState {
    Ready,
    NotReady,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MediaState {
    Queued,
    Reserved,
    Active,
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStateName {
    Active,
    WrapUp,
    Closed,
}

/// Why a task ended (or, while it is open, why it went back to a queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Disposition {
    Done,
    AgentLogout,
    Cancelled,
    Transferred,
    NoAgentAvailable,
    ForceClosed,
    Rona,
    /// Back in its queue after the agent it was offered to declined it (`rejectTask`);
    /// a reason while waiting, never a closed task's disposition.
    Declined,
}

impl Disposition {
    /// Its wire name, as serde writes it (`DONE`, `AGENT_LOGOUT`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Disposition::Done => "DONE",
            Disposition::AgentLogout => "AGENT_LOGOUT",
            Disposition::Cancelled => "CANCELLED",
            Disposition::Transferred => "TRANSFERRED",
            Disposition::NoAgentAvailable => "NO_AGENT_AVAILABLE",
            Disposition::ForceClosed => "FORCE_CLOSED",
            Disposition::Rona => "RONA",
            Disposition::Declined => "DECLINED",
        }
    }

    /// The disposition a wire name (a conversation's task reason) stands for; `Done`
    /// for any other reason.
    pub fn from_reason(reason: &str) -> Disposition {
        match reason {
            "AGENT_LOGOUT" => Disposition::AgentLogout,
            "CANCELLED" => Disposition::Cancelled,
            "TRANSFERRED" => Disposition::Transferred,
            "NO_AGENT_AVAILABLE" => Disposition::NoAgentAvailable,
            "FORCE_CLOSED" => Disposition::ForceClosed,
            "RONA" => Disposition::Rona,
            _ => Disposition::Done,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    Inbound,
    Outbound,
    DirectTransfer,
    DirectConference,
    Consult,
}

impl Direction {
    /// A request an agent makes for another agent (a transfer, a conference, a
    /// consult) while it keeps serving the customer until one accepts: when none
    /// does, the customer did not abandon anything.
    pub fn is_assistance(self) -> bool {
        matches!(
            self,
            Direction::DirectTransfer | Direction::DirectConference | Direction::Consult
        )
    }
}

/// `type.mode` of a task media: from a queue, or for one named agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoutingMode {
    Queue,
    Agent,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SelectionPolicy {
    /// Longest since the agent's load on the MRD last changed (or it became ready);
    /// ties go to the agent with fewer tasks.
    #[default]
    LongestAvailable,
    LeastActiveTasks,
    /// Highest sum of the proficiencies named by the matched step.
    MostSkilled,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PullRequestState {
    Unread,
    Active,
    Inactive,
    Closed,
}

/// Why an offer was taken back from an agent (`revokeTask`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RevokeReason {
    /// Not accepted within the accept timeout.
    Rona,
    /// The agent (or the MRD) went NOT_READY before accepting.
    AgentNotReady,
    /// The agent logged out, was forced out, or its desk did not come back in time.
    AgentLogout,
    /// The task was closed (conversation ended, flushed, ...).
    TaskClosed,
    /// The agent request TTL ran out.
    NoAgentAvailable,
}

#[cfg(test)]
mod tests {
    use super::Disposition;

    #[test]
    fn a_disposition_is_named_as_serde_writes_it_and_read_back_from_its_name() {
        use Disposition::*;
        for d in [
            Done,
            AgentLogout,
            Cancelled,
            Transferred,
            NoAgentAvailable,
            ForceClosed,
            Rona,
            Declined,
        ] {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
            // A declined task is never closed with it: a conversation's reason
            // DECLINED closes the task DONE.
            let back = if d == Declined { Done } else { d };
            assert_eq!(Disposition::from_reason(d.as_str()), back);
        }
        assert_eq!(Disposition::from_reason("AGENT_LEFT"), Done);
    }
}
