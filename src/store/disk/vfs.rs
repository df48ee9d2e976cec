//! The SQLite VFS of a simulated disk: SQLite's `unix` VFS doing the file work
//! (locks, shared memory, the page-cache copy of each file), with every write,
//! truncation, sync, creation and deletion of a file under a [`SimDisk`]'s
//! directory first recorded on that disk, and refused once its power is cut.
//! Syncs are not passed on: the disk model decides what they make durable.
//!
//! Like `unix`, a newly created WAL or rollback journal has its directory synced
//! by its first sync, and a delete asked to sync its directory does; a created
//! database file's directory is not synced (the store does that itself). Files
//! outside every simulated disk, and files without a name, are plain `unix` files.

use super::model::{Handle, SimDisk};
use crate::store::vfs_shim::{self, inner, inner_methods};
use rusqlite::ffi;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The name connections of a simulated disk open their database with.
pub(crate) const NAME: &CStr = c"switchboard-sim";

/// Registers the VFS (once per process).
pub(crate) fn register() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| unsafe { vfs_shim::register(c"unix", NAME, x_open, Some(x_delete)) })
        .clone()
}

struct State {
    disk: Arc<SimDisk>,
    handle: Handle,
    name: String,
    /// Created as a journal: its first sync also syncs its directory (as `unix`).
    dir_sync: bool,
}

unsafe fn state<'a>(file: *mut ffi::sqlite3_file) -> &'a mut State {
    vfs_shim::state(file)
}

unsafe fn path_of<'a>(name: *const c_char) -> Option<&'a Path> {
    if name.is_null() {
        return None;
    }
    CStr::from_ptr(name).to_str().ok().map(Path::new)
}

fn parent_of(name: &str) -> &str {
    name.rsplit_once('/').map_or("", |(dir, _)| dir)
}

unsafe extern "C" fn x_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let unix = vfs_shim::layer(vfs).base;
    let Some((disk, rel)) = path_of(name).and_then(SimDisk::find) else {
        return ((*unix).xOpen.expect("unix VFS opens files"))(unix, name, file, flags, out_flags);
    };
    let create = flags & ffi::SQLITE_OPEN_CREATE != 0;
    let Ok((handle, created)) = disk.open(&rel, create) else {
        return ffi::SQLITE_CANTOPEN;
    };
    let journal = flags
        & (ffi::SQLITE_OPEN_WAL | ffi::SQLITE_OPEN_MAIN_JOURNAL | ffi::SQLITE_OPEN_SUPER_JOURNAL)
        != 0;
    let state = State {
        disk,
        handle,
        name: rel,
        dir_sync: created && journal,
    };
    vfs_shim::open_wrapped(vfs, name, file, flags, out_flags, methods, state)
}

unsafe extern "C" fn x_delete(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync_dir: c_int,
) -> c_int {
    let unix = vfs_shim::layer(vfs).base;
    let unix_delete = (*unix).xDelete.expect("unix VFS deletes files");
    let Some((disk, rel)) = path_of(name).and_then(SimDisk::find) else {
        return unix_delete(unix, name, sync_dir);
    };
    if disk.delete(&rel).is_err() {
        return ffi::SQLITE_IOERR_DELETE;
    }
    if sync_dir != 0 && disk.sync_dir(parent_of(&rel)).is_err() {
        return ffi::SQLITE_IOERR_DIR_FSYNC;
    }
    unix_delete(unix, name, 0)
}

fn methods(version: c_int) -> *const ffi::sqlite3_io_methods {
    static METHODS: OnceLock<ffi::sqlite3_io_methods> = OnceLock::new();
    METHODS.get_or_init(|| {
        vfs_shim::methods(
            version,
            vfs_shim::Own {
                close: x_close,
                read: x_read,
                write: x_write,
                truncate: x_truncate,
                sync: x_sync,
                file_size: x_file_size,
                fetch: x_fetch,
            },
        )
    })
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let s = state(file);
    let len = usize::try_from(amount).unwrap_or(0);
    let bytes = std::slice::from_raw_parts(data as *const u8, len);
    if s.disk
        .write(s.handle, &s.name, offset.max(0) as u64, bytes)
        .is_err()
    {
        return ffi::SQLITE_IOERR_WRITE;
    }
    (inner_methods(file).xWrite.expect("unix files write"))(inner(file), data, amount, offset)
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    let s = state(file);
    if s.disk
        .truncate(s.handle, &s.name, size.max(0) as u64)
        .is_err()
    {
        return ffi::SQLITE_IOERR_TRUNCATE;
    }
    (inner_methods(file).xTruncate.expect("unix files truncate"))(inner(file), size)
}

unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, _flags: c_int) -> c_int {
    let s = state(file);
    if s.disk.sync(s.handle, &s.name).is_err() {
        return ffi::SQLITE_IOERR_FSYNC;
    }
    if std::mem::take(&mut s.dir_sync) && s.disk.sync_dir(parent_of(&s.name)).is_err() {
        return ffi::SQLITE_IOERR_DIR_FSYNC;
    }
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    data: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    if state(file).disk.alive().is_err() {
        return ffi::SQLITE_IOERR_READ;
    }
    (inner_methods(file).xRead.expect("unix files read"))(inner(file), data, amount, offset)
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    vfs_shim::close_wrapped::<State>(file)
}

unsafe extern "C" fn x_file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    (inner_methods(file)
        .xFileSize
        .expect("unix files have a size"))(inner(file), size)
}

unsafe extern "C" fn x_fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // No memory-mapped reads: every read goes through `x_read`.
    let _ = (file, offset, amount);
    *out = std::ptr::null_mut();
    ffi::SQLITE_OK
}
