//! Channels and pull lists: edited, disabled and deleted, with an audit trail.

use super::{field, id_of};
use crate::common::TestServer;
use crate::support::sio_client::SioClient;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channels_are_edited_disabled_and_deleted() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let queue = id_of(&server, &admin, "/api/v1/queues", "name", "Default").await;
    let body = json!({"name": "Support", "serviceIdentifier": "support-web", "channelType": "WEB",
                      "routingPolicy": {"routingMode": "PUSH", "routingObjectId": queue}});
    let (status, channel) = server.post("/api/v1/channels", Some(&admin), &body).await;
    assert_eq!(status, 201, "{channel}");
    assert_eq!(channel["enabled"], true);
    let id = channel["id"].as_str().unwrap().to_string();
    let (status, err) = server.post("/api/v1/channels", Some(&admin), &body).await;
    assert_eq!(status, 409, "{err}");

    let edit = json!({"name": "Support EU", "serviceIdentifier": "support-web", "channelType": "WEB",
                      "providerWebhook": "https://example.invalid/hook", "customerActivityTimeout": 120,
                      "enabled": false,
                      "routingPolicy": {"routingMode": "PUSH", "routingObjectId": queue, "agentRequestTtl": 60,
                                        "agentSelectionPolicy": "LEAST_ACTIVE_TASKS"}});
    let (status, edited) = server
        .put(&format!("/api/v1/channels/{id}"), Some(&admin), &edit)
        .await;
    assert_eq!(status, 200, "{edited}");
    let (_, read) = server
        .get(&format!("/api/v1/channels/{id}"), Some(&admin))
        .await;
    assert_eq!(read["name"], "Support EU");
    assert_eq!(read["enabled"], false);
    assert_eq!(read["channelConfig"]["customerActivityTimeout"], 120);
    assert_eq!(
        read["channelConfig"]["routingPolicy"]["agentRequestTtl"],
        60
    );
    assert_eq!(
        read["channelConnector"]["channelProviderInterface"]["providerWebhook"],
        "https://example.invalid/hook"
    );
    assert_eq!(
        read["channelConfig"]["id"], channel["channelConfig"]["id"],
        "the config id is kept"
    );
    let (_, disabled) = server
        .get("/api/v1/channels?enabled=false", Some(&admin))
        .await;
    assert_eq!(disabled["total"], 1);
    assert_eq!(disabled["items"][0]["id"], id.as_str());

    // A disabled channel refuses new chats with a clear code.
    let widget = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "support-web", "channelCustomerIdentifier": "w-1"}),
    )
    .await
    .expect("widget connects");
    let ack = widget.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    assert_eq!(ack[0]["code"], "channel_disabled", "{ack:?}");
    widget.close().await;

    let mut bad = edit.clone();
    bad["channelType"] = json!("CX_VOICE");
    let (status, err) = server
        .put(&format!("/api/v1/channels/{id}"), Some(&admin), &bad)
        .await;
    assert_eq!((status, field(&err)), (400, "channelType"));
    let mut bad = edit.clone();
    bad["routingPolicy"]["routingMode"] = json!("SIDEWAYS");
    let (status, err) = server
        .put(&format!("/api/v1/channels/{id}"), Some(&admin), &bad)
        .await;
    assert_eq!((status, field(&err)), (400, "routingPolicy.routingMode"));
    let mut bad = edit.clone();
    bad["providerWebhook"] = json!("ftp://x");
    let (status, err) = server
        .put(&format!("/api/v1/channels/{id}"), Some(&admin), &bad)
        .await;
    assert_eq!((status, field(&err)), (400, "providerWebhook"));

    assert_eq!(
        server
            .delete(&format!("/api/v1/channels/{id}"), Some(&admin))
            .await
            .0,
        204
    );
    assert_eq!(
        server
            .get(&format!("/api/v1/channels/{id}"), Some(&admin))
            .await
            .0,
        404
    );
    let (_, all) = server.get("/api/v1/channels", Some(&admin)).await;
    assert_eq!(all["total"], 2, "only the demo channels are left: {all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_lists_are_created_edited_and_deleted_with_an_audit_trail() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (status, list) = server
        .post(
            "/api/v1/pull-lists",
            Some(&admin),
            &json!({"name": "Callbacks"}),
        )
        .await;
    assert_eq!(status, 201, "{list}");
    let id = list["id"].as_str().unwrap().to_string();
    let (status, err) = server
        .put(
            &format!("/api/v1/pull-lists/{id}"),
            Some(&admin),
            &json!({"name": " "}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "name"));
    let (status, err) = server
        .put(
            &format!("/api/v1/pull-lists/{id}"),
            Some(&admin),
            &json!({"name": "Later", "queueId": "nope"}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "queueId"), "{err}");
    let (status, edited) = server
        .put(
            &format!("/api/v1/pull-lists/{id}"),
            Some(&admin),
            &json!({"name": "Call backs"}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    let (_, read) = server
        .get(&format!("/api/v1/pull-lists/{id}"), Some(&admin))
        .await;
    assert_eq!(read["name"], "Call backs");
    let (status, _) = server
        .delete(&format!("/api/v1/pull-lists/{id}"), Some(&admin))
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        server
            .get(&format!("/api/v1/pull-lists/{id}"), Some(&admin))
            .await
            .0,
        404
    );
    let (_, audit) = server
        .get(
            &format!("/api/v1/audit?entityType=pullList&entityId={id}"),
            Some(&admin),
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let mut sorted = actions.clone();
    sorted.sort();
    assert_eq!(sorted, ["create", "delete", "update"], "{audit}");
    let update = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "update")
        .unwrap();
    assert_eq!(update["before"]["name"], "Callbacks", "{update}");
    assert_eq!(update["after"]["name"], "Call backs", "{update}");
}
