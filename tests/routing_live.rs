//! The routing engine through the running appliance: restart with queued and
//! reserved tasks (kill -9), RONA, live queue configuration with skills, force
//! logout and queue flush.

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::chat::widget;
use support::sio_client::{token_auth, SioClient};

const T: Duration = Duration::from_secs(10);

async fn login(addr: SocketAddr, user: &str) -> String {
    let body: Value = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": user}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["token"].as_str().unwrap().to_string()
}

async fn desk(addr: SocketAddr, user: &str) -> SioClient {
    let token = login(addr, user).await;
    let desk = SioClient::connect(addr, "/", token_auth(&token))
        .await
        .unwrap();
    desk.expect("agentPresence", T).await.unwrap();
    desk
}

async fn set_state(desk: &SioClient, name: &str) -> Value {
    let ack = desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": name}}),
        )
        .await
        .unwrap();
    ack[0].clone()
}

async fn get(addr: SocketAddr, token: &str, path: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .get(format!("http://{addr}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

async fn send(
    addr: SocketAddr,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .request(method, format!("http://{addr}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

fn serve(dir: &std::path::Path, env: &[(&str, &str)]) -> (Child, SocketAddr) {
    let mut child = Command::new(common::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("SWITCHBOARD_LOG__LEVEL", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .parse()
        .unwrap();
    (child, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_and_reserved_tasks_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr) = serve(dir.path(), &[]);
    let agent = desk(addr, "agent1").await;
    set_state(&agent, "READY").await;
    let mut widgets = Vec::new();
    for i in 0..7 {
        widgets.push(widget(addr, &format!("restart-{i}")).await);
    }
    // Capacity 5 on CHAT: five offers, two waiting.
    let mut offered = Vec::new();
    for _ in 0..5 {
        offered.push(
            agent.expect("taskRequest", T).await.unwrap()["conversationId"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    for conversation_id in offered.iter().take(2) {
        agent
            .emit_ack(
                "topicSubscription",
                json!({"conversationId": conversation_id}),
            )
            .await
            .unwrap();
    }
    let supervisor = login(addr, "supervisor").await;
    let (_, before) = get(addr, &supervisor, "/api/v1/tasks").await;
    assert_eq!(before.as_array().unwrap().len(), 7);
    let enqueue_times: std::collections::BTreeMap<String, i64> = before
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["enqueueTime"].as_i64().unwrap(),
            )
        })
        .collect();

    child.kill().unwrap();
    child.wait().unwrap();
    drop(widgets);

    let (mut child, addr) = serve(dir.path(), &[]);
    let supervisor = login(addr, "supervisor").await;
    let (_, after) = get(addr, &supervisor, "/api/v1/tasks").await;
    let after = after.as_array().unwrap().clone();
    assert_eq!(after.len(), 7, "every open task came back: {after:?}");
    for t in &after {
        assert_eq!(
            enqueue_times[t["id"].as_str().unwrap()],
            t["enqueueTime"].as_i64().unwrap()
        );
    }
    let active = after.iter().filter(|t| t["mediaState"] == "ACTIVE").count();
    let queued = after.iter().filter(|t| t["mediaState"] == "QUEUED").count();
    assert_eq!(active, 2, "accepted tasks stay with their agent");
    assert_eq!(
        queued, 5,
        "reservations of a gone desk go back to the queue"
    );

    // The agent comes back: it resumes READY and is offered what fits (5 - 2 active).
    let agent = desk(addr, "agent1").await;
    for _ in 0..3 {
        agent.expect("taskRequest", T).await.unwrap();
    }
    let (_, stats) = get(
        addr,
        &supervisor,
        &format!(
            "/api/v1/queues/{}/stats",
            after[0]["queue"]["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(stats["waiting"], 2, "{stats}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rona_revokes_and_reoffers_to_another_agent() {
    let server = TestServer::start_with(|c| c.routing.accept_timeout_secs = 1).await;
    let a1 = desk(server.addr, "agent1").await;
    set_state(&a1, "READY").await;
    let (_w, conversation_id) = widget(server.addr, "rona-1").await;
    let offer = a1.expect("taskRequest", T).await.unwrap();
    assert_eq!(offer["conversationId"], conversation_id);
    // agent1 does not answer: revoked, NOT_READY with reason RONA.
    let revoked = a1.expect("revokeTask", T).await.unwrap();
    assert_eq!(revoked["reason"], "RONA");
    // Presence events of the connect are still buffered; the last one tells.
    loop {
        let p = a1.expect("agentPresence", T).await.unwrap();
        if p["state"]["name"] == "NOT_READY" && p["state"]["reasonCode"] == "RONA" {
            break;
        }
    }
    // The next agent gets it, at priority 11.
    let a2 = desk(server.addr, "agent2").await;
    set_state(&a2, "READY").await;
    let offer = a2.expect("taskRequest", T).await.unwrap();
    assert_eq!(offer["conversationId"], conversation_id);
    assert_eq!(offer["task"]["activeMedia"][0]["priority"], 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_queue_steps_route_by_skill_and_bad_config_is_refused() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let addr = server.addr;
    let (_, mrds) = get(addr, &admin, "/api/v1/mrds").await;
    let chat_mrd = mrds
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "CHAT")
        .unwrap()["id"]
        .clone();
    let (status, _) = send(
        addr,
        &admin,
        reqwest::Method::POST,
        "/api/v1/routing-attributes",
        json!({"name": "french", "type": "PROFICIENCY"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = send(addr, &admin, reqwest::Method::POST, "/api/v1/queues", json!({
        "name": "French", "mrdId": chat_mrd, "steps": [{"expression": "french >= 7 AND", "timeoutSecs": 5}]
    })).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("steps[0].expression"));
    let (status, queue) = send(addr, &admin, reqwest::Method::POST, "/api/v1/queues", json!({
        "name": "French", "mrdId": chat_mrd, "steps": [{"expression": "french >= 7", "timeoutSecs": 600}]
    })).await;
    assert_eq!(status, 201, "{queue}");
    let (_, users) = get(addr, &admin, "/api/v1/users").await;
    let id_of = |name: &str| {
        users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (status, body) = send(
        addr,
        &admin,
        reqwest::Method::PUT,
        &format!("/api/v1/users/{}/attributes", id_of("agent2")),
        json!({"french": 12}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = send(
        addr,
        &admin,
        reqwest::Method::PUT,
        &format!("/api/v1/users/{}/attributes", id_of("agent2")),
        json!({"french": 9}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = send(
        addr,
        &admin,
        reqwest::Method::PUT,
        &format!("/api/v1/users/{}/attributes", id_of("agent1")),
        json!({"french": 3}),
    )
    .await;
    assert_eq!(status, 200);

    // Point the web channel at the French queue: live, no restart.
    let queue_id = queue["id"].as_str().unwrap().to_string();
    let q = queue_id.clone();
    server
        .running
        .as_ref()
        .unwrap()
        .store
        .write(move |c| {
            c.execute(
                "UPDATE channels SET config = json_set(config, '$.routingPolicy.routingObjectId', ?1)",
                [&q],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let a1 = desk(addr, "agent1").await;
    let a2 = desk(addr, "agent2").await;
    set_state(&a1, "READY").await;
    set_state(&a2, "READY").await;
    let (_w, conversation_id) = widget(addr, "skills-1").await;
    let offer = a2.expect("taskRequest", T).await.unwrap();
    assert_eq!(offer["conversationId"], conversation_id);
    assert_eq!(offer["task"]["activeMedia"][0]["queue"]["id"], queue_id);
    a1.expect_silence("taskRequest", Duration::from_millis(300))
        .await
        .unwrap();

    // Flush and force logout are admin/supervisor actions.
    let agent_token = server.login("agent1", "agent1").await;
    let (status, _) = send(
        addr,
        &agent_token,
        reqwest::Method::POST,
        "/api/v1/queues/flush",
        json!({}),
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = send(
        addr,
        &admin,
        reqwest::Method::POST,
        &format!("/api/v1/queues/{queue_id}/flush"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let supervisor = server.login("supervisor", "supervisor").await;
    let (status, _) = send(
        addr,
        &supervisor,
        reqwest::Method::POST,
        &format!("/api/v1/agents/{}/logout", id_of("agent1")),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    a1.expect_disconnect(T).await.unwrap();
    let (_, agents) = get(addr, &supervisor, "/api/v1/agents").await;
    let a1_view = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "agent1")
        .unwrap()
        .clone();
    assert_eq!(a1_view["state"], "LOGOUT");
    let (status, _) = send(
        addr,
        &supervisor,
        reqwest::Method::POST,
        "/api/v1/agents/nobody/logout",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
}
