//! Tokens end their sockets: logout, expiry, a password change made with the CLI
//! from another process, and a supervisor's force logout (over HTTP and over the
//! desk socket) each end the sockets opened with the token at once; the desk is
//! told why (and, for a force logout, by whom) before it is closed. An admin's
//! password reset or disabling ends every session of the user at once: its tokens,
//! its desk and its supervisor console.

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::sio_client::{token_auth, SioClient};

const T: Duration = Duration::from_secs(10);

async fn desk_with(server: &TestServer, token: &str) -> SioClient {
    let desk = SioClient::connect(server.addr, "/", token_auth(token))
        .await
        .unwrap();
    desk.expect("agentPresence", T).await.unwrap();
    desk
}

/// Expects the `errors` that ends the session, then the DISCONNECT.
async fn expect_ended(desk: &SioClient, code: &str) -> Value {
    let error = desk.expect("errors", T).await.unwrap();
    assert_eq!(error["code"], code, "{error}");
    assert_eq!(error["event"], "session", "{error}");
    desk.expect_disconnect(T).await.unwrap();
    error
}

const READY: fn() -> Value = || json!({"action": "agentState", "state": {"name": "READY"}});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_ends_the_sockets_opened_with_that_token_only() {
    let server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let other = server.login("agent1", "agent1").await;
    let desk = desk_with(&server, &token).await;
    let (status, _) = server
        .post("/api/v1/auth/logout", Some(&token), &json!({}))
        .await;
    assert_eq!(status, 204);
    expect_ended(&desk, "logged_out").await;
    assert!(
        SioClient::connect(server.addr, "/", token_auth(&token))
            .await
            .is_err(),
        "a desk reconnected with a signed-out token"
    );
    // The agent's other token still works.
    let (status, _) = server.get("/api/v1/me", Some(&other)).await;
    assert_eq!(status, 200);
    let again = desk_with(&server, &other).await;
    let ack = again.emit_ack("changeAgentState", READY()).await.unwrap();
    assert_eq!(ack[0]["state"]["name"], "READY", "{ack:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_token_ends_its_socket_at_once() {
    let server = TestServer::start_with(|c| c.http.token_ttl_secs = 2).await;
    let token = server.login("agent1", "agent1").await;
    let desk = desk_with(&server, &token).await;
    let ack = desk.emit_ack("changeAgentState", READY()).await.unwrap();
    assert_eq!(ack[0]["state"]["name"], "READY", "{ack:?}");
    // No request needed: the socket is closed when the token expires.
    expect_ended(&desk, "token_expired").await;
    let (status, _) = server.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_changed_with_the_cli_ends_the_token_at_its_next_check() {
    let server = TestServer::start().await;
    let token = server.login("agent2", "agent2").await;
    let desk = desk_with(&server, &token).await;
    let mut cli = Command::new(common::binary())
        .args([
            "user",
            "passwd",
            "--data-dir",
            server.data_dir().to_str().unwrap(),
            "--username",
            "agent2",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    cli.stdin
        .take()
        .unwrap()
        .write_all(b"a-new-secret\n")
        .unwrap();
    let out = tokio::task::spawn_blocking(move || cli.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The desk's next request is refused and its socket closed: it cannot go READY.
    desk.emit("changeAgentState", READY()).unwrap();
    expect_ended(&desk, "token_revoked").await;
    let id = server
        .running
        .as_ref()
        .unwrap()
        .routing
        .query(|core, _| {
            core.agents()
                .find(|a| a.username == "agent2")
                .map(|a| a.state)
        })
        .await
        .flatten()
        .unwrap();
    assert_ne!(
        serde_json::to_value(id).unwrap(),
        "READY",
        "the refused request changed the state"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_logout_ends_the_agents_token_and_tells_the_desk_who_did_it() {
    let server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let desk = desk_with(&server, &token).await;
    let (_, me) = server.get("/api/v1/me", Some(&token)).await;
    let agent_id = me["id"].as_str().unwrap().to_string();
    let supervisor = server.login("supervisor", "supervisor").await;
    let (status, body) = server
        .post(
            &format!("/api/v1/agents/{agent_id}/logout"),
            Some(&supervisor),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let error = expect_ended(&desk, "forced_logout").await;
    assert_eq!(error["by"]["username"], "supervisor", "{error}");
    assert!(error["by"]["name"].is_string(), "{error}");
    // The desk's own event says the same.
    let told = desk.expect("forcedLogout", T).await.unwrap();
    assert_eq!(told["by"]["username"], "supervisor", "{told}");
    let (status, _) = server.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, 401, "the forced-out token still works");
    assert!(
        SioClient::connect(server.addr, "/", token_auth(&token))
            .await
            .is_err(),
        "the desk reconnected with the forced-out token"
    );
    // The agent signs in again.
    let fresh = server.login("agent1", "agent1").await;
    desk_with(&server, &fresh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_force_logout_from_the_supervisors_desk_ends_the_agents_token() {
    let server = TestServer::start().await;
    let token = server.login("agent1", "agent1").await;
    let desk = desk_with(&server, &token).await;
    let (_, me) = server.get("/api/v1/me", Some(&token)).await;
    let agent_id = me["id"].as_str().unwrap().to_string();
    let sup_token = server.login("supervisor", "supervisor").await;
    let sup = desk_with(&server, &sup_token).await;
    let ack = sup
        .emit_ack(
            "changeAgentState",
            json!({"agentId": agent_id, "action": "agentState",
                   "state": {"name": "LOGOUT", "reasonCode": "End of shift"}}),
        )
        .await
        .unwrap();
    assert_eq!(ack[0]["state"]["name"], "LOGOUT", "{ack:?}");
    let error = expect_ended(&desk, "forced_logout").await;
    assert_eq!(error["by"]["username"], "supervisor", "{error}");
    assert_eq!(error["reasonCode"], "End of shift", "{error}");
    let (status, _) = server.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, 401);
}

/// Connects a supervisor console on `/supervisor` and waits for its snapshot.
async fn console_with(server: &TestServer, token: &str) -> SioClient {
    let console = SioClient::connect(server.addr, "/supervisor", token_auth(token))
        .await
        .unwrap();
    console.expect("supervisor:snapshot", T).await.unwrap();
    console
}

async fn user_id(server: &TestServer, admin: &str, username: &str) -> String {
    let (_, page) = server
        .get(&format!("/api/v1/users?q={username}"), Some(admin))
        .await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == username)
        .unwrap_or_else(|| panic!("{username} in {page}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_and_disabling_end_every_session_of_the_user_at_once() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let id = user_id(&server, &admin, "supervisor").await;

    // Two tokens: one for the desk, one for the console. A reset ends both at once.
    let desk_token = server.login("supervisor", "supervisor").await;
    let console_token = server.login("supervisor", "supervisor").await;
    let desk = desk_with(&server, &desk_token).await;
    let console = console_with(&server, &console_token).await;
    let (status, _) = server
        .post(
            &format!("/api/v1/users/{id}/password"),
            Some(&admin),
            &json!({"password": "new-secret"}),
        )
        .await;
    assert_eq!(status, 204);
    expect_ended(&desk, "password_changed").await;
    expect_ended(&console, "password_changed").await;
    for token in [&desk_token, &console_token] {
        assert_eq!(server.get("/api/v1/me", Some(token)).await.0, 401);
        assert!(
            SioClient::connect(server.addr, "/supervisor", token_auth(token))
                .await
                .is_err(),
            "a console reconnected with a token the reset ended"
        );
    }

    // Disabled: the same, and nobody signs in as it any more.
    let desk_token = server.login("supervisor", "new-secret").await;
    let console_token = server.login("supervisor", "new-secret").await;
    let desk = desk_with(&server, &desk_token).await;
    let console = console_with(&server, &console_token).await;
    let (status, _) = server
        .post(
            &format!("/api/v1/users/{id}/disable"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    expect_ended(&desk, "user_disabled").await;
    expect_ended(&console, "user_disabled").await;
    for token in [&desk_token, &console_token] {
        assert_eq!(server.get("/api/v1/me", Some(token)).await.0, 401);
    }
    let (status, _) = server
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "supervisor", "password": "new-secret"}),
        )
        .await;
    assert_eq!(status, 401);
    // The admin's own sessions are untouched.
    assert_eq!(server.get("/api/v1/me", Some(&admin)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_your_own_password_closes_your_other_sockets_at_once() {
    let server = TestServer::start().await;
    // One desk per user (a second takes over): the other socket is a console.
    let other = server.login("supervisor", "supervisor").await;
    let mine = server.login("supervisor", "supervisor").await;
    let other_desk = desk_with(&server, &other).await;
    let my_console = console_with(&server, &mine).await;
    let (status, body) = server
        .put(
            "/api/v1/me/password",
            Some(&mine),
            &json!({"oldPassword": "supervisor", "newPassword": "changed-1"}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    // Not at its next request: the idle socket is told and closed now.
    expect_ended(&other_desk, "password_changed").await;
    assert_eq!(server.get("/api/v1/me", Some(&other)).await.0, 401);
    // The token that made the change goes on, and so does its console.
    assert_eq!(server.get("/api/v1/me", Some(&mine)).await.0, 200);
    let answer = my_console
        .emit_ack("flushQueue", json!({"queueId": "no-such-queue"}))
        .await
        .unwrap();
    assert_eq!(answer[0]["status"], "error", "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_whose_teams_or_role_change_connects_again_with_what_it_may_do_now() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let id = user_id(&server, &admin, "supervisor").await;
    let (_, user) = server
        .get(&format!("/api/v1/users/{id}"), Some(&admin))
        .await;
    let team = user["supervisedTeams"][0]["teamId"]
        .as_str()
        .unwrap_or_else(|| panic!("the demo supervisor supervises a team: {user}"))
        .to_string();
    let token = server.login("supervisor", "supervisor").await;
    let desk = desk_with(&server, &token).await;
    let console = console_with(&server, &token).await;

    // Taken off its team: what both sockets were allowed at connect no longer holds.
    let (status, body) = server
        .put(
            &format!("/api/v1/teams/{team}/supervisors"),
            Some(&admin),
            &json!({"userIds": []}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    expect_ended(&desk, "rights_changed").await;
    expect_ended(&console, "rights_changed").await;
    // The token stays good: the console connects again, scoped to no team now.
    assert_eq!(server.get("/api/v1/me", Some(&token)).await.0, 200);
    let console = console_with(&server, &token).await;

    // Demoted to agent: the console closes, and may not come back.
    let (status, body) = server
        .put(
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            &json!({"firstName": user["firstName"], "lastName": user["lastName"], "role": "agent",
                    "teamId": user["teamId"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    expect_ended(&console, "rights_changed").await;
    assert!(
        SioClient::connect(server.addr, "/supervisor", token_auth(&token))
            .await
            .is_err(),
        "an agent opened the supervisor console"
    );
    // An edit that changes nothing it may do leaves its sockets alone.
    let desk = desk_with(&server, &token).await;
    let (status, body) = server
        .put(
            &format!("/api/v1/users/{id}"),
            Some(&admin),
            &json!({"firstName": "Renamed", "lastName": user["lastName"], "role": "agent",
                    "teamId": user["teamId"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let ack = desk.emit_ack("changeAgentState", READY()).await.unwrap();
    assert_eq!(ack[0]["state"]["name"], "READY", "{ack:?}");
}
