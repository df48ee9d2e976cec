//! `switchboard replay`: its options and what it prints.

use std::io::Write;

use super::{replay, Divergence, Outcome, Overrides, ReplayError};
use crate::clock::Millis;
use crate::config::Config;
use crate::simulate::cli::RuleArgs;
use crate::simulate::parse_time;
use rusqlite::{Connection, OpenFlags};

#[derive(clap::Args, Clone, Debug)]
pub struct ReplayArgs {
    /// Replay from the last start or daily snapshot of the engine at or before this
    /// time (2026-12-04T08:00:00Z, 2026-12-04 for midnight UTC, or epoch ms); default:
    /// the first journaled.
    #[arg(long, value_parser = parse_time)]
    pub from: Option<Millis>,
    /// Stop before this time (same forms); default: the end of the journal.
    #[arg(long, value_parser = parse_time)]
    pub to: Option<Millis>,
    /// Replay with this accept timeout (seconds) for every offer instead of the recorded ones.
    #[arg(long, value_parser = clap::value_parser!(i64).range(1..=86_400))]
    pub accept_timeout: Option<i64>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

impl ReplayArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            accept_timeout_ms: self.accept_timeout.map(|s| s * 1000),
            step_timeout: self
                .rules
                .step_timeout_secs()
                .map(|(queue, secs)| (queue, secs * 1000)),
            policy: self.rules.policy,
        }
    }
}

/// Replays the journal of the data directory of `config` (read-only; the server may
/// run) and prints the outcome; true when nothing diverged.
pub fn run(args: &ReplayArgs, config: &Config) -> Result<bool, ReplayError> {
    let path = config.database_path();
    let open_error = |source| ReplayError::Open {
        path: path.display().to_string(),
        source,
    };
    if !path.exists() {
        return Err(
            crate::store::StoreError::NotFound(format!("database {}", path.display())).into(),
        );
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_error)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(open_error)?;
    let started = std::time::Instant::now();
    let overrides = args.overrides();
    let outcome = replay(&conn, args.from, args.to, &overrides)?;
    let mut out = std::io::stdout().lock();
    // A closed stdout (a pager quit) is not the replay's failure.
    let _ = print(&mut out, &outcome, &overrides, started.elapsed());
    Ok(outcome.divergence.is_none())
}

fn stamp(ms: Millis) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(|_| ms.to_string(), |t| t.to_string())
}

fn print(
    out: &mut impl Write,
    outcome: &Outcome,
    overrides: &Overrides,
    took: std::time::Duration,
) -> std::io::Result<()> {
    let span = match (outcome.first_at, outcome.last_at) {
        (Some(a), Some(b)) => format!("{} .. {}", stamp(a), stamp(b)),
        _ => "nothing".into(),
    };
    let change = if overrides.is_empty() {
        "as recorded".to_string()
    } else {
        describe(overrides)
    };
    writeln!(
        out,
        "replayed {} inputs in {} run{} of the routing engine, {span} ({change}) in {:.2} s",
        outcome.inputs,
        outcome.runs,
        plural(outcome.runs),
        took.as_secs_f64()
    )?;
    writeln!(
        out,
        "replayed {} inputs of the conversation manager",
        outcome.conversation_inputs
    )?;
    if outcome.unchecked > 0 {
        writeln!(
            out,
            "{} input{} whose stored message is gone (erased, or purged) taken unchecked: the journal keeps no copy of it",
            outcome.unchecked,
            plural(outcome.unchecked)
        )?;
    }
    if let Some(at) = outcome.began_at_snapshot {
        writeln!(
            out,
            "began at the snapshot of the engine's state taken {}",
            stamp(at)
        )?;
    }
    if outcome.snapshots > 0 {
        writeln!(
            out,
            "{} snapshot{} of the engine's state passed: the rebuilt state was equal",
            outcome.snapshots,
            plural(outcome.snapshots)
        )?;
    }
    if outcome.conversation_snapshots > 0 {
        writeln!(
            out,
            "{} snapshot{} of the conversations passed: the rebuilt state was equal",
            outcome.conversation_snapshots,
            plural(outcome.conversation_snapshots)
        )?;
    }
    match &outcome.divergence {
        None => writeln!(out, "no divergence"),
        Some(d) => write_divergence(out, d),
    }
}

/// The plural ending for `n` of something.
fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn describe(o: &Overrides) -> String {
    let mut parts = Vec::new();
    if let Some(ms) = o.accept_timeout_ms {
        parts.push(format!("accept timeout {} s", ms / 1000));
    }
    if let Some((queue, ms)) = &o.step_timeout {
        parts.push(format!("queue {queue} step timeout {} s", ms / 1000));
    }
    if let Some(policy) = o.policy {
        parts.push(format!(
            "policy {}",
            crate::routing::handle::enum_str(&policy)
        ));
    }
    parts.join(", ")
}

fn write_divergence(out: &mut impl Write, d: &Divergence) -> std::io::Result<()> {
    writeln!(
        out,
        "DIVERGENCE at journal row {} ({:?}), now = {} ({} ms)",
        d.pos,
        d.kind,
        stamp(d.at),
        d.at
    )?;
    if matches!(
        d.kind,
        super::Kind::Snapshot | super::Kind::ConversationState
    ) {
        let path = d.input.as_str().unwrap_or_default();
        writeln!(
            out,
            "  the rebuilt state differs from the snapshot at {path}"
        )?;
        writeln!(out, "  expected:   {}", d.expected)?;
        return writeln!(out, "  recomputed: {}", d.recomputed);
    }
    writeln!(out, "  input:      {}", d.input)?;
    let expected = match d.kind {
        // The journal keeps a conversation input's digest, not a brief of its effects.
        super::Kind::ConversationInput | super::Kind::ConversationPersonal => {
            "(digest only: the conversation's stored events show what was done)".to_string()
        }
        // A site input's brief is its routing effects'; its conversation effects are
        // in the digest only.
        super::Kind::SiteInput | super::Kind::SitePersonal => match d.expected.is_empty() {
            true => "(no routing effects; the conversation's stored events show what was done)"
                .to_string(),
            false => format!(
                "{} (and the conversation's, in the digest only)",
                d.expected
            ),
        },
        _ => or_none(&d.expected).to_string(),
    };
    writeln!(
        out,
        "  expected:   {} [digest {:016x}]",
        expected, d.expected_digest
    )?;
    writeln!(
        out,
        "  recomputed: {} [digest {:016x}]",
        or_none(&d.recomputed),
        d.recomputed_digest
    )
}

fn or_none(effects: &str) -> &str {
    if effects.is_empty() {
        "(no effects)"
    } else {
        effects
    }
}
