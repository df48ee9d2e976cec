//! Heartbeat and limits over WebSocket: silent clients, the connect timeout, malformed,
//! binary and oversized messages, pings and fragments, refused upgrades, a full
//! outbound queue, shutdown.

use super::{fast_heartbeat, get, good_client, start, start_default, ws_url, WAIT};
use crate::support::sio_client::{token_auth, ConnectOptions, SioClient};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use switchboard::socketio::{DisconnectReason, SocketIoConfig};
use tokio_tungstenite::tungstenite::Message;

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
