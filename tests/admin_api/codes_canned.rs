//! Reason and wrap-up codes that change live (deleted ones stay readable) and
//! canned responses kept per team.

use super::{desk, field, T};
use crate::common::TestServer;
use serde_json::json;

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
