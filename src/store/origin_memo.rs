//! What taking out a message origin's values gave (`objects::dehydrate_row_with_data`,
//! `cim::MessageOrigin`), kept in the origin itself.
//!
//! The conversation core shares one origin among every message a sender sends in a
//! session, so the store meets the same origin over and over. [`share_memo`] would
//! find its values too, but only after hashing and comparing them in full (a
//! channel session with its channel's configuration) for every message; this finds
//! them by the origin's identity. An origin never changes, so what taking out its
//! values gave once is what it gives again, and it is kept for as long as the
//! origin lives: a bounded memo of recent origins was emptied, in turn, by a site
//! with more senders than its bound (a thousand chats), and every message then paid
//! the whole walk (docs/benchmarks.md).
//!
//! [`share_memo`]: super::share_memo

use super::objects::SharedObject;
use super::share_memo::Taken;
use crate::cim::MessageOrigin;
use std::sync::Arc;

/// What taking out the value `origin` gives the header's `key` gave before, or
/// `make`'s result, kept in the origin.
pub fn taken(origin: &Arc<MessageOrigin>, key: &str, make: impl FnOnce() -> Taken) -> Taken {
    if let Some(kept) = origin.kept::<Taken>(key) {
        return Taken::clone(&kept);
    }
    let mut taken = make();
    let others: Vec<Arc<Taken>> = MessageOrigin::STAMPED_KEYS
        .iter()
        .filter(|k| **k != key)
        .filter_map(|k| origin.kept::<Taken>(k))
        .collect();
    share_bodies(&mut taken, &others);
    origin.keep(key, Arc::new(taken.clone()));
    taken
}

/// Gives `taken`'s objects the bodies of equal objects the origin's other values
/// took out (a sender holds its channel session, which the header holds too), so
/// that a message meeting both compares them by pointer rather than by content.
fn share_bodies(taken: &mut Taken, others: &[Arc<Taken>]) {
    let shared: Vec<SharedObject> = taken
        .objects
        .iter()
        .map(|object| {
            others
                .iter()
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
    fn an_origins_values_are_taken_out_once_per_key() {
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
    fn an_origin_keeps_what_its_values_gave_however_many_others_come_between() {
        let first = origin();
        taken(&first, "sender", || made(1));
        // More senders than any bounded memo of recent origins held (a thousand
        // chats): the first is still served, not walked again.
        for n in 0..5_000 {
            taken(&origin(), "sender", || made(n));
        }
        assert_eq!(
            taken(&first, "sender", || made(-1)).replacement,
            json!({"$ref": 1})
        );
        // Nothing else holds the origin: it goes, with what it kept, when its last
        // holder drops it.
        let weak = Arc::downgrade(&first);
        drop(first);
        assert!(weak.upgrade().is_none());
    }
}
