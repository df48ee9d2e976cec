//! Read-only connections for queries, used off the async runtime's threads. A
//! read's result is handed out only once every commit it could have seen is
//! durable (see `durability::Horizon`).
//!
//! A scan (a report, a search, a list: [`ReadPool::read`], [`ReadPool::read_blocking`])
//! reads the database through a memory map (`[store] reader_mmap_mib`), a lookup
//! ([`ReadPool::read_short`], [`ReadPool::find`]) does not. SQLite drops a
//! connection's map at the first read after another connection committed, so on a
//! busy site a mapped lookup paid an unmap, a map and a page fault for each of its
//! few pages, more than the reads it saved; a scan reads enough pages for the map to
//! pay (docs/benchmarks.md). A connection's map is switched on or off only when the
//! next read on it wants the other.

use super::durability::Horizon;
use super::{open_connection, StoreError, StoreResult};
use crate::config::StoreConfig;
use parking_lot::{Condvar, Mutex};
use rusqlite::Connection;
use std::path::Path;
use std::sync::Arc;

/// What a read does, which decides whether its connection maps the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// A few rows by their keys.
    Lookup,
    /// Many pages: reports, search, lists.
    Scan,
}

/// A read connection and whether it maps the file now.
struct Reader {
    conn: Connection,
    mapped: bool,
}

#[derive(Clone)]
pub(super) struct ReadPool {
    shared: Arc<(Mutex<Vec<Reader>>, Condvar)>,
    horizon: Arc<Horizon>,
    /// The map a scan reads through, in bytes (0: none).
    map_bytes: i64,
}

impl ReadPool {
    pub(super) fn open(
        path: &Path,
        cfg: &StoreConfig,
        horizon: Arc<Horizon>,
        vfs: Option<&str>,
    ) -> StoreResult<ReadPool> {
        let readers = (0..cfg.read_connections)
            .map(|_| {
                Ok(Reader {
                    conn: open_connection(path, cfg, true, vfs)?,
                    mapped: false,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let map_bytes = cfg.reader_mmap_mib.saturating_mul(1 << 20);
        Ok(ReadPool {
            shared: Arc::new((Mutex::new(readers), Condvar::new())),
            horizon,
            map_bytes: i64::try_from(map_bytes).unwrap_or(i64::MAX),
        })
    }

    pub(super) fn read_blocking<T>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let result = self.run(Reading::Scan, f);
        self.horizon.settle_blocking()?;
        result
    }

    /// Runs `f` on a free connection; the caller settles the horizon afterwards.
    fn run<T>(
        &self,
        reading: Reading,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let (lock, ready) = &*self.shared;
        let reader = {
            let mut free = lock.lock();
            loop {
                if let Some(r) = free.pop() {
                    break r;
                }
                ready.wait(&mut free);
            }
        };
        self.run_on(reader, reading, f)
    }

    /// Runs `f` on `reader`, mapped as `reading` wants, and gives it back.
    fn run_on<T>(
        &self,
        mut reader: Reader,
        reading: Reading,
        f: impl FnOnce(&Connection) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let result = self
            .map_for(&mut reader, reading)
            .and_then(|()| f(&reader.conn));
        self.give_back(reader);
        result
    }

    /// Switches `reader`'s map on for a scan, off for a lookup, if it is not already.
    /// A VFS without memory-mapped reads (the simulated disk) goes on reading.
    fn map_for(&self, reader: &mut Reader, reading: Reading) -> StoreResult<()> {
        let mapped = reading == Reading::Scan && self.map_bytes > 0;
        if reader.mapped != mapped {
            let bytes = if mapped { self.map_bytes } else { 0 };
            reader.conn.pragma_update(None, "mmap_size", bytes)?;
            reader.mapped = mapped;
        }
        Ok(())
    }

    fn give_back(&self, reader: Reader) {
        let (lock, ready) = &*self.shared;
        lock.lock().push(reader);
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
            Some(reader) => self.run_on(reader, Reading::Lookup, f),
            None => self.run_off_runtime(Reading::Lookup, f).await,
        }
    }

    /// Runs `f` on the blocking pool; the caller settles the horizon afterwards.
    async fn run_off_runtime<T, F>(&self, reading: Reading, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || pool.run(reading, f))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    pub(super) async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let result = self.run_off_runtime(Reading::Scan, f).await;
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
