//! The single writer thread: drains queued writes, runs them in one transaction,
//! commits, then answers every waiter once the commit is durable (at once, or
//! through the [`Syncer`] when it does the fsync).
//!
//! A failing write must not undo the others in its batch. Rather than a savepoint
//! around every write (its sub-journal copies each page the write touches; with
//! one-row writes that was an eighth of the writer's time), a batch first runs
//! bare; only if one of its writes fails is the transaction rolled back and the
//! batch run again with each write in its own savepoint. So writes are `FnMut` and
//! must be repeatable: no effects outside the connection.

use super::checkpoint::CommitSignal;
use super::durability::{Answer, Batch, Horizon, Outcome, Settle, Syncer};
use super::{object_cache, wal_vfs, StoreError, StoreResult};
use rusqlite::config::DbConfig;
use rusqlite::hooks::Action;
use rusqlite::Connection;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// A queued write and the producer waiting for it.
trait Job: Settle {
    /// Runs the write (in its own savepoint when `isolated`), keeping its result
    /// for the answer; says whether it succeeded.
    fn run(&mut self, conn: &Connection, isolated: bool) -> bool;
    /// Leaves the write unrun: the store can no longer make it durable.
    fn refuse(&mut self);
}

struct Queued<F, T> {
    write: F,
    result: Option<StoreResult<T>>,
    /// Taken when the outcome is told; still here when the job is dropped unsettled.
    reply: Option<Reply<T>>,
}

/// Where a write's outcome goes.
enum Reply<T> {
    /// To a producer awaiting it ([`Pending`]).
    Awaited(oneshot::Sender<StoreResult<T>>),
    /// To a closure run on the thread where the outcome becomes known
    /// ([`WriterHandle::submit_then`]).
    Then(Box<dyn FnOnce(StoreResult<T>) + Send>),
}

impl<T> Reply<T> {
    fn tell(self, answer: StoreResult<T>) {
        match self {
            Reply::Awaited(tx) => drop(tx.send(answer)),
            Reply::Then(then) => {
                // It runs on the writer's or the fsync thread: a panic in it must not
                // take the store down with it.
                let told = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| then(answer)));
                if told.is_err() {
                    tracing::error!("a write's completion panicked; the store goes on");
                }
            }
        }
    }
}

impl<F, T> Job for Queued<F, T>
where
    F: FnMut(&Connection) -> StoreResult<T> + Send,
    T: Send,
{
    fn run(&mut self, conn: &Connection, isolated: bool) -> bool {
        let result = if isolated {
            run_in_savepoint(conn, &mut self.write)
        } else {
            (self.write)(conn)
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn refuse(&mut self) {
        self.result = Some(Err(StoreError::NotDurable));
    }
}

impl<F, T> Settle for Queued<F, T>
where
    F: Send,
    T: Send,
{
    fn settle(mut self: Box<Self>, outcome: Outcome) {
        let Some(reply) = self.reply.take() else {
            return;
        };
        let answer = match (outcome, self.result.take()) {
            (Outcome::Durable, Some(r)) => r,
            (_, Some(Err(e))) => Err(e),
            (Outcome::NotDurable, _) => Err(StoreError::NotDurable),
            (Outcome::NotCommitted, _) | (Outcome::Durable, None) => {
                Err(StoreError::Corrupt("transaction failed to commit".into()))
            }
        };
        reply.tell(answer);
    }
}

impl<F, T> Drop for Queued<F, T> {
    /// A job dropped before its outcome was told (the writer stopped with it still
    /// queued, or it could not be queued at all) was not stored.
    fn drop(&mut self) {
        if let Some(reply) = self.reply.take() {
            reply.tell(Err(StoreError::Closed));
        }
    }
}

type BoxedJob = Box<dyn Job>;

/// Who makes a commit durable.
pub(super) enum Durability {
    /// SQLite itself, inside COMMIT (or nobody, as `synchronous` was configured).
    InCommit,
    /// The syncer thread, after COMMIT; readers are held back by the horizon.
    Deferred {
        syncer: Syncer,
        horizon: Arc<Horizon>,
    },
}

pub(super) struct WriterHandle {
    tx: Mutex<Option<mpsc::Sender<BoxedJob>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Told how long each committed transaction took, from BEGIN to durable.
pub type CommitObserver = Box<dyn Fn(Duration) + Send + Sync>;

pub(super) fn spawn(
    conn: Connection,
    max_batch: usize,
    capacity: usize,
    on_commit: CommitSignal,
    durability: Durability,
    observer: Arc<OnceLock<CommitObserver>>,
) -> StoreResult<WriterHandle> {
    let (tx, rx) = mpsc::channel::<BoxedJob>(capacity);
    let mut conn = conn;
    // What the writer knows to be stored is void once a stored object or
    // conversation key changes or goes (an erasure, a purge).
    conn.update_hook(Some(|action: Action, _: &str, table: &str, _: i64| {
        if action != Action::SQLITE_INSERT && matches!(table, "cim_objects" | "conversation_keys") {
            object_cache::invalidate();
        }
    }))?;
    let thread = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || {
            object_cache::enable();
            run(conn, rx, max_batch, on_commit, durability, observer)
        })
        .map_err(|e| StoreError::Migration(format!("cannot start writer thread: {e}")))?;
    Ok(WriterHandle {
        tx: Mutex::new(Some(tx)),
        thread: Mutex::new(Some(thread)),
    })
}

impl WriterHandle {
    fn sender(&self) -> StoreResult<mpsc::Sender<BoxedJob>> {
        self.tx
            .lock()
            .map_err(|_| StoreError::Closed)?
            .clone()
            .ok_or(StoreError::Closed)
    }

    fn job<T, F>(f: F) -> (BoxedJob, oneshot::Receiver<StoreResult<T>>)
    where
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, reply_rx) = oneshot::channel();
        let job = Box::new(Queued {
            write: f,
            result: None,
            reply: Some(Reply::Awaited(reply)),
        });
        (job, reply_rx)
    }

    pub(super) async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.submit(f).await?.committed().await
    }

    /// Queues `f` and returns as soon as it is queued (waiting only for room in the
    /// queue); the returned [`Pending`] resolves after the commit that holds it.
    pub(super) async fn submit<T, F>(&self, f: F) -> StoreResult<Pending<T>>
    where
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (job, reply) = Self::job(f);
        self.sender()?
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(Pending { reply })
    }

    /// Queues `f` (waiting only for room in the queue) and has `then` told its
    /// outcome, exactly once: on the fsync thread right after the fsync that made it
    /// durable (on the writer thread when COMMIT itself is durable), in commit order;
    /// here, with [`StoreError::Closed`], when the store no longer takes writes.
    pub(super) async fn submit_then<T, F, D>(&self, f: F, then: D)
    where
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
        D: FnOnce(StoreResult<T>) + Send + 'static,
    {
        let job: BoxedJob = Box::new(Queued {
            write: f,
            result: None,
            reply: Some(Reply::Then(Box::new(then))),
        });
        // Unqueued, the job is dropped, which tells `then` the store is closed.
        if let Ok(tx) = self.sender() {
            let _ = tx.send(job).await;
        }
    }

    pub(super) fn write_blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
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
pub(super) struct Pending<T> {
    reply: oneshot::Receiver<StoreResult<T>>,
}

impl<T> Pending<T> {
    pub(super) async fn committed(self) -> StoreResult<T> {
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

fn drain(rx: &mut mpsc::Receiver<BoxedJob>, batch: &mut Vec<BoxedJob>, max_batch: usize) {
    while batch.len() < max_batch {
        match rx.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<BoxedJob>,
    max_batch: usize,
    on_commit: CommitSignal,
    mut durability: Durability,
    observer: Arc<OnceLock<CommitObserver>>,
) {
    let mut batch: Vec<BoxedJob> = Vec::with_capacity(max_batch);
    let mut commits = 0u64;
    // A panicking write must not leave readers waiting for a commit that never comes.
    let _fail_on_panic = match &durability {
        Durability::Deferred { horizon, .. } => Some(FailOnPanic(horizon.clone())),
        Durability::InCommit => None,
    };
    while let Some(first) = rx.blocking_recv() {
        let started = Instant::now();
        batch.push(first);
        drain(&mut rx, &mut batch, max_batch);
        let refused =
            matches!(&durability, Durability::Deferred { horizon, .. } if horizon.failed());
        let committed = if refused {
            // An fsync failed: nothing written from here on could be trusted.
            batch.iter_mut().for_each(|job| job.refuse());
            false
        } else {
            run_batch(&conn, &mut batch, &durability, &mut commits)
        };
        if committed {
            on_commit.committed();
        }
        // Timed like any producer of the batch: settled once the commit is durable.
        let timer = (committed && observer.get().is_some()).then(|| {
            let observer = observer.clone();
            Box::new(move |outcome: Outcome| {
                if let (Outcome::Durable, Some(observe)) = (outcome, observer.get()) {
                    observe(started.elapsed());
                }
            }) as Answer
        });
        let answers = batch.drain(..).map(|job| job as Answer).chain(timer);
        match &durability {
            Durability::InCommit => {
                let outcome = if committed {
                    Outcome::Durable
                } else {
                    Outcome::NotCommitted
                };
                answers.for_each(|answer| answer.settle(outcome));
            }
            Durability::Deferred { syncer, .. } => syncer.push(Batch {
                commit: commits,
                committed,
                answers: answers.collect(),
            }),
        }
    }
    if let Durability::Deferred { syncer, horizon } = &mut durability {
        syncer.close();
        if horizon.failed() {
            // Closing the last connection checkpoints; frames whose fsync failed
            // must not reach the database file.
            let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
        }
    }
    tracing::debug!("store writer drained and stopped");
}

struct FailOnPanic(Arc<Horizon>);

impl Drop for FailOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fail();
        }
    }
}

/// How many times BEGIN waits out the busy timeout before the batch fails.
const MAX_BUSY_RETRIES: u32 = 120;

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Runs the batch in one transaction and commits it; says whether it committed.
/// With a deferred fsync, the commit's number is announced to readers just before
/// COMMIT makes it visible.
fn run_batch(
    conn: &Connection,
    batch: &mut [BoxedJob],
    durability: &Durability,
    commits: &mut u64,
) -> bool {
    let begin = || {
        conn.prepare_cached("BEGIN IMMEDIATE")
            .and_then(|mut s| s.execute([]))
    };
    // Another connection holding the write lock past the busy timeout (a TRUNCATE
    // checkpoint waiting for a long read or a backup) is waited out: a failed batch
    // halts the engine, and a busy database is no reason to.
    let mut waited = 0;
    while let Err(e) = begin() {
        if is_busy(&e) && waited < MAX_BUSY_RETRIES {
            waited += 1;
            tracing::warn!(error = %e, attempt = waited, "the database is busy; the store writer waits");
            continue;
        }
        tracing::error!(error = %e, "store cannot begin a transaction");
        return false;
    }
    // A write that ends the transaction itself (SQLite rolls back on some errors)
    // counts as failed, or the writes after it would run outside any transaction.
    object_cache::abort();
    let bare_ok = batch
        .iter_mut()
        .all(|job| job.run(conn, false) && !conn.is_autocommit());
    if !bare_ok {
        object_cache::abort();
        // A write failed: run the batch again, each write able to fail alone.
        let again = if conn.is_autocommit() {
            begin()
        } else {
            conn.execute_batch("ROLLBACK").and_then(|_| begin())
        };
        if let Err(e) = again {
            tracing::error!(error = %e, "store cannot restart a transaction");
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return false;
        }
        for job in batch.iter_mut() {
            if conn.is_autocommit() {
                tracing::error!("a write ended the store transaction; batch not committed");
                return false;
            }
            let mark = object_cache::mark();
            if !job.run(conn, true) {
                object_cache::rollback_to(mark);
            }
        }
        if conn.is_autocommit() {
            tracing::error!("a write ended the store transaction; batch not committed");
            return false;
        }
    }
    if let Durability::Deferred { horizon, .. } = durability {
        *commits += 1;
        horizon.announce(*commits);
    }
    let commit = || {
        conn.prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
    };
    let committed = match durability {
        Durability::InCommit => commit(),
        Durability::Deferred { .. } => wal_vfs::defer_commit_sync(commit),
    };
    match committed {
        Ok(_) => {
            object_cache::commit();
            true
        }
        Err(e) => {
            tracing::error!(error = %e, "store commit failed; batch rolled back");
            let _ = conn.execute_batch("ROLLBACK");
            object_cache::abort();
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::StoreConfig;
    use crate::store::{Store, StoreError};

    /// The settings keys matching a LIKE `pattern`, in order.
    async fn settings_keys(store: &Store, pattern: &'static str) -> Vec<String> {
        store
            .read(move |c| {
                let mut st =
                    c.prepare("SELECT key FROM settings WHERE key LIKE ?1 ORDER BY key")?;
                let rows = st.query_map([pattern], |r| r.get(0))?;
                Ok(rows.collect::<Result<Vec<String>, _>>()?)
            })
            .await
            .unwrap()
    }

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
        let keys = settings_keys(&store, "%").await;
        assert_eq!(keys, vec!["a".to_string()]);
        store.close();
        assert!(matches!(
            store.write(|_| Ok(())).await,
            Err(StoreError::Closed)
        ));
    }

    #[tokio::test]
    async fn failures_in_a_batch_undo_only_their_own_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), &StoreConfig::default()).unwrap();
        // Queued without awaiting, so they share batches with the failing ones.
        let mut pending = Vec::new();
        for i in 0..200 {
            pending.push(
                store
                    .inner
                    .writer
                    .submit(move |c| {
                        c.execute(
                            "INSERT INTO settings(key, value) VALUES (?1, '1')",
                            [format!("k{i:03}")],
                        )?;
                        if i % 7 == 3 {
                            return Err(StoreError::Conflict(format!("k{i:03}")));
                        }
                        Ok(i)
                    })
                    .await
                    .unwrap(),
            );
        }
        let mut kept = Vec::new();
        for (i, p) in pending.into_iter().enumerate() {
            match p.committed().await {
                Ok(v) => {
                    assert_eq!(v, i);
                    kept.push(format!("k{i:03}"));
                }
                Err(StoreError::Conflict(_)) => assert_eq!(i % 7, 3),
                Err(e) => panic!("write {i}: {e}"),
            }
        }
        let stored = settings_keys(&store, "k%").await;
        assert_eq!(stored, kept);
        assert_eq!(stored.len(), 200 - 200 / 7 - 1);
        store.close();
    }

    #[tokio::test]
    async fn a_write_that_ends_the_transaction_fails_its_batch_and_nothing_leaks_out() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db"), &StoreConfig::default()).unwrap();
        let insert = |key: &'static str| {
            move |c: &rusqlite::Connection| {
                c.execute("INSERT INTO settings(key, value) VALUES (?1, '1')", [key])?;
                Ok(())
            }
        };
        let before = store.inner.writer.submit(insert("before")).await.unwrap();
        let rogue = store
            .inner
            .writer
            .submit(|c| {
                c.execute_batch("ROLLBACK")?;
                Ok(())
            })
            .await
            .unwrap();
        let after = store.inner.writer.submit(insert("after")).await.unwrap();
        let outcomes = [
            before.committed().await.is_ok(),
            rogue.committed().await.is_ok(),
            after.committed().await.is_ok(),
        ];
        assert!(!outcomes[1], "the rogue write is never reported committed");
        let keys = settings_keys(&store, "%").await;
        // Whatever shared the rogue write's batch is reported as failed and absent;
        // whatever is reported committed is stored.
        let expected: Vec<String> = [("after", outcomes[2]), ("before", outcomes[0])]
            .iter()
            .filter(|(_, ok)| *ok)
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(keys, expected);
        // The writer goes on.
        store.write(insert("later")).await.unwrap();
        store.close();
    }
}
