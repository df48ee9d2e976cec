//! Pull mode through the public surfaces: an admin creates a pull list and a PULL
//! channel; agents subscribe to the list, see the customer's request appear, and
//! join it — two at once; deleting a request ends its chat, and a closed chat leaves its
//! list (also one a release before left there).

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::{token_auth, SioClient};

const T: Duration = Duration::from_secs(10);

async fn desk(server: &TestServer, user: &str) -> SioClient {
    let token = server.login(user, user).await;
    let desk = SioClient::connect(server.addr, "/", token_auth(&token))
        .await
        .unwrap();
    desk.expect("agentPresence", T).await.unwrap();
    desk
}

/// A pull list and a PULL channel (`2001`) routing to it; the list's id.
async fn pull_site(server: &TestServer) -> String {
    let admin = server.login("admin", "admin").await;
    let (status, list) = server
        .post(
            "/api/v1/pull-lists",
            Some(&admin),
            &json!({"name": "Leads"}),
        )
        .await;
    assert_eq!(status, 201, "{list}");
    let list_id = list["id"].as_str().unwrap().to_string();
    let (status, channel) = server
        .post(
            "/api/v1/channels",
            Some(&admin),
            &json!({"name": "leads", "serviceIdentifier": "2001", "channelType": "WEB",
                    "routingPolicy": {"routingMode": "PULL", "routingObjectId": list_id}}),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    list_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_of_chats_closed_before_their_lists_were_cleared_are_not_restored() {
    let server = TestServer::start().await;
    let list_id = pull_site(&server).await;
    let w = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "2001", "channelCustomerIdentifier": "old-lead"}),
    )
    .await
    .unwrap();
    w.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    let db = server.data_dir().join("switchboard.db");
    let sql = |text: &str| {
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(text)
            .unwrap()
    };
    sql("CREATE TABLE kept AS SELECT * FROM pull_requests");
    w.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    w.close().await;
    // As an earlier release left it: the closed chat's request still stored.
    let left_over = || {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT count(*) FROM pull_requests", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
    };
    for _ in 0..50 {
        if left_over() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left_over(), 0, "the closed chat's request was removed");
    sql("INSERT INTO pull_requests SELECT * FROM kept; DROP TABLE kept;");
    assert_eq!(left_over(), 1);

    let server = server.restart().await;
    let d = desk(&server, "agent1").await;
    d.emit_ack("subscribePullModeList", json!({"listId": list_id}))
        .await
        .unwrap();
    let listed = d
        .expect("addPullModeSubscribedListRequests", T)
        .await
        .unwrap();
    assert_eq!(listed["requests"], json!([]), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_subscribe_to_a_pull_list_and_join_its_requests() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (status, body) = server
        .post(
            "/api/v1/channels",
            Some(&admin),
            &json!({"name": "leads", "serviceIdentifier": "2002", "channelType": "WEB",
                    "routingPolicy": {"routingMode": "PULL", "routingObjectId": "no-such-list"}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "routingPolicy.routingObjectId", "{body}");
    let list_id = pull_site(&server).await;
    let (_, channels) = server.get("/api/v1/channels", Some(&admin)).await;
    let channel = channels["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["serviceIdentifier"] == "2001")
        .unwrap()
        .clone();
    assert_eq!(
        channel["channelConfig"]["routingPolicy"]["routingMode"],
        "PULL"
    );

    let a1 = desk(&server, "agent1").await;
    let a2 = desk(&server, "agent2").await;
    for d in [&a1, &a2] {
        let ack = d
            .emit_ack("subscribePullModeList", json!({"listId": list_id}))
            .await
            .unwrap();
        assert_eq!(ack[0]["status"], "ok", "{ack:?}");
        let subscribed = d.expect("onPullModeSubscribedList", T).await.unwrap();
        assert_eq!(subscribed["subscribed"], true);
    }
    let bad = a1
        .emit_ack("subscribePullModeList", json!({"listId": "nope"}))
        .await
        .unwrap();
    assert_eq!(bad[0]["status"], "error");

    let w = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "2001", "channelCustomerIdentifier": "lead-1"}),
    )
    .await
    .unwrap();
    let started = w.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    let conversation_id = started[0]["conversationId"].as_str().unwrap().to_string();

    let request = a1
        .expect("onPullModeSubscribedListRequest", T)
        .await
        .unwrap();
    assert_eq!(request["conversationId"], conversation_id);
    assert_eq!(request["listId"], list_id);
    let request_id = request["id"].as_str().unwrap().to_string();
    a2.expect("onPullModeSubscribedListRequest", T)
        .await
        .unwrap();

    // Two agents join the same request.
    let topic = a1
        .emit_ack("joinPullModeRequest", json!({"requestId": request_id}))
        .await
        .unwrap();
    assert_eq!(topic[0]["conversationId"], conversation_id, "{topic:?}");
    let topic = a2
        .emit_ack("joinPullModeRequest", json!({"requestId": request_id}))
        .await
        .unwrap();
    let members: Vec<Value> = topic[0]["topicData"]["conversation"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "AGENT")
        .cloned()
        .collect();
    assert_eq!(members.len(), 2, "{members:?}");

    // Messages reach both; one agent ends the request for everyone.
    w.emit_ack(
        "MESSAGE_RECEIVED",
        json!({"id": "lead-m1", "body": {"type": "PLAIN", "markdownText": "price?"}}),
    )
    .await
    .unwrap();
    for d in [&a1, &a2] {
        loop {
            let e = d.expect("onCimEvent", T).await.unwrap();
            if e["name"] == "CUSTOMER_MESSAGE" {
                break;
            }
        }
    }
    let stranger = desk(&server, "agent3").await;
    let refused = stranger
        .emit_ack("deletePullModeRequest", json!({"requestId": request_id}))
        .await
        .unwrap();
    assert_eq!(refused[0]["status"], "error");
    // Deleting ends the chat: a supervisor of another team may not.
    let (_, team) = server
        .post("/api/v1/teams", Some(&admin), &json!({"name": "Night"}))
        .await;
    let (status, boss) = server
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "nightboss", "password": "nightboss", "role": "supervisor",
                    "supervisedTeamIds": [team["id"]]}),
        )
        .await;
    assert_eq!(status, 201, "{boss}");
    let other_team = desk(&server, "nightboss").await;
    let refused = other_team
        .emit_ack("deletePullModeRequest", json!({"requestId": request_id}))
        .await
        .unwrap();
    assert_eq!(refused[0]["code"], "forbidden", "{refused:?}");
    let ack = a1
        .emit_ack("deletePullModeRequest", json!({"requestId": request_id}))
        .await
        .unwrap();
    assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    let removed = a2
        .expect("removePullModeSubscribedListRequests", T)
        .await
        .unwrap();
    assert_eq!(removed["requestIds"][0], request_id);
    // Seed 002: deleting the request ends the chat: the customer is told, and both
    // agents go to wrap-up.
    let ended = w.expect("CHANNEL_SESSION_ENDED", T).await.unwrap();
    assert_eq!(ended["reason"], "AGENT", "{ended}");
    for d in [&a1, &a2] {
        let wrapup = d.expect("wrapupTimerStarted", T).await.unwrap();
        assert_eq!(wrapup["conversationId"], conversation_id, "{wrapup}");
    }

    // A customer who leaves before anyone joined takes the request out of the list.
    let w2 = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "2001", "channelCustomerIdentifier": "lead-2"}),
    )
    .await
    .unwrap();
    let started = w2.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    let lead_2 = started[0]["conversationId"].clone();
    let second = loop {
        let request = a1
            .expect("onPullModeSubscribedListRequest", T)
            .await
            .unwrap();
        if request["conversationId"] == lead_2 {
            break request["id"].as_str().unwrap().to_string();
        }
    };
    w2.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    loop {
        let removed = a1
            .expect("removePullModeSubscribedListRequests", T)
            .await
            .unwrap();
        if removed["requestIds"][0] == second {
            break;
        }
    }
    let gone = a1
        .emit_ack("joinPullModeRequest", json!({"requestId": second}))
        .await
        .unwrap();
    assert_eq!(gone[0]["status"], "error", "{gone:?}");
}
