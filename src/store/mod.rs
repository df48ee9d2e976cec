//! The SQLite store: one writer thread with group commit, a pool of read-only
//! connections, embedded migrations, and one module per aggregate.
//!
//! Producers hand the writer a closure and await its answer (or have a completion
//! told it, `Store::submit_then`); the answer arrives only after the transaction
//! holding that closure has committed and is on disk (`durability`). One failing write does not undo the others in its batch
//! (`writer`). Reads are answered only once what they saw is on disk.

mod checkpoint;
pub mod delta;
pub mod disk;
mod durability;
mod migrate;
mod object_cache;
mod readers;
mod share_memo;
mod vfs_shim;
mod wal_vfs;
mod writer;

pub mod agent_states;
pub mod attachments;
pub mod audit;
pub mod channel_admin;
pub mod channel_widget;
pub mod codes;
pub mod conversation_rows;
pub mod conversation_runtimes;
pub mod conversations;
pub mod csat;
pub mod customers;
pub mod demo;
pub mod directory;
pub mod event_keys;
pub mod event_runtime;
pub mod events;
pub mod journal;
pub mod journal_brief;
pub mod merge_patch;
pub mod message_index;
pub mod object_refs;
pub mod object_sweep;
pub mod objects;
mod origin_memo;
pub mod outbox;
pub mod packed;
pub mod queue_thresholds;
pub mod routing_admin;
pub mod routing_rows;
pub mod secrets;
pub mod size;
pub mod task_facts;
pub mod tasks;
pub mod teams;
pub mod user_admin;
pub mod users;
pub mod vocabulary;

use crate::config::{StoreConfig, Synchronous};
use disk::Disk;
use durability::{Horizon, Syncer};
use readers::ReadPool;
use rusqlite::{config::DbConfig, Connection};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use writer::WriterHandle;

pub use writer::CommitObserver;

pub use migrate::LATEST_SCHEMA_VERSION;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error(
        "the database was written by a newer Switchboard (schema version {found}, this build knows up to {supported}); upgrade Switchboard or restore a backup"
    )]
    NewerSchema { found: i64, supported: i64 },
    #[error("the store is shut down")]
    Closed,
    #[error("cannot prepare data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the disk did not confirm a write (fsync failed); the store stopped to keep what it has"
    )]
    NotDurable,
    #[error("the write could not be committed; try again")]
    NotCommitted,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    Conflict(String),
    /// A value the caller gave is refused; `field` names it as the client sent it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// The change is refused while other entities use this one.
    #[error("{message}")]
    InUse {
        message: String,
        blockers: Vec<Blocker>,
    },
}

/// Something that stands in the way of a change (a channel routing to a queue, ...).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Blocker {
    /// `channel`, `pullList`, `queue`, `user`, `channelType`, `conversation`, ...
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    pub name: String,
}

impl StoreError {
    /// An invalid value of `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> StoreError {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// `Ok` when nothing blocks; else `InUse` naming the blockers after `what`.
    pub fn unless_blocked(what: &str, blockers: Vec<Blocker>) -> StoreResult<()> {
        if blockers.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = blockers
            .iter()
            .map(|b| format!("{} {}", b.kind, b.name))
            .collect();
        Err(StoreError::InUse {
            message: format!(
                "{what} is used by {}; change or delete them first",
                names.join(", ")
            ),
            blockers,
        })
    }
}

impl StoreError {
    /// Maps a SQLite uniqueness violation to a `Conflict` naming `what`.
    pub fn conflict_on_unique(err: rusqlite::Error, what: &str) -> StoreError {
        match &err {
            rusqlite::Error::SqliteFailure(e, _)
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict(what.to_string())
            }
            _ => StoreError::Sqlite(err),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A handle to the store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    writer: WriterHandle,
    checkpointer: checkpoint::Checkpointer,
    readers: ReadPool,
    path: PathBuf,
    disk: Disk,
    commit_observer: Arc<std::sync::OnceLock<CommitObserver>>,
    cfg: StoreConfig,
    vfs: Option<&'static str>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, runs migrations and
    /// starts the writer thread.
    pub fn open(path: &Path, cfg: &StoreConfig) -> StoreResult<Store> {
        Store::open_on(path, cfg, Disk::Os)
    }

    /// [`Store::open`] on `disk` (a simulated disk in the power-cut harness).
    pub fn open_on(path: &Path, cfg: &StoreConfig, disk: Disk) -> StoreResult<Store> {
        let data_dir = |source| StoreError::DataDir {
            path: path.to_path_buf(),
            source,
        };
        let dir = path.parent().unwrap_or(Path::new(""));
        disk.create_dir_all(dir)
            .map_err(|source| StoreError::DataDir {
                path: dir.to_path_buf(),
                source,
            })?;
        let vfs = disk.vfs().map_err(StoreError::Migration)?;
        // With FULL the commit fsync leaves the writer thread (see `durability`).
        let deferred_sync = matches!(cfg.synchronous, Synchronous::Full | Synchronous::Extra);
        let writer_vfs = if deferred_sync {
            Some(disk.writer_vfs().map_err(StoreError::Migration)?)
        } else {
            vfs
        };
        let mut conn = open_connection(path, cfg, false, writer_vfs)?;
        // Negative: a size in KiB rather than in pages.
        let cache_kib = i64::try_from(cfg.writer_cache_kib).unwrap_or(i64::MAX);
        conn.pragma_update(None, "cache_size", -cache_kib)?;
        migrate::run(&mut conn)?;
        // Most checkpoint work runs on its own thread (see `checkpoint`); the writer's
        // automatic checkpoint (at WRITER_CHECKPOINT_PAGES) stays as the backstop that
        // lets the WAL restart.
        let horizon = Arc::new(Horizon::default());
        let checkpointer = checkpoint::spawn(path, cfg, horizon.clone(), vfs)?;
        let wal = wal_path(&conn, path)?;
        // SQLite syncs the directory of a WAL it creates, never of the database
        // file: without this a power cut could take the whole file back.
        disk.sync_dir(dir).map_err(data_dir)?;
        let durability = if deferred_sync {
            let mut wal = disk.sync_handle(&wal).map_err(data_dir)?;
            // A crash (not a power cut) can leave commits in the WAL that were never
            // fsynced; they are recovered and shown from now on, so make them durable.
            wal().map_err(data_dir)?;
            let syncer = Syncer::spawn(wal, horizon.clone(), disk.ack_before_sync())?;
            writer::Durability::Deferred {
                syncer,
                horizon: horizon.clone(),
            }
        } else {
            writer::Durability::InCommit
        };
        let commit_observer = Arc::new(std::sync::OnceLock::new());
        let writer = writer::spawn(
            conn,
            cfg.max_batch,
            cfg.queue_capacity,
            checkpointer.signal(),
            durability,
            commit_observer.clone(),
        )?;
        let readers = ReadPool::open(path, cfg, horizon, vfs)?;
        Ok(Store {
            inner: Arc::new(Inner {
                writer,
                checkpointer,
                readers,
                path: path.to_path_buf(),
                disk,
                commit_observer,
                cfg: cfg.clone(),
                vfs,
            }),
        })
    }

    /// Has `observe` told the duration of every durable commit from now on (once per
    /// store; a second observer is ignored). It runs on the store's threads: keep it cheap.
    pub fn observe_commits(&self, observe: CommitObserver) {
        let _ = self.inner.commit_observer.set(observe);
    }

    /// Runs `f` in the writer's current transaction; resolves after commit. `f` may
    /// run twice (see `writer`): it must have no effects outside the connection.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.writer.write(f).await
    }

    /// Queues `f` for the writer and returns once it is queued, so the caller goes on
    /// with its next work while the commit runs (writes commit in the order they are
    /// queued); `then` is called with the outcome exactly once, where it becomes
    /// known: on the fsync thread right after the fsync that made the write durable
    /// (on the writer thread when COMMIT is durable itself), in commit order; at once
    /// when the store is closed. `then` runs on the store's own threads: it must be
    /// quick and never block (the next fsync waits for it), and it has no async
    /// runtime entered.
    pub async fn submit_then<T, F, D>(&self, f: F, then: D)
    where
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
        D: FnOnce(StoreResult<T>) + Send + 'static,
    {
        self.inner.writer.submit_then(f, then).await
    }

    /// Blocking form of [`Store::write`] for threads outside the async runtime.
    pub fn write_blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnMut(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.writer.write_blocking(f)
    }

    /// Runs `f` on a read-only connection off the async runtime's threads.
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.readers.read(f).await
    }

    /// [`Store::read`] for an indexed point lookup of a few microseconds: it runs on
    /// the calling thread when a read connection is free, else as `read` does.
    pub async fn read_short<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.readers.read_short(f).await
    }

    /// An indexed point lookup of rows that are only ever inserted (never updated
    /// or deleted), run as [`Store::read_short`] runs. A miss tells of no commit and
    /// is answered at once; a hit is answered once the commit that made it is
    /// durable, as every read is.
    pub async fn find<T, F>(&self, f: F) -> StoreResult<Option<T>>
    where
        F: FnOnce(&Connection) -> StoreResult<Option<T>> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.readers.find(f).await
    }

    /// Blocking form of [`Store::read`].
    pub fn read_blocking<T, F>(&self, f: F) -> StoreResult<T>
    where
        F: FnOnce(&Connection) -> StoreResult<T>,
    {
        self.inner.readers.read_blocking(f)
    }

    /// Whether the writer thread is alive and committing.
    pub async fn is_writable(&self) -> bool {
        self.write(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))?;
            Ok(())
        })
        .await
        .is_ok()
    }

    /// Writes a consistent copy of the live database to `dest` (VACUUM INTO) and
    /// returns once the copy and its name are on disk.
    pub async fn backup(&self, dest: &Path) -> StoreResult<()> {
        let target = dest.to_string_lossy().into_owned();
        let copied = self
            .read(move |c| {
                c.execute("VACUUM INTO ?1", [target])?;
                Ok(())
            })
            .await;
        let disk = &self.inner.disk;
        if matches!(copied, Err(StoreError::NotDurable)) {
            // The copy may hold commits the disk never confirmed.
            let _ = disk.remove_file(dest);
        }
        copied?;
        // VACUUM INTO syncs the copy's data but not the directory naming it.
        let dir = dest.parent().unwrap_or(Path::new(""));
        let durable = disk.sync_file(dest).and_then(|()| disk.sync_dir(dir));
        durable.map_err(|source| StoreError::DataDir {
            path: dest.to_path_buf(),
            source,
        })
    }

    /// Copies every committed page into the database file and truncates the WAL to
    /// nothing, so no earlier version of a page stays in it (after an erasure). Waits
    /// for readers to move to the newest snapshot; says whether it got through.
    pub async fn truncate_wal(&self) -> StoreResult<bool> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || {
            let inner = &store.inner;
            checkpoint::truncate(&inner.path, &inner.cfg, inner.vfs)
        })
        .await
        .map_err(|_| StoreError::Closed)?
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Stops accepting writes, commits what is queued and joins the writer thread.
    pub fn close(&self) {
        self.inner.writer.close();
        self.inner.checkpointer.close();
    }
}

/// The WAL file of the database at `path`. A read makes SQLite create it if an
/// earlier clean shutdown removed it.
fn wal_path(conn: &Connection, path: &Path) -> StoreResult<PathBuf> {
    conn.query_row("PRAGMA schema_version", [], |_| Ok(()))?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    Ok(PathBuf::from(wal))
}

/// WAL size (in pages, 64 MiB) at which the writer checkpoints by itself; below it
/// the checkpoint thread does the copying. Each of these checkpoints holds the
/// writer for a database fsync; at 4,096 pages they cost one-row writes 8 %
/// (docs/benchmarks.md).
const WRITER_CHECKPOINT_PAGES: i64 = 16384;

fn open_connection(
    path: &Path,
    cfg: &StoreConfig,
    read_only: bool,
    vfs: Option<&str>,
) -> StoreResult<Connection> {
    use rusqlite::OpenFlags;
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = match vfs {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs)?,
        None => Connection::open_with_flags(path, flags)?,
    };
    // busy_timeout first, so the pragmas below wait rather than fail on a busy file.
    conn.busy_timeout(std::time::Duration::from_millis(cfg.busy_timeout_ms))?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", cfg.synchronous.pragma_value())?;
        // Each write runs in a savepoint; its sub-journal would otherwise spill to a
        // temporary file (a write syscall per page) once a batch passes 64 KiB.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        // Freed cells are zeroed in their (already written) pages: what was deleted or
        // overwritten does not linger in the file (see `retention::erase`).
        conn.pragma_update(None, "secure_delete", "FAST")?;
        // Plans that do not depend on bound values (the writer's and the checkpointer's
        // connections). Without this SQLite re-prepares a
        // statement whenever a value bound to `col = ?` changes to or from 0 or 1, or
        // to a `LIMIT ?` changes at all. FTS5's own lookup of a term in a segment
        // (`segid = ?`) was re-prepared at nearly every seek of the purge's secure
        // deletions (docs/benchmarks.md). The writer's statements are keyed reads and
        // writes; a bound LIKE pattern here is a `%term%` that uses no index anyway.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Reads an optional JSON column into a value, naming the column on corruption.
/// An in-memory database with the current schema, for unit tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn test_connection() -> Connection {
    let mut conn = Connection::open_in_memory().expect("in-memory database");
    migrate::run(&mut conn).expect("schema");
    conn
}

pub(crate) fn parse_json(text: &str, what: &str) -> StoreResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
