//! The scratch state of one `handle` call and the core-wide indexes the per-conversation
//! operations need: [`Ctx`] bundles the clock reading, settings, id source, indexes and
//! the [`Step`] being built (effects in order, intents raised, conversations touched).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::effect::Effect;
use super::ids::{IdGen, IdKind};
use super::origins::Origins;
use super::settings::CoreSettings;
use super::studio::IntentFacts;
use crate::cim::{ChannelSession, CimEvent, CimEventName};
use crate::clock::Millis;

/// Where a client id was stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IdRecord {
    pub conversation_id: String,
    pub seq: u64,
}

/// Lookups across conversations.
#[derive(Debug, Default)]
pub(super) struct Indexes {
    /// Customer id → the open conversation the customer may (re)join.
    pub by_customer: HashMap<String, String>,
    /// Channel session id → its open conversation.
    pub by_session: HashMap<String, String>,
    /// Client message/event ids of open conversations.
    pub known_ids: HashMap<String, IdRecord>,
    /// Ids of closed conversations, bounded, oldest evicted first.
    closed_ids: HashMap<String, IdRecord>,
    closed_id_order: VecDeque<String>,
    /// Recently closed conversations, bounded.
    closed_conversations: HashSet<String>,
    closed_conversation_order: VecDeque<String>,
    /// Studio request id → conversation id.
    pub studio_requests: HashMap<String, String>,
}

impl Indexes {
    /// Where `id` was stored, if it is remembered.
    pub fn lookup_id(&self, id: &str) -> Option<&IdRecord> {
        self.known_ids.get(id).or_else(|| self.closed_ids.get(id))
    }

    pub fn remember_closed_id(&mut self, id: String, record: IdRecord, capacity: usize) {
        if capacity == 0 {
            return;
        }
        if self.closed_ids.insert(id.clone(), record).is_none() {
            self.closed_id_order.push_back(id);
        }
        while self.closed_id_order.len() > capacity {
            if let Some(old) = self.closed_id_order.pop_front() {
                self.closed_ids.remove(&old);
            }
        }
    }

    pub fn remember_closed_conversation(&mut self, id: String, capacity: usize) {
        if self.closed_conversations.insert(id.clone()) {
            self.closed_conversation_order.push_back(id);
        }
        while self.closed_conversation_order.len() > capacity.max(1) {
            if let Some(old) = self.closed_conversation_order.pop_front() {
                self.closed_conversations.remove(&old);
            }
        }
    }

    pub fn was_closed(&self, conversation_id: &str) -> bool {
        self.closed_conversations.contains(conversation_id)
    }
}

/// What raised an intent.
#[derive(Debug, Clone)]
pub(super) enum RaisedTrigger {
    Event(Arc<CimEvent>),
    /// CONVERSATION_STARTED carries the channel session.
    Session(Box<ChannelSession>),
}

#[derive(Debug, Clone)]
pub(super) struct RaisedIntent {
    pub conversation_id: String,
    pub intent: CimEventName,
    pub trigger: RaisedTrigger,
    pub facts: IntentFacts,
}

/// The effects and intents of one `handle` call, in order.
#[derive(Debug, Default)]
pub(super) struct Step {
    /// Conversations changed by this call, in first-touch order.
    pub touched: Vec<String>,
    pub effects: Vec<Effect>,
    pub intents: VecDeque<RaisedIntent>,
}

/// Everything a per-conversation operation may use besides the conversation itself.
pub(super) struct Ctx<'a, I: IdGen> {
    pub now: Millis,
    pub settings: &'a CoreSettings,
    pub ids: &'a mut I,
    pub index: &'a mut Indexes,
    pub origins: &'a mut Origins,
    pub step: &'a mut Step,
}

impl<I: IdGen> Ctx<'_, I> {
    pub fn new_id(&mut self, kind: IdKind) -> String {
        self.ids.next_id(kind)
    }

    pub fn effect(&mut self, effect: Effect) {
        self.step.effects.push(effect);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_ids_are_bounded_oldest_first() {
        let mut index = Indexes::default();
        for n in 0..5u64 {
            let record = IdRecord {
                conversation_id: "c".into(),
                seq: n,
            };
            index.remember_closed_id(format!("m-{n}"), record, 3);
        }
        assert!(index.lookup_id("m-1").is_none());
        assert_eq!(index.lookup_id("m-4").map(|r| r.seq), Some(4));
        index.remember_closed_conversation("a".into(), 1);
        index.remember_closed_conversation("b".into(), 1);
        assert!(!index.was_closed("a") && index.was_closed("b"));
    }
}
