//! The CIM vocabulary a packed shape may hold as a literal: the documented names of
//! states, types, roles, directions, modes and reasons, under the keys that carry
//! them.
//!
//! A row's leaves repeat these names in nearly every row (`"PLAIN"` in each message,
//! `"AGENT_MESSAGE"` in each desk input, a task's `"ACTIVE"`, `"INBOUND"`, `"QUEUE"`),
//! and rows of one kind hold few combinations of them: kept in the shape, which is
//! stored once, they cost a row nothing. Only names from the vocabulary (and `null`)
//! under a key of [`KEYS`], outside what someone wrote ([`Scope`]), qualify, so no
//! value a customer or an agent wrote ends up in a shared shape, where an erasure
//! would not reach it.

use crate::cim::{
    AgentSelectionPolicy, AssistanceMode, ChannelMode, ChannelSessionReasonCode,
    ChannelSessionStateName, CimEventName, CimEventType, ConversationState, DeliveryStatus,
    Direction, EmitterType, MessageBody, NotificationType, ParticipantRole, ParticipantState,
    ParticipantType, RoomMode, RoutingMode, TaskMediaState, TaskMode, TaskStateName,
    TaskStateReason, BOT_PARTICIPANT_TYPE, CC_USER_PARTICIPANT_TYPE,
    CHANNEL_SESSION_PARTICIPANT_TYPE,
};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::LazyLock;

/// The keys whose values are names of the vocabulary (or `null`).
const KEYS: [&str; 17] = [
    "type",
    "name",
    "state",
    "role",
    "mode",
    "direction",
    "participantType",
    "reasonCode",
    "channelSessionDirection",
    "conversationDirection",
    "requestType",
    "kind",
    "selectionPolicy",
    "agentSelectionPolicy",
    "routingMode",
    "status",
    "action",
];

static NAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let lists: [&[&'static str]; 22] = [
        CimEventName::KNOWN,
        CimEventType::KNOWN,
        EmitterType::KNOWN,
        &MessageBody::KNOWN_TYPES,
        NotificationType::KNOWN,
        DeliveryStatus::KNOWN,
        ConversationState::KNOWN,
        ChannelMode::KNOWN,
        RoutingMode::KNOWN,
        AgentSelectionPolicy::KNOWN,
        ChannelSessionStateName::KNOWN,
        ChannelSessionReasonCode::KNOWN,
        Direction::KNOWN,
        ParticipantType::KNOWN,
        ParticipantRole::KNOWN,
        ParticipantState::KNOWN,
        AssistanceMode::KNOWN,
        RoomMode::KNOWN,
        TaskStateName::KNOWN,
        TaskStateReason::KNOWN,
        TaskMediaState::KNOWN,
        TaskMode::KNOWN,
    ];
    let participant_types = [
        CHANNEL_SESSION_PARTICIPANT_TYPE,
        BOT_PARTICIPANT_TYPE,
        CC_USER_PARTICIPANT_TYPE,
    ];
    lists
        .into_iter()
        .flatten()
        .copied()
        .chain(participant_types)
        .chain(AGENT_STATES.iter().copied())
        .filter(|name| !STAY_LEAVES.contains(name))
        .collect()
});

/// Names a row keeps as a leaf all the same: the purge and the wrap-up search find a
/// wrap-up by its body type in the row's own text (`retention::forget`,
/// `reports::search`).
const STAY_LEAVES: [&str; 1] = ["WRAPUP"];

/// The routing engine's agent and MRD states (an agent's saved view).
const AGENT_STATES: [&str; 9] = [
    "LOGOUT",
    "LOGIN",
    "NOT_READY",
    "READY",
    "UNKNOWN",
    "ACTIVE",
    "BUSY",
    "PENDING_NOT_READY",
    "INTERRUPTED",
];

/// Keys under which what a customer or a connector wrote may hold any key and value:
/// no name below them is a literal. (A task's or a conversation's `metadata` is typed
/// by the server: its `requestType` is a name.)
const WRITTEN: [&str; 7] = [
    "customer",
    "additionalAttributes",
    "formData",
    "attributes",
    "channelData",
    "extra",
    "userCredentials",
];

/// Where in a value a name may be a literal: anywhere but under [`WRITTEN`] keys,
/// and in a message `body` only at its top (its `type`; a contact's `name` or a
/// button's `type` below are what someone wrote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Open,
    BodyTop,
    Closed,
}

impl Scope {
    /// The scope of the entries of an object found under `key` in this scope.
    pub fn enter(self, key: &str) -> Scope {
        match self {
            Scope::Closed | Scope::BodyTop => Scope::Closed,
            Scope::Open if WRITTEN.contains(&key) => Scope::Closed,
            Scope::Open if key == "body" => Scope::BodyTop,
            Scope::Open => Scope::Open,
        }
    }
}

/// Whether `value`, found under `key` in an object whose entries are in `scope`, is
/// kept in a shape rather than as a leaf.
pub fn is_literal(scope: Scope, key: &str, value: &Value) -> bool {
    scope != Scope::Closed
        && KEYS.contains(&key)
        && match value {
            Value::Null => true,
            Value::String(name) => NAMES.contains(name.as_str()),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_under_their_keys_are_literals_and_nothing_anyone_wrote_is() {
        let open = Scope::Open;
        assert!(is_literal(open, "type", &json!("PLAIN")));
        assert!(is_literal(open, "name", &json!("AGENT_MESSAGE")));
        assert!(is_literal(
            open,
            "participantType",
            &json!("ChannelSession")
        ));
        assert!(is_literal(open, "reasonCode", &Value::Null));
        assert!(
            !is_literal(open, "markdownText", &json!("PLAIN")),
            "not its key"
        );
        assert!(!is_literal(open, "firstName", &Value::Null), "not its key");
        assert!(
            !is_literal(open, "name", &json!("Default")),
            "a queue's name"
        );
        assert!(!is_literal(open, "type", &json!("VIP")), "a form's value");
        assert!(!is_literal(open, "state", &json!(3)));
        assert!(
            !is_literal(open, "type", &json!("WRAPUP")),
            "found in the row's text"
        );
    }

    #[test]
    fn below_what_someone_wrote_no_name_is_a_literal() {
        let body = Scope::Open.enter("data").enter("body");
        assert!(
            is_literal(body, "type", &json!("PLAIN")),
            "a body's own type"
        );
        let contact = body.enter("contact");
        assert!(
            !is_literal(contact, "name", &json!("ACTIVE")),
            "a contact's name"
        );
        let customer = Scope::Open.enter("channelSession").enter("customer");
        assert!(!is_literal(customer, "type", &json!("CUSTOMER")));
        assert!(!is_literal(customer.enter("data"), "state", &Value::Null));
        let form = Scope::Open.enter("additionalAttributes");
        assert!(!is_literal(form, "type", &json!("AGENT")));
    }

    #[test]
    fn the_routing_engines_agent_and_mrd_states_are_names() {
        use crate::routing::{AgentStateName as A, MrdStateName as M};
        let agent = [A::Logout, A::Login, A::NotReady, A::Ready, A::Unknown];
        let mrd = [
            M::NotReady,
            M::Ready,
            M::Active,
            M::Busy,
            M::PendingNotReady,
            M::Interrupted,
        ];
        let names = agent
            .iter()
            .map(|s| serde_json::to_value(s).unwrap())
            .chain(mrd.iter().map(|s| serde_json::to_value(s).unwrap()));
        for name in names {
            assert!(is_literal(Scope::Open, "state", &name), "{name}");
        }
    }
}
