//! A per-thread memo of what taking out a message origin's values gave
//! (`objects::dehydrate_row_with_data`, `cim::MessageOrigin`).
//!
//! The conversation core shares one origin among every message a sender sends in a
//! session, so the store meets the same origin over and over. [`share_memo`] would
//! find its values too, but only after hashing and comparing them in full (a
//! channel session with its channel's configuration) for every message; this memo
//! finds them by the origin's identity. It holds each origin it remembers, so the
//! address naming an entry cannot be reused by another origin while the entry is
//! there, and an origin never changes, so what taking out its values gave once is
//! what it gives again.
//!
//! Two generations of at most [`GENERATION`] entries each bound the memory
//! (`crate::generations`), as in [`share_memo`].
//!
//! [`share_memo`]: super::share_memo

use super::objects::SharedObject;
use super::share_memo::Taken;
use crate::cim::MessageOrigin;
use crate::generations::Generations;
use std::cell::RefCell;
use std::sync::Arc;

/// Entries per generation.
const GENERATION: usize = 128;

/// The header keys an origin stamps, in [`Entry::taken`]'s order.
const KEYS: [&str; 3] = ["sender", "channelSession", "channelData"];

struct Entry {
    /// Held so that its address names it alone while it is here.
    _origin: Arc<MessageOrigin>,
    taken: [Option<Taken>; 3],
}

thread_local! {
    static MEMO: RefCell<Generations<usize, Entry>> = RefCell::new(Generations::new(GENERATION));
}

fn address(origin: &Arc<MessageOrigin>) -> usize {
    Arc::as_ptr(origin) as usize
}

/// What taking out the value `origin` gives the header's `key` gave before on this
/// thread, or `make`'s result, remembered.
pub fn taken(origin: &Arc<MessageOrigin>, key: &str, make: impl FnOnce() -> Taken) -> Taken {
    let Some(slot) = KEYS.iter().position(|k| *k == key) else {
        return make();
    };
    let at = address(origin);
    let known = MEMO.with(|memo| {
        let mut memo = memo.borrow_mut();
        match memo.get(at, |_| true) {
            Some(entry) => entry.taken[slot].clone(),
            None => {
                let entry = Entry {
                    _origin: Arc::clone(origin),
                    taken: [None, None, None],
                };
                memo.insert(at, entry);
                None
            }
        }
    });
    if let Some(taken) = known {
        return taken;
    }
    let mut taken = make();
    MEMO.with(|memo| {
        if let Some(entry) = memo.borrow_mut().get(at, |_| true) {
            share_bodies(&mut taken, &entry.taken);
            entry.taken[slot] = Some(taken.clone());
        }
    });
    taken
}

/// Gives `taken`'s objects the bodies of equal objects the origin's other values
/// took out (a sender holds its channel session, which the header holds too), so
/// that a message meeting both compares them by pointer rather than by content.
fn share_bodies(taken: &mut Taken, others: &[Option<Taken>]) {
    let shared: Vec<SharedObject> = taken
        .objects
        .iter()
        .map(|object| {
            others
                .iter()
                .flatten()
                .flat_map(|other| other.objects.iter())
                .find(|other| other.key == object.key && other.body == object.body)
                .unwrap_or(object)
                .clone()
        })
        .collect();
    taken.objects = Arc::new(shared);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cim::fixtures::started_session;
    use crate::cim::Participant;
    use serde_json::json;

    fn origin() -> Arc<MessageOrigin> {
        let session = started_session();
        let sender = Participant::customer("p-c", session.clone(), 1);
        Arc::new(MessageOrigin::new(&sender, Some(&session)))
    }

    fn made(n: i64) -> Taken {
        Taken {
            replacement: json!({"$ref": n}),
            objects: Arc::new(Vec::new()),
        }
    }

    #[test]
    fn an_origins_values_are_taken_out_once_per_key_while_it_is_remembered() {
        let (a, b) = (origin(), origin());
        assert_eq!(
            taken(&a, "sender", || made(1)).replacement,
            json!({"$ref": 1})
        );
        assert_eq!(
            taken(&a, "sender", || made(2)).replacement,
            json!({"$ref": 1})
        );
        assert_eq!(
            taken(&a, "channelData", || made(3)).replacement,
            json!({"$ref": 3})
        );
        // An equal origin that is another one is its own entry.
        assert_eq!(
            taken(&b, "sender", || made(4)).replacement,
            json!({"$ref": 4})
        );
        // Keys an origin does not stamp are never remembered.
        assert_eq!(
            taken(&a, "other", || made(5)).replacement,
            json!({"$ref": 5})
        );
        assert_eq!(
            taken(&a, "other", || made(6)).replacement,
            json!({"$ref": 6})
        );
    }

    #[test]
    fn an_object_two_values_of_an_origin_hold_is_one_body() {
        let a = origin();
        let object = |body: &str| SharedObject {
            key: 7,
            body: Arc::from(body),
        };
        let with = |objects: Vec<SharedObject>| Taken {
            replacement: json!({"$ref": 7}),
            objects: Arc::new(objects),
        };
        let first = taken(&a, "sender", || with(vec![object("{\"s\":1}")]));
        let second = taken(&a, "channelSession", || with(vec![object("{\"s\":1}")]));
        assert!(Arc::ptr_eq(&first.objects[0].body, &second.objects[0].body));
        // Another body under the same key stays its own.
        let third = taken(&a, "channelData", || with(vec![object("{\"s\":2}")]));
        assert_eq!(&*third.objects[0].body, "{\"s\":2}");
    }

    #[test]
    fn the_memo_holds_two_generations_at_most_and_keeps_its_origins_alive() {
        let first = origin();
        taken(&first, "sender", || made(1));
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(weak.upgrade().is_some(), "held by the memo");
        for n in 0..2 * GENERATION as i64 {
            taken(&origin(), "sender", || made(n));
            let (young, old) = MEMO.with(|m| m.borrow().lens());
            assert!(young <= GENERATION && old <= GENERATION);
        }
        assert!(weak.upgrade().is_none(), "forgotten after two generations");
    }
}
