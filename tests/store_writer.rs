//! The group-commit writer: many concurrent producers, each answered only after
//! the transaction holding its write has committed.

use switchboard::config::StoreConfig;
use switchboard::store::Store;

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
