//! What the store's two wrapping SQLite VFSes share (`wal_vfs` for the writer,
//! `disk::vfs` for the simulated disk): registering a VFS over another one, the
//! layout of a wrapped file (SQLite's header, the layer, the wrapper's state, then
//! the base VFS's file), and the methods passed straight to the base file.

use rusqlite::ffi;
use std::ffi::{c_int, c_void, CStr};

/// The VFS a wrapper passes work on to, and where the base file sits in a slot.
pub(super) struct Layer {
    pub(super) base: *mut ffi::sqlite3_vfs,
    inner_offset: usize,
}

// SAFETY: the base VFS is SQLite's static or a leaked registration, never freed.
unsafe impl Send for Layer {}
unsafe impl Sync for Layer {}

/// The head of a wrapped file; the base VFS's file follows at `inner_offset`.
#[repr(C)]
pub(super) struct Wrapped<T> {
    pub(super) file: ffi::sqlite3_file,
    layer: *const Layer,
    pub(super) state: *mut T,
}

pub(super) type OpenFn = unsafe extern "C" fn(
    *mut ffi::sqlite3_vfs,
    ffi::sqlite3_filename,
    *mut ffi::sqlite3_file,
    c_int,
    *mut c_int,
) -> c_int;
pub(super) type DeleteFn =
    unsafe extern "C" fn(*mut ffi::sqlite3_vfs, *const std::ffi::c_char, c_int) -> c_int;

/// Registers `name`: the VFS `over` with `open` (and `delete`) replaced.
///
/// # Safety
/// Call once per name; `open` must lay files out as [`Wrapped`].
pub(super) unsafe fn register(
    over: &CStr,
    name: &'static CStr,
    open: OpenFn,
    delete: Option<DeleteFn>,
) -> Result<(), String> {
    let base = ffi::sqlite3_vfs_find(over.as_ptr());
    if base.is_null() {
        return Err(format!("SQLite has no {over:?} VFS"));
    }
    let align = std::mem::align_of::<u64>();
    let inner_offset = std::mem::size_of::<Wrapped<()>>().div_ceil(align) * align;
    let layer: &'static Layer = Box::leak(Box::new(Layer { base, inner_offset }));
    let mut vfs: ffi::sqlite3_vfs = std::ptr::read(base);
    vfs.szOsFile = (*base).szOsFile + inner_offset as c_int;
    vfs.pNext = std::ptr::null_mut();
    vfs.zName = name.as_ptr();
    vfs.pAppData = layer as *const Layer as *mut c_void;
    vfs.xOpen = Some(open);
    if delete.is_some() {
        vfs.xDelete = delete;
    }
    let vfs = Box::leak(Box::new(vfs));
    match ffi::sqlite3_vfs_register(vfs, 0) {
        ffi::SQLITE_OK => Ok(()),
        rc => Err(format!(
            "cannot register the {name:?} VFS (SQLite code {rc})"
        )),
    }
}

/// The layer of a VFS registered by [`register`].
pub(super) unsafe fn layer<'a>(vfs: *mut ffi::sqlite3_vfs) -> &'a Layer {
    &*((*vfs).pAppData as *const Layer)
}

/// Opens the base file under a wrapped one and installs `methods` and `state`.
/// Nothing is installed (and `state` is dropped) if the base open fails.
pub(super) unsafe fn open_wrapped<T>(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
    methods: fn(c_int) -> *const ffi::sqlite3_io_methods,
    state: T,
) -> c_int {
    let layer = layer(vfs);
    let wrapped = file as *mut Wrapped<T>;
    (*wrapped).file.pMethods = std::ptr::null();
    (*wrapped).layer = layer;
    (*wrapped).state = std::ptr::null_mut();
    let open = (*layer.base).xOpen.expect("the base VFS opens files");
    let rc = open(layer.base, name, inner(file), flags, out_flags);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    (*wrapped).state = Box::into_raw(Box::new(state));
    (*wrapped).file.pMethods = methods(inner_methods(file).iVersion);
    ffi::SQLITE_OK
}

/// Closes the base file and frees the wrapper's state.
pub(super) unsafe fn close_wrapped<T>(file: *mut ffi::sqlite3_file) -> c_int {
    let closed = (inner_methods(file).xClose.expect("base files close"))(inner(file));
    let wrapped = file as *mut Wrapped<T>;
    drop(Box::from_raw((*wrapped).state));
    (*wrapped).state = std::ptr::null_mut();
    closed
}

pub(super) unsafe fn inner(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    let layer = &*(*(file as *mut Wrapped<()>)).layer;
    (file as *mut u8).add(layer.inner_offset) as *mut ffi::sqlite3_file
}

pub(super) unsafe fn inner_methods(
    file: *mut ffi::sqlite3_file,
) -> &'static ffi::sqlite3_io_methods {
    &*(*inner(file)).pMethods
}

pub(super) unsafe fn state<'a, T>(file: *mut ffi::sqlite3_file) -> &'a mut T {
    &mut *(*(file as *mut Wrapped<T>)).state
}

/// The methods a wrapper implements itself; the rest go to the base file.
pub(super) struct Own {
    pub(super) close: unsafe extern "C" fn(*mut ffi::sqlite3_file) -> c_int,
    pub(super) read: unsafe extern "C" fn(*mut ffi::sqlite3_file, *mut c_void, c_int, i64) -> c_int,
    pub(super) write:
        unsafe extern "C" fn(*mut ffi::sqlite3_file, *const c_void, c_int, i64) -> c_int,
    pub(super) truncate: unsafe extern "C" fn(*mut ffi::sqlite3_file, i64) -> c_int,
    pub(super) sync: unsafe extern "C" fn(*mut ffi::sqlite3_file, c_int) -> c_int,
    pub(super) file_size: unsafe extern "C" fn(*mut ffi::sqlite3_file, *mut i64) -> c_int,
    pub(super) fetch:
        unsafe extern "C" fn(*mut ffi::sqlite3_file, i64, c_int, *mut *mut c_void) -> c_int,
}

pub(super) fn methods(version: c_int, own: Own) -> ffi::sqlite3_io_methods {
    ffi::sqlite3_io_methods {
        iVersion: version,
        xClose: Some(own.close),
        xRead: Some(own.read),
        xWrite: Some(own.write),
        xTruncate: Some(own.truncate),
        xSync: Some(own.sync),
        xFileSize: Some(own.file_size),
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
        xFetch: Some(own.fetch),
        xUnfetch: Some(x_unfetch),
    }
}

unsafe extern "C" fn x_unfetch(file: *mut ffi::sqlite3_file, offset: i64, p: *mut c_void) -> c_int {
    match inner_methods(file).xUnfetch {
        Some(unfetch) => unfetch(inner(file), offset, p),
        None => ffi::SQLITE_OK,
    }
}

unsafe extern "C" fn x_lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    (inner_methods(file).xLock.expect("base files lock"))(inner(file), level)
}

unsafe extern "C" fn x_unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    (inner_methods(file).xUnlock.expect("base files unlock"))(inner(file), level)
}

unsafe extern "C" fn x_check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    (inner_methods(file)
        .xCheckReservedLock
        .expect("base files lock"))(inner(file), out)
}

unsafe extern "C" fn x_file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    (inner_methods(file)
        .xFileControl
        .expect("base files take controls"))(inner(file), op, arg)
}

unsafe extern "C" fn x_sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    (inner_methods(file)
        .xSectorSize
        .expect("base files have sectors"))(inner(file))
}

unsafe extern "C" fn x_device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    (inner_methods(file)
        .xDeviceCharacteristics
        .expect("base files describe their device"))(inner(file))
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
