//! The database's size by table, for an operator planning disk (`switchboard
//! db-size`): bytes of each table with its indexes (SQLite's `dbstat`), row counts,
//! and the average bytes a conversation and a message cost.

use super::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Tables holding what conversations cost: their rows, events (`cim_events` before
/// migration V10), shared objects, the search index of their messages, routing tasks,
/// their log and the routing input journal, report bookkeeping, outbound deliveries, ratings, and the customers
/// they bring.
const CONVERSATION_TABLES: &[&str] = &[
    "conversations",
    "conversation_keys",
    "conversation_runtime",
    "channel_sessions",
    "participants",
    "cim_events",
    "cim_event_rows",
    "cim_objects",
    "tasks",
    "task_media",
    "task_log",
    "routing_journal",
    "report_tasks",
    "outbox",
    "csat",
    "customers",
    "customer_identifiers",
];

/// The full-text index of message texts (migrations V9, V24, V30) is these tables.
const SEARCH_INDEX_PREFIX: &str = "message_text";

/// Conversations whose messages are read to estimate the average message text.
const TEXT_SAMPLE_CONVERSATIONS: i64 = 200;

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TableSize {
    pub name: String,
    pub rows: i64,
    /// Pages of the table and its indexes, free space in them included.
    pub bytes: i64,
    /// Bytes of its indexes alone.
    pub index_bytes: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SizeReport {
    /// The database file (`page_count × page_size`), without the WAL.
    pub database_bytes: i64,
    /// Pages on the free list (reused before the file grows).
    pub free_bytes: i64,
    pub wal_bytes: u64,
    pub tables: Vec<TableSize>,
    pub conversations: i64,
    pub events: i64,
    pub messages: i64,
    /// Bytes of the conversation tables per conversation.
    pub bytes_per_conversation: Option<f64>,
    /// Bytes of the conversation tables per message (every other event and row of a
    /// conversation shared out over its messages).
    pub bytes_per_message: Option<f64>,
    /// Bytes of the events (with their indexes) per event.
    pub bytes_per_event: Option<f64>,
    /// What a message costs beyond its text: its event row's share of the events'
    /// bytes (by stored length) and of the search index, less the average text
    /// (read from the messages of the latest conversations).
    pub message_overhead: Option<f64>,
}

/// The size report of the database at `path`, read through a read-only connection
/// (the appliance may be running).
pub fn report_at(path: &Path) -> StoreResult<SizeReport> {
    if !path.exists() {
        return Err(StoreError::NotFound(format!("database {}", path.display())));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_bytes = std::fs::metadata(&wal).map_or(0, |m| m.len());
    let mut report = report(&conn)?;
    report.wal_bytes = wal_bytes;
    Ok(report)
}

pub fn report(conn: &Connection) -> StoreResult<SizeReport> {
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    let page_count: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let free_pages: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
    // Every b-tree with the table it belongs to. A virtual table owns no pages (its
    // shadow tables, e.g. `message_text_data`, are listed with theirs) and the message
    // index cannot even be counted (contentless, without sizes: migration V30).
    let owners: Vec<(String, String, String)> = conn
        .prepare(
            "SELECT name, tbl_name, type FROM sqlite_master WHERE type IN ('table', 'index')
             AND COALESCE(sql, '') NOT LIKE 'CREATE VIRTUAL TABLE%'",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    let sizes: BTreeMap<String, i64> = conn
        .prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut tables: BTreeMap<String, TableSize> = BTreeMap::new();
    for (name, table, kind) in &owners {
        let bytes = sizes.get(name).copied().unwrap_or(0);
        let entry = tables.entry(table.clone()).or_insert_with(|| TableSize {
            name: table.clone(),
            rows: 0,
            bytes: 0,
            index_bytes: 0,
        });
        entry.bytes += bytes;
        if kind == "index" {
            entry.index_bytes += bytes;
        }
    }
    // Indexes SQLite makes for UNIQUE and PRIMARY KEY constraints are in dbstat
    // under names sqlite_master lists too (sqlite_autoindex_*), so all are counted.
    for table in tables.values_mut() {
        let quoted = table.name.replace('"', "\"\"");
        table.rows = conn.query_row(&format!("SELECT COUNT(*) FROM \"{quoted}\""), [], |r| {
            r.get(0)
        })?;
    }
    let mut tables: Vec<TableSize> = tables.into_values().collect();
    tables.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
    let rows_of = |name: &str| tables.iter().find(|t| t.name == name).map_or(0, |t| t.rows);
    let bytes_of = |keep: &dyn Fn(&str) -> bool| -> i64 {
        tables
            .iter()
            .filter(|t| keep(&t.name))
            .map(|t| t.bytes)
            .sum()
    };
    let conversations = rows_of("conversations");
    // A table before V10, a view after (then not among the b-trees).
    let events = rows_of("cim_events") + rows_of("cim_event_rows");
    let (messages, message_len, all_len): (i64, f64, f64) = conn.query_row(
        "SELECT COALESCE(SUM(type = 'MESSAGE'), 0),
                COALESCE(SUM(CASE WHEN type = 'MESSAGE' THEN len END), 0),
                COALESCE(SUM(len), 0)
         FROM (SELECT type, length(id) + length(name) + length(type) + length(event)
                            + COALESCE(length(message_id), 0) + COALESCE(length(runtime), 0)
                            + 16 AS len
               FROM cim_events)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let is_search = |name: &str| name.starts_with(SEARCH_INDEX_PREFIX);
    let conversation_bytes =
        bytes_of(&|name| CONVERSATION_TABLES.contains(&name) || is_search(name));
    let event_bytes = bytes_of(&|name| name == "cim_events" || name == "cim_event_rows");
    let search_bytes = bytes_of(&is_search);
    let per = |bytes: i64, n: i64| (n > 0).then(|| bytes as f64 / n as f64);
    let message_overhead = match (messages > 0 && all_len > 0.0, average_text(conn)?) {
        (true, Some(text)) => {
            let share = event_bytes as f64 * message_len / all_len + search_bytes as f64;
            Some(share / messages as f64 - text)
        }
        _ => None,
    };
    Ok(SizeReport {
        database_bytes: page_size * page_count,
        free_bytes: page_size * free_pages,
        wal_bytes: 0,
        tables,
        conversations,
        events,
        messages,
        bytes_per_conversation: per(conversation_bytes, conversations),
        bytes_per_message: per(conversation_bytes, messages),
        bytes_per_event: per(event_bytes, events),
        message_overhead,
    })
}

/// The average length of a message's text (`data.body.markdownText`, 0 when it has
/// none), over the messages of the latest conversations.
fn average_text(conn: &Connection) -> StoreResult<Option<f64>> {
    let packed: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'cim_event_rows')",
        [],
        |r| r.get(0),
    )?;
    if !packed {
        // A database not migrated to V10 yet: its texts are JSON after a tag at most.
        let average: Option<f64> = conn.query_row(
            "SELECT AVG(COALESCE(length(CASE WHEN json_valid(j)
                                             THEN json_extract(j, '$.data.body.markdownText') END), 0))
             FROM (SELECT CASE WHEN substr(event, 1, 1) = '{' THEN event ELSE substr(event, 2) END AS j
                   FROM cim_events WHERE type = 'MESSAGE' ORDER BY pos DESC LIMIT 10000)",
            [],
            |r| r.get(0),
        )?;
        return Ok(average);
    }
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM conversations ORDER BY creation_time DESC LIMIT ?1")?
        .query_map([TEXT_SAMPLE_CONVERSATIONS], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let (mut total, mut count) = (0usize, 0usize);
    for id in ids {
        for event in super::events::since(conn, &id, 0)? {
            if event.get("type").and_then(serde_json::Value::as_str) == Some("MESSAGE") {
                let text = event.pointer("/data/body/markdownText");
                total += text.and_then(serde_json::Value::as_str).map_or(0, str::len);
                count += 1;
            }
        }
    }
    Ok((count > 0).then(|| total as f64 / count as f64))
}

impl std::fmt::Display for SizeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let avg = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0} B"));
        writeln!(
            f,
            "database {} B (free {} B), WAL {} B",
            self.database_bytes, self.free_bytes, self.wal_bytes
        )?;
        writeln!(
            f,
            "{:<28} {:>10} {:>14} {:>14}",
            "table", "rows", "bytes", "of which index"
        )?;
        for t in &self.tables {
            writeln!(
                f,
                "{:<28} {:>10} {:>14} {:>14}",
                t.name, t.rows, t.bytes, t.index_bytes
            )?;
        }
        writeln!(
            f,
            "conversations {}, events {}, messages {}",
            self.conversations, self.events, self.messages
        )?;
        write!(
            f,
            "per conversation {}, per message {}, per event {}, per message beyond its text {}",
            avg(self.bytes_per_conversation),
            avg(self.bytes_per_message),
            avg(self.bytes_per_event),
            avg(self.message_overhead)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sized_with_their_indexes_and_averages_follow() {
        let conn = crate::store::test_connection();
        conn.execute_batch(
            "INSERT INTO customers(id, created_at) VALUES ('cu', 1);
             INSERT INTO conversations(id, customer_id, room_id, state, snapshot, creation_time, updated_at)
                 VALUES ('c1', 'cu', 'r', 'ACTIVE', '{}', 1, 1);
             INSERT INTO cim_events(id, conversation_id, seq, name, type, timestamp, event)
                 VALUES ('e1', 'c1', 1, 'CUSTOMER_MESSAGE', 'MESSAGE', 1,
                         '{\"type\":\"MESSAGE\",\"data\":{\"body\":{\"markdownText\":\"hello\"}}}'),
                        ('e2', 'c1', 2, 'TASK_ENQUEUED', 'NOTIFICATION', 1, '{}');",
        )
        .unwrap();
        let report = report(&conn).unwrap();
        let events = report
            .tables
            .iter()
            .find(|t| t.name == "cim_event_rows")
            .unwrap();
        assert_eq!(events.rows, 2);
        assert!(
            events.index_bytes > 0 && events.bytes > events.index_bytes,
            "{events:?}"
        );
        assert_eq!(
            (report.conversations, report.events, report.messages),
            (1, 2, 1)
        );
        let per_conversation = report.bytes_per_conversation.unwrap();
        assert_eq!(report.bytes_per_message.unwrap(), per_conversation);
        assert_eq!(report.bytes_per_event.unwrap(), events.bytes as f64 / 2.0);
        let total: i64 = report.tables.iter().map(|t| t.bytes).sum();
        assert!(
            total <= report.database_bytes,
            "{total} > {}",
            report.database_bytes
        );
        // The message's share of the events and the search index, less its 5 bytes.
        let search: i64 = report
            .tables
            .iter()
            .filter(|t| t.name.starts_with("message_text"))
            .map(|t| t.bytes)
            .sum();
        assert!(search > 0, "the message is indexed");
        let overhead = report.message_overhead.unwrap();
        assert!(
            overhead > search as f64 && overhead < (events.bytes + search) as f64,
            "{overhead}"
        );
        assert!(report.to_string().contains("cim_event_rows"));
    }

    #[test]
    fn a_missing_database_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let err = report_at(&dir.path().join("none.db")).unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
    }
}
