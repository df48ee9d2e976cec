//! The history API on a real server: conversations listed and filtered by state,
//! queue, agent, customer and time; agents limited to their own conversations; the
//! transcript in sequence order; bad parameters refused by name.

use crate::channels_support;
use crate::common;

use channels_support::{accept, answer, connector_message, desk, post_message, set_state};
use common::TestServer;
use serde_json::Value;

const SID: &str = channels_support::CONNECTOR_SID;

async fn customer_writes(server: &TestServer, message_id: &str, customer: &str) -> String {
    let (status, ack) = post_message(
        server,
        &connector_message(message_id, SID, customer, "Hello there"),
    )
    .await;
    assert_eq!(status, 202, "{ack}");
    ack["conversationId"].as_str().unwrap().to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn list(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    let (status, body) = server
        .get(&format!("/api/v1/conversations{query}"), Some(token))
        .await;
    assert_eq!(status, 200, "{query}: {body}");
    ids(&body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_filtered_and_agents_see_only_their_own() {
    let server = TestServer::start().await;

    // A: answered by agent1. B: answered by agent2. C: still waiting.
    let (agent1, agent1_id) = desk(&server, "agent1").await;
    set_state(&agent1, "READY").await;
    let a = customer_writes(&server, "h-a1", "cust-a").await;
    accept(&agent1, &a).await;
    answer(&agent1, &a, "Hi A").await;
    set_state(&agent1, "NOT_READY").await;

    let (agent2, agent2_id) = desk(&server, "agent2").await;
    set_state(&agent2, "READY").await;
    let b = customer_writes(&server, "h-b1", "cust-b").await;
    accept(&agent2, &b).await;
    answer(&agent2, &b, "Hi B").await;
    set_state(&agent2, "NOT_READY").await;

    let c = customer_writes(&server, "h-c1", "cust-c").await;
    let (status, _) = post_message(
        &server,
        &connector_message("h-a2", SID, "cust-a", "Thanks!"),
    )
    .await;
    assert_eq!(status, 202);

    let supervisor = server.login("supervisor", "supervisor").await;
    let all = list(&server, &supervisor, "").await;
    assert_eq!(all, vec![c.clone(), b.clone(), a.clone()], "newest first");

    // Filters.
    assert_eq!(
        list(&server, &supervisor, "?state=ACTIVE").await,
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        list(&server, &supervisor, "?state=CLOSED").await,
        Vec::<String>::new()
    );
    assert_eq!(
        list(&server, &supervisor, &format!("?agentId={agent1_id}")).await,
        vec![a.clone()]
    );
    let (_, one) = server
        .get(&format!("/api/v1/conversations/{a}"), Some(&supervisor))
        .await;
    let customer_a = one["customerId"].as_str().unwrap().to_string();
    assert_eq!(one["state"], "ACTIVE");
    assert_eq!(one["conversation"]["id"], a);
    assert_eq!(
        list(&server, &supervisor, &format!("?customerId={customer_a}")).await,
        vec![a.clone()]
    );
    let (_, queues) = server.get("/api/v1/queues", Some(&supervisor)).await;
    let default_queue = queues["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["name"] == "Default")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        list(
            &server,
            &supervisor,
            &format!("?queueId={default_queue}&state=ACTIVE")
        )
        .await,
        vec![b.clone(), a.clone()]
    );
    assert!(list(&server, &supervisor, "?queueId=nope").await.is_empty());
    let (_, conv_b) = server
        .get(&format!("/api/v1/conversations/{b}"), Some(&supervisor))
        .await;
    let created_b = conv_b["creationTime"].as_i64().unwrap();
    assert_eq!(
        list(&server, &supervisor, &format!("?from={created_b}")).await,
        vec![c.clone(), b.clone()]
    );
    assert_eq!(
        list(&server, &supervisor, &format!("?to={}", created_b - 1)).await,
        vec![a.clone()]
    );
    assert!(list(
        &server,
        &supervisor,
        &format!("?from={}", created_b + 3_600_000)
    )
    .await
    .is_empty());
    assert_eq!(
        list(&server, &supervisor, "?limit=1").await,
        vec![c.clone()]
    );
    assert_eq!(
        list(&server, &supervisor, "?limit=1&offset=1").await,
        vec![b.clone()]
    );

    // Agents: only what they took part in.
    let token1 = server.login("agent1", "agent1").await;
    assert_eq!(list(&server, &token1, "").await, vec![a.clone()]);
    assert_eq!(
        list(&server, &token1, &format!("?agentId={agent1_id}")).await,
        vec![a.clone()]
    );
    let (status, err) = server
        .get(
            &format!("/api/v1/conversations?agentId={agent2_id}"),
            Some(&token1),
        )
        .await;
    assert_eq!(status, 403, "{err}");
    let (status, _) = server
        .get(&format!("/api/v1/conversations/{b}"), Some(&token1))
        .await;
    assert_eq!(status, 404, "another agent's conversation is not visible");
    let (status, _) = server
        .get(&format!("/api/v1/conversations/{b}/events"), Some(&token1))
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .get(&format!("/api/v1/conversations/{a}"), Some(&token1))
        .await;
    assert_eq!(status, 200);
    let token3 = server.login("agent3", "agent3").await;
    assert!(list(&server, &token3, "").await.is_empty());
    let admin = server.login("admin", "admin").await;
    assert_eq!(list(&server, &admin, "").await.len(), 3);

    // The transcript, in sequence order, and from a point on.
    let (status, transcript) = server
        .get(&format!("/api/v1/conversations/{a}/events"), Some(&token1))
        .await;
    assert_eq!(status, 200, "{transcript}");
    assert_eq!(transcript["conversationId"], a);
    let events = transcript["events"].as_array().unwrap();
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs.first(), Some(&1));
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(transcript["lastSeq"].as_u64(), seqs.last().copied());
    let texts: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["type"] == "MESSAGE")
        .map(|e| {
            (
                e["name"].as_str().unwrap(),
                e["data"]["body"]["markdownText"]
                    .as_str()
                    .unwrap_or_default(),
            )
        })
        .collect();
    let customer_first = texts
        .iter()
        .position(|t| *t == ("CUSTOMER_MESSAGE", "Hello there"))
        .unwrap();
    let agent_reply = texts
        .iter()
        .position(|t| *t == ("AGENT_MESSAGE", "Hi A"))
        .unwrap();
    let customer_thanks = texts
        .iter()
        .position(|t| *t == ("CUSTOMER_MESSAGE", "Thanks!"))
        .unwrap();
    assert!(
        customer_first < agent_reply && agent_reply < customer_thanks,
        "{texts:?}"
    );
    let middle = seqs[seqs.len() / 2];
    let (_, tail) = server
        .get(
            &format!("/api/v1/conversations/{a}/events?afterSeq={middle}"),
            Some(&supervisor),
        )
        .await;
    let tail_seqs: Vec<u64> = tail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(tail_seqs, seqs[seqs.len() / 2 + 1..].to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_and_unknown_ids_are_refused() {
    let server = TestServer::start().await;
    let supervisor = server.login("supervisor", "supervisor").await;
    for (query, param) in [
        ("?state=OPEN", "state"),
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?limit=ten", "limit"),
        ("?offset=-1", "offset"),
        ("?from=yesterday", "from"),
        ("?to=1.5", "to"),
        ("?from=10&to=5", "from"),
        ("?colour=red", "colour"),
        ("?state=ACTIVE&state=CLOSED", "state"),
    ] {
        let (status, err) = server
            .get(&format!("/api/v1/conversations{query}"), Some(&supervisor))
            .await;
        assert_eq!(status, 400, "{query}: {err}");
        assert_eq!(err["code"], "bad_request", "{query}: {err}");
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{param}`")),
            "{query}: {err}"
        );
    }
    let (status, _) = server
        .get("/api/v1/conversations/nope", Some(&supervisor))
        .await;
    assert_eq!(status, 404);
    let (status, _) = server
        .get("/api/v1/conversations/nope/events", Some(&supervisor))
        .await;
    assert_eq!(status, 404);
    let c = {
        let (status, ack) =
            post_message(&server, &connector_message("h-x", SID, "cust-x", "Hi")).await;
        assert_eq!(status, 202);
        ack["conversationId"].as_str().unwrap().to_string()
    };
    let (status, err) = server
        .get(
            &format!("/api/v1/conversations/{c}/events?afterSeq=-1"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        err["message"].as_str().unwrap().contains("`afterSeq`"),
        "{err}"
    );
    let (status, _) = server.get("/api/v1/conversations", None).await;
    assert_eq!(status, 401);
    let (status, _) = server
        .get(&format!("/api/v1/conversations/{c}"), None)
        .await;
    assert_eq!(status, 401);
}
