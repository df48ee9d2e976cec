//! `switchboard replay` over what a running appliance journaled: chats answered with
//! messages, a RONA, a direct transfer, a restart in the middle and a chat after it
//! replay with no divergence; a changed routing rule (a longer accept timeout) shows
//! the first decision it alters; `--from` begins at the run holding it, or at the
//! snapshot of the engine's state before it (taken every second here, daily by
//! default), and a whole replay checks the snapshots it passes; bad options and a
//! data directory without a journal are refused; `db-size` lists the journal; the
//! purge keeps `retention.journal_days` of it, and what it keeps replays.

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;
use support::chat::{agent_message, leave_and_wrap_up, place_direct_transfer, ready_desk, widget};
use support::sio_client::SioClient;
use switchboard::store::journal::Kind;

const T: Duration = Duration::from_secs(10);

fn switchboard(dir: &Path, args: &[&str]) -> Output {
    Command::new(common::binary())
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The desk takes the offer of `conversation_id`; the topic's conversation.
async fn accept(desk: &SioClient, conversation_id: &str) -> Value {
    loop {
        let offer = desk.expect("taskRequest", T).await.unwrap();
        if offer["conversationId"] == conversation_id {
            break;
        }
    }
    let joined = desk
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .unwrap();
    joined[0]["topicData"]["conversation"].clone()
}

async fn talk(customer: &SioClient, desk: &SioClient, conversation_id: &str, n: usize) {
    for i in 0..n {
        let ack = customer
            .emit_ack(
                "MESSAGE_RECEIVED",
                json!({"id": format!("{conversation_id}-{i}"),
                       "body": {"type": "PLAIN", "markdownText": format!("question {i}")}}),
            )
            .await
            .unwrap();
        assert!(ack[0].get("error").is_none(), "{ack:?}");
        let text = json!({"type": "PLAIN", "markdownText": format!("answer {i}")});
        let ack = desk
            .emit_ack(
                "publishCimEvent",
                json!({"conversationId": conversation_id,
                       "cimEvent": agent_message(conversation_id, text)}),
            )
            .await
            .unwrap();
        assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    }
}

/// Before the restart: agent1 answers chat 1; chat 2 is offered to agent1, who lets
/// it ring (RONA, 1 s here), and agent2 takes it; agent1 transfers chat 1 to agent2.
async fn first_run(server: &TestServer) {
    let t1 = server.login("agent1", "agent1").await;
    let (agent1, _) = ready_desk(server.addr, &t1).await;
    let (c1, id1) = widget(server.addr, "replay-1").await;
    let conversation = accept(&agent1, &id1).await;
    talk(&c1, &agent1, &id1, 3).await;

    let (c2, id2) = widget(server.addr, "replay-2").await;
    loop {
        let revoked = agent1.expect("revokeTask", T).await.unwrap();
        if revoked["reason"] == "RONA" {
            break;
        }
    }
    let t2 = server.login("agent2", "agent2").await;
    let (agent2, agent2_id) = ready_desk(server.addr, &t2).await;
    accept(&agent2, &id2).await;
    talk(&c2, &agent2, &id2, 2).await;

    place_direct_transfer(&agent1, &conversation, &id1, &agent2_id).await;
    accept(&agent2, &id1).await;
    agent1.expect("wrapupTimerStarted", T).await.unwrap();
    talk(&c1, &agent2, &id1, 1).await;
}

/// After the restart: agent2 comes back and answers chat 3 to its end.
async fn second_run(server: &TestServer) {
    let t2 = server.login("agent2", "agent2").await;
    let (agent2, agent2_id) = ready_desk(server.addr, &t2).await;
    let (c3, id3) = widget(server.addr, "replay-3").await;
    accept(&agent2, &id3).await;
    talk(&c3, &agent2, &id3, 2).await;
    leave_and_wrap_up(&agent2, &agent2_id, &id3).await;
    c3.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    c3.expect("CHANNEL_SESSION_ENDED", T).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recorded_traffic_replays_and_a_changed_rule_diverges_at_its_first_decision() {
    let server = TestServer::start_with(|c| {
        c.routing.accept_timeout_secs = 1;
        c.routing.journal_snapshot_secs = 1;
    })
    .await;
    first_run(&server).await;
    // The first run lasts over a second (the RONA): a snapshot was taken in it.
    let in_first_run = switchboard::clock::now_ms();
    let mut server = server.restart().await;
    let restarted_at = switchboard::clock::now_ms();
    second_run(&server).await;
    server.stop().await;
    let dir = server.data_dir();

    let out = switchboard(&dir, &["replay"]);
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("in 2 runs of the routing engine"), "{text}");
    assert!(text.contains("no divergence"), "{text}");
    let inputs: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(inputs > 30, "{text}");
    // The conversation manager's inputs too: every chat request, message, wrap-up and
    // end (what one core asked of the other within a step is asked again, not read).
    let conversation_inputs: u64 = text
        .lines()
        .find(|l| l.ends_with("inputs of the conversation manager"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(conversation_inputs >= 18, "{text}");
    let conversation_snapshots: u64 = text
        .lines()
        .find(|l| l.contains("of the conversations passed: the rebuilt state was equal"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no conversation snapshot passed: {text}"));

    let snapshots: u64 = text
        .lines()
        .find(|l| l.contains("of the engine's state passed: the rebuilt state was equal"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no snapshot passed: {text}"));
    assert!(snapshots >= 1, "{text}");

    // From the end of the first run: its last snapshot on, through the restart.
    let from = in_first_run.to_string();
    let out = switchboard(&dir, &["replay", "--from", &from]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("began at the snapshot of the engine's state taken"),
        "{text}"
    );
    assert!(text.contains("in 2 runs of the routing engine"), "{text}");
    assert!(text.contains("no divergence"), "{text}");

    // From the restart on: only the second run.
    let from = restarted_at.to_string();
    let out = switchboard(&dir, &["replay", "--from", &from]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("in 1 run of the routing engine"), "{text}");
    assert!(text.contains("no divergence"), "{text}");

    // A minute to accept instead of the recorded second: the first offer differs.
    let out = switchboard(&dir, &["replay", "--accept-timeout", "60"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("(accept timeout 60 s)"), "{text}");
    assert!(text.contains("DIVERGENCE at journal row"), "{text}");
    let line = |label: &str| {
        text.lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no {label} in {text}"))
            .to_string()
    };
    // The chat's request: its step asks routing for the task and the offer.
    assert!(line("input:").contains("ChatRequested"), "{text}");
    assert!(line("expected:").contains("(1000 ms to accept)"), "{text}");
    assert!(
        line("recomputed:").contains("(60000 ms to accept)"),
        "{text}"
    );

    // Bad options and a journal-less data directory are refused, exit 2.
    let out = switchboard(&dir, &["replay", "--policy", "fastest"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown policy"));
    let out = switchboard(
        &dir,
        &["replay", "--queue", "no-such-queue", "--step-timeout", "5"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown_queue"));
    let empty = tempfile::tempdir().unwrap();
    assert!(switchboard(empty.path(), &["migrate"]).status.success());
    let out = switchboard(empty.path(), &["replay"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_journal"));

    // db-size lists the journal among what conversations cost.
    let out = switchboard(&dir, &["db-size", "--json"]);
    assert!(out.status.success());
    let size: Value = serde_json::from_slice(&out.stdout).unwrap();
    let journal = size["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "routing_journal")
        .cloned()
        .unwrap_or_else(|| panic!("{size}"));
    // Every input, the two starts and the snapshots, each with the conversations'
    // state after it.
    assert_eq!(snapshots, conversation_snapshots, "{text}");
    assert_eq!(
        journal["rows"].as_u64(),
        Some(inputs + conversation_inputs + 2 * (2 + snapshots)),
        "{journal}"
    );

    // The journal is kept `retention.journal_days` (30 by default) also when the
    // transcripts are kept forever: today nothing is that old; 30 days after the first
    // run's first snapshot the purge removes what came before it, and what is left
    // replays from there.
    let out = switchboard(&dir, &["purge"]);
    let said = stdout(&out);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.starts_with("transcripts kept forever; 0 input journal rows"),
        "{said}"
    );
    let conn = rusqlite::Connection::open(dir.join("switchboard.db")).unwrap();
    let (snapshot, snapshot_at, rows_before): (i64, i64, i64) = conn
        .query_row(
            "SELECT pos, at, (SELECT COUNT(*) FROM routing_journal j WHERE j.pos < s.pos)
             FROM routing_journal s WHERE kind = 3 ORDER BY pos LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(rows_before > 0);
    let db = dir.join("switchboard.db");
    let purged = tokio::task::spawn_blocking(move || {
        let store =
            switchboard::store::Store::open(&db, &switchboard::config::StoreConfig::default())
                .unwrap();
        let retention = switchboard::retention::RetentionConfig::default();
        let later = snapshot_at + i64::from(retention.journal_days) * 86_400_000;
        let purged = switchboard::retention::purge::run_blocking(&store, &retention, later);
        store.close();
        purged.unwrap()
    })
    .await
    .unwrap();
    assert_eq!(purged.journal_rows, rows_before as u64);
    assert_eq!(purged.conversations, 0, "transcripts are kept forever");
    let first: i64 = conn
        .query_row("SELECT min(pos) FROM routing_journal", [], |r| r.get(0))
        .unwrap();
    assert_eq!(first, snapshot);
    let out = switchboard(&dir, &["replay"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("began at the snapshot of the engine's state taken"),
        "{text}"
    );
    assert!(text.contains("no divergence"), "{text}");

    // What the customers and agents wrote is not in the journal (the stored events
    // hold it), however its rows are read.
    let start = switchboard::store::journal::start_for(&conn, None)
        .unwrap()
        .unwrap();
    let mut rows = Vec::new();
    switchboard::store::journal::for_each(&conn, start, None, |pos, entry| {
        rows.push((pos, entry.kind, entry.input.to_string()));
        Ok(true)
    })
    .unwrap();
    for (_, kind, row) in &rows {
        assert!(
            !row.contains("question ") && !row.contains("answer "),
            "{row}"
        );
        // The engine journals the site's inputs, not what one core asked of the
        // other within a step.
        assert!(
            !matches!(
                kind,
                Kind::Input | Kind::ConversationInput | Kind::ConversationPersonal
            ),
            "{kind:?} {row}"
        );
    }
    let messages: Vec<i64> = rows
        .iter()
        .filter(|(_, kind, row)| *kind == Kind::SiteInput && row.contains("CustomerMessage"))
        .map(|(pos, ..)| *pos)
        .collect();
    assert!(messages.len() >= 3, "{rows:?}");

    // A customer's message whose stored effects are not what the site decides is
    // where the replay stops, with the input and both effect lines.
    let pos = messages[2];
    conn.execute(
        "UPDATE routing_journal SET digest = digest + 1 WHERE pos = ?1",
        [pos],
    )
    .unwrap();
    drop(conn);
    let out = switchboard(&dir, &["replay"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("DIVERGENCE at journal row {pos} (SiteInput)")),
        "{text}"
    );
    assert!(
        line_of(&text, "expected:").contains("no routing effects"),
        "{text}"
    );
    assert!(line_of(&text, "recomputed:").contains("persist"), "{text}");
}

fn line_of(text: &str, label: &str) -> String {
    text.lines()
        .find(|l| l.trim_start().starts_with(label))
        .unwrap_or_else(|| panic!("no {label} in {text}"))
        .to_string()
}
