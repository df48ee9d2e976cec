//! The conversation core's state as one serde value, for the input journal
//! (`conversation::journal`): at each start of the engine (the conversations read back
//! from the store) and once a period (the running core), so a replay can begin there.
//!
//! It holds what a restart restores (each open conversation's record, runtime, last
//! sequence number and recent client ids), the typing indicators that went out last
//! and the id generator's state. It leaves out the windows of ids and conversations
//! that closed (up to `dedup_window_closed` each, which would make every snapshot
//! megabytes): a replay begun at a snapshot, like a restart, no longer knows a client
//! id of a conversation closed before it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::core::ConversationCore;
use super::ids::IdGen;
use super::record::RestoredConversation;
use super::settings::CoreSettings;
use super::typing::TypingGate;
use crate::clock::Millis;

/// The core's state (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoreSnapshot<I> {
    pub ids: I,
    /// By conversation id.
    pub conversations: Vec<SnapshotConversation>,
}

/// One open conversation in a [`CoreSnapshot`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotConversation {
    #[serde(flatten)]
    pub restored: RestoredConversation,
    /// Sender → (started?, when) of the last typing indicator that went out.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub typing: BTreeMap<String, (bool, Millis)>,
}

impl<I: IdGen + Clone> ConversationCore<I> {
    /// The core's state now, in a stable order.
    pub fn state_snapshot(&self) -> CoreSnapshot<I> {
        let mut conversations: Vec<SnapshotConversation> = self
            .open
            .values()
            .map(|open| SnapshotConversation {
                restored: RestoredConversation {
                    record: open.record(),
                    runtime: open.runtime.clone(),
                    last_seq: open.last_seq,
                    recent_ids: open.recent_ids.iter().cloned().collect(),
                },
                typing: open.typing.senders(),
            })
            .collect();
        conversations.sort_by(|a, b| {
            let id = |c: &SnapshotConversation| c.restored.record.conversation.id.clone();
            id(a).cmp(&id(b))
        });
        CoreSnapshot {
            ids: self.ids.clone(),
            conversations,
        }
    }

    /// A core in the state `snapshot` holds, with `settings`.
    pub fn from_state_snapshot(settings: CoreSettings, snapshot: CoreSnapshot<I>) -> Self {
        let mut core = ConversationCore::with_ids(settings, snapshot.ids);
        let mut typing = Vec::new();
        let mut restored = Vec::with_capacity(snapshot.conversations.len());
        for conversation in snapshot.conversations {
            typing.push((
                conversation.restored.record.conversation.id.clone(),
                conversation.typing,
            ));
            restored.push(conversation.restored);
        }
        core.restore(restored);
        for (id, senders) in typing {
            if let Some(open) = core.open.get_mut(&id) {
                open.typing = TypingGate::from_senders(senders);
            }
        }
        core
    }
}
