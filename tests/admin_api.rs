//! The admin REST API on a real server: users, teams, MRDs, routing attributes,
//! queues, channels, pull lists, codes and canned responses created, read, edited and
//! deleted; validation errors naming the field; deletes refused (409, nothing
//! changed) while something uses the entity; role checks before body validation;
//! every change in the audit log.

mod channels_support;
mod common;
mod support;

use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::{token_auth, SioClient};

const T: Duration = Duration::from_secs(10);

fn field(body: &Value) -> &str {
    body["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no field in {body}"))
}

async fn id_of(server: &TestServer, token: &str, path: &str, key: &str, value: &str) -> String {
    let (status, body) = server.get(path, Some(token)).await;
    assert_eq!(status, 200, "{body}");
    let list = body
        .get("items")
        .unwrap_or(&body)
        .as_array()
        .unwrap()
        .clone();
    list.iter()
        .find(|x| x[key] == value)
        .unwrap_or_else(|| panic!("{value} not in {path}: {body}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn desk(server: &TestServer, token: &str) -> SioClient {
    let desk = SioClient::connect(server.addr, "/", token_auth(token))
        .await
        .expect("desk connects");
    desk.expect("agentPresence", T).await.expect("presence");
    desk
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_checks_come_before_body_validation() {
    let server = TestServer::start().await;
    let agent = server.login("agent1", "agent1").await;
    let supervisor = server.login("supervisor", "supervisor").await;
    let admin_routes = [
        ("POST", "/api/v1/users"),
        ("PUT", "/api/v1/users/x"),
        ("POST", "/api/v1/users/x/password"),
        ("PUT", "/api/v1/users/x/capacities"),
        ("POST", "/api/v1/teams"),
        ("POST", "/api/v1/mrds"),
        ("POST", "/api/v1/routing-attributes"),
        ("POST", "/api/v1/queues"),
        ("POST", "/api/v1/queues/check-expression"),
        ("POST", "/api/v1/channels"),
        ("POST", "/api/v1/pull-lists"),
        ("POST", "/api/v1/reason-codes"),
        ("POST", "/api/v1/wrapup-codes"),
        ("POST", "/api/v1/canned-responses"),
    ];
    for (method, path) in admin_routes {
        for token in [&agent, &supervisor] {
            let resp = server
                .http
                .request(method.parse().unwrap(), server.url(path))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body("{\"bogus\": ")
                .send()
                .await
                .unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            assert_eq!(status, 403, "{method} {path}: {body}");
            assert_eq!(body["code"], "forbidden", "{method} {path}: {body}");
        }
    }
    // No token at all: 401 before anything else.
    let (status, _) = server.post("/api/v1/users", None, &json!({"x": 1})).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_created_edited_disabled_and_deleted() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (status, team) = server
        .post("/api/v1/teams", Some(&admin), &json!({"name": "Billing"}))
        .await;
    assert_eq!(status, 201, "{team}");
    let team_id = team["id"].as_str().unwrap().to_string();

    // Validation names the field.
    for (body, expected) in [
        (
            json!({"username": "bad name", "password": "secret", "role": "agent"}),
            "username",
        ),
        (
            json!({"username": "bella", "password": "abc", "role": "agent"}),
            "password",
        ),
        (
            json!({"username": "bella", "password": "secret", "role": "boss"}),
            "role",
        ),
        (
            json!({"username": "bella", "password": "secret", "role": "agent", "teamId": "nope"}),
            "teamId",
        ),
        (
            json!({"username": "bella", "password": "secret", "role": "agent", "colour": 1}),
            "colour",
        ),
    ] {
        let (status, err) = server.post("/api/v1/users", Some(&admin), &body).await;
        assert_eq!(status, 400, "{body}: {err}");
        assert_eq!(err["code"], "invalid_field", "{err}");
        assert_eq!(field(&err), expected, "{err}");
    }
    let (status, bella) = server
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "bella", "password": "bella1", "role": "agent", "teamId": team_id}),
        )
        .await;
    assert_eq!(status, 201, "{bella}");
    let bella_id = bella["id"].as_str().unwrap().to_string();
    assert_eq!(bella["teamName"], "Billing");

    // Paged search.
    let (_, page) = server
        .get("/api/v1/users?q=BEL&limit=1", Some(&admin))
        .await;
    assert_eq!(
        (page["total"].as_u64(), page["limit"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(page["items"][0]["username"], "bella");
    let (_, page) = server
        .get("/api/v1/users?role=agent&limit=2&offset=2", Some(&admin))
        .await;
    assert_eq!(page["total"], 4, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let (status, err) = server.get("/api/v1/users?limit=0", Some(&admin)).await;
    assert_eq!((status, field(&err)), (400, "limit"));

    // Edit.
    let (status, edited) = server
        .put(
            &format!("/api/v1/users/{bella_id}"),
            Some(&admin),
            &json!({"firstName": "Bella", "lastName": "Bill", "role": "agent", "teamId": team_id}),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (edited["firstName"].as_str(), edited["username"].as_str()),
        (Some("Bella"), Some("bella"))
    );

    // A disabled user's token stops working and its desk is closed at once.
    let bella_token = server.login("bella", "bella1").await;
    let bella_desk = desk(&server, &bella_token).await;
    let (status, disabled) = server
        .post(
            &format!("/api/v1/users/{bella_id}/disable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{disabled}");
    assert_eq!(disabled["disabled"], true);
    bella_desk.expect_disconnect(T).await.expect("desk closed");
    assert_eq!(server.get("/api/v1/me", Some(&bella_token)).await.0, 401);
    let (status, _) = server
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "bella", "password": "bella1"}),
        )
        .await;
    assert_eq!(status, 401);
    let (_, agents) = server.get("/api/v1/agents", Some(&admin)).await;
    assert!(
        agents
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["agent"]["id"] != bella_id.as_str() && a["id"] != bella_id.as_str()),
        "a disabled agent leaves routing: {agents}"
    );
    let (status, _) = server
        .post(
            &format!("/api/v1/users/{bella_id}/enable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);

    // Admin password reset ends every token of the user.
    let old_token = server.login("bella", "bella1").await;
    let (status, err) = server
        .post(
            &format!("/api/v1/users/{bella_id}/password"),
            Some(&admin),
            &json!({"password": "ab"}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "password"));
    let (status, _) = server
        .post(
            &format!("/api/v1/users/{bella_id}/password"),
            Some(&admin),
            &json!({"password": "bella2"}),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(server.get("/api/v1/me", Some(&old_token)).await.0, 401);

    // A user changes its own password with the old one; its other tokens end.
    let first = server.login("bella", "bella2").await;
    let second = server.login("bella", "bella2").await;
    let (status, err) = server
        .put(
            "/api/v1/me/password",
            Some(&first),
            &json!({"oldPassword": "wrong", "newPassword": "bella3"}),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("bad_credentials"))
    );
    let (status, _) = server
        .put(
            "/api/v1/me/password",
            Some(&first),
            &json!({"oldPassword": "bella2", "newPassword": "bella3"}),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(server.get("/api/v1/me", Some(&first)).await.0, 200);
    assert_eq!(server.get("/api/v1/me", Some(&second)).await.0, 401);
    server.login("bella", "bella3").await;

    // Nobody disables, demotes or deletes themselves.
    let admin_id = id_of(&server, &admin, "/api/v1/users", "username", "admin").await;
    let (status, _) = server
        .post(
            &format!("/api/v1/users/{admin_id}/disable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        server
            .delete(&format!("/api/v1/users/{admin_id}"), Some(&admin))
            .await
            .0,
        409
    );

    // Delete: a user with history is disabled instead; one without is gone.
    let (status, kept) = server
        .delete(&format!("/api/v1/users/{bella_id}"), Some(&admin))
        .await;
    assert_eq!(
        status, 200,
        "bella has history (her state changes, her password change): {kept}"
    );
    assert_eq!(kept["disabled"], true);
    let (_, fresh) = server
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "temp", "password": "temp1", "role": "agent"}),
        )
        .await;
    let fresh_id = fresh["id"].as_str().unwrap();
    assert_eq!(
        server
            .delete(&format!("/api/v1/users/{fresh_id}"), Some(&admin))
            .await
            .0,
        204
    );
    assert_eq!(
        server
            .get(&format!("/api/v1/users/{fresh_id}"), Some(&admin))
            .await
            .0,
        404
    );

    // Every change is in the audit log, with before and after.
    let (_, audit) = server
        .get(
            &format!("/api/v1/audit?entityType=user&entityId={bella_id}&limit=500"),
            Some(&admin),
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "create",
        "update",
        "disable",
        "enable",
        "password_reset",
        "password_change",
    ] {
        assert!(actions.contains(&a), "{a} missing in {actions:?}");
    }
    let update = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "update")
        .unwrap();
    assert_eq!(update["before"]["firstName"], "");
    assert_eq!(update["after"]["firstName"], "Bella");
    assert_eq!(update["actorUsername"], "admin");
    let agent = server.login("agent1", "agent1").await;
    assert_eq!(server.get("/api/v1/audit", Some(&agent)).await.0, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_keep_members_and_supervisors() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (_, team) = server
        .post("/api/v1/teams", Some(&admin), &json!({"name": "Sales"}))
        .await;
    let team_id = team["id"].as_str().unwrap().to_string();
    assert_eq!(
        server
            .post("/api/v1/teams", Some(&admin), &json!({"name": "Sales"}))
            .await
            .0,
        409
    );
    let (status, err) = server
        .post("/api/v1/teams", Some(&admin), &json!({"name": " "}))
        .await;
    assert_eq!((status, field(&err)), (400, "name"));
    let agent1 = id_of(&server, &admin, "/api/v1/users", "username", "agent1").await;
    let agent2 = id_of(&server, &admin, "/api/v1/users", "username", "agent2").await;
    let supervisor = id_of(&server, &admin, "/api/v1/users", "username", "supervisor").await;
    let (status, t) = server
        .put(
            &format!("/api/v1/teams/{team_id}/members"),
            Some(&admin),
            &json!({"userIds": [agent1]}),
        )
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["members"][0]["username"], "agent1");
    let (_, me) = server
        .get(&format!("/api/v1/users/{agent1}"), Some(&admin))
        .await;
    assert_eq!(me["teamName"], "Sales");
    let (status, err) = server
        .put(
            &format!("/api/v1/teams/{team_id}/supervisors"),
            Some(&admin),
            &json!({"userIds": [agent2]}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "userIds[0]"));
    let (status, t) = server
        .put(
            &format!("/api/v1/teams/{team_id}/supervisors"),
            Some(&admin),
            &json!({"userIds": [supervisor]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(t["supervisors"][0]["username"], "supervisor");

    // A team with members is not deleted; the answer names them.
    let (status, err) = server
        .delete(&format!("/api/v1/teams/{team_id}"), Some(&admin))
        .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["blockers"][0]["name"], "agent1", "{err}");
    assert!(err["message"].as_str().unwrap().contains("agent1"));
    let (status, t) = server
        .put(
            &format!("/api/v1/teams/{team_id}"),
            Some(&admin),
            &json!({"name": "Sales EU"}),
        )
        .await;
    assert_eq!((status, t["name"].as_str()), (200, Some("Sales EU")));
    server
        .put(
            &format!("/api/v1/teams/{team_id}/members"),
            Some(&admin),
            &json!({"userIds": []}),
        )
        .await;
    assert_eq!(
        server
            .delete(&format!("/api/v1/teams/{team_id}"), Some(&admin))
            .await
            .0,
        204
    );
    assert_eq!(
        server
            .get(&format!("/api/v1/teams/{team_id}"), Some(&admin))
            .await
            .0,
        404
    );
}

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
async fn codes_change_live_and_deleted_ones_stay_readable() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let agent = server.login("agent1", "agent1").await;
    let desk = desk(&server, &agent).await;

    let (status, err) = server
        .post(
            "/api/v1/reason-codes",
            Some(&admin),
            &json!({"name": "Coffee", "type": "LUNCH"}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "type"));
    let (status, code) = server
        .post(
            "/api/v1/reason-codes",
            Some(&admin),
            &json!({"name": "Coffee", "type": "NOT_READY"}),
        )
        .await;
    assert_eq!(status, 201, "{code}");
    let pushed = desk
        .expect("onReasonCodes", T)
        .await
        .expect("the desk gets the new list");
    assert!(
        pushed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "Coffee"),
        "{pushed}"
    );
    // The desk may use it at once.
    let ack = desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": "NOT_READY", "reasonCode": "Coffee"}}),
        )
        .await
        .unwrap();
    assert_eq!(ack[0]["state"]["name"], "NOT_READY", "{ack:?}");

    let id = code["id"].as_str().unwrap().to_string();
    let (status, _) = server
        .put(
            &format!("/api/v1/reason-codes/{id}"),
            Some(&admin),
            &json!({"name": "Coffee break", "type": "NOT_READY"}),
        )
        .await;
    assert_eq!(status, 200);
    desk.expect("onReasonCodes", T).await.unwrap();
    assert_eq!(
        server
            .delete(&format!("/api/v1/reason-codes/{id}"), Some(&admin))
            .await
            .0,
        204
    );
    let pushed = desk.expect("onReasonCodes", T).await.unwrap();
    assert!(pushed
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["id"] != id.as_str()));
    let (_, listed) = server.get("/api/v1/reason-codes", Some(&agent)).await;
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["id"] != id.as_str()));
    let (status, kept) = server
        .get(&format!("/api/v1/reason-codes/{id}"), Some(&agent))
        .await;
    assert_eq!((status, kept["deleted"].as_bool()), (200, Some(true)));
    let (_, all) = server
        .get("/api/v1/reason-codes?includeDeleted=true", Some(&admin))
        .await;
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == id.as_str()));

    let (status, w) = server
        .post(
            "/api/v1/wrapup-codes",
            Some(&admin),
            &json!({"categoryName": "Billing", "value": "Refund"}),
        )
        .await;
    assert_eq!(status, 201, "{w}");
    let pushed = desk.expect("onWrapupCodes", T).await.unwrap();
    assert!(pushed
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["value"] == "Refund"));
    let wid = w["id"].as_str().unwrap();
    let (status, w2) = server
        .put(
            &format!("/api/v1/wrapup-codes/{wid}"),
            Some(&admin),
            &json!({"categoryName": "Billing", "value": "Refund issued"}),
        )
        .await;
    assert_eq!((status, w2["value"].as_str()), (200, Some("Refund issued")));
    let (status, err) = server
        .put(
            &format!("/api/v1/wrapup-codes/{wid}"),
            Some(&admin),
            &json!({"categoryName": "", "value": "x"}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "categoryName"));
    assert_eq!(
        server
            .delete(&format!("/api/v1/wrapup-codes/{wid}"), Some(&admin))
            .await
            .0,
        204
    );
    let (_, kept) = server
        .get(&format!("/api/v1/wrapup-codes/{wid}"), Some(&agent))
        .await;
    assert_eq!(kept["deleted"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_responses_are_kept_per_team() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (_, team) = server
        .post("/api/v1/teams", Some(&admin), &json!({"name": "Other"}))
        .await;
    let other = team["id"].as_str().unwrap();
    let (status, hi) = server
        .post(
            "/api/v1/canned-responses",
            Some(&admin),
            &json!({"shortcut": "hi", "text": "Hello! How can I help?"}),
        )
        .await;
    assert_eq!(status, 201, "{hi}");
    let (status, _) = server
        .post(
            "/api/v1/canned-responses",
            Some(&admin),
            &json!({"shortcut": "hi", "text": "again"}),
        )
        .await;
    assert_eq!(status, 409);
    let (status, err) = server
        .post(
            "/api/v1/canned-responses",
            Some(&admin),
            &json!({"shortcut": "no spaces", "text": "x"}),
        )
        .await;
    assert_eq!((status, field(&err)), (400, "shortcut"));
    let (status, _) = server
        .post(
            "/api/v1/canned-responses",
            Some(&admin),
            &json!({"shortcut": "hi", "text": "Team hello", "teamId": other}),
        )
        .await;
    assert_eq!(status, 201, "the same shortcut in another team");
    let agent = server.login("agent1", "agent1").await;
    let (_, mine) = server.get("/api/v1/canned-responses", Some(&agent)).await;
    assert_eq!(
        mine.as_array().unwrap().len(),
        1,
        "agent1 is not in Other: {mine}"
    );
    let id = hi["id"].as_str().unwrap();
    let (status, edited) = server
        .put(
            &format!("/api/v1/canned-responses/{id}"),
            Some(&admin),
            &json!({"shortcut": "hello", "text": "Hi there"}),
        )
        .await;
    assert_eq!((status, edited["shortcut"].as_str()), (200, Some("hello")));
    assert_eq!(
        server
            .delete(&format!("/api/v1/canned-responses/{id}"), Some(&admin))
            .await
            .0,
        204
    );
    assert_eq!(
        server
            .get(&format!("/api/v1/canned-responses/{id}"), Some(&admin))
            .await
            .0,
        404
    );
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
