//! What the engine asks its driver to persist and then publish. Every effect that
//! concerns a task carries the full task snapshot after the change.

use std::sync::Arc;

use super::error::RoutingError;
use super::model::{AgentId, ConversationId, MrdId, PullListId, PullRequestId, RevokeReason};
use super::pull::PullRequest;
use super::task::{QueueRef, Task};
use super::view::{AgentView, StateChange};

#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// The task entered a queue (new, or back after RONA / decline / logout): TASK_ENQUEUED.
    TaskEnqueued { task: Arc<Task>, queue: QueueRef },
    /// Any other change of task or media state: TASK_STATE_CHANGED.
    TaskStateChanged { task: Arc<Task> },
    /// A waiting task moved on where it waits (its queue's next step opened, or its
    /// last-agent window ended): only its stored row follows, so a restart resumes it
    /// there; nothing is announced.
    TaskMovedOn { task: Arc<Task> },
    /// The task is reserved to the agent and awaits its accept: desk `taskRequest`.
    OfferTask { agent_id: AgentId, task: Arc<Task> },
    /// The task went straight to the agent without an offer (`offerToAgent: false`).
    TaskAssigned { agent_id: AgentId, task: Arc<Task> },
    /// An offer was taken back: desk `revokeTask`.
    RevokeTask {
        agent_id: AgentId,
        task: Arc<Task>,
        reason: RevokeReason,
    },
    /// The agent's presence changed (`agentPresence`); `changes` are the history rows,
    /// oldest first.
    AgentStateChanged {
        agent: Box<AgentView>,
        changes: Vec<StateChange>,
    },
    /// MRD_INTERRUPTED: a non-interruptible reservation interrupted this MRD of the agent.
    MrdInterrupted {
        mrd_id: MrdId,
        agent_id: AgentId,
        conversations: Vec<ConversationId>,
    },
    /// No agent will take the task: its agent request TTL ran out (closed
    /// NO_AGENT_AVAILABLE), or its queue was flushed or removed while it waited
    /// (closed FORCE_CLOSED).
    NoAgentAvailable { task: Arc<Task> },
    /// The agent lost a reserved or active task to a logout, forced logout or a desk
    /// that did not come back; the task is back in its queue at priority 11 (closed
    /// FORCE_CLOSED when its queue is gone) and the conversation manager must drop
    /// that agent from the conversation.
    TaskRerouted {
        task: Arc<Task>,
        from_agent: AgentId,
    },
    /// A transfer completed: `original` is closed TRANSFERRED, `new` carries on.
    TaskTransferred { original: Arc<Task>, new: Arc<Task> },
    /// The agent subscribed to a list; these are its current requests.
    PullListSubscribed {
        agent_id: AgentId,
        list_id: PullListId,
        requests: Vec<PullRequest>,
    },
    /// The agent no longer sees these requests of the list.
    PullListUnsubscribed {
        agent_id: AgentId,
        list_id: PullListId,
        request_ids: Vec<PullRequestId>,
    },
    /// A new request on a list; `agents` are its subscribers.
    PullRequestAdded {
        agents: Vec<AgentId>,
        request: PullRequest,
    },
    PullRequestUpdated {
        agents: Vec<AgentId>,
        request: PullRequest,
    },
    PullRequestRemoved {
        agents: Vec<AgentId>,
        list_id: PullListId,
        request_id: PullRequestId,
    },
    /// The agent joined the request's conversation.
    PullRequestJoined {
        agent_id: AgentId,
        request: PullRequest,
    },
    /// The input was refused and changed nothing.
    Rejected {
        input: &'static str,
        error: RoutingError,
    },
}

impl Effect {
    /// The task snapshots this effect carries, in order (a transfer carries two): what
    /// the store writes a task's row from.
    pub fn tasks(&self) -> impl Iterator<Item = &Arc<Task>> {
        let (first, second) = match self {
            Effect::TaskEnqueued { task, .. }
            | Effect::TaskStateChanged { task }
            | Effect::TaskMovedOn { task }
            | Effect::OfferTask { task, .. }
            | Effect::TaskAssigned { task, .. }
            | Effect::RevokeTask { task, .. }
            | Effect::NoAgentAvailable { task }
            | Effect::TaskRerouted { task, .. } => (Some(task), None),
            Effect::TaskTransferred { original, new } => (Some(original), Some(new)),
            Effect::AgentStateChanged { .. }
            | Effect::MrdInterrupted { .. }
            | Effect::PullListSubscribed { .. }
            | Effect::PullListUnsubscribed { .. }
            | Effect::PullRequestAdded { .. }
            | Effect::PullRequestUpdated { .. }
            | Effect::PullRequestRemoved { .. }
            | Effect::PullRequestJoined { .. }
            | Effect::Rejected { .. } => (None, None),
        };
        first.into_iter().chain(second)
    }
}
