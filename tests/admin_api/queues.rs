//! Queues and capacities: every field read back, and a capacity change that
//! changes routing at once.

use super::{channels_support, desk, field, id_of, T};
use crate::common::TestServer;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_and_capacities_read_back_every_field() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let chat = id_of(&server, &admin, "/api/v1/mrds", "name", "CHAT").await;
    let queue = id_of(&server, &admin, "/api/v1/queues", "name", "Default").await;
    let (_, q) = server
        .get(&format!("/api/v1/queues/{queue}"), Some(&admin))
        .await;
    assert_eq!(q["acceptTimeoutSecs"], Value::Null);
    assert_eq!(
        q["effectiveAcceptTimeoutSecs"], 30,
        "the engine default: {q}"
    );
    assert_eq!(q["agentSlaSecs"], 120);

    // The step editor's check, as the admin types.
    server
        .post(
            "/api/v1/routing-attributes",
            Some(&admin),
            &json!({"name": "billing", "type": "PROFICIENCY"}),
        )
        .await;
    for (expression, valid) in [
        ("billing >= 5", true),
        ("", true),
        ("billing >=", false),
        ("french", false),
    ] {
        let (status, check) = server
            .post(
                "/api/v1/queues/check-expression",
                Some(&admin),
                &json!({"expression": expression}),
            )
            .await;
        assert_eq!(status, 200, "{check}");
        assert_eq!(check["valid"], valid, "{expression}: {check}");
    }
    let (status, err) = server
        .post(
            "/api/v1/queues",
            Some(&admin),
            &json!({"name": "X", "mrdId": chat, "steps": [{"expression": "billing > 1", "timeoutSecs": 5}, {"expression": "french", "timeoutSecs": 5}]}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "steps[1].expression"), "{err}");
    let (status, err) = server
        .post(
            "/api/v1/queues",
            Some(&admin),
            &json!({"name": "X", "mrdId": chat, "priority": 11}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "priority"));
    let (status, err) = server
        .post(
            "/api/v1/queues",
            Some(&admin),
            &json!({"name": "X", "mrdId": "nope"}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "mrdId"));
    for i in 0..3 {
        let (status, q) = server
            .post(
                "/api/v1/queues",
                Some(&admin),
                &json!({"name": format!("Q{i}"), "mrdId": chat, "acceptTimeoutSecs": 12}),
            )
            .await;
        assert_eq!(status, 201, "{q}");
        assert_eq!(q["effectiveAcceptTimeoutSecs"], 12);
    }
    let (_, page) = server
        .get("/api/v1/queues?limit=2&offset=1", Some(&admin))
        .await;
    assert_eq!(page["total"], 4);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["name"], "Q0");
    let (_, page) = server.get("/api/v1/queues?q=q2", Some(&admin)).await;
    assert_eq!(page["total"], 1);

    // Capacities and attributes read back; null removes an attribute.
    let bella = id_of(&server, &admin, "/api/v1/users", "username", "agent1").await;
    let (status, caps) = server
        .put(
            &format!("/api/v1/users/{bella}/capacities"),
            Some(&admin),
            &json!({chat.clone(): 2}),
        )
        .await;
    assert_eq!(status, 200, "{caps}");
    let (_, caps) = server
        .get(&format!("/api/v1/users/{bella}/capacities"), Some(&admin))
        .await;
    assert_eq!(caps["capacities"][&chat], 2, "{caps}");
    let (status, err) = server
        .put(
            &format!("/api/v1/users/{bella}/capacities"),
            Some(&admin),
            &json!({"nope": 2}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "nope"));
    let (status, err) = server
        .put(
            &format!("/api/v1/users/{bella}/capacities"),
            Some(&admin),
            &json!({chat.clone(): 101}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, chat.as_str()));
    // null removes the capacity (not 0): it no longer reads back, and routing uses
    // the MRD's default again.
    let (status, caps) = server
        .put(
            &format!("/api/v1/users/{bella}/capacities"),
            Some(&admin),
            &json!({chat.clone(): null}),
        )
        .await;
    assert_eq!(status, 200, "{caps}");
    assert!(caps["capacities"].get(&chat).is_none(), "{caps}");
    let (_, caps) = server
        .get(&format!("/api/v1/users/{bella}/capacities"), Some(&admin))
        .await;
    assert!(caps["capacities"].get(&chat).is_none(), "{caps}");
    let (_, agents) = server.get("/api/v1/agents", Some(&admin)).await;
    let (_, chat_default) = server.get("/api/v1/mrds", Some(&admin)).await;
    let default_max = chat_default
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == chat.as_str())
        .unwrap()["maxTasks"]
        .clone();
    let bella_view = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agentId"] == bella.as_str())
        .unwrap_or_else(|| panic!("agent1 in {agents}"));
    let chat_view = bella_view["mrdStates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["mrdId"] == chat.as_str())
        .unwrap();
    assert_eq!(chat_view["maxAgentTasks"], default_max, "{chat_view}");
    server
        .put(
            &format!("/api/v1/users/{bella}/capacities"),
            Some(&admin),
            &json!({chat.clone(): 2}),
        )
        .await;
    server
        .put(
            &format!("/api/v1/users/{bella}/attributes"),
            Some(&admin),
            &json!({"billing": 7}),
        )
        .await;
    let supervisor = server.login("supervisor", "supervisor").await;
    let (status, attrs) = server
        .get(
            &format!("/api/v1/users/{bella}/attributes"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(attrs["attributes"]["billing"], 7, "{attrs}");
    let (status, err) = server
        .put(
            &format!("/api/v1/users/{bella}/attributes"),
            Some(&admin),
            &json!({"billing": true}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "billing"));
    let (_, attrs) = server
        .put(
            &format!("/api/v1/users/{bella}/attributes"),
            Some(&admin),
            &json!({"billing": null}),
        )
        .await;
    assert_eq!(attrs["attributes"], json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capacity_change_changes_routing_at_once() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let chat = id_of(&server, &admin, "/api/v1/mrds", "name", "CHAT").await;
    let agent1_id = id_of(&server, &admin, "/api/v1/users", "username", "agent1").await;
    // agent1 is ready longest, so it would get the next chat...
    let agent1 = desk(&server, &server.login("agent1", "agent1").await).await;
    channels_support::set_state(&agent1, "READY").await;
    let agent2 = desk(&server, &server.login("agent2", "agent2").await).await;
    channels_support::set_state(&agent2, "READY").await;
    // ...until its CHAT capacity drops to 0.
    let (status, _) = server
        .put(
            &format!("/api/v1/users/{agent1_id}/capacities"),
            Some(&admin),
            &json!({chat: 0}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, ack) = channels_support::post_message(
        &server,
        &channels_support::connector_message(
            "cap-1",
            channels_support::CONNECTOR_SID,
            "cap-c",
            "hi",
        ),
    )
    .await;
    assert_eq!(status, 202, "{ack}");
    let offer = agent2
        .expect("taskRequest", T)
        .await
        .expect("agent2 gets the chat");
    assert_eq!(offer["conversationId"], ack["conversationId"]);
}
