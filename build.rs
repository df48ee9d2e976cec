//! Keeps the conversation core and the site pure: a build-time check that fails the
//! build when a core module of `src/conversation` or `src/site` imports I/O, a clock
//! or a driver-side layer, and when the engine (`src/engine`) names the agent manager
//! or the channels (it delivers to them through `crate::delivery`).
//! The routing core needs no such check: it is its own crate (`crates/routing-core`)
//! whose dependencies are serde, serde_json, thiserror, utoipa and fnv only. The
//! conversation core shares the CIM types with the whole app, so it stays in this
//! crate and this check stands in for the crate boundary (docs/architecture.md).

use std::fs;
use std::path::{Path, PathBuf};

/// The conversation module's caller side (the handle's channel and its store reads):
/// it may do I/O.
const DRIVER_SIDE: &[&str] = &["handle.rs"];

/// The engine driver, which may do I/O but must not name these.
const ENGINE: &str = "src/engine";
const NOT_IN_ENGINE: &[&str] = &["crate::agents", "crate::channels"];

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
    // `refinery::embed_migrations!` reads this directory at compile time; cargo does
    // not know, so a new migration would not rebuild the store without this line.
    println!("cargo:rerun-if-changed=migrations");
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
        check(&file, FORBIDDEN, &mut found);
    }
    if !found.is_empty() {
        panic!(
            "the conversation core and the site must stay sans-IO (build.rs); move this to the driver side:\n{}",
            found.join("\n")
        );
    }
    let engine = Path::new(ENGINE);
    println!("cargo:rerun-if-changed={}", engine.display());
    let mut files = Vec::new();
    collect(engine, &mut files);
    for file in files {
        check(&file, NOT_IN_ENGINE, &mut found);
    }
    if !found.is_empty() {
        panic!(
            "the engine delivers through crate::delivery and names neither the agent manager nor the channels (build.rs):\n{}",
            found.join("\n")
        );
    }
}

/// Notes each line of `file` outside comments that names one of `forbidden`.
fn check(file: &Path, forbidden: &[&str], found: &mut Vec<String>) {
    println!("cargo:rerun-if-changed={}", file.display());
    let Ok(text) = fs::read_to_string(file) else {
        return;
    };
    for (n, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        for word in forbidden {
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
