//! The conversation core's part of a replay: a state row (at a start, after a
//! snapshot) makes the core or is compared with the rebuilt one, and each input row is
//! read back (its message bodies from the stored events, `journal::read_back`),
//! handled at its `now`, and the digest of the recomputed effects compared with the
//! stored one.

use super::{first_difference, Divergence, ReplayError};
use crate::conversation::{digest, ConversationCore, UuidIds};
use crate::journal::{read_back, ConversationState};
use crate::store::journal::{Entry, Kind};
use rusqlite::Connection;
use serde_json::Value;
use std::collections::HashMap;

/// The conversation core being replayed, and what it went through.
#[derive(Default)]
pub(super) struct Conversations {
    core: Option<ConversationCore<UuidIds>>,
    /// Channel sessions journaled whole since the last state row.
    sessions: HashMap<String, Value>,
    /// Input rows compared.
    pub inputs: u64,
    /// State rows passed and found equal to the rebuilt state.
    pub snapshots: u64,
}

impl Conversations {
    /// A start of the engine: the next state row makes a new core.
    pub fn restart(&mut self) {
        self.core = None;
    }

    /// Replays one conversation row; the divergence, if it is one.
    pub fn row(
        &mut self,
        conn: &Connection,
        pos: i64,
        entry: Entry,
    ) -> Result<Option<Divergence>, ReplayError> {
        let bad = |message: String| ReplayError::BadRow { pos, message };
        if entry.kind == Kind::ConversationState {
            self.sessions.clear();
            let Some(core) = &self.core else {
                let read: ConversationState<UuidIds> =
                    serde_json::from_value(entry.input).map_err(|e| bad(e.to_string()))?;
                self.core = Some(ConversationCore::from_state_snapshot(
                    read.settings,
                    read.state,
                ));
                return Ok(None);
            };
            let rebuilt =
                serde_json::to_value(core.state_snapshot()).map_err(|e| bad(e.to_string()))?;
            let stored = entry.input.get("state").unwrap_or(&Value::Null);
            return Ok(match first_difference(stored, &rebuilt, "") {
                None => {
                    self.snapshots += 1;
                    None
                }
                Some((path, expected, recomputed)) => Some(Divergence {
                    pos,
                    at: entry.at,
                    kind: entry.kind,
                    input: Value::String(path),
                    expected,
                    expected_digest: 0,
                    recomputed,
                    recomputed_digest: 0,
                }),
            });
        }
        let Some(core) = self.core.as_mut() else {
            return Err(bad(
                "a conversation input before the conversations' state".into()
            ));
        };
        let input = read_back(conn, &entry, &mut self.sessions).map_err(|e| bad(e.to_string()))?;
        let effects = core.handle(entry.at, input);
        self.inputs += 1;
        let recomputed_digest = digest::digest(&effects);
        if recomputed_digest == entry.digest {
            return Ok(None);
        }
        Ok(Some(super::divergence(
            pos,
            entry,
            digest::brief(&effects),
            recomputed_digest,
        )))
    }
}
