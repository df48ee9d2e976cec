//! The sweep of shared objects (`cim_objects`) that no stored row refers to any more:
//! what a purge or an erasure leaves behind when it removes the events that were the
//! last to name an old version of a channel session, a message's sender, header or
//! channel data (with the customer's name and identifiers in them).
//!
//! 1. **Fence**: a write turns on, on the store's writer thread, the noting of every
//!    object id a write hands out from then on (`objects::Interner::intern` calls [`note`]: objects it stored,
//!    found or took a delta base from), so an object that a live chat comes to use
//!    again while the sweep runs is kept.
//! 2. **Mark** (a read transaction, off the writer): every row text that may refer to
//!    objects ([`HOLDERS`]) gives its references (`object_refs`; a task-log fact
//!    stored as its byte code, `task_facts::refs`), and the objects
//!    reached give theirs in turn; shapes are kept but hold no references.
//! 3. **Sweep** (bounded writes of [`BATCH`] objects): the objects the mark did not
//!    reach are deleted, a batch per write transaction so the writer is never held
//!    for long; each batch first keeps what the fence noted since (and what those
//!    objects refer to). Objects stored after the mark began are never candidates.
//!
//! Deleting a stored object clears the writer's object cache (its update hook, see
//! `writer`), so a swept id is never handed out again from it. One sweep runs at a
//! time per process.

use super::object_refs::{Ref, RefReader};
use super::task_facts;
use super::{Store, StoreResult};
use parking_lot::Mutex;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::cell::RefCell;
use std::collections::HashSet;
use std::sync::Arc;

/// Row texts that may refer to shared objects: (table, column).
pub const HOLDERS: &[(&str, &str)] = &[
    ("cim_event_rows", "event"),
    ("cim_event_rows", "runtime"),
    ("conversations", "data"),
    ("conversations", "metadata"),
    ("conversations", "timers"),
    ("conversations", "snapshot"),
    ("conversation_runtime", "timers"),
    ("channel_sessions", "session"),
    ("participants", "participant"),
    ("tasks", "snapshot"),
    ("agent_views", "view"),
    ("task_log", "fact"),
    ("outbox", "payload"),
    // Its packed inputs' shapes (migration V21, `journal`).
    ("routing_journal", "input"),
];

/// Objects deleted per write transaction.
pub const BATCH: usize = 2_000;

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Objects in the table when the mark began.
    pub objects: u64,
    /// Objects deleted.
    pub deleted: u64,
    /// Objects the fence kept (a write came to use them during the sweep).
    pub kept: u64,
}

thread_local! {
    /// The object ids noted since the fence went up, on the thread that raised it:
    /// the store's writer, the one thread that writes references (one fence per store).
    static NOTED: RefCell<Option<Vec<i64>>> = const { RefCell::new(None) };
}
static RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Notes object ids a write refers to, while a sweep's fence is up.
pub(super) fn note(ids: impl IntoIterator<Item = i64>) {
    NOTED.with(|n| {
        if let Some(noted) = n.borrow_mut().as_mut() {
            noted.extend(ids);
        }
    });
}

/// Whether a sweep's fence is up (writes' object ids are noted).
pub(super) fn fence_up() -> bool {
    NOTED.with(|n| n.borrow().is_some())
}

/// Runs in a write: from it on, every write's objects are noted.
fn raise_fence(_: &Connection) -> StoreResult<()> {
    NOTED.with(|n| *n.borrow_mut() = Some(Vec::new()));
    Ok(())
}

/// Runs in a write: the noting stops.
fn lower_fence(_: &Connection) -> StoreResult<()> {
    NOTED.with(|n| *n.borrow_mut() = None);
    Ok(())
}

/// What the fence noted since the last take (on the writer).
fn take_noted() -> Vec<i64> {
    NOTED.with(|n| {
        n.borrow_mut()
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    })
}

/// What the mark found unreferenced, and what the fence has rescued since.
#[derive(Default)]
struct Candidates {
    objects: u64,
    garbage: Vec<i64>,
    set: HashSet<i64>,
    rescued: HashSet<i64>,
}

/// The mark, in one read transaction on `c`: the ids of the objects no row refers
/// to, directly or through other objects.
fn mark(c: &Connection) -> StoreResult<Candidates> {
    let _snapshot = c.unchecked_transaction()?;
    let max: i64 = c.query_row("SELECT COALESCE(MAX(id), 0) FROM cim_objects", [], |r| {
        r.get(0)
    })?;
    let size = usize::try_from(max.max(0)).unwrap_or(0) + 1;
    let mut live = vec![false; size];
    let mut traversed = vec![false; size];
    let mut reader = RefReader::new(c);
    let mut found = Vec::new();
    let mut stack = Vec::new();
    let mut reach = |found: &mut Vec<Ref>, stack: &mut Vec<i64>| {
        for r in found.drain(..) {
            let (id, object) = match r {
                Ref::Object(id) => (id, true),
                Ref::Shape(id) => (id, false),
            };
            let Some(i) = usize::try_from(id).ok().filter(|i| *i < size) else {
                continue;
            };
            live[i] = true;
            if object && !traversed[i] {
                traversed[i] = true;
                stack.push(id);
            }
        }
    };
    for (table, column) in HOLDERS {
        let mut st = c.prepare(&format!(
            "SELECT {column} FROM {table} WHERE {column} IS NOT NULL"
        ))?;
        let mut rows = st.query([])?;
        while let Some(row) = rows.next()? {
            match row.get_ref(0)? {
                // A task-log fact's byte code refers to its ids' objects.
                ValueRef::Blob(code) if *table == "task_log" => {
                    found.extend(task_facts::refs(code)?.into_iter().map(Ref::Object));
                    reach(&mut found, &mut stack);
                }
                value => {
                    if let Ok(text) = value.as_str() {
                        reader.refs(text, &mut found)?;
                        reach(&mut found, &mut stack);
                    }
                }
            }
        }
    }
    while let Some(id) = stack.pop() {
        if let Some(body) = reader.body(id)? {
            reader.refs(&body, &mut found)?;
            reach(&mut found, &mut stack);
        }
    }
    let mut out = Candidates::default();
    let mut st = c.prepare("SELECT id FROM cim_objects ORDER BY id")?;
    let mut rows = st.query([])?;
    while let Some(row) = rows.next()? {
        let id: i64 = row.get(0)?;
        out.objects += 1;
        let unreached = usize::try_from(id)
            .ok()
            .and_then(|i| live.get(i))
            .is_some_and(|l| !l);
        if unreached {
            out.garbage.push(id);
            out.set.insert(id);
        }
    }
    Ok(out)
}

/// Deletes `chunk` (candidates) but what the fence noted, in the caller's write.
fn sweep_batch(c: &Connection, chunk: &[i64], cand: &Mutex<Candidates>) -> StoreResult<u64> {
    let noted = take_noted();
    let mut cand = cand.lock();
    let mut reader = RefReader::new(c);
    let mut stack = noted;
    let mut found = Vec::new();
    while let Some(id) = stack.pop() {
        if !cand.set.contains(&id) || !cand.rescued.insert(id) {
            continue;
        }
        // Kept: and so is what it refers to.
        if let Some(body) = reader.body(id)? {
            if reader.refs(&body, &mut found).is_err() {
                // A shape's body is no reference text: nothing more to keep.
                found.clear();
            }
            stack.extend(found.drain(..).map(|r| match r {
                Ref::Object(id) | Ref::Shape(id) => id,
            }));
        }
    }
    let mut deleted = 0;
    let mut st = c.prepare_cached("DELETE FROM cim_objects WHERE id = ?1")?;
    for id in chunk {
        if !cand.rescued.contains(id) {
            deleted += st.execute([id])? as u64;
        }
    }
    Ok(deleted)
}

/// Sweeps the unreferenced objects of `store` (see the module doc).
pub async fn run(store: &Store) -> StoreResult<Swept> {
    let _one = RUNNING.lock().await;
    store.write(raise_fence).await?;
    let result = async {
        let cand = store.read(mark).await?;
        let (garbage, objects) = (cand.garbage.clone(), cand.objects);
        let cand = Arc::new(Mutex::new(cand));
        let mut deleted = 0;
        for chunk in garbage.chunks(BATCH) {
            let chunk = chunk.to_vec();
            let cand = cand.clone();
            deleted += store.write(move |c| sweep_batch(c, &chunk, &cand)).await?;
            tokio::task::yield_now().await;
        }
        let kept = cand.lock().rescued.len() as u64;
        Ok(Swept {
            objects,
            deleted,
            kept,
        })
    }
    .await;
    store.write(lower_fence).await?;
    result
}

/// [`run`] from a thread outside the async runtime (`switchboard purge`).
pub fn run_blocking(store: &Store) -> StoreResult<Swept> {
    let _one = RUNNING.blocking_lock();
    store.write_blocking(raise_fence)?;
    let result = (|| {
        let cand = store.read_blocking(mark)?;
        let (garbage, objects) = (cand.garbage.clone(), cand.objects);
        let cand = Arc::new(Mutex::new(cand));
        let mut deleted = 0;
        for chunk in garbage.chunks(BATCH) {
            let chunk = chunk.to_vec();
            let cand = cand.clone();
            deleted += store.write_blocking(move |c| sweep_batch(c, &chunk, &cand))?;
        }
        let kept = cand.lock().rescued.len() as u64;
        Ok(Swept {
            objects,
            deleted,
            kept,
        })
    })();
    store.write_blocking(lower_fence)?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::objects::{Inflater, Interner};
    use serde_json::{json, Value};

    fn session(name: &str) -> Value {
        json!({"note": "x", "channelSession": {"participantType": "ChannelSession",
               "id": format!("s-{name}"), "customer": {"_id": name, "firstName": name}}})
    }

    /// Stores `value` compact in a `task_log` row (a holder) when `keep`, else only
    /// its objects; returns the text.
    fn put(c: &Connection, value: Value, keep: bool) -> StoreResult<String> {
        let text = Interner::default().compact(c, value)?;
        if keep {
            c.execute(
                "INSERT INTO task_log(task, conv, at, fact) VALUES ('t', 1, 1, ?1)",
                [&text],
            )?;
        }
        Ok(text)
    }

    fn count(c: &Connection) -> StoreResult<i64> {
        Ok(c.query_row("SELECT COUNT(*) FROM cim_objects", [], |r| r.get(0))?)
    }

    #[test]
    fn unreferenced_objects_go_and_objects_used_again_during_the_sweep_stay() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            &dir.path().join("t.db"),
            &crate::config::StoreConfig::default(),
        )
        .unwrap();
        let kept = store
            .write_blocking(|c| {
                put(c, session("gone"), false)?;
                put(c, session("back"), false)?;
                put(c, session("kept"), true)
            })
            .unwrap();
        let _one = RUNNING.blocking_lock();
        store.write_blocking(raise_fence).unwrap();
        let cand = store.read_blocking(mark).unwrap();
        // Each unkept value left its session and customer objects behind (the shape
        // is shared with the kept one).
        assert_eq!(cand.garbage.len(), 4, "{:?}", cand.garbage);
        let total = cand.objects as i64;
        // A write uses the "back" objects again while the sweep runs.
        let back = store
            .write_blocking(|c| put(c, session("back"), true))
            .unwrap();
        let cand = Arc::new(Mutex::new(cand));
        let chunk = cand.lock().garbage.clone();
        let c2 = cand.clone();
        let deleted = store
            .write_blocking(move |c| sweep_batch(c, &chunk, &c2))
            .unwrap();
        store.write_blocking(lower_fence).unwrap();
        assert_eq!(deleted, 2);
        assert_eq!(cand.lock().rescued.len(), 2);
        store
            .read_blocking(move |c| {
                assert_eq!(count(c)?, total - 2);
                let mut inflater = Inflater::new(c);
                let back = inflater.decode(&back, "t")?;
                assert_eq!(back["channelSession"]["customer"]["firstName"], "back");
                let kept = inflater.decode(&kept, "t")?;
                assert_eq!(kept["channelSession"]["customer"]["firstName"], "kept");
                let gone: i64 = c.query_row(
                    "SELECT COUNT(*) FROM cim_objects WHERE instr(body, 'gone') > 0",
                    [],
                    |r| r.get(0),
                )?;
                assert_eq!(gone, 0);
                Ok(())
            })
            .unwrap();
        drop(_one);
        // A sweep now finds nothing more.
        let again = run_blocking(&store).unwrap();
        assert_eq!(again.deleted, 0);
        store.close();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_servers_sweep_runs_beside_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(
            &dir.path().join("t.db"),
            &crate::config::StoreConfig::default(),
        )
        .unwrap();
        let kept = store
            .write(|c| {
                put(c, session("gone"), false)?;
                put(c, session("kept"), true)
            })
            .await
            .unwrap();
        // Writes go on while the sweep runs; what they store stays readable.
        let writer = store.clone();
        let writes = tokio::spawn(async move {
            let mut texts = Vec::new();
            for i in 0..50 {
                let name = if i % 2 == 0 {
                    "gone".to_string()
                } else {
                    format!("w{i}")
                };
                texts.push(
                    writer
                        .write(move |c| put(c, session(&name), true))
                        .await
                        .unwrap(),
                );
            }
            texts
        });
        let swept = run(&store).await.unwrap();
        let texts = writes.await.unwrap();
        assert!(swept.deleted <= 2, "{swept:?}");
        store
            .read(move |c| {
                let mut inflater = Inflater::new(c);
                for text in texts.iter().chain([&kept]) {
                    inflater.decode(text, "t")?;
                }
                Ok(())
            })
            .await
            .unwrap();
        store.close();
    }
}
