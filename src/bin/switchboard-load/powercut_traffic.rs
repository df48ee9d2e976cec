//! Live traffic for the power-cut harness, in small bursts against one boot: the
//! REST connector posting customer messages (new and returning customers), widgets
//! on `/customer` requesting chats and writing, and an agent desk that is READY,
//! accepts each offered task and answers on it. Every acknowledgement goes into
//! the [`Ledger`]; failures after the cut are expected and ignored.

use crate::powercut_ledger::{AckedMessage, Ledger};
use crate::sio::{self, Client, Events, Inbound};
use crate::wire;
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// How long any one request may take before the harness gives up on it.
const T: Duration = Duration::from_secs(3);

/// The service identifier of the connector channel the harness creates (its
/// webhook points at a closed port, so agent replies wait in the outbox).
pub const CONNECTOR_SID: &str = "powercut-wa";
/// The connector token of that channel (the run's own throwaway site).
pub const CONNECTOR_TOKEN: &str = "powercut-connector-token";

/// What a chain of boots keeps between bursts.
pub struct Chain {
    pub id: u64,
    pub ledger: Ledger,
    /// Customers of the connector channel seen so far.
    pub customers: Vec<String>,
    pub agent_token: Option<String>,
    pub next: u64,
}

impl Chain {
    pub fn new(id: u64) -> Chain {
        Chain {
            id,
            ledger: Ledger::default(),
            customers: Vec::new(),
            agent_token: None,
            next: 0,
        }
    }

    fn fresh_name(&mut self, what: &str) -> String {
        self.next += 1;
        format!("pc{}-{what}-{}", self.id, self.next)
    }
}

/// One burst: `messages` connector messages, a widget chat and the desk, at once.
pub async fn burst(
    addr: SocketAddr,
    http: &reqwest::Client,
    chain: &mut Chain,
    rng: &mut StdRng,
    messages: usize,
) {
    let ledger = Arc::new(Mutex::new(std::mem::take(&mut chain.ledger)));
    let mut posts = Vec::new();
    for _ in 0..messages {
        let customer = if !chain.customers.is_empty() && rng.gen_bool(0.6) {
            chain.customers[rng.gen_range(0..chain.customers.len())].clone()
        } else {
            let c = chain.fresh_name("cust");
            chain.customers.push(c.clone());
            c
        };
        posts.push((chain.fresh_name("c"), customer));
    }
    let widget_customer = chain.fresh_name("widget");
    let widget_ids: Vec<String> = (0..rng.gen_range(1..4))
        .map(|_| chain.fresh_name("w"))
        .collect();
    let reply_seed: u64 = rng.gen();
    let desk = match &chain.agent_token {
        Some(token) => desk(addr, token).await,
        None => None,
    };
    let stop = tokio_util::sync::CancellationToken::new();
    let desk_task = desk.map(|(client, events)| {
        let ledger = ledger.clone();
        let stop = stop.clone();
        tokio::spawn(async move { answer_offers(client, events, ledger, stop, reply_seed).await })
    });
    let connector = async {
        // Two at a time: batches of the writer hold more than one message.
        let mut it = posts.into_iter();
        loop {
            let a = it.next();
            let b = it.next();
            if a.is_none() {
                break;
            }
            let post = |p: Option<(String, String)>| {
                let ledger = ledger.clone();
                async move {
                    if let Some((id, customer)) = p {
                        connector_message(addr, http, &id, &customer, &ledger).await;
                    }
                }
            };
            tokio::join!(post(a), post(b));
        }
    };
    let widget = widget_chat(addr, &widget_customer, &widget_ids, &ledger);
    tokio::join!(connector, widget);
    // Give the desk a moment to answer what it was offered.
    tokio::time::sleep(Duration::from_millis(30)).await;
    stop.cancel();
    if let Some(task) = desk_task {
        let _ = task.await;
    }
    chain.ledger = Arc::try_unwrap(ledger)
        .map(Mutex::into_inner)
        .unwrap_or_default();
}

async fn connector_message(
    addr: SocketAddr,
    http: &reqwest::Client,
    id: &str,
    customer: &str,
    ledger: &Mutex<Ledger>,
) {
    let body = json!({
        "id": id,
        "header": {
            "sender": {"id": customer, "type": "CUSTOMER", "senderName": "Pat", "additionalDetail": null},
            "channelData": {
                "serviceIdentifier": CONNECTOR_SID,
                "channelCustomerIdentifier": customer,
                "additionalAttributes": []
            },
            "timestamp": wire::epoch_ms()
        },
        "body": {"type": "PLAIN", "markdownText": format!("powercut {id}")}
    });
    let Ok(resp) = http
        .post(format!("http://{addr}/ccm/message/receive"))
        .bearer_auth(CONNECTOR_TOKEN)
        .json(&body)
        .send()
        .await
    else {
        return;
    };
    if resp.status().as_u16() != 202 {
        return;
    }
    let Ok(ack) = resp.json::<Value>().await else {
        return;
    };
    if ack["status"] != "accepted" {
        return;
    }
    if let (Some(conv), Some(seq)) = (ack["conversationId"].as_str(), ack["seq"].as_i64()) {
        let mut l = ledger.lock();
        l.conversations.insert(conv.to_string());
        l.messages.push(AckedMessage {
            id: id.to_string(),
            conversation_id: conv.to_string(),
            seq: Some(seq),
            outbound: false,
        });
    }
}

async fn widget_chat(addr: SocketAddr, customer: &str, ids: &[String], ledger: &Mutex<Ledger>) {
    let auth = json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": customer});
    let Ok(connected) = sio::connect(addr, "/customer", &auth, Events::Discard, T).await else {
        return;
    };
    let client = connected.client;
    let started = client.emit_ack("CHAT_REQUESTED", &json!({}), T).await;
    let Some(conv) = started
        .ok()
        .and_then(|a| sio::ack_first::<Value>(&a).ok())
        .and_then(|a| a["conversationId"].as_str().map(str::to_owned))
    else {
        client.close();
        return;
    };
    ledger.lock().conversations.insert(conv.clone());
    for id in ids {
        let payload = wire::customer_message(id, &format!("powercut {id}"));
        let Ok(ack) = client.emit_ack("MESSAGE_RECEIVED", &payload, T).await else {
            break;
        };
        let Ok(ack) = sio::ack_first::<Value>(&ack) else {
            break;
        };
        if ack["status"] != "ok" {
            break;
        }
        if let Some(seq) = ack["seq"].as_i64() {
            ledger.lock().messages.push(AckedMessage {
                id: id.clone(),
                conversation_id: conv.clone(),
                seq: Some(seq),
                outbound: false,
            });
        }
    }
    client.close();
}

/// Connects the desk and makes it READY; `None` if the appliance refused (e.g. cut).
async fn desk(addr: SocketAddr, token: &str) -> Option<(Client, UnboundedReceiver<Inbound>)> {
    let connected = sio::connect(addr, "/", &json!({"token": token}), Events::Forward, T)
        .await
        .ok()?;
    let mut events = connected.events?;
    let client = connected.client;
    let agent_id = loop {
        let e = tokio::time::timeout(T, events.recv()).await.ok()??;
        if e.name() == "agentPresence" {
            let p: Value = e.first_arg().ok()?;
            break p["agent"]["id"].as_str()?.to_string();
        }
    };
    client
        .emit_ack("changeAgentState", &wire::ready(&agent_id), T)
        .await
        .ok()?;
    Some((client, events))
}

/// Accepts every task offered and answers it once, until `stop`.
async fn answer_offers(
    client: Client,
    mut events: UnboundedReceiver<Inbound>,
    ledger: Arc<Mutex<Ledger>>,
    stop: tokio_util::sync::CancellationToken,
    seed: u64,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => break,
            e = events.recv() => match e { Some(e) => e, None => break },
        };
        if event.name() != "taskRequest" {
            continue;
        }
        let Ok(offer) = event.first_arg::<Value>() else {
            continue;
        };
        let Some(conv) = offer["conversationId"].as_str().map(str::to_owned) else {
            continue;
        };
        let agent_id = offer["agentId"]
            .as_str()
            .or(offer["task"]["agentId"].as_str())
            .unwrap_or_default()
            .to_string();
        ledger.lock().tasks.insert(conv.clone());
        let sid = offer["channelSession"]["channelData"]["serviceIdentifier"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if client
            .emit_ack("topicSubscription", &wire::accept(&conv, &agent_id), T)
            .await
            .is_err()
        {
            continue;
        }
        let event_id = format!("pc-a-{:016x}", rng.gen::<u64>());
        let message_id = format!("pc-am-{:016x}", rng.gen::<u64>());
        let reply = wire::agent_message(
            &conv,
            &agent_id,
            &event_id,
            &message_id,
            "powercut reply",
            wire::epoch_ms(),
        );
        let Ok(ack) = client.emit_ack("publishCimEvent", &reply, T).await else {
            continue;
        };
        let ok = sio::ack_first::<Value>(&ack).is_ok_and(|a| a["status"] == "ok");
        if ok {
            ledger.lock().messages.push(AckedMessage {
                id: event_id,
                conversation_id: conv,
                seq: None,
                outbound: sid == CONNECTOR_SID,
            });
        }
    }
    client.close();
}
