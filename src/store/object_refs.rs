//! Which shared objects (`cim_objects`) a stored text refers to: what the sweep of
//! unreferenced objects (`object_sweep`) marks from.
//!
//! A stored text or object body refers to objects in every form the store has
//! written (see `objects`, `packed`, `delta`):
//! - a packed text `[shape, leaf, ...]` (after its tag, if any): the shape (a bare id
//!   or `{"$ref": id}`), each leaf at a place its shape marks as a reference (a bare
//!   id), and any `{"$ref": id}` leaf (packed before reference places were marked);
//! - a delta `[[base], index, leaf, ...]`: the base, and the leaves at indexes the
//!   base's shape marks as references;
//! - a tag and a bare id (an event's runtime patch stored once as an object, `^id`,
//!   whose body is itself tagged, `&[...]`): that object;
//! - any other JSON (a compact text written before packing, plain JSON): every
//!   `{"$ref": <number>}` object in it.
//!
//! **A new stored form that refers to objects must be read here too**, or a sweep
//! deletes objects still in use (tests/retention.rs restarts on a purged database
//! with an open chat, and `object_sweep`'s tests read every kept row back).
//!
//! A shape is referred to as a shape ([`Ref::Shape`]): its body holds keys and place
//! marks only, never references. Reading is conservative: a text that cannot be
//! parsed is an error (the sweep stops rather than guess), and a `{"$ref": n}` in a
//! plain text keeps object `n` even if it was the customer's own data.

use super::{delta, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;
use std::collections::HashMap;
use std::rc::Rc;

/// One reference found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ref {
    /// An object whose body refers to others in turn.
    Object(i64),
    /// A packed text's shape: keys and place marks only.
    Shape(i64),
}

/// Finds references, reading the shapes (and delta bases) it needs from `conn`,
/// each once.
pub struct RefReader<'c> {
    conn: &'c Connection,
    /// For each shape read: whether each of its places holds a reference.
    places: HashMap<i64, Rc<Vec<bool>>>,
}

impl<'c> RefReader<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        RefReader {
            conn,
            places: HashMap::new(),
        }
    }

    /// The body of object `id`, if it is stored.
    pub fn body(&self, id: i64) -> StoreResult<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT body FROM cim_objects WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    /// Pushes onto `out` the references of a stored column text or object body.
    pub fn refs(&mut self, text: &str, out: &mut Vec<Ref>) -> StoreResult<()> {
        let json = match text.chars().next() {
            None => return Ok(()),
            Some('{' | '[') => text,
            Some(tag) => &text[tag.len_utf8()..],
        };
        if let Ok(id) = json.parse::<i64>() {
            // A tag and an object id (an event's shared runtime patch, `^id`).
            if json.len() < text.len() {
                out.push(Ref::Object(id));
            }
            return Ok(());
        }
        if !json.starts_with(['{', '[']) {
            // A scalar, or a text that is no JSON: no form of reference.
            return Ok(());
        }
        let value: Value = serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("a stored text is not JSON: {e}")))?;
        if let Some(items) = value.as_array() {
            if let Some(base) = delta::base_of(items) {
                out.push(Ref::Object(base));
                let places = match delta::own_shape(items) {
                    Some(shape) => {
                        out.push(Ref::Shape(shape));
                        self.places(shape)?
                    }
                    None => self.places_of_base(base)?,
                };
                for (i, leaf) in delta::changes(items)? {
                    leaf_ref(leaf, places.get(i).copied().unwrap_or(false), out);
                }
                return Ok(());
            }
            if let Some(shape) = items.first().and_then(shape_id) {
                out.push(Ref::Shape(shape));
                let places = self.places(shape)?;
                for (i, leaf) in items[1..].iter().enumerate() {
                    leaf_ref(leaf, places.get(i).copied().unwrap_or(false), out);
                }
                return Ok(());
            }
        }
        walk(&value, out);
        Ok(())
    }

    /// The reference places of the shape of `base` (a whole packed body).
    fn places_of_base(&mut self, base: i64) -> StoreResult<Rc<Vec<bool>>> {
        let body = self
            .body(base)?
            .ok_or_else(|| StoreError::Corrupt(format!("delta base {base} is missing")))?;
        let items: Value = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("delta base {base}: {e}")))?;
        let shape = items
            .as_array()
            .and_then(|items| items.first())
            .and_then(shape_id)
            .ok_or_else(|| StoreError::Corrupt(format!("delta base {base} is not packed")))?;
        self.places(shape)
    }

    fn places(&mut self, shape: i64) -> StoreResult<Rc<Vec<bool>>> {
        if let Some(p) = self.places.get(&shape) {
            return Ok(p.clone());
        }
        let body = self
            .body(shape)?
            .ok_or_else(|| StoreError::Corrupt(format!("shape {shape} is missing")))?;
        let value: Value = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("shape {shape}: {e}")))?;
        let places = Rc::new(
            super::packed::places(&value)
                .into_iter()
                .map(|(_, is_ref)| is_ref)
                .collect::<Vec<_>>(),
        );
        self.places.insert(shape, places.clone());
        Ok(places)
    }
}

/// A packed leaf's reference, if it is one: a bare id at a reference place, or a
/// `{"$ref": id}` leaf anywhere.
fn leaf_ref(leaf: &Value, at_ref_place: bool, out: &mut Vec<Ref>) {
    match leaf {
        Value::Number(n) if at_ref_place => {
            if let Some(id) = n.as_i64() {
                out.push(Ref::Object(id));
            }
        }
        Value::Object(_) => walk(leaf, out),
        _ => {}
    }
}

/// Every `{"$ref": <number>}` in `value`.
fn walk(value: &Value, out: &mut Vec<Ref>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(id) = map.get("$ref").and_then(Value::as_i64) {
                    out.push(Ref::Object(id));
                    return;
                }
            }
            map.values().for_each(|v| walk(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
        _ => {}
    }
}

/// The shape id a packed text's first item names (a bare id or a reference).
fn shape_id(first: &Value) -> Option<i64> {
    if let Some(id) = first.as_i64() {
        return Some(id);
    }
    let map = first.as_object()?;
    if map.len() != 1 {
        return None;
    }
    map.get("$ref")?.as_i64()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::objects::{Inflater, Interner};
    use serde_json::json;

    fn refs_of(conn: &Connection, text: &str) -> Vec<Ref> {
        let mut out = Vec::new();
        RefReader::new(conn).refs(text, &mut out).unwrap();
        out
    }

    #[test]
    fn every_stored_form_gives_its_references() {
        let conn = crate::store::test_connection();
        let session = json!({"participantType": "CUSTOMER", "id": "s-1",
                             "customer": {"_id": "cu-1", "firstName": "Pat", "n": 1},
                             "state": "STARTED"});
        let text = Interner::default()
            .compact(&conn, json!({"a": 5, "channelSession": session}))
            .unwrap();
        let found = refs_of(&conn, &text);
        let Some(Ref::Shape(_)) = found.first() else {
            panic!("{found:?}")
        };
        let objects: Vec<i64> = found
            .iter()
            .filter_map(|r| match r {
                Ref::Object(id) => Some(*id),
                Ref::Shape(_) => None,
            })
            .collect();
        assert_eq!(objects.len(), 1, "the session, not the number 5: {found:?}");
        // The session's body refers to its own shape and to the customer.
        let body = RefReader::new(&conn).body(objects[0]).unwrap().unwrap();
        let inner = refs_of(&conn, &body);
        assert_eq!(
            inner.iter().filter(|r| matches!(r, Ref::Object(_))).count(),
            1,
            "{inner:?}"
        );
        // What the references name reads back whole.
        let back = Inflater::new(&conn).decode(&text, "t").unwrap();
        assert_eq!(back["channelSession"]["customer"]["firstName"], "Pat");

        // Older forms: a compact text with references, plain JSON, a delta.
        assert_eq!(
            refs_of(
                &conn,
                r#"~{"x":{"$ref":7},"y":[{"$ref":8}],"z":{"$ref":[9]}}"#
            ),
            vec![Ref::Object(7), Ref::Object(8)]
        );
        assert_eq!(refs_of(&conn, r#"{"plain":1}"#), vec![]);
        assert_eq!(refs_of(&conn, "^79"), vec![Ref::Object(79)]);
        assert_eq!(refs_of(&conn, ""), vec![]);
        let shape: i64 = match found[0] {
            Ref::Shape(id) => id,
            Ref::Object(_) => unreachable!(),
        };
        conn.execute(
            "INSERT INTO cim_objects(id, hash, body) VALUES (900, 1, ?1)",
            [format!("[{shape}, 5, {}]", objects[0])],
        )
        .unwrap();
        assert_eq!(
            refs_of(&conn, &format!("[[900],1,{}]", objects[0])),
            vec![Ref::Object(900), Ref::Object(objects[0])]
        );
        let mut out = Vec::new();
        assert!(RefReader::new(&conn).refs("%[oops", &mut out).is_err());
        assert!(RefReader::new(&conn).refs("%[123456,1]", &mut out).is_err());
    }
}
