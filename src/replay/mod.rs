//! `switchboard replay`: rebuilds the routing core from the input journal
//! (`store::journal`) and checks that it decides what was stored.
//!
//! From the start of the run holding `--from` (or the first run), each journal row is
//! fed to a fresh core as the driver fed it: a start makes a new core with its
//! routing configuration, every restore and input row is handled at its own `now`,
//! and the digest of the recomputed effects is compared with the stored one. The
//! first row that differs is the divergence: its input, its time and both effect
//! lines. An [`Overrides`] changes the routing rules of the replay (an accept timeout,
//! a queue's step timeout, the selection policy), so the first decision the change
//! alters shows as a divergence.
//!
//! - `cli`: the command's options and output

pub mod cli;

use crate::clock::Millis;
use crate::routing::{digest, Input, RoutingConfig, RoutingCore, SelectionPolicy};
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
    /// Restore and input rows compared.
    pub inputs: u64,
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
    let mut out = Outcome::default();
    let mut core: Option<RoutingCore> = None;
    let mut queue_seen = false;
    let mut failure: Option<ReplayError> = None;
    journal::for_each(conn, start, to, |pos, entry| {
        out.first_at.get_or_insert(entry.at);
        out.last_at = Some(entry.at);
        let bad = |message: String| ReplayError::BadRow { pos, message };
        if entry.kind == Kind::Start {
            match serde_json::from_value::<RoutingConfig>(entry.input) {
                Ok(mut config) => {
                    overrides.config(&mut config);
                    core = Some(RoutingCore::new(config));
                    out.runs += 1;
                    return Ok(true);
                }
                Err(e) => {
                    failure = Some(bad(e.to_string()));
                    return Ok(false);
                }
            }
        }
        let Some(core) = core.as_mut() else {
            failure = Some(bad("an input before any start".into()));
            return Ok(false);
        };
        let mut input: Input = match serde_json::from_value(entry.input.clone()) {
            Ok(input) => input,
            Err(e) => {
                failure = Some(bad(e.to_string()));
                return Ok(false);
            }
        };
        queue_seen |= overrides.input(&mut input);
        let effects = core.handle(entry.at, input);
        out.inputs += 1;
        let recomputed_digest = digest::digest(&effects);
        if recomputed_digest != entry.digest {
            out.divergence = Some(divergence(pos, entry, &effects, recomputed_digest));
            return Ok(false);
        }
        Ok(true)
    })?;
    if let Some(e) = failure {
        return Err(e);
    }
    if let (Some((queue, _)), None) = (&overrides.step_timeout, &out.divergence) {
        if !queue_seen {
            return Err(ReplayError::UnknownQueue(queue.clone()));
        }
    }
    Ok(out)
}

fn divergence(
    pos: i64,
    entry: Entry,
    effects: &[crate::routing::Effect],
    recomputed_digest: u64,
) -> Divergence {
    Divergence {
        pos,
        at: entry.at,
        kind: entry.kind,
        input: entry.input,
        expected: entry.effects,
        expected_digest: entry.digest,
        recomputed: digest::brief(effects),
        recomputed_digest,
    }
}

#[cfg(test)]
mod tests;
