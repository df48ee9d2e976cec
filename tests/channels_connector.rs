//! The connector endpoint `POST /ccm/message/receive` on a real server: accepted
//! after commit, idempotent on the message id, bad input refused with the field named
//! and nothing stored; a connector credential required, good for its own channel only,
//! never for a web (widget) channel; disabled channels take no new chats.

use crate::channels_support;
use crate::common;

use channels_support::{
    connector_message, count, post_message, set_connector_token, CONNECTOR_SID,
};
use common::TestServer;
use serde_json::{json, Value};

/// The demo connector channel.
const SID: &str = CONNECTOR_SID;

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

    // Longer than any id may be (a 500,000-character id was stored once).
    let mut m = good.clone();
    m["id"] = json!("x".repeat(500_000));
    let (status, err) = post_message(&server, &m).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["field"], "id");

    // Not JSON at all, or not declared as JSON.
    let token = set_connector_token(&server, SID).await;
    let resp = server
        .http
        .post(server.url("/ccm/message/receive"))
        .bearer_auth(&token)
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
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body(good.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);

    // A channel token names its own channel only: an unknown one is another's.
    let (status, err) = server
        .post(
            "/ccm/message/receive",
            Some(&token),
            &connector_message("bad-2", "no-such-channel", "+15550303", "Hi"),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["code"], "wrong_channel");

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
async fn a_connector_credential_is_required_and_names_its_channels() {
    let server = TestServer::start().await;
    let message = connector_message("tok-1", SID, "+15550404", "Hi");
    let before = stored_rows(&server).await;

    // No token (the default configuration has no site-wide one), a wrong one, or a
    // user's login token: 401, checked before the body is read.
    let (status, err) = server.post("/ccm/message/receive", None, &message).await;
    assert_eq!(status, 401, "{err}");
    assert_eq!(err["code"], "unauthenticated");
    let (status, err) = server
        .post("/ccm/message/receive", None, &json!("not a message"))
        .await;
    assert_eq!(status, 401, "{err}");
    let token = set_connector_token(&server, SID).await;
    let (status, _) = server
        .post("/ccm/message/receive", Some(&format!("{token}x")), &message)
        .await;
    assert_eq!(status, 401);
    let user = server.login("admin", "admin").await;
    let (status, _) = server
        .post("/ccm/message/receive", Some(&user), &message)
        .await;
    assert_eq!(status, 401);

    // A channel created through the admin API comes with its own token, shown once.
    let (_, queues) = server.get("/api/v1/queues", Some(&user)).await;
    let queue = queues["items"][0]["id"].as_str().unwrap().to_string();
    let (status, sms) = server
        .post(
            "/api/v1/channels",
            Some(&user),
            &json!({"name": "sms", "serviceIdentifier": "sms-1", "channelType": "WHATSAPP",
                    "routingPolicy": {"routingObjectId": queue}}),
        )
        .await;
    assert_eq!(status, 201, "{sms}");
    let sms_token = sms["connectorToken"]
        .as_str()
        .expect("connectorToken")
        .to_string();
    let sms_id = sms["id"].as_str().unwrap().to_string();
    let (_, read) = server
        .get(&format!("/api/v1/channels/{sms_id}"), Some(&user))
        .await;
    assert!(read.get("connectorToken").is_none(), "shown once: {read}");
    // ...good for that channel only.
    let (status, err) = server
        .post("/ccm/message/receive", Some(&sms_token), &message)
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["code"], "wrong_channel");
    assert_eq!(stored_rows(&server).await, before, "nothing stored");
    let (status, ack) = server
        .post(
            "/ccm/message/receive",
            Some(&sms_token),
            &connector_message("tok-2", "sms-1", "+15550404", "Hi"),
        )
        .await;
    assert_eq!(status, 202, "{ack}");
    // A new token replaces the old one at once.
    let (status, fresh) = server
        .post(
            &format!("/api/v1/channels/{sms_id}/connector-token"),
            Some(&user),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{fresh}");
    let fresh = fresh["connectorToken"].as_str().unwrap().to_string();
    let next = connector_message("tok-3", "sms-1", "+15550404", "Again");
    let (status, _) = server
        .post("/ccm/message/receive", Some(&sms_token), &next)
        .await;
    assert_eq!(status, 401, "the old token is gone");
    let (status, ack) = server
        .post("/ccm/message/receive", Some(&fresh), &next)
        .await;
    assert_eq!(status, 202, "{ack}");
    // Web channels have no connector token; agents cannot make one.
    let (_, channels) = server.get("/api/v1/channels?q=1122", Some(&user)).await;
    let web_id = channels["items"][0]["id"].as_str().unwrap().to_string();
    let (status, err) = server
        .post(
            &format!("/api/v1/channels/{web_id}/connector-token"),
            Some(&user),
            &json!({}),
        )
        .await;
    assert_eq!(status, 400, "{err}");
    let agent = server.login("agent1", "agent1").await;
    let (status, _) = server
        .post(
            &format!("/api/v1/channels/{sms_id}/connector-token"),
            Some(&agent),
            &json!({}),
        )
        .await;
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_site_wide_token_posts_to_connector_channels_but_never_into_widget_chats() {
    let server =
        TestServer::start_with(|c| c.channels.connector_token = "s3cret-token".into()).await;
    // A customer chatting in the widget of web channel 1122.
    let (_widget, conversation) = channels_support::start_chat(&server, "web-cust-1").await;
    let before = stored_rows(&server).await;
    let into_widget = connector_message("inj-1", "1122", "web-cust-1", "I am the customer");
    let (status, err) = server
        .post("/ccm/message/receive", Some("s3cret-tokeN"), &into_widget)
        .await;
    assert_eq!(status, 401, "{err}");
    let (status, err) = server
        .post("/ccm/message/receive", Some("s3cret-token"), &into_widget)
        .await;
    assert_eq!(status, 403, "{err}");
    assert_eq!(err["code"], "web_channel");
    assert_eq!(stored_rows(&server).await, before, "nothing stored");
    assert_eq!(
        count(
            &server,
            "cim_events",
            &format!("conversation_id = '{conversation}' AND message_id = 'inj-1'")
        )
        .await,
        0
    );
    // Unknown channels are 404 for the site-wide token.
    let (status, err) = server
        .post(
            "/ccm/message/receive",
            Some("s3cret-token"),
            &connector_message("tok-4", "no-such-channel", "+15550404", "Hi"),
        )
        .await;
    assert_eq!(status, 404, "{err}");
    assert_eq!(err["code"], "unknown_channel");
    assert!(err["message"].as_str().unwrap().contains("no-such-channel"));
    // The demo connector channel takes it.
    let (status, ack) = server
        .post(
            "/ccm/message/receive",
            Some("s3cret-token"),
            &connector_message("tok-5", SID, "+15550404", "Hi"),
        )
        .await;
    assert_eq!(status, 202, "{ack}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_channel_takes_no_new_chats_and_running_ones_finish() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (status, ack) =
        post_message(&server, &connector_message("dis-1", SID, "+15550606", "Hi")).await;
    assert_eq!(status, 202, "{ack}");
    let (_, channels) = server
        .get(&format!("/api/v1/channels?q={SID}"), Some(&admin))
        .await;
    let mut channel = channels["items"][0].clone();
    let id = channel["id"].as_str().unwrap().to_string();
    let policy = &channel["channelConfig"]["routingPolicy"];
    let edit = json!({
        "name": channel["name"], "serviceIdentifier": SID, "channelType": "WHATSAPP",
        "enabled": false,
        "routingPolicy": {"routingObjectId": policy["routingObjectId"]},
    });
    let (status, body) = server
        .put(&format!("/api/v1/channels/{id}"), Some(&admin), &edit)
        .await;
    assert_eq!(status, 200, "{body}");
    channel = body;
    assert_eq!(channel["enabled"], false);

    let before = stored_rows(&server).await;
    let (status, err) =
        post_message(&server, &connector_message("dis-2", SID, "+15550707", "Hi")).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["code"], "channel_disabled");
    assert!(
        err["message"].as_str().unwrap().contains("disabled"),
        "{err}"
    );
    assert_eq!(
        stored_rows(&server).await,
        before,
        "no customer, nothing stored"
    );
    // The running chat goes on.
    let (status, next) = post_message(
        &server,
        &connector_message("dis-3", SID, "+15550606", "Still there?"),
    )
    .await;
    assert_eq!(status, 202, "{next}");
    assert_eq!(next["conversationId"], ack["conversationId"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connector_names_the_customer_with_the_latest_name_given() {
    let server = TestServer::start().await;
    let first_name = |server: &TestServer| {
        let store = server.running.as_ref().unwrap().store.clone();
        async move {
            store
                .read(|c| {
                    Ok(c.query_row(
                        "SELECT c.first_name, json_extract(c.data, '$.lastName') FROM customers c
                         JOIN customer_identifiers i ON i.customer_id = c.id
                         WHERE i.identifier = '+15550808'",
                        [],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
                    )?)
                })
                .await
                .unwrap()
        }
    };
    let mut m = connector_message("name-1", SID, "+15550808", "Hi");
    m["header"]["sender"]["senderName"] = json!("Pat");
    let (status, ack) = post_message(&server, &m).await;
    assert_eq!(status, 202, "{ack}");
    assert_eq!(first_name(&server).await, ("Pat".to_string(), None));
    // A known customer renamed (not only new ones).
    let mut m = connector_message("name-2", SID, "+15550808", "It's Patricia");
    m["header"]["sender"]["senderName"] = json!("Patricia");
    let (status, _) = post_message(&server, &m).await;
    assert_eq!(status, 202);
    assert_eq!(first_name(&server).await, ("Patricia".to_string(), None));
    // The channel data's name parts win over senderName; no name keeps the last one.
    let mut m = connector_message("name-3", SID, "+15550808", "Full name");
    m["header"]["channelData"]["customerFirstName"] = json!("Patricia");
    m["header"]["channelData"]["customerLastName"] = json!("Jones");
    let (status, _) = post_message(&server, &m).await;
    assert_eq!(status, 202);
    let mut m = connector_message("name-4", SID, "+15550808", "no name");
    m["header"]["sender"]
        .as_object_mut()
        .unwrap()
        .remove("senderName");
    let (status, _) = post_message(&server, &m).await;
    assert_eq!(status, 202);
    assert_eq!(
        first_name(&server).await,
        ("Patricia".to_string(), Some("Jones".to_string()))
    );
}
