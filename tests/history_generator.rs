//! `switchboard-load history` writes a data directory the appliance serves: the
//! aggregates it kept equal a rebuild from the task log and state history it wrote,
//! and the conversations, their transcripts and the full-text index read back.

use crate::common;

use common::TestServer;

fn aggregates(path: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let c = rusqlite::Connection::open(path).unwrap();
    switchboard::reports::rebuild::dump(&c).unwrap()
}

/// The agents' CHAT MRD spans: ACTIVE while they had a chat, and occupied time kept.
fn the_agents_chat_mrd_follows_their_chats(db: &std::path::Path) {
    let c = rusqlite::Connection::open(db).unwrap();
    let count = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).unwrap() };
    let active = count(
        "SELECT COUNT(*) FROM agent_state_spans s JOIN mrds m ON m.id = s.mrd_id
         WHERE m.name = 'CHAT' AND s.state = 'ACTIVE'",
    );
    let handled = count("SELECT COUNT(*) FROM tasks WHERE agent_id IS NOT NULL");
    assert!(active > 0 && active <= handled, "{active} of {handled}");
    let occupied =
        count("SELECT COALESCE(SUM(ms), 0) FROM report_agent_time WHERE state = 'OCCUPIED'");
    let handle = count(
        "SELECT SUM(t.closed_at - m.answer_time) FROM tasks t JOIN task_media m ON m.task_id = t.id
         WHERE t.agent_id IS NOT NULL",
    );
    assert!(
        occupied > 0 && occupied <= handle,
        "occupied {occupied} ms, handled {handle} ms"
    );
}

/// Message text searched both ways (matches collected first, or conversation by
/// conversation) finds the same conversations, and a capped count says so.
fn common_and_rare_text_find_the_same(db: &std::path::Path) {
    use switchboard::reports::read::Scope;
    use switchboard::reports::search::{search_with, Filter, Limits};
    let c = rusqlite::Connection::open(db).unwrap();
    let filter = Filter {
        start: 0,
        end: i64::MAX,
        text: Some("refund".into()),
        limit: 10,
        ..Filter::default()
    };
    let admin = Scope {
        admin: true,
        teams: Default::default(),
    };
    let limits = |count_cap, frequent| Limits {
        count_cap,
        frequent,
        ..Limits::default()
    };
    let collected = search_with(&c, &filter, &admin, &limits(10_000, i64::MAX)).unwrap();
    let one_by_one = search_with(&c, &filter, &admin, &limits(10_000, 0)).unwrap();
    assert!(
        collected.total > 12 && !collected.more,
        "{}",
        collected.total
    );
    assert_eq!(collected, one_by_one);
    let capped = search_with(&c, &filter, &admin, &limits(12, 0)).unwrap();
    assert_eq!((capped.total, capped.more), (12, true));
    assert_eq!(capped.rows, collected.rows);
    let page_over_cap = search_with(&c, &filter, &admin, &limits(5, 0)).unwrap();
    assert_eq!(
        (page_over_cap.total, page_over_cap.more),
        (10, true),
        "the count covers the page at least"
    );
    let second = Filter {
        offset: 10,
        ..filter.clone()
    };
    let capped = search_with(&c, &second, &admin, &limits(12, i64::MAX)).unwrap();
    assert_eq!(
        (capped.total, capped.more),
        (collected.total.min(22), collected.total > 22),
        "counted to offset + 12 at most"
    );
    // With another filter the newest matches are read in batches, each going on
    // where the last stopped, until the count is full: the same conversations as
    // collecting every match, and a capped count over several batches.
    let queue: String = c
        .query_row(
            "SELECT m.queue_id FROM task_media m GROUP BY 1 ORDER BY COUNT(*) LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let queued = Filter {
        queue: Some(queue),
        ..filter.clone()
    };
    let collected_in_queue = search_with(&c, &queued, &admin, &limits(10_000, i64::MAX)).unwrap();
    let batched = search_with(&c, &queued, &admin, &limits(10_000, 0)).unwrap();
    assert!(
        collected_in_queue.total > 3 && collected_in_queue.total < collected.total,
        "{} of {}",
        collected_in_queue.total,
        collected.total
    );
    assert_eq!(batched, collected_in_queue);
    let small = Filter {
        limit: 2,
        ..queued.clone()
    };
    let capped = search_with(&c, &small, &admin, &limits(3, 0)).unwrap();
    assert_eq!((capped.total, capped.more), (3, true));
    assert_eq!(capped.rows[..], collected_in_queue.rows[..2]);
}

/// The ratings the reports read from the aggregates (kept as each rating was stored)
/// are those the definition finds by looking each rating's conversation up.
fn csat_reads_as_its_definition(db: &std::path::Path) {
    use std::collections::BTreeMap;
    use switchboard::reports::{csat, period, read};
    let c = rusqlite::Connection::open(db).unwrap();
    let now = jiff::Timestamp::now();
    let day = |hours_ago: i64| {
        now.checked_sub(jiff::SignedDuration::from_hours(hours_ago))
            .unwrap()
            .strftime("%Y-%m-%d")
            .to_string()
    };
    let period = period::Period::parse(
        &day(96),
        Some(&day(0)),
        period::Interval::Day,
        jiff::tz::TimeZone::UTC,
    )
    .unwrap();
    let admin = read::Scope {
        admin: true,
        teams: Default::default(),
    };
    let mut rated = 0;
    for kind in [
        read::Kind::Queues,
        read::Kind::Channels,
        read::Kind::Teams,
        read::Kind::Agents,
    ] {
        let mut defined: BTreeMap<String, (u64, i64)> = BTreeMap::new();
        for (_, key, rating) in csat::ratings(&c, kind, period.start, period.end).unwrap() {
            let e = defined.entry(key).or_default();
            e.0 += 1;
            e.1 += rating;
        }
        let report = read::report(&c, kind, &period, &admin, None, now.as_millisecond()).unwrap();
        let read: BTreeMap<String, (u64, i64)> = report
            .totals
            .iter()
            .filter(|l| l.csat.count > 0)
            .map(|l| (l.id.clone(), (l.csat.count, l.csat.sum)))
            .collect();
        assert_eq!(read, defined, "{kind:?}");
        rated += defined.values().map(|v| v.0).sum::<u64>();
    }
    assert!(rated > 0, "the history has ratings");
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
    the_agents_chat_mrd_follows_their_chats(&db);
    common_and_rare_text_find_the_same(&db);
    csat_reads_as_its_definition(&db);

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
    assert_eq!(hits["more"], false, "{hits}");
    let id = found["items"][0]["id"].as_str().unwrap();
    let (status, events) = server
        .get(&format!("/api/v1/conversations/{id}/events"), Some(&admin))
        .await;
    assert_eq!(status, 200, "{events}");
    assert!(events["events"].as_array().unwrap().len() >= 5, "{events}");
}
