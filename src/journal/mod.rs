//! The engine driver's side of the input journal: every input the site takes goes to
//! a [`Recorder`] (the site's `Steps`: `begin` before its step, `end` after), which
//! notes it, its `now`, and the digest of every effect of the step, both cores' and
//! the bridge's, for the driver to append in the transaction that commits those
//! effects (`store::journal`); what one core asks of the other within the step is
//! recomputed by a replay, not journaled (`site`). A conversation input is noted
//! without the texts it stored (`conversation`). Each start notes both cores' states
//! (the routing configuration, the conversations read back), and once a period
//! (daily by default, at the first input after each UTC midnight) both cores' states
//! again, so a replay can begin there and the purge can drop what came before. Outside
//! a site (`switchboard simulate`'s routing core, the conversation core's tests) the
//! recorder notes each core's inputs as that core's rows.

mod conversation;
mod site;

pub use conversation::{is_stand_in_id, read_back, ConversationState, ReadBack, SESSION, STORED};
pub use site::{read_back_site, site_brief, site_digest, SiteRow};

use crate::clock::Millis;
use crate::conversation::{ConversationCore, IdGen};
use crate::routing::{digest, Effect, Input, RoutingConfig, RoutingCore};
use crate::site::{SiteEffect, SiteInput};
use crate::store::journal::{Entry, Kind};
use serde_json::Value;

/// Notes what the core handles, when the journal is on.
pub struct Recorder {
    on: bool,
    entries: Vec<Entry>,
    /// Snapshot period (ms); 0: never.
    snapshot_every: Millis,
    /// The period of the last start or snapshot.
    last_period: Millis,
    /// How the inputs handled now are noted (a start's restore inputs, or inputs).
    kind: Kind,
    /// Channel sessions journaled whole since the last conversation state row.
    sessions: conversation::Sessions,
    /// Inside a [`Site`](crate::site::Site), which journals its own inputs.
    in_site: bool,
    /// The site input of the step under way, encoded before it ran.
    step: Option<serde_json::Result<site::Encoded>>,
}

impl Recorder {
    /// With `on`, journals every input, and the core's state once every
    /// `snapshot_every` ms (0: never), at the first input of each period.
    pub fn new(on: bool, snapshot_every: Millis) -> Self {
        Self {
            on,
            entries: Vec::new(),
            snapshot_every: snapshot_every.max(0),
            last_period: 0,
            kind: Kind::Input,
            sessions: conversation::Sessions::default(),
            in_site: false,
            step: None,
        }
    }

    /// Notes the inputs handled from now on as `kind`.
    pub fn noting_as(&mut self, kind: Kind) {
        self.kind = kind;
    }

    fn period(&self, now: Millis) -> Millis {
        now.div_euclid(self.snapshot_every.max(1))
    }

    /// Notes the state of `core` if a new period began since the last start or
    /// snapshot; true when it did (the caller notes the conversations' state next).
    /// Called between inputs, before those handled at `now`.
    pub fn snapshot_if_due(&mut self, now: Millis, core: &RoutingCore) -> bool {
        if !self.on || self.snapshot_every == 0 || self.period(now) <= self.last_period {
            return false;
        }
        self.last_period = self.period(now);
        self.note_state(Kind::Snapshot, now, core.state_snapshot());
        true
    }

    /// Notes the conversation core's state, with the ids the site's bridge draws
    /// from when it runs in one (after a routing snapshot, and at a start once the
    /// conversations are read back).
    pub fn note_conversations<I: IdGen + Clone + serde::Serialize>(
        &mut self,
        now: Millis,
        core: &ConversationCore<I>,
        site_ids: Option<&I>,
    ) {
        if self.on {
            self.sessions.clear();
            self.note_state(
                Kind::ConversationState,
                now,
                conversation::state_value(core, site_ids),
            );
        }
    }

    /// A core made with `config` at `now` (the start of a run).
    pub fn start(&mut self, now: Millis, config: &RoutingConfig) {
        if !self.on {
            return;
        }
        self.last_period = self.period(now);
        self.note_state(Kind::Start, now, serde_json::to_value(config));
    }

    /// Notes a start's configuration or a snapshot's state: a row without effects.
    fn note_state(&mut self, kind: Kind, now: Millis, state: serde_json::Result<Value>) {
        match state {
            Ok(input) => self.entries.push(Entry {
                kind,
                at: now,
                conversation_id: None,
                input,
                digest: digest::digest(&[]),
                effects: String::new(),
            }),
            Err(e) => tracing::error!(error = %e, ?kind, "a core's state cannot be journaled"),
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

    /// Notes a channel session `entry` journaled whole when its step stored the
    /// entry's conversation (so open, or closed within it): later inputs carrying it
    /// refer to it. A refused input's, or one answered from a closed conversation, is
    /// not noted, and the copy noted before with its id is forgotten (a replay keeps
    /// the last copy it read).
    fn session_journaled<'e>(
        &mut self,
        session: Option<std::sync::Arc<crate::cim::ChannelSession>>,
        entry: &Entry,
        mut effects: impl Iterator<Item = &'e crate::conversation::Effect>,
    ) {
        let Some(session) = session else {
            return;
        };
        let stored = entry.conversation_id.as_deref().filter(|id| {
            effects.any(|e| {
                matches!(e, crate::conversation::Effect::Persist(p) if p.conversation_id == *id)
            })
        });
        match stored {
            Some(id) => self.sessions.note(id, session),
            None => self.sessions.forget(&session.id),
        }
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

impl crate::site::Steps for Recorder {
    fn step(&mut self, core: &mut RoutingCore, now: Millis, input: Input) -> Vec<Effect> {
        if self.step.is_some() {
            // Inside a site step: the step's input is journaled, not what it asks.
            return core.handle(now, input);
        }
        let kind = self.kind;
        self.handle(core, now, kind, input)
    }

    fn attached(&mut self) {
        self.in_site = true;
    }

    fn begin(&mut self, _now: Millis, input: &mut SiteInput) {
        if self.on {
            self.step = Some(site::encode(&self.sessions, input));
        }
    }

    fn end(&mut self, now: Millis, effects: &[SiteEffect]) {
        let Some(encoded) = self.step.take() else {
            return;
        };
        let restoring = self.kind == Kind::Restore;
        match encoded.and_then(|encoded| site::entry(now, encoded, effects, restoring)) {
            Ok((entry, session)) => {
                let conversations = effects.iter().filter_map(|e| match e {
                    SiteEffect::Conversation(effect) => Some(effect),
                    _ => None,
                });
                self.session_journaled(session, &entry, conversations);
                self.entries.push(entry);
            }
            // Serializing these types cannot fail (string keys only); should it, the
            // replay stops at the gap rather than the server at the input.
            Err(e) => tracing::error!(error = %e, "a site input cannot be journaled"),
        }
        for effect in effects {
            if let SiteEffect::Conversation(crate::conversation::Effect::ConversationClosed {
                conversation_id,
            }) = effect
            {
                self.sessions.closed(conversation_id);
            }
        }
    }

    fn restored<I: IdGen + Clone + serde::Serialize>(
        &mut self,
        now: Millis,
        conversations: &ConversationCore<I>,
        ids: &I,
    ) {
        self.note_conversations(now, conversations, Some(ids));
    }

    fn conversation_step<I: IdGen + Clone + serde::Serialize>(
        &mut self,
        core: &mut ConversationCore<I>,
        now: Millis,
        input: crate::conversation::Input,
    ) -> Vec<crate::conversation::Effect> {
        if !self.on || self.step.is_some() {
            return core.handle(now, input);
        }
        if let crate::conversation::Input::Restore { .. } = input {
            let effects = core.handle(now, input);
            // In a site, `restored` notes the state with the bridge's ids.
            if !self.in_site {
                self.note_conversations(now, core, None);
            }
            return effects;
        }
        let mut input = input;
        let encoded = conversation::encode(&self.sessions, &mut input);
        let effects = core.handle(now, input);
        let entry = encoded.and_then(|encoded| {
            let session = encoded.whole_session.clone();
            let refs: Vec<&crate::conversation::Effect> = effects.iter().collect();
            let digest = crate::conversation::digest::digest(&effects);
            Ok((session, conversation::entry(now, encoded, &refs, digest)?))
        });
        match entry {
            Ok((session, entry)) => {
                self.session_journaled(session, &entry, effects.iter());
                self.entries.push(entry);
            }
            Err(e) => tracing::error!(error = %e, "a conversation input cannot be journaled"),
        }
        for effect in &effects {
            if let crate::conversation::Effect::ConversationClosed { conversation_id } = effect {
                self.sessions.closed(conversation_id);
            }
        }
        effects
    }
}

#[cfg(test)]
mod tests;
