//! Attachment files in backups. A backup `switchboard-<time>.db` of a site with
//! attachments has a companion directory `switchboard-<time>.db.files/attachments/`
//! laid out as the data directory's, holding (hard links to, or copies of) every file
//! the backup's `attachments` rows name. It is complete before the backup file gets
//! its final name; restore puts its files back beside the restored database.

use super::BackupError;
use crate::attachments::files::Files;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// The companion directory of backup file `backup`.
pub fn companion(backup: &Path) -> PathBuf {
    PathBuf::from(format!("{}.files", backup.display()))
}

/// The hashes the `attachments` rows of database `db` name (none before V12).
fn hashes(db: &Path) -> Result<Vec<String>, BackupError> {
    let refused = |e: rusqlite::Error| BackupError::Refused(format!("{}: {e}", db.display()));
    let conn =
        Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(refused)?;
    let has_table: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attachments')",
            [],
            |r| r.get(0),
        )
        .map_err(refused)?;
    if !has_table {
        return Ok(Vec::new());
    }
    let mut stmt = conn
        .prepare("SELECT DISTINCT sha256 FROM attachments")
        .map_err(refused)?;
    let rows = stmt.query_map([], |r| r.get(0)).map_err(refused)?;
    rows.collect::<Result<Vec<String>, _>>().map_err(refused)
}

/// Puts the files database `db` names from `from` (a data directory or a companion)
/// into `to`; returns how many it names. A file missing from `from` (purged since the
/// snapshot) is skipped.
fn carry(db: &Path, from: &Path, to: &Path) -> Result<usize, BackupError> {
    let names = hashes(db)?;
    let (source, dest) = (Files::new(from), Files::new(to));
    for hash in &names {
        dest.import(&source, hash)
            .map_err(BackupError::io(dest.root()))?;
    }
    Ok(names.len())
}

/// Writes the companion of the backup being made at `partial_db` (final name
/// `final_db`) from `data_dir`, under a temporary name renamed when complete.
pub fn write_companion(
    partial_db: &Path,
    final_db: &Path,
    data_dir: &Path,
) -> Result<(), BackupError> {
    let done = companion(final_db);
    let partial = PathBuf::from(format!("{}.partial", done.display()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial).map_err(BackupError::io(&partial))?;
    carry(partial_db, data_dir, &partial)?;
    let _ = std::fs::remove_dir_all(&done);
    std::fs::rename(&partial, &done).map_err(BackupError::io(&done))?;
    Ok(())
}

/// Restores the files of backup `file` (restored as `db`) into `data_dir`, when the
/// backup has a companion.
pub fn restore_companion(file: &Path, db: &Path, data_dir: &Path) -> Result<usize, BackupError> {
    let from = companion(file);
    if !from.is_dir() {
        return Ok(0);
    }
    carry(db, &from, data_dir)
}

/// Removes the companion of a pruned backup.
pub fn remove_companion(backup: &Path) -> Result<(), BackupError> {
    let dir = companion(backup);
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(BackupError::io(&dir)(e)),
    }
}
