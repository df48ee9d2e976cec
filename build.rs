//! Keeps the conversation core and the site pure: a build-time check that fails the
//! build when a core module of `src/conversation` or `src/site` imports I/O, a clock
//! or a driver-side layer.
//! The routing core needs no such check: it is its own crate (`crates/routing-core`)
//! whose dependencies are serde, serde_json, thiserror, utoipa and fnv only. The
//! conversation core shares the CIM types with the whole app, so it stays in this
//! crate and this check stands in for the crate boundary (docs/architecture.md).

use std::fs;
use std::path::{Path, PathBuf};

/// The conversation module's driver side: these files may do I/O.
const DRIVER_SIDE: &[&str] = &[
    "driver.rs",
    "publisher.rs",
    "sequencer.rs",
    "bridge.rs",
    "answers.rs",
    "handle.rs",
];

/// The site's tests commit its effects to a store and restart from it, as its driver
/// does; they are not part of the core.
const SITE_TESTS: &str = "src/site/tests";

/// What a core module may not name outside comments.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "rusqlite",
    "actix",
    "reqwest",
    "crate::store",
    "crate::agents",
    "crate::channels",
    "crate::http",
    "crate::live",
    "now_ms",
    "SystemTime",
    "Instant::now",
    "std::fs",
    "std::net",
    "std::thread",
];

fn main() {
    let root = Path::new("src/conversation");
    let site = Path::new("src/site");
    let mut files = Vec::new();
    for dir in [root, site] {
        println!("cargo:rerun-if-changed={}", dir.display());
        collect(dir, &mut files);
    }
    let mut found = Vec::new();
    for file in files {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if file.parent() == Some(root) && DRIVER_SIDE.contains(&name) {
            continue;
        }
        if file.starts_with(SITE_TESTS) {
            continue;
        }
        println!("cargo:rerun-if-changed={}", file.display());
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for word in FORBIDDEN {
                if code.contains(word) {
                    found.push(format!(
                        "{}:{}: `{word}` in `{}`",
                        file.display(),
                        n + 1,
                        code
                    ));
                }
            }
        }
    }
    if !found.is_empty() {
        panic!(
            "the conversation core and the site must stay sans-IO (build.rs); move this to the driver side:\n{}",
            found.join("\n")
        );
    }
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}
