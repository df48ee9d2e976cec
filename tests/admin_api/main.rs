//! The admin REST API on a real server: users, teams, MRDs, routing attributes,
//! queues, channels, pull lists, codes and canned responses created, read, edited and
//! deleted; validation errors naming the field; deletes refused (409, nothing
//! changed) while something uses the entity; role checks before body validation;
//! every change in the audit log.

use crate::channels_support;
use crate::common;
use crate::support;

mod channels;
mod codes_canned;
mod deletes;
mod queues;
mod users_teams;

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
