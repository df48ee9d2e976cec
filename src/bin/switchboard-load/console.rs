//! `chat --console`: one supervisor console on `/supervisor` during the chat load. The
//! send phase is split in two halves side by side in one run: the first with no console,
//! the second with one connected (an admin's, so it carries every agent and
//! conversation). Measures how long a change takes to reach the console (event →
//! console) and the server's CPU per delivered message in each half.
//!
//! Event → console: a customer message makes its conversation unanswered;
//! the row's `unansweredSince` is the server's time of that message, and the console
//! sees the change when an update carrying the new value arrives (same machine, same
//! wall clock). Each new `unansweredSince` of a row counts once.

use crate::api::Target;
use crate::latency::{Samples, Summary};
use crate::procfs::{CpuMeter, CpuUse};
use crate::sio::{self, Client, Events};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// Name prefix of the idle queues `--queues` adds so the console carries that many rows.
const QUEUE_PREFIX: &str = "load-queue-";

#[derive(Deserialize)]
struct Update {
    #[serde(default)]
    conversations: Vec<Row>,
    #[serde(default)]
    queues: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    agents: Vec<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    id: String,
    unanswered_since: Option<i64>,
}

#[derive(Default)]
struct Seen {
    latency: Samples,
    updates: u64,
    rows: u64,
    bytes: u64,
    /// The last `unansweredSince` of each conversation.
    unanswered: HashMap<String, Option<i64>>,
}

/// A connected console and what it has seen so far.
pub struct Console {
    client: Client,
    seen: Arc<Mutex<Seen>>,
    task: JoinHandle<()>,
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Adds idle queues until the site has `total` (they carry rows on the console, no chats).
pub async fn ensure_queues(target: &Target, admin: &str, total: usize) -> anyhow::Result<()> {
    let existing = target.count_queues(admin).await?;
    for i in existing..total {
        target
            .create_queue(admin, &format!("{QUEUE_PREFIX}{i:03}"))
            .await?;
    }
    Ok(())
}

/// Connects a console with `token` and records every update from now on.
pub async fn open(target: &Target, token: &str, timeout: Duration) -> anyhow::Result<Console> {
    let connected = sio::connect(
        target.addr,
        "/supervisor",
        &json!({"token": token}),
        Events::Forward,
        timeout,
    )
    .await
    .context("connecting the supervisor console")?;
    let mut events = connected
        .events
        .context("the console has no event stream")?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let recorder = seen.clone();
    let task = tokio::spawn(async move {
        while let Some(inbound) = events.recv().await {
            let name = inbound.name().to_string();
            if name != "supervisor:update" && name != "supervisor:snapshot" {
                continue;
            }
            let received = wall_ms();
            let Ok(update) = inbound.first_arg::<Update>() else {
                continue;
            };
            let mut seen = recorder.lock().await;
            seen.bytes += inbound.json.len() as u64;
            let snapshot = name == "supervisor:snapshot";
            if !snapshot {
                seen.updates += 1;
                seen.rows +=
                    (update.conversations.len() + update.queues.len() + update.agents.len()) as u64;
            }
            for row in update.conversations {
                let before = seen.unanswered.insert(row.id, row.unanswered_since);
                let changed = before.is_some_and(|b| b != row.unanswered_since);
                if let (false, true, Some(at)) = (snapshot, changed, row.unanswered_since) {
                    seen.latency.record_micros((received - at) * 1000);
                }
            }
        }
    });
    Ok(Console {
        client: connected.client,
        seen,
        task,
    })
}

impl Console {
    pub async fn close(self) -> (Summary, u64, u64, u64) {
        self.client.close();
        let _ = self.task.await;
        let seen = self.seen.lock().await;
        (seen.latency.summary(), seen.updates, seen.rows, seen.bytes)
    }
}

/// One half of the send phase.
#[derive(Debug, Serialize)]
pub struct Half {
    pub cpu: CpuUse,
    pub delivered: u64,
    /// Server CPU microseconds per delivered message (with --server-pid).
    pub server_cpu_us_per_message: Option<f64>,
}

impl Half {
    pub fn new(cpu: CpuUse, delivered: u64) -> Half {
        Half {
            cpu,
            delivered,
            server_cpu_us_per_message: cpu
                .server_secs
                .filter(|_| delivered > 0)
                .map(|s| s * 1e6 / delivered as f64),
        }
    }
}

/// The console's side of a `chat --console` run.
#[derive(Debug, Serialize)]
pub struct ConsoleReport {
    pub queues: usize,
    pub closed: Half,
    pub open: Half,
    /// Open ÷ closed server CPU per message (1.10 = 10 % more with the console open).
    pub cpu_ratio: Option<f64>,
    /// Event → console, per changed conversation row.
    pub update_latency: Summary,
    pub updates: u64,
    pub rows: u64,
    pub bytes: u64,
}

impl ConsoleReport {
    pub fn print(&self) {
        println!("  console ({} queues on the site):", self.queues);
        for (label, half) in [("closed", &self.closed), ("open  ", &self.open)] {
            match half.server_cpu_us_per_message {
                Some(us) => println!(
                    "    console {label}: {} delivered in {:.1}s, server CPU {us:.0} us/message",
                    half.delivered, half.cpu.wall_secs
                ),
                None => println!(
                    "    console {label}: {} delivered in {:.1}s (no --server-pid: no server CPU)",
                    half.delivered, half.cpu.wall_secs
                ),
            }
        }
        if let Some(ratio) = self.cpu_ratio {
            println!("    server CPU per message, open ÷ closed: {ratio:.3}");
        }
        println!("    event -> console {}", self.update_latency);
        println!(
            "    {} updates, {} rows, {:.1} MiB",
            self.updates,
            self.rows,
            self.bytes as f64 / (1024.0 * 1024.0)
        );
    }
}

/// The two halves of the send phase: console closed until `mid`, open until `end`.
pub struct Halves {
    mid: Instant,
    end: Instant,
    server_pid: Option<u32>,
    meter: Option<CpuMeter>,
    since: u64,
    closed: Option<Half>,
    open: Option<Half>,
    console: Option<Console>,
}

impl Halves {
    /// Starts the closed half now (the send phase's first message).
    pub fn new(begin: Instant, end: Instant, server_pid: Option<u32>) -> anyhow::Result<Halves> {
        Ok(Halves {
            mid: begin + (end - begin) / 2,
            end,
            server_pid,
            meter: Some(CpuMeter::start(server_pid)?),
            since: 0,
            closed: None,
            open: None,
            console: None,
        })
    }

    /// Called on every progress tick with the messages delivered so far.
    pub async fn step(
        &mut self,
        target: &Target,
        admin: &str,
        timeout: Duration,
        delivered: u64,
    ) -> anyhow::Result<()> {
        let now = Instant::now();
        if self.closed.is_none() && now >= self.mid {
            if let Some(meter) = self.meter.take() {
                self.closed = Some(Half::new(meter.stop()?, delivered - self.since));
            }
            self.since = delivered;
            self.console = Some(open(target, admin, timeout).await?);
            eprintln!("  console connected");
            self.meter = Some(CpuMeter::start(self.server_pid)?);
        } else if self.closed.is_some() && self.open.is_none() && now >= self.end {
            if let Some(meter) = self.meter.take() {
                self.open = Some(Half::new(meter.stop()?, delivered - self.since));
            }
        }
        Ok(())
    }

    pub async fn finish(mut self, queues: usize, delivered: u64) -> anyhow::Result<ConsoleReport> {
        if let Some(meter) = self.meter.take() {
            let half = Half::new(meter.stop()?, delivered - self.since);
            if self.closed.is_none() {
                self.closed = Some(half);
            } else {
                self.open = Some(half);
            }
        }
        let closed = self.closed.context("the run ended before its first half")?;
        let open = self.open.context("the run ended before the console half")?;
        let (update_latency, updates, rows, bytes) = match self.console {
            Some(console) => console.close().await,
            None => (Samples::default().summary(), 0, 0, 0),
        };
        let cpu_ratio = match (
            open.server_cpu_us_per_message,
            closed.server_cpu_us_per_message,
        ) {
            (Some(o), Some(c)) if c > 0.0 => Some(o / c),
            _ => None,
        };
        Ok(ConsoleReport {
            queues,
            closed,
            open,
            cpu_ratio,
            update_latency,
            updates,
            rows,
            bytes,
        })
    }
}
