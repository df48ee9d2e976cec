//! Reports and history (issue 16): aggregates kept as events are stored ([`keep`],
//! over the sans-IO definitions of [`tally`] and the agent state [`spans`]), rebuilt
//! from the stored events on demand ([`rebuild`]), and read back as interval
//! reports in the site's time zone ([`period`], [`read`], with the customers' ratings
//! of [`csat`]) served as tables ([`table`]),
//! an agent's day of states ([`timeline`]) and the conversation search ([`search`]).

pub mod csat;
pub mod keep;
pub mod messages;
pub mod period;
pub mod read;
pub mod rebuild;
pub mod search;
pub mod spans;
pub mod table;
pub mod tally;
pub mod timeline;

#[cfg(test)]
mod tests;

pub use tally::TallySettings;
