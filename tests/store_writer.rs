//! The group-commit writer: many concurrent producers, each answered only after
//! the transaction holding its write has committed.

use switchboard::config::StoreConfig;
use switchboard::store::{Store, StoreError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_are_answered_only_after_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let store = Store::open(&path, &StoreConfig::default()).unwrap();
    let mut handles = Vec::new();
    for producer in 0..64 {
        let store = store.clone();
        let path = path.clone();
        handles.push(tokio::spawn(async move {
            // A connection of our own, outside the writer: it sees only committed data.
            let observer = rusqlite::Connection::open(&path).unwrap();
            for i in 0..20 {
                let key = format!("p{producer}-{i}");
                let k = key.clone();
                store
                    .write(move |c| {
                        c.execute("INSERT INTO settings(key, value) VALUES (?1, '1')", [&k])?;
                        Ok(())
                    })
                    .await
                    .unwrap();
                let seen: i64 = observer
                    .query_row(
                        "SELECT COUNT(*) FROM settings WHERE key = ?1",
                        [&key],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(seen, 1, "{key} answered before it was committed");
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    let total: i64 = store
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM settings", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(total, 64 * 20);
    store.close();
}

/// `submit_then`: each completion is told once, in the order the writes were queued,
/// on a store thread after the commit (not on the runtime), with the write's own
/// error when it failed, and at once with `Closed` once the store is shut.
#[tokio::test]
async fn completions_are_told_in_commit_order_on_the_store_threads() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db"), &StoreConfig::default()).unwrap();
    /// (write, outcome, the thread that told it), in the order told.
    type Told = Vec<(usize, Result<(), String>, Option<String>)>;
    let told: Arc<Mutex<Told>> = Arc::default();
    for i in 0..300usize {
        let told = told.clone();
        store
            .submit_then(
                move |c| {
                    c.execute(
                        "INSERT INTO settings(key, value) VALUES (?1, '1')",
                        [format!("t{i:03}")],
                    )?;
                    if i % 10 == 7 {
                        return Err(StoreError::Conflict(format!("t{i:03}")));
                    }
                    Ok(())
                },
                move |outcome| {
                    let thread = std::thread::current().name().map(str::to_string);
                    let outcome = outcome.map_err(|e| e.to_string());
                    told.lock().unwrap().push((i, outcome, thread));
                },
            )
            .await;
    }
    // Answered on the same thread as the completions, after them (commit order).
    store.write(|_| Ok(())).await.unwrap();
    let told = told.lock().unwrap().clone();
    assert_eq!(told.len(), 300);
    for (n, (i, outcome, thread)) in told.iter().enumerate() {
        assert_eq!(*i, n, "told out of order");
        assert_eq!(outcome.is_err(), i % 10 == 7, "write {i}: {outcome:?}");
        assert!(
            matches!(thread.as_deref(), Some("store-fsync" | "store-writer")),
            "told on {thread:?}"
        );
    }
    store.close();
    let (tx, rx) = std::sync::mpsc::channel();
    store
        .submit_then(|_| Ok(()), move |outcome| tx.send(outcome).unwrap())
        .await;
    assert!(matches!(rx.try_recv(), Ok(Err(StoreError::Closed))));
}

#[test]
fn the_writer_keeps_the_page_cache_configured() {
    let dir = tempfile::tempdir().unwrap();
    let cache_of = |cfg: &StoreConfig, name: &str| -> i64 {
        let store = Store::open(&dir.path().join(name), cfg).unwrap();
        store
            .write_blocking(|c| Ok(c.pragma_query_value(None, "cache_size", |r| r.get(0))?))
            .unwrap()
    };
    // Negative: KiB, as SQLite takes a size rather than a page count.
    assert_eq!(cache_of(&StoreConfig::default(), "d.db"), -65_536);
    let small = StoreConfig {
        writer_cache_kib: 512,
        ..StoreConfig::default()
    };
    assert_eq!(cache_of(&small, "s.db"), -512);
}

#[tokio::test]
async fn a_scan_reads_through_the_map_configured_and_a_lookup_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let map_of = |c: &rusqlite::Connection| -> Result<i64, StoreError> {
        Ok(c.pragma_query_value(None, "mmap_size", |r| r.get(0))?)
    };
    let store = Store::open(&dir.path().join("d.db"), &StoreConfig::default()).unwrap();
    // Past SQLite's default limit of 2 GiB: the bundled SQLite is built to map more.
    assert_eq!(store.read(map_of).await.unwrap(), 65_536 << 20);
    // The connection just used (the pool gives the last one back first) unmaps.
    assert_eq!(store.read_short(map_of).await.unwrap(), 0);
    assert_eq!(store.read(map_of).await.unwrap(), 65_536 << 20);
    let none = StoreConfig {
        reader_mmap_mib: 0,
        ..StoreConfig::default()
    };
    let store = Store::open(&dir.path().join("n.db"), &none).unwrap();
    assert_eq!(store.read(map_of).await.unwrap(), 0);
}
