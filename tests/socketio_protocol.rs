//! The Socket.IO layer through its public protocol: a real actix-web server on 127.0.0.1:0
//! serving the echo namespace (examples/sio_echo/echo.rs), driven by the test client over
//! WebSocket and by raw HTTP long-polling requests.

mod support;

#[path = "../examples/sio_echo/echo.rs"]
mod echo;

use actix_web::App;
use echo::EchoNamespace;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::sio_client::{token_auth, ConnectOptions, SioClient, SioClientError};
use switchboard::socketio::{DisconnectReason, HttpServer, SocketIo, SocketIoConfig};
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(3);

struct TestServer {
    addr: SocketAddr,
    sio: SocketIo,
    echo: Arc<EchoNamespace>,
}

async fn start(config: SocketIoConfig) -> TestServer {
    let sio = SocketIo::new(config);
    let echo = EchoNamespace::new();
    sio.add_namespace("/", echo.clone());
    sio.add_namespace("/admin", echo.clone());
    let app_sio = sio.clone();
    let server = HttpServer::new(sio.clone(), move || {
        let sio = app_sio.clone();
        App::new().configure(move |cfg| sio.configure(cfg))
    })
    .workers(1)
    .bind(([127, 0, 0, 1], 0).into())
    .expect("bind 127.0.0.1:0");
    let addr = server.addrs()[0];
    actix_rt::spawn(server.run().expect("start the server"));
    TestServer { addr, sio, echo }
}

async fn start_default() -> TestServer {
    start(SocketIoConfig::default()).await
}

async fn good_client(server: &TestServer) -> SioClient {
    SioClient::connect(server.addr, "/", token_auth("good"))
        .await
        .expect("connect with a good token")
}

// ---------- namespaces and auth ----------

#[actix_rt::test]
async fn good_token_connects_and_events_emitted_during_connect_arrive_after_it() {
    let server = start_default().await;
    let client = good_client(&server).await;
    let welcome = client.expect("welcome", WAIT).await.unwrap();
    assert_eq!(welcome["id"], json!(client.id()));
    assert_eq!(welcome["namespace"], json!("/"));
    assert_eq!(welcome["auth"], json!({"token": "good"}));
    assert_eq!(server.sio.connection_count(), 1);
}

#[actix_rt::test]
async fn bad_token_gets_connect_error_with_message_and_data() {
    let server = start_default().await;
    let refused = SioClient::connect(server.addr, "/", token_auth("bad")).await;
    assert_eq!(
        refused.err(),
        Some(SioClientError::ConnectRefused {
            message: "invalid token".into(),
            data: Some(json!({"code": "AUTH_FAILED"})),
        })
    );
    let missing = SioClient::connect_with(server.addr, ConnectOptions::default()).await;
    assert!(matches!(
        missing,
        Err(SioClientError::ConnectRefused { .. })
    ));
    assert!(
        server.echo.disconnects().is_empty(),
        "refused sockets never get on_disconnect"
    );
}

#[actix_rt::test]
async fn token_in_the_handshake_query_is_accepted() {
    let server = start_default().await;
    let client = SioClient::connect_with(
        server.addr,
        ConnectOptions {
            query: vec![("token".into(), "good".into())],
            ..ConnectOptions::default()
        },
    )
    .await
    .expect("query token accepted");
    assert_eq!(
        client.expect("welcome", WAIT).await.unwrap()["auth"],
        json!({})
    );
}

#[actix_rt::test]
async fn unknown_namespace_is_refused_like_the_reference_server() {
    let server = start_default().await;
    let client = good_client(&server).await;
    let refused = client.join("/nope", token_auth("good")).await;
    assert_eq!(
        refused.err(),
        Some(SioClientError::ConnectRefused {
            message: "Invalid namespace".into(),
            data: None,
        })
    );
    client.emit("echo", json!("still here")).unwrap();
    assert_eq!(
        client.expect("echo", WAIT).await.unwrap(),
        json!("still here")
    );
}

#[actix_rt::test]
async fn namespaces_are_multiplexed_on_one_connection() {
    let server = start_default().await;
    let main = good_client(&server).await;
    let admin = main.join("/admin", token_auth("good")).await.unwrap();
    assert_eq!(main.engine_id(), admin.engine_id());
    assert_ne!(main.id(), admin.id());
    assert_eq!(
        admin.expect("welcome", WAIT).await.unwrap()["namespace"],
        json!("/admin")
    );

    admin.emit("echo", json!("to admin")).unwrap();
    main.emit("echo", json!("to main")).unwrap();
    assert_eq!(admin.expect("echo", WAIT).await.unwrap(), json!("to admin"));
    assert_eq!(main.expect("echo", WAIT).await.unwrap(), json!("to main"));

    admin.disconnect().unwrap();
    assert_eq!(
        server.echo.wait_disconnect(admin.id(), WAIT).await,
        Some(DisconnectReason::ClientNamespaceDisconnect)
    );
    main.emit("echo", json!("main still works")).unwrap();
    assert_eq!(
        main.expect("echo", WAIT).await.unwrap(),
        json!("main still works")
    );
    assert_eq!(server.sio.connection_count(), 1);
}

// ---------- events and acks ----------

#[actix_rt::test]
async fn client_events_get_answers_and_acks() {
    let server = start_default().await;
    let client = good_client(&server).await;
    client.emit("echo", json!({"n": 1})).unwrap();
    assert_eq!(client.expect("echo", WAIT).await.unwrap(), json!({"n": 1}));

    let acked = client
        .emit_ack_timeout("echo", vec![json!("a"), json!(2)], WAIT)
        .await
        .unwrap();
    assert_eq!(acked, vec![json!("a"), json!(2)]);
}

#[actix_rt::test]
async fn server_asks_with_ack_and_gets_the_client_answer() {
    let server = start_default().await;
    let client = good_client(&server).await;
    client.emit("ask", json!("what is your name?")).unwrap();
    let question = client.expect_event("question", WAIT).await.unwrap();
    assert_eq!(question.data(), json!("what is your name?"));
    assert!(question.ack_id.is_some());
    client
        .ack(&question, vec![json!("desk-1"), json!(42)])
        .unwrap();
    assert_eq!(
        client.expect("answer", WAIT).await.unwrap(),
        json!(["desk-1", 42])
    );
}

#[actix_rt::test]
async fn events_of_one_socket_are_handled_in_order() {
    let server = start_default().await;
    let client = good_client(&server).await;
    client.expect("welcome", WAIT).await.unwrap();
    client.emit("slow", json!({"ms": 150})).unwrap();
    client.emit("echo", json!("second")).unwrap();
    let first = client.next_event(WAIT).await.unwrap();
    let second = client.next_event(WAIT).await.unwrap();
    assert_eq!(first.name, "slow_done");
    assert_eq!(
        (second.name.as_str(), second.data()),
        ("echo", json!("second"))
    );
}

#[actix_rt::test]
async fn a_client_sending_faster_than_its_handler_is_paused_not_dropped() {
    // 300 events behind a slow one: more than the per-connection backlog and the inbound
    // queue hold, so the server stops reading the socket until the handler catches up.
    let server = start_default().await;
    let client = good_client(&server).await;
    client.expect("welcome", WAIT).await.unwrap();
    client.emit("slow", json!({"ms": 300})).unwrap();
    for i in 0..300 {
        client.emit("echo", json!(i)).unwrap();
    }
    assert_eq!(client.next_event(WAIT).await.unwrap().name, "slow_done");
    for i in 0..300 {
        let event = client.next_event(WAIT).await.unwrap();
        assert_eq!((event.name.as_str(), event.data()), ("echo", json!(i)));
    }
}

#[actix_rt::test]
async fn a_panicking_handler_does_not_break_the_connection() {
    let server = start_default().await;
    let client = good_client(&server).await;
    client.emit("panic", json!(null)).unwrap();
    client.emit("echo", json!("after panic")).unwrap();
    assert_eq!(
        client.expect("echo", WAIT).await.unwrap(),
        json!("after panic")
    );
}

#[actix_rt::test]
async fn server_disconnect_sends_disconnect_then_closes_the_connection() {
    let server = start_default().await;
    let client = good_client(&server).await;
    client.emit("disconnect_me", json!(null)).unwrap();
    client.expect_disconnect(WAIT).await.unwrap();
    let closed = client.closed(WAIT).await.unwrap();
    assert_eq!(closed.code, Some(1000));
    assert_eq!(
        server.echo.wait_disconnect(client.id(), WAIT).await,
        Some(DisconnectReason::ServerNamespaceDisconnect)
    );
    wait_until(|| server.sio.connection_count() == 0).await;
}

#[actix_rt::test]
async fn client_close_reports_transport_close() {
    let server = start_default().await;
    let client = good_client(&server).await;
    client.close().await;
    assert_eq!(
        server.echo.wait_disconnect(client.id(), WAIT).await,
        Some(DisconnectReason::TransportClose)
    );
    wait_until(|| server.sio.connection_count() == 0).await;
}

// ---------- heartbeat and limits ----------

/// Pings every 150 ms; a generous pong timeout keeps answering clients safe on a loaded machine.
fn fast_heartbeat() -> SocketIoConfig {
    SocketIoConfig {
        ping_interval: Duration::from_millis(150),
        ping_timeout: Duration::from_millis(400),
        ..SocketIoConfig::default()
    }
}

#[actix_rt::test]
async fn a_silent_client_is_closed_by_the_heartbeat_and_others_stay() {
    let server = start(fast_heartbeat()).await;
    let alive = good_client(&server).await;
    let silent = SioClient::connect_with(
        server.addr,
        ConnectOptions {
            auth: Some(token_auth("good")),
            auto_pong: false,
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap();
    silent.closed(Duration::from_secs(2)).await.unwrap();
    assert_eq!(
        server.echo.wait_disconnect(silent.id(), WAIT).await,
        Some(DisconnectReason::PingTimeout)
    );
    // Several heartbeats later the answering client is still served.
    tokio::time::sleep(Duration::from_millis(500)).await;
    alive.emit("echo", json!("alive")).unwrap();
    assert_eq!(alive.expect("echo", WAIT).await.unwrap(), json!("alive"));
    assert_eq!(server.sio.connection_count(), 1);
}

#[actix_rt::test]
async fn a_connection_without_any_namespace_is_closed_after_connect_timeout() {
    let server = start(SocketIoConfig {
        connect_timeout: Duration::from_millis(200),
        ..SocketIoConfig::default()
    })
    .await;
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(server.addr, None))
        .await
        .unwrap();
    let open = ws.next().await.unwrap().unwrap();
    assert!(open.to_text().unwrap().starts_with('0'));
    let end = tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(end.is_ok(), "idle connection was not closed");
}

#[actix_rt::test]
async fn malformed_packets_close_only_their_connection() {
    let server = start_default().await;
    let bystander = good_client(&server).await;
    for bad in ["4abc", "xyz", "", "42[\"echo\"", "42{}", "2", "5", "43[]"] {
        let victim = good_client(&server).await;
        victim.send_raw(bad).unwrap();
        let closed = victim
            .closed(WAIT)
            .await
            .unwrap_or_else(|e| panic!("{bad:?} did not close: {e}"));
        assert_eq!(closed.code, Some(1008), "{bad:?}: {closed:?}");
        assert!(!closed.reason.is_empty(), "{bad:?} closed without a reason");
        assert_eq!(
            server.echo.wait_disconnect(victim.id(), WAIT).await,
            Some(DisconnectReason::ParseError),
            "{bad:?}"
        );
    }
    bystander.emit("echo", json!("unaffected")).unwrap();
    assert_eq!(
        bystander.expect("echo", WAIT).await.unwrap(),
        json!("unaffected")
    );
    good_client(&server).await;
}

#[actix_rt::test]
async fn binary_data_is_refused_with_a_clear_reason() {
    let server = start_default().await;
    let frame = good_client(&server).await;
    frame.send_binary(vec![1, 2, 3]).unwrap();
    let closed = frame.closed(WAIT).await.unwrap();
    assert!(closed.reason.contains("binary"), "{closed:?}");

    let attachment = good_client(&server).await;
    attachment
        .send_raw(r#"451-["echo",{"_placeholder":true,"num":0}]"#)
        .unwrap();
    let closed = attachment.closed(WAIT).await.unwrap();
    assert!(closed.reason.contains("binary"), "{closed:?}");
}

#[actix_rt::test]
async fn an_oversized_message_closes_only_its_connection() {
    let server = start(SocketIoConfig {
        max_payload: 1024,
        ..SocketIoConfig::default()
    })
    .await;
    let bystander = good_client(&server).await;
    let victim = good_client(&server).await;
    victim.emit("echo", json!("x".repeat(900))).unwrap();
    assert_eq!(
        victim.expect("echo", WAIT).await.unwrap(),
        json!("x".repeat(900))
    );
    victim.emit("echo", json!("x".repeat(2000))).unwrap();
    let closed = victim.closed(WAIT).await.unwrap();
    assert_eq!(closed.code, Some(1009), "{closed:?}");
    assert_eq!(
        server.echo.wait_disconnect(victim.id(), WAIT).await,
        Some(DisconnectReason::ParseError)
    );
    bystander.emit("echo", json!("fine")).unwrap();
    assert_eq!(bystander.expect("echo", WAIT).await.unwrap(), json!("fine"));
}

/// Reads text frames until one starts with `prefix`.
async fn next_text_starting(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    prefix: &str,
) -> String {
    tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) if text.starts_with(prefix) => return text,
                Some(Ok(_)) => {}
                other => panic!("no {prefix:?} before {other:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {prefix:?} in time"))
}

#[actix_rt::test]
async fn websocket_pings_fragments_and_large_messages_are_handled() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
    use tokio_tungstenite::tungstenite::protocol::frame::Frame;
    let server = start_default().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(server.addr, None))
        .await
        .unwrap();
    next_text_starting(&mut ws, "0{").await;
    ws.send(Message::Ping(b"hb".to_vec())).await.unwrap();
    let pong = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(Ok(Message::Pong(payload))) = ws.next().await {
                return payload;
            }
        }
    })
    .await
    .expect("pong");
    assert_eq!(pong, b"hb".to_vec());

    ws.send(Message::Text(r#"40{"token":"good"}"#.into()))
        .await
        .unwrap();
    next_text_starting(&mut ws, "40{").await;

    // One message in three frames.
    let parts = [r#"42["echo","#, r#""in "#, r#"parts"]"#];
    for (i, part) in parts.iter().enumerate() {
        let opcode = if i == 0 { Data::Text } else { Data::Continue };
        let last = i == parts.len() - 1;
        let frame = Frame::message(part.as_bytes().to_vec(), OpCode::Data(opcode), last);
        ws.send(Message::Frame(frame)).await.unwrap();
    }
    assert_eq!(
        next_text_starting(&mut ws, r#"42["echo""#).await,
        r#"42["echo","in parts"]"#
    );

    // Messages up to maxPayload grow the buffers, and the connection goes on afterwards.
    let big = "x".repeat(1000 * 1000);
    ws.send(Message::Text(format!(r#"42["echo","{big}"]"#)))
        .await
        .unwrap();
    let echoed = next_text_starting(&mut ws, r#"42["echo""#).await;
    assert!(
        echoed == format!(r#"42["echo","{big}"]"#),
        "large echo differs"
    );
    ws.send(Message::Text(r#"42["echo","small"]"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next_text_starting(&mut ws, r#"42["echo""#).await,
        r#"42["echo","small"]"#
    );
}

#[actix_rt::test]
async fn refused_websocket_requests_get_an_http_answer() {
    use tokio_tungstenite::tungstenite::Error;
    let server = start_default().await;
    let refusal = |url: String| async move {
        match tokio_tungstenite::connect_async(url).await {
            Err(Error::Http(response)) => {
                let body: Value =
                    serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                        .unwrap_or(Value::Null);
                (response.status().as_u16(), body)
            }
            other => panic!("not refused: {:?}", other.map(|_| ())),
        }
    };
    let (status, body) = refusal(ws_url(server.addr, Some("unknown"))).await;
    assert_eq!((status, &body["code"]), (400, &json!(1)), "{body}");
    let (status, body) = refusal(format!(
        "ws://{}/socket.io/?EIO=3&transport=websocket",
        server.addr
    ))
    .await;
    assert_eq!((status, &body["code"]), (400, &json!(5)), "{body}");
    let (status, _) = refusal(format!("ws://{}/elsewhere", server.addr)).await;
    assert_eq!(status, 404);
    // A plain GET for the WebSocket transport is not a handshake.
    let (status, body) = get(
        &reqwest::Client::new(),
        &format!(
            "http://{}/socket.io/?EIO=4&transport=websocket",
            server.addr
        ),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    good_client(&server).await;
}

#[actix_rt::test]
async fn a_full_outbound_queue_closes_the_connection_as_too_slow() {
    let server = start(SocketIoConfig {
        outbound_queue: 16,
        ..SocketIoConfig::default()
    })
    .await;
    let bystander = good_client(&server).await;
    let flooded = good_client(&server).await;
    flooded.emit("flood", json!({"count": 10_000})).unwrap();
    let closed = flooded.closed(WAIT).await.unwrap();
    assert!(closed.reason.contains("too slow"), "{closed:?}");
    assert_eq!(
        server.echo.wait_disconnect(flooded.id(), WAIT).await,
        Some(DisconnectReason::TooSlow)
    );
    bystander.emit("echo", json!("fine")).unwrap();
    assert_eq!(bystander.expect("echo", WAIT).await.unwrap(), json!("fine"));
}

#[actix_rt::test]
async fn shutdown_closes_every_connection_cleanly() {
    let server = start_default().await;
    let a = good_client(&server).await;
    let b = good_client(&server).await;
    let b_admin = b.join("/admin", token_auth("good")).await.unwrap();
    server.sio.shutdown().await;
    assert_eq!(server.sio.connection_count(), 0);
    assert_eq!(a.closed(WAIT).await.unwrap().code, Some(1001));
    assert_eq!(b.closed(WAIT).await.unwrap().code, Some(1001));
    for id in [a.id(), b.id(), b_admin.id()] {
        assert_eq!(
            server.echo.wait_disconnect(id, WAIT).await,
            Some(DisconnectReason::ServerShutdown)
        );
    }
    let refused = SioClient::connect(server.addr, "/", token_auth("good")).await;
    assert!(refused.is_err(), "new sessions are refused after shutdown");
}

// ---------- HTTP long-polling and upgrade ----------

fn poll_url(addr: SocketAddr, sid: Option<&str>) -> String {
    let mut url = format!("http://{addr}/socket.io/?EIO=4&transport=polling");
    if let Some(sid) = sid {
        url.push_str("&sid=");
        url.push_str(sid);
    }
    url
}

fn ws_url(addr: SocketAddr, sid: Option<&str>) -> String {
    let mut url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    if let Some(sid) = sid {
        url.push_str("&sid=");
        url.push_str(sid);
    }
    url
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let response = http.get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
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

async fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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
