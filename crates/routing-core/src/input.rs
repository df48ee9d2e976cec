//! Everything that can happen to the routing engine: configuration changes, agent
//! lifecycle, task requests and answers, pull-mode actions, timer ticks and the
//! restore records used to rebuild the engine after a restart.

use serde::{Deserialize, Serialize};

use super::model::{
    AgentId, AgentProfile, ConversationId, Direction, Disposition, MrdConfig, MrdId,
    PullListConfig, PullListId, PullRequestId, PullRequestState, QueueConfig, QueueId,
    RequestedAgentState, RequestedMrdState, SelectionPolicy, TaskId,
};
use super::pull::{NewPullRequest, PullRequest};
use super::task::Task;
use super::view::AgentView;
use crate::Millis;

/// Serializable so the driver can journal it (`switchboard replay` reads it back).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Input {
    // --- live configuration ---
    UpsertMrd(MrdConfig),
    /// Refused while a queue uses the MRD or agents hold tasks on it.
    RemoveMrd {
        mrd_id: MrdId,
    },
    UpsertQueue(QueueConfig),
    /// Queued tasks of the queue close FORCE_CLOSED; reserved and active ones run on.
    RemoveQueue {
        queue_id: QueueId,
    },
    UpsertAgent(AgentProfile),
    /// Logs the agent out (re-routing its tasks) and forgets it.
    RemoveAgent {
        agent_id: AgentId,
    },
    UpsertPullList(PullListConfig),
    RemovePullList {
        list_id: PullListId,
    },

    // --- agent lifecycle ---
    /// A desk connected: LOGOUT → LOGIN → NOT_READY, UNKNOWN → the state before the
    /// restart, otherwise cancels the disconnect grace.
    AgentConnected {
        agent_id: AgentId,
    },
    /// The desk dropped: the agent is not offered tasks and is logged out when the
    /// disconnect grace ends without a reconnect.
    AgentDisconnected {
        agent_id: AgentId,
    },
    SetAgentState {
        agent_id: AgentId,
        state: RequestedAgentState,
        reason_code: Option<String>,
    },
    SetAgentMrdState {
        agent_id: AgentId,
        mrd_id: MrdId,
        state: RequestedMrdState,
    },
    /// A supervisor logs the agent out now; its tasks are re-routed at priority 11.
    ForceLogout {
        agent_id: AgentId,
        reason_code: Option<String>,
    },

    // --- tasks ---
    EnqueueTask(Box<NewTask>),
    AcceptTask {
        agent_id: AgentId,
        task_id: TaskId,
    },
    DeclineTask {
        agent_id: AgentId,
        task_id: TaskId,
    },
    /// Ends a task in any state (conversation ended, agent left without wrap-up, ...).
    CloseTask {
        task_id: TaskId,
        disposition: Disposition,
    },
    /// The agent left an active task and wraps up: the task no longer counts
    /// against the agent's capacity.
    StartWrapUp {
        task_id: TaskId,
    },
    /// Wrap-up finished: the task closes DONE.
    EndWrapUp {
        task_id: TaskId,
    },
    /// A consult ended as a transfer: the original task closes TRANSFERRED.
    /// (A DIRECT_TRANSFER task completes its transfer by itself when accepted.)
    CompleteTransfer {
        original_task_id: TaskId,
        new_task_id: TaskId,
    },
    /// Closes the queued tasks of one queue, or of all queues, FORCE_CLOSED.
    FlushQueue {
        queue_id: Option<QueueId>,
    },
    /// A supervisor moves a waiting task to another queue; it waits there from now.
    MoveTask {
        task_id: TaskId,
        queue_id: QueueId,
    },
    /// A supervisor offers a waiting task to this agent now (refused unless the
    /// agent could take it); a decline or RONA returns it to its queue.
    OfferTaskTo {
        task_id: TaskId,
        agent_id: AgentId,
    },

    // --- pull mode ---
    AddPullRequest(NewPullRequest),
    UpdatePullRequest {
        request_id: PullRequestId,
        state: PullRequestState,
    },
    DeletePullRequest {
        request_id: PullRequestId,
    },
    SubscribePullList {
        agent_id: AgentId,
        list_id: PullListId,
    },
    UnsubscribePullList {
        agent_id: AgentId,
        list_id: PullListId,
    },
    JoinPullRequest {
        agent_id: AgentId,
        request_id: PullRequestId,
    },
    LeavePullRequest {
        agent_id: AgentId,
        request_id: PullRequestId,
    },
    /// The agent left a conversation: it leaves every pull-mode request of that
    /// conversation it joined (none when the conversation is not pull-mode).
    LeavePullConversation {
        agent_id: AgentId,
        conversation_id: ConversationId,
    },

    /// A deadline from `next_deadline()` was reached. (Every input first fires the
    /// timers that are due; Tick does only that.)
    Tick,

    // --- rebuilding after a restart (configuration first, then agents, then tasks) ---
    /// An agent as last published; unless it was logged out it becomes UNKNOWN until
    /// its desk reconnects or the unknown-state grace ends.
    RestoreAgentState(Box<AgentView>),
    /// A task as last stored. Queued tasks keep their enqueue time, step and timers;
    /// reservations whose agent is not connected go back to the queue.
    RestoreTask(Box<Task>),
    RestorePullRequest(Box<PullRequest>),
}

/// How a task asks to be routed (`EnqueueTask`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewTask {
    pub task_id: TaskId,
    pub media_id: String,
    pub conversation_id: ConversationId,
    pub queue_id: QueueId,
    /// 1–10, higher is served first.
    pub priority: u8,
    pub direction: Direction,
    pub mode: TaskMode,
    /// False: the agent is assigned without an offer to accept (no RONA).
    pub offer_to_agent: bool,
    /// `routingPolicy.agentRequestTtl`; None waits forever.
    pub agent_request_ttl_ms: Option<Millis>,
    pub selection_policy: SelectionPolicy,
    /// Route-to-last-agent: offered to this agent if it becomes routable within the
    /// last-agent wait window, otherwise to the queue.
    #[serde(default)]
    pub preferred_last_agent: Option<AgentId>,
    /// Agents never offered this task (besides those already in the conversation).
    #[serde(default)]
    pub exclude_agents: Vec<AgentId>,
    /// For transfers and conferences: the task being transferred or joined.
    #[serde(default)]
    pub related_task: Option<TaskId>,
    /// The channel session, kept opaque for the task payload.
    #[serde(default)]
    pub request_session: serde_json::Value,
    /// `type.metadata` of the task media.
    #[serde(default)]
    pub metadata: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskMode {
    Queue,
    /// Only this agent may get the task (waits for it until the TTL).
    #[serde(rename_all = "camelCase")]
    Agent {
        agent_id: AgentId,
    },
}
