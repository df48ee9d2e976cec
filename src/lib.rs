//! Switchboard: a contact-center appliance in one binary.
//!
//! See `docs/architecture.md` for the components and how a chat flows through them.

pub mod agents;
pub mod bus;
pub mod channels;
pub mod cim;
pub mod clock;
pub mod config;
pub mod conversation;
pub mod http;
pub mod routing;
pub mod socketio;
pub mod store;
