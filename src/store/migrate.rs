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
    // The message index made by V24 or V30 is filled from the events stored before it.
    super::message_index::carry_over(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::event_keys;
    use refinery::Target;

    #[test]
    fn v30_stores_the_ids_of_open_task_memos_as_events_store_theirs() {
        let mut c = Connection::open_in_memory().unwrap();
        migrations::runner()
            .set_grouped(true)
            .set_target(Target::Version(29))
            .run(&mut c)
            .unwrap();
        let task = "816c7223-8c6a-46c4-947c-c5c80689beaf";
        let conversation = "01a249e8-128f-76cb-a1d7-0691b196cf41";
        let agent = "39fce3e5-b659-4245-9a97-56cb1ecc7e28";
        c.execute(
            "INSERT INTO report_tasks(task_id, conversation_id, queue_id, offered_in,
                 media_state, assigned_to, answered)
             VALUES (?1, ?2, 'queue-1', NULL, 'ACTIVE', ?3, 1)",
            [task, conversation, agent],
        )
        .unwrap();
        run(&mut c).unwrap();
        let (found, queue, offered, assigned): (String, String, Option<String>, String) = c
            .query_row(
                "SELECT conversation_id, queue_id, offered_in, assigned_to FROM report_tasks
                 WHERE task_id = ?1",
                [event_keys::id(task)],
                |r| {
                    Ok((
                        event_keys::read_id(r.get_ref(0)?).unwrap(),
                        event_keys::read_id(r.get_ref(1)?).unwrap(),
                        event_keys::read_optional_id(r.get_ref(2)?).unwrap(),
                        event_keys::read_id(r.get_ref(3)?).unwrap(),
                    ))
                },
            )
            .unwrap();
        assert_eq!(
            (found.as_str(), queue.as_str(), offered, assigned.as_str()),
            (conversation, "queue-1", None, agent)
        );
        let blobs: i64 = c
            .query_row(
                "SELECT (typeof(task_id) = 'blob') + (typeof(conversation_id) = 'blob')
                      + (typeof(assigned_to) = 'blob') + (typeof(queue_id) = 'blob')
                 FROM report_tasks",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(blobs, 3, "UUIDs as 16 bytes, another id as it was");
    }
}
