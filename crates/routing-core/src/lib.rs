//! Switchboard's routing core: matches tasks (chats, calls, transfers) to agents.
//!
//! [`RoutingCore`] is a pure state machine — `handle(now, input) -> effects` and
//! `next_deadline()`, no clock, no I/O. It is its own crate so the compiler keeps it
//! pure: it depends on serde, serde_json, thiserror, utoipa (schema derives) and fnv
//! (the journal's digest) only — no tokio, rusqlite or actix — and nothing of the app. The app re-exports it as
//! `switchboard::routing`, whose driver task persists every effect before publishing
//! it and rebuilds the core from storage on start.
//!
//! - `model`: identifiers, configuration records and state enums
//! - `task`: the task record and its CIM rendering
//! - `expr`: queue-step expressions
//! - `select`: agent selection policies
//! - `pull`: pull-mode lists
//! - `stats`: handle-time and service-level windows
//! - `engine`: the state machine itself
//! - `input`, `effect`, `view`, `error`, `config`: its interface
//! - `digest`: what the input journal keeps of effects (a digest and a brief line)

/// Milliseconds since the Unix epoch (`switchboard::clock::Millis`).
pub type Millis = i64;

mod config;
pub mod digest;
mod effect;
mod engine;
mod error;
pub mod expr;
mod input;
mod model;
mod pull;
mod select;
mod stats;
mod task;
mod view;

pub use config::RoutingConfig;
pub use effect::Effect;
pub use engine::{input_name, RoutingCore, SnapshotError};
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
