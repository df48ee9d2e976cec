//! The HTTP surface of the foundation: health, readiness, login, tokens, roles,
//! errors for bad input.

use crate::common;

use common::TestServer;
use serde_json::{json, Value};

#[tokio::test]
async fn health_and_readiness() {
    let server = TestServer::start().await;
    let (status, body) = server.get("/healthz", None).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    let (status, body) = server.get("/readyz", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store"], "writable");
    assert_eq!(body["components"]["store"], "running");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn login_good_bad_unknown_and_malformed() {
    let server = TestServer::start().await;
    let (status, body) = server
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "agent1", "password": "agent1"}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body["token"].as_str().is_some_and(|t| t.len() >= 32));
    assert_eq!(body["user"]["username"], "agent1");
    assert_eq!(body["user"]["role"], "agent");
    assert_eq!(body["user"]["teamName"], "Agents");
    assert!(body["user"].get("passwordHash").is_none());

    let (status, body) = server
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "agent1", "password": "wrong"}),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "bad_credentials");

    let (status, body) = server
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "ghost", "password": "ghost"}),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "bad_credentials");

    let resp = server
        .http
        .post(server.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "bad_request");
    assert!(body["message"].as_str().unwrap().contains("malformed JSON"));

    let (status, body) = server
        .post("/api/v1/auth/login", None, &json!({"username": "agent1"}))
        .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("password"),
        "{body}"
    );

    let resp = server
        .http
        .post(server.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("username=agent1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
}

#[tokio::test]
async fn oversized_body_is_refused_with_413() {
    let server = TestServer::start_with(|c| c.http.max_body_bytes = 4096).await;
    let big = "x".repeat(10_000);
    let (status, body) = server
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": big, "password": "p"}),
        )
        .await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "payload_too_large");
    // The server is still fine afterwards.
    assert_eq!(server.get("/healthz", None).await.0, 200);
}

#[tokio::test]
async fn protected_routes_need_a_live_token_and_the_right_role() {
    let server = TestServer::start().await;
    let (status, body) = server.get("/api/v1/me", None).await;
    assert_eq!(status, 401);
    assert_eq!(body["code"], "unauthenticated");
    let (status, _) = server.get("/api/v1/me", Some("not-a-token")).await;
    assert_eq!(status, 401);

    let agent = server.login("agent1", "agent1").await;
    let (status, me) = server.get("/api/v1/me", Some(&agent)).await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "agent1");

    // Agents may read the site's configuration but not the user list.
    let (status, queues) = server.get("/api/v1/queues", Some(&agent)).await;
    assert_eq!(status, 200);
    assert_eq!(queues["items"][0]["name"], "Default");
    assert_eq!(queues["total"], 1);
    let (status, body) = server.get("/api/v1/users", Some(&agent)).await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "forbidden");

    let supervisor = server.login("supervisor", "supervisor").await;
    // A supervisor lists itself and its team's members (the demo admin has no team).
    let (status, users) = server.get("/api/v1/users", Some(&supervisor)).await;
    assert_eq!(status, 200);
    assert_eq!(users["total"], 4, "{users}");
    assert_eq!(users["items"].as_array().unwrap().len(), 4);
    // Only admins create users.
    let new_user = json!({"username": "agent9", "password": "agent9pw", "role": "agent"});
    assert_eq!(
        server
            .post("/api/v1/users", Some(&supervisor), &new_user)
            .await
            .0,
        403
    );
    let admin = server.login("admin", "admin").await;
    let (status, created) = server.post("/api/v1/users", Some(&admin), &new_user).await;
    assert_eq!(status, 201, "{created}");
    let (status, body) = server.post("/api/v1/users", Some(&admin), &new_user).await;
    assert_eq!(status, 409, "{body}");
    server.login("agent9", "agent9pw").await;

    // Logout revokes exactly that token.
    let (status, _) = server
        .post("/api/v1/auth/logout", Some(&agent), &json!({}))
        .await;
    assert_eq!(status, 204);
    assert_eq!(server.get("/api/v1/me", Some(&agent)).await.0, 401);
    assert_eq!(server.get("/api/v1/me", Some(&admin)).await.0, 200);
}

#[tokio::test]
async fn demo_site_is_complete() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (_, mrds) = server.get("/api/v1/mrds", Some(&admin)).await;
    let mrds = mrds.as_array().unwrap();
    let chat = mrds.iter().find(|m| m["name"] == "CHAT").unwrap();
    let voice = mrds.iter().find(|m| m["name"] == "VOICE").unwrap();
    assert_eq!(chat["maxTasks"], 5);
    assert_eq!(voice["maxTasks"], 1);
    assert_eq!(voice["interruptible"], false);
    let (_, queues) = server.get("/api/v1/queues", Some(&admin)).await;
    assert_eq!(queues["items"][0]["mrdId"], chat["id"]);
    let (_, channels) = server.get("/api/v1/channels", Some(&admin)).await;
    let web = &channels["items"][0];
    assert_eq!(web["serviceIdentifier"], "1122");
    assert_eq!(web["channelType"]["name"], "WEB");
    let policy = &web["channelConfig"]["routingPolicy"];
    assert_eq!(policy["routingMode"], "PUSH");
    assert_eq!(policy["agentSelectionPolicy"], "LONGEST_AVAILABLE");
    assert_eq!(policy["routingObjectId"], queues["items"][0]["id"]);
    let (_, codes) = server.get("/api/v1/reason-codes", Some(&admin)).await;
    let kinds: Vec<&str> = codes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"NOT_READY") && kinds.contains(&"LOGOUT"));
    let (_, wrapups) = server.get("/api/v1/wrapup-codes", Some(&admin)).await;
    assert!(wrapups.as_array().unwrap().len() >= 3);
    for user in ["supervisor", "agent1", "agent2", "agent3"] {
        server.login(user, user).await;
    }
}

#[tokio::test]
async fn static_pages_have_types_and_cache_headers() {
    let server = TestServer::start().await;
    let resp = server.http.get(server.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(resp.headers()["cache-control"], "no-cache");
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let resp = server
        .http
        .get(server.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);
    let (status, body) = server.get("/admin/missing.js", None).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "not_found");
}

/// Every `/api/v1` route answers (a body may be refused, but the route exists).
#[tokio::test]
async fn every_api_route_is_mounted() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let routes = [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("GET", "/api/v1/mrds"),
        ("POST", "/api/v1/mrds"),
        ("PUT", "/api/v1/mrds/x"),
        ("GET", "/api/v1/queues"),
        ("POST", "/api/v1/queues"),
        ("PUT", "/api/v1/queues/x"),
        ("DELETE", "/api/v1/queues/x"),
        ("GET", "/api/v1/queues/x/stats"),
        ("POST", "/api/v1/queues/x/flush"),
        ("POST", "/api/v1/queues/flush"),
        ("GET", "/api/v1/channels"),
        ("GET", "/api/v1/channel-types"),
        ("GET", "/api/v1/reason-codes"),
        ("GET", "/api/v1/wrapup-codes"),
        ("POST", "/api/v1/routing-attributes"),
        ("PUT", "/api/v1/users/x/capacities"),
        ("PUT", "/api/v1/users/x/attributes"),
        ("POST", "/api/v1/pull-lists"),
        ("POST", "/api/v1/channels"),
        ("GET", "/api/v1/agents"),
        ("POST", "/api/v1/agents/x/logout"),
        ("GET", "/api/v1/agents/x/state-history"),
        ("GET", "/api/v1/tasks"),
        ("GET", "/api/v1/conversations"),
        ("GET", "/api/v1/conversations/x"),
        ("GET", "/api/v1/conversations/x/events"),
        ("GET", "/api/v1/outbox"),
        ("GET", "/api/v1/outbox/1"),
        ("POST", "/api/v1/outbox/1/retry"),
    ];
    for (method, path) in routes {
        let resp = server
            .http
            .request(method.parse().unwrap(), server.url(path))
            .bearer_auth(&admin)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let missing = status == 404
            && body["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("route "));
        assert!(
            !missing && status != 405,
            "{method} {path} is not mounted: {status} {body}"
        );
    }
}
