//! HTTP long-polling and the upgrade to WebSocket: handshake, refused and malformed
//! requests, overlapping polls, client close, heartbeat, CORS.

use super::{fast_heartbeat, get, start, start_default, wait_until, ws_url, WAIT};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use switchboard::socketio::SocketIoConfig;
use tokio_tungstenite::tungstenite::Message;

fn poll_url(addr: SocketAddr, sid: Option<&str>) -> String {
    let mut url = format!("http://{addr}/socket.io/?EIO=4&transport=polling");
    if let Some(sid) = sid {
        url.push_str("&sid=");
        url.push_str(sid);
    }
    url
}

async fn post(http: &reqwest::Client, url: &str, body: &str) -> (u16, String) {
    let response = http
        .post(url)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.to_owned())
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn handshake(http: &reqwest::Client, addr: SocketAddr) -> (String, Value) {
    let (status, body) = get(http, &poll_url(addr, None)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with('0'), "{body}");
    let open: Value = serde_json::from_str(&body[1..]).unwrap();
    (open["sid"].as_str().unwrap().to_owned(), open)
}

/// Polls until a payload containing `needle` arrives; returns all packets seen.
async fn poll_until(
    http: &reqwest::Client,
    addr: SocketAddr,
    sid: &str,
    needle: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let (status, body) = get(http, &poll_url(addr, Some(sid))).await;
            assert_eq!(status, 200, "{body}");
            let packets: Vec<String> = body.split('\u{1e}').map(str::to_owned).collect();
            let hit = packets.iter().any(|p| p.contains(needle));
            seen.extend(packets);
            if hit {
                break;
            }
        }
    })
    .await;
    assert!(found.is_ok(), "no {needle:?} in {seen:?}");
    seen
}

#[actix_rt::test]
async fn polling_handshake_announces_the_session() {
    let server = start_default().await;
    let http = reqwest::Client::new();
    let (sid, open) = handshake(&http, server.addr).await;
    assert_eq!(sid.len(), 20);
    assert_eq!(open["upgrades"], json!(["websocket"]));
    assert_eq!(open["pingInterval"], json!(25000));
    assert_eq!(open["pingTimeout"], json!(20000));
    assert_eq!(open["maxPayload"], json!(1024 * 1024));
}

#[actix_rt::test]
async fn socketio_over_polling_then_upgrade_to_websocket() {
    let server = start_default().await;
    let http = reqwest::Client::new();
    let (sid, _) = handshake(&http, server.addr).await;

    assert_eq!(
        post(
            &http,
            &poll_url(server.addr, Some(&sid)),
            r#"40{"token":"good"}"#
        )
        .await,
        (200, "ok".into())
    );
    let packets = poll_until(&http, server.addr, &sid, "welcome").await;
    assert!(packets[0].starts_with(r#"40{"sid":""#), "{packets:?}");

    let body = "42[\"echo\",\"one\"]\u{1e}42[\"echo\",\"two\"]";
    assert_eq!(
        post(&http, &poll_url(server.addr, Some(&sid)), body)
            .await
            .0,
        200
    );
    let packets = poll_until(&http, server.addr, &sid, "two").await;
    assert!(
        packets.contains(&r#"42["echo","one"]"#.to_owned()),
        "{packets:?}"
    );

    // A poll is pending when the probe arrives: it must end with noop.
    let pending = {
        let http = http.clone();
        let url = poll_url(server.addr, Some(&sid));
        tokio::spawn(async move { get(&http, &url).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(server.addr, Some(&sid)))
        .await
        .unwrap();
    ws.send(Message::Text("2probe".into())).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Text("3probe".into())
    );
    assert_eq!(pending.await.unwrap(), (200, "6".into()));
    // Polls during the upgrade end at once with noop.
    assert_eq!(
        get(&http, &poll_url(server.addr, Some(&sid))).await,
        (200, "6".into())
    );

    // Still polling until `5`: this answer is queued and must arrive over the WebSocket.
    assert_eq!(
        post(
            &http,
            &poll_url(server.addr, Some(&sid)),
            r#"42["echo","queued"]"#
        )
        .await
        .0,
        200
    );
    ws.send(Message::Text("5".into())).await.unwrap();
    ws.send(Message::Text(r#"42["echo","over ws"]"#.into()))
        .await
        .unwrap();
    let mut texts = Vec::new();
    tokio::time::timeout(WAIT, async {
        while let Some(Ok(Message::Text(text))) = ws.next().await {
            let done = text.contains("over ws");
            texts.push(text);
            if done {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no echo over WebSocket: {texts:?}"));
    assert_eq!(
        texts,
        vec![
            r#"42["echo","queued"]"#.to_owned(),
            r#"42["echo","over ws"]"#.to_owned()
        ]
    );

    // After the upgrade, polling for this session is refused and a second WebSocket too.
    assert_eq!(get(&http, &poll_url(server.addr, Some(&sid))).await.0, 400);
    assert!(
        tokio_tungstenite::connect_async(ws_url(server.addr, Some(&sid)))
            .await
            .is_err()
    );
    assert_eq!(server.sio.connection_count(), 1);
}

#[actix_rt::test]
async fn polling_refuses_bad_requests_like_the_reference_server() {
    let server = start_default().await;
    let http = reqwest::Client::new();
    let base = format!("http://{}/socket.io/", server.addr);
    let cases = [
        (format!("{base}?transport=polling"), 5),
        (format!("{base}?EIO=3&transport=polling"), 5),
        (format!("{base}?EIO=4"), 0),
        (format!("{base}?EIO=4&transport=carrier-pigeon"), 0),
        (format!("{base}?EIO=4&transport=polling&sid=unknown"), 1),
    ];
    for (url, code) in cases {
        let (status, body) = get(&http, &url).await;
        assert_eq!(status, 400, "{url}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["code"],
            json!(code),
            "{url}"
        );
    }
    let (status, _) = post(&http, &poll_url(server.addr, None), "40").await;
    assert_eq!(status, 400, "POST cannot open a session");
    let put = http.put(poll_url(server.addr, None)).send().await.unwrap();
    assert_eq!(put.status().as_u16(), 400);
}

#[actix_rt::test]
async fn malformed_polling_payload_closes_that_session_only() {
    let server = start_default().await;
    let http = reqwest::Client::new();
    let (bad_sid, _) = handshake(&http, server.addr).await;
    let (good_sid, _) = handshake(&http, server.addr).await;
    let (status, _) = post(&http, &poll_url(server.addr, Some(&bad_sid)), "abc").await;
    assert_eq!(status, 400);
    assert_eq!(
        get(&http, &poll_url(server.addr, Some(&bad_sid))).await.0,
        400
    );

    let (status, _) = post(
        &http,
        &poll_url(server.addr, Some(&good_sid)),
        "4hello\u{1e}bAQIDBA==",
    )
    .await;
    assert_eq!(status, 400, "base64 binary packets are refused");

    let (fine_sid, _) = handshake(&http, server.addr).await;
    assert_eq!(
        post(
            &http,
            &poll_url(server.addr, Some(&fine_sid)),
            r#"40{"token":"good"}"#
        )
        .await,
        (200, "ok".into())
    );
    poll_until(&http, server.addr, &fine_sid, "welcome").await;
}

#[actix_rt::test]
async fn oversized_polling_post_is_refused_and_closes_the_session() {
    let server = start(SocketIoConfig {
        max_payload: 1024,
        ..SocketIoConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let (sid, open) = handshake(&http, server.addr).await;
    assert_eq!(open["maxPayload"], json!(1024));
    let body = format!("42[\"echo\",\"{}\"]", "x".repeat(2000));
    assert_eq!(
        post(&http, &poll_url(server.addr, Some(&sid)), &body)
            .await
            .0,
        413
    );
    assert_eq!(get(&http, &poll_url(server.addr, Some(&sid))).await.0, 400);
}

#[actix_rt::test]
async fn overlapping_polls_close_the_session() {
    let server = start_default().await;
    let http = reqwest::Client::new();
    let (sid, _) = handshake(&http, server.addr).await;
    let first = {
        let http = http.clone();
        let url = poll_url(server.addr, Some(&sid));
        tokio::spawn(async move { get(&http, &url).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(get(&http, &poll_url(server.addr, Some(&sid))).await.0, 400);
    assert_eq!(first.await.unwrap(), (200, "1".into()));
    assert_eq!(get(&http, &poll_url(server.addr, Some(&sid))).await.0, 400);
}

#[actix_rt::test]
async fn client_close_over_polling_ends_the_pending_poll_with_noop() {
    let server = start_default().await;
    let http = reqwest::Client::new();
    let (sid, _) = handshake(&http, server.addr).await;
    let pending = {
        let http = http.clone();
        let url = poll_url(server.addr, Some(&sid));
        tokio::spawn(async move { get(&http, &url).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        post(&http, &poll_url(server.addr, Some(&sid)), "1").await,
        (200, "ok".into())
    );
    assert_eq!(pending.await.unwrap(), (200, "6".into()));
    assert_eq!(get(&http, &poll_url(server.addr, Some(&sid))).await.0, 400);
}

#[actix_rt::test]
async fn polling_heartbeat_pings_and_times_out() {
    let server = start(fast_heartbeat()).await;
    let http = reqwest::Client::new();
    let (sid, _) = handshake(&http, server.addr).await;
    for _ in 0..3 {
        assert_eq!(
            get(&http, &poll_url(server.addr, Some(&sid))).await,
            (200, "2".into())
        );
        assert_eq!(
            post(&http, &poll_url(server.addr, Some(&sid)), "3").await.0,
            200
        );
    }
    // The next ping (at +150 ms) goes unanswered and times out at +550 ms.
    tokio::time::sleep(Duration::from_millis(900)).await;
    let (status, body) = get(&http, &poll_url(server.addr, Some(&sid))).await;
    assert!(status == 400 || body == "1", "{status} {body}");
    wait_until(|| server.sio.connection_count() == 0).await;
}

#[actix_rt::test]
async fn cors_headers_only_for_allowed_origins() {
    let server = start(SocketIoConfig {
        cors_allowed_origins: vec!["https://shop.example".into()],
        ..SocketIoConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let allowed = http
        .get(poll_url(server.addr, None))
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "https://shop.example"
    );
    let other = http
        .get(poll_url(server.addr, None))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = http
        .request(reqwest::Method::OPTIONS, poll_url(server.addr, None))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    assert!(preflight
        .headers()
        .get("access-control-allow-methods")
        .is_some());
}
