//! The load tool (`switchboard-load`) in tiny configurations against a real appliance
//! process on 127.0.0.1:0: every mode finishes by itself, reports what it measured as JSON,
//! and a clean run exits 0 with every message acknowledged and received exactly once.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// A `switchboard serve` process, killed when dropped.
struct Server {
    child: Child,
    addr: SocketAddr,
    _stdout: BufReader<ChildStdout>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("SWITCHBOARD_LOG__LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn switchboard");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .expect("address");
    Server {
        child,
        addr,
        _stdout: stdout,
        _dir: dir,
    }
}

/// Runs the tool with `--json`; returns (exit success, report, stderr).
fn load(server: &Server, args: &[&str]) -> (bool, Value, String) {
    let url = format!("http://{}", server.addr);
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard-load"))
        .args(["--url", &url, "--json"])
        .args(args)
        .output()
        .expect("run switchboard-load");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "the tool stops by itself"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}): stdout {:?} stderr {stderr}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.success(), report, stderr)
}

#[test]
fn chat_mode_delivers_every_message_exactly_once() {
    let server = serve();
    let (ok, report, stderr) = load(
        &server,
        &[
            "chat",
            "--agents",
            "2",
            "--conversations",
            "4",
            "--messages-per-conv",
            "3",
            "--rate",
            "40",
        ],
    );
    assert!(ok, "{report:#} {stderr}");
    // 4 conversations x 3 messages: customer, agent, customer.
    assert_eq!(report["counts"]["sent"], 12, "{report:#}");
    assert_eq!(report["counts"]["acked"], 12);
    assert_eq!(report["counts"]["received"], 12);
    assert_eq!(report["customer_to_desk"]["count"], 8);
    assert_eq!(report["desk_to_customer"]["count"], 4);
    assert_eq!(report["customer_messages"]["missing"], 0);
    assert_eq!(report["drained"], true);
    assert_eq!(report["agent_messages"]["duplicates"], 0);
    assert_eq!(report["exactly_once"], true);
    assert_eq!(report["errors"]["count"], 0);
    let p99 = report["send_to_receipt"]["p99_ms"].as_f64().unwrap();
    assert!(p99 > 0.0 && p99 < 10_000.0, "{report:#}");
}

#[test]
fn chat_mode_refuses_more_conversations_than_the_agents_can_hold() {
    let server = serve();
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard-load"))
        .args(["--url", &format!("http://{}", server.addr)])
        .args(["chat", "--agents", "1", "--conversations", "6"])
        .output()
        .expect("run switchboard-load");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("do not fit"), "{stderr}");
}

#[test]
fn offer_mode_measures_enqueue_to_task_request() {
    let server = serve();
    let (ok, report, stderr) = load(
        &server,
        &["offer", "--agents", "3", "--tasks", "5", "--rate", "50"],
    );
    assert!(ok, "{report:#} {stderr}");
    assert_eq!(report["counts"]["received"], 5, "{report:#}");
    assert_eq!(report["enqueue_to_offer"]["count"], 5);
    assert_eq!(report["request_to_offer"]["count"], 5);
    assert_eq!(report["request_ack"]["count"], 5);
    assert_eq!(report["repeated_offers"], 0);
}

#[test]
fn idle_mode_reports_the_server_memory() {
    let server = serve();
    let pid = server.child.id().to_string();
    let (ok, report, stderr) = load(
        &server,
        &[
            "idle",
            "--kind",
            "widget",
            "--connections",
            "20",
            "--hold-secs",
            "1",
            "--server-pid",
            &pid,
        ],
    );
    assert!(ok, "{report:#} {stderr}");
    assert_eq!(report["still_open"], 20);
    assert!(report["server_end"]["rss_kib"].as_u64().unwrap() > 1024);
    assert!(report["server_bytes_per_connection"].is_number());
}

#[test]
fn non_loopback_targets_are_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard-load"))
        .args(["--url", "http://192.0.2.1:8080", "chat"])
        .output()
        .expect("run switchboard-load");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}
