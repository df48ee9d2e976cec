//! From a report figure to the conversations behind it (search by outcome in the
//! row's window).

use super::enc;
use crate::common::TestServer;
use serde_json::Value;

/// From a figure of the queue's period total (and the team's) to the conversations
/// behind it: search by outcome in the row's window finds as many conversations as
/// the figure counts (each conversation here has one task per outcome), and bad
/// windows and outcomes are refused by name.
pub(crate) async fn drill_downs(
    server: &TestServer,
    admin: &str,
    supervisor: &str,
    queue_total: &Value,
) {
    let queue_id = queue_total["id"].as_str().unwrap();
    let window = format!(
        "since={}&until={}",
        enc(queue_total["intervalStart"].as_str().unwrap()),
        enc(queue_total["intervalEnd"].as_str().unwrap())
    );
    for (outcome, expected) in [
        ("offered", 2),
        ("answered", 1),
        ("abandoned", 2),
        ("handled", 1),
        (
            "shortAbandoned",
            queue_total["shortAbandons"].as_i64().unwrap(),
        ),
    ] {
        let path =
            format!("/api/v1/reports/conversations?{window}&queue={queue_id}&outcome={outcome}");
        let (status, body) = server.get(&path, Some(admin)).await;
        assert_eq!(
            (status, body["total"].as_i64()),
            (200, Some(expected)),
            "{outcome}: {body}"
        );
    }
    // The chat that was answered and handled: its row names the agent and the wrap-up.
    let (_, answered) = server
        .get(
            &format!("/api/v1/reports/conversations?{window}&queue={queue_id}&outcome=handled"),
            Some(admin),
        )
        .await;
    assert_eq!(answered["items"][0]["csat"], 4, "{answered}");
    // A window before the chats holds none of them.
    let (_, none) = server
        .get(
            &format!(
                "/api/v1/reports/conversations?since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z&queue={queue_id}&outcome=offered"
            ),
            Some(admin),
        )
        .await;
    assert_eq!(none["total"], 0, "{none}");
    // The team of the agent who handled the chat: found by team, as the supervisor.
    let (_, teams) = server
        .get("/api/v1/reports/teams?interval=day", Some(supervisor))
        .await;
    let team = teams["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["handled"] == 1)
        .unwrap_or_else(|| panic!("{teams}"));
    let path = format!(
        "/api/v1/reports/conversations?{window}&team={}&outcome=handled",
        team["id"].as_str().unwrap()
    );
    let (status, body) = server.get(&path, Some(supervisor)).await;
    assert_eq!((status, body["total"].as_i64()), (200, Some(1)), "{body}");
    let (_, body) = server
        .get(
            "/api/v1/reports/conversations?team=no-such-team",
            Some(admin),
        )
        .await;
    assert_eq!(body["total"], 0, "{body}");
    for (query, field) in [
        ("since=2026-12-05T10:00:00Z".to_string(), "until"),
        ("until=2026-12-05T10:00:00Z".to_string(), "since"),
        (
            "since=yesterday&until=2026-12-05T10:00:00Z".to_string(),
            "since",
        ),
        (
            "since=2026-12-05T10:00:00Z&until=2026-12-05T09:00:00Z".to_string(),
            "until",
        ),
        (
            "since=2020-01-01T00:00:00Z&until=2026-12-05T09:00:00Z".to_string(),
            "until",
        ),
    ] {
        let (status, body) = server
            .get(
                &format!("/api/v1/reports/conversations?{query}"),
                Some(admin),
            )
            .await;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some(field)),
            "{query}: {body}"
        );
    }
    let (status, body) = server
        .get("/api/v1/reports/conversations?outcome=lost", Some(admin))
        .await;
    assert_eq!(status, 400, "{body}");
}
