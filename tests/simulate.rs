//! `switchboard simulate` as an operator runs it, on a day of generated history
//! (`switchboard-load history`): the recorded-configuration run is offered what the
//! reports counted, more agents do not worsen the service level, the database is
//! only read, and bad options are refused with a clear error.

use std::path::Path;
use std::process::{Command, Output};

const DAY: i64 = 86_400_000;

fn simulate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("simulate")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// (queue_id, run) -> the record's fields by column name.
fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// Runs `simulate` over `period` with `--agents agents`; its stdout and CSV records.
fn simulate_csv(
    dir: &Path,
    period: &[&str],
    agents: &str,
) -> (String, Vec<std::collections::HashMap<String, String>>) {
    let csv_path = dir.join(format!("agents{agents}.csv"));
    let mut args = period.to_vec();
    args.extend(["--agents", agents, "--csv", csv_path.to_str().unwrap()]);
    let out = simulate(dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        read_csv(&csv_path),
    )
}

fn num(row: &std::collections::HashMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} in {row:?}"))
}

fn file_digest(path: &Path) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

#[test]
fn a_generated_day_simulates_and_more_agents_do_not_worsen_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard-load"))
        .args([
            "history",
            "--conversations",
            "300",
            "--days",
            "1",
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
    // The generated day is yesterday (UTC).
    let from = switchboard::clock::now_ms() / DAY * DAY - DAY;
    let to = from + DAY;
    let db = dir.path().join("switchboard.db");
    let recorded_offered: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT COALESCE(SUM(offered), 0) FROM report_intervals
             WHERE dimension = 'queue' AND interval_start >= ?1 AND interval_start < ?2",
            [from, to],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recorded_offered, 300);
    let before = file_digest(&db);

    let (from_arg, to_arg) = (from.to_string(), to.to_string());
    let period = ["--from", from_arg.as_str(), "--to", to_arg.as_str()];
    let (stdout, rows) = simulate_csv(dir.path(), &period, "+6");
    assert!(stdout.contains("300 arrivals"), "{stdout}");
    assert!(stdout.contains("All queues"), "{stdout}");
    let row = |queue: &str, run: &str| {
        rows.iter()
            .find(|r| r["queue_id"] == queue && r["run"] == run)
            .unwrap_or_else(|| panic!("no {queue}/{run} in {rows:?}"))
    };
    let (recorded, changed) = (row("*", "recorded"), row("*", "changed"));
    assert_eq!(num(recorded, "offered") as i64, recorded_offered);
    assert_eq!(num(changed, "offered") as i64, recorded_offered);
    let handled = |r: &std::collections::HashMap<String, String>| {
        num(r, "answered") + num(r, "abandoned") + num(r, "unfinished")
    };
    assert_eq!(handled(recorded), 300.0, "{recorded:?}");
    assert!(num(recorded, "answered") > 0.0, "{recorded:?}");
    assert!(
        num(changed, "service_level_pct") >= num(recorded, "service_level_pct"),
        "{recorded:?} {changed:?}"
    );
    assert!(num(changed, "asa_secs") <= num(recorded, "asa_secs") + 0.5);
    // Each queue's recorded run is offered what the reports counted for it.
    let conn = rusqlite::Connection::open(&db).unwrap();
    for r in rows
        .iter()
        .filter(|r| r["run"] == "recorded" && r["queue_id"] != "*")
    {
        let counted: i64 = conn
            .query_row(
                "SELECT COALESCE(SUM(offered), 0) FROM report_intervals
                 WHERE dimension = 'queue' AND key = ?1 AND interval_start >= ?2 AND interval_start < ?3",
                rusqlite::params![r["queue_id"], from, to],
                |x| x.get(0),
            )
            .unwrap();
        assert_eq!(num(r, "offered") as i64, counted, "{r:?}");
    }
    drop(conn);

    // Fewer agents: a lower service level or longer waits, never better.
    let (_, fewer) = simulate_csv(dir.path(), &period, "-6");
    let fewer_changed = fewer
        .iter()
        .find(|r| r["queue_id"] == "*" && r["run"] == "changed")
        .unwrap();
    assert!(
        num(fewer_changed, "service_level_pct") <= num(recorded, "service_level_pct"),
        "{recorded:?} {fewer_changed:?}"
    );
    assert_eq!(file_digest(&db), before, "the database was only read");

    // Bad options change nothing and say what is wrong.
    let refused = |args: &[&str], says: &str| {
        let out = simulate(dir.path(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    };
    refused(
        &["--from", &to_arg, "--to", &from_arg],
        "--from must be before --to",
    );
    refused(&["--from", "yesterday", "--to", &to_arg], "is not a time");
    refused(
        &[
            "--from",
            &from_arg,
            "--to",
            &to_arg,
            "--queue",
            "nope",
            "--step-timeout",
            "5",
        ],
        "no queue named or with id `nope`",
    );
    refused(
        &["--from", &from_arg, "--to", &to_arg, "--agents", "-100"],
        "removes more agents",
    );
    refused(
        &["--from", &from_arg, "--to", &to_arg, "--policy", "random"],
        "unknown policy",
    );
    assert_eq!(file_digest(&db), before);
    let missing = tempfile::tempdir().unwrap();
    refused_in(missing.path(), &from_arg, &to_arg);
}

fn refused_in(dir: &Path, from: &str, to: &str) {
    let out = simulate(dir, &["--from", from, "--to", to]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("switchboard.db").exists(), "nothing was created");
}
