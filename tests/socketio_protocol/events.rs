//! Events and acks: answers and acks both ways, order per socket, back-pressure on a
//! slow handler, a panicking handler, server and client disconnects.

use crate::{good_client, start_default, wait_until, WAIT};
use serde_json::json;
use switchboard::socketio::DisconnectReason;

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
