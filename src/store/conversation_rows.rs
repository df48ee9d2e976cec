//! Row mapping of the conversation manager: a stored conversation back into the
//! core's [`RestoredConversation`], and each [`PersistStep`] of a driver batch into its
//! rows (events, the conversation row or its runtime, channel sessions, participants)
//! and the batch's outbox rows. [`RowsWritten`] remembers what this process last wrote of
//! each open conversation, so a message step rewrites neither the conversation row
//! nor a whole runtime when they did not change.

use super::conversation_runtimes::{CarriedRuntime, StoredRuntimes};
use super::message_index::PendingIndex;
use super::objects::{self, Dehydrated, Interner};
use super::{conversations as rows, event_runtime, events, outbox, StoreError};
use crate::cim::{self, ChannelSession, Conversation, ParticipantType};
use crate::clock::Millis;
use crate::conversation::{
    ConversationRecord, ConversationRuntime, PersistStep, RestoredConversation,
};
use rusqlite::Connection;
use serde_json::Value;
use std::collections::HashMap;

/// A stored open conversation as the core restores it.
pub fn restore_record(
    stored: rows::StoredConversation,
) -> Result<RestoredConversation, StoreError> {
    let corrupt = |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("{what}: {e}"));
    let conversation: Conversation =
        serde_json::from_value(stored.snapshot).map_err(|e| corrupt("conversation", e))?;
    let channel_sessions: Vec<ChannelSession> = stored
        .channel_sessions
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .map_err(|e| corrupt("channel session", e))?;
    let runtime: ConversationRuntime =
        serde_json::from_value(stored.timers).map_err(|e| corrupt("conversation timers", e))?;
    Ok(RestoredConversation {
        record: ConversationRecord {
            conversation,
            channel_sessions,
        },
        runtime,
        last_seq: stored.last_seq,
        recent_ids: stored.recent_ids,
    })
}

/// The queue and last agent each open conversation's row was last written with,
/// so a message step skips the conversation-row update when neither changed.
/// Knows only what this driver wrote: an unknown conversation is always updated.
#[derive(Default)]
struct StoredRouting(HashMap<String, (Option<String>, Option<String>)>);

impl StoredRouting {
    /// Records what `step` writes; true when a step without a record must update
    /// the conversation row's queue or last agent.
    fn note(&mut self, step: &PersistStep) -> bool {
        self.note_parts(
            &step.conversation_id,
            &step.runtime.queue_id,
            &step.runtime.last_agent_id,
            step.record.as_ref().map(|r| &r.conversation.state),
        )
    }

    /// [`StoredRouting::note`] for a step of conversation `id` whose record (when it
    /// has one) is in `record_state`.
    fn note_parts(
        &mut self,
        id: &str,
        queue: &Option<String>,
        agent: &Option<String>,
        record_state: Option<&cim::ConversationState>,
    ) -> bool {
        if let Some(state) = record_state {
            // A full step writes the whole row, queue and last agent included.
            if *state == cim::ConversationState::Closed {
                self.0.remove(id);
            } else {
                self.0
                    .insert(id.to_string(), (queue.clone(), agent.clone()));
            }
            return false;
        }
        // Looked up before inserting: a message step of a known conversation (the
        // usual case) allocates nothing here.
        let known = self.0.contains_key(id);
        if !known {
            self.0.insert(id.to_string(), (None, None));
        }
        let Some((stored_queue, stored_agent)) = self.0.get_mut(id) else {
            return true;
        };
        // The update only ever sets the fields present in the runtime.
        let changed = !known
            || (queue.is_some() && queue != stored_queue)
            || (agent.is_some() && agent != stored_agent);
        if queue.is_some() {
            stored_queue.clone_from(queue);
        }
        if agent.is_some() {
            stored_agent.clone_from(agent);
        }
        changed
    }
}

/// A persist step with its JSON already encoded ([`RowsWritten::encode`]).
pub struct EncodedStep {
    pub step: PersistStep,
    pub events: Vec<events::EncodedEvent>,
    /// The whole runtime, for a step that writes a conversation or runtime row.
    pub timers: String,
    /// For a step that only appends events: what its last event carries (see
    /// `conversation_runtimes`), `None` when the runtime did not change.
    pub carried: Option<event_runtime::EncodedRuntime>,
    /// For a step without a record: the conversation row's queue or last agent may
    /// differ from the runtime's.
    pub routing_changed: bool,
    /// For a step with a record: its rows' texts, taken apart off the writer thread
    /// as the events are (serialising and dehydrating a conversation, its sessions
    /// and its participants was most of the writer's work for a chat's start and end).
    pub record: Option<EncodedRecord>,
}

/// A record's row texts before their shared objects have row ids.
pub struct EncodedRecord {
    data: String,
    metadata: Dehydrated,
    snapshot: Dehydrated,
    /// Each channel session's, in the record's order.
    sessions: Vec<Dehydrated>,
    /// Each participant's, in the conversation's order.
    participants: Vec<Dehydrated>,
}

impl EncodedRecord {
    fn of(record: &ConversationRecord) -> Result<Self, StoreError> {
        let conv = &record.conversation;
        Ok(EncodedRecord {
            data: json_text(&conv.conversation_data)?,
            metadata: objects::dehydrate(json_value(&conv.metadata)?),
            snapshot: objects::dehydrate_row(json_value(conv)?, &rows::snapshot_row(&conv.id)),
            sessions: record
                .channel_sessions
                .iter()
                .map(|s| Ok(objects::dehydrate_whole(json_value(s)?)))
                .collect::<Result<_, StoreError>>()?,
            participants: conv
                .participants
                .iter()
                .map(|p| Ok(objects::dehydrate_whole(json_value(p)?)))
                .collect::<Result<_, StoreError>>()?,
        })
    }
}

/// A message or event the batch hands an outbound webhook (`store::outbox`).
pub struct OutboxRow {
    pub message_id: String,
    pub conversation_id: String,
    pub url: String,
    pub payload: Value,
}

/// What this process last wrote of each open conversation's rows: the queue and
/// last agent of its conversation row, and its runtime.
#[derive(Default)]
pub struct RowsWritten {
    routing: StoredRouting,
    runtimes: StoredRuntimes,
}

impl RowsWritten {
    /// Encodes a step's JSON (off the writer thread, so the writer only stores
    /// shared objects, binds and inserts) and records what it will write.
    pub fn encode(&mut self, step: PersistStep) -> Result<EncodedStep, StoreError> {
        let events = step
            .events
            .iter()
            .map(|e| events::encode_event(&e.event, &step.conversation_id, e.message_id.as_deref()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let runtime = json_value(&step.runtime)?;
        let (timers, carried) = if carries_runtime(&step) {
            match self.runtimes.carried(&step.conversation_id, runtime) {
                CarriedRuntime::Unchanged => (String::new(), None),
                CarriedRuntime::Text(text) => {
                    let at = step.events.last().map_or(0, |e| e.event.timestamp);
                    (String::new(), Some(event_runtime::encode(&text, at)))
                }
            }
        } else {
            let text = runtime.to_string();
            let closed = step
                .record
                .as_ref()
                .is_some_and(|r| r.conversation.state == cim::ConversationState::Closed);
            self.runtimes
                .stored_whole(&step.conversation_id, runtime, closed);
            (text, None)
        };
        let routing_changed = self.routing.note(&step);
        let record = step
            .record
            .as_ref()
            .map(|r| EncodedRecord::of(r))
            .transpose()?;
        Ok(EncodedStep {
            step,
            events,
            timers,
            carried,
            routing_changed,
            record,
        })
    }
}

/// Writes one driver batch: every step's rows, then its outbox rows.
pub fn write_batch(
    c: &Connection,
    steps: &[EncodedStep],
    outbound: &[OutboxRow],
    now: Millis,
) -> Result<(), StoreError> {
    let mut interner = Interner::default();
    let mut index = PendingIndex::default();
    for step in steps {
        write_step(c, &mut interner, &mut index, step, now)?;
    }
    index.write(c)?;
    for row in outbound {
        outbox::enqueue(
            c,
            &row.message_id,
            Some(&row.conversation_id),
            &row.url,
            &row.payload,
            now,
        )?;
    }
    Ok(())
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A step that changes no conversation row keeps its runtime on its last event
/// (appended anyway) rather than on the runtime row's page of its own.
fn carries_runtime(step: &PersistStep) -> bool {
    step.record.is_none() && !step.events.is_empty()
}

fn json_value<T: serde::Serialize>(value: &T) -> Result<Value, StoreError> {
    serde_json::to_value(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Writes one conversation step: its events, and its rows when the record changed.
fn write_step<'a>(
    c: &Connection,
    interner: &mut Interner,
    index: &mut PendingIndex<'a>,
    encoded: &'a EncodedStep,
    now: Millis,
) -> Result<(), StoreError> {
    let EncodedStep {
        step,
        events: texts,
        timers,
        carried,
        routing_changed,
        record: encoded_record,
    } = encoded;
    let last = step.events.len().saturating_sub(1);
    for (i, (stored, text)) in step.events.iter().zip(texts).enumerate() {
        let event = &stored.event;
        let row = events::EventRow {
            id: &event.id,
            conversation_id: &step.conversation_id,
            seq: stored.seq,
            name: event.name.as_str(),
            kind: event.event_type.as_str(),
            timestamp: event.timestamp,
            message_id: stored.message_id.as_deref(),
            event: text,
            runtime: if i == last { carried.as_ref() } else { None },
        };
        if events::append(c, interner, index, &row)? == events::Appended::MessageIdTaken {
            tracing::warn!(
                conversation = %step.conversation_id,
                seq = stored.seq,
                "a message id stored before was used again; the event is stored without it"
            );
            events::append_without_message_id(c, interner, index, &row, event)?;
        }
    }
    let (Some(record), Some(texts)) = (&step.record, encoded_record) else {
        if *routing_changed {
            rows::update_routing(
                c,
                &step.conversation_id,
                step.runtime.queue_id.as_deref(),
                step.runtime.last_agent_id.as_deref(),
                now,
            )?;
        }
        if !carries_runtime(step) {
            rows::write_runtime(c, &step.conversation_id, timers, step.last_seq, now)?;
        }
        return Ok(());
    };
    let conv = &record.conversation;
    let customer_id = conv
        .customer
        .get()
        .and_then(|c| c.id())
        .map(str::to_owned)
        .or_else(|| {
            record
                .channel_sessions
                .first()
                .and_then(|s| s.customer.id().map(str::to_owned))
        })
        .unwrap_or_default();
    rows::upsert(
        c,
        &rows::ConversationRow {
            id: &conv.id,
            customer_id: &customer_id,
            room_id: conv
                .room_info
                .get()
                .map(|r| r.id.as_str())
                .filter(|room| *room != customer_id)
                .unwrap_or_default(),
            state: conv.state.as_str(),
            direction: conv
                .conversation_direction
                .get()
                .map_or("INBOUND", |d| d.as_str()),
            queue_id: step.runtime.queue_id.as_deref(),
            last_agent_id: step.runtime.last_agent_id.as_deref(),
            data: texts.data.clone(),
            metadata: interner.tagged(c, &texts.metadata)?,
            timers: timers.clone(),
            snapshot: interner.tagged(c, &texts.snapshot)?,
            creation_time: conv.creation_time.get().copied().unwrap_or(now),
            end_time: conv.end_time.get().copied(),
            last_seq: step.last_seq,
        },
        now,
    )?;
    for (session, text) in record.channel_sessions.iter().zip(&texts.sessions) {
        let state = session.state_name().map_or("STARTED", |s| s.as_str());
        let reason = match &session.state {
            cim::Nullable::Value(s) => s.reason_code().map(|r| r.as_str().to_string()),
            _ => None,
        };
        rows::upsert_channel_session(
            c,
            &rows::ChannelSessionRow {
                id: &session.id,
                conversation_id: &conv.id,
                channel_id: &session.channel.id,
                customer_id: session.customer.id().unwrap_or(&customer_id),
                state,
                reason_code: reason.as_deref(),
                session: interner.tagged(c, text)?,
                started_at: conv.creation_time.get().copied().unwrap_or(now),
                ended_at: (state != "STARTED").then_some(now),
            },
        )?;
    }
    for (p, text) in conv.participants.iter().zip(&texts.participants) {
        // A customer's channel session is named by its own row (`channel_sessions`).
        let reference = match p.participant_type {
            ParticipantType::Agent => p.as_cc_user().map(|u| u.id.clone()),
            ParticipantType::Customer => None,
            _ => p.as_bot().map(|b| b.id.clone()),
        }
        .unwrap_or_default();
        let active = p.is_active.get().copied().unwrap_or(true);
        rows::upsert_participant(
            c,
            &rows::ParticipantRow {
                id: &p.id,
                conversation_id: &conv.id,
                kind: p.participant_type.as_str(),
                role: p.role.as_str(),
                participant_ref: &reference,
                state: p.state.get().map(|s| s.as_str()),
                joined_at: p.joining_time.get().copied().unwrap_or(now),
                left_at: if active {
                    None
                } else {
                    Some(p.state_changed_on.get().copied().unwrap_or(now))
                },
                participant: interner.tagged(c, text)?,
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::StoredRouting;
    use crate::cim::ConversationState;

    fn some(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn the_conversation_row_is_updated_only_when_queue_or_last_agent_may_differ() {
        let mut stored = StoredRouting::default();
        // Never written by this driver (e.g. restored): always updated.
        assert!(stored.note_parts("c1", &some("q1"), &None, None));
        assert!(!stored.note_parts("c1", &some("q1"), &None, None));
        // Absent fields are left alone by the update, so they change nothing.
        assert!(!stored.note_parts("c1", &None, &None, None));
        assert!(stored.note_parts("c1", &some("q1"), &some("a1"), None));
        assert!(!stored.note_parts("c1", &None, &some("a1"), None));
        assert!(stored.note_parts("c1", &some("q2"), &some("a1"), None));

        // A full step wrote both; the next message step has nothing to update.
        let active = ConversationState::Active;
        assert!(!stored.note_parts("c2", &some("q1"), &some("a1"), Some(&active)));
        assert!(!stored.note_parts("c2", &some("q1"), &some("a1"), None));
        assert!(stored.note_parts("c2", &some("q1"), &some("a2"), None));

        // A closed conversation is forgotten.
        let closed = ConversationState::Closed;
        assert!(!stored.note_parts("c2", &some("q1"), &some("a2"), Some(&closed)));
        assert!(stored.note_parts("c2", &some("q1"), &some("a2"), None));
    }
}
