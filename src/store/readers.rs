//! Read-only connections for queries, used off the async runtime's threads. A
//! read's result is handed out only once every commit it could have seen is
//! durable (see `durability::Horizon`).

use super::durability::Horizon;
use super::{open_connection, StoreError, StoreResult};
use crate::config::StoreConfig;
use parking_lot::{Condvar, Mutex};
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;

#[derive(Clone)]
pub(super) struct ReadPool {
    shared: Arc<(Mutex<Vec<Connection>>, Condvar)>,
    horizon: Arc<Horizon>,
}

impl ReadPool {
    pub(super) fn open(
        path: &Path,
        cfg: &StoreConfig,
        horizon: Arc<Horizon>,
        vfs: Option<&str>,
    ) -> StoreResult<ReadPool> {
        let mmap_bytes = cfg.reader_mmap_mib.saturating_mul(1 << 20);
        let mmap_bytes = i64::try_from(mmap_bytes).unwrap_or(i64::MAX);
        let open_reader = || -> StoreResult<Connection> {
            let conn = open_connection(path, cfg, true, vfs)?;
            // A VFS without memory-mapped reads (the simulated disk) keeps reading.
            conn.pragma_update(None, "mmap_size", mmap_bytes)?;
            Ok(conn)
        };
        let conns = (0..cfg.read_connections)
            .map(|_| open_reader())
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(ReadPool {
            shared: Arc::new((Mutex::new(conns), Condvar::new())),
            horizon,
        })
    }

    pub(super) fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let result = self.run(f);
        self.horizon.settle_blocking()?;
        result
    }

    /// Runs `f` on a free connection; the caller settles the horizon afterwards.
    fn run<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let (lock, ready) = &*self.shared;
        let conn = {
            let mut free = lock.lock();
            loop {
                if let Some(c) = free.pop() {
                    break c;
                }
                ready.wait(&mut free);
            }
        };
        let result = f(&conn);
        self.give_back(conn);
        result
    }

    fn give_back(&self, conn: Connection) {
        let (lock, ready) = &*self.shared;
        lock.lock().push(conn);
        ready.notify_one();
    }

    /// Runs a short query on the calling thread when a connection is free at once,
    /// sparing the hop to the blocking pool; otherwise waits for one there.
    pub(super) async fn read_short<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let result = self.read_short_unsettled(f).await;
        self.horizon.settle().await?;
        result
    }

    /// [`ReadPool::read_short`] for rows that are only ever inserted: a miss is
    /// answered at once, since it tells of no commit; a hit once it is durable.
    pub(super) async fn find<T, F>(&self, f: F) -> StoreResult<Option<T>>
    where
        F: FnOnce(&Connection) -> StoreResult<Option<T>> + Send + 'static,
        T: Send + 'static,
    {
        let result = self.read_short_unsettled(f).await;
        if !matches!(result, Ok(None)) {
            self.horizon.settle().await?;
        }
        result
    }

    async fn read_short_unsettled<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let free = self.shared.0.lock().pop();
        match free {
            Some(conn) => {
                let result = f(&conn);
                self.give_back(conn);
                result
            }
            None => self.run_off_runtime(f).await,
        }
    }

    /// Runs `f` on the blocking pool; the caller settles the horizon afterwards.
    async fn run_off_runtime<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || pool.run(f))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    pub(super) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let result = self.run_off_runtime(f).await;
        self.horizon.settle().await?;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use rusqlite::OptionalExtension;
    use std::time::Duration;

    #[tokio::test]
    async fn a_miss_is_answered_at_once_and_a_hit_only_once_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let cfg = StoreConfig::default();
        let store = Store::open(&path, &cfg).unwrap();
        store
            .write(|c| {
                c.execute("INSERT INTO settings(key, value) VALUES ('k', 'v')", [])?;
                Ok(())
            })
            .await
            .unwrap();
        let horizon = Arc::new(Horizon::default());
        let pool = ReadPool::open(&path, &cfg, horizon.clone(), None).unwrap();
        // A commit announced and not yet durable.
        horizon.announce(1);
        let lookup = |key: &'static str| {
            move |c: &Connection| -> StoreResult<Option<String>> {
                Ok(
                    c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                        r.get(0)
                    })
                    .optional()?,
                )
            }
        };
        let miss = tokio::time::timeout(Duration::from_secs(5), pool.find(lookup("absent")))
            .await
            .expect("a miss does not wait");
        assert_eq!(miss.unwrap(), None);
        let hit = tokio::spawn({
            let pool = pool.clone();
            async move { pool.find(lookup("k")).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !hit.is_finished(),
            "a hit was answered before it was durable"
        );
        horizon.raise_for_test(1);
        assert_eq!(hit.await.unwrap().unwrap(), Some("v".into()));
        store.close();
    }
}
