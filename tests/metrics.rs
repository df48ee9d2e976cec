//! `GET /metrics` on a real server: every series is there from the first scrape, the
//! figures move after a chat (parsed with a Prometheus text-format parser), and only
//! this host, the allow-list or the token may read it — judged by the forwarded
//! address behind a trusted proxy.

use crate::channels_support;
use crate::common;

use channels_support::{accept, answer, desk, set_state, start_chat};
use common::TestServer;
use prometheus_parse::{Scrape, Value};
use serde_json::json;
use std::io::BufRead;

async fn scrape(server: &TestServer) -> Scrape {
    let resp = server
        .http
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(resp.status(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = resp.text().await.expect("body");
    Scrape::parse(std::io::Cursor::new(text).lines()).expect("Prometheus text format")
}

/// The value of the sample `metric` whose labels include `labels`.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .unwrap_or_else(|| panic!("no {metric} {labels:?}"));
    match &sample.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        other => panic!("{metric}: not a single value: {other:?}"),
    }
}

/// Observations of histogram `metric` and whether its buckets are there.
fn histogram_count(scrape: &Scrape, metric: &str) -> f64 {
    let buckets = scrape
        .samples
        .iter()
        .find(|s| s.metric == metric)
        .unwrap_or_else(|| panic!("no histogram {metric}"));
    let Value::Histogram(buckets) = &buckets.value else {
        panic!("{metric} is not a histogram: {:?}", buckets.value);
    };
    assert!(buckets.len() > 5, "{metric} has its buckets");
    value(scrape, &format!("{metric}_count"), &[])
}

const DEFAULT: (&str, &str) = ("queue", "Default");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_series_is_there_at_once_and_moves_after_a_chat() {
    let server = TestServer::start().await;

    let first = scrape(&server).await;
    for metric in [
        "switchboard_tasks_offered_total",
        "switchboard_tasks_answered_total",
        "switchboard_tasks_abandoned_total",
        "switchboard_queue_waiting",
        "switchboard_queue_longest_wait_seconds",
    ] {
        assert_eq!(value(&first, metric, &[DEFAULT]), 0.0, "{metric}");
    }
    for state in [
        "READY",
        "ACTIVE",
        "BUSY",
        "NOT_READY",
        "PENDING_NOT_READY",
        "INTERRUPTED",
    ] {
        assert_eq!(
            value(
                &first,
                "switchboard_agents",
                &[("mrd", "CHAT"), ("state", state)]
            ),
            0.0
        );
    }
    for namespace in ["/", "/customer"] {
        assert_eq!(
            value(&first, "switchboard_sockets", &[("namespace", namespace)]),
            0.0
        );
    }
    for state in ["PENDING", "DELIVERED", "DEAD"] {
        assert_eq!(
            value(&first, "switchboard_outbox_messages", &[("state", state)]),
            0.0
        );
    }
    for histogram in [
        "switchboard_offer_latency_seconds",
        "switchboard_message_latency_seconds",
    ] {
        assert_eq!(
            histogram_count(&first, histogram),
            0.0,
            "{histogram} is empty"
        );
    }
    // The demo site was written at start.
    assert!(histogram_count(&first, "switchboard_store_commit_seconds") > 0.0);
    assert!(value(&first, "process_resident_memory_bytes", &[]) > 0.0);
    assert!(first
        .samples
        .iter()
        .any(|s| s.metric == "process_cpu_seconds_total"));
    assert!(
        first.docs.contains_key("switchboard_queue_waiting"),
        "HELP lines"
    );
    packaged_queries_name_served_series(&first);

    // One chat answered; one customer gives up before any agent is free.
    let (agent, _) = desk(&server, "agent1").await;
    set_state(&agent, "READY").await;
    let (customer, conversation) = start_chat(&server, "metrics-1").await;
    accept(&agent, &conversation).await;
    let ack = customer
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "m-1", "body": {"type": "PLAIN", "markdownText": "hello"}}),
        )
        .await
        .expect("message");
    assert_eq!(ack[0]["status"], "ok");
    answer(&agent, &conversation, "hi").await;
    set_state(&agent, "NOT_READY").await;
    let (waiting, _) = start_chat(&server, "metrics-2").await;

    // The chat is queued by the routing engine after CHAT_REQUESTED is answered:
    // the figures show it once the enqueue is committed.
    let mut during = scrape(&server).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while value(&during, "switchboard_queue_waiting", &[DEFAULT]) != 1.0
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        during = scrape(&server).await;
    }
    assert_eq!(value(&during, "switchboard_queue_waiting", &[DEFAULT]), 1.0);
    assert_eq!(
        value(&during, "switchboard_sockets", &[("namespace", "/")]),
        1.0
    );
    assert_eq!(
        value(
            &during,
            "switchboard_sockets",
            &[("namespace", "/customer")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &during,
            "switchboard_agents",
            &[("mrd", "CHAT"), ("state", "PENDING_NOT_READY")]
        ) + value(
            &during,
            "switchboard_agents",
            &[("mrd", "CHAT"), ("state", "NOT_READY")]
        ),
        1.0,
        "agent1 is on its way to NOT_READY with a chat open"
    );

    let ended = waiting
        .emit_ack("CHAT_ENDED", json!({}))
        .await
        .expect("end");
    assert_eq!(ended[0]["status"], "ok", "{ended:?}");
    waiting.close().await;
    // Abandons are counted once routing has published the close.
    let mut after = scrape(&server).await;
    for _ in 0..100 {
        if value(&after, "switchboard_tasks_abandoned_total", &[DEFAULT]) == 1.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        after = scrape(&server).await;
    }
    assert_eq!(
        value(&after, "switchboard_tasks_offered_total", &[DEFAULT]),
        2.0
    );
    assert_eq!(
        value(&after, "switchboard_tasks_answered_total", &[DEFAULT]),
        1.0
    );
    assert_eq!(
        value(&after, "switchboard_tasks_abandoned_total", &[DEFAULT]),
        1.0
    );
    assert_eq!(value(&after, "switchboard_queue_waiting", &[DEFAULT]), 0.0);
    assert_eq!(
        value(&after, "switchboard_sockets", &[("namespace", "/customer")]),
        1.0
    );
    assert_eq!(
        histogram_count(&after, "switchboard_offer_latency_seconds"),
        1.0
    );
    assert!(histogram_count(&after, "switchboard_message_latency_seconds") >= 2.0);
    assert!(
        histogram_count(&after, "switchboard_store_commit_seconds")
            > histogram_count(&first, "switchboard_store_commit_seconds")
    );
}

async fn status(server: &TestServer, forwarded: Option<&str>, token: Option<&str>) -> u16 {
    let mut req = server.http.get(server.url("/metrics"));
    if let Some(f) = forwarded {
        req = req.header("X-Forwarded-For", f);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    if status != 200 {
        let body: serde_json::Value = resp.json().await.expect("json error");
        assert!(body["code"].is_string(), "{body}");
    }
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_this_host_the_allow_list_or_the_token_may_read() {
    // A reverse proxy on this host, trusted: its clients are judged by their address.
    let server = TestServer::start_with(|c| {
        c.http.trusted_proxies = vec!["127.0.0.1".into()];
        c.metrics.allow = vec!["10.0.0.0/8".into()];
        c.metrics.token = "scrape-me".into();
    })
    .await;
    assert_eq!(status(&server, None, None).await, 200, "this host");
    assert_eq!(
        status(&server, Some("127.0.0.1"), None).await,
        200,
        "this host through the proxy"
    );
    assert_eq!(
        status(&server, Some("198.51.100.7"), None).await,
        403,
        "a remote client through the proxy"
    );
    assert_eq!(
        status(&server, Some("10.2.3.4"), None).await,
        200,
        "an allowed network"
    );
    assert_eq!(
        status(&server, Some("198.51.100.7"), Some("scrape-me")).await,
        200,
        "the token"
    );
    assert_eq!(
        status(&server, Some("198.51.100.7"), Some("guess")).await,
        403
    );

    // The same proxy, not trusted: what it relays is not local (and its header not believed).
    let untrusted = TestServer::start().await;
    assert_eq!(status(&untrusted, None, None).await, 200);
    assert_eq!(status(&untrusted, Some("10.2.3.4"), None).await, 403);

    let disabled = TestServer::start_with(|c| c.metrics.enabled = false).await;
    assert_eq!(status(&disabled, None, None).await, 404);
}

#[test]
fn a_bad_address_is_refused_at_start_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    config.metrics.allow = vec!["everyone".into()];
    let err = config.validate().unwrap_err().to_string();
    assert!(err.contains("metrics.allow"), "{err}");
}

/// The Grafana dashboard and the Prometheus alert examples in packaging/ ask only for
/// series the server serves.
fn packaged_queries_name_served_series(scrape: &Scrape) {
    let served: std::collections::HashSet<&str> =
        scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging");
    for file in [
        "grafana/switchboard-dashboard.json",
        "prometheus/switchboard-alerts.yml",
    ] {
        let text = std::fs::read_to_string(root.join(file)).expect(file);
        let mut names = 0;
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if !(word.starts_with("switchboard_") || word.starts_with("process_")) {
                continue;
            }
            let base = word.trim_end_matches("_bucket");
            let base = if served.contains(word) { word } else { base };
            assert!(
                served.contains(base),
                "{file} asks for {word}, which is not served"
            );
            names += 1;
        }
        assert!(names > 3, "{file} uses the series");
    }
}
