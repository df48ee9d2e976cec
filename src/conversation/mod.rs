//! The conversation manager's sans-IO core and the conversation studio.
//!
//! [`ConversationCore`] owns every open conversation: its participants and channel
//! sessions, its state (CREATED, ACTIVE, ON_HOLD, CUSTOMER_LEFT, WRAP_UP, INACTIVE,
//! CLOSED), its per-conversation event sequence and its timers. A driver feeds it
//! [`Input`]s with the current time, carries out the returned [`Effect`]s in order
//! (persist first, then publish) and sends [`Input::Tick`] at
//! [`ConversationCore::next_deadline`]. The [`studio`] module holds the intent payloads,
//! the [`Action`]s a flow answers with and the built-in default flow.

mod actions;
mod agent_inputs;
mod agent_ops;
mod agent_request;
pub mod audience;
mod core;
mod customer_inputs;
pub mod customer_wire;
pub mod digest;
mod effect;
mod error;
pub mod events;
pub mod handle;
mod hours_hold;
mod ids;
mod input;
mod intents;
mod open;
mod ops;
mod origins;
mod published;
mod record;
mod routing_inputs;
mod settings;
pub mod snapshot;
mod step;
pub mod studio;
mod tick;
pub mod timers;
pub mod typing;
pub mod views;
mod wrapup_close;

pub use self::core::ConversationCore;
pub use effect::{CustomerAddress, Effect, FindAgentRequest};
pub use error::CoreError;
pub use ids::{IdGen, IdKind, SequentialIds, UuidIds};
pub use input::Input;
pub use record::{
    ConversationRecord, ConversationRuntime, PersistStep, RestoredConversation, StoredEvent,
};
pub use settings::CoreSettings;
pub use studio::{parse_actions, Action, AssignBotAction, FindAgentAction};

#[cfg(test)]
pub(crate) mod tests;
