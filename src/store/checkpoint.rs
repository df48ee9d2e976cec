//! WAL checkpoints on their own thread and connection. The writer signals each
//! commit; a PASSIVE checkpoint (which neither blocks nor waits for the writer or
//! readers) then copies committed pages into the database file off the commit
//! path, at most every [`MIN_GAP`] and at least every [`INTERVAL`]. Each pass ends
//! with an fsync of the database file, and the writer's next WAL fsync queues
//! behind it on the same disk: many small passes keep that wait short (one pass
//! every 200 ms made the chat benchmark's p99 about five times worse; see
//! docs/benchmarks.md). The writer's own automatic checkpoint stays as a backstop
//! at a larger WAL size: only a checkpoint that completes between two write
//! transactions lets SQLite restart the WAL from its beginning instead of growing
//! it, and by then this thread has copied most of its pages.

use super::durability::Horizon;
use super::{open_connection, StoreError, StoreResult};
use crate::config::StoreConfig;
use parking_lot::{Condvar, Mutex};
use rusqlite::config::DbConfig;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const INTERVAL: Duration = Duration::from_millis(100);
const MIN_GAP: Duration = Duration::from_millis(2);

#[derive(Default)]
struct State {
    stopped: bool,
    committed: bool,
}

pub(super) struct Checkpointer {
    signal: CommitSignal,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// The writer's side: tells the checkpoint thread that new pages were committed.
#[derive(Clone)]
pub(super) struct CommitSignal(Arc<(Mutex<State>, Condvar)>);

impl CommitSignal {
    pub(super) fn committed(&self) {
        let (state, wake) = &*self.0;
        let mut state = state.lock();
        if !state.committed {
            state.committed = true;
            wake.notify_one();
        }
    }
}

/// Stops checkpointing for good once `horizon` reports a failed fsync: the WAL
/// then holds frames the disk may not have, which must not reach the database file.
pub(super) fn spawn(
    path: &Path,
    cfg: &StoreConfig,
    horizon: Arc<Horizon>,
    vfs: Option<&str>,
) -> StoreResult<Checkpointer> {
    let conn = open_connection(path, cfg, false, vfs)?;
    let signal = CommitSignal(Arc::new((Mutex::new(State::default()), Condvar::new())));
    let shared = signal.0.clone();
    let thread = std::thread::Builder::new()
        .name("store-checkpoint".into())
        .spawn(move || {
            let (state, wake) = &*shared;
            loop {
                let last = {
                    let mut state = state.lock();
                    if !state.stopped && !state.committed {
                        wake.wait_for(&mut state, INTERVAL);
                    }
                    state.committed = false;
                    state.stopped
                };
                if horizon.failed() {
                    let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
                    tracing::error!("checkpoints stopped after a failed fsync");
                    break;
                }
                // (busy, WAL frames, frames checkpointed)
                let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                });
                if let Err(e) = result {
                    tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                }
                if last {
                    break;
                }
                // Commit signals do not cut the gap short; only a stop does.
                let until = Instant::now() + MIN_GAP;
                let mut state = state.lock();
                while !state.stopped && !wake.wait_until(&mut state, until).timed_out() {}
            }
        })
        .map_err(|e| StoreError::Migration(format!("cannot start checkpoint thread: {e}")))?;
    Ok(Checkpointer {
        signal,
        thread: Mutex::new(Some(thread)),
    })
}

/// Attempts of [`truncate`] while readers or the writer hold the WAL.
const TRUNCATE_ATTEMPTS: u32 = 50;

/// A TRUNCATE checkpoint on a connection of its own: every frame copied into the
/// database file, then the WAL cut to zero bytes. Says whether it completed.
pub(super) fn truncate(path: &Path, cfg: &StoreConfig, vfs: Option<&str>) -> StoreResult<bool> {
    let conn = open_connection(path, cfg, false, vfs)?;
    for _ in 0..TRUNCATE_ATTEMPTS {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(false)
}

impl Checkpointer {
    pub(super) fn signal(&self) -> CommitSignal {
        self.signal.clone()
    }

    /// Runs a last checkpoint and stops the thread.
    pub(super) fn close(&self) {
        let (state, wake) = &*self.signal.0;
        state.lock().stopped = true;
        wake.notify_all();
        if let Some(thread) = self.thread.lock().take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.close();
    }
}
