//! The conversation core's memo of message origins (`cim::MessageOrigin`): the
//! values a stamped message's header gets from its sender and session.
//!
//! A customer or an agent sends many messages in one session, and building the
//! origin (the sender participant and the channel session, with its channel's whole
//! configuration, as JSON) was the largest single cost of a message
//! (docs/benchmarks.md). The memo keeps the origins built lately, found by the
//! sender's and the session's ids and confirmed by comparing the participant and
//! the session in full, as typed values: a session or participant that changed in
//! any way gets a new origin, never a stale one.
//!
//! Two generations bound the memory (`crate::generations`; an entry holds a copy of
//! the participant and session and their JSON, some kilobytes). A generation holds
//! [`SENDERS_PER_CONVERSATION`] entries for each open conversation, and at least
//! [`GENERATION`]: senders take turns, so a memo smaller than the senders of the open
//! conversations would lose each origin before its sender's next message (with a
//! fixed 128, a site of a thousand chats built every message's origin anew,
//! docs/benchmarks.md).

use crate::cim::{ChannelSession, MessageOrigin, Participant};
use crate::generations::Generations;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Entries per generation, at least.
const GENERATION: usize = 128;

/// Entries per generation for each open conversation: its customer, an agent or two,
/// a bot.
const SENDERS_PER_CONVERSATION: usize = 4;

struct Entry {
    sender: Participant,
    session: Option<ChannelSession>,
    origin: Arc<MessageOrigin>,
}

impl Entry {
    fn is_for(&self, sender: &Participant, session: Option<&ChannelSession>) -> bool {
        self.sender == *sender && self.session.as_ref() == session
    }
}

/// Origins built lately, by sender and session.
pub(super) struct Origins {
    memo: Generations<u64, Entry>,
}

impl Default for Origins {
    fn default() -> Self {
        Origins {
            memo: Generations::new(GENERATION),
        }
    }
}

fn key(sender: &Participant, session: Option<&ChannelSession>) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    sender.id.hash(&mut hasher);
    session.map(|s| s.id.as_str()).hash(&mut hasher);
    hasher.finish()
}

impl Origins {
    /// Sizes the memo for `open` open conversations.
    pub fn fit(&mut self, open: usize) {
        self.memo
            .set_limit(GENERATION.max(open.saturating_mul(SENDERS_PER_CONVERSATION)));
    }

    /// The origin of a message `sender` sends in `session`.
    pub fn of(
        &mut self,
        sender: &Participant,
        session: Option<&ChannelSession>,
    ) -> Arc<MessageOrigin> {
        let key = key(sender, session);
        if let Some(entry) = self.memo.get(key, |e| e.is_for(sender, session)) {
            return Arc::clone(&entry.origin);
        }
        let entry = Entry {
            sender: sender.clone(),
            session: session.cloned(),
            origin: Arc::new(MessageOrigin::new(sender, session)),
        };
        Arc::clone(&self.memo.insert(key, entry).origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::fixtures::started_session;

    #[test]
    fn an_origin_is_built_once_per_sender_and_session_and_again_when_either_changes() {
        let mut origins = Origins::default();
        let session = started_session();
        let customer = Participant::customer("p-c", session.clone(), 1);
        let first = origins.of(&customer, Some(&session));
        assert!(Arc::ptr_eq(&first, &origins.of(&customer, Some(&session))));
        assert_eq!(*first, MessageOrigin::new(&customer, Some(&session)));

        let mut changed = session.clone();
        changed.channel_data.channel_customer_identifier = "someone-else".into();
        let second = origins.of(&customer, Some(&changed));
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(*second, MessageOrigin::new(&customer, Some(&changed)));
        assert_ne!(first, second);

        let without = origins.of(&customer, None);
        assert_eq!(*without, MessageOrigin::new(&customer, None));
    }

    #[test]
    fn the_memo_holds_the_senders_of_every_open_conversation() {
        let mut origins = Origins::default();
        let session = started_session();
        let open = 1_000;
        origins.fit(open);
        let customers: Vec<Participant> = (0..2 * open)
            .map(|n| Participant::customer(format!("p-{n}"), session.clone(), 1))
            .collect();
        let first: Vec<Arc<MessageOrigin>> = customers
            .iter()
            .map(|c| origins.of(c, Some(&session)))
            .collect();
        // Each sender in turn again: every origin is the one built before.
        for (customer, built) in customers.iter().zip(&first) {
            assert!(Arc::ptr_eq(built, &origins.of(customer, Some(&session))));
        }
    }

    #[test]
    fn the_memo_keeps_two_generations_at_most() {
        let mut origins = Origins::default();
        let session = started_session();
        let first = Participant::customer("p-0", session.clone(), 1);
        let kept = origins.of(&first, Some(&session));
        for n in 1..=(3 * GENERATION) {
            let customer = Participant::customer(format!("p-{n}"), session.clone(), 1);
            origins.of(&customer, Some(&session));
            let (young, old) = origins.memo.lens();
            assert!(young <= GENERATION && old <= GENERATION);
        }
        // Long gone from both generations: built again, equal to what it was.
        let again = origins.of(&first, Some(&session));
        assert!(!Arc::ptr_eq(&kept, &again));
        assert_eq!(kept, again);
    }
}
