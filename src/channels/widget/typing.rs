//! Typing indicators from widgets: never a chat's first message, and thinned here at
//! the edge (a repeat of the customer's last indicator within `TYPING_REPEAT_MS` is
//! acknowledged without reaching the conversation manager), so a tab flooding them
//! costs the others next to nothing.

use super::Widget;
use crate::clock::now_ms;
use crate::conversation::typing::TYPING_REPEAT_MS;
use serde_json::Value;

/// A typing indicator (`body.type` NOTIFICATION), which never starts a chat.
pub(super) fn is_notification(payload: &Value) -> bool {
    payload.pointer("/body/type").and_then(Value::as_str) == Some("NOTIFICATION")
}

impl Widget {
    /// True when `payload` repeats the customer's last typing indicator within
    /// `TYPING_REPEAT_MS` (it is then dropped here); otherwise records it.
    pub(super) fn typing_repeat(&self, customer_key: &str, payload: &Value) -> bool {
        if !is_notification(payload) {
            return false;
        }
        let started = payload
            .pointer("/body/notificationType")
            .and_then(Value::as_str)
            != Some("TYPING_STOPPED");
        let now = now_ms();
        let mut reg = self.inner.registry.lock();
        let Some(customer) = reg.customers.get_mut(customer_key) else {
            return false;
        };
        if customer.session_id.is_none() {
            return false;
        }
        match customer.last_typing {
            Some((last, at)) if last == started && now - at < TYPING_REPEAT_MS => true,
            _ => {
                customer.last_typing = Some((started, now));
                false
            }
        }
    }
}
