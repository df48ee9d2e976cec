//! The single writer thread: drains queued writes, runs them in one transaction
//! (each in its own savepoint), commits, then answers every waiter.

use super::checkpoint::CommitSignal;
use super::{StoreError, StoreResult};
use rusqlite::Connection;
use std::sync::Mutex;
use std::thread::JoinHandle;
use tokio::sync::{mpsc, oneshot};

type Job = Box<dyn FnOnce(&Connection) -> Box<dyn FnOnce(bool) + Send> + Send>;

pub(super) struct WriterHandle {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

pub(super) fn spawn(
    conn: Connection,
    max_batch: usize,
    capacity: usize,
    on_commit: CommitSignal,
) -> StoreResult<WriterHandle> {
    let (tx, rx) = mpsc::channel::<Job>(capacity);
    let thread = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || run(conn, rx, max_batch, on_commit))
        .map_err(|e| StoreError::Migration(format!("cannot start writer thread: {e}")))?;
    Ok(WriterHandle {
        tx: Mutex::new(Some(tx)),
        thread: Mutex::new(Some(thread)),
    })
}

impl WriterHandle {
    fn sender(&self) -> StoreResult<mpsc::Sender<Job>> {
        self.tx
            .lock()
            .map_err(|_| StoreError::Closed)?
            .clone()
            .ok_or(StoreError::Closed)
    }

    fn job<T, F>(f: F) -> (Job, oneshot::Receiver<StoreResult<T>>)
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply_tx, reply_rx) = oneshot::channel();
        let job: Job = Box::new(move |conn: &Connection| {
            let result = run_in_savepoint(conn, f);
            // The answer is held back until the batch's commit says how it went.
            Box::new(move |committed: bool| {
                let answer = match (committed, result) {
                    (true, r) => r,
                    (false, Ok(_)) => {
                        Err(StoreError::Corrupt("transaction failed to commit".into()))
                    }
                    (false, Err(e)) => Err(e),
                };
                let _ = reply_tx.send(answer);
            }) as Box<dyn FnOnce(bool) + Send>
        });
        (job, reply_rx)
    }

    pub(super) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.submit(f).await?.committed().await
    }

    /// Queues `f` and returns as soon as it is queued (waiting only for room in the
    /// queue); the returned [`Pending`] resolves after the commit that holds it.
    pub(super) async fn submit<T, F>(&self, f: F) -> StoreResult<Pending<T>>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (job, reply) = Self::job(f);
        self.sender()?
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(Pending { reply })
    }

    pub(super) fn write_blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (job, reply) = Self::job(f);
        self.sender()?
            .blocking_send(job)
            .map_err(|_| StoreError::Closed)?;
        reply.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    pub(super) fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// A queued write: resolves to its outcome once the transaction holding it has
/// committed (or failed). Writes commit in the order they were queued.
#[must_use = "a queued write's outcome is known only by awaiting `committed`"]
pub struct Pending<T> {
    reply: oneshot::Receiver<StoreResult<T>>,
}

impl<T> Pending<T> {
    pub async fn committed(self) -> StoreResult<T> {
        self.reply.await.map_err(|_| StoreError::Closed)?
    }
}

fn run_in_savepoint<T>(
    conn: &Connection,
    f: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    // Cached statements: parsing these three on every write costs a third of the rate.
    conn.prepare_cached("SAVEPOINT job")?.execute([])?;
    match f(conn) {
        Ok(v) => {
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Ok(v)
        }
        Err(e) => {
            conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
            conn.prepare_cached("RELEASE job")?.execute([])?;
            Err(e)
        }
    }
}

fn drain(rx: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>, max_batch: usize) {
    while batch.len() < max_batch {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, max_batch: usize, on_commit: CommitSignal) {
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    let mut answers: Vec<Box<dyn FnOnce(bool) + Send>> = Vec::with_capacity(max_batch);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        drain(&mut rx, &mut batch, max_batch);
        let committed = match conn
            .prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut s| s.execute([]))
        {
            Ok(_) => {
                for job in batch.drain(..) {
                    answers.push(job(&conn));
                }
                match conn
                    .prepare_cached("COMMIT")
                    .and_then(|mut s| s.execute([]))
                {
                    Ok(_) => {
                        on_commit.committed();
                        true
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "store commit failed; batch rolled back");
                        let _ = conn.execute_batch("ROLLBACK");
                        false
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "store cannot begin a transaction");
                for job in batch.drain(..) {
                    // Never run: answer each as failed without touching the database.
                    drop(job);
                }
                false
            }
        };
        for answer in answers.drain(..) {
            answer(committed);
        }
    }
    tracing::debug!("store writer drained and stopped");
}

#[cfg(test)]
mod tests {
    use crate::config::StoreConfig;
    use crate::store::{Store, StoreError};

    #[tokio::test]
    async fn failed_write_rolls_back_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), &StoreConfig::default()).unwrap();
        let ok = store.write(|c| {
            c.execute("INSERT INTO settings(key, value) VALUES ('a', '1')", [])?;
            Ok(())
        });
        let bad = store.write(|c| {
            c.execute("INSERT INTO settings(key, value) VALUES ('b', '1')", [])?;
            Err::<(), _>(StoreError::Conflict("b".into()))
        });
        let (ok, bad) = tokio::join!(ok, bad);
        assert!(ok.is_ok());
        assert!(matches!(bad, Err(StoreError::Conflict(_))));
        let keys: Vec<String> = store
            .read(|c| {
                let mut st = c.prepare("SELECT key FROM settings ORDER BY key")?;
                let rows = st.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<Vec<String>, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(keys, vec!["a".to_string()]);
        store.close();
        assert!(matches!(
            store.write(|_| Ok(())).await,
            Err(StoreError::Closed)
        ));
    }
}
