//! Conversation search through the running appliance, on what is typed: a customer
//! is found by the start of any word of the name, last name or email given in the
//! widget's form, or of an identifier (case and accents ignored), through the index
//! of customer names (migration V23), not a scan; message words and customer words
//! holding FTS5 syntax (`"`, `*`, `NEAR(`, `-`, `OR`) are taken as words and give a
//! correct answer; blank fields are no filter and overlong ones a 400 naming the field.

mod common;

use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::SioClient;

mod support;

const T: Duration = Duration::from_secs(10);

/// Customer `identifier`, with the widget form `attributes`, starts a chat, says
/// `says` while waiting, and leaves.
async fn chat_and_leave(server: &TestServer, identifier: &str, attributes: Value, says: &str) {
    let widget = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": identifier}),
    )
    .await
    .unwrap();
    let form = json!({"additionalAttributes": {"formData": {"attributes": attributes}}});
    let started = widget.emit_ack("CHAT_REQUESTED", form).await.unwrap();
    assert!(started[0]["conversationId"].is_string(), "{started:?}");
    support::chat::customer_says(&widget, says).await;
    widget.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    widget.expect("CHANNEL_SESSION_ENDED", T).await.unwrap();
}

fn attribute(key: &str, value: &str) -> Value {
    json!({"key": key, "value": value, "type": "string"})
}

/// `GET /api/v1/reports/conversations?{query}` as `token`: status and body.
async fn search(server: &TestServer, token: &str, query: &str) -> (u16, Value) {
    server
        .get(
            &format!("/api/v1/reports/conversations?{query}"),
            Some(token),
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_found_by_the_start_of_their_words_and_typed_syntax_is_words() {
    let server = TestServer::start().await;
    chat_and_leave(
        &server,
        "visitor-3141",
        json!([
            attribute("firstName", "José"),
            attribute("lastName", "Quintero"),
            attribute("email", "jq@example.org")
        ]),
        "my order is late, please refund",
    )
    .await;
    chat_and_leave(
        &server,
        "visitor-2718",
        json!([attribute("firstName", "Anna Bell")]),
        "where is my parcel? -urgent- \"tracking\" NEAR(me)",
    )
    .await;
    let admin = server.login("admin", "admin").await;

    for (query, expected, who) in [
        ("customer=jose", 1, "José"),
        ("customer=JOS", 1, "José"),
        ("customer=quint", 1, "José"),
        ("customer=jose%20quin", 1, "José"),
        ("customer=jq%40example", 1, "José"),
        ("customer=visitor-3141", 1, "José"),
        ("customer=3141", 1, "José"),
        ("customer=ann", 1, "Anna Bell"),
        ("customer=bell", 1, "Anna Bell"),
        ("customer=visitor", 2, ""),
        ("customer=%20%20", 2, ""),
        ("customer=", 2, ""),
        // A word's middle is not its start; a name not given is nobody.
        ("customer=ose", 0, ""),
        ("customer=zebulon", 0, ""),
        // FTS5 syntax typed is words: nothing matches, nothing fails.
        ("customer=%22", 0, ""),
        ("customer=*", 0, ""),
        ("customer=NEAR(", 0, ""),
        ("customer=-", 0, ""),
        ("customer=jose%20OR%20anna", 0, ""),
        ("q=refund", 1, "José"),
        ("q=REFUND%20late", 1, "José"),
        ("q=refund%20parcel", 0, ""),
        ("q=%22tracking%22", 1, "Anna Bell"),
        ("q=-urgent-", 1, "Anna Bell"),
        ("q=NEAR(me)", 1, "Anna Bell"),
        ("q=%22", 0, ""),
        ("q=*", 0, ""),
        // `NEAR(` is the word "near", which Anna Bell said.
        ("q=NEAR(", 1, "Anna Bell"),
        ("q=-", 0, ""),
        ("q=refund%20OR%20parcel", 0, ""),
        ("q=refund&customer=anna", 0, ""),
        ("q=parcel&customer=anna", 1, "Anna Bell"),
    ] {
        let (status, body) = search(&server, &admin, query).await;
        assert_eq!(
            (status, body["total"].as_i64()),
            (200, Some(expected)),
            "{query}: {body}"
        );
        if !who.is_empty() {
            assert_eq!(body["items"][0]["customer"], who, "{query}: {body}");
        }
    }

    // Overlong typed fields are refused, naming the field.
    let long = "a".repeat(201);
    for field in ["customer", "q"] {
        let (status, body) = search(&server, &admin, &format!("{field}={long}")).await;
        assert_eq!(
            (status, body["code"].as_str(), body["field"].as_str()),
            (400, Some("invalid_field"), Some(field)),
            "{body}"
        );
    }
    let (status, body) = search(&server, &admin, &format!("customer={}", "a".repeat(200))).await;
    assert_eq!((status, body["total"].as_i64()), (200, Some(0)), "{body}");
}
