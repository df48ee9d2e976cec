//! Routing engine: matches tasks (chats, calls, transfers) to agents.
//!
//! [`RoutingCore`] is a pure state machine — `handle(now, input) -> effects` and
//! `next_deadline()`, no clock, no I/O — in its own crate (`crates/routing-core`,
//! re-exported here) so the compiler keeps it pure. It runs inside the site
//! (`crate::site`), owned by the engine driver (`crate::engine`), which
//! persists every effect before publishing it and rebuilds the core from storage on
//! start.
//!
//! - `model`: identifiers, configuration records and state enums
//! - `task`: the task record and its CIM rendering
//! - `expr`: queue-step expressions
//! - `select`: agent selection policies
//! - `pull`: pull-mode lists
//! - `stats`: handle-time and service-level windows
//! - `engine`: the state machine itself
//! - `input`, `effect`, `view`, `error`, `config`: its interface
//!
//! Here: `handle` (what callers send the engine and read from the core), `loader`
//! (the restore inputs) and `journal` (what the driver notes in the input journal,
//! `store::journal`).

pub mod handle;
pub mod loader;

pub use handle::{EffectBatch, RoutingHandle};
pub use switchboard_routing_core::{
    digest, expr, input_name, AgentId, AgentMrdView, AgentProfile, AgentStateName, AgentView,
    AttrValue, ConversationId, Direction, Disposition, Effect, Input, MediaState, MrdConfig, MrdId,
    MrdStateName, NewPullRequest, NewTask, PullListConfig, PullListId, PullRequest, PullRequestId,
    PullRequestState, QueueConfig, QueueId, QueuePosition, QueueRef, QueueStats,
    RequestedAgentState, RequestedMrdState, ResumeState, RevokeReason, RoutingConfig, RoutingCore,
    RoutingError, RoutingMode, SelectionPolicy, SharedJson, StateChange, StateChangeKind,
    StepConfig, Target, Task, TaskId, TaskMedia, TaskMode, TaskRouting, TaskState, TaskStateName,
    MAX_CLIENT_PRIORITY, MAX_STEPS, REROUTE_PRIORITY,
};
