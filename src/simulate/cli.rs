//! `switchboard simulate`: its options and what it prints.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use super::{
    compare, parse_policy, parse_time, report, AgentDelta, Changes, Request, StoreHistory,
};
use crate::clock::Millis;
use crate::config::Config;
use crate::routing::SelectionPolicy;

#[derive(clap::Args, Clone, Debug)]
pub struct SimulateArgs {
    /// Start of the period (2026-12-04T08:00:00Z, 2026-12-04 for midnight UTC, or epoch ms).
    #[arg(long, value_parser = parse_time)]
    pub from: Millis,
    /// End of the period (exclusive), in the same forms.
    #[arg(long, value_parser = parse_time)]
    pub to: Millis,
    /// Agents to add (+N, copies of the agents with the most time logged in) or remove (-N).
    #[arg(long, allow_hyphen_values = true, default_value = "0")]
    pub agents: AgentDelta,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Also write the comparison as CSV to FILE.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Seed of the draws (accept delays, handle times).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// A routing rule changed for a what-if (`simulate`) or a replay (`replay`).
#[derive(clap::Args, Clone, Debug)]
pub struct RuleArgs {
    /// The queue (name or id) whose step timeouts --step-timeout changes.
    #[arg(long, requires = "step_timeout")]
    pub queue: Option<String>,
    /// Seconds each step of --queue is searched alone before the next opens.
    #[arg(long, requires = "queue", value_parser = clap::value_parser!(i64).range(0..=86_400))]
    pub step_timeout: Option<i64>,
    /// Route every task with this policy: longest-available, least-active-tasks or most-skilled.
    #[arg(long, value_parser = parse_policy)]
    pub policy: Option<SelectionPolicy>,
}

impl RuleArgs {
    /// (queue, step timeout in seconds) when both are given.
    pub fn step_timeout_secs(&self) -> Option<(String, i64)> {
        self.queue.clone().zip(self.step_timeout)
    }
}

/// Runs the comparison over the data directory of `config` and prints it.
pub fn run(args: SimulateArgs, config: &Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let history = StoreHistory::open(&config.database_path())?;
    let routing = crate::routing_config(&config.routing);
    let short_abandon_ms = (config.supervisor.short_abandon_secs as Millis).saturating_mul(1000);
    let workload = history.workload(None, args.from, args.to, routing, short_abandon_ms)?;
    let read = started.elapsed();
    let changes = Changes {
        agents: args.agents,
        step_timeout: args.rules.step_timeout_secs(),
        policy: args.rules.policy,
    };
    let request = Request {
        from: args.from,
        to: args.to,
        seed: args.seed,
        changes,
    };
    let comparison = compare(&workload, &request)?;
    let stamp = |ms: Millis| {
        jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
    };
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "simulated {} .. {}: {} arrivals, {} agents; change: {}; seed {}",
        stamp(args.from),
        stamp(args.to),
        workload.arrivals.len(),
        workload
            .agents
            .iter()
            .filter(|a| !a.shift.is_empty())
            .count(),
        request.changes.describe(),
        args.seed
    )?;
    report::write_table(&mut out, &comparison)?;
    let refused = comparison.recorded.refused_arrivals;
    if refused > 0 {
        writeln!(
            out,
            "{refused} arrivals are not in the table: their queue is no longer configured"
        )?;
    }
    writeln!(
        out,
        "read in {:.2} s, both runs in {:.2} s",
        read.as_secs_f64(),
        (started.elapsed() - read).as_secs_f64()
    )?;
    if let Some(path) = &args.csv {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        report::write_csv(std::io::BufWriter::new(file), &comparison)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
