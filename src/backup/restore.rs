//! `switchboard restore FILE --data-dir DIR`: puts a backup in place of a stopped
//! server's database. Refuses a directory a server runs on (its lock is held), a file
//! that fails SQLite's integrity check, and a schema newer than this build knows.
//! The database it replaces (with its WAL) is moved aside, never deleted. The
//! backup's attachment files (its companion directory) are put back beside it.

use super::{BackupError, DataDirLock};
use crate::store::LATEST_SCHEMA_VERSION;
use rusqlite::{Connection, OpenFlags};
use std::fs::File;
use std::path::{Path, PathBuf};

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Schema version of the restored database (migrated further at the next start).
    pub schema_version: i64,
    /// Where the replaced database went; `None` when there was none.
    pub kept_aside: Option<PathBuf>,
}

/// Checks `file` and puts it in place as `<data_dir>/switchboard.db`.
pub fn restore(file: &Path, data_dir: &Path) -> Result<Restored, BackupError> {
    let _lock = DataDirLock::acquire(data_dir)?;
    let schema_version = check(file)?;
    let db = data_dir.join("switchboard.db");
    let kept_aside = if db.exists() {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%SZ")
            .to_string();
        let aside = data_dir.join(format!("switchboard.db.replaced-{stamp}"));
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", db.display()));
            if from.exists() {
                let to = PathBuf::from(format!("{}{suffix}", aside.display()));
                std::fs::rename(&from, &to).map_err(BackupError::io(&from))?;
            }
        }
        Some(aside)
    } else {
        None
    };
    let partial = data_dir.join("switchboard.db.restoring");
    std::fs::copy(file, &partial).map_err(BackupError::io(&partial))?;
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(BackupError::io(&partial))?;
    std::fs::rename(&partial, &db).map_err(BackupError::io(&db))?;
    File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(BackupError::io(data_dir))?;
    // Its attachment files, from the backup's companion directory.
    super::attachments::restore_companion(file, &db, data_dir)?;
    Ok(Restored {
        schema_version,
        kept_aside,
    })
}

/// The schema version of a sound Switchboard database at `file`.
pub fn check(file: &Path) -> Result<i64, BackupError> {
    if !file.is_file() {
        return Err(BackupError::Refused(format!(
            "{} is not a file",
            file.display()
        )));
    }
    let refused = |what: String| BackupError::Refused(format!("{}: {what}", file.display()));
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| refused(format!("cannot open as SQLite: {e}")))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| refused(format!("not a sound SQLite database: {e}")))?;
    if integrity != "ok" {
        return Err(refused(format!("integrity check failed: {integrity}")));
    }
    let version: i64 = conn
        .query_row(
            "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history",
            [],
            |r| r.get(0),
        )
        .map_err(|_| refused("not a Switchboard database (no schema history)".into()))?;
    if version < 1 {
        return Err(refused(
            "not a Switchboard database (no schema history)".into(),
        ));
    }
    if version > *LATEST_SCHEMA_VERSION {
        return Err(refused(format!(
            "written by a newer Switchboard (schema version {version}, this build knows up to {})",
            *LATEST_SCHEMA_VERSION
        )));
    }
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(path: &Path, version: i64) {
        let c = Connection::open(path).unwrap();
        c.execute_batch(
            "CREATE TABLE refinery_schema_history(version INTEGER PRIMARY KEY, name TEXT);",
        )
        .unwrap();
        c.execute(
            "INSERT INTO refinery_schema_history(version, name) VALUES (?1, 'x')",
            [version],
        )
        .unwrap();
    }

    #[test]
    fn refuses_what_is_not_a_sound_switchboard_database_of_a_known_version() {
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("garbage.db");
        std::fs::write(&garbage, vec![7u8; 8192]).unwrap();
        assert!(check(&garbage).unwrap_err().to_string().contains("SQLite"));
        let plain = dir.path().join("plain.db");
        Connection::open(&plain)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        assert!(check(&plain)
            .unwrap_err()
            .to_string()
            .contains("no schema history"));
        let newer = dir.path().join("newer.db");
        database(&newer, *LATEST_SCHEMA_VERSION + 1);
        assert!(check(&newer)
            .unwrap_err()
            .to_string()
            .contains("newer Switchboard"));
        let good = dir.path().join("good.db");
        database(&good, 1);
        assert_eq!(check(&good).unwrap(), 1);
        assert!(check(&dir.path().join("missing.db")).is_err());
    }

    #[test]
    fn keeps_the_replaced_database_aside_and_refuses_a_directory_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        database(&data.join("switchboard.db"), 1);
        let backup = dir.path().join("backup.db");
        database(&backup, 2);

        let held = DataDirLock::acquire(&data).unwrap();
        assert_eq!(restore(&backup, &data).unwrap_err().code(), "in_use");
        drop(held);

        let done = restore(&backup, &data).unwrap();
        assert_eq!(done.schema_version, 2);
        let aside = done.kept_aside.expect("the old database is kept");
        assert_eq!(check(&aside).unwrap(), 1, "the replaced database, intact");
        assert_eq!(check(&data.join("switchboard.db")).unwrap(), 2);
    }
}
