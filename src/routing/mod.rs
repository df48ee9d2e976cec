//! Routing engine: matches tasks (chats, calls, transfers) to agents.
//!
//! [`RoutingCore`] is a pure state machine — `handle(now, input) -> effects` and
//! `next_deadline()`, no clock, no I/O — owned by a driver task that persists every
//! effect before publishing it and rebuilds the core from storage on start.
//!
//! - `model`: identifiers, configuration records and state enums
//! - `task`: the task record and its CIM rendering
//! - `expr`: queue-step expressions
//! - `select`: agent selection policies
//! - `pull`: pull-mode lists
//! - `stats`: handle-time and service-level windows
//! - `engine`: the state machine itself
//! - `input`, `effect`, `view`, `error`, `config`: its interface

mod config;
pub mod driver;
mod effect;
mod engine;
mod error;
pub mod expr;
mod input;
pub mod loader;
mod model;
mod pull;
mod select;
mod stats;
mod task;
mod view;

pub use config::RoutingConfig;
pub use driver::{EffectBatch, RoutingHandle};
pub use effect::Effect;
pub use engine::RoutingCore;
pub use error::RoutingError;
pub use input::{Input, NewTask, TaskMode};
pub use model::{
    AgentId, AgentProfile, AgentStateName, AttrValue, ConversationId, Direction, Disposition,
    MediaState, MrdConfig, MrdId, MrdStateName, PullListConfig, PullListId, PullRequestId,
    PullRequestState, QueueConfig, QueueId, RequestedAgentState, RequestedMrdState, RevokeReason,
    RoutingMode, SelectionPolicy, SharedJson, StepConfig, TaskId, TaskStateName,
    MAX_CLIENT_PRIORITY, MAX_STEPS, REROUTE_PRIORITY,
};
pub use pull::{NewPullRequest, PullRequest};
pub use task::{QueueRef, Target, Task, TaskMedia, TaskRouting, TaskState};
pub use view::{
    AgentMrdView, AgentView, QueuePosition, QueueStats, ResumeState, StateChange, StateChangeKind,
};
