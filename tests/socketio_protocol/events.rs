//! Events and acks: answers and acks both ways, order per socket, back-pressure on a
//! slow handler, a panicking handler, server and client disconnects.

use super::{good_client, start_default, wait_until, ws_url, WAIT};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use std::time::Duration;
use switchboard::socketio::DisconnectReason;
use tokio_tungstenite::tungstenite::Message;

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
async fn a_full_backlog_stops_reading_the_websocket_until_the_handler_catches_up() {
    // Over a raw WebSocket, so that a WebSocket ping shows whether the server reads at all:
    // sent behind a slow event and more events than the backlog holds, it stays unanswered
    // until the slow handler is done, and every event is still handled, in order.
    let server = start_default().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url(server.addr, None))
        .await
        .unwrap();
    ws.send(Message::Text(r#"40{"token":"good"}"#.into()))
        .await
        .unwrap();
    // The CONNECT answer, then the handler's `welcome`.
    loop {
        let text = next_text(&mut ws, WAIT).await.expect("the welcome event");
        if text.contains("welcome") {
            break;
        }
    }
    ws.send(Message::Text(r#"42["slow",{"ms":1500}]"#.into()))
        .await
        .unwrap();
    for i in 0..150 {
        ws.send(Message::Text(format!(r#"42["echo",{i}]"#)))
            .await
            .unwrap();
    }
    ws.send(Message::Ping(b"paused?".to_vec())).await.unwrap();

    // The slow handler runs for 1.5 s: nothing, not even the pong, comes back meanwhile.
    let early = tokio::time::timeout(Duration::from_millis(700), ws.next()).await;
    assert!(
        early.is_err(),
        "the server answered while paused: {early:?}"
    );

    let mut order = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while order.last().map(String::as_str) != Some("echo 149") || !order.contains(&"pong".into()) {
        let message = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("everything in time")
            .expect("the WebSocket stays open")
            .unwrap();
        match message {
            Message::Pong(payload) => {
                assert_eq!(payload, b"paused?".to_vec());
                order.push("pong".into());
            }
            Message::Text(text) if text.contains("slow_done") => order.push("slow_done".into()),
            Message::Text(text) if text.starts_with(r#"42["echo","#) => {
                let n = text
                    .trim_start_matches(r#"42["echo","#)
                    .trim_end_matches(']');
                order.push(format!("echo {n}"));
            }
            _ => {}
        }
    }
    assert_eq!(order[0], "slow_done", "{order:?}");
    let echoes: Vec<_> = order.iter().filter(|o| o.starts_with("echo")).collect();
    let expected: Vec<_> = (0..150).map(|i| format!("echo {i}")).collect();
    assert_eq!(echoes, expected.iter().collect::<Vec<_>>());
}

/// The next text message, skipping other frames; `None` if none comes within `limit`.
async fn next_text(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    limit: Duration,
) -> Option<String> {
    tokio::time::timeout(limit, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => return Some(text),
                Some(Ok(_)) => {}
                _ => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
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
async fn a_handler_panicking_before_its_future_does_not_break_the_connection() {
    let server = start_default().await;
    let client = good_client(&server).await;
    client.emit("panic_now", json!(null)).unwrap();
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
