//! What the writer thread knows to be stored, kept across its writes: the row ids of
//! shared objects (`cim_objects`, by hash and text) and of conversation keys
//! (`conversation_keys`), so that a message's write finds its objects without an
//! index probe each (`objects::Interner` asks here before the database).
//!
//! Only rows of the current transaction or committed ones are known. A write notes
//! what it stored or found as *pending* (seen by the later writes of the same
//! transaction, which commit or roll back with it); the writer ([`super::writer`])
//! forgets a write's pending notes when its savepoint or the batch rolls back and
//! keeps them after COMMIT. Any update or
//! delete of those two tables (an erasure rewriting an object, a purge) forgets
//! everything at the end of the batch ([`invalidate`], from the connection's update
//! hook), since a known id might no longer hold the text it was noted with.
//!
//! It also keeps, per object kind and id, the shape and leaves of the last version
//! stored whole: the *base* a later version is stored as a delta of (`delta`).
//!
//! The cache lives in a thread-local that only the writer thread turns on
//! ([`enable`]); elsewhere (readers, tests, tools) every lookup misses.

use super::delta;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::HashMap;

/// Above this many bytes of noted texts the cache starts over.
const MAX_BYTES: usize = 32 << 20;

#[derive(Default)]
struct Cache {
    enabled: bool,
    objects: HashMap<i64, Vec<(String, i64)>>,
    conversation_keys: HashMap<String, i64>,
    bases: HashMap<(i64, String), (i64, Vec<Value>)>,
    bytes: usize,
    pending: Vec<Note>,
    invalidated: bool,
}

enum Note {
    Object {
        hash: i64,
        body: String,
        id: i64,
    },
    ConversationKey {
        id: String,
        key: i64,
    },
    Base {
        key: (i64, String),
        id: i64,
        leaves: Vec<Value>,
        bytes: usize,
    },
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

fn with<T>(f: impl FnOnce(&mut Cache) -> T) -> T {
    CACHE.with(|c| f(&mut c.borrow_mut()))
}

/// Turns the cache on for the calling thread (the writer's).
pub(super) fn enable() {
    with(|c| c.enabled = true);
}

/// Whether the calling thread keeps the cache (only the writer's does).
pub(super) fn enabled() -> bool {
    with(|c| c.enabled)
}

/// `items` (the shape and leaves of the packed body `whole`, a version of `key`) as
/// a delta of the committed base of `key`, if there is one and the delta is short
/// enough.
pub(super) fn delta(key: &(i64, String), items: &[Value], whole: &str) -> Option<String> {
    with(|c| {
        if c.invalidated {
            return None;
        }
        let pending = c.pending.iter().rev().find_map(|n| match n {
            Note::Base {
                key: k, id, leaves, ..
            } if k == key => Some((*id, leaves)),
            _ => None,
        });
        let (id, base) = pending.or_else(|| c.bases.get(key).map(|(id, l)| (*id, l)))?;
        delta::encode(id, base, items, whole)
    })
}

/// Notes an object the current write stored whole: the base of its later versions.
pub(super) fn note_base(key: (i64, String), id: i64, leaves: Vec<Value>, bytes: usize) {
    with(|c| {
        if c.enabled {
            c.pending.push(Note::Base {
                key,
                id,
                leaves,
                bytes,
            });
        }
    });
}

/// The row id of a committed object with this hash and text, if known.
pub(super) fn object(hash: i64, body: &str) -> Option<i64> {
    with(|c| {
        if c.invalidated {
            return None;
        }
        let committed = c
            .objects
            .get(&hash)
            .and_then(|v| v.iter().find(|(b, _)| b == body).map(|(_, id)| *id));
        committed.or_else(|| {
            c.pending.iter().rev().find_map(|n| match n {
                Note::Object {
                    hash: h,
                    body: b,
                    id,
                } if *h == hash && b == body => Some(*id),
                _ => None,
            })
        })
    })
}

/// The key of a committed conversation, if known.
pub(super) fn conversation_key(id: &str) -> Option<i64> {
    with(|c| {
        if c.invalidated {
            return None;
        }
        c.conversation_keys.get(id).copied().or_else(|| {
            c.pending.iter().rev().find_map(|n| match n {
                Note::ConversationKey { id: i, key } if i == id => Some(*key),
                _ => None,
            })
        })
    })
}

/// Notes an object the current write stored or found.
pub(super) fn note_object(hash: i64, body: &str, id: i64) {
    with(|c| {
        if c.enabled {
            c.pending.push(Note::Object {
                hash,
                body: body.to_owned(),
                id,
            });
        }
    });
}

/// Notes a conversation key the current write made or found.
pub(super) fn note_conversation_key(id: &str, key: i64) {
    with(|c| {
        if c.enabled {
            c.pending.push(Note::ConversationKey {
                id: id.to_owned(),
                key,
            });
        }
    });
}

/// Where the pending notes stand before a write (for [`rollback_to`]).
pub(super) fn mark() -> usize {
    with(|c| c.pending.len())
}

/// Forgets the notes of a write whose savepoint rolled back.
pub(super) fn rollback_to(mark: usize) {
    with(|c| c.pending.truncate(mark));
}

/// Forgets every pending note (the batch rolled back or did not commit).
pub(super) fn abort() {
    with(|c| {
        c.pending.clear();
        c.invalidated = false;
    });
}

/// An object or conversation key was updated or deleted in this batch: nothing
/// known is trusted until the batch ends.
pub(super) fn invalidate() {
    with(|c| c.invalidated = true);
}

/// The batch committed: its pending notes become known (or everything is forgotten
/// if the batch changed or removed stored objects).
pub(super) fn commit() {
    with(|c| {
        if c.invalidated || c.bytes > MAX_BYTES {
            c.objects.clear();
            c.conversation_keys.clear();
            c.bases.clear();
            c.bytes = 0;
        }
        if c.invalidated {
            c.pending.clear();
            c.invalidated = false;
            return;
        }
        for note in std::mem::take(&mut c.pending) {
            match note {
                Note::Object { hash, body, id } => {
                    let versions = c.objects.entry(hash).or_default();
                    if !versions.iter().any(|(b, _)| *b == body) {
                        c.bytes += body.len() + 48;
                        versions.push((body, id));
                    }
                }
                Note::ConversationKey { id, key } => {
                    c.bytes += id.len() + 48;
                    c.conversation_keys.insert(id, key);
                }
                Note::Base {
                    key,
                    id,
                    leaves,
                    bytes,
                } => {
                    c.bytes += bytes + 64;
                    c.bases.insert(key, (id, leaves));
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::objects::{Inflater, Interner};
    use crate::store::StoreError;
    use serde_json::json;

    #[test]
    fn only_committed_notes_are_known_and_an_invalidation_forgets_all() {
        // Off on this thread: notes are dropped.
        note_object(1, "a", 10);
        commit();
        assert_eq!(object(1, "a"), None);

        enable();
        note_object(1, "a", 10);
        assert_eq!(object(1, "a"), Some(10), "known to the same transaction");
        let mark = mark();
        note_object(2, "b", 11);
        note_conversation_key("c1", 3);
        rollback_to(mark);
        commit();
        assert_eq!(object(1, "a"), Some(10));
        assert_eq!(object(1, "other text"), None);
        assert_eq!(object(2, "b"), None, "its savepoint rolled back");
        assert_eq!(conversation_key("c1"), None);

        note_conversation_key("c2", 4);
        assert_eq!(conversation_key("c2"), Some(4));
        abort();
        assert_eq!(conversation_key("c2"), None);
        commit();
        assert_eq!(conversation_key("c2"), None, "its batch rolled back");

        note_conversation_key("c3", 5);
        commit();
        assert_eq!(conversation_key("c3"), Some(5));
        note_object(6, "f", 12);
        invalidate();
        assert_eq!(
            object(1, "a"),
            None,
            "not trusted once the batch changed objects"
        );
        commit();
        assert_eq!(object(1, "a"), None);
        assert_eq!(object(6, "f"), None);
        assert_eq!(conversation_key("c3"), None);
    }

    /// Stores `value`'s objects through the store and reads the text back.
    async fn stored_and_read(store: &crate::store::Store, value: &serde_json::Value) -> String {
        let v = value.clone();
        let text = store
            .write(move |c| Interner::default().compact(c, v.clone()))
            .await
            .unwrap();
        let back = store
            .read(move |c| Inflater::new(c).decode(&text, "test"))
            .await
            .unwrap();
        back.to_string()
    }

    #[tokio::test]
    async fn the_writer_never_refers_to_objects_rolled_back_or_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(
            &dir.path().join("t.db"),
            &crate::config::StoreConfig::default(),
        )
        .unwrap();
        let value = json!({"channelSession": {"participantType": "ChannelSession", "id": "s-1",
            "channel": {"id": "web", "name": "a channel name long enough to share"}}});
        // A write that stores the objects, then fails: they are rolled back.
        let v = value.clone();
        let failed = store
            .write(move |c| {
                Interner::default().compact(c, v.clone())?;
                Err::<(), _>(StoreError::Conflict("after storing".into()))
            })
            .await;
        assert!(matches!(failed, Err(StoreError::Conflict(_))));
        assert_eq!(stored_and_read(&store, &value).await, value.to_string());
        // Known now; a write that rewrites every stored object (as an erasure does)
        // makes the writer look them up again.
        assert_eq!(stored_and_read(&store, &value).await, value.to_string());
        store
            .write(|c| {
                c.execute("UPDATE cim_objects SET body = '{\"erased\":true}'", [])?;
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(stored_and_read(&store, &value).await, value.to_string());
    }

    #[tokio::test]
    async fn a_later_version_is_stored_as_a_delta_and_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(
            &dir.path().join("t.db"),
            &crate::config::StoreConfig::default(),
        )
        .unwrap();
        let task = |state: &str, agent: Option<&str>| {
            json!({"task": {"id": "task-0001", "conversationId": "conversation-0001",
                "state": {"name": state, "reasonCode": null}, "assignedTo": agent,
                "queue": {"id": "queue-0001-with-a-long-id", "name": "Default"},
                "direction": "INBOUND", "mode": "QUEUE", "priority": 1,
                "enqueueTime": 1_796_494_069_280i64, "answerTime": 0}})
        };
        let first = task("QUEUED", None);
        let second = task("ACTIVE", Some("agent-0001"));
        assert_eq!(stored_and_read(&store, &first).await, first.to_string());
        assert_eq!(stored_and_read(&store, &second).await, second.to_string());
        let deltas: Vec<String> = store
            .read(|c| {
                let mut st = c.prepare("SELECT body FROM cim_objects WHERE body LIKE '[[%'")?;
                let rows = st.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<Vec<String>, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(deltas.len(), 1, "{deltas:?}");
        // The new state is a name its own shape holds (`vocabulary`); the agent a leaf.
        let delta: Value = serde_json::from_str(&deltas[0]).unwrap();
        assert_eq!(delta[0].as_array().map(Vec::len), Some(2), "{delta}");
        assert!(deltas[0].contains("\"agent-0001\"") && !deltas[0].contains("Default"));
        // Stored again (known now): still the same text.
        assert_eq!(stored_and_read(&store, &second).await, second.to_string());
    }

    #[tokio::test]
    async fn the_writer_stores_objects_once_unindexed_and_finds_them_in_its_cache() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(
            &dir.path().join("t.db"),
            &crate::config::StoreConfig::default(),
        )
        .unwrap();
        let queue = "6f9d3c1e-2b4a-4c8e-9f1a-7d2e5b8c0a13";
        for n in 0..3 {
            let value = json!({"queueId": queue, "n": n,
                "channel": {"id": "web", "name": "a channel name long enough to share"}});
            assert_eq!(stored_and_read(&store, &value).await, value.to_string());
        }
        let ids: Vec<(i64, String)> = store
            .read(|c| {
                let mut st =
                    c.prepare("SELECT hash, body FROM cim_objects WHERE body LIKE '\"%'")?;
                let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(
            ids,
            vec![(0, format!("\"{queue}\""))],
            "stored once, hash 0"
        );
        let (objects, distinct, indexed): (i64, i64, i64) = store
            .read(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*), COUNT(DISTINCT body), COUNT(*) FILTER (WHERE hash <> 0)
                     FROM cim_objects",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )?)
            })
            .await
            .unwrap();
        // The id, the channel, the channel's shape and the value's shape.
        assert_eq!((objects, distinct, indexed), (4, 4, 0));
        let plan: String = store
            .read(|c| {
                Ok(c.query_row(
                    "EXPLAIN QUERY PLAN
                     SELECT id FROM cim_objects WHERE hash = 1 AND hash <> 0 AND body = 'x'",
                    [],
                    |r| r.get(3),
                )?)
            })
            .await
            .unwrap();
        assert!(plan.contains("cim_objects_hash"), "{plan}");
    }
}
