//! The supervisor console's live figures (issue 13, `docs/metrics.md`): a sans-IO
//! fold over stored events ([`figures`]), rebuilt from the store on start and fed
//! committed events afterwards ([`driver`]), rendered as rows ([`view`]) and pushed
//! to consoles on the Socket.IO namespace `/supervisor` ([`namespace`]), where the
//! supervisor actions arrive too ([`actions`]).

pub mod actions;
pub mod counts;
pub mod driver;
pub mod facts;
pub mod figures;
pub mod namespace;
pub mod view;

#[cfg(test)]
mod tests;

pub use driver::{LiveHandle, LiveSettings};
