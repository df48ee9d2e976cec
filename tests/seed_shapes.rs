//! The newer seed shapes on a real server, as a desk receives them: `channel.calendarId`,
//! `task.activeMedia[].channelSessions` beside `requestSession`, and
//! `channelData.customerFirstName` / `customerLastName` (from the widget's form, null
//! when not given) in the task's session and in the message headers.

use crate::channels_support;
use crate::common;
use crate::support;

use channels_support::{connector_message, desk, post_message, set_state, CONNECTOR_SID, T};
use common::TestServer;
use serde_json::{json, Value};
use support::sio_client::SioClient;

/// The next `onCimEvent` named `name`.
async fn cim_event(desk: &SioClient, name: &str) -> Value {
    loop {
        let event = desk.expect("onCimEvent", T).await.expect("onCimEvent");
        if event["name"] == name {
            return event;
        }
    }
}

/// Checks the offered task's media: `channelSessions` holds the request session.
fn check_task(offer: &Value) -> Value {
    let media = &offer["task"]["activeMedia"][0];
    let request = media["requestSession"].clone();
    assert!(request["id"].is_string(), "{offer}");
    let sessions = media["channelSessions"]
        .as_array()
        .expect("channelSessions");
    assert_eq!(sessions.len(), 1, "{media}");
    assert_eq!(
        sessions[0], request,
        "the same session beside requestSession"
    );
    assert_eq!(request["channel"]["calendarId"], "", "{request}");
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_widget_chat_reaches_the_desk_in_the_newer_shape() {
    let server = TestServer::start().await;
    let (agent, _) = desk(&server, "agent1").await;
    set_state(&agent, "READY").await;
    let widget = channels_support::widget_on(&server, "1122", "shape-1").await;
    let started = widget
        .emit_ack(
            "CHAT_REQUESTED",
            json!({"additionalAttributes": {"formData": {"attributes": [
                {"key": "firstName", "value": "Jane", "type": "string"},
                {"key": "lastName", "value": "Doe", "type": "string"}
            ]}}}),
        )
        .await
        .expect("CHAT_REQUESTED ack");
    let conversation = started[0]["conversationId"].as_str().unwrap().to_string();
    assert_eq!(
        started[0]["channelSession"]["channel"]["calendarId"], "",
        "{started:?}"
    );

    let offer = agent.expect("taskRequest", T).await.expect("taskRequest");
    let request = check_task(&offer);
    assert_eq!(request["channelData"]["customerFirstName"], "Jane");
    assert_eq!(request["channelData"]["customerLastName"], "Doe");
    agent
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation, "topicParticipant": {"type": "AGENT", "role": "PRIMARY"}}),
        )
        .await
        .expect("topicSubscription ack");

    let said = widget
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "shape-m1", "body": {"type": "PLAIN", "markdownText": "hello"}}),
        )
        .await
        .expect("message ack");
    assert!(said[0]["seq"].is_number(), "{said:?}");
    let message = cim_event(&agent, "CUSTOMER_MESSAGE").await;
    let header = &message["data"]["header"];
    assert_eq!(
        header["channelData"]["customerFirstName"], "Jane",
        "{header}"
    );
    assert_eq!(header["channelSession"]["channel"]["calendarId"], "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_not_given_are_null_not_absent() {
    let server = TestServer::start().await;
    let (agent, _) = desk(&server, "agent1").await;
    set_state(&agent, "READY").await;
    let mut message = connector_message("shape-c1", CONNECTOR_SID, "+15559999", "Hi");
    message["header"]["sender"]
        .as_object_mut()
        .unwrap()
        .remove("senderName");
    let (status, ack) = post_message(&server, &message).await;
    assert_eq!(status, 202, "{ack}");
    let conversation = ack["conversationId"].as_str().unwrap().to_string();
    let offer = agent.expect("taskRequest", T).await.expect("taskRequest");
    assert_eq!(offer["conversationId"], conversation.as_str());
    let request = check_task(&offer);
    let data = request["channelData"].as_object().expect("channelData");
    assert_eq!(
        data.get("customerFirstName"),
        Some(&Value::Null),
        "{data:?}"
    );
    assert_eq!(data.get("customerLastName"), Some(&Value::Null), "{data:?}");
}
