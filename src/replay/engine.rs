//! The engine a replay rebuilds, row by row: a routing core alone from a start or a
//! snapshot until the conversations' state row after it arrives, then a site of both
//! cores and the bridge. A site row (`Kind::SiteInput`, `Kind::SitePersonal`) runs
//! through the whole site; a row of one core alone (the routing core's inputs as
//! `switchboard simulate` journals them, or the conversation core's as an earlier
//! build did) goes to that core. Each row's recomputed effects are compared with its
//! digest; a state row passed on the way with the rebuilt state.

use super::ReplayError;
use super::{core_from_snapshot, divergence, first_difference, Divergence, Outcome, Overrides};
use crate::clock::Millis;
use crate::conversation::{self, ConversationCore, UuidIds};
use crate::journal::{
    is_stand_in_id, read_back, read_back_site, site_brief, site_digest, ConversationState, SiteRow,
};
use crate::routing::{self, digest, RoutingConfig, RoutingCore};
use crate::site::{Site, SiteInput, Steps};
use crate::store::journal::{self, Entry, Kind};
use crate::store::tasks;
use rusqlite::Connection;
use serde_json::Value;
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

/// The site's steps in a replay: every routing input the site hands its routing core
/// (a FIND_AGENT's task included) gets the overrides first.
struct Overriding {
    overrides: Overrides,
    queue_seen: Rc<Cell<bool>>,
}

impl Steps for Overriding {
    fn step(
        &mut self,
        core: &mut RoutingCore,
        now: Millis,
        mut input: routing::Input,
    ) -> Vec<routing::Effect> {
        if self.overrides.input(&mut input) {
            self.queue_seen.set(true);
        }
        core.handle(now, input)
    }
}

/// The engine being rebuilt, and what the replay went through.
pub(super) struct Engine<'a> {
    conn: &'a Connection,
    overrides: &'a Overrides,
    routing: Option<RoutingCore>,
    site: Option<Site<UuidIds, Overriding>>,
    /// Channel sessions journaled whole since the last state row.
    sessions: HashMap<String, Value>,
    pub queue_seen: Rc<Cell<bool>>,
    pub out: Outcome,
}

impl<'a> Engine<'a> {
    pub fn new(conn: &'a Connection, overrides: &'a Overrides) -> Self {
        Engine {
            conn,
            overrides,
            routing: None,
            site: None,
            sessions: HashMap::new(),
            queue_seen: Rc::new(Cell::new(false)),
            out: Outcome::default(),
        }
    }

    /// Replays the row at `pos`; the divergence, if it is one.
    pub fn row(&mut self, pos: i64, entry: Entry) -> Result<Option<Divergence>, ReplayError> {
        let bad = |message: String| ReplayError::BadRow { pos, message };
        match entry.kind {
            Kind::Start => {
                let mut config: RoutingConfig =
                    serde_json::from_value(entry.input).map_err(|e| bad(e.to_string()))?;
                self.overrides.config(&mut config);
                self.routing = Some(RoutingCore::new(config));
                self.site = None;
                self.sessions.clear();
                self.out.runs += 1;
                Ok(None)
            }
            Kind::Snapshot => self.snapshot(pos, entry),
            Kind::ConversationState => self.conversation_state(pos, entry),
            Kind::Restore | Kind::Input => {
                let mut input: routing::Input =
                    serde_json::from_value(entry.input.clone()).map_err(|e| bad(e.to_string()))?;
                if self.overrides.input(&mut input) {
                    self.queue_seen.set(true);
                }
                let core = match (&mut self.site, &mut self.routing) {
                    (Some(site), _) => site.routing_mut(),
                    (None, Some(core)) => core,
                    (None, None) => return Err(bad("an input before any start".into())),
                };
                let effects = core.handle(entry.at, input);
                self.out.inputs += 1;
                let recomputed = digest::digest(&effects);
                Ok((!journal::digest_matches(entry.digest, recomputed))
                    .then(|| divergence(pos, entry, digest::brief(&effects), recomputed)))
            }
            Kind::ConversationInput | Kind::ConversationPersonal => {
                let back = read_back(self.conn, &entry, &mut self.sessions)
                    .map_err(|e| bad(e.to_string()))?;
                let site = self.site.as_mut().ok_or_else(|| {
                    bad("a conversation input before the conversations' state".into())
                })?;
                let effects = site.conversations_mut().handle(entry.at, back.input);
                self.out.conversation_inputs += 1;
                let recomputed = conversation::digest::digest(&effects);
                Ok(self.differs(recomputed, &entry, back.stood_in).then(|| {
                    divergence(
                        pos,
                        entry,
                        conversation::digest::brief(&effects),
                        recomputed,
                    )
                }))
            }
            Kind::SiteInput | Kind::SitePersonal => {
                let back = read_back_site(self.conn, &entry, &mut self.sessions)
                    .map_err(|e| bad(e.to_string()))?;
                let site = self
                    .site
                    .as_mut()
                    .ok_or_else(|| bad("a site input before the conversations' state".into()))?;
                let effects = match back.input {
                    SiteRow::Restore(input) => {
                        self.out.inputs += 1;
                        site.restore_routing(entry.at, input)
                    }
                    SiteRow::Input(input) => {
                        match &input {
                            SiteInput::Conversation(_) => self.out.conversation_inputs += 1,
                            _ => self.out.inputs += 1,
                        }
                        site.handle(entry.at, input)
                    }
                };
                let recomputed = site_digest(&effects);
                Ok(self
                    .differs(recomputed, &entry, back.stood_in)
                    .then(|| divergence(pos, entry, site_brief(&effects), recomputed)))
            }
        }
    }

    /// Whether the `recomputed` digest of `entry` is a divergence. One whose message
    /// stood in for a stored event that is gone is not: it is counted unchecked.
    fn differs(&mut self, recomputed: u64, entry: &Entry, stood_in: bool) -> bool {
        if journal::digest_matches(entry.digest, recomputed) {
            return false;
        }
        if stood_in {
            self.out.unchecked += 1;
            return false;
        }
        true
    }

    /// A snapshot row: the core to begin at, or a state to compare with the rebuilt one.
    fn snapshot(&mut self, pos: i64, entry: Entry) -> Result<Option<Divergence>, ReplayError> {
        let bad = |message: String| ReplayError::BadRow { pos, message };
        let rebuilt = match (&self.site, &self.routing) {
            (Some(site), _) => site.routing(),
            (None, Some(core)) => core,
            (None, None) => {
                let mut seen = false;
                let mut core =
                    core_from_snapshot(entry.input, self.overrides, &mut seen).map_err(bad)?;
                let mut failed = None;
                core.supply_payloads(|id| match tasks::payloads_of(self.conn, id) {
                    Ok(found) => found.map(|(session, metadata)| (session.into(), metadata.into())),
                    Err(e) => {
                        failed.get_or_insert(e);
                        None
                    }
                });
                if let Some(e) = failed {
                    return Err(ReplayError::Store(e));
                }
                if seen {
                    self.queue_seen.set(true);
                }
                self.routing = Some(core);
                self.out.runs += 1;
                self.out.began_at_snapshot = Some(entry.at);
                return Ok(None);
            }
        };
        // With changed rules the state differs by design; their effects show where
        // decisions part.
        if !self.overrides.is_empty() {
            return Ok(None);
        }
        let state = rebuilt.state_snapshot().map_err(|e| bad(e.to_string()))?;
        Ok(match first_difference(&entry.input, &state, "") {
            None => {
                self.out.snapshots += 1;
                None
            }
            Some((path, expected, recomputed)) => {
                Some(state_divergence(pos, &entry, path, expected, recomputed))
            }
        })
    }

    /// A conversations' state row: after a start or a snapshot, the site is made of
    /// the routing core and it; later, it is compared with the rebuilt one.
    fn conversation_state(
        &mut self,
        pos: i64,
        entry: Entry,
    ) -> Result<Option<Divergence>, ReplayError> {
        let bad = |message: String| ReplayError::BadRow { pos, message };
        self.sessions.clear();
        let Some(site) = &self.site else {
            let routing = self
                .routing
                .take()
                .ok_or_else(|| bad("the conversations' state before any start".into()))?;
            let read: ConversationState<UuidIds> =
                serde_json::from_value(entry.input).map_err(|e| bad(e.to_string()))?;
            let conversations = ConversationCore::from_state_snapshot(read.settings, read.state);
            let steps = Overriding {
                overrides: self.overrides.clone(),
                queue_seen: Rc::clone(&self.queue_seen),
            };
            let ids = read.site_ids.unwrap_or_default();
            self.site = Some(Site::from_parts(routing, conversations, ids, steps));
            return Ok(None);
        };
        let mut rebuilt = serde_json::json!({
            "state": serde_json::to_value(site.conversations().state_snapshot())
                .map_err(|e| bad(e.to_string()))?,
        });
        let mut stored = serde_json::json!({
            "state": entry.input.get("state").cloned().unwrap_or(Value::Null),
        });
        // The bridge's ids too, when the row has them (a site's).
        if let Some(ids) = entry.input.get("site_ids") {
            stored["site_ids"] = ids.clone();
            rebuilt["site_ids"] =
                serde_json::to_value(site.ids()).map_err(|e| bad(e.to_string()))?;
        }
        stand_ins_take_stored_ids(&stored, &mut rebuilt);
        Ok(match first_difference(&stored, &rebuilt, "") {
            None => {
                self.out.conversation_snapshots += 1;
                None
            }
            Some((path, expected, recomputed)) => {
                Some(state_divergence(pos, &entry, path, expected, recomputed))
            }
        })
    }
}

/// Where a state row and the rebuilt state part.
fn state_divergence(
    pos: i64,
    entry: &Entry,
    path: String,
    expected: String,
    recomputed: String,
) -> Divergence {
    Divergence {
        pos,
        at: entry.at,
        kind: entry.kind,
        input: Value::String(path),
        expected,
        expected_digest: 0,
        recomputed,
        recomputed_digest: 0,
    }
}

/// A conversation rebuilt through stand-ins (`journal::ReadBack::stood_in`: their
/// stored events are gone) remembers their ids where a state row remembers the
/// client's: each takes the row's id at its place when the sequence numbers agree, so
/// the comparison sees only what the journal could check.
pub(super) fn stand_ins_take_stored_ids(stored: &Value, rebuilt: &mut Value) {
    let Some(stored) = stored["state"]["conversations"].as_array() else {
        return;
    };
    let Some(rebuilt) = rebuilt["state"]["conversations"].as_array_mut() else {
        return;
    };
    for conversation in rebuilt {
        let id = &conversation["record"]["conversation"]["id"];
        let Some(kept) = stored
            .iter()
            .find(|c| &c["record"]["conversation"]["id"] == id)
            .and_then(|c| c["recent_ids"].as_array())
        else {
            continue;
        };
        let Some(ids) = conversation
            .get_mut("recent_ids")
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        if ids.len() != kept.len() {
            continue;
        }
        for (entry, kept) in ids.iter_mut().zip(kept) {
            if entry[0].as_str().is_some_and(is_stand_in_id) && entry[1] == kept[1] {
                *entry = kept.clone();
            }
        }
    }
}
