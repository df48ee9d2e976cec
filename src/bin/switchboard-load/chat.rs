//! `chat`: N agent desks and M customer widgets hold M conversations and exchange
//! messages at a fixed total rate. Measures delivery throughput, send-to-receipt latency
//! in both directions, ack latency, errors, and that every acknowledged message arrived
//! exactly once.
//!
//! Each conversation sends on its own schedule (open loop: a slow answer does not delay
//! the next send), alternating customer and agent, spread evenly across the period so the
//! total rate is smooth. A message carries its identity and send time in its text
//! ([`Probe`]), so the receiving side computes the latency without shared state.

use crate::api::Target;
use crate::chat_end::{end_chats, Ending};
use crate::clients;
use crate::console::{self, ConsoleReport, Halves};
use crate::latency::Summary;
use crate::ledger::{Ledger, Verdict};
use crate::procfs::{self, CpuMeter, CpuUse, Memory};
use crate::progress::{Counts, Errors, Progress};
use crate::setup::Setup;
use anyhow::{anyhow, bail};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

#[derive(clap::Args, Debug, Clone)]
pub struct ChatArgs {
    /// Agent desks (created as users `<prefix>NNNNN` when missing).
    #[arg(long, default_value_t = 200)]
    pub agents: usize,
    /// Concurrent conversations (at most agents × the CHAT MRD's maxTasks).
    #[arg(long, default_value_t = 1000)]
    pub conversations: usize,
    /// Messages per conversation, alternating customer and agent.
    #[arg(long, default_value_t = 100)]
    pub messages_per_conv: u32,
    /// Total messages per second over all conversations.
    #[arg(long, default_value_t = 10_000.0)]
    pub rate: f64,
    /// Seconds to wait after the last send for outstanding acks and deliveries.
    #[arg(long, default_value_t = 10)]
    pub drain_secs: u64,
    /// Open one supervisor console (the admin's) for the second half of the send phase,
    /// and report event → console latency and server CPU per message with the console
    /// closed (first half) and open (second half).
    #[arg(long)]
    pub console: bool,
    /// Leaves the run's chats open at the end (by default each customer leaves and its
    /// agent closes the wrap-up, so a next run on the same server finds free desks).
    #[arg(long)]
    pub keep_chats: bool,
    /// With --console: idle queues are added until the site has this many.
    #[arg(long, default_value_t = 100)]
    pub queues: usize,
    #[command(flatten)]
    pub setup: Setup,
}

/// Results of one chat run.
#[derive(Debug, Serialize)]
pub struct ChatReport {
    pub agents: usize,
    pub conversations: usize,
    pub messages_per_conversation: u32,
    pub requested_rate: f64,
    pub setup_secs: f64,
    pub counts: Counts,
    /// From the first scheduled send to the last send.
    pub send_secs: f64,
    /// From the first scheduled send to the last receipt.
    pub delivery_secs: f64,
    pub sent_per_sec: f64,
    pub delivered_per_sec: f64,
    /// Customer `MESSAGE_RECEIVED` emit -> desk `onCimEvent`.
    pub customer_to_desk: Summary,
    /// Desk `publishCimEvent` emit -> widget `MESSAGE_RECEIVED`.
    pub desk_to_customer: Summary,
    /// Both directions together.
    pub send_to_receipt: Summary,
    /// Widget `MESSAGE_RECEIVED` emit -> its ack (stored).
    pub customer_ack: Summary,
    /// Desk `publishCimEvent` emit -> its ack (stored).
    pub agent_ack: Summary,
    pub customer_messages: Verdict,
    pub agent_messages: Verdict,
    /// Sent but never acknowledged by the end of the run.
    pub unacked: u64,
    /// Every message was acknowledged and received before the drain window closed.
    pub drained: bool,
    pub errors: Errors,
    /// Drained, and no message was missing or received twice.
    pub exactly_once: bool,
    /// CPU time from the first send to the end of the drain.
    pub cpu: CpuUse,
    /// Server CPU microseconds per delivered message (with --server-pid).
    pub server_cpu_us_per_message: Option<f64>,
    /// Server memory at the end (with --server-pid).
    pub server_memory: Option<Memory>,
    /// With --console: the two halves side by side and the console's latency.
    pub console: Option<ConsoleReport>,
}

impl ChatReport {
    /// A run is clean when every message was acknowledged and received exactly once.
    pub fn clean(&self) -> bool {
        self.exactly_once && self.unacked == 0 && self.errors.count == 0
    }

    pub fn print(&self) {
        println!(
            "chat: {} agents, {} conversations, {} messages each, requested {:.0} msg/s (setup {:.1}s)",
            self.agents,
            self.conversations,
            self.messages_per_conversation,
            self.requested_rate,
            self.setup_secs
        );
        println!(
            "  sent {} in {:.2}s ({:.0}/s); delivered {} in {:.2}s ({:.0}/s); acked {}; errors {}",
            self.counts.sent,
            self.send_secs,
            self.sent_per_sec,
            self.counts.received,
            self.delivery_secs,
            self.delivered_per_sec,
            self.counts.acked,
            self.errors.count
        );
        println!("  customer->desk   {}", self.customer_to_desk);
        println!("  desk->customer   {}", self.desk_to_customer);
        println!("  send->receipt    {}", self.send_to_receipt);
        println!("  customer ack     {}", self.customer_ack);
        println!("  agent ack        {}", self.agent_ack);
        println!(
            "  exactly once: {} (drained {}; customer msgs missing {} dup {}; agent msgs missing {} dup {}; unacked {})",
            self.exactly_once,
            self.drained,
            self.customer_messages.missing,
            self.customer_messages.duplicates,
            self.agent_messages.missing,
            self.agent_messages.duplicates,
            self.unacked
        );
        println!("  cpu {}", self.cpu);
        if let Some(us) = self.server_cpu_us_per_message {
            println!("  server CPU per delivered message: {us:.0} us");
        }
        if let Some(m) = self.server_memory {
            println!(
                "  server RSS {:.1} MiB (peak {:.1} MiB)",
                Memory::mib(m.rss_kib),
                Memory::mib(m.peak_rss_kib)
            );
        }
        if let Some(console) = &self.console {
            console.print();
        }
        for e in &self.errors.samples {
            println!("  error: {e}");
        }
    }
}

#[path = "chat_sides.rs"]
mod sides;

use sides::{conversation_task, desk_task, open_chats, Accepted, Plan, SideStats};

pub async fn run(target: &Target, args: &ChatArgs) -> anyhow::Result<ChatReport> {
    let started = Instant::now();
    let (m, n) = (args.conversations, args.agents);
    if m == 0 || n == 0 || args.messages_per_conv == 0 || args.rate <= 0.0 {
        bail!("agents, conversations, messages-per-conv and rate must be positive");
    }
    if m >= 1 << 31 {
        bail!("too many conversations");
    }
    let admin = args.setup.admin_token(target).await?;
    let per_agent = target.mrd_max_tasks(&admin, "CHAT").await?.unwrap_or(5) as usize;
    if m > n * per_agent {
        bail!(
            "{m} conversations do not fit {n} agents with {per_agent} chats each; \
             use --agents {} or more",
            m.div_ceil(per_agent)
        );
    }
    if args.console {
        console::ensure_queues(target, &admin, args.queues).await?;
    }
    let logins = args.setup.agents(target, &admin, n).await?;
    let desks = clients::connect_desks(
        target.addr,
        &logins,
        true,
        args.setup.connect_concurrency,
        args.setup.timeout(),
    )
    .await?;
    let capacity: u64 = desks.iter().map(|d| d.chat_capacity).sum();
    if (m as u64) > capacity {
        bail!("the desks announce {capacity} CHAT slots in total, fewer than {m} conversations");
    }

    let progress = Arc::new(Progress::default());
    let (accepted_tx, mut accepted_rx) = mpsc::unbounded_channel::<Accepted>();
    let mut desk_clients = Vec::with_capacity(n);
    let mut desk_tasks = Vec::with_capacity(n);
    for desk in desks {
        desk_clients.push((
            desk.client.clone(),
            Arc::<str>::from(desk.agent_id.as_str()),
        ));
        desk_tasks.push(tokio::spawn(desk_task(
            desk,
            accepted_tx.clone(),
            progress.clone(),
        )));
    }
    drop(accepted_tx);

    let run_id = args.setup.run_id();
    let widgets = open_chats(target, args, &run_id).await?;

    // Every conversation must be offered to and accepted by a desk before the clock starts.
    let mut owner: HashMap<String, usize> = HashMap::with_capacity(m);
    let deadline = tokio::time::Instant::now() + args.setup.timeout() * 4;
    while owner.len() < m {
        match tokio::time::timeout_at(deadline, accepted_rx.recv()).await {
            Ok(Some((conversation, desk))) => {
                owner.insert(conversation, desk);
            }
            Ok(None) => bail!("desks stopped before every conversation was accepted"),
            Err(_) => bail!(
                "only {} of {m} conversations were offered and accepted in time",
                owner.len()
            ),
        }
    }
    let setup_secs = started.elapsed().as_secs_f64();
    eprintln!("{m} conversations accepted; setup took {setup_secs:.1}s");

    let period = Duration::from_secs_f64(m as f64 / args.rate);
    let begin = Instant::now() + Duration::from_millis(200);
    let run_id: Arc<str> = run_id.into();
    let mut widget_clients = Vec::with_capacity(m);
    let mut endings = Vec::with_capacity(m);
    let mut conversation_tasks: Vec<JoinHandle<SideStats>> = Vec::with_capacity(m);
    for (index, widget) in widgets.into_iter().enumerate() {
        let desk = *owner
            .get(&widget.conversation_id)
            .ok_or_else(|| anyhow!("conversation {} has no desk", widget.conversation_id))?;
        let (desk_client, agent_id) = desk_clients[desk].clone();
        widget_clients.push(widget.client.clone());
        endings.push(Ending {
            widget: widget.client.clone(),
            conversation_id: widget.conversation_id.clone(),
            desk: desk_client.clone(),
            agent_id: agent_id.clone(),
        });
        let plan = Plan {
            conversation: index as u32,
            conversation_id: widget.conversation_id,
            run_id: run_id.clone(),
            agent_id,
            first: begin + period.mul_f64(index as f64 / m as f64),
            period,
            count: args.messages_per_conv,
        };
        conversation_tasks.push(tokio::spawn(conversation_task(
            plan,
            widget.client,
            widget.events,
            desk_client,
            progress.clone(),
        )));
    }

    tokio::time::sleep_until(begin.into()).await;
    let meter = CpuMeter::start(args.setup.server_pid)?;
    let total = m as u64 * u64::from(args.messages_per_conv);
    let send_end = begin + period * args.messages_per_conv;
    let drain_end = send_end + Duration::from_secs(args.drain_secs);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut last_print = Instant::now();
    let mut halves = args
        .console
        .then(|| Halves::new(begin, send_end, args.setup.server_pid))
        .transpose()?;
    loop {
        tick.tick().await;
        let c = progress.snapshot();
        if let Some(h) = halves.as_mut() {
            h.step(target, &admin, args.setup.timeout(), c.received)
                .await?;
        }
        if last_print.elapsed() >= Duration::from_secs(1) {
            last_print = Instant::now();
            eprintln!(
                "  t={:>5.1}s sent {:>8} acked {:>8} received {:>8} errors {}",
                begin.elapsed().as_secs_f64(),
                c.sent,
                c.acked,
                c.received,
                c.errors
            );
        }
        let done = c.sent >= total && c.acked >= total && c.received >= total;
        if done || Instant::now() >= drain_end {
            break;
        }
    }
    let cpu = meter.stop()?;
    let console = match halves {
        Some(h) => Some(h.finish(args.queues, progress.snapshot().received).await?),
        None => None,
    };
    let server_memory = args
        .setup
        .server_pid
        .map(|pid| procfs::memory(Some(pid)))
        .transpose()?;
    let counts = progress.snapshot();
    let drained = counts.sent == total && counts.acked == total && counts.received == total;
    let last_send = progress.last_send();
    let last_receipt = progress.last_receipt();

    if !args.keep_chats {
        let ended = end_chats(
            endings,
            args.setup.connect_concurrency,
            args.setup.timeout(),
        )
        .await;
        eprintln!("ended {ended} of {m} chats");
    }
    for client in widget_clients
        .iter()
        .chain(desk_clients.iter().map(|(c, _)| c))
    {
        client.close();
    }
    let mut customer_side = SideStats::default();
    for task in conversation_tasks {
        let stats = task.await?;
        customer_side.merge(stats);
    }
    let mut desk_side = SideStats::default();
    for task in desk_tasks {
        let stats = task.await?;
        desk_side.merge(stats);
    }

    // The widget side received agent messages and got acks for customer messages.
    let customer_messages = Ledger {
        acked: customer_side.ledger.acked,
        received: desk_side.ledger.received,
    }
    .verdict();
    let agent_messages = Ledger {
        acked: desk_side.ledger.acked,
        received: customer_side.ledger.received,
    }
    .verdict();
    let mut both = customer_side.delivery.clone();
    both.merge(desk_side.delivery.clone());
    let mut errors = customer_side.errors;
    errors.merge(desk_side.errors);
    let send_secs = last_send.saturating_duration_since(begin).as_secs_f64();
    let delivery_secs = last_receipt.saturating_duration_since(begin).as_secs_f64();
    Ok(ChatReport {
        agents: n,
        conversations: m,
        messages_per_conversation: args.messages_per_conv,
        requested_rate: args.rate,
        setup_secs,
        counts,
        send_secs,
        delivery_secs,
        sent_per_sec: rate(counts.sent, send_secs),
        delivered_per_sec: rate(counts.received, delivery_secs),
        customer_to_desk: desk_side.delivery.summary(),
        desk_to_customer: customer_side.delivery.summary(),
        send_to_receipt: both.summary(),
        customer_ack: customer_side.ack.summary(),
        agent_ack: desk_side.ack.summary(),
        drained,
        exactly_once: drained && customer_messages.exactly_once() && agent_messages.exactly_once(),
        unacked: counts
            .sent
            .saturating_sub(customer_messages.acked + agent_messages.acked),
        customer_messages,
        agent_messages,
        errors,
        server_cpu_us_per_message: cpu
            .server_secs
            .filter(|_| counts.received > 0)
            .map(|s| s * 1e6 / counts.received as f64),
        cpu,
        server_memory,
        console,
    })
}

fn rate(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        count as f64 / secs
    } else {
        0.0
    }
}
