//! Backups: scheduled online copies of the live database ([`schedule`]), the lock that
//! marks a data directory as in use by a running server ([`DataDirLock`]), and
//! `switchboard restore` ([`restore`]).
//!
//! A backup is the store's `VACUUM INTO` copy, read from a snapshot that holds only
//! durable commits: every write acknowledged before the backup started is in it. It
//! is written under a `.partial` name and renamed once it and its directory are
//! synced, so a file with a final name is always a whole backup. Attachment files go
//! in a companion directory beside it ([`attachments`]), complete before that rename.

pub mod attachments;
pub mod restore;

use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// File names of scheduled backups: `switchboard-<UTC time>.db`, which sort by age.
const PREFIX: &str = "switchboard-";
const SUFFIX: &str = ".db";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Seconds between scheduled backups; 0 turns them off.
    pub interval_secs: u64,
    /// Where they go; empty means `<data_dir>/backups`. Put it on another disk.
    pub directory: PathBuf,
    /// Scheduled backups kept; older ones are deleted after each new one.
    pub keep: usize,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            interval_secs: 0,
            directory: PathBuf::new(),
            keep: 7,
        }
    }
}

impl BackupConfig {
    pub fn directory(&self, data_dir: &Path) -> PathBuf {
        if self.directory.as_os_str().is_empty() {
            data_dir.join("backups")
        } else {
            self.directory.clone()
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another Switchboard is running on {0}; stop it first")]
    InUse(PathBuf),
    #[error("{0}")]
    Refused(String),
}

impl BackupError {
    pub fn code(&self) -> &'static str {
        match self {
            BackupError::Store(_) => "store",
            BackupError::Io { .. } => "io",
            BackupError::InUse(_) => "in_use",
            BackupError::Refused(_) => "refused",
        }
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
        move |source| BackupError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// An exclusive lock on `<data_dir>/switchboard.lock`, held while a server runs on the
/// directory (released when dropped, or by the kernel when the process dies).
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    pub fn acquire(data_dir: &Path) -> Result<DataDirLock, BackupError> {
        std::fs::create_dir_all(data_dir).map_err(BackupError::io(data_dir))?;
        let path = data_dir.join("switchboard.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(BackupError::io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::InUse(data_dir.into())),
            Err(std::fs::TryLockError::Error(e)) => Err(BackupError::io(&path)(e)),
        }
    }
}

/// Writes one backup into `dir` now, then keeps the newest `keep`; returns its path.
pub async fn backup_now(store: &Store, dir: &Path, keep: usize) -> Result<PathBuf, BackupError> {
    std::fs::create_dir_all(dir).map_err(BackupError::io(dir))?;
    let now = jiff::Timestamp::now();
    let stamp = format!(
        "{}{:03}Z",
        now.strftime("%Y%m%dT%H%M%S."),
        now.subsec_millisecond()
    );
    let name = format!("{PREFIX}{stamp}{SUFFIX}");
    let partial = dir.join(format!("{name}.partial"));
    let _ = std::fs::remove_file(&partial);
    store.backup(&partial).await?;
    let path = dir.join(&name);
    // The attachment files the backup's rows name, before the backup is complete.
    if let Some(data_dir) = store.path().parent() {
        let (partial_db, final_db, data_dir) = (partial.clone(), path.clone(), data_dir.to_owned());
        tokio::task::spawn_blocking(move || {
            attachments::write_companion(&partial_db, &final_db, &data_dir)
        })
        .await
        .map_err(|e| BackupError::Refused(e.to_string()))??;
    }
    std::fs::rename(&partial, &path).map_err(BackupError::io(&path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(BackupError::io(dir))?;
    prune(dir, keep)?;
    Ok(path)
}

/// Scheduled backups in `dir`, oldest first.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>, BackupError> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(BackupError::io(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        })
        .collect();
    found.sort();
    Ok(found)
}

fn prune(dir: &Path, keep: usize) -> Result<(), BackupError> {
    let all = list(dir)?;
    let excess = all.len().saturating_sub(keep.max(1));
    for old in &all[..excess] {
        std::fs::remove_file(old).map_err(BackupError::io(old))?;
        attachments::remove_companion(old)?;
    }
    Ok(())
}

/// Takes a backup every `interval_secs` until the runtime stops; a failed backup is
/// logged and tried again at the next interval.
pub fn schedule(
    store: Store,
    config: BackupConfig,
    data_dir: &Path,
) -> Option<tokio::task::JoinHandle<()>> {
    if config.interval_secs == 0 {
        return None;
    }
    let dir = config.directory(data_dir);
    Some(tokio::spawn(async move {
        let period = Duration::from_secs(config.interval_secs);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match backup_now(&store, &dir, config.keep).await {
                Ok(path) => tracing::info!(path = %path.display(), "backup written"),
                Err(e) => {
                    tracing::error!(error = %e, dir = %dir.display(), "scheduled backup failed")
                }
            }
        }
    }))
}
