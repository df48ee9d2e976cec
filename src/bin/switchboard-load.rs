//! `switchboard-load`: drives a running appliance on this machine over its real protocols
//! (Socket.IO desks and widgets, the HTTP API) and reports throughput, latency percentiles,
//! memory and correctness. Loopback targets only; every mode is bounded in count and time
//! and stops by itself.
//!
//! Modes: `chat` (conversations exchanging messages at a fixed rate), `offer` (task enqueue
//! to `taskRequest` latency with many READY desks), `idle` (server memory for many idle
//! connections), `powercut` (durability across simulated power cuts, docs/durability.md). See docs/benchmarks-load.md for the commands and results.

#[path = "switchboard-load/api.rs"]
mod api;
#[path = "switchboard-load/chat.rs"]
mod chat;
#[path = "switchboard-load/chat_end.rs"]
mod chat_end;
#[path = "switchboard-load/clients.rs"]
mod clients;
#[path = "switchboard-load/console.rs"]
mod console;
#[path = "switchboard-load/history.rs"]
mod history;
#[path = "switchboard-load/idle.rs"]
mod idle;
#[path = "switchboard-load/latency.rs"]
mod latency;
#[path = "switchboard-load/ledger.rs"]
mod ledger;
#[path = "switchboard-load/offer.rs"]
mod offer;
#[path = "switchboard-load/powercut.rs"]
mod powercut;
#[path = "switchboard-load/powercut_ledger.rs"]
mod powercut_ledger;
#[path = "switchboard-load/powercut_traffic.rs"]
mod powercut_traffic;
#[path = "switchboard-load/procfs.rs"]
mod procfs;
#[path = "switchboard-load/progress.rs"]
mod progress;
#[path = "switchboard-load/setup.rs"]
mod setup;
#[path = "switchboard-load/sio.rs"]
mod sio;
#[path = "switchboard-load/wire.rs"]
mod wire;

use clap::{Parser, Subcommand};

/// As the server's (src/main.rs): the history generator spends much of its time in
/// malloc/free of JSON values (glibc's arenas at ~45 % of a profile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "switchboard-load",
    version,
    about = "Load generator for a local Switchboard appliance (loopback only)"
)]
struct Cli {
    /// Base URL of the appliance, e.g. http://127.0.0.1:18080 (loopback only).
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Print the report as one JSON object instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Tokio worker threads of the tool (the server shares the machine).
    #[arg(long, global = true, default_value_t = 2)]
    threads: usize,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Conversations between widgets and desks exchanging messages at a fixed total rate.
    Chat(chat::ChatArgs),
    /// Time from a task's enqueue to the `taskRequest` at a READY desk.
    Offer(offer::OfferArgs),
    /// Server memory (VmRSS) with many idle connections.
    Idle(idle::IdleArgs),
    /// The appliance in this process on a simulated disk, power cut at seeded I/O
    /// operations, rebooted and audited against every acknowledged message.
    Powercut(powercut::PowercutArgs),
    /// Writes a year of history (conversations, events, tasks, agent states, report
    /// aggregates) straight into a stopped server's data directory.
    History(history::HistoryArgs),
}

fn main() -> ExitCode {
    let Cli {
        url,
        json,
        threads,
        mode,
    } = Cli::parse();
    // Writes a data directory, no server: no async runtime of the tool's.
    if let Mode::History(args) = mode {
        return match history::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("switchboard-load: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli {
        url,
        json,
        threads,
        mode,
    };
    wire::origin();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cli.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchboard-load: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(e) => {
            eprintln!("switchboard-load: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the mode and prints its report. `Ok(false)` when the run finished but saw errors
/// or lost, duplicated or unanswered messages.
async fn run(cli: &Cli) -> anyhow::Result<bool> {
    if let Mode::Powercut(args) = &cli.mode {
        let report = powercut::run(args).await?;
        emit(cli.json, &report, |r| r.print())?;
        return Ok(report.clean());
    }
    let target = api::Target::new(&cli.url)?;
    match &cli.mode {
        Mode::Chat(args) => {
            let report = chat::run(&target, args).await?;
            emit(cli.json, &report, |r| r.print())?;
            Ok(report.clean())
        }
        Mode::Offer(args) => {
            let report = offer::run(&target, args).await?;
            emit(cli.json, &report, |r| r.print())?;
            Ok(report.clean())
        }
        Mode::Idle(args) => {
            let report = idle::run(&target, args).await?;
            emit(cli.json, &report, |r| r.print())?;
            Ok(report.clean())
        }
        Mode::Powercut(_) | Mode::History(_) => unreachable!("handled above"),
    }
}

fn emit<T: serde::Serialize>(json: bool, report: &T, text: impl Fn(&T)) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        text(report);
    }
    Ok(())
}
