//! The binary as an operator runs it: CLI commands, config refusal, restarts,
//! `kill -9`, SIGTERM, backups and schema versions.

use crate::common;

use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Served {
    child: Child,
    addr: SocketAddr,
}

fn serve(data_dir: &Path, extra: &[&str]) -> Served {
    let mut child = Command::new(common::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .env("SWITCHBOARD_LOG__LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn switchboard");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .expect("address");
    Served { child, addr }
}

fn run(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(common::binary())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(input) = stdin {
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        // A command that refuses its arguments may exit before it reads stdin.
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn login(addr: SocketAddr, user: &str, password: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login request")
        .status()
}

#[test]
fn version_flag_prints_the_version() {
    let (ok, out, _) = run(&["--version"], None);
    assert!(ok);
    assert!(out.contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_config_keys_and_bad_values_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[routing]\naccept_timout_secs = 5\n").unwrap();
    let (ok, _, err) = run(
        &[
            "serve",
            "--config",
            cfg.to_str().unwrap(),
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        None,
    );
    assert!(!ok);
    assert!(err.contains("accept_timout_secs"), "{err}");

    let out = Command::new(common::binary())
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .env("SWITCHBOARD_STORE__SYNCHRONOUS", "MAYBE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("store.synchronous"));
}

#[test]
fn user_commands_add_list_and_change_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, _, err) = run(
        &[
            "user",
            "add",
            "--data-dir",
            d,
            "--username",
            "zoe",
            "--role",
            "supervisor",
            "--password-stdin",
        ],
        Some("zoe-pass\n"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        &[
            "user",
            "add",
            "--data-dir",
            d,
            "--username",
            "zoe",
            "--role",
            "agent",
            "--password-stdin",
        ],
        Some("other-pass\n"),
    );
    assert!(!ok);
    assert!(err.contains("already exists"), "{err}");
    let (ok, _, err) = run(
        &[
            "user",
            "add",
            "--data-dir",
            d,
            "--username",
            "x",
            "--role",
            "king",
            "--password-stdin",
        ],
        Some("xxxxxx"),
    );
    assert!(!ok);
    assert!(err.contains("king"), "{err}");
    let (ok, out, _) = run(&["user", "list", "--data-dir", d], None);
    assert!(ok);
    assert!(out.contains("zoe") && out.contains("supervisor"), "{out}");
    let (ok, _, err) = run(
        &[
            "user",
            "passwd",
            "--data-dir",
            d,
            "--username",
            "zoe",
            "--password-stdin",
        ],
        Some("new-zoe-pass\n"),
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run(
        &[
            "user",
            "passwd",
            "--data-dir",
            d,
            "--username",
            "nobody",
            "--password-stdin",
        ],
        Some("whatever1\n"),
    );
    assert!(!ok);
    assert!(err.contains("not found"), "{err}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    // A config file turns the demo site off: only zoe exists.
    let cfg = dir.path().join("site.toml");
    std::fs::write(&cfg, "").unwrap();
    let mut served = serve(dir.path(), &["--config", cfg.to_str().unwrap()]);
    rt.block_on(async {
        assert_eq!(login(served.addr, "zoe", "new-zoe-pass").await, 200);
        assert_eq!(login(served.addr, "zoe", "zoe-pass").await, 401);
        assert_eq!(login(served.addr, "admin", "admin").await, 401);
    });
    served.child.kill().unwrap();
    served.child.wait().unwrap();
}

#[test]
fn data_survives_restart_kill_9_and_sigterm_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut served = serve(dir.path(), &[]);
    let addr = served.addr;
    rt.block_on(async {
        let client = reqwest::Client::new();
        let token: serde_json::Value = client
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": "admin"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["token"].as_str().unwrap().to_string();
        let resp = client
            .post(format!("http://{addr}/api/v1/users"))
            .bearer_auth(&token)
            .json(&json!({"username": "durable", "password": "durable-pw", "role": "agent"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
    });
    // The 201 came after commit: a kill -9 right now must not lose the user.
    served.child.kill().unwrap();
    served.child.wait().unwrap();

    let mut served = serve(dir.path(), &[]);
    rt.block_on(async {
        assert_eq!(login(served.addr, "durable", "durable-pw").await, 200);
    });
    // SIGTERM: stop accepting, drain, flush, exit 0.
    let pid = served.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = wait_with_timeout(&mut served.child, Duration::from_secs(15));
    assert_eq!(status.and_then(|s| s.code()), Some(0));

    // Migrations are idempotent: a third start on the same data works, as does `migrate`.
    let (ok, out, err) = run(
        &["migrate", "--data-dir", dir.path().to_str().unwrap()],
        None,
    );
    assert!(ok, "{err}");
    let latest = format!(
        "schema version {}",
        *switchboard::store::LATEST_SCHEMA_VERSION
    );
    assert!(out.contains(&latest), "{out}");
    let mut served = serve(dir.path(), &[]);
    rt.block_on(async {
        assert_eq!(login(served.addr, "durable", "durable-pw").await, 200);
        assert_eq!(login(served.addr, "agent1", "agent1").await, 200);
    });
    served.child.kill().unwrap();
    served.child.wait().unwrap();
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[test]
fn backup_is_a_consistent_database_holding_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, _, err) = run(
        &[
            "user",
            "add",
            "--data-dir",
            d,
            "--username",
            "kept",
            "--role",
            "agent",
            "--password-stdin",
        ],
        Some("kept-pass"),
    );
    assert!(ok, "{err}");
    // Backups work while the appliance is serving.
    let mut served = serve(dir.path(), &[]);
    let backup = dir.path().join("copy.db");
    let (ok, out, err) = run(&["backup", "--data-dir", d, backup.to_str().unwrap()], None);
    assert!(ok, "{err}");
    assert!(out.contains("backup written"));
    let (ok, _, err) = run(&["backup", "--data-dir", d, backup.to_str().unwrap()], None);
    assert!(!ok, "overwriting a backup must be refused");
    assert!(err.contains("already exists"));
    served.child.kill().unwrap();
    served.child.wait().unwrap();

    let conn = rusqlite::Connection::open(&backup).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM users WHERE username = 'kept'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");

    // The backup is a working data directory of its own.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&backup, restored.path().join("switchboard.db")).unwrap();
    let mut served = serve(restored.path(), &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async { assert_eq!(login(served.addr, "kept", "kept-pass").await, 200) });
    served.child.kill().unwrap();
    served.child.wait().unwrap();
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    assert!(run(&["migrate", "--data-dir", d], None).0);
    let conn = rusqlite::Connection::open(dir.path().join("switchboard.db")).unwrap();
    conn.execute(
        "INSERT INTO refinery_schema_history(version, name, applied_on, checksum) VALUES (99, 'future', 'now', '0')",
        [],
    )
    .unwrap();
    drop(conn);
    let (ok, _, err) = run(&["migrate", "--data-dir", d], None);
    assert!(!ok);
    assert!(err.contains("newer Switchboard"), "{err}");
}

#[test]
fn a_commit_the_store_refuses_stops_the_server_with_a_failure_and_it_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut served = serve(dir.path(), &[]);
    let addr = served.addr;
    // Every routing input is journaled in its batch's transaction: refusing journal
    // rows makes the engine's next commit fail.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_journal BEFORE INSERT ON routing_journal
             BEGIN SELECT RAISE(ABORT, 'injected write failure'); END",
        )
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let token: serde_json::Value = client
            .post(format!("http://{addr}/api/v1/auth/login"))
            .json(&json!({"username": "admin", "password": "admin"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = token["token"].as_str().unwrap();
        let mrds: serde_json::Value = client
            .get(format!("http://{addr}/api/v1/mrds"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        // A new queue is a routing input; its answer may come before the engine
        // halts or be refused by it.
        let _ = client
            .post(format!("http://{addr}/api/v1/queues"))
            .bearer_auth(token)
            .json(&json!({"name": "Refused", "mrdId": mrds[0]["id"]}))
            .send()
            .await;
    });
    let status = wait_with_timeout(&mut served.child, Duration::from_secs(15));
    let code = status.and_then(|s| s.code());
    assert!(
        matches!(code, Some(c) if c != 0),
        "exits with a failure for the service manager to restart it: {status:?}"
    );

    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("DROP TRIGGER refuse_journal")
        .unwrap();
    let mut served = serve(dir.path(), &[]);
    rt.block_on(async {
        assert_eq!(login(served.addr, "admin", "admin").await, 200);
    });
    served.child.kill().unwrap();
    served.child.wait().unwrap();
}
