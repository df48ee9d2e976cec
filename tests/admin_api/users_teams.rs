//! Users and teams: created, read, edited, disabled and deleted, with validation
//! errors naming the field; team members and supervisors.

use super::{desk, field, id_of, T};
use crate::common::TestServer;
use serde_json::json;

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
