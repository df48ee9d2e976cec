//! The conversation core's memo of message origins (`cim::MessageOrigin`): the
//! values a stamped message's header gets from its sender and session.
//!
//! A customer or an agent sends many messages in one session, and building the
//! origin (the sender participant and the channel session, with its channel's whole
//! configuration, as JSON) was the largest single cost of a message
//! (docs/benchmarks.md). The memo keeps each open conversation's origins, found by
//! the sender's and the session's ids and confirmed by comparing the participant and
//! the session in full, as typed values: a session or participant that changed in
//! any way gets a new origin, never a stale one.
//!
//! What a conversation's origins hold (their JSON, some kilobytes, and what the
//! store made of it, `cim::MessageOrigin::kept`) goes when the conversation leaves
//! the core ([`Origins::forget`]). A memo of the origins used lately, bounded by a
//! count, was emptied in turn by a site with more senders than its bound (a thousand
//! chats), and then built every message's origin anew.

use crate::cim::{ChannelSession, MessageOrigin, Participant};
use std::collections::HashMap;
use std::sync::Arc;

/// Origins a conversation keeps: its customer, an agent or two, a bot; beyond this
/// (senders or sessions changing over a long chat) the oldest goes.
const PER_CONVERSATION: usize = 8;

struct Entry {
    sender: Participant,
    session: Option<ChannelSession>,
    origin: Arc<MessageOrigin>,
}

impl Entry {
    fn is_for(&self, sender: &Participant, session: Option<&ChannelSession>) -> bool {
        self.sender.id == sender.id
            && self.session.as_ref().map(|s| &s.id) == session.map(|s| &s.id)
            && self.sender == *sender
            && self.session.as_ref() == session
    }
}

/// The origins of the open conversations, by conversation.
#[derive(Default)]
pub(super) struct Origins {
    by_conversation: HashMap<String, Vec<Entry>>,
}

impl Origins {
    /// The origin of a message `sender` sends in `session` in the conversation
    /// `conversation_id`.
    pub fn of(
        &mut self,
        conversation_id: &str,
        sender: &Participant,
        session: Option<&ChannelSession>,
    ) -> Arc<MessageOrigin> {
        if let Some(entry) = self
            .by_conversation
            .get(conversation_id)
            .and_then(|entries| entries.iter().find(|e| e.is_for(sender, session)))
        {
            return Arc::clone(&entry.origin);
        }
        let origin = Arc::new(MessageOrigin::new(sender, session));
        let entries = self
            .by_conversation
            .entry(conversation_id.to_owned())
            .or_default();
        if entries.len() >= PER_CONVERSATION {
            entries.remove(0);
        }
        entries.push(Entry {
            sender: sender.clone(),
            session: session.cloned(),
            origin: Arc::clone(&origin),
        });
        origin
    }

    /// Drops the origins of a conversation that left the core.
    pub fn forget(&mut self, conversation_id: &str) {
        self.by_conversation.remove(conversation_id);
    }

    /// Origins held, over every conversation.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_conversation.values().map(Vec::len).sum()
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
        let first = origins.of("c-1", &customer, Some(&session));
        assert!(Arc::ptr_eq(
            &first,
            &origins.of("c-1", &customer, Some(&session))
        ));
        assert_eq!(*first, MessageOrigin::new(&customer, Some(&session)));

        let mut changed = session.clone();
        changed.channel_data.channel_customer_identifier = "someone-else".into();
        let second = origins.of("c-1", &customer, Some(&changed));
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(*second, MessageOrigin::new(&customer, Some(&changed)));
        assert_ne!(first, second);

        let without = origins.of("c-1", &customer, None);
        assert_eq!(*without, MessageOrigin::new(&customer, None));
    }

    #[test]
    fn every_open_conversations_senders_keep_their_origins_however_many_there_are() {
        let mut origins = Origins::default();
        let session = started_session();
        let senders: Vec<(String, Participant)> = (0..2_000)
            .map(|n| {
                let customer = Participant::customer(format!("p-{n}"), session.clone(), 1);
                (format!("c-{}", n / 2), customer)
            })
            .collect();
        let first: Vec<Arc<MessageOrigin>> = senders
            .iter()
            .map(|(c, p)| origins.of(c, p, Some(&session)))
            .collect();
        // Each sender in turn again: every origin is the one built before.
        for ((c, p), built) in senders.iter().zip(&first) {
            assert!(Arc::ptr_eq(built, &origins.of(c, p, Some(&session))));
        }
        assert_eq!(origins.len(), 2_000);
    }

    #[test]
    fn a_conversations_origins_go_when_it_leaves_and_stay_few_while_it_is_open() {
        let mut origins = Origins::default();
        let session = started_session();
        for n in 0..3 * PER_CONVERSATION {
            let customer = Participant::customer(format!("p-{n}"), session.clone(), 1);
            origins.of("c-1", &customer, Some(&session));
        }
        let other = Participant::customer("p-other", session.clone(), 1);
        let kept = origins.of("c-2", &other, Some(&session));
        assert_eq!(origins.len(), PER_CONVERSATION + 1);
        origins.forget("c-1");
        assert_eq!(origins.len(), 1);
        assert!(Arc::ptr_eq(
            &kept,
            &origins.of("c-2", &other, Some(&session))
        ));
        origins.forget("c-2");
        assert_eq!(origins.len(), 0);
    }
}
