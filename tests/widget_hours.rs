//! Issue 17 through the real server: a channel's pre-chat form and business hours are
//! checked, stored and audited by the admin API and read by the public widget route;
//! the widget's answers are checked against the form before anything is written; a new
//! chat outside hours is refused, and a message left then is routed when the hours open.

use crate::channels_support;
use crate::common;
use crate::support;

use channels_support::{desk, set_state, widget_on, T};
use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::SioClient;

fn count(server: &TestServer, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(server.data_dir().join("switchboard.db")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The demo web channel's id.
async fn web_channel(server: &TestServer, token: &str) -> String {
    let (status, page) = server.get("/api/v1/channels?q=1122", Some(token)).await;
    assert_eq!(status, 200, "{page}");
    page["items"][0]["id"]
        .as_str()
        .expect("channel 1122")
        .to_owned()
}

fn form_data(pairs: &[(&str, &str)]) -> Value {
    let attributes: Vec<Value> = pairs
        .iter()
        .map(|(k, v)| json!({"key": k, "value": v, "type": "string"}))
        .collect();
    json!({"additionalAttributes": {"formData": {"attributes": attributes}}})
}

fn always_closed() -> Value {
    json!({"enabled": true, "timeZone": "Europe/Berlin", "weekly": {}, "holidays": []})
}

fn always_open() -> Value {
    json!({"enabled": false, "timeZone": null, "weekly": {}, "holidays": []})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_and_hours_are_checked_stored_and_read_by_the_widget() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let supervisor = server.login("supervisor", "supervisor").await;
    let id = web_channel(&server, &admin).await;
    let form_path = format!("/api/v1/channels/{id}/prechat-form");
    let hours_path = format!("/api/v1/channels/{id}/business-hours");

    let (status, form) = server.get(&form_path, Some(&supervisor)).await;
    assert_eq!(status, 200);
    assert_eq!(
        form,
        json!({"name": "optional", "email": "hidden", "fields": []})
    );

    // Bad forms name their field and change nothing.
    let topic = json!({"label": "Topic", "key": "topic", "type": "select", "required": true, "options": ["Billing", "Delivery"]});
    for (body, field) in [
        (
            json!({"name": "required", "email": "optional", "fields": [{"label": "Mail", "key": "email", "type": "text"}]}),
            "fields[0].key",
        ),
        (
            json!({"name": "required", "email": "optional", "fields": [{"label": "Topic", "key": "topic", "type": "select", "options": []}]}),
            "fields[0].options",
        ),
        (
            json!({"name": "required", "email": "optional", "fields": [topic, topic]}),
            "fields[1].key",
        ),
        (json!({"name": "sometimes", "email": "optional"}), "name"),
        (
            json!({"name": "required", "email": "optional", "colour": "blue"}),
            "colour",
        ),
    ] {
        let (status, err) = server.put(&form_path, Some(&admin), &body).await;
        assert_eq!(status, 400, "{body} → {err}");
        assert_eq!(err["field"], field, "{body} → {err}");
    }
    let (status, _) = server
        .put(
            &form_path,
            Some(&supervisor),
            &json!({"name": "required", "email": "optional"}),
        )
        .await;
    assert_eq!(status, 403, "supervisors read, admins change");
    assert_eq!(
        server.get(&form_path, Some(&admin)).await.1,
        form,
        "unchanged"
    );

    let good = json!({"name": "required", "email": "optional", "fields": [topic]});
    let (status, saved) = server.put(&form_path, Some(&admin), &good).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(server.get(&form_path, Some(&supervisor)).await.1, good);

    // Bad hours likewise.
    let (status, hours) = server.get(&hours_path, Some(&supervisor)).await;
    assert_eq!(status, 200);
    assert_eq!(hours["enabled"], false);
    for (body, field) in [
        (
            json!({"enabled": true, "timeZone": "Mars/Olympus"}),
            "timeZone",
        ),
        (
            json!({"enabled": true, "weekly": {"monday": [{"open": "09:00", "close": "25:00"}]}}),
            "weekly.monday[0].close",
        ),
        (
            json!({"enabled": true, "weekly": {"monday": [{"open": "9am", "close": "17:00"}]}}),
            "weekly.monday[0].open",
        ),
        (
            json!({"enabled": true, "weekly": {"friday": [{"open": "09:00", "close": "13:00"}, {"open": "12:00", "close": "18:00"}]}}),
            "weekly.friday",
        ),
        (
            json!({"enabled": true, "holidays": [{"date": "2026-13-01"}]}),
            "holidays[0].date",
        ),
        (
            json!({"enabled": true, "weekly": {"funday": []}}),
            "weekly.funday",
        ),
    ] {
        let (status, err) = server.put(&hours_path, Some(&admin), &body).await;
        assert_eq!(status, 400, "{body} → {err}");
        assert_eq!(err["code"], "invalid_field", "{err}");
        assert_eq!(err["field"], field, "{body} → {err}");
    }
    assert_eq!(
        server.get(&hours_path, Some(&admin)).await.1,
        hours,
        "unchanged"
    );

    let week = json!({"enabled": true, "timeZone": "Europe/Berlin",
        "weekly": {"monday": [{"open": "09:00", "close": "17:00"}], "friday": [{"open": "22:00", "close": "02:00"}],
                   "tuesday": [], "wednesday": [], "thursday": [], "saturday": [], "sunday": []},
        "holidays": [{"date": "2026-12-25", "label": "Christmas Day"}]});
    let (status, saved) = server.put(&hours_path, Some(&admin), &week).await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(server.get(&hours_path, Some(&admin)).await.1, week);
    let (status, _) = server
        .put("/api/v1/channels/nope/business-hours", Some(&admin), &week)
        .await;
    assert_eq!(status, 404);

    // The widget reads the form and the hours without a credential.
    let (status, info) = server.get("/api/v1/widget/channels/1122", None).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["prechatForm"], good);
    assert_eq!(info["timeZone"], "Europe/Berlin");
    assert_eq!(info["enabled"], true);
    let open = info["open"].as_bool().unwrap();
    assert_eq!(info["nextOpen"].is_null(), open, "{info}");
    let (status, _) = server.get("/api/v1/widget/channels/nope", None).await;
    assert_eq!(status, 404);

    server
        .put(&hours_path, Some(&admin), &always_closed())
        .await;
    let (_, info) = server.get("/api/v1/widget/channels/1122", None).await;
    assert_eq!(
        (info["open"].clone(), info["nextOpen"].clone()),
        (json!(false), Value::Null),
        "{info}"
    );

    // Both changes are in the audit log.
    let audited = count(
        &server,
        "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'channel' AND action = 'update'",
    );
    assert!(audited >= 3, "{audited} audit entries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_form_is_checked_before_anything_is_written() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let id = web_channel(&server, &admin).await;
    let form = json!({"name": "required", "email": "optional", "fields": [
        {"label": "Topic", "key": "topic", "type": "select", "required": true, "options": ["Billing", "Delivery"]},
        {"label": "Order number", "key": "orderNumber", "type": "text"}]});
    let (status, _) = server
        .put(
            &format!("/api/v1/channels/{id}/prechat-form"),
            Some(&admin),
            &form,
        )
        .await;
    assert_eq!(status, 200);

    let customers = count(&server, "SELECT COUNT(*) FROM customers");
    let conversations = count(&server, "SELECT COUNT(*) FROM conversations");
    let widget = widget_on(&server, "1122", "form-1").await;
    for (payload, code, field) in [
        (json!({}), "missing_field", "formData.firstName"),
        (
            form_data(&[("firstName", "Ada")]),
            "missing_field",
            "formData.topic",
        ),
        (
            form_data(&[("firstName", "Ada"), ("topic", "Refunds")]),
            "invalid_field",
            "formData.topic",
        ),
        (
            form_data(&[
                ("firstName", "Ada"),
                ("topic", "Billing"),
                ("email", "not-an-email"),
            ]),
            "invalid_field",
            "formData.email",
        ),
        (
            form_data(&[
                ("firstName", "Ada"),
                ("topic", "Billing"),
                ("shoeSize", "42"),
            ]),
            "invalid_field",
            "formData.shoeSize",
        ),
        (
            form_data(&[("firstName", &"x".repeat(300)), ("topic", "Billing")]),
            "invalid_field",
            "formData.firstName",
        ),
    ] {
        let ack = widget
            .emit_ack("CHAT_REQUESTED", payload.clone())
            .await
            .unwrap();
        assert_eq!(ack[0]["status"], "error", "{payload} → {ack:?}");
        assert_eq!(ack[0]["code"], code, "{payload} → {ack:?}");
        assert!(
            ack[0]["message"].as_str().unwrap().contains(field),
            "{payload} → {ack:?}"
        );
    }
    // A first message would start a chat: it is checked the same way.
    let ack = widget
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "m-1", "body": {"type": "PLAIN", "markdownText": "hi"}}),
        )
        .await
        .unwrap();
    assert_eq!(ack[0]["code"], "missing_field", "{ack:?}");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM customers"), customers);
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM conversations"),
        conversations
    );

    let ack = widget
        .emit_ack(
            "CHAT_REQUESTED",
            form_data(&[
                ("firstName", "Ada"),
                ("lastName", "Lovelace"),
                ("email", "ada@example.org"),
                ("topic", "Delivery"),
            ]),
        )
        .await
        .unwrap();
    assert!(ack[0]["conversationId"].is_string(), "{ack:?}");
    let customer = &ack[0]["channelSession"]["customer"];
    assert_eq!(
        (
            customer["firstName"].as_str(),
            customer["lastName"].as_str()
        ),
        (Some("Ada"), Some("Lovelace"))
    );
    let attributes = &ack[0]["channelSession"]["channelData"]["additionalAttributes"][0]["value"]
        ["formData"]["attributes"];
    assert!(
        attributes
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"] == "topic" && a["value"] == "Delivery"),
        "{attributes}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_left_outside_hours_is_routed_when_they_open() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let id = web_channel(&server, &admin).await;
    let hours_path = format!("/api/v1/channels/{id}/business-hours");
    let (status, _) = server
        .put(&hours_path, Some(&admin), &always_closed())
        .await;
    assert_eq!(status, 200);
    let (agent, _) = desk(&server, "agent1").await;
    set_state(&agent, "READY").await;

    // A chat is refused outside hours, and nothing is written.
    let customers = count(&server, "SELECT COUNT(*) FROM customers");
    let widget = widget_on(&server, "1122", "left-1").await;
    let ack = widget
        .emit_ack("CHAT_REQUESTED", form_data(&[("firstName", "Grace")]))
        .await
        .unwrap();
    assert_eq!(ack[0]["code"], "closed", "{ack:?}");
    assert_eq!(count(&server, "SELECT COUNT(*) FROM customers"), customers);

    // Bad left messages are refused, nothing written.
    for bad in [
        json!({"message": {"id": "l-1", "body": {"type": "PLAIN", "markdownText": "  "}}}),
        json!({"additionalAttributes": {"formData": {"attributes": [{"key": "email", "value": "nope"}]}},
               "message": {"id": "l-1", "body": {"type": "PLAIN", "markdownText": "hi"}}}),
        json!({"message": {"id": "l-1", "body": {"type": "PLAIN", "markdownText": "hi"}}, "priority": 9}),
    ] {
        let ack = widget.emit_ack("MESSAGE_LEFT", bad.clone()).await.unwrap();
        assert_eq!(ack[0]["status"], "error", "{bad} → {ack:?}");
    }
    assert_eq!(count(&server, "SELECT COUNT(*) FROM customers"), customers);

    // The message is left: stored, the customer named and emailed, not routed.
    let mut left = form_data(&[("firstName", "Grace"), ("email", "grace@example.org")]);
    left["message"] = json!({"id": "l-1", "body": {"type": "PLAIN", "markdownText": "Please call me back about my order"}});
    let ack = widget.emit_ack("MESSAGE_LEFT", left).await.unwrap();
    assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    assert_eq!(ack[0]["open"], false);
    let conversation = ack[0]["conversationId"].as_str().unwrap().to_owned();
    let secret = ack[0]["sessionSecret"].as_str().unwrap().to_owned();
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM customers WHERE first_name = 'Grace' AND json_extract(data, '$.email') = 'grace@example.org'"),
        1
    );
    agent
        .expect_silence("taskRequest", Duration::from_millis(800))
        .await
        .expect("not routed while closed");
    widget.close().await;

    // The admin opens the hours: the chat is offered at once and the agent reads it.
    let (status, _) = server.put(&hours_path, Some(&admin), &always_open()).await;
    assert_eq!(status, 200);
    let offer = agent
        .expect("taskRequest", T)
        .await
        .expect("offered when open");
    assert_eq!(offer["conversationId"], conversation.as_str(), "{offer}");
    let topic = agent
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation, "topicParticipant": {"type": "AGENT", "role": "PRIMARY"}}),
        )
        .await
        .unwrap();
    let events = topic[0]["topicData"]["events"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["name"] == "CUSTOMER_MESSAGE"
            && e["data"]["body"]["markdownText"] == "Please call me back about my order"),
        "{events:?}"
    );
    channels_support::answer(&agent, &conversation, "Calling you now").await;

    // The customer comes back with the chat's secret and reads the reply.
    let back = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": "left-1",
               "sessionSecret": secret, "lastSeq": 0}),
    )
    .await
    .expect("the customer comes back");
    let reply = loop {
        let event = back
            .expect("MESSAGE_RECEIVED", T)
            .await
            .expect("the transcript");
        if event["name"] == "AGENT_MESSAGE" {
            break event;
        }
    };
    assert_eq!(reply["data"]["body"]["markdownText"], "Calling you now");
}
