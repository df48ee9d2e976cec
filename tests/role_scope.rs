//! Every role sees only its own, through HTTP: a supervisor reads and acts on the
//! teams it supervises (agents, state history, tasks, conversations and their
//! events, users), an agent reads only conversations it took part in, an admin
//! sees everything, including an agent created without a team.

use crate::channels_support;
use crate::common;

use channels_support::{accept, answer, connector_message, desk, post_message, set_state};
use common::TestServer;
use serde_json::{json, Value};

fn has(list: &Value, key: &str, value: &str) -> bool {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .any(|x| x[key] == value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisors_see_only_their_teams_and_admins_see_all() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;

    // An agent created without a team is visible to an admin at once.
    let (status, loner) = server
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "loner", "password": "loner1", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 201, "{loner}");
    let loner_id = loner["id"].as_str().unwrap().to_string();
    let (_, agents) = server.get("/api/v1/agents", Some(&admin)).await;
    let ids: Vec<String> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert!(
        ids.iter().any(|a| a.contains(&loner_id)),
        "a teamless agent is listed for admins: {agents}"
    );

    // A second team with its own supervisor and agent.
    let (_, team) = server
        .post("/api/v1/teams", Some(&admin), &json!({"name": "Night"}))
        .await;
    let night = team["id"].as_str().unwrap().to_string();
    let (status, boss) = server
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "nightboss", "password": "nightboss", "role": "supervisor",
                    "supervisedTeamIds": [night]}),
        )
        .await;
    assert_eq!(status, 201, "{boss}");
    let (status, owl) = server
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"username": "owl", "password": "owl123", "role": "agent", "teamId": night}),
        )
        .await;
    assert_eq!(status, 201, "{owl}");
    let owl_id = owl["id"].as_str().unwrap().to_string();

    // agent1 (team Agents) answers a chat; another waits in the queue.
    let (agent1, agent1_id) = desk(&server, "agent1").await;
    set_state(&agent1, "READY").await;
    let (status, ack) = post_message(
        &server,
        &connector_message("s-1", channels_support::CONNECTOR_SID, "cust-1", "Hi"),
    )
    .await;
    assert_eq!(status, 202, "{ack}");
    let answered = ack["conversationId"].as_str().unwrap().to_string();
    accept(&agent1, &answered).await;
    answer(&agent1, &answered, "Hello").await;

    let night_boss = server.login("nightboss", "nightboss").await;
    let supervisor = server.login("supervisor", "supervisor").await;

    // Conversations and their transcripts.
    let (_, mine) = server.get("/api/v1/conversations", Some(&supervisor)).await;
    assert!(has(&mine, "id", &answered), "{mine}");
    let (_, theirs) = server.get("/api/v1/conversations", Some(&night_boss)).await;
    assert!(
        !has(&theirs, "id", &answered),
        "another team's chat is hidden: {theirs}"
    );
    for path in [
        format!("/api/v1/conversations/{answered}"),
        format!("/api/v1/conversations/{answered}/events"),
    ] {
        assert_eq!(server.get(&path, Some(&night_boss)).await.0, 404, "{path}");
        assert_eq!(server.get(&path, Some(&supervisor)).await.0, 200, "{path}");
        assert_eq!(server.get(&path, Some(&admin)).await.0, 200, "{path}");
    }
    // An agent reads only what it took part in.
    let agent2 = server.login("agent2", "agent2").await;
    assert_eq!(
        server
            .get(
                &format!("/api/v1/conversations/{answered}/events"),
                Some(&agent2)
            )
            .await
            .0,
        404
    );

    // Tasks: agent1's task is hidden from the night supervisor.
    let (_, tasks) = server.get("/api/v1/tasks", Some(&night_boss)).await;
    assert!(!has(&tasks, "conversationId", &answered), "{tasks}");
    let (_, tasks) = server.get("/api/v1/tasks", Some(&supervisor)).await;
    assert!(has(&tasks, "conversationId", &answered), "{tasks}");

    // Agents, their state history and actions on them.
    let (_, agents) = server.get("/api/v1/agents", Some(&night_boss)).await;
    let text = agents.to_string();
    assert!(
        text.contains(&owl_id) && !text.contains(&agent1_id),
        "{agents}"
    );
    assert_eq!(
        server
            .get(
                &format!("/api/v1/agents/{agent1_id}/state-history"),
                Some(&night_boss)
            )
            .await
            .0,
        403
    );
    assert_eq!(
        server
            .post(
                &format!("/api/v1/agents/{agent1_id}/logout"),
                Some(&night_boss),
                &json!({})
            )
            .await
            .0,
        403
    );
    assert_eq!(
        server
            .get(
                &format!("/api/v1/agents/{owl_id}/state-history"),
                Some(&night_boss)
            )
            .await
            .0,
        200
    );

    // Users and teams.
    let (_, users) = server
        .get("/api/v1/users?limit=500", Some(&night_boss))
        .await;
    let names: Vec<&str> = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["nightboss", "owl"]);
    assert_eq!(
        server
            .get(&format!("/api/v1/users/{agent1_id}"), Some(&night_boss))
            .await
            .0,
        404
    );
    let (_, teams) = server.get("/api/v1/teams", Some(&night_boss)).await;
    assert_eq!(teams.as_array().unwrap().len(), 1, "{teams}");
    assert_eq!(teams[0]["name"], "Night");
}
