//! WAL checkpoints on their own thread and connection: a PASSIVE checkpoint (which
//! neither blocks nor waits for the writer or readers) every 100 ms copies committed
//! pages into the database file off the commit path. The writer's own automatic
//! checkpoint (every 1,000 WAL pages) then finds little left to copy; it stays,
//! because only a checkpoint that completes between two write transactions lets
//! SQLite restart the WAL from its beginning instead of growing it.

use super::{open_connection, StoreError, StoreResult};
use crate::config::StoreConfig;
use parking_lot::{Condvar, Mutex};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

const INTERVAL: Duration = Duration::from_millis(100);

pub(super) struct Checkpointer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

pub(super) fn spawn(path: &Path, cfg: &StoreConfig) -> StoreResult<Checkpointer> {
    let conn = open_connection(path, cfg, false)?;
    let stop = Arc::new((Mutex::new(false), Condvar::new()));
    let signal = stop.clone();
    let thread = std::thread::Builder::new()
        .name("store-checkpoint".into())
        .spawn(move || {
            let (stopped, wake) = &*signal;
            loop {
                let last = {
                    let mut stopped = stopped.lock();
                    if !*stopped {
                        wake.wait_for(&mut stopped, INTERVAL);
                    }
                    *stopped
                };
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
            }
        })
        .map_err(|e| StoreError::Migration(format!("cannot start checkpoint thread: {e}")))?;
    Ok(Checkpointer {
        stop,
        thread: Mutex::new(Some(thread)),
    })
}

impl Checkpointer {
    /// Runs a last checkpoint and stops the thread.
    pub(super) fn close(&self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock() = true;
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
