//! Staffing what-ifs (`switchboard simulate`): the recorded arrivals of a period are
//! run through the real routing core ([`crate::routing::RoutingCore`]) on a virtual
//! clock, once with the site's configuration and once with a change (agents added or
//! removed, a queue's step timeout, the selection policy), and the per-queue figures
//! of both runs are compared side by side.
//!
//! - `cli`: the command's options and output
//! - `source`: the [`ArrivalSource`] trait (what arrived when) and the workload types
//! - `history`: reads a data directory (read-only) into a [`Workload`]
//! - `changes`: the what-if applied to a workload
//! - `world`: the virtual clock that drives the core with simulated agents and customers
//! - `tally`: the figures (offered, answered, abandoned, service level, ASA, occupancy)
//! - `report`: the side-by-side table and CSV
//! - `erlang`: Erlang C, the M/M/c figures the simulation is validated against

mod changes;
pub mod cli;
pub mod erlang;
mod history;
mod report;
mod source;
mod tally;
mod world;

#[cfg(test)]
mod tests;

pub use changes::{AgentDelta, Changes};
pub use history::{StoreArrivals, StoreHistory};
pub use report::{write_csv, write_table, Comparison, Row};
pub use source::{AgentPlan, Arrival, ArrivalSource, Pools, ShiftChange, ShiftState, Workload};
pub use tally::{Figures, QueueFigures};
pub use world::{journal, simulate};

use crate::clock::Millis;
use crate::routing::SelectionPolicy;

/// What can go wrong before or during a simulation.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot open the database read-only at {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("the period is empty: --from must be before --to")]
    EmptyPeriod,
    #[error("no queue named or with id `{0}`")]
    UnknownQueue(String),
    #[error("--agents {0} removes more agents than the site has ({1})")]
    TooFewAgents(i64, usize),
    #[error("the simulation ran past its limit of {0} steps")]
    Runaway(u64),
}

impl SimError {
    /// A stable code for scripts reading the error.
    pub fn code(&self) -> &'static str {
        match self {
            SimError::Store(_) => "store",
            SimError::Open { .. } => "open_failed",
            SimError::EmptyPeriod => "empty_period",
            SimError::UnknownQueue(_) => "unknown_queue",
            SimError::TooFewAgents(..) => "too_few_agents",
            SimError::Runaway(_) => "runaway",
        }
    }
}

/// A simulation request: the period, the seed and the change to compare with.
#[derive(Clone, Debug)]
pub struct Request {
    pub from: Millis,
    pub to: Millis,
    pub seed: u64,
    pub changes: Changes,
}

/// Runs the recorded configuration and the changed one over the same workload.
pub fn compare(workload: &Workload, request: &Request) -> Result<Comparison, SimError> {
    if request.from >= request.to {
        return Err(SimError::EmptyPeriod);
    }
    let recorded = simulate(workload, request.from, request.to, request.seed)?;
    let changed_workload = request.changes.apply(workload, request.from, request.to)?;
    let changed = simulate(&changed_workload, request.from, request.to, request.seed)?;
    Ok(Comparison::new(workload, recorded, changed))
}

/// Parses a `--policy` value: `longest-available`, `least-active-tasks`, `most-skilled`
/// (the routing policies' names, in either spelling).
pub fn parse_policy(text: &str) -> Result<SelectionPolicy, String> {
    match text.to_ascii_lowercase().replace('_', "-").as_str() {
        "longest-available" | "longest-idle" => Ok(SelectionPolicy::LongestAvailable),
        "least-active-tasks" | "most-idle" => Ok(SelectionPolicy::LeastActiveTasks),
        "most-skilled" => Ok(SelectionPolicy::MostSkilled),
        _ => Err(format!(
            "unknown policy `{text}` (longest-available, least-active-tasks or most-skilled)"
        )),
    }
}

/// Parses `--from` / `--to`: an RFC 3339 time (`2026-12-04T08:00:00Z`), a date
/// (`2026-12-04`, midnight UTC) or epoch milliseconds.
pub fn parse_time(text: &str) -> Result<Millis, String> {
    if let Ok(ms) = text.parse::<Millis>() {
        return Ok(ms);
    }
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    if let Ok(date) = text.parse::<jiff::civil::Date>() {
        if let Ok(zoned) = date.to_zoned(jiff::tz::TimeZone::UTC) {
            return Ok(zoned.timestamp().as_millisecond());
        }
    }
    Err(format!(
        "`{text}` is not a time (2026-12-04T08:00:00Z, 2026-12-04 or epoch ms)"
    ))
}
