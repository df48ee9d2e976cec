//! Connecting the two kinds of clients the tool plays: agent desks on `/` (log in,
//! greeting, READY) and customer widgets on `/customer` (a chat request), many at a time.

use crate::api::AgentLogin;
use crate::sio::{self, Client, Connected, Events, Inbound};
use crate::wire::{self, AckStatus};
use anyhow::{anyhow, bail, Context};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// A connected agent desk.
pub struct Desk {
    pub index: usize,
    pub agent_id: String,
    /// `maxAgentTasks` on the CHAT MRD as the greeting announced it.
    pub chat_capacity: u64,
    pub client: Client,
    pub events: UnboundedReceiver<Inbound>,
}

#[derive(Deserialize)]
struct Presence {
    agent: PresenceAgent,
    #[serde(rename = "agentMrdStates", default)]
    mrd_states: Vec<MrdState>,
}

#[derive(Deserialize)]
struct PresenceAgent {
    id: String,
}

#[derive(Deserialize)]
struct MrdState {
    mrd: MrdName,
    #[serde(rename = "maxAgentTasks", default)]
    max_agent_tasks: u64,
}

#[derive(Deserialize)]
struct MrdName {
    #[serde(default)]
    name: String,
}

/// Connects one desk, waits for its `agentPresence`, and makes it READY when asked.
pub async fn connect_desk(
    addr: SocketAddr,
    index: usize,
    login: &AgentLogin,
    ready: bool,
    timeout: Duration,
) -> anyhow::Result<Desk> {
    let Connected { client, events } = sio::connect(
        addr,
        "/",
        &json!({"token": login.token}),
        Events::Forward,
        timeout,
    )
    .await
    .with_context(|| format!("desk of {}", login.username))?;
    let mut events = events.ok_or_else(|| anyhow!("no event stream"))?;
    let deadline = tokio::time::Instant::now() + timeout;
    let presence: Presence = loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await
            .map_err(|_| anyhow!("{}: no agentPresence", login.username))?
            .ok_or_else(|| anyhow!("{}: closed before agentPresence", login.username))?;
        if event.name() == "agentPresence" {
            break event.first_arg()?;
        }
    };
    let chat_capacity = presence
        .mrd_states
        .iter()
        .find(|m| m.mrd.name == "CHAT")
        .map_or(0, |m| m.max_agent_tasks);
    let agent_id = presence.agent.id;
    if ready {
        let ack = client
            .emit_ack("changeAgentState", &wire::ready(&agent_id), timeout)
            .await?;
        let state: Value = sio::ack_first(&ack)?;
        if state["state"]["name"] != "READY" {
            bail!("{} did not become READY: {state}", login.username);
        }
    }
    Ok(Desk {
        index,
        agent_id,
        chat_capacity,
        client,
        events,
    })
}

/// Connects a desk for every login, `concurrency` handshakes at a time, in login order.
pub async fn connect_desks(
    addr: SocketAddr,
    logins: &[AgentLogin],
    ready: bool,
    concurrency: usize,
    timeout: Duration,
) -> anyhow::Result<Vec<Desk>> {
    let started = Instant::now();
    let desks: Vec<anyhow::Result<Desk>> = futures_util::stream::iter(logins.iter().enumerate())
        .map(|(i, login)| connect_desk(addr, i, login, ready, timeout))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    let desks = desks.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    eprintln!(
        "connected {} desks{} in {:.1}s",
        desks.len(),
        if ready { " (READY)" } else { "" },
        started.elapsed().as_secs_f64()
    );
    Ok(desks)
}

/// Connects a widget on `/customer` as customer `customer` of `service_identifier`.
pub async fn connect_widget(
    addr: SocketAddr,
    service_identifier: &str,
    customer: &str,
    events: Events,
    timeout: Duration,
) -> anyhow::Result<Connected> {
    sio::connect(
        addr,
        "/customer",
        &json!({"serviceIdentifier": service_identifier, "channelCustomerIdentifier": customer}),
        events,
        timeout,
    )
    .await
    .with_context(|| format!("widget of {customer}"))
}

/// `CHAT_REQUESTED` with an ack; returns the conversation id.
pub async fn request_chat(client: &Client, timeout: Duration) -> anyhow::Result<String> {
    let ack = client
        .emit_ack(
            "CHAT_REQUESTED",
            &json!({"additionalAttributes": {"locale": {"language": "en"}}}),
            timeout,
        )
        .await?;
    let status: AckStatus = sio::ack_first(&ack)?;
    if let Some(err) = status.error() {
        bail!("CHAT_REQUESTED refused: {err}");
    }
    status
        .conversation_id
        .ok_or_else(|| anyhow!("CHAT_REQUESTED ack without conversationId: {ack}"))
}

/// A customer identifier unique to this run.
pub fn customer_id(run: &str, index: usize) -> String {
    format!("load-{run}-{index}")
}

/// The index back from [`customer_id`].
pub fn customer_index(run: &str, customer: &str) -> Option<usize> {
    customer
        .strip_prefix("load-")?
        .strip_prefix(run)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_carry_their_index() {
        let id = customer_id("r1", 42);
        assert_eq!(customer_index("r1", &id), Some(42));
        assert_eq!(customer_index("r2", &id), None);
        assert_eq!(customer_index("r1", "someone-else"), None);
    }
}
