//! The routing driver's side of the input journal: every input goes to the core
//! through a [`Recorder`], which notes it (without its opaque payloads), its `now`,
//! and the digest and brief of its effects, for the driver to append in the
//! transaction that commits those effects (`store::journal`).

use super::{digest, Effect, Input, RoutingConfig, RoutingCore};
use crate::clock::Millis;
use crate::store::journal::{Entry, Kind};

/// Notes what the core handles, when the journal is on.
pub struct Recorder {
    on: bool,
    entries: Vec<Entry>,
}

impl Recorder {
    pub fn new(on: bool) -> Self {
        Self {
            on,
            entries: Vec::new(),
        }
    }

    /// A core made with `config` at `now` (the start of a run).
    pub fn start(&mut self, now: Millis, config: &RoutingConfig) {
        if !self.on {
            return;
        }
        match serde_json::to_value(config) {
            Ok(input) => self.entries.push(Entry {
                kind: Kind::Start,
                at: now,
                conversation_id: None,
                input,
                digest: digest::digest(&[]),
                effects: String::new(),
            }),
            Err(e) => tracing::error!(error = %e, "the routing configuration cannot be journaled"),
        }
    }

    /// Has `core` handle `input` at `now`, noting it as `kind`; its effects.
    pub fn handle(
        &mut self,
        core: &mut RoutingCore,
        now: Millis,
        kind: Kind,
        mut input: Input,
    ) -> Vec<Effect> {
        if !self.on {
            return core.handle(now, input);
        }
        let conversation_id = conversation_of(&input).map(str::to_string);
        let encoded = digest::journal_form(&mut input);
        let effects = core.handle(now, input);
        match encoded {
            Ok(input) => self.entries.push(Entry {
                kind,
                at: now,
                conversation_id,
                input,
                digest: digest::digest(&effects),
                effects: digest::brief(&effects),
            }),
            // Serializing these types cannot fail (string keys only); should it, the
            // replay stops at the gap rather than the server at the input.
            Err(e) => tracing::error!(error = %e, "a routing input cannot be journaled"),
        }
        effects
    }

    /// What was noted since the last call, for the commit.
    pub fn take(&mut self) -> Vec<Entry> {
        std::mem::take(&mut self.entries)
    }
}

/// The conversation an input names, if any (stored as a key, see `store::journal`).
pub fn conversation_of(input: &Input) -> Option<&str> {
    match input {
        Input::EnqueueTask(new) => Some(&new.conversation_id),
        Input::AddPullRequest(new) => Some(&new.conversation_id),
        Input::LeavePullConversation {
            conversation_id, ..
        } => Some(conversation_id),
        Input::RestoreTask(task) => Some(&task.conversation_id),
        Input::RestorePullRequest(request) => Some(&request.conversation_id),
        _ => None,
    }
}
