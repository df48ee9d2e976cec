//! Delivery order to agent desks, through the public socket only, while a customer
//! keeps writing: accepting a task and reconnecting a desk must give each event of the
//! conversation once and in `seq` order — `onTopicData` first, then `onCimEvent` — and
//! `topicSubscription {lastSeq}` must answer exactly the events after `lastSeq`.

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use support::sio_client::{token_auth, ReceivedEvent, SioClient};

const T: Duration = Duration::from_secs(10);

async fn desk(server: &TestServer, token: &str) -> SioClient {
    SioClient::connect(server.addr, "/", token_auth(token))
        .await
        .expect("desk connects")
}

async fn ready(desk: &SioClient) {
    let ack = desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": "READY"}}),
        )
        .await
        .expect("ack");
    assert_eq!(ack[0]["state"]["name"], "READY", "{ack:?}");
}

async fn widget(server: &TestServer, customer: &str) -> SioClient {
    SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": customer}),
    )
    .await
    .expect("widget connects")
}

/// Starts a chat and returns its conversation id.
async fn chat_requested(customer: &SioClient) -> String {
    let started = customer
        .emit_ack("CHAT_REQUESTED", json!({}))
        .await
        .expect("ack");
    started[0]["conversationId"]
        .as_str()
        .expect("conversationId")
        .to_string()
}

/// A customer that writes as fast as its acks come back until stopped; `last` is
/// the seq of its last acknowledged message.
struct Writer {
    stop: Arc<AtomicBool>,
    last: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Writer {
    fn start(customer: Arc<SioClient>) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let last = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn({
            let (stop, last) = (stop.clone(), last.clone());
            async move {
                // Message ids are idempotency keys (across customers, see the report).
                let prefix = uuid::Uuid::new_v4();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let message = json!({"id": format!("{prefix}-{n}"), "body": {"type": "PLAIN", "markdownText": format!("message {n}")}});
                    let ack = customer
                        .emit_ack("MESSAGE_RECEIVED", message)
                        .await
                        .expect("message ack");
                    assert_eq!(ack[0]["status"], "ok", "{ack:?}");
                    last.store(ack[0]["seq"].as_u64().expect("seq"), Ordering::SeqCst);
                }
            }
        });
        Writer { stop, last, task }
    }

    /// Stops writing; returns the seq of the last message.
    async fn stop(self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.expect("writer");
        self.last.load(Ordering::SeqCst)
    }
}

/// Every event the desk receives until it has been quiet for a while.
async fn drain(desk: &SioClient) -> Vec<ReceivedEvent> {
    let mut events = Vec::new();
    while let Ok(event) = desk.next_event(Duration::from_millis(400)).await {
        events.push(event);
    }
    events
}

/// Checks the desk's view of one conversation in arrival order: an onTopicData comes
/// first; each onTopicData's events are contiguous and leave no gap after what was
/// delivered before; each onCimEvent is exactly the next seq (no gap, no repeat).
/// Returns the highest seq delivered.
fn assert_delivered_once_in_order(events: &[ReceivedEvent], conversation_id: &str) -> u64 {
    let mut high: Option<u64> = None;
    let mut trace = Vec::new();
    for event in events {
        let data = event.data();
        if data["conversationId"] != conversation_id {
            continue;
        }
        match event.name.as_str() {
            "onTopicData" => {
                let seqs: Vec<u64> = data["topicData"]["events"]
                    .as_array()
                    .expect("events")
                    .iter()
                    .map(|e| e["seq"].as_u64().expect("seq"))
                    .collect();
                trace.push(format!("onTopicData{seqs:?}"));
                if let Some(first) = seqs.first() {
                    assert!(
                        *first <= high.unwrap_or(0) + 1,
                        "a gap before onTopicData: {trace:?}"
                    );
                    assert!(
                        seqs.windows(2).all(|w| w[1] == w[0] + 1),
                        "onTopicData not contiguous: {trace:?}"
                    );
                    high = Some(high.unwrap_or(0).max(*seqs.last().expect("last")));
                } else {
                    high = Some(high.unwrap_or(0));
                }
            }
            "onCimEvent" => {
                let seq = data["seq"].as_u64().expect("seq");
                trace.push(format!("onCimEvent {seq}"));
                let Some(h) = high else {
                    panic!("an onCimEvent before the conversation's onTopicData: {trace:?}");
                };
                assert_eq!(seq, h + 1, "onCimEvent out of order or repeated: {trace:?}");
                high = Some(seq);
            }
            _ => {}
        }
    }
    high.expect("the conversation's onTopicData")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_while_the_customer_writes_gives_the_topic_first_and_each_event_once() {
    let server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let agent = desk(&server, &token).await;
    ready(&agent).await;
    for round in 0..5 {
        let customer = Arc::new(widget(&server, &format!("accept-{round}")).await);
        let conversation_id = chat_requested(&customer).await;
        let offer = agent.expect("taskRequest", T).await.expect("offer");
        assert_eq!(offer["conversationId"], conversation_id);

        let writer = Writer::start(customer.clone());
        tokio::time::sleep(Duration::from_millis(20)).await;
        let topic = agent
            .emit_ack(
                "topicSubscription",
                json!({"conversationId": conversation_id}),
            )
            .await
            .expect("ack");
        assert_eq!(topic[0]["conversationId"], conversation_id, "{topic:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let last = writer.stop().await;

        let high = assert_delivered_once_in_order(&drain(&agent).await, &conversation_id);
        assert!(
            high >= last,
            "every message reached the desk ({high} < {last})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_reconnecting_while_the_customer_writes_loses_and_repeats_nothing() {
    let server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let mut current = desk(&server, &token).await;
    ready(&current).await;
    let customer = Arc::new(widget(&server, "reconnect").await);
    let conversation_id = chat_requested(&customer).await;
    current.expect("taskRequest", T).await.expect("offer");
    let topic = current
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .expect("ack");
    let mut last_seen = topic[0]["lastSeq"].as_u64().expect("lastSeq");

    for _ in 0..4 {
        // The desk drops while the customer writes, and comes back at once.
        let writer = Writer::start(customer.clone());
        tokio::time::sleep(Duration::from_millis(30)).await;
        current.close().await;
        current = desk(&server, &token).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        let resubscribed = current
            .emit_ack(
                "topicSubscription",
                json!({"conversationId": conversation_id, "lastSeq": last_seen}),
            )
            .await
            .expect("ack");
        let replay: Vec<u64> = resubscribed[0]["topicData"]["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["seq"].as_u64().expect("seq"))
            .collect();
        let replay_last = resubscribed[0]["lastSeq"].as_u64().expect("lastSeq");
        let expected: Vec<u64> = (last_seen + 1..=replay_last).collect();
        assert_eq!(
            replay, expected,
            "exactly the events after lastSeq {last_seen}"
        );
        let last = writer.stop().await;

        // The greeting's topic, the answer and the live events: nothing lost or repeated
        // beyond what the desk asked for again.
        let high = assert_delivered_once_in_order(&drain(&current).await, &conversation_id);
        assert!(
            high >= last,
            "every message reached the desk ({high} < {last})"
        );
        last_seen = high;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_tab_takes_over_and_gets_the_next_offer() {
    let server = TestServer::start().await;
    let token = server.login("agent2", "agent2").await;
    let old = desk(&server, &token).await;
    let new = desk(&server, &token).await;
    let removed = old
        .expect("socketSessionRemoved", T)
        .await
        .expect("removed");
    let presence = new.expect("agentPresence", T).await.expect("presence");
    assert_eq!(removed["agentId"], presence["agent"]["id"]);
    old.expect_disconnect(T)
        .await
        .expect("old tab disconnected");
    ready(&new).await;
    let customer = widget(&server, "after-takeover").await;
    let conversation_id = chat_requested(&customer).await;
    let offer = new
        .expect("taskRequest", T)
        .await
        .expect("offer on the new tab");
    assert_eq!(offer["conversationId"], conversation_id);
}
