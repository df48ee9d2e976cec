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
        .get_or_init(|| unsafe { register_once() })
        .clone()
}

struct Base {
    unix: *mut ffi::sqlite3_vfs,
    inner_offset: usize,
}

// SAFETY: the unix VFS is a static of SQLite's, never freed and safe to share.
unsafe impl Send for Base {}
unsafe impl Sync for Base {}

static BASE: OnceLock<Base> = OnceLock::new();

#[repr(C)]
struct SimFile {
    base: ffi::sqlite3_file,
    state: *mut State,
}

struct State {
    disk: Arc<SimDisk>,
    handle: Handle,
    name: String,
    /// Created as a journal: its first sync also syncs its directory (as `unix`).
    dir_sync: bool,
}

unsafe fn register_once() -> Result<(), String> {
    let unix = ffi::sqlite3_vfs_find(c"unix".as_ptr());
    if unix.is_null() {
        return Err("SQLite has no unix VFS".into());
    }
    let align = std::mem::align_of::<u64>();
    let inner_offset = std::mem::size_of::<SimFile>().div_ceil(align) * align;
    let _ = BASE.set(Base { unix, inner_offset });
    let mut vfs: ffi::sqlite3_vfs = std::ptr::read(unix);
    vfs.szOsFile = (*unix).szOsFile + inner_offset as c_int;
    vfs.pNext = std::ptr::null_mut();
    vfs.zName = NAME.as_ptr();
    vfs.xOpen = Some(x_open);
    vfs.xDelete = Some(x_delete);
    let vfs = Box::leak(Box::new(vfs));
    match ffi::sqlite3_vfs_register(vfs, 0) {
        ffi::SQLITE_OK => Ok(()),
        rc => Err(format!(
            "cannot register the simulated-disk VFS (SQLite code {rc})"
        )),
    }
}

fn base() -> &'static Base {
    BASE.get().expect("registered before any open")
}

unsafe fn inner(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    (file as *mut u8).add(base().inner_offset) as *mut ffi::sqlite3_file
}

unsafe fn inner_methods(file: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    &*(*inner(file)).pMethods
}

unsafe fn state<'a>(file: *mut ffi::sqlite3_file) -> &'a mut State {
    &mut *(*(file as *mut SimFile)).state
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
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let base = base();
    let unix_open = (*base.unix).xOpen.expect("unix VFS opens files");
    let Some((disk, rel)) = path_of(name).and_then(SimDisk::find) else {
        return unix_open(base.unix, name, file, flags, out_flags);
    };
    let create = flags & ffi::SQLITE_OPEN_CREATE != 0;
    let Ok((handle, created)) = disk.open(&rel, create) else {
        return ffi::SQLITE_CANTOPEN;
    };
    let journal = flags
        & (ffi::SQLITE_OPEN_WAL | ffi::SQLITE_OPEN_MAIN_JOURNAL | ffi::SQLITE_OPEN_SUPER_JOURNAL)
        != 0;
    let wrapped = file as *mut SimFile;
    (*wrapped).base.pMethods = std::ptr::null();
    (*wrapped).state = std::ptr::null_mut();
    let rc = unix_open(base.unix, name, inner(file), flags, out_flags);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    (*wrapped).state = Box::into_raw(Box::new(State {
        disk,
        handle,
        name: rel,
        dir_sync: created && journal,
    }));
    (*wrapped).base.pMethods = methods(inner_methods(file).iVersion);
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_delete(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync_dir: c_int,
) -> c_int {
    let base = base();
    let unix_delete = (*base.unix).xDelete.expect("unix VFS deletes files");
    let Some((disk, rel)) = path_of(name).and_then(SimDisk::find) else {
        return unix_delete(base.unix, name, sync_dir);
    };
    if disk.delete(&rel).is_err() {
        return ffi::SQLITE_IOERR_DELETE;
    }
    if sync_dir != 0 && disk.sync_dir(parent_of(&rel)).is_err() {
        return ffi::SQLITE_IOERR_DIR_FSYNC;
    }
    unix_delete(base.unix, name, 0)
}

fn methods(version: c_int) -> *const ffi::sqlite3_io_methods {
    static METHODS: OnceLock<ffi::sqlite3_io_methods> = OnceLock::new();
    METHODS.get_or_init(|| ffi::sqlite3_io_methods {
        iVersion: version,
        xClose: Some(x_close),
        xRead: Some(x_read),
        xWrite: Some(x_write),
        xTruncate: Some(x_truncate),
        xSync: Some(x_sync),
        xFileSize: Some(x_file_size),
        xLock: Some(x_lock),
        xUnlock: Some(x_unlock),
        xCheckReservedLock: Some(x_check_reserved_lock),
        xFileControl: Some(x_file_control),
        xSectorSize: Some(x_sector_size),
        xDeviceCharacteristics: Some(x_device_characteristics),
        xShmMap: Some(x_shm_map),
        xShmLock: Some(x_shm_lock),
        xShmBarrier: Some(x_shm_barrier),
        xShmUnmap: Some(x_shm_unmap),
        xFetch: Some(x_fetch),
        xUnfetch: Some(x_unfetch),
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
    let closed = (inner_methods(file).xClose.expect("unix files close"))(inner(file));
    let wrapped = file as *mut SimFile;
    drop(Box::from_raw((*wrapped).state));
    (*wrapped).state = std::ptr::null_mut();
    closed
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

unsafe extern "C" fn x_unfetch(
    _file: *mut ffi::sqlite3_file,
    _offset: i64,
    _p: *mut c_void,
) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    (inner_methods(file).xLock.expect("unix files lock"))(inner(file), level)
}

unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    (inner_methods(file).xUnlock.expect("unix files unlock"))(inner(file), level)
}

unsafe extern "C" fn x_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    (inner_methods(file)
        .xCheckReservedLock
        .expect("unix files lock"))(inner(file), out)
}

unsafe extern "C" fn x_file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    (inner_methods(file)
        .xFileControl
        .expect("unix files take controls"))(inner(file), op, arg)
}

unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    (inner_methods(file)
        .xSectorSize
        .expect("unix files have sectors"))(inner(file))
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    (inner_methods(file)
        .xDeviceCharacteristics
        .expect("unix files describe their device"))(inner(file))
}

unsafe extern "C" fn x_shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    match inner_methods(file).xShmMap {
        Some(map) => map(inner(file), page, page_size, extend, out),
        None => ffi::SQLITE_IOERR_SHMMAP,
    }
}

unsafe extern "C" fn x_shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    match inner_methods(file).xShmLock {
        Some(lock) => lock(inner(file), offset, n, flags),
        None => ffi::SQLITE_IOERR_SHMLOCK,
    }
}

unsafe extern "C" fn x_shm_barrier(file: *mut ffi::sqlite3_file) {
    if let Some(barrier) = inner_methods(file).xShmBarrier {
        barrier(inner(file));
    }
}

unsafe extern "C" fn x_shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    match inner_methods(file).xShmUnmap {
        Some(unmap) => unmap(inner(file), delete),
        None => ffi::SQLITE_OK,
    }
}
