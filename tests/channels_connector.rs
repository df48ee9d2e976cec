//! The connector endpoint `POST /ccm/message/receive` on a real server: accepted
//! after commit, idempotent on the message id, and bad input refused with the field
//! named and nothing stored.

mod channels_support;
mod common;
mod support;

use channels_support::{connector_message, count, post_message};
use common::TestServer;
use serde_json::{json, Value};

/// The demo web channel.
const SID: &str = "1122";

/// Customers, conversations, channel sessions and customer messages stored. (Other
/// events follow a new conversation asynchronously, e.g. routing's TASK_ENQUEUED.)
async fn stored_rows(server: &TestServer) -> [i64; 4] {
    [
        count(server, "customers", "1").await,
        count(server, "conversations", "1").await,
        count(server, "channel_sessions", "1").await,
        count(server, "cim_events", "name = 'CUSTOMER_MESSAGE'").await,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_is_accepted_after_commit_and_retries_are_stored_once() {
    let server = TestServer::start().await;
    let (status, ack) =
        post_message(&server, &connector_message("wa-1", SID, "+15550101", "Hi")).await;
    assert_eq!(status, 202, "{ack}");
    assert_eq!(ack["status"], "accepted");
    assert_eq!(ack["messageId"], "wa-1");
    assert_eq!(ack["duplicate"], false);
    let conversation_id = ack["conversationId"]
        .as_str()
        .expect("conversationId")
        .to_string();
    let seq = ack["seq"].as_u64().expect("seq");

    // Acknowledged means stored: the event is readable at once, with the answered seq.
    let where_clause = "message_id = 'wa-1' AND name = 'CUSTOMER_MESSAGE'";
    assert_eq!(count(&server, "cim_events", where_clause).await, 1);
    let stored_seq = count(
        &server,
        "cim_events",
        &format!("message_id = 'wa-1' AND seq = {seq} AND conversation_id = '{conversation_id}'"),
    )
    .await;
    assert_eq!(stored_seq, 1);

    // The connector retries: same answer, marked duplicate, nothing new stored.
    let before = stored_rows(&server).await;
    let (status, again) =
        post_message(&server, &connector_message("wa-1", SID, "+15550101", "Hi")).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["seq"].as_u64(), Some(seq));
    assert_eq!(again["conversationId"], conversation_id);
    assert_eq!(count(&server, "cim_events", where_clause).await, 1);
    assert_eq!(stored_rows(&server).await, before);

    // The next message joins the same conversation and session; the customer is found again.
    let (status, next) = post_message(
        &server,
        &connector_message("wa-2", SID, "+15550101", "Anyone?"),
    )
    .await;
    assert_eq!(status, 202, "{next}");
    assert_eq!(next["conversationId"], conversation_id);
    assert!(next["seq"].as_u64().unwrap() > seq);
    assert_eq!(
        count(&server, "customer_identifiers", "identifier = '+15550101'").await,
        1
    );
    assert_eq!(
        count(
            &server,
            "channel_sessions",
            &format!("conversation_id = '{conversation_id}'")
        )
        .await,
        1,
        "the running session is reused"
    );

    // Another customer gets a conversation of their own.
    let (status, other) = post_message(
        &server,
        &connector_message("wa-3", SID, "+15550202", "Hello"),
    )
    .await;
    assert_eq!(status, 202, "{other}");
    assert_ne!(other["conversationId"], conversation_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_messages_are_refused_naming_the_field_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let before = stored_rows(&server).await;
    let good = connector_message("bad-1", SID, "+15550303", "Hi");

    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut m = good.clone();
    m.as_object_mut().unwrap().remove("id");
    cases.push((m, "id"));
    let mut m = good.clone();
    m["header"].as_object_mut().unwrap().remove("sender");
    cases.push((m, "header.sender"));
    let mut m = good.clone();
    m["header"]["sender"]
        .as_object_mut()
        .unwrap()
        .remove("type");
    cases.push((m, "header.sender.type"));
    let mut m = good.clone();
    m["header"]["sender"]["type"] = json!("AGENT");
    cases.push((m, "header.sender.type"));
    let mut m = good.clone();
    m["header"]["channelData"]
        .as_object_mut()
        .unwrap()
        .remove("serviceIdentifier");
    cases.push((m, "header.channelData.serviceIdentifier"));
    let mut m = good.clone();
    m["header"]["channelData"]["channelCustomerIdentifier"] = json!(42);
    cases.push((m, "header.channelData.channelCustomerIdentifier"));
    let mut m = good.clone();
    m["header"].as_object_mut().unwrap().remove("channelData");
    cases.push((m, "header.channelData"));
    let mut m = good.clone();
    m["body"] = json!({"type": "PLAIN"});
    cases.push((m, "body.markdownText"));
    let mut m = good.clone();
    m.as_object_mut().unwrap().remove("body");
    cases.push((m, "body"));
    cases.push((json!(["not", "a", "message"]), ""));

    for (message, field) in cases {
        let (status, err) = post_message(&server, &message).await;
        assert_eq!(status, 400, "{field}: {err}");
        assert!(
            matches!(
                err["code"].as_str(),
                Some("missing_field" | "invalid_field")
            ),
            "{field}: {err}"
        );
        if !field.is_empty() {
            assert_eq!(err["field"], field, "{err}");
            assert!(err["message"].as_str().unwrap().contains(field), "{err}");
        }
    }

    // Not JSON at all, or not declared as JSON.
    let resp = server
        .http
        .post(server.url("/ccm/message/receive"))
        .header("Content-Type", "application/json")
        .body("{\"id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "bad_request", "{body}");
    let resp = server
        .http
        .post(server.url("/ccm/message/receive"))
        .header("Content-Type", "text/plain")
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);

    // An unknown channel: 404, and no customer is created for it.
    let (status, err) = post_message(
        &server,
        &connector_message("bad-2", "no-such-channel", "+15550303", "Hi"),
    )
    .await;
    assert_eq!(status, 404, "{err}");
    assert_eq!(err["code"], "unknown_channel");
    assert!(err["message"].as_str().unwrap().contains("no-such-channel"));

    // Larger than http.max_body_bytes (1 MiB by default).
    let mut huge = good.clone();
    huge["body"]["markdownText"] = json!("x".repeat(2 * 1024 * 1024));
    let (status, err) = post_message(&server, &huge).await;
    assert_eq!(status, 413, "{err}");
    assert_eq!(err["code"], "payload_too_large");

    assert_eq!(stored_rows(&server).await, before, "nothing was stored");
    // The endpoint still works.
    let (status, ack) = post_message(&server, &good).await;
    assert_eq!(status, 202, "{ack}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_connector_token_is_required() {
    let server =
        TestServer::start_with(|c| c.channels.connector_token = "s3cret-token".into()).await;
    let message = connector_message("tok-1", SID, "+15550404", "Hi");
    let before = stored_rows(&server).await;

    let (status, err) = post_message(&server, &message).await;
    assert_eq!(status, 401, "{err}");
    assert_eq!(err["code"], "unauthenticated");
    let (status, _) = server
        .post("/ccm/message/receive", Some("s3cret-tokeN"), &message)
        .await;
    assert_eq!(status, 401);
    // A user's login token is not a connector token.
    let user = server.login("admin", "admin").await;
    let (status, _) = server
        .post("/ccm/message/receive", Some(&user), &message)
        .await;
    assert_eq!(status, 401);
    assert_eq!(stored_rows(&server).await, before);

    let (status, ack) = server
        .post("/ccm/message/receive", Some("s3cret-token"), &message)
        .await;
    assert_eq!(status, 202, "{ack}");
}
