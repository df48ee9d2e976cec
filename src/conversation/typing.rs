//! Typing indicators (TYPING_STARTED / TYPING_STOPPED): ephemeral. They are delivered
//! live to whoever may see them (the same audience rule as stored events, see
//! [`super::audience`]) and never stored: no sequence number, no write, no replay. A
//! sender's indicators are thinned per conversation: a repeat of the same indicator
//! within [`TYPING_REPEAT_MS`] is acknowledged and dropped, so a client sending a
//! thousand a second costs the others almost nothing.

use std::collections::HashMap;
use std::sync::Arc;

use super::audience::deliver_to_customer;
use super::effect::Effect;
use super::ids::IdGen;
use super::open::{address_of, OpenConversation};
use super::step::Ctx;
use crate::cim::{CimEvent, CimEventName};
use crate::clock::Millis;

/// The acknowledged `seq` of an event that was delivered but not stored. Stored events
/// are numbered from 1.
pub const EPHEMERAL_SEQ: u64 = 0;

/// The same indicator from the same sender passes again only after this long.
pub const TYPING_REPEAT_MS: Millis = 1_000;

/// True for TYPING_STARTED and TYPING_STOPPED.
pub fn is_typing(name: &CimEventName) -> bool {
    matches!(
        name,
        CimEventName::TypingStarted | CimEventName::TypingStopped
    )
}

/// The last indicator each sender of one conversation got through.
#[derive(Debug, Clone, Default)]
pub(super) struct TypingGate {
    last: HashMap<String, (bool, Millis)>,
}

impl TypingGate {
    /// Each sender's last indicator (started?, when), by sender: a snapshot's form.
    pub fn senders(&self) -> std::collections::BTreeMap<String, (bool, Millis)> {
        self.last.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// The gate that let `senders`' indicators through last.
    pub fn from_senders(senders: std::collections::BTreeMap<String, (bool, Millis)>) -> Self {
        TypingGate {
            last: senders.into_iter().collect(),
        }
    }

    /// True when `sender`'s indicator goes out: a change (started ↔ stopped) always
    /// does, a repeat only [`TYPING_REPEAT_MS`] after the last one that went out.
    pub fn pass(&mut self, sender: &str, name: &CimEventName, now: Millis) -> bool {
        let started = *name == CimEventName::TypingStarted;
        match self.last.get_mut(sender) {
            Some((last_started, at)) => {
                if *last_started == started && now - *at < TYPING_REPEAT_MS {
                    return false;
                }
                *last_started = started;
                *at = now;
            }
            None => {
                self.last.insert(sender.to_owned(), (started, now));
            }
        }
        true
    }
}

impl OpenConversation {
    /// Delivers a typing indicator without storing it: to every active agent but
    /// `sender_agent` (the desk that typed), and to the customer's current widget
    /// session when the customer may see it (connectors get no indicators). Acks
    /// `client_id` with [`EPHEMERAL_SEQ`]. Touches nothing, so nothing is written.
    pub fn emit_typing<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        sender: &str,
        sender_agent: Option<&str>,
        event: CimEvent,
        client_id: String,
    ) {
        if self.typing.pass(sender, &event.name, cx.now) {
            let event = Arc::new(event);
            let agent_ids: Vec<String> = self
                .active_agent_ids()
                .into_iter()
                .filter(|id| Some(id.as_str()) != sender_agent)
                .collect();
            let customer = self
                .current_session()
                .filter(|_| deliver_to_customer(&event))
                .map(address_of)
                .filter(|a| a.provider_webhook.as_deref().is_none_or(str::is_empty));
            if !agent_ids.is_empty() || customer.is_some() {
                cx.effect(Effect::Ephemeral {
                    conversation_id: self.id.clone(),
                    agent_ids,
                    customer,
                    event,
                });
            }
        }
        cx.effect(Effect::Ack {
            id: client_id,
            conversation_id: self.id.clone(),
            seq: EPHEMERAL_SEQ,
            duplicate: false,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_thinned_and_changes_always_pass() {
        let mut gate = TypingGate::default();
        let started = CimEventName::TypingStarted;
        let stopped = CimEventName::TypingStopped;
        assert!(gate.pass("a", &started, 0));
        assert!(!gate.pass("a", &started, 10));
        assert!(!gate.pass("a", &started, 999));
        assert!(
            gate.pass("b", &started, 20),
            "another sender is not held back"
        );
        assert!(gate.pass("a", &stopped, 30), "a change passes at once");
        assert!(gate.pass("a", &started, 40));
        assert!(
            gate.pass("a", &started, 1_040),
            "a repeat passes after the interval"
        );
        let passed = (0..1_000)
            .filter(|i| gate.pass("a", &started, 2_000 + i))
            .count();
        assert_eq!(passed, 1, "a thousand in one second: one goes out");
    }
}
