//! Scenario tests of the conversation core on simulated time.

mod agents_routing;
mod errors;
mod left_messages;
mod lifecycle;
mod properties;
mod restore;
mod studio_flow;
pub(crate) mod support;
mod timers;
mod visibility;
