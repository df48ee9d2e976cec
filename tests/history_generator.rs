//! `switchboard-load history` writes a data directory the appliance serves: the
//! aggregates it kept equal a rebuild from the task log and state history it wrote,
//! and the conversations, their transcripts and the full-text index read back.

mod common;

use common::TestServer;

fn aggregates(path: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let c = rusqlite::Connection::open(path).unwrap();
    switchboard::reports::rebuild::dump(&c).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_history_is_served_and_its_aggregates_equal_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard-load"))
        .args([
            "history",
            "--conversations",
            "120",
            "--days",
            "2",
            "--agents",
            "9",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote 120 conversations"));
    let db = dir.path().join("switchboard.db");
    let kept = aggregates(&db);
    let counts: (i64, i64, i64) = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT (SELECT COUNT(*) FROM conversations), (SELECT COUNT(*) FROM cim_events),
                    (SELECT COUNT(*) FROM report_intervals)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(counts.0, 120);
    assert!(counts.1 > 120 * 5, "{counts:?}");
    assert!(counts.2 > 0, "{counts:?}");
    let rebuilt = std::process::Command::new(common::binary())
        .args(["reports", "rebuild", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert_eq!(aggregates(&db), kept, "the kept aggregates equal a rebuild");

    let config = common::test_config(dir.path());
    let server = TestServer::start_in(dir, config).await;
    let admin = server.login("admin", "admin").await;
    let from = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(72))
        .unwrap()
        .strftime("%Y-%m-%d")
        .to_string();
    let to = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let (status, found) = server
        .get(
            &format!("/api/v1/reports/conversations?from={from}&to={to}&limit=1"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 120, "{found}");
    let (status, hits) = server
        .get(
            &format!("/api/v1/reports/conversations?from={from}&to={to}&q=refund"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{hits}");
    assert!(hits["total"].as_i64().unwrap() > 0, "{hits}");
    let id = found["items"][0]["id"].as_str().unwrap();
    let (status, events) = server
        .get(&format!("/api/v1/conversations/{id}/events"), Some(&admin))
        .await;
    assert_eq!(status, 200, "{events}");
    assert!(events["events"].as_array().unwrap().len() >= 5, "{events}");
}
