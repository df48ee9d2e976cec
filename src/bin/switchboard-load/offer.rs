//! `offer`: many READY desks; widgets request chats at a fixed rate; measures how long
//! each task takes from its enqueue to the `taskRequest` at a desk.
//!
//! Two clocks are reported. `enqueue_to_offer` starts at the task's
//! `activeMedia[0].enqueueTime` (the routing engine's clock when it enqueued the task, whole
//! epoch milliseconds, so a sample overstates by up to 1 ms) and ends at the desk's receipt
//! on the wall clock of the same machine. `request_to_offer` starts when the widget emitted
//! `CHAT_REQUESTED` (monotonic clock, microsecond precision) and so also covers creating
//! the conversation, the studio flow and their commits.

use crate::api::Target;
use crate::clients::{self, Desk};
use crate::latency::{Samples, Summary};
use crate::procfs::{CpuMeter, CpuUse};
use crate::progress::{Counts, Errors, Progress};
use crate::setup::Setup;
use crate::sio::{Client, Events, InboundKind};
use crate::wire::{self, AckStatus, TaskRequest};
use anyhow::bail;
use futures_util::StreamExt;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

#[derive(clap::Args, Debug, Clone)]
pub struct OfferArgs {
    /// Connected READY desks.
    #[arg(long, default_value_t = 1000)]
    pub agents: usize,
    /// Tasks to enqueue, one chat request each (at most agents × the CHAT MRD's maxTasks).
    #[arg(long, default_value_t = 1000)]
    pub tasks: usize,
    /// Chat requests per second.
    #[arg(long, default_value_t = 100.0)]
    pub rate: f64,
    /// Whether desks accept their offers (`topicSubscription`), as a real desk would.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub accept: bool,
    /// Seconds to wait after the last request for outstanding offers.
    #[arg(long, default_value_t = 10)]
    pub drain_secs: u64,
    #[command(flatten)]
    pub setup: Setup,
}

#[derive(Debug, Serialize)]
pub struct OfferReport {
    pub agents: usize,
    pub tasks: usize,
    pub requested_rate: f64,
    pub setup_secs: f64,
    pub counts: Counts,
    /// Task `enqueueTime` -> `taskRequest` at the desk (wall clock, up to 1 ms high).
    pub enqueue_to_offer: Summary,
    /// Widget `CHAT_REQUESTED` emit -> `taskRequest` at the desk.
    pub request_to_offer: Summary,
    /// Widget `CHAT_REQUESTED` emit -> its ack.
    pub request_ack: Summary,
    /// Offers of a task that was already offered.
    pub repeated_offers: u64,
    pub errors: Errors,
    /// CPU time from the first request to the last offer.
    pub cpu: CpuUse,
}

impl OfferReport {
    pub fn clean(&self) -> bool {
        self.counts.received == self.tasks as u64
            && self.repeated_offers == 0
            && self.errors.count == 0
    }

    pub fn print(&self) {
        println!(
            "offer: {} READY desks, {} tasks at {:.0}/s (setup {:.1}s)",
            self.agents, self.tasks, self.requested_rate, self.setup_secs
        );
        println!(
            "  requested {} acked {} offered {} repeated {} errors {}",
            self.counts.sent,
            self.counts.acked,
            self.counts.received,
            self.repeated_offers,
            self.errors.count
        );
        println!("  enqueue->offer   {}", self.enqueue_to_offer);
        println!("  request->offer   {}", self.request_to_offer);
        println!("  request ack      {}", self.request_ack);
        println!("  cpu {}", self.cpu);
        for e in &self.errors.samples {
            println!("  error: {e}");
        }
    }
}

#[derive(Default)]
struct DeskStats {
    enqueue_to_offer: Samples,
    request_to_offer: Samples,
    repeated: u64,
    errors: Errors,
}

/// Per widget: nanoseconds since the origin when CHAT_REQUESTED went out (0 = not yet),
/// and whether it has been offered.
struct Requests {
    run_id: String,
    emitted: Vec<AtomicU64>,
    offered: Vec<AtomicU64>,
}

pub async fn run(target: &Target, args: &OfferArgs) -> anyhow::Result<OfferReport> {
    let started = Instant::now();
    let (n, t) = (args.agents, args.tasks);
    if n == 0 || t == 0 || args.rate <= 0.0 {
        bail!("agents, tasks and rate must be positive");
    }
    let admin = args.setup.admin_token(target).await?;
    let per_agent = target.mrd_max_tasks(&admin, "CHAT").await?.unwrap_or(5) as usize;
    if t > n * per_agent {
        bail!("{t} tasks do not fit {n} agents with {per_agent} chats each: later tasks would wait in the queue");
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
    let run_id = args.setup.run_id();
    let requests = Arc::new(Requests {
        run_id: run_id.clone(),
        emitted: (0..t).map(|_| AtomicU64::new(0)).collect(),
        offered: (0..t).map(|_| AtomicU64::new(0)).collect(),
    });
    let progress = Arc::new(Progress::default());
    let mut desk_clients = Vec::with_capacity(n);
    let mut desk_tasks: Vec<JoinHandle<DeskStats>> = Vec::with_capacity(n);
    for desk in desks {
        desk_clients.push(desk.client.clone());
        desk_tasks.push(tokio::spawn(desk_task(
            desk,
            args.accept,
            requests.clone(),
            progress.clone(),
        )));
    }

    let timeout = args.setup.timeout();
    let service = args.setup.service_identifier.as_str();
    let widgets: Vec<anyhow::Result<Client>> = futures_util::stream::iter(0..t)
        .map(|i| {
            let customer = clients::customer_id(&run_id, i);
            async move {
                let connected = clients::connect_widget(
                    target.addr,
                    service,
                    &customer,
                    Events::Discard,
                    timeout,
                )
                .await?;
                Ok(connected.client)
            }
        })
        .buffered(args.setup.connect_concurrency.max(1))
        .collect()
        .await;
    let widgets = widgets.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let setup_secs = started.elapsed().as_secs_f64();
    eprintln!("{t} widgets connected; setup took {setup_secs:.1}s");

    let meter = CpuMeter::start(args.setup.server_pid)?;
    let begin = Instant::now() + Duration::from_millis(100);
    let spacing = Duration::from_secs_f64(1.0 / args.rate);
    let mut ack_tasks: Vec<JoinHandle<Result<Duration, String>>> = Vec::with_capacity(t);
    for (i, widget) in widgets.iter().enumerate() {
        tokio::time::sleep_until((begin + spacing.mul_f64(i as f64)).into()).await;
        let widget = widget.clone();
        let requests = requests.clone();
        let progress = progress.clone();
        ack_tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            requests.emitted[i].store(
                sent.saturating_duration_since(wire::origin()).as_nanos() as u64,
                Ordering::Release,
            );
            progress.sent(sent);
            let result = clients::request_chat(&widget, timeout).await;
            let elapsed = sent.elapsed();
            match result {
                Ok(_) => {
                    progress.acked();
                    Ok(elapsed)
                }
                Err(e) => Err(format!("CHAT_REQUESTED {i}: {e:#}")),
            }
        }));
    }
    let drain_end = Instant::now() + Duration::from_secs(args.drain_secs);
    while progress.snapshot().received < t as u64 && Instant::now() < drain_end {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let counts = progress.snapshot();
    let cpu = meter.stop()?;

    let mut errors = Errors::default();
    let mut request_ack = Samples::default();
    for task in ack_tasks {
        match task.await? {
            Ok(latency) => request_ack.record(latency),
            Err(e) => errors.note(&progress, e),
        }
    }
    for client in widgets.iter().chain(desk_clients.iter()) {
        client.close();
    }
    let mut stats = DeskStats::default();
    for task in desk_tasks {
        let s = task.await?;
        stats.enqueue_to_offer.merge(s.enqueue_to_offer);
        stats.request_to_offer.merge(s.request_to_offer);
        stats.repeated += s.repeated;
        stats.errors.merge(s.errors);
    }
    errors.merge(stats.errors);
    Ok(OfferReport {
        agents: n,
        tasks: t,
        requested_rate: args.rate,
        setup_secs,
        counts,
        enqueue_to_offer: stats.enqueue_to_offer.summary(),
        request_to_offer: stats.request_to_offer.summary(),
        request_ack: request_ack.summary(),
        repeated_offers: stats.repeated,
        errors,
        cpu,
    })
}

async fn desk_task(
    desk: Desk,
    accept: bool,
    requests: Arc<Requests>,
    progress: Arc<Progress>,
) -> DeskStats {
    let Desk {
        index,
        agent_id,
        client,
        mut events,
        ..
    } = desk;
    let mut stats = DeskStats::default();
    while let Some(event) = events.recv().await {
        match &event.kind {
            InboundKind::Event { name } if name == "taskRequest" => {
                // The receipt on the wall clock: now, less the time since the frame arrived.
                let wall_micros = wire::epoch_micros() - event.at.elapsed().as_micros() as i64;
                let offer = match event.first_arg::<TaskRequest>() {
                    Ok(offer) => offer,
                    Err(e) => {
                        stats.errors.note(&progress, format!("taskRequest: {e}"));
                        continue;
                    }
                };
                let Some(i) = offer
                    .customer()
                    .and_then(|c| clients::customer_index(&requests.run_id, c))
                    .filter(|&i| i < requests.emitted.len())
                else {
                    stats.errors.note(
                        &progress,
                        format!(
                            "desk {index}: offer of an unknown customer {:?}",
                            offer.customer()
                        ),
                    );
                    continue;
                };
                if requests.offered[i].fetch_add(1, Ordering::AcqRel) > 0 {
                    stats.repeated += 1;
                } else {
                    progress.received(event.at);
                    if let Some(enqueued) = offer.enqueue_time() {
                        stats
                            .enqueue_to_offer
                            .record_micros(wall_micros - enqueued * 1000);
                    }
                    let emitted = requests.emitted[i].load(Ordering::Acquire);
                    if emitted > 0 {
                        let sent = wire::origin() + Duration::from_nanos(emitted);
                        stats
                            .request_to_offer
                            .record(event.at.saturating_duration_since(sent));
                    }
                }
                if accept {
                    let payload = wire::accept(&offer.conversation_id, &agent_id);
                    if let Err(e) = client.emit_tagged("topicSubscription", &payload, i as u64) {
                        stats.errors.note(&progress, format!("accept: {e}"));
                    }
                }
            }
            InboundKind::Event { name }
                if matches!(
                    name.as_str(),
                    "errors" | "revokeTask" | "socketSessionRemoved"
                ) =>
            {
                stats
                    .errors
                    .note(&progress, format!("desk {index}: {name} {}", event.json));
            }
            InboundKind::Event { .. } => {}
            InboundKind::TaggedAck { .. } => {
                match event.first_arg::<AckStatus>().map(|s| s.error()) {
                    Ok(None) => {}
                    Ok(Some(e)) => stats.errors.note(&progress, format!("accept: {e}")),
                    Err(e) => stats.errors.note(&progress, format!("accept ack: {e}")),
                }
            }
        }
    }
    stats
}
