//! Deletes refused (409, nothing changed) while something uses the entity.

use super::id_of;
use crate::common::TestServer;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_are_refused_while_something_uses_the_entity() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let queue = id_of(&server, &admin, "/api/v1/queues", "name", "Default").await;
    let chat = id_of(&server, &admin, "/api/v1/mrds", "name", "CHAT").await;

    // The demo web channel routes to Default: the delete is refused, naming it.
    let (status, err) = server
        .delete(&format!("/api/v1/queues/{queue}"), Some(&admin))
        .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["blockers"][0]["type"], "channel", "{err}");
    assert_eq!(err["blockers"][0]["name"], "web", "{err}");
    assert!(err["message"].as_str().unwrap().contains("web"), "{err}");
    assert_eq!(
        server
            .get(&format!("/api/v1/queues/{queue}"), Some(&admin))
            .await
            .0,
        200,
        "nothing changed"
    );
    // MRD in use by the queue (and the channel type).
    let (status, err) = server
        .delete(&format!("/api/v1/mrds/{chat}"), Some(&admin))
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(
        err["blockers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["type"] == "queue" && b["name"] == "Default"),
        "{err}"
    );

    // A routing attribute used by a step: no delete, no rename.
    let (_, attr) = server
        .post(
            "/api/v1/routing-attributes",
            Some(&admin),
            &json!({"name": "billing", "type": "PROFICIENCY"}),
        )
        .await;
    let attr_id = attr["id"].as_str().unwrap().to_string();
    let (status, billing) = server
        .post(
            "/api/v1/queues",
            Some(&admin),
            &json!({"name": "Billing", "mrdId": chat, "steps": [
                {"expression": "billing >= 5", "timeoutSecs": 10}, {"expression": "", "timeoutSecs": 0}]}),
        )
        .await;
    assert_eq!(status, 201, "{billing}");
    let billing_id = billing["id"].as_str().unwrap().to_string();
    let (status, err) = server
        .delete(
            &format!("/api/v1/routing-attributes/{attr_id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["blockers"][0]["name"], "Billing");
    let (status, _) = server
        .put(
            &format!("/api/v1/routing-attributes/{attr_id}"),
            Some(&admin),
            &json!({"name": "bills", "type": "PROFICIENCY"}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, a) = server
        .put(
            &format!("/api/v1/routing-attributes/{attr_id}"),
            Some(&admin),
            &json!({"name": "billing", "type": "PROFICIENCY", "description": "invoices"}),
        )
        .await;
    assert_eq!((status, a["description"].as_str()), (200, Some("invoices")));

    // A pull list routed to by a channel, and routing to the queue.
    let (_, list) = server
        .post(
            "/api/v1/pull-lists",
            Some(&admin),
            &json!({"name": "Leads", "queueId": billing_id}),
        )
        .await;
    let list_id = list["id"].as_str().unwrap().to_string();
    let (status, err) = server
        .delete(&format!("/api/v1/queues/{billing_id}"), Some(&admin))
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        (
            err["blockers"][0]["type"].as_str(),
            err["blockers"][0]["name"].as_str()
        ),
        (Some("pullList"), Some("Leads"))
    );
    let (status, channel) = server
        .post(
            "/api/v1/channels",
            Some(&admin),
            &json!({"name": "leads", "serviceIdentifier": "leads-1", "channelType": "WEB",
                    "routingPolicy": {"routingMode": "PULL", "routingObjectId": list_id}}),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let (status, err) = server
        .delete(&format!("/api/v1/pull-lists/{list_id}"), Some(&admin))
        .await;
    assert_eq!(
        (status, err["blockers"][0]["name"].as_str()),
        (409, Some("leads"))
    );

    // Once nothing uses them, they go.
    let channel_id = channel["id"].as_str().unwrap();
    assert_eq!(
        server
            .delete(&format!("/api/v1/channels/{channel_id}"), Some(&admin))
            .await
            .0,
        204
    );
    assert_eq!(
        server
            .delete(&format!("/api/v1/pull-lists/{list_id}"), Some(&admin))
            .await
            .0,
        204
    );
    assert_eq!(
        server
            .delete(&format!("/api/v1/queues/{billing_id}"), Some(&admin))
            .await
            .0,
        204
    );
    assert_eq!(
        server
            .delete(
                &format!("/api/v1/routing-attributes/{attr_id}"),
                Some(&admin)
            )
            .await
            .0,
        204
    );
    let (_, mrd) = server
        .post(
            "/api/v1/mrds",
            Some(&admin),
            &json!({"name": "EMAIL", "maxTasks": 3}),
        )
        .await;
    let mrd_id = mrd["id"].as_str().unwrap();
    assert_eq!(
        server
            .get(&format!("/api/v1/mrds/{mrd_id}"), Some(&admin))
            .await
            .0,
        200
    );
    assert_eq!(
        server
            .delete(&format!("/api/v1/mrds/{mrd_id}"), Some(&admin))
            .await
            .0,
        204
    );
    let (_, audit) = server
        .get("/api/v1/audit?action=delete", Some(&admin))
        .await;
    assert_eq!(audit["total"], 5, "{audit}");
}
