//! What the journal keeps of an input of the whole site (`site::SiteInput`), and how a
//! replay reads it back.
//!
//! The engine journals each input the site takes from outside (a customer's message,
//! a desk's event or accept, an agent's state, a tick) with the digest of every
//! effect of its step: both cores' and the bridge's ([`site_digest`]). What one core
//! asks of the other within the step (a FIND_AGENT's task, an offer's
//! AGENT_RESERVED) is not journaled: a replay runs the input through a site, which
//! asks it again, so a changed routing rule carries into the conversations and the
//! bridge's decisions are checked too.
//!
//! A conversation input is kept as the conversation core's rows are
//! (`journal::conversation`: a message by reference to its stored event), under
//! `{"Conversation": ...}`. A routing input from outside is kept whole under
//! `{"Routing": ...}`: a transfer's request carries the metadata the bridge reads
//! when it is accepted (who asked), and the customer's session; such a row is
//! personal (`Kind::SitePersonal`), as a routing restore input of a start carrying a
//! task is (`{"Restore": ...}`, handled through the site as the start handled it).
//! A desk's accept, join or leave and a tick are their serde form.

use super::conversation::{self, ReadBack, Sessions};
use crate::cim::ChannelSession;
use crate::clock::Millis;
use crate::conversation as conversations;
use crate::routing::{self, digest as routing_digest};
use crate::site::{SiteEffect, SiteInput};
use crate::store::journal::{Entry, Kind};
use crate::store::{StoreError, StoreResult};
use rusqlite::Connection;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

/// A site input encoded before the site takes it.
pub(super) enum Encoded {
    Conversation(conversation::Encoded),
    Other {
        /// Its serde form (a routing input under `Routing`).
        input: Value,
        personal: bool,
        conversation_id: Option<String>,
    },
}

/// `input` as the journal keeps it (see the module doc), before the site takes it.
pub(super) fn encode(sessions: &Sessions, input: &mut SiteInput) -> serde_json::Result<Encoded> {
    Ok(match input {
        SiteInput::Conversation(input) => {
            Encoded::Conversation(conversation::encode(sessions, input)?)
        }
        SiteInput::Routing(routing_input) => Encoded::Other {
            personal: carries_payload(routing_input),
            conversation_id: super::conversation_of(routing_input).map(str::to_owned),
            input: json!({ "Routing": serde_json::to_value(&*routing_input)? }),
        },
        SiteInput::Leave {
            conversation_id, ..
        } => Encoded::Other {
            conversation_id: Some(conversation_id.clone()),
            personal: false,
            input: serde_json::to_value(&*input)?,
        },
        other => Encoded::Other {
            conversation_id: None,
            personal: false,
            input: serde_json::to_value(&*other)?,
        },
    })
}

/// A routing input whose payloads (a task's request session and metadata, a pull
/// request's data) may hold what a customer gave.
fn carries_payload(input: &routing::Input) -> bool {
    matches!(
        input,
        routing::Input::EnqueueTask(_)
            | routing::Input::RestoreTask(_)
            | routing::Input::AddPullRequest(_)
            | routing::Input::RestorePullRequest(_)
    )
}

/// The journal row of an input `encoded` before the site handled it at `now` with
/// `effects` (`restoring`: a routing restore input of a start), and the channel
/// session it journaled whole, if any. Its brief is that of the step's routing
/// effects (what a person reading a divergence compares); its digest covers all.
pub(super) fn entry(
    now: Millis,
    encoded: Encoded,
    effects: &[SiteEffect],
    restoring: bool,
) -> serde_json::Result<(Entry, Option<Arc<ChannelSession>>)> {
    let digest = site_digest(effects);
    let brief = routing_brief(effects);
    match encoded {
        Encoded::Conversation(encoded) => {
            let session = encoded.whole_session.clone();
            let own: Vec<&conversations::Effect> = effects
                .iter()
                .filter_map(|e| match e {
                    SiteEffect::Conversation(effect) => Some(effect),
                    _ => None,
                })
                .collect();
            let mut entry = conversation::entry(now, encoded, &own, digest)?;
            entry.kind = match entry.kind {
                Kind::ConversationInput => Kind::SiteInput,
                _ => Kind::SitePersonal,
            };
            entry.input = json!({ "Conversation": entry.input });
            entry.effects = brief;
            Ok((entry, session))
        }
        Encoded::Other {
            mut input,
            personal,
            conversation_id,
        } => {
            if restoring {
                if let Some(routing_input) = input.get_mut("Routing").map(Value::take) {
                    input = json!({ "Restore": routing_input });
                }
            }
            let entry = Entry {
                kind: match personal {
                    true => Kind::SitePersonal,
                    false => Kind::SiteInput,
                },
                at: now,
                conversation_id,
                input,
                digest,
                effects: brief,
            };
            Ok((entry, None))
        }
    }
}

/// FNV-1a of every effect of a site step, in order: each core's effect by its own
/// core's digest, the bridge's by its ids.
pub fn site_digest(effects: &[SiteEffect]) -> u64 {
    routing_digest::digest_of(effects, |w, effect| match effect {
        SiteEffect::Routing(e) => {
            write!(w, "r{:x}", routing_digest::digest(std::slice::from_ref(e)))
        }
        SiteEffect::Conversation(e) => write!(
            w,
            "c{:x}",
            conversations::digest::digest(std::slice::from_ref(e))
        ),
        SiteEffect::PullJoined {
            agent_id,
            conversation_id,
        } => write!(w, "pull-joined {agent_id} {conversation_id}"),
        SiteEffect::Unroutable { conversation_id } => write!(w, "unroutable {conversation_id}"),
        SiteEffect::Accepted { agent_id, task } => write!(w, "accepted {agent_id} {}", task.id),
    })
}

/// The brief of a step's routing effects (empty when it had none).
fn routing_brief(effects: &[SiteEffect]) -> String {
    let routing: Vec<routing::Effect> = effects
        .iter()
        .filter_map(|e| match e {
            SiteEffect::Routing(effect) => Some(effect.clone()),
            _ => None,
        })
        .collect();
    match routing.is_empty() {
        true => String::new(),
        false => routing_digest::brief(&routing),
    }
}

/// A site step's effects in brief, for a divergence: its routing effects', then its
/// conversation effects'.
pub fn site_brief(effects: &[SiteEffect]) -> String {
    let conversation: Vec<conversations::Effect> = effects
        .iter()
        .filter_map(|e| match e {
            SiteEffect::Conversation(effect) => Some(effect.clone()),
            _ => None,
        })
        .collect();
    let parts = [
        routing_brief(effects),
        conversations::digest::brief(&conversation),
    ];
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a site row holds, as read back.
pub enum SiteRow {
    /// An input of the running site.
    Input(SiteInput),
    /// A routing restore input of a start.
    Restore(routing::Input),
}

/// The input of a site row, a conversation input's message read back from its stored
/// event (`journal::read_back`).
pub fn read_back_site(
    conn: &Connection,
    entry: &Entry,
    sessions: &mut HashMap<String, Value>,
) -> StoreResult<ReadBack<SiteRow>> {
    let corrupt =
        |e: serde_json::Error| StoreError::Corrupt(format!("a journaled site input: {e}"));
    let row = if let Some(inner) = entry.input.get("Conversation") {
        let core_entry = Entry {
            input: inner.clone(),
            ..entry.clone()
        };
        let back = conversation::read_back(conn, &core_entry, sessions)?;
        return Ok(ReadBack {
            input: SiteRow::Input(SiteInput::Conversation(Box::new(back.input))),
            stood_in: back.stood_in,
        });
    } else if let Some(inner) = entry.input.get("Restore") {
        SiteRow::Restore(serde_json::from_value(inner.clone()).map_err(corrupt)?)
    } else {
        SiteRow::Input(serde_json::from_value(entry.input.clone()).map_err(corrupt)?)
    };
    Ok(ReadBack {
        input: row,
        stood_in: false,
    })
}
