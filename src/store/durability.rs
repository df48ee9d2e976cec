//! Durable commits without holding the writer in fsync.
//!
//! With `synchronous = FULL` SQLite fsyncs the WAL inside every COMMIT, so the
//! writer thread sat idle for the length of each fsync and the next batch waited
//! behind it. Now the writer's COMMIT only writes the WAL (the writer VFS,
//! `wal_vfs`, skips the commit's fsync and nothing else) and the [`Syncer`] thread
//! fsyncs the WAL file, which covers every commit written before the call, and
//! only then answers the producers of those commits. The writer goes on with the
//! next batch meanwhile, and one fsync covers every batch committed while the
//! previous one ran.
//!
//! A commit is visible to readers as soon as COMMIT returns, before its fsync.
//! The [`Horizon`] keeps that from leaking: the writer announces each commit's
//! number before it commits, the syncer raises the durable mark after each fsync,
//! and a read hands its result back only once every commit announced before the
//! read finished is durable. A read's snapshots were all taken before that point,
//! so no one learns of a commit that a crash could still take back. If an fsync
//! fails the store stops: the page cache can no longer be trusted to hold what
//! was written, so every later write and read is refused.

use super::{StoreError, StoreResult};
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::Notify;

/// How a queued write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Its transaction committed and is on disk.
    Durable,
    /// Its transaction did not commit; nothing of it was kept.
    NotCommitted,
    /// Its transaction committed but the fsync that had to follow failed.
    NotDurable,
}

/// The producer's side of a write, told its outcome once it is known.
pub(super) trait Settle: Send {
    fn settle(self: Box<Self>, outcome: Outcome);
}

impl<F: FnOnce(Outcome) + Send> Settle for F {
    fn settle(self: Box<Self>, outcome: Outcome) {
        self(outcome)
    }
}

pub(super) type Answer = Box<dyn Settle>;

/// Which commits readers may learn of: those at or below the durable mark.
#[derive(Default)]
pub(super) struct Horizon {
    /// The newest commit that may already be visible to a reader.
    announced: AtomicU64,
    /// Every commit at or below this number is on disk.
    durable: AtomicU64,
    failed: AtomicBool,
    lock: Mutex<()>,
    raised: Condvar,
    raised_async: Notify,
}

impl Horizon {
    /// Called by the writer before COMMIT: from here on commit `n` may be visible.
    pub(super) fn announce(&self, n: u64) {
        self.announced.store(n, Ordering::SeqCst);
    }

    fn raise(&self, n: u64) {
        {
            let _guard = self.lock.lock();
            self.durable.fetch_max(n, Ordering::SeqCst);
        }
        self.raised.notify_all();
        self.raised_async.notify_waiters();
    }

    #[cfg(test)]
    pub(super) fn raise_for_test(&self, n: u64) {
        self.raise(n);
    }

    pub(super) fn fail(&self) {
        {
            let _guard = self.lock.lock();
            self.failed.store(true, Ordering::SeqCst);
        }
        self.raised.notify_all();
        self.raised_async.notify_waiters();
    }

    pub(super) fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    fn settled(&self, target: u64) -> Option<StoreResult<()>> {
        if self.durable.load(Ordering::SeqCst) >= target {
            Some(Ok(()))
        } else if self.failed() {
            Some(Err(StoreError::NotDurable))
        } else {
            None
        }
    }

    /// Waits until every commit announced so far is durable. Call it after a read
    /// has finished and before its result is handed out.
    pub(super) fn settle_blocking(&self) -> StoreResult<()> {
        let target = self.announced.load(Ordering::SeqCst);
        if let Some(done) = self.settled(target) {
            return done;
        }
        let mut guard = self.lock.lock();
        loop {
            if let Some(done) = self.settled(target) {
                return done;
            }
            self.raised.wait(&mut guard);
        }
    }

    /// Async form of [`Horizon::settle_blocking`].
    pub(super) async fn settle(&self) -> StoreResult<()> {
        let target = self.announced.load(Ordering::SeqCst);
        // Most reads find everything durable: no waiter registration for them.
        if let Some(done) = self.settled(target) {
            return done;
        }
        loop {
            let raised = self.raised_async.notified();
            tokio::pin!(raised);
            raised.as_mut().enable();
            if let Some(done) = self.settled(target) {
                return done;
            }
            raised.await;
        }
    }
}

/// One batch handed from the writer to the syncer, in commit order.
pub(super) struct Batch {
    /// The number announced for it (the previous one's when it never reached COMMIT).
    pub(super) commit: u64,
    pub(super) committed: bool,
    pub(super) answers: Vec<Answer>,
}

/// Makes the WAL durable: the disk's handle on it (`disk::Disk::sync_handle`) in
/// the store, a controllable stand-in in tests.
pub(super) use super::disk::SyncFn;

#[derive(Default)]
struct Queue {
    batches: Vec<Batch>,
    stopped: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

/// The fsync thread: takes every batch the writer has committed, fsyncs once,
/// raises the durable mark and answers those batches in commit order. One fsync
/// at a time: a second one running beside it measured no faster (docs/benchmarks.md).
pub(super) struct Syncer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// With `ack_before_sync` (only ever on a simulated disk, see `disk`) it answers
    /// each round before it syncs: a broken store for the power-cut harness to catch.
    pub(super) fn spawn(
        mut sync: SyncFn,
        horizon: Arc<Horizon>,
        ack_before_sync: bool,
    ) -> StoreResult<Syncer> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
        });
        let queue = shared.clone();
        let thread = std::thread::Builder::new()
            .name("store-fsync".into())
            .spawn(move || {
                let mut batches = Vec::new();
                loop {
                    {
                        let mut q = queue.queue.lock();
                        while q.batches.is_empty() && !q.stopped {
                            queue.wake.wait(&mut q);
                        }
                        if q.batches.is_empty() {
                            break;
                        }
                        std::mem::swap(&mut batches, &mut q.batches);
                    }
                    if ack_before_sync {
                        settle_batches(&mut batches, &mut || Ok(()), &horizon);
                        // Widen the window between the answer and the sync, so a
                        // cut lands in it often enough for the harness to see
                        // losses however the threads are scheduled.
                        std::thread::sleep(std::time::Duration::from_millis(3));
                        let _ = sync();
                    } else {
                        settle_batches(&mut batches, &mut sync, &horizon);
                    }
                }
            })
            .map_err(|e| StoreError::Migration(format!("cannot start fsync thread: {e}")))?;
        Ok(Syncer {
            shared,
            thread: Some(thread),
        })
    }

    pub(super) fn push(&self, batch: Batch) {
        let mut q = self.shared.queue.lock();
        q.batches.push(batch);
        if q.batches.len() == 1 {
            self.shared.wake.notify_one();
        }
    }

    /// Settles what is queued and stops the thread.
    pub(super) fn close(&mut self) {
        self.shared.queue.lock().stopped = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.close();
    }
}

fn settle_batches(
    batches: &mut Vec<Batch>,
    sync: &mut dyn FnMut() -> std::io::Result<()>,
    horizon: &Horizon,
) {
    let Some(newest) = batches.last().map(|b| b.commit) else {
        return;
    };
    let durable = if horizon.failed() {
        false
    } else if batches.iter().any(|b| b.committed) {
        match sync() {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "fsync of the WAL failed; the store stops taking reads and writes");
                horizon.fail();
                false
            }
        }
    } else {
        true
    };
    if durable {
        horizon.raise(newest);
    }
    for batch in batches.drain(..) {
        let outcome = match (batch.committed, durable) {
            (false, _) => Outcome::NotCommitted,
            (true, true) => Outcome::Durable,
            (true, false) => Outcome::NotDurable,
        };
        for answer in batch.answers {
            answer.settle(outcome);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A sync function that reports each call and waits for the test's go-ahead.
    fn gated_sync() -> (
        SyncFn,
        mpsc::Receiver<()>,
        mpsc::Sender<std::io::Result<()>>,
    ) {
        let (called_tx, called_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<std::io::Result<()>>();
        let sync: SyncFn = Box::new(move || {
            let _ = called_tx.send(());
            go_rx.recv().unwrap_or(Ok(()))
        });
        (sync, called_rx, go_tx)
    }

    /// Announces commit `commit` and hands the syncer one batch of one write for
    /// it; returns where that write's outcome arrives.
    fn commit_one(
        syncer: &Syncer,
        horizon: &Horizon,
        commit: u64,
        committed: bool,
    ) -> mpsc::Receiver<Outcome> {
        let (tx, rx) = mpsc::channel();
        horizon.announce(commit);
        let answer: Answer = Box::new(move |o| {
            let _ = tx.send(o);
        });
        syncer.push(Batch {
            commit,
            committed,
            answers: vec![answer],
        });
        rx
    }

    #[test]
    fn answers_and_readers_wait_for_the_fsync() {
        let horizon = Arc::new(Horizon::default());
        let (sync, called, go) = gated_sync();
        let mut syncer = Syncer::spawn(sync, horizon.clone(), false).unwrap();
        let outcome = commit_one(&syncer, &horizon, 1, true);
        called.recv_timeout(Duration::from_secs(5)).unwrap();
        let reader = {
            let horizon = horizon.clone();
            std::thread::spawn(move || horizon.settle_blocking())
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(outcome.try_recv().is_err(), "answered before the fsync");
        assert!(
            !reader.is_finished(),
            "a reader got past an unsynced commit"
        );
        go.send(Ok(())).unwrap();
        assert_eq!(
            outcome.recv_timeout(Duration::from_secs(5)).unwrap(),
            Outcome::Durable
        );
        assert!(reader.join().unwrap().is_ok());
        syncer.close();
    }

    #[test]
    fn a_batch_that_never_committed_needs_no_fsync_but_releases_readers() {
        let horizon = Arc::new(Horizon::default());
        let calls = Arc::new(AtomicU64::new(0));
        let counted = calls.clone();
        let mut syncer = Syncer::spawn(
            Box::new(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }),
            horizon.clone(),
            false,
        )
        .unwrap();
        let outcome = commit_one(&syncer, &horizon, 1, false);
        assert_eq!(
            outcome.recv_timeout(Duration::from_secs(5)).unwrap(),
            Outcome::NotCommitted
        );
        assert!(horizon.settle_blocking().is_ok());
        syncer.close();
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_failed_fsync_fails_its_writes_and_every_later_read() {
        let horizon = Arc::new(Horizon::default());
        let (sync, called, go) = gated_sync();
        let mut syncer = Syncer::spawn(sync, horizon.clone(), false).unwrap();
        let outcome = commit_one(&syncer, &horizon, 1, true);
        called.recv_timeout(Duration::from_secs(5)).unwrap();
        let reader = tokio::spawn({
            let horizon = horizon.clone();
            async move { horizon.settle().await }
        });
        go.send(Err(std::io::Error::other("disk gone"))).unwrap();
        assert_eq!(
            outcome.recv_timeout(Duration::from_secs(5)).unwrap(),
            Outcome::NotDurable
        );
        assert!(matches!(reader.await.unwrap(), Err(StoreError::NotDurable)));
        assert!(horizon.failed());
        // Later batches are not synced again and never reported durable.
        let outcome = commit_one(&syncer, &horizon, 2, true);
        assert_eq!(
            outcome.recv_timeout(Duration::from_secs(5)).unwrap(),
            Outcome::NotDurable
        );
        assert!(matches!(
            horizon.settle_blocking(),
            Err(StoreError::NotDurable)
        ));
        syncer.close();
    }
}
