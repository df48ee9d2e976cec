//! The writer connection's VFS: SQLite's own `unix` VFS, except that the WAL file
//! gathers each commit's frames into one `pwrite` and can leave the commit's fsync
//! to the [`Syncer`](super::durability::Syncer).
//!
//! SQLite writes every WAL frame with two `pwrite` calls, a 24-byte header and the
//! page, so a 4 KiB page lands across two page-cache pages and a commit of sixty
//! pages costs 120 system calls; on the appliance's one-row-per-conversation
//! writes that was a third of the writer thread. Here frames written back to back
//! are kept in memory and written at once when SQLite syncs, reads, truncates,
//! asks the size of or closes the WAL, when a write does not follow the previous
//! one, or when [`MAX_GATHER`] bytes are waiting. SQLite syncs the WAL after a
//! commit's frames and before it publishes the commit in the WAL index, so no
//! other connection can look for a frame that is still here.
//!
//! That commit sync is also where SQLite, with `synchronous = FULL`, would wait
//! for the disk. While [`defer_commit_sync`] is in force on the calling thread
//! (the writer sets it around `COMMIT`), the first sync of the WAL only writes
//! the gathered frames and returns; the syncer's fsync follows before anyone is
//! told of the commit. Every other sync is real: the WAL header's when the WAL
//! restarts, and the ones a checkpoint makes before it copies frames into the
//! database file. Files other than the WAL are files of the base VFS (`unix`, or
//! the simulated disk's in the power-cut harness) untouched.
//!
//! Frames are gathered only inside such a COMMIT and before its sync; every other
//! write goes straight to the file. A database without power-safe overwrite
//! (`psow=0`) has SQLite pad a commit with writes after its sync, just before it
//! publishes the commit; those reach the file at once.

use super::vfs_shim::{self, inner, inner_methods};
use rusqlite::ffi;
use std::cell::Cell;
use std::ffi::{c_int, c_void, CStr};
use std::sync::OnceLock;

/// The name the writer connection opens its database with.
pub(super) const NAME: &str = "switchboard-writer";
const NAME_C: &CStr = c"switchboard-writer";
/// The same over a simulated disk (`disk`), for the power-cut harness.
pub(super) const SIM_NAME: &str = "switchboard-writer-sim";
const SIM_NAME_C: &CStr = c"switchboard-writer-sim";

/// Most bytes gathered before they are written anyway.
const MAX_GATHER: usize = 8 << 20;

thread_local! {
    static DEFER_COMMIT_SYNC: Cell<bool> = const { Cell::new(false) };
    /// fsyncs of a WAL passed on to the unix VFS by this thread (read by tests).
    static WAL_FSYNCS: Cell<u64> = const { Cell::new(0) };
}

/// Runs `commit` with the next WAL sync on this thread left to the syncer.
pub(super) fn defer_commit_sync<T>(commit: impl FnOnce() -> T) -> T {
    DEFER_COMMIT_SYNC.with(|d| d.set(true));
    let result = commit();
    // A commit that wrote nothing never syncs; the next sync must be real.
    DEFER_COMMIT_SYNC.with(|d| d.set(false));
    result
}

/// Registers the VFS over `unix` (once per process) and returns its name. Fails
/// only if SQLite has no `unix` VFS.
pub(super) fn register() -> Result<&'static str, String> {
    static REGISTERED: OnceLock<Result<&'static str, String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| unsafe { register_once(c"unix", NAME_C).map(|()| NAME) })
        .clone()
}

/// Registers the VFS over the simulated disk's VFS (once per process).
pub(super) fn register_sim() -> Result<&'static str, String> {
    static REGISTERED: OnceLock<Result<&'static str, String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            super::disk::register_vfs()?;
            unsafe { register_once(super::disk::VFS_NAME, SIM_NAME_C).map(|()| SIM_NAME) }
        })
        .clone()
}

struct Gather {
    /// File offset of `bytes[0]`.
    start: i64,
    bytes: Vec<u8>,
    /// The WAL header was just written: the next sync makes it durable for real.
    header_written: bool,
}

unsafe fn register_once(over: &CStr, name: &'static CStr) -> Result<(), String> {
    vfs_shim::register(over, name, x_open, None)
}

unsafe fn gather<'a>(file: *mut ffi::sqlite3_file) -> &'a mut Gather {
    vfs_shim::state(file)
}

unsafe extern "C" fn x_open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    if flags & ffi::SQLITE_OPEN_WAL == 0 {
        // Not the WAL: the base file takes the whole slot and its own methods.
        let base = vfs_shim::layer(vfs).base;
        return ((*base).xOpen.expect("the base VFS opens files"))(
            base, name, file, flags, out_flags,
        );
    }
    let gather = Gather {
        start: 0,
        bytes: Vec::new(),
        header_written: false,
    };
    vfs_shim::open_wrapped(vfs, name, file, flags, out_flags, methods, gather)
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

/// Largest write handed to the unix VFS: its `unixWrite` masks a length to 17 bits.
const MAX_UNIX_WRITE: usize = 31 * 4096;

/// Writes out what is gathered.
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    let g = gather(file);
    let write = inner_methods(file).xWrite.expect("unix files write");
    let mut rc = ffi::SQLITE_OK;
    let mut offset = g.start;
    for chunk in g.bytes.chunks(MAX_UNIX_WRITE) {
        // Chunks are at most MAX_UNIX_WRITE, which fits a c_int.
        rc = write(
            inner(file),
            chunk.as_ptr() as *const c_void,
            chunk.len() as c_int,
            offset,
        );
        if rc != ffi::SQLITE_OK {
            break;
        }
        offset += chunk.len() as i64;
    }
    g.bytes.clear();
    rc
}

/// Writes out what is gathered, then (if that worked) runs `then` on the file.
unsafe fn flushed(file: *mut ffi::sqlite3_file, then: impl FnOnce() -> c_int) -> c_int {
    match flush(file) {
        ffi::SQLITE_OK => then(),
        rc => rc,
    }
}

unsafe extern "C" fn x_write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let g = gather(file);
    let amount_len = usize::try_from(amount).unwrap_or(0);
    if offset == 0 {
        g.header_written = true;
    }
    let gathering = DEFER_COMMIT_SYNC.with(Cell::get);
    if !gathering || amount_len == 0 {
        return flushed(file, || {
            (inner_methods(file).xWrite.expect("unix files write"))(
                inner(file),
                data,
                amount,
                offset,
            )
        });
    }
    let follows = !g.bytes.is_empty() && offset == g.start + g.bytes.len() as i64;
    if !follows || g.bytes.len() + amount_len > MAX_GATHER {
        let rc = flush(file);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        g.start = offset;
    }
    g.bytes
        .extend_from_slice(std::slice::from_raw_parts(data as *const u8, amount_len));
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    let rc = flush(file);
    if rc != ffi::SQLITE_OK {
        return rc;
    }
    let g = gather(file);
    if std::mem::take(&mut g.header_written) {
        // The header of a restarted WAL is synced as SQLite asks, whatever else.
    } else if DEFER_COMMIT_SYNC.with(|d| d.replace(false)) {
        return ffi::SQLITE_OK;
    }
    WAL_FSYNCS.with(|n| n.set(n.get() + 1));
    (inner_methods(file).xSync.expect("unix files sync"))(inner(file), flags)
}

unsafe extern "C" fn x_close(file: *mut ffi::sqlite3_file) -> c_int {
    let flushed = flush(file);
    let closed = vfs_shim::close_wrapped::<Gather>(file);
    if flushed != ffi::SQLITE_OK {
        flushed
    } else {
        closed
    }
}

unsafe extern "C" fn x_read(
    file: *mut ffi::sqlite3_file,
    data: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    flushed(file, || {
        (inner_methods(file).xRead.expect("unix files read"))(inner(file), data, amount, offset)
    })
}

unsafe extern "C" fn x_truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    flushed(file, || {
        (inner_methods(file).xTruncate.expect("unix files truncate"))(inner(file), size)
    })
}

unsafe extern "C" fn x_file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    flushed(file, || {
        (inner_methods(file)
            .xFileSize
            .expect("unix files have a size"))(inner(file), size)
    })
}

unsafe extern "C" fn x_fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    flushed(file, || match inner_methods(file).xFetch {
        Some(fetch) => fetch(inner(file), offset, amount, out),
        None => {
            *out = std::ptr::null_mut();
            ffi::SQLITE_OK
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, OpenFlags};

    fn open(path: &std::path::Path) -> Connection {
        register().unwrap();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let conn = Connection::open_with_flags_and_vfs(path, flags, NAME).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)",
        )
        .unwrap();
        conn
    }

    fn insert(conn: &Connection, from: i64, n: i64) {
        for id in from..from + n {
            conn.execute(
                "INSERT INTO t(id, body) VALUES (?1, ?2)",
                rusqlite::params![id, format!("{id}-{}", "x".repeat(300))],
            )
            .unwrap();
        }
    }

    fn fsyncs() -> u64 {
        WAL_FSYNCS.with(Cell::get)
    }

    #[test]
    fn other_connections_read_what_gathered_writes_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let writer = open(&path);
        // A tiny page cache makes SQLite spill frames to the WAL mid-transaction
        // and read them back before COMMIT.
        writer.pragma_update(None, "cache_size", 10).unwrap();
        writer.execute_batch("BEGIN").unwrap();
        insert(&writer, 0, 2_000);
        writer.execute_batch("COMMIT").unwrap();
        writer.execute_batch("BEGIN").unwrap();
        insert(&writer, 10_000, 2_000);
        writer.execute_batch("ROLLBACK").unwrap();
        defer_commit_sync(|| {
            writer.execute_batch("BEGIN").unwrap();
            insert(&writer, 2_000, 500);
            writer.execute_batch("COMMIT").unwrap();
        });

        let reader = Connection::open(&path).unwrap();
        let (rows, max): (i64, i64) = reader
            .query_row("SELECT COUNT(*), MAX(id) FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!((rows, max), (2_500, 2_499));
        let check: String = reader
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        drop(writer);
        // After the writer closed, the database alone (checkpointed) holds it all.
        let rows: i64 = reader
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 2_500);
    }

    #[test]
    fn a_deferred_commit_skips_its_own_fsync_and_no_other() {
        let dir = tempfile::tempdir().unwrap();
        let writer = open(&dir.path().join("s.db"));
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        insert(&writer, 0, 1);

        let before = fsyncs();
        insert(&writer, 1, 1);
        assert_eq!(fsyncs() - before, 1, "a plain FULL commit fsyncs the WAL");

        let before = fsyncs();
        defer_commit_sync(|| insert(&writer, 2, 1));
        assert_eq!(fsyncs() - before, 0, "the deferred commit left its fsync");

        let before = fsyncs();
        defer_commit_sync(|| {
            writer.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0))
        })
        .unwrap();
        insert(&writer, 3, 1);
        assert_eq!(
            fsyncs() - before,
            1,
            "a deferral that found no commit does not carry over"
        );

        // A checkpoint's own fsyncs stay real, and so does the header of the WAL
        // that restarts after it.
        let before = fsyncs();
        writer
            .query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0))
            .unwrap();
        assert!(fsyncs() > before, "the checkpoint synced the WAL");
        let before = fsyncs();
        defer_commit_sync(|| insert(&writer, 4, 1));
        assert_eq!(
            fsyncs() - before,
            1,
            "the restarted WAL's header was synced"
        );
        let rows: i64 = writer
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 5);
    }

    #[test]
    fn a_commit_padded_after_its_sync_reaches_the_file_before_it_is_published() {
        register().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let uri = format!("file:{}?psow=0", dir.path().join("p.db").display());
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI;
        let writer = Connection::open_with_flags_and_vfs(&uri, flags, NAME).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "synchronous", "FULL").unwrap();
        writer
            .execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)")
            .unwrap();
        let reader = Connection::open(dir.path().join("p.db")).unwrap();
        for round in 0..20 {
            defer_commit_sync(|| {
                writer.execute_batch("BEGIN").unwrap();
                insert(&writer, round * 10, 10);
                writer.execute_batch("COMMIT").unwrap();
            });
            let rows: i64 = reader
                .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(rows, (round + 1) * 10);
        }
        let check: String = reader
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
}
