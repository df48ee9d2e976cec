//! The JSON of one generated conversation, shaped as the server stores it: the seed
//! fixtures' channel session, task and notification events (tests/fixtures) with this
//! conversation's ids, customer, times and agent put in, and messages shaped as a
//! widget and a desk send them.

use serde_json::{json, Value};

const TASK_ENQUEUED: &str = include_str!("../../../tests/fixtures/studio_task_enqueued.json");
const SESSION_STARTED: &str =
    include_str!("../../../tests/fixtures/studio_channel_session_started.json");
const AGENT_SUBSCRIBED: &str = include_str!("../../../tests/fixtures/studio_agent_subscribed.json");

/// The fixtures' events, parsed once.
pub struct Templates {
    task_enqueued: Value,
    session_started: Value,
    agent_subscribed: Value,
}

fn cim_event(fixture: &str) -> Value {
    let parsed: Value = serde_json::from_str(fixture).expect("fixture is JSON");
    parsed["payload"]["entities"]["cimEvent"].clone()
}

impl Templates {
    pub fn load() -> Templates {
        let mut task_enqueued = cim_event(TASK_ENQUEUED);
        // Replaced in every notification: not cloned only to be dropped.
        task_enqueued["channelSession"] = Value::Null;
        task_enqueued["data"]["task"]["channelSession"] = Value::Null;
        Templates {
            task_enqueued,
            session_started: cim_event(SESSION_STARTED),
            agent_subscribed: cim_event(AGENT_SUBSCRIBED),
        }
    }
}

/// What varies from one conversation to the next.
pub struct Chat<'a> {
    pub conversation_id: &'a str,
    pub session_id: &'a str,
    pub task_id: &'a str,
    pub customer: &'a Value,
    pub identifier: &'a str,
    pub first_name: &'a str,
    pub queue: (&'a str, &'a str),
    pub agent: Option<(&'a str, &'a str)>,
    pub start: i64,
}

impl Templates {
    /// The channel session of the chat (participant shape, with its customer).
    pub fn session(&self, chat: &Chat) -> Value {
        let mut session = self.session_started["data"].clone();
        session["id"] = json!(chat.session_id);
        session["conversationId"] = json!(chat.conversation_id);
        session["customer"] = chat.customer.clone();
        session["channelData"]["channelCustomerIdentifier"] = json!(chat.identifier);
        session["channelData"]["customerFirstName"] = json!(chat.first_name);
        session["state"] = json!({"name": "CLOSED", "reasonCode": null});
        session
    }

    /// The routing task of the chat.
    pub fn task(&self, chat: &Chat, session: &Value) -> Value {
        let mut task = self.task_enqueued["data"]["task"].clone();
        task["id"] = json!(chat.task_id);
        task["conversationId"] = json!(chat.conversation_id);
        task["channelSession"] = session.clone();
        task["assignedTo"] = json!(chat.agent.map(|a| a.0));
        task["queue"] = json!({"id": chat.queue.0, "name": chat.queue.1});
        task["state"] = json!({"name": "CLOSED", "reasonCode": null});
        task
    }

    /// A notification event named `name` at `at`: the task-enqueued seed's shape.
    pub fn notification(&self, chat: &Chat, session: &Value, name: &str, at: i64) -> Value {
        let mut event = self.task_enqueued.clone();
        event["id"] = json!(uuid::Uuid::new_v4().to_string());
        event["name"] = json!(name);
        event["timestamp"] = json!(at);
        event["conversationId"] = json!(chat.conversation_id);
        event["channelSession"] = session.clone();
        event["data"]["task"]["id"] = json!(chat.task_id);
        event["data"]["task"]["channelSession"] = session.clone();
        event["data"]["queue"] = json!({"id": chat.queue.0, "name": chat.queue.1});
        event
    }

    /// The agent joining (or leaving) at `at`.
    pub fn agent_event(&self, chat: &Chat, name: &str, at: i64) -> Value {
        let mut event = self.agent_subscribed.clone();
        event["id"] = json!(uuid::Uuid::new_v4().to_string());
        event["name"] = json!(name);
        event["timestamp"] = json!(at);
        event["conversationId"] = json!(chat.conversation_id);
        if let Some((id, name)) = chat.agent {
            // A CCUser's id is its keycloakUser's id.
            event["data"]["agentParticipant"]["participant"]["id"] = json!(id);
            event["data"]["agentParticipant"]["participant"]["keycloakUser"]["id"] = json!(id);
            event["data"]["agentParticipant"]["participant"]["keycloakUser"]["username"] =
                json!(name);
        }
        event
    }

    /// A message with `body` from the customer (`agent` None) or the agent.
    pub fn message(
        &self,
        chat: &Chat,
        session: &Value,
        agent: bool,
        body: Value,
        at: i64,
    ) -> Value {
        let (name, sender) = match (agent, chat.agent) {
            (true, Some((id, username))) => (
                "AGENT_MESSAGE",
                json!({"id": id, "type": "AGENT", "senderName": username}),
            ),
            _ => {
                let mut sender = json!({"id": chat.identifier, "type": "CUSTOMER",
                                        "senderName": chat.first_name, "participant": null});
                sender["participant"] = session.clone();
                ("CUSTOMER_MESSAGE", sender)
            }
        };
        // Objects are put in by clone: `json!` would copy them through serde.
        let emitter =
            json!({"id": sender["id"], "type": sender["type"], "senderName": sender["senderName"]});
        let mut event = json!({
            "id": uuid::Uuid::new_v4().to_string(),
            "name": name,
            "type": "MESSAGE",
            "timestamp": at,
            "conversationId": chat.conversation_id,
            "eventEmitter": null,
            "data": {
                "id": uuid::Uuid::new_v4().to_string(),
                "header": {
                    "sender": null,
                    "channelSession": null,
                    "channelData": null,
                    "timestamp": at,
                    "conversationId": chat.conversation_id,
                    "roomId": chat.conversation_id
                },
                "body": null
            },
            "roomInfo": {"id": chat.conversation_id, "mode": "CONTACT_CENTER"}
        });
        event["eventEmitter"] = emitter;
        let header = &mut event["data"]["header"];
        header["sender"] = sender;
        header["channelSession"] = session.clone();
        header["channelData"] = session["channelData"].clone();
        event["data"]["body"] = body;
        event
    }

    /// The conversation's snapshot once closed.
    pub fn conversation(&self, chat: &Chat, session: &Value, end: i64) -> Value {
        let mut conversation = json!({
            "id": chat.conversation_id,
            "customer": null,
            "participants": [{"id": uuid::Uuid::new_v4().to_string(), "type": "CUSTOMER",
                              "role": "CUSTOMER", "participant": null}],
            "state": "CLOSED",
            "conversationDirection": "INBOUND",
            "channelSession": null,
            "creationTime": chat.start,
            "endTime": end,
        });
        conversation["customer"] = chat.customer.clone();
        conversation["participants"][0]["participant"] = session.clone();
        conversation["channelSession"] = session.clone();
        conversation
    }
}

/// Words the generated messages are made of (for the full-text index).
pub const WORDS: &[&str] = &[
    "order",
    "delivery",
    "refund",
    "invoice",
    "password",
    "account",
    "shipping",
    "broken",
    "replacement",
    "warranty",
    "upgrade",
    "subscription",
    "cancel",
    "payment",
    "card",
    "address",
    "tracking",
    "package",
    "late",
    "damaged",
    "help",
    "thanks",
    "please",
    "today",
    "tomorrow",
    "price",
    "discount",
    "coupon",
    "login",
    "error",
    "app",
    "website",
    "email",
    "phone",
    "store",
    "return",
    "exchange",
    "size",
    "colour",
    "stock",
    "available",
    "manager",
    "complaint",
    "feedback",
    "great",
    "slow",
    "quick",
    "question",
    "problem",
    "solved",
];
