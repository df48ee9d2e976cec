//! `switchboard replay`: rebuilds the engine (the routing core, the conversation core
//! and the bridge between them: `site::Site`) from the input journal
//! (`store::journal`) and checks that it decides what was stored.
//!
//! From the last start or snapshot at or before `--from` (or the first), each journal
//! row is fed to the engine as the driver fed it (`engine`): a start makes a new
//! routing core with its configuration, a snapshot to begin at is read back into one
//! in that state, and the conversations' state row after either makes the site; every
//! input row is handled at its own `now` (a site input through the whole site, so
//! what one core asks of the other is asked again), and the digest of the recomputed
//! effects is compared with the stored one. A snapshot passed on the way is compared
//! with the state the replay rebuilt. The first row that differs is the divergence:
//! its input, its time and both effect lines (for a snapshot, where the states part).
//! An [`Overrides`] changes the routing rules of the replay (an accept timeout, a
//! queue's step timeout, the selection policy), so the first decision the change
//! alters shows as a divergence, and carries into the conversations.
//!
//! - `engine`: the engine rebuilt row by row
//! - `cli`: the command's options and output

pub mod cli;
mod engine;

use crate::clock::Millis;
use crate::routing::{Input, RoutingConfig, RoutingCore, SelectionPolicy};
use crate::store::journal::{self, Entry, Kind};
use crate::store::StoreError;
use rusqlite::Connection;
use serde_json::Value;

/// What can stop a replay before it compared everything.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot open the database read-only at {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the input journal is empty (was the server run with routing.journal = false?)")]
    NoJournal,
    #[error("journal row {pos} cannot be read back: {message}")]
    BadRow { pos: i64, message: String },
    #[error("no queue named or with id `{0}` in the replayed configuration")]
    UnknownQueue(String),
}

impl ReplayError {
    /// A stable code for scripts reading the error.
    pub fn code(&self) -> &'static str {
        match self {
            ReplayError::Store(_) => "store",
            ReplayError::Open { .. } => "open_failed",
            ReplayError::NoJournal => "no_journal",
            ReplayError::BadRow { .. } => "bad_row",
            ReplayError::UnknownQueue(_) => "unknown_queue",
        }
    }
}

/// Routing rules the replay runs with instead of the recorded ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Every offer's accept timeout (the engine default and every queue's own).
    pub accept_timeout_ms: Option<Millis>,
    /// (queue id or name, ms): every step of the queue searched this long alone.
    pub step_timeout: Option<(String, Millis)>,
    /// Every task routed with this policy.
    pub policy: Option<SelectionPolicy>,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }

    fn config(&self, config: &mut RoutingConfig) {
        if let Some(ms) = self.accept_timeout_ms {
            config.accept_timeout_ms = ms;
        }
    }

    /// Changes `input`; true when it configured the queue of `step_timeout`.
    fn input(&self, input: &mut Input) -> bool {
        match input {
            Input::UpsertQueue(queue) => {
                if let Some(ms) = self.accept_timeout_ms {
                    queue.accept_timeout_ms = Some(ms);
                }
                match &self.step_timeout {
                    Some((name, ms)) if &queue.id == name || &queue.name == name => {
                        queue.steps.iter_mut().for_each(|s| s.timeout_ms = *ms);
                        true
                    }
                    _ => false,
                }
            }
            Input::EnqueueTask(new) => {
                if let Some(policy) = self.policy {
                    new.selection_policy = policy;
                }
                false
            }
            Input::RestoreTask(task) => {
                if let Some(policy) = self.policy {
                    task.routing.selection_policy = policy;
                }
                false
            }
            _ => false,
        }
    }
}

/// The first journal row whose recomputed effects differ from the stored ones.
#[derive(Clone, Debug, PartialEq)]
pub struct Divergence {
    /// The row's position in the journal.
    pub pos: i64,
    pub at: Millis,
    pub kind: Kind,
    /// The input as journaled.
    pub input: Value,
    pub expected: String,
    pub expected_digest: u64,
    pub recomputed: String,
    pub recomputed_digest: u64,
}

/// What a replay went through.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Starts of the core replayed (the server's restarts, plus one).
    pub runs: u64,
    /// The time of the snapshot the replay began at, if it began at one.
    pub began_at_snapshot: Option<Millis>,
    /// Snapshots passed and found equal to the rebuilt state.
    pub snapshots: u64,
    /// Restore and input rows compared.
    pub inputs: u64,
    /// Conversation input rows compared.
    pub conversation_inputs: u64,
    /// Input rows whose message's stored event was gone (erased, or purged at the
    /// journal's edge): taken, but their effects not checked (`journal::ReadBack`).
    pub unchecked: u64,
    /// Conversation state rows passed after the first of a run, found equal.
    pub conversation_snapshots: u64,
    /// Times of the first and last rows replayed.
    pub first_at: Option<Millis>,
    pub last_at: Option<Millis>,
    pub divergence: Option<Divergence>,
}

/// Replays the journal of `conn` from the run holding `from` (or the first) up to
/// `to` (exclusive) with `overrides`; stops at the first divergence.
pub fn replay(
    conn: &Connection,
    from: Option<Millis>,
    to: Option<Millis>,
    overrides: &Overrides,
) -> Result<Outcome, ReplayError> {
    let start = journal::start_for(conn, from)?.ok_or(ReplayError::NoJournal)?;
    let mut engine = engine::Engine::new(conn, overrides);
    let mut failure: Option<ReplayError> = None;
    journal::for_each(conn, start, to, |pos, entry| {
        engine.out.first_at.get_or_insert(entry.at);
        engine.out.last_at = Some(entry.at);
        Ok(match engine.row(pos, entry) {
            Ok(None) => true,
            Ok(Some(divergence)) => {
                engine.out.divergence = Some(divergence);
                false
            }
            Err(e) => {
                failure = Some(e);
                false
            }
        })
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    let out = engine.out;
    if let (Some((queue, _)), None) = (&overrides.step_timeout, &out.divergence) {
        if !engine.queue_seen.get() {
            return Err(ReplayError::UnknownQueue(queue.clone()));
        }
    }
    Ok(out)
}

/// A core in the state of a journaled snapshot, with the overrides applied to its
/// routing configuration and queues as they are applied to a start's configuration
/// and queue inputs (`config` and `queues[].config` are `RoutingCore`'s fields). A
/// timer armed before the snapshot keeps its deadline.
fn core_from_snapshot(
    mut state: Value,
    overrides: &Overrides,
    queue_seen: &mut bool,
) -> Result<RoutingCore, String> {
    if !overrides.is_empty() {
        if let Some(config) = state.get_mut("config") {
            let mut read: RoutingConfig =
                serde_json::from_value(config.take()).map_err(|e| e.to_string())?;
            overrides.config(&mut read);
            *config = serde_json::to_value(read).map_err(|e| e.to_string())?;
        }
        if let Some(Value::Array(queues)) = state.get_mut("queues") {
            for config in queues.iter_mut().filter_map(|q| q.get_mut("config")) {
                let mut input = Input::UpsertQueue(
                    serde_json::from_value(config.take()).map_err(|e| e.to_string())?,
                );
                *queue_seen |= overrides.input(&mut input);
                if let Input::UpsertQueue(queue) = input {
                    *config = serde_json::to_value(queue).map_err(|e| e.to_string())?;
                }
            }
        }
    }
    RoutingCore::from_state_snapshot(state).map_err(|e| format!("{} ({})", e, e.code()))
}

/// Where two states first differ: the path and both values there (cut short), or None.
/// Objects compare by key whatever their order (the engine's maps are unordered).
fn first_difference(
    expected: &Value,
    recomputed: &Value,
    path: &str,
) -> Option<(String, String, String)> {
    match (expected, recomputed) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let here = format!("{path}.{k}");
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => first_difference(x, y, &here),
                    (x, y) => Some((here, shown(x), shown(y))),
                }
            })
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        (a, b) if a == b => None,
        (a, b) => Some((path.to_string(), shown(Some(a)), shown(Some(b)))),
    }
}

fn shown(value: Option<&Value>) -> String {
    let text = value.map_or_else(|| "(absent)".to_string(), Value::to_string);
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The divergence at row `pos`: its input and stored effects, and what was
/// recomputed (in brief).
fn divergence(pos: i64, entry: Entry, recomputed: String, recomputed_digest: u64) -> Divergence {
    Divergence {
        pos,
        at: entry.at,
        kind: entry.kind,
        input: entry.input,
        expected: entry.effects,
        expected_digest: entry.digest,
        recomputed,
        // As the row would keep it, so the two read alike.
        recomputed_digest: if entry.digest == journal::kept_digest(entry.digest) {
            journal::kept_digest(recomputed_digest)
        } else {
            recomputed_digest
        },
    }
}

#[cfg(test)]
mod tests;
