//! Embedded refinery migrations, run at open; a newer database is refused.

use super::{StoreError, StoreResult};
use rusqlite::Connection;

refinery::embed_migrations!("migrations");

/// The highest schema version this build knows.
pub static LATEST_SCHEMA_VERSION: std::sync::LazyLock<i64> = std::sync::LazyLock::new(|| {
    migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .max()
        .unwrap_or(0)
});

pub(super) fn run(conn: &mut Connection) -> StoreResult<()> {
    let applied: Option<i64> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='refinery_schema_history'",
            [],
            |_| Ok(()),
        )
        .ok()
        .map(|_| {
            conn.query_row(
                "SELECT COALESCE(MAX(version), 0) FROM refinery_schema_history",
                [],
                |r| r.get(0),
            )
        })
        .transpose()?;
    if let Some(found) = applied {
        if found > *LATEST_SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found,
                supported: *LATEST_SCHEMA_VERSION,
            });
        }
    }
    // Grouped: every pending migration and its history row commit in one
    // transaction. Refinery's default commits each migration apart from its history
    // row, so a crash between the two left a schema change applied but not recorded,
    // and every later start failed on it (`duplicate column name`; found by
    // `switchboard-load powercut --seed 1`).
    migrations::runner()
        .set_grouped(true)
        .run(conn)
        .map_err(|e| StoreError::Migration(e.to_string()))?;
    // V21's message index is filled from the events stored before it.
    super::message_index::carry_over(conn)?;
    Ok(())
}
