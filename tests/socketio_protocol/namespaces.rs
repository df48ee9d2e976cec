//! Namespaces and auth: good and bad tokens, the token in the handshake query,
//! unknown namespaces, several namespaces on one connection.

use super::{good_client, start_default, WAIT};
use crate::support::sio_client::{token_auth, ConnectOptions, SioClient, SioClientError};
use serde_json::json;
use switchboard::socketio::DisconnectReason;

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
