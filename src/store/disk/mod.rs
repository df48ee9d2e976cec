//! Where the store's files live: the real file system, or a simulated disk that
//! can lose power (`model`, `vfs`) for the power-cut harness
//! (`switchboard-load powercut`, docs/durability.md).
//!
//! Every path of the store that touches the data directory goes through a
//! [`Disk`]: the SQLite VFS of each connection (writer, checkpoint, readers,
//! backup), the fsync thread's handle on the WAL, and the directory syncs after
//! creating files. The choice is made once, when the store opens; on the real
//! disk nothing on the message path does any extra work.

mod model;
mod vfs;

pub use model::{CutPoint, Image, OpKind, PowerCut, SimDisk, SECTOR};

use std::ffi::CStr;
use std::io;
use std::path::Path;
use std::sync::Arc;

pub(super) const VFS_NAME: &CStr = vfs::NAME;

pub(super) fn register_vfs() -> Result<(), String> {
    vfs::register()
}

/// The disk under a store.
#[derive(Clone, Default)]
pub enum Disk {
    /// The operating system's file system.
    #[default]
    Os,
    /// A simulated disk that a test can cut the power of.
    Sim(Arc<SimDisk>),
}

/// Makes one file durable; the fsync thread's handle on the WAL.
pub(super) type SyncFn = Box<dyn FnMut() -> io::Result<()> + Send>;

impl Disk {
    /// The VFS for connections other than the writer's (`None`: SQLite's default).
    pub(super) fn vfs(&self) -> Result<Option<&'static str>, String> {
        match self {
            Disk::Os => Ok(None),
            Disk::Sim(_) => {
                vfs::register()?;
                Ok(Some(vfs::NAME.to_str().expect("the VFS name is UTF-8")))
            }
        }
    }

    /// The writer connection's VFS (`wal_vfs` over this disk).
    pub(super) fn writer_vfs(&self) -> Result<&'static str, String> {
        match self {
            Disk::Os => super::wal_vfs::register(),
            Disk::Sim(_) => super::wal_vfs::register_sim(),
        }
    }

    /// Whether the fsync thread answers before it syncs: a deliberately broken
    /// store, only ever on a simulated disk, to prove the harness finds losses.
    pub(super) fn ack_before_sync(&self) -> bool {
        matches!(self, Disk::Sim(d) if d.ack_before_sync())
    }

    /// Opens `path` for syncing its data; each call of the result syncs it.
    pub(super) fn sync_handle(&self, path: &Path) -> io::Result<SyncFn> {
        match self.sim_name(path) {
            None => {
                let file = std::fs::File::open(path)?;
                Ok(Box::new(move || file.sync_data()))
            }
            Some((disk, name)) => {
                let (handle, _) = disk.open(&name, false).map_err(cut)?;
                Ok(Box::new(move || disk.sync(handle, &name).map_err(cut)))
            }
        }
    }

    /// Makes durable the data of the file at `path`.
    pub(super) fn sync_file(&self, path: &Path) -> io::Result<()> {
        self.sync_handle(path)?()
    }

    /// Makes durable the creations and deletions of names in directory `dir`.
    pub(super) fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        match self.sim_name(dir) {
            None => std::fs::File::open(dir)?.sync_all(),
            Some((disk, name)) => disk.sync_dir(&name).map_err(cut),
        }
    }

    /// Creates `dir` and its missing parents, each made durable in its parent.
    pub(super) fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        if dir.as_os_str().is_empty() || dir.is_dir() {
            return Ok(());
        }
        if let Some(parent) = dir.parent() {
            self.create_dir_all(parent)?;
        }
        std::fs::create_dir(dir).or_else(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        match dir.parent() {
            // Directories inside a simulated disk are not modelled (docs/durability.md).
            Some(parent) if self.sim_name(dir).is_none() => self.sync_dir(parent),
            _ => Ok(()),
        }
    }

    /// Removes the file at `path` (not made durable: a leftover is harmless).
    pub(super) fn remove_file(&self, path: &Path) -> io::Result<()> {
        if let Some((disk, name)) = self.sim_name(path) {
            disk.delete(&name).map_err(cut)?;
        }
        std::fs::remove_file(path)
    }

    /// The simulated disk holding `path`, and its name there.
    fn sim_name(&self, path: &Path) -> Option<(Arc<SimDisk>, String)> {
        let Disk::Sim(disk) = self else { return None };
        let absolute = std::path::absolute(path).ok()?;
        let name = disk.name_of(&absolute)?;
        Some((disk.clone(), name))
    }
}

fn cut(e: PowerCut) -> io::Error {
    io::Error::other(e)
}

#[cfg(test)]
mod tests;
