//! Why the engine refused an input. A refused input changes nothing. Each refusal has
//! a stable snake_case [`RoutingError::code`] that desks, the supervisor console and
//! the HTTP API answer with (listed in docs/protocol.md, "Refusal codes").

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

impl RoutingError {
    /// The stable code clients match on (docs/protocol.md, "Refusal codes"). A batch
    /// that could not be stored is `unavailable`, as for every other layer.
    pub fn code(&self) -> &'static str {
        match self {
            RoutingError::UnknownAgent(_) => "unknown_agent",
            RoutingError::UnknownTask(_) => "unknown_task",
            RoutingError::UnknownQueue(_) => "unknown_queue",
            RoutingError::UnknownMrd(_) => "unknown_mrd",
            RoutingError::UnknownPullList(_) => "unknown_pull_list",
            RoutingError::UnknownPullRequest(_) => "unknown_pull_request",
            RoutingError::DuplicateTask(_) => "duplicate_task",
            RoutingError::DuplicatePullRequest(_) => "duplicate_pull_request",
            RoutingError::InvalidPriority(_) => "invalid_priority",
            RoutingError::InvalidProficiency { .. } => "invalid_proficiency",
            RoutingError::TooManySteps(_) => "too_many_steps",
            RoutingError::BadExpression { .. } => "bad_expression",
            RoutingError::NegativeTimeout { .. } => "negative_timeout",
            RoutingError::MrdInUse { .. } => "mrd_in_use",
            RoutingError::MrdBusy(_) => "mrd_busy",
            RoutingError::NotConnected(_) => "not_connected",
            RoutingError::NotLoggedIn(_) => "not_logged_in",
            RoutingError::GlobalNotReady(_) => "agent_not_ready",
            RoutingError::NotReservedTo { .. } => "not_reserved_to_agent",
            RoutingError::TaskNotActive(_) => "task_not_active",
            RoutingError::TaskNotInWrapUp(_) => "task_not_in_wrap_up",
            RoutingError::NotATransfer { .. } => "not_a_transfer",
            RoutingError::NotSubscribed { .. } => "not_subscribed",
            RoutingError::AlreadyJoined { .. } => "already_joined",
            RoutingError::PullRequestClosed(_) => "pull_request_closed",
            RoutingError::NotWaiting(_) => "not_waiting",
            RoutingError::SameQueue { .. } => "same_queue",
            RoutingError::AgentUnavailable { .. } => "agent_unavailable",
            RoutingError::NotStored(_) => "unavailable",
            RoutingError::BadRestore { .. } => "bad_restore",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn every_variant() -> Vec<RoutingError> {
        let s = || "x".to_string();
        vec![
            RoutingError::UnknownAgent(s()),
            RoutingError::UnknownTask(s()),
            RoutingError::UnknownQueue(s()),
            RoutingError::UnknownMrd(s()),
            RoutingError::UnknownPullList(s()),
            RoutingError::UnknownPullRequest(s()),
            RoutingError::DuplicateTask(s()),
            RoutingError::DuplicatePullRequest(s()),
            RoutingError::InvalidPriority(0),
            RoutingError::InvalidProficiency {
                attribute: s(),
                value: 0,
            },
            RoutingError::TooManySteps(11),
            RoutingError::BadExpression {
                queue: s(),
                step: 0,
                error: ExprError::ExpectedAttribute { offset: 0 },
            },
            RoutingError::NegativeTimeout {
                queue: s(),
                step: 0,
            },
            RoutingError::MrdInUse {
                mrd: s(),
                queue: s(),
            },
            RoutingError::MrdBusy(s()),
            RoutingError::NotConnected(s()),
            RoutingError::NotLoggedIn(s()),
            RoutingError::GlobalNotReady(s()),
            RoutingError::NotReservedTo {
                task: s(),
                agent: s(),
            },
            RoutingError::TaskNotActive(s()),
            RoutingError::TaskNotInWrapUp(s()),
            RoutingError::NotATransfer {
                original: s(),
                new: s(),
            },
            RoutingError::NotSubscribed {
                agent: s(),
                list: s(),
            },
            RoutingError::AlreadyJoined {
                agent: s(),
                request: s(),
            },
            RoutingError::PullRequestClosed(s()),
            RoutingError::NotWaiting(s()),
            RoutingError::SameQueue {
                task: s(),
                queue: s(),
            },
            RoutingError::AgentUnavailable {
                agent: s(),
                task: s(),
            },
            RoutingError::NotStored(s()),
            RoutingError::BadRestore {
                task: s(),
                reason: s(),
            },
        ]
    }

    #[test]
    fn every_refusal_has_its_own_snake_case_code_and_each_is_documented() {
        let protocol = include_str!("../../../docs/protocol.md");
        let mut seen = HashSet::new();
        for error in every_variant() {
            let code = error.code();
            assert!(seen.insert(code), "{code} is used twice");
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code} is not snake_case"
            );
            assert!(
                protocol.contains(&format!("| `{code}` |")),
                "{code} is not in the refusal code table of docs/protocol.md"
            );
        }
    }
}
