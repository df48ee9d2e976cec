//! The end of a chat load run: each of its chats is ended as a person would end it
//! (the customer leaves with `CHAT_ENDED`, the agent closes its wrap-up with
//! `closeWrapup`), so the next run on the same server finds its desks free. Chats left
//! open would stay assigned or queued (and be restored on a restart), and take the
//! next run's desks first.

use crate::sio::{self, Client};
use crate::wire::{self, AckStatus};
use futures_util::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// One chat to end: its widget, its conversation, and the desk and agent serving it.
pub struct Ending {
    pub widget: Client,
    pub conversation_id: String,
    pub desk: Client,
    pub agent_id: Arc<str>,
}

/// Tries to close the wrap-up this many times (the agent enters wrap-up once the
/// customer's leaving has gone through routing, just after the `CHAT_ENDED` ack).
const WRAPUP_TRIES: u32 = 40;

/// Ends every chat of `endings`, `concurrency` at a time; returns how many ended.
pub async fn end_chats(endings: Vec<Ending>, concurrency: usize, timeout: Duration) -> usize {
    futures_util::stream::iter(endings)
        .map(|ending| async move { end_chat(&ending, timeout).await })
        .buffer_unordered(concurrency.max(1))
        .filter(|ended| std::future::ready(*ended))
        .count()
        .await
}

async fn end_chat(e: &Ending, timeout: Duration) -> bool {
    let Ok(ack) = e.widget.emit_ack("CHAT_ENDED", &json!({}), timeout).await else {
        return false;
    };
    if !ok(&ack) {
        return false;
    }
    for _ in 0..WRAPUP_TRIES {
        let id = uuid::Uuid::new_v4().to_string();
        let close = wire::agent_message(
            &e.conversation_id,
            &e.agent_id,
            &id,
            &id,
            "load run ended",
            switchboard::clock::now_ms(),
        );
        match e.desk.emit_ack("closeWrapup", &close, timeout).await {
            Ok(ack) if ok(&ack) => return true,
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(_) => return false,
        }
    }
    false
}

/// Whether a `CHANNEL_SESSION_ENDED` event (its JSON array text) says the customer
/// left, as [`end_chats`] makes each customer do.
pub fn left_by_customer(event: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(event)
        .ok()
        .and_then(|v| Some(v.get(1)?.get("reason")?.as_str()? == "CUSTOMER"))
        .unwrap_or(false)
}

fn ok(ack: &str) -> bool {
    sio::ack_first::<AckStatus>(ack).is_ok_and(|status| status.error().is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_customer_leaving_is_the_runs_own_end() {
        let ended = |reason: &str| {
            format!(r#"["CHANNEL_SESSION_ENDED",{{"channelSessionId":"s1","reason":"{reason}"}}]"#)
        };
        assert!(left_by_customer(&ended("CUSTOMER")));
        assert!(!left_by_customer(&ended("AGENT")));
        assert!(!left_by_customer(&ended("FORCE_CLOSED")));
        assert!(!left_by_customer("not json"));
    }
}
