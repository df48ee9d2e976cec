//! The client tasks of `chat`: the widgets opened, each desk accepting its offers and
//! answering, each conversation sending on its schedule, and what each side saw.

use super::ChatArgs;
use crate::api::Target;
use crate::chat_end;
use crate::clients::{self, Desk};
use crate::latency::Samples;
use crate::ledger::Ledger;
use crate::progress::{Errors, Progress};
use crate::sio::{Client, Events, Inbound, InboundKind};
use crate::wire::{self, AckStatus, MessageEvent, NamedEvent, Probe, TaskRequest};
use anyhow::anyhow;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

/// What one client task saw.
#[derive(Default)]
pub(super) struct SideStats {
    pub(super) delivery: Samples,
    pub(super) ack: Samples,
    pub(super) ledger: Ledger,
    pub(super) errors: Errors,
}

/// An accepted offer: conversation id -> desk index.
pub(super) type Accepted = (String, usize);

/// Tags of `topicSubscription` acks have the top bit set; message tags never do.
pub(super) const ACCEPT_TAG: u64 = 1 << 63;

impl SideStats {
    pub(super) fn merge(&mut self, other: SideStats) {
        self.delivery.merge(other.delivery);
        self.ack.merge(other.ack);
        self.ledger.merge(other.ledger);
        self.errors.merge(other.errors);
    }
}

pub(super) struct OpenWidget {
    pub(super) client: Client,
    pub(super) events: UnboundedReceiver<Inbound>,
    pub(super) conversation_id: String,
}

/// Connects M widgets and requests a chat on each, a few at a time, in index order.
pub(super) async fn open_chats(
    target: &Target,
    args: &ChatArgs,
    run_id: &str,
) -> anyhow::Result<Vec<OpenWidget>> {
    let started = Instant::now();
    let timeout = args.setup.timeout();
    let service = args.setup.service_identifier.as_str();
    let opened: Vec<anyhow::Result<OpenWidget>> = futures_util::stream::iter(0..args.conversations)
        .map(|i| async move {
            let customer = clients::customer_id(run_id, i);
            let connected =
                clients::connect_widget(target.addr, service, &customer, Events::Forward, timeout)
                    .await?;
            let conversation_id = clients::request_chat(&connected.client, timeout).await?;
            Ok(OpenWidget {
                client: connected.client,
                events: connected.events.ok_or_else(|| anyhow!("no event stream"))?,
                conversation_id,
            })
        })
        .buffered(args.setup.connect_concurrency.max(1))
        .collect()
        .await;
    let opened = opened.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    eprintln!(
        "opened {} chats in {:.1}s",
        opened.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(opened)
}

/// A desk: accepts every offer, records customer messages, collects acks of its sends.
pub(super) async fn desk_task(
    desk: Desk,
    accepted: UnboundedSender<Accepted>,
    progress: Arc<Progress>,
) -> SideStats {
    let Desk {
        index,
        agent_id,
        client,
        mut events,
        ..
    } = desk;
    let mut stats = SideStats::default();
    let mut accepting: HashMap<u64, String> = HashMap::new();
    let mut next_accept = 0u64;
    while let Some(event) = events.recv().await {
        match &event.kind {
            InboundKind::Event { name } => match name.as_str() {
                "taskRequest" => match event.first_arg::<TaskRequest>() {
                    Ok(offer) => {
                        let tag = ACCEPT_TAG | next_accept;
                        next_accept += 1;
                        let payload = wire::accept(&offer.conversation_id, &agent_id);
                        match client.emit_tagged("topicSubscription", &payload, tag) {
                            Ok(_) => {
                                accepting.insert(tag, offer.conversation_id);
                            }
                            Err(e) => stats.errors.note(&progress, format!("accept: {e}")),
                        }
                    }
                    Err(e) => stats.errors.note(&progress, format!("taskRequest: {e}")),
                },
                "onCimEvent" => on_message(&event, "CUSTOMER_MESSAGE", &mut stats, &progress),
                "errors" | "revokeTask" | "socketSessionRemoved" => stats
                    .errors
                    .note(&progress, format!("desk {index}: {name} {}", event.json)),
                _ => {}
            },
            InboundKind::TaggedAck { tag, sent } => {
                let status = event.first_arg::<AckStatus>();
                if tag & ACCEPT_TAG != 0 {
                    let Some(conversation) = accepting.remove(tag) else {
                        continue;
                    };
                    match status.map(|s| s.error()) {
                        Ok(None) => {
                            let _ = accepted.send((conversation, index));
                        }
                        Ok(Some(e)) => stats.errors.note(&progress, format!("accept: {e}")),
                        Err(e) => stats.errors.note(&progress, format!("accept ack: {e}")),
                    }
                } else {
                    on_ack(*tag, *sent, event.at, status, &mut stats, &progress);
                }
            }
        }
    }
    stats
}

/// Records a probe-carrying message named `wanted` (other events are skipped).
fn on_message(event: &Inbound, wanted: &str, stats: &mut SideStats, progress: &Progress) {
    let named = match event.first_arg::<NamedEvent>() {
        Ok(n) => n,
        Err(e) => return stats.errors.note(progress, e.to_string()),
    };
    if named.name != wanted {
        return;
    }
    match event.first_arg::<MessageEvent>().map(|m| m.probe()) {
        Ok(Some(probe)) => {
            stats.delivery.record(probe.latency(event.at));
            stats.ledger.received.push(probe.key());
            progress.received(event.at);
        }
        Ok(None) => {}
        Err(e) => stats.errors.note(progress, e.to_string()),
    }
}

fn on_ack(
    tag: u64,
    sent: Instant,
    at: Instant,
    status: Result<AckStatus, crate::sio::SioError>,
    stats: &mut SideStats,
    progress: &Progress,
) {
    let key = ((tag >> 32) as u32, tag as u32);
    match status {
        Ok(s) => match s.error() {
            None if s.duplicate == Some(true) => stats
                .errors
                .note(progress, format!("message {key:?} acked as a duplicate")),
            None => {
                stats.ack.record(at.saturating_duration_since(sent));
                stats.ledger.acked.push(key);
                progress.acked();
            }
            Some(e) => stats.errors.note(progress, format!("send {key:?}: {e}")),
        },
        Err(e) => stats.errors.note(progress, format!("ack {key:?}: {e}")),
    }
}

/// One conversation's sending schedule.
pub(super) struct Plan {
    pub(super) conversation: u32,
    pub(super) conversation_id: String,
    pub(super) run_id: Arc<str>,
    pub(super) agent_id: Arc<str>,
    pub(super) first: Instant,
    pub(super) period: Duration,
    pub(super) count: u32,
}

/// A conversation: sends on schedule from both sides; as the widget, records agent
/// messages and the acks of its own sends.
pub(super) async fn conversation_task(
    plan: Plan,
    widget: Client,
    mut events: UnboundedReceiver<Inbound>,
    desk: Client,
    progress: Arc<Progress>,
) -> SideStats {
    let mut stats = SideStats::default();
    let mut next = 0u32;
    loop {
        let due = (next < plan.count).then(|| plan.first + plan.period * next);
        let wait = async {
            match due {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = wait => {
                match send(&plan, next, &widget, &desk) {
                    Ok(at) => progress.sent(at),
                    Err(e) => stats.errors.note(&progress, format!("send: {e}")),
                }
                next += 1;
            }
            event = events.recv() => {
                let Some(event) = event else { break };
                match &event.kind {
                    InboundKind::Event { name } => match name.as_str() {
                        "MESSAGE_RECEIVED" => on_message(&event, "AGENT_MESSAGE", &mut stats, &progress),
                        // The run's own end (`chat_end`): the customer left after the last send.
                        "CHANNEL_SESSION_ENDED" if next >= plan.count && chat_end::left_by_customer(&event.json) => {}
                        "ERRORS" | "CHANNEL_SESSION_ENDED" | "CHANNEL_SESSION_EXPIRED" => stats
                            .errors
                            .note(&progress, format!("widget {}: {name} {}", plan.conversation, event.json)),
                        _ => {}
                    },
                    InboundKind::TaggedAck { tag, sent } => {
                        let status = event.first_arg::<AckStatus>();
                        on_ack(*tag, *sent, event.at, status, &mut stats, &progress);
                    }
                }
            }
        }
    }
    stats
}

/// Message `index`: even from the customer, odd from the agent.
fn send(
    plan: &Plan,
    index: u32,
    widget: &Client,
    desk: &Client,
) -> Result<Instant, crate::sio::SioError> {
    let at = Instant::now();
    let probe = Probe::new(plan.conversation, index, at);
    let text = probe.text();
    if index.is_multiple_of(2) {
        let id = wire::message_id(&plan.run_id, 'c', &probe);
        widget.emit_tagged(
            "MESSAGE_RECEIVED",
            &wire::customer_message(&id, &text),
            probe.tag(),
        )?;
    } else {
        let event_id = wire::message_id(&plan.run_id, 'e', &probe);
        let message_id = wire::message_id(&plan.run_id, 'a', &probe);
        let payload = wire::agent_message(
            &plan.conversation_id,
            &plan.agent_id,
            &event_id,
            &message_id,
            &text,
            wire::epoch_ms(),
        );
        desk.emit_tagged("publishCimEvent", &payload, probe.tag())?;
    }
    Ok(at)
}
