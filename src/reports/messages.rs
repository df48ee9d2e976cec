//! What a closed, answered task's conversation says about it, read from its stored
//! `AGENT_MESSAGE` events between the task's answer and its close: the first
//! response (the first agent message that is not a wrap-up) and the wrap-up codes
//! given (`WRAPUP` bodies).

use serde::Deserialize;
use serde_json::Value;

use super::tally::ClosedAnswered;
use crate::clock::Millis;
use crate::store::{events, StoreError, StoreResult};

/// What the messages tell.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    /// First agent message − the task's enqueue time.
    pub first_response_ms: Option<Millis>,
    /// `category: value` of every wrap-up code given, in order.
    pub wrapups: Vec<String>,
    /// The wrap-up notes given, in order.
    pub notes: Vec<String>,
}

#[derive(Deserialize)]
struct Message {
    timestamp: Millis,
    #[serde(default)]
    data: Data,
}

#[derive(Deserialize, Default)]
struct Data {
    #[serde(default)]
    body: Body,
}

#[derive(Deserialize, Default)]
struct Body {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    wrapups: Vec<Wrapup>,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Deserialize)]
struct Wrapup {
    #[serde(rename = "categoryName", default)]
    category: String,
    #[serde(default)]
    value: String,
}

/// The name a wrap-up code is counted under.
pub fn code_name(category: &str, value: &str) -> String {
    match (category.is_empty(), value.is_empty()) {
        (true, _) => value.to_string(),
        (false, true) => category.to_string(),
        (false, false) => format!("{category}: {value}"),
    }
}

/// Reads the task's first response and wrap-up codes.
///
/// It runs in the engine's batch, whose failure halts the engine: events it cannot
/// read back (`Corrupt`) leave the figures out with a warning instead of stopping the
/// appliance at every start (the task would close again).
pub fn of_task(c: &rusqlite::Connection, task: &ClosedAnswered) -> StoreResult<Found> {
    let stored = match events::bodies_named_between(
        c,
        &task.conversation_id,
        "AGENT_MESSAGE",
        task.answer_time,
        task.closed_at,
    ) {
        Ok(stored) => stored,
        Err(StoreError::Corrupt(why)) => {
            tracing::warn!(conversation = %task.conversation_id, %why, "agent messages unreadable; the task's first response and wrap-up codes are left out");
            return Ok(Found::default());
        }
        Err(other) => return Err(other),
    };
    Ok(read(&stored, task.enqueue_time))
}

/// The figures of the task's agent messages (oldest first).
pub fn read<'a>(stored: impl IntoIterator<Item = &'a Value>, enqueue_time: Millis) -> Found {
    let mut found = Found::default();
    for value in stored {
        let Ok(message) = Message::deserialize(value) else {
            continue;
        };
        if message.data.body.kind == "WRAPUP" {
            found.wrapups.extend(
                message
                    .data
                    .body
                    .wrapups
                    .iter()
                    .map(|w| code_name(&w.category, &w.value)),
            );
            if let Some(note) = message.data.body.note.filter(|n| !n.is_empty()) {
                found.notes.push(note);
            }
        } else if found.first_response_ms.is_none() {
            found.first_response_ms = Some((message.timestamp - enqueue_time).max(0));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_first_text_is_the_response_and_wrapups_are_counted() {
        let stored = vec![
            json!({"timestamp": 5_000, "data": {"body": {"type": "PLAIN", "markdownText": "hi"}}}),
            json!({"timestamp": 9_000, "data": {"body": {"type": "PLAIN", "markdownText": "x"}}}),
            json!({"timestamp": 12_000, "data": {"body": {"type": "WRAPUP", "wrapups": [
                {"categoryName": "Sales", "value": "upgrade"}, {"categoryName": "", "value": "other"}]}}}),
            json!("not a message"),
        ];
        let found = read(&stored, 1_000);
        assert_eq!(found.first_response_ms, Some(4_000));
        assert_eq!(found.wrapups, vec!["Sales: upgrade", "other"]);
    }

    #[test]
    fn no_agent_text_means_no_first_response() {
        let stored =
            vec![json!({"timestamp": 2, "data": {"body": {"type": "WRAPUP", "wrapups": []}}})];
        assert_eq!(read(&stored, 0), Found::default());
    }
}
