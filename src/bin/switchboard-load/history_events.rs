//! The stored form of one generated conversation's events (`store::events::encode`),
//! made without building most of them: the events of a conversation made from one
//! template differ only in what the row's columns hold (id, name, timestamp) or, for
//! a message, in its text. So the first notification and the first message from each
//! side are built and encoded, and the later ones are that encoding with the new
//! columns (a notification) or the new text (a message, `EncodedEvent::with_text`).
//! Events whose stored text holds their id or name (the agent events) and the
//! wrap-up message are built and encoded each. Under test every event is also built
//! and encoded the long way and must be the same.

use serde_json::{json, Value};
use switchboard::reports::messages::{self, Found};
use switchboard::store::events::{self, EncodedEvent};

use super::shapes::{Chat, Templates};

/// A message's text while its first encoding is made, replaced in the later ones.
const PLACEHOLDER: &str = "\u{1}history message text\u{1}";

/// A message's event id, message id and event name.
type MessageIds = (String, String, &'static str);

/// An event in its stored form, with the columns beside it.
pub struct Event {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub timestamp: i64,
    pub message_id: Option<String>,
    pub encoded: EncodedEvent,
}

/// The events of one conversation, in order, and the first encodings they reuse.
pub struct Events<'a> {
    templates: &'a Templates,
    chat: &'a Chat<'a>,
    session: &'a Value,
    /// The first notification's encoding and type.
    notification: Option<(EncodedEvent, String)>,
    /// The first message's encoding (with [`PLACEHOLDER`] as its text), per side
    /// (customer, agent).
    messages: [Option<EncodedEvent>; 2],
    pub list: Vec<Event>,
    /// The agent messages' (timestamp, body), for the aggregates (`messages::read`).
    agent_bodies: Vec<(i64, Value)>,
}

impl<'a> Events<'a> {
    pub fn new(templates: &'a Templates, chat: &'a Chat<'a>, session: &'a Value) -> Self {
        Events {
            templates,
            chat,
            session,
            notification: None,
            messages: [None, None],
            list: Vec::with_capacity(24),
            agent_bodies: Vec::new(),
        }
    }

    /// A notification event named `name` at `at` (`Templates::notification`).
    pub fn notification(&mut self, name: &'static str, at: i64) {
        let id = uuid::Uuid::new_v4().to_string();
        let build = || {
            let mut event = self
                .templates
                .notification(self.chat, self.session, name, at);
            event["id"] = json!(id);
            event
        };
        let (encoded, kind) = match &self.notification {
            Some(first) => first.clone(),
            None => {
                let event = build();
                let kind = event["type"].as_str().unwrap_or("NOTIFICATION").to_string();
                let first = (self.encode(event, None, at), kind);
                self.notification = Some(first.clone());
                first
            }
        };
        self.check(&encoded, None, at, build);
        self.push(id, name, &kind, at, None, encoded);
    }

    /// The agent joining or leaving (`Templates::agent_event`): its stored text holds
    /// its id and name, so it is built and encoded.
    pub fn agent_event(&mut self, name: &'static str, at: i64) {
        let event = self.templates.agent_event(self.chat, name, at);
        let id = event["id"].as_str().unwrap_or_default().to_string();
        let kind = event["type"].as_str().unwrap_or("NOTIFICATION").to_string();
        let encoded = self.encode(event, None, at);
        self.push(id, name, &kind, at, None, encoded);
    }

    /// A plain text message from the agent (`agent`) or the customer.
    pub fn text(&mut self, agent: bool, text: &str, at: i64) {
        let side = usize::from(agent);
        let ids = self.message_ids(agent);
        let first = match &self.messages[side] {
            Some(first) => first.clone(),
            None => {
                let body = json!({"type": "PLAIN", "markdownText": PLACEHOLDER});
                let first =
                    self.encode(self.message_event(agent, body, &ids, at), Some(&ids.1), at);
                self.messages[side] = Some(first.clone());
                first
            }
        };
        let body = json!({"type": "PLAIN", "markdownText": text});
        let encoded = first.with_text(PLACEHOLDER, text).unwrap_or_else(|| {
            self.encode(
                self.message_event(agent, body.clone(), &ids, at),
                Some(&ids.1),
                at,
            )
        });
        self.check(&encoded, Some(&ids.1), at, || {
            self.message_event(agent, body.clone(), &ids, at)
        });
        self.push_message(ids, at, body, encoded);
    }

    /// A message with `body` (a wrap-up) from the agent, built and encoded.
    pub fn message(&mut self, agent: bool, body: Value, at: i64) {
        let ids = self.message_ids(agent);
        let event = self.message_event(agent, body.clone(), &ids, at);
        let encoded = self.encode(event, Some(&ids.1), at);
        self.push_message(ids, at, body, encoded);
    }

    /// What the agent messages from `answer` to `closed` say (`messages::read`).
    pub fn found(&self, answer: i64, closed: i64, start: i64) -> Found {
        let read: Vec<Value> = self
            .agent_bodies
            .iter()
            .filter(|(at, _)| (answer..=closed).contains(at))
            .map(|(at, body)| json!({"timestamp": at, "data": {"body": body}}))
            .collect();
        messages::read(&read, start)
    }

    /// A new message's (event id, message id).
    fn message_ids(&self, agent: bool) -> MessageIds {
        let name = match (agent, self.chat.agent) {
            (true, Some(_)) => "AGENT_MESSAGE",
            _ => "CUSTOMER_MESSAGE",
        };
        let id = || uuid::Uuid::new_v4().to_string();
        (id(), id(), name)
    }

    /// The message event (`Templates::message`) with the ids `ids`.
    fn message_event(&self, agent: bool, body: Value, ids: &MessageIds, at: i64) -> Value {
        let mut event = self
            .templates
            .message(self.chat, self.session, agent, body, at);
        event["id"] = json!(ids.0);
        event["data"]["id"] = json!(ids.1);
        event
    }

    fn push_message(&mut self, ids: MessageIds, at: i64, body: Value, encoded: EncodedEvent) {
        let (id, message_id, name) = ids;
        if name == "AGENT_MESSAGE" {
            self.agent_bodies.push((at, body));
        }
        self.push(id, name, "MESSAGE", at, Some(message_id), encoded);
    }

    fn push(
        &mut self,
        id: String,
        name: &str,
        kind: &str,
        timestamp: i64,
        message_id: Option<String>,
        encoded: EncodedEvent,
    ) {
        self.list.push(Event {
            id,
            name: name.to_string(),
            kind: kind.to_string(),
            timestamp,
            message_id,
            encoded,
        });
    }

    fn encode(&self, event: Value, message_id: Option<&str>, at: i64) -> EncodedEvent {
        events::encode(event, self.chat.conversation_id, message_id, at)
    }

    /// Under test: `encoded` is what encoding the event `build` gives is.
    fn check(
        &self,
        encoded: &EncodedEvent,
        message_id: Option<&str>,
        at: i64,
        build: impl FnOnce() -> Value,
    ) {
        if cfg!(test) {
            assert_eq!(encoded, &self.encode(build(), message_id, at));
        }
    }
}
