//! Why the engine refused an input. A refused input changes nothing.

use super::expr::ExprError;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    #[error("unknown agent {0:?}")]
    UnknownAgent(String),
    #[error("unknown task {0:?}")]
    UnknownTask(String),
    #[error("unknown queue {0:?}")]
    UnknownQueue(String),
    #[error("unknown MRD {0:?}")]
    UnknownMrd(String),
    #[error("unknown pull-mode list {0:?}")]
    UnknownPullList(String),
    #[error("unknown pull-mode request {0:?}")]
    UnknownPullRequest(String),
    #[error("task {0:?} already exists")]
    DuplicateTask(String),
    #[error("pull-mode request {0:?} already exists")]
    DuplicatePullRequest(String),
    #[error("priority {0} is outside 1-10")]
    InvalidPriority(u8),
    #[error("attribute {attribute:?} has proficiency {value}, outside 1-10")]
    InvalidProficiency { attribute: String, value: u8 },
    #[error("a queue has at most 10 steps, got {0}")]
    TooManySteps(usize),
    #[error("step {step} of queue {queue:?}: {error}")]
    BadExpression {
        queue: String,
        step: usize,
        error: ExprError,
    },
    #[error("timeout of step {step} of queue {queue:?} must not be negative")]
    NegativeTimeout { queue: String, step: usize },
    #[error("MRD {mrd:?} is used by queue {queue:?}")]
    MrdInUse { mrd: String, queue: String },
    #[error("agents still hold tasks on MRD {0:?}")]
    MrdBusy(String),
    #[error("agent {0:?} has no connected desk")]
    NotConnected(String),
    #[error("agent {0:?} is not logged in")]
    NotLoggedIn(String),
    #[error("agent {0:?} must be READY before an MRD can be READY")]
    GlobalNotReady(String),
    #[error("task {task:?} is not reserved to agent {agent:?}")]
    NotReservedTo { task: String, agent: String },
    #[error("task {0:?} is not active")]
    TaskNotActive(String),
    #[error("task {0:?} is not in wrap-up")]
    TaskNotInWrapUp(String),
    #[error("task {new:?} does not transfer task {original:?}")]
    NotATransfer { original: String, new: String },
    #[error("agent {agent:?} is not subscribed to pull-mode list {list:?}")]
    NotSubscribed { agent: String, list: String },
    #[error("agent {agent:?} already joined pull-mode request {request:?}")]
    AlreadyJoined { agent: String, request: String },
    #[error("pull-mode request {0:?} is closed")]
    PullRequestClosed(String),
    #[error("task {0:?} is not waiting in a queue")]
    NotWaiting(String),
    #[error("task {task:?} already waits in queue {queue:?}")]
    SameQueue { task: String, queue: String },
    #[error(
        "agent {agent:?} cannot take task {task:?} now (not READY, no room, or it declined it)"
    )]
    AgentUnavailable { agent: String, task: String },
    /// The batch holding the input could not be committed; nothing of it was published.
    #[error("the routing change could not be stored: {0}")]
    NotStored(String),
    #[error("cannot restore task {task:?}: {reason}")]
    BadRestore { task: String, reason: String },
}
