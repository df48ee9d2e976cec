//! A per-thread memo of shared objects already taken out (`objects::dehydrate`).
//!
//! Events carry the same objects over and over (a chat's channel session, its
//! customer, an agent's participant): taking one out means serialising it and its
//! inner objects, packing them and hashing their texts, again for every event. This
//! memo keeps, for an object met recently on this thread, what taking it out gave:
//! the value left in its place (a reference, or the object with its inner objects
//! referred to) and the shared objects it needs, innermost first. An object is found
//! by a structural hash and confirmed by comparing it in full, keys in order (the
//! stored text depends on key order), so what is served from the memo is exactly what
//! the walk would give.
//!
//! Two generations of at most [`GENERATION`] entries each bound the memory
//! (`crate::generations`).

use super::objects::SharedObject;
use crate::generations::Generations;
use serde_json::Value;
use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Entries per generation.
const GENERATION: usize = 1024;

/// What taking an object out gave.
#[derive(Clone)]
pub struct Taken {
    /// The value left in the object's place.
    pub replacement: Value,
    /// The shared objects `replacement` refers to (directly or through them),
    /// innermost first.
    pub objects: Arc<Vec<SharedObject>>,
}

struct Entry {
    original: Value,
    taken: Taken,
}

thread_local! {
    static MEMO: RefCell<Generations<u64, Entry>> = RefCell::new(Generations::new(GENERATION));
}

#[cfg(test)]
thread_local! {
    static OFF: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the memo is used on this thread: tests turn it off to compare with the
/// walk it stands for, and `SB_SHARE_MEMO=off` in the environment turns it
/// off for the process (to measure what it saves, docs/benchmarks.md). Not a
/// `SWITCHBOARD_` name: `serve` refuses those that name no setting.
pub fn enabled() -> bool {
    static OFF_BY_ENV: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    #[cfg(test)]
    if OFF.with(std::cell::Cell::get) {
        return false;
    }
    !*OFF_BY_ENV.get_or_init(|| std::env::var("SB_SHARE_MEMO").is_ok_and(|v| v == "off"))
}

/// Turns the memo off (or back on) on this thread, for tests.
#[cfg(test)]
pub fn set_enabled(on: bool) {
    OFF.with(|off| off.set(!on));
}

/// A structural hash of `value` (key order included).
pub fn hash(value: &Value) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hash_into(value, &mut hasher);
    hasher.finish()
}

fn hash_into(value: &Value, h: &mut rustc_hash::FxHasher) {
    match value {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => {
            h.write_u8(1);
            b.hash(h);
        }
        Value::Number(n) => {
            h.write_u8(2);
            n.hash(h);
        }
        Value::String(s) => {
            h.write_u8(3);
            s.hash(h);
        }
        Value::Array(items) => {
            h.write_u8(4);
            h.write_usize(items.len());
            items.iter().for_each(|item| hash_into(item, h));
        }
        Value::Object(map) => {
            h.write_u8(5);
            h.write_usize(map.len());
            for (k, v) in map {
                k.hash(h);
                hash_into(v, h);
            }
        }
    }
}

/// Equal and with every object's keys in the same order (`Value`'s own `==` ignores
/// key order).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => a == b,
    }
}

/// What taking out `value` (whose [`hash`] is `key`) gave before on this thread.
pub fn get(key: u64, value: &Value) -> Option<Taken> {
    MEMO.with(|memo| {
        memo.borrow_mut()
            .get(key, |entry| same(&entry.original, value))
            .map(|entry| entry.taken.clone())
    })
}

/// Remembers that taking out `original` (whose [`hash`] is `key`) gave `taken`.
pub fn put(key: u64, original: Value, taken: Taken) {
    MEMO.with(|memo| {
        memo.borrow_mut().insert(key, Entry { original, taken });
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn taken(n: i64) -> Taken {
        Taken {
            replacement: json!({"$ref": n}),
            objects: Arc::new(Vec::new()),
        }
    }

    #[test]
    fn key_order_and_number_form_tell_objects_apart() {
        let a = json!({"x": 1, "y": 2});
        let b = json!({"y": 2, "x": 1});
        assert_eq!(a, b, "serde_json's == ignores key order");
        assert!(!same(&a, &b));
        assert_ne!(hash(&a), hash(&b));
        assert!(!same(&json!({"x": 1}), &json!({"x": 1.0})));
        assert!(same(&a, &a.clone()));
    }

    #[test]
    fn a_hit_needs_the_same_object_and_old_entries_survive_one_generation() {
        let a = json!({"id": "a", "n": [1, 2]});
        put(hash(&a), a.clone(), taken(1));
        let hit = get(hash(&a), &a).expect("remembered");
        assert_eq!(hit.replacement, json!({"$ref": 1}));
        // Same hash, other object (as a hash collision would be): no hit.
        assert!(get(hash(&a), &json!({"id": "b"})).is_none());
        // A full generation later `a` is in the old one and still found.
        for i in 0..GENERATION as i64 {
            let v = json!({"filler": i});
            put(hash(&v), v, taken(i));
        }
        assert!(get(hash(&a), &a).is_some());
        // Two generations without a hit forget it.
        for i in 0..2 * GENERATION as i64 {
            let v = json!({"other": i});
            put(hash(&v), v, taken(i));
        }
        assert!(get(hash(&a), &a).is_none());
    }
}
