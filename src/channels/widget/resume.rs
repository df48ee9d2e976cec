//! A reconnecting tab's resume: the events of its chat it missed since `lastSeq`,
//! read from the store, then what was delivered to it meanwhile (held since its
//! handshake) that the replay did not carry, so that nothing is lost or sent twice.

use super::Widget;
use crate::cim::CimEvent;
use crate::clock::now_ms;
use crate::conversation::audience::customer_can_see;
use crate::conversation::views;
use crate::socketio::Socket;
use crate::store::{attachments, events};
use serde_json::Value;
use std::sync::Arc;

impl Widget {
    /// Sends a reconnecting tab the events of its chat it may see after `last_seq`,
    /// then what was delivered to it meanwhile (held since its handshake) that the
    /// replay did not carry.
    pub(super) async fn replay(&self, socket: &Socket, conversation_id: &str, last_seq: u64) {
        let id = conversation_id.to_string();
        let (history, owned) = self
            .inner
            .store
            .read(move |c| {
                Ok((
                    events::since(c, &id, last_seq)?,
                    attachments::ids_of_conversation(c, &id)?,
                ))
            })
            .await
            .unwrap_or_default();
        let mut replayed = last_seq;
        for mut event in history {
            replayed = replayed.max(event.get("seq").and_then(Value::as_u64).unwrap_or(0));
            let visible = serde_json::from_value::<CimEvent>(event.clone())
                .map(|e| customer_can_see(&e))
                .unwrap_or(false);
            if visible {
                self.inner
                    .attachment_urls
                    .resign_event(&mut event, now_ms(), &owned);
                views::customer_event_value(&mut event);
                let _ = socket.emit("MESSAGE_RECEIVED", event);
            }
        }
        // What was held is sent while the hold goes on, so a live event cannot pass
        // it; the hold ends once nothing is left.
        loop {
            let held = self.take_held(socket, replayed);
            if held.is_empty() {
                break;
            }
            for (event, json) in held {
                if seq_of(&json).is_none_or(|seq| seq > replayed) {
                    let _ = socket.emit_json(event, &json);
                }
            }
        }
    }

    /// What was held for the tab since the last call, in delivery order; when nothing
    /// was, ends the hold, remembering that the replay carried up to `replayed`.
    fn take_held(&self, socket: &Socket, replayed: u64) -> Vec<(&'static str, Arc<str>)> {
        let mut reg = self.inner.registry.lock();
        let Some(customer) = reg.sockets.get(socket.id()).cloned() else {
            return Vec::new();
        };
        let Some(tab) = reg
            .customers
            .get_mut(&customer)
            .and_then(|c| c.tabs.iter_mut().find(|t| t.socket.id() == socket.id()))
        else {
            return Vec::new();
        };
        match tab.held.as_mut().map(std::mem::take) {
            Some(held) if !held.is_empty() => held,
            _ => {
                tab.held = None;
                tab.replayed_through = replayed;
                Vec::new()
            }
        }
    }
}

/// The `seq` of an event's JSON text (none for an ephemeral event such as typing).
pub(super) fn seq_of(json: &str) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Seq {
        seq: Option<u64>,
    }
    serde_json::from_str::<Seq>(json).ok().and_then(|s| s.seq)
}
