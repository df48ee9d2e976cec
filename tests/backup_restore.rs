//! Backups and restore on a real server: the drill (traffic runs, a backup is taken,
//! the data directory is destroyed, restore, start: every message acknowledged before
//! the backup is there and chats route again), scheduled backups keeping the newest N,
//! and `switchboard restore` refusing a running server's directory.

use crate::channels_support;
use crate::common;

use channels_support::{accept, desk, set_state, start_chat, T};
use common::{binary, test_config, TestServer};
use parking_lot::Mutex;
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard::backup;

fn running(server: &TestServer) -> &switchboard::Running {
    server.running.as_ref().expect("server running")
}

/// The client ids of the customer messages of a conversation, via the history API.
async fn stored_message_ids(server: &TestServer, conversation: &str) -> HashSet<String> {
    let admin = server.login("admin", "admin").await;
    let (status, body) = server
        .get(
            &format!("/api/v1/conversations/{conversation}/events"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["name"] == "CUSTOMER_MESSAGE")
        .filter_map(|e| e["data"]["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_backup_under_traffic_destroy_restore_and_route_again() {
    let elsewhere = tempfile::tempdir().expect("backup disk");
    let backups = elsewhere.path().to_path_buf();
    let mut server = TestServer::start_with(|c| c.backup.directory = backups.clone()).await;

    let (agent, _) = desk(&server, "agent1").await;
    set_state(&agent, "READY").await;
    let (customer, conversation) = start_chat(&server, "drill-customer").await;
    let customer = Arc::new(customer);
    accept(&agent, &conversation).await;

    // Traffic: the customer writes without pause; each acknowledged id is recorded.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (customer, acked, stop) = (customer.clone(), acked.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let id = format!("drill-{n}");
                let body = json!({"id": id, "body": {"type": "PLAIN", "markdownText": "load"}});
                let ack = customer
                    .emit_ack("MESSAGE_RECEIVED", body)
                    .await
                    .expect("ack");
                assert_eq!(ack[0]["status"], "ok", "{ack:?}");
                acked.lock().push(id);
            }
        })
    };
    let deadline = Instant::now() + T;
    while acked.lock().len() < 30 {
        assert!(Instant::now() < deadline, "traffic flows");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before_backup: Vec<String> = acked.lock().clone();
    let file = running(&server).backup_now().await.expect("backup");
    let after_backup = acked.lock().len();
    stop.store(true, Ordering::Relaxed);
    traffic.await.expect("traffic");
    assert!(
        acked.lock().len() > before_backup.len(),
        "messages kept flowing while the backup ran ({} before, {after_backup} at its end)",
        before_backup.len()
    );

    // The disk is lost.
    server.stop().await;
    let data = server.data_dir();
    std::fs::remove_dir_all(&data).expect("data destroyed");
    std::fs::create_dir(&data).expect("new empty data dir");

    let restored = backup::restore::restore(&file, &data).expect("restore");
    assert_eq!(restored.kept_aside, None, "nothing was there to keep");
    let server = server.restart().await;
    let stored = stored_message_ids(&server, &conversation).await;
    let missing: Vec<&String> = before_backup
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but lost: {missing:?}"
    );

    // And it routes again.
    let (agent2, _) = desk(&server, "agent2").await;
    set_state(&agent2, "READY").await;
    let (_next, fresh) = start_chat(&server, "after-restore").await;
    accept(&agent2, &fresh).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_keep_the_newest() {
    let elsewhere = tempfile::tempdir().expect("backup disk");
    let dir = elsewhere.path().to_path_buf();
    let server = TestServer::start_with(|c| {
        c.backup.interval_secs = 1;
        c.backup.keep = 2;
        c.backup.directory = dir.clone();
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let first = loop {
        if let Some(first) = backup::list(&dir).ok().and_then(|l| l.first().cloned()) {
            break first;
        }
        assert!(Instant::now() < deadline, "a scheduled backup appears");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Two more intervals: the first one is pruned, two are kept. A new backup gets its
    // name before the oldest is pruned, so keep + 1 may be seen for a moment.
    loop {
        let all = backup::list(&dir).expect("list");
        assert!(all.len() <= 3, "{all:?}");
        if !all.contains(&first) && all.len() <= 2 {
            assert_eq!(all.len(), 2);
            for b in &all {
                assert!(backup::restore::check(b).is_ok(), "{b:?} is a sound backup");
            }
            break;
        }
        assert!(Instant::now() < deadline, "the oldest backup is pruned");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_running_servers_directory_and_a_bad_file() {
    let server = TestServer::start().await;
    let file = running(&server).backup_now().await.expect("backup");
    let out = std::process::Command::new(binary())
        .args(["restore", file.to_str().unwrap(), "--data-dir"])
        .arg(server.data_dir())
        .output()
        .expect("runs");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("running on"), "{stderr}");

    // A second server cannot start on the directory either.
    let config = test_config(&server.data_dir());
    let second = switchboard::App::start(config).await;
    assert!(matches!(second, Err(switchboard::StartError::DataDir(_))));

    // A damaged file is refused and nothing is changed.
    let elsewhere = tempfile::tempdir().unwrap();
    let bad = elsewhere.path().join("bad.db");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&bad, &bytes).unwrap();
    let target = elsewhere.path().join("data");
    let err = backup::restore::restore(&bad, &target).unwrap_err();
    assert_eq!(err.code(), "refused", "{err}");
    assert!(!target.join("switchboard.db").exists());
}
