//! Limits at the edge of a real server: failed logins are limited per username and per
//! client address (429 with `Retry-After`), clients on this host are not by default;
//! a TCP connection that never sends a byte, and a WebSocket that upgrades and then
//! stays silent, are closed.

use crate::common;

use common::TestServer;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::Message;

/// Logs in from `forwarded_for` (through the trusted proxy on 127.0.0.1), or directly
/// from loopback when None; (status, Retry-After, body).
async fn login_from(
    server: &TestServer,
    forwarded_for: Option<&str>,
    username: &str,
    password: &str,
) -> (u16, Option<String>, Value) {
    let mut req = server
        .http
        .post(server.url("/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}));
    if let Some(addr) = forwarded_for {
        req = req.header("X-Forwarded-For", addr);
    }
    let resp = req.send().await.expect("login request");
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, retry, resp.json().await.unwrap_or(Value::Null))
}

const REMOTE: Option<&str> = Some("203.0.113.9");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_username_with_retry_after() {
    // The defaults, behind a reverse proxy on this host: remote clients are limited.
    let server =
        TestServer::start_with(|c| c.http.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let burst = switchboard::config::LoginSettings::default().username_burst;
    for i in 0..burst {
        let (status, _, body) = login_from(&server, REMOTE, "agent1", "wrong").await;
        assert_eq!(status, 401, "attempt {i}: {body}");
        assert_eq!(body["code"], "bad_credentials");
    }
    let (status, retry, body) = login_from(&server, REMOTE, "agent1", "wrong").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "rate_limited");
    let secs: u64 = retry.expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&secs), "Retry-After {secs}");
    // Limited means limited: the right password is refused too, and from another address.
    let (status, _, _) = login_from(&server, REMOTE, "agent1", "agent1").await;
    assert_eq!(status, 429);
    let (status, _, _) = login_from(&server, Some("198.51.100.4"), "agent1", "agent1").await;
    assert_eq!(status, 429, "the username is limited whatever the address");
    // Other users are not.
    let (status, _, body) = login_from(&server, Some("198.51.100.4"), "agent2", "agent2").await;
    assert_eq!(status, 200, "{body}");
    // A user on this host still signs in (loopback is not limited by default).
    let (status, _, body) = login_from(&server, None, "agent1", "agent1").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_limited_per_address_and_successes_do_not_count() {
    let server = TestServer::start_with(|c| {
        c.http.trusted_proxies = vec!["127.0.0.1".into()];
        c.login.address_burst = 3;
    })
    .await;
    // Successful logins take nothing from the address, also many at once (a call
    // center behind one NAT address signing in at the start of a shift).
    let users = ["agent1", "agent2", "agent3", "supervisor"];
    let at_once = users
        .iter()
        .cycle()
        .take(8)
        .map(|u| login_from(&server, REMOTE, u, u));
    for (status, _, body) in futures_util::future::join_all(at_once).await {
        assert_eq!(status, 200, "{body}");
    }
    // Three failures over three usernames spend the address.
    for user in ["agent1", "agent2", "nobody"] {
        let (status, _, _) = login_from(&server, REMOTE, user, "wrong").await;
        assert_eq!(status, 401);
    }
    let (status, retry, body) = login_from(&server, REMOTE, "agent3", "agent3").await;
    assert_eq!(status, 429, "{body}");
    assert!(retry.is_some());
    // Another address is not limited, and neither is agent3.
    let (status, _, body) = login_from(&server, Some("198.51.100.4"), "agent3", "agent3").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_logins_are_not_limited_unless_configured() {
    let server = TestServer::start().await;
    for _ in 0..12 {
        let (status, _, _) = login_from(&server, None, "agent1", "wrong").await;
        assert_eq!(status, 401);
    }
    let (status, _, body) = login_from(&server, None, "agent1", "agent1").await;
    assert_eq!(status, 200, "{body}");

    let strict = TestServer::start_with(|c| {
        c.login.limit_loopback = true;
        c.login.username_burst = 2;
    })
    .await;
    for _ in 0..2 {
        let (status, _, _) = login_from(&strict, None, "agent1", "wrong").await;
        assert_eq!(status, 401);
    }
    let (status, retry, _) = login_from(&strict, None, "agent1", "agent1").await;
    assert_eq!(status, 429);
    assert!(retry.is_some());
}

/// Reads until the server closes the connection; what it sent before closing.
async fn until_closed(stream: &mut tokio::net::TcpStream, deadline: Instant) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Err(_) => panic!("the connection is still open; it sent {seen:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return seen,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_sends_a_byte_is_closed() {
    let server = TestServer::start_with(|c| c.http.client_request_timeout_ms = 1000).await;
    let mut silent: Vec<tokio::net::TcpStream> = Vec::new();
    for _ in 0..20 {
        silent.push(
            tokio::net::TcpStream::connect(server.addr)
                .await
                .expect("connect"),
        );
    }
    // The timeout (1 s, the shortest allowed), plus actix's half-second clock, is well
    // inside this bound.
    let deadline = Instant::now() + Duration::from_secs(5);
    for stream in &mut silent {
        let said = String::from_utf8_lossy(&until_closed(stream, deadline).await).to_string();
        assert!(
            said.is_empty() || said.starts_with("HTTP/1.1 408"),
            "{said}"
        );
    }
    // The server still serves.
    let (status, _) = server.get("/healthz", None).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_that_upgrades_and_stays_silent_is_closed_by_the_ping_timeout() {
    let server = TestServer::start_with(|c| {
        c.socketio.ping_interval_ms = 100;
        c.socketio.ping_timeout_ms = 200;
    })
    .await;
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.addr);
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("upgrade");
    let start = Instant::now();
    let open = ws.next().await.expect("open").expect("open frame");
    assert!(open.to_text().expect("text").starts_with('0'), "{open:?}");
    // Never answer anything (not even the pings): closed long before the namespace
    // connect timeout (45 s), by the heartbeat.
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the silent WebSocket is still open");
    assert!(start.elapsed() >= Duration::from_millis(250));
}
