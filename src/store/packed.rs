//! Packed JSON: a value split into its *shape* (its keys and nesting, with `0` in
//! place of every scalar) and its *leaves* (the scalars, in document order).
//!
//! Rows of one kind share a handful of shapes, so `objects` stores each shape once
//! in `cim_objects` and a row keeps only `[shape reference, leaf, leaf, ...]`: the
//! key names, quotes and braces that made up half of every stored text are gone.
//! A leaf is a scalar, a shared-object reference, or, for a row that gives a
//! [`RowContext`], a marker standing for a
//! value the row's columns already hold: `[0]` its conversation id, `[1]` its
//! message id, `[2, d]` the integer `base + d` (a time close to the row's own; `[2]`
//! the base itself),
//! `[3]` its event id (an event whose data repeats it, a bot's message).
//! Leaves are never arrays otherwise, so a marker is never mistaken for data.
//! A reference's place is `1` in the shape (every other leaf's place is `0`), so its
//! leaf is stored as the bare object id; [`join`] gives it back as `{"$ref": id}` for
//! `objects` to resolve. Shapes written before this mark had `0` there and a
//! `{"$ref": id}` leaf, which still reads.
//! A key that is an id (a UUID, e.g. a timer keyed by its channel session) is a
//! leaf too, put before its value's leaves, and its place in the shape is the key
//! `"\u0000k<n>"` (n counting such keys in the object), so objects keyed by ids share
//! one shape; a key that itself starts with `\u0000` is stored as `"\u0000="` and
//! the key.
//! A name of the CIM vocabulary (or `null`) under a key that carries one
//! (`vocabulary`: a message's `"type": "PLAIN"`, a task's `"state": "ACTIVE"`) is no
//! leaf: the shape holds it in its place, a string or `null` where a leaf's place is a
//! number. Shapes written before hold none, and still read.
//! [`join`] rebuilds the value exactly: `serde_json` keeps key order, so the text
//! read back is the text written.

use super::vocabulary::{self, Scope};
use super::{StoreError, StoreResult};
use serde_json::{Map, Value};

/// What a row's columns hold that its leaves may stand for.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowContext<'a> {
    pub conversation_id: Option<&'a str>,
    pub message_id: Option<&'a str>,
    /// A time (epoch ms) that integers near it are stored relative to.
    pub base_ms: Option<i64>,
    /// The row's event id (an event row).
    pub event_id: Option<&'a str>,
}

const CONVERSATION_ID: u8 = 0;
const MESSAGE_ID: u8 = 1;
const NEAR_BASE: u8 = 2;
const EVENT_ID: u8 = 3;

/// A place in a shape whose leaf is a shared-object reference (a bare id when stored).
const REF_PLACE: u64 = 1;

/// The shape key standing for a key that is a leaf (followed by a count).
const KEY_PLACE: &str = "\u{0}k";
/// The prefix of a shape key that is a key starting with `\u{0}`.
const ESCAPED_KEY: &str = "\u{0}=";

/// Integers at least this large are times; only those are stored relative to the base.
const MIN_TIME: i64 = 100_000_000_000;
/// A relative time is stored only within this distance, where it is shorter.
const MAX_DELTA: i64 = 10_000_000;

/// The shape of `value` and its leaves (see the module doc). A `{"$ref": n}` object
/// with a number is a leaf (a reference to a shared object) at a place marked `1`;
/// the leaf stays `{"$ref": n}` until `objects` writes it as the bare row id.
pub fn split(value: &Value, row: &RowContext) -> (Value, Vec<Value>) {
    let mut leaves = Vec::new();
    let shape = shape_of(value, "", Scope::Open, row, &mut leaves);
    (shape, leaves)
}

/// The shape of `value`, found under `key` (an array's items under the array's) in an
/// object whose entries are in `scope` (`vocabulary::Scope`).
fn shape_of(
    value: &Value,
    key: &str,
    scope: Scope,
    row: &RowContext,
    leaves: &mut Vec<Value>,
) -> Value {
    match value {
        Value::Object(map) if is_reference(map) => {
            leaves.push(value.clone());
            Value::from(REF_PLACE)
        }
        Value::Object(map) => {
            let entries = scope.enter(key);
            let mut out = Map::with_capacity(map.len());
            let mut key_leaves = 0;
            for (k, v) in map {
                let key = if is_id_key(k) {
                    leaves.push(Value::String(k.clone()));
                    key_leaves += 1;
                    format!("{KEY_PLACE}{}", key_leaves - 1)
                } else if k.starts_with('\u{0}') {
                    format!("{ESCAPED_KEY}{k}")
                } else {
                    k.clone()
                };
                out.insert(key, shape_of(v, k, entries, row, leaves));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| shape_of(v, key, scope, row, leaves))
                .collect(),
        ),
        scalar if vocabulary::is_literal(scope, key, scalar) => scalar.clone(),
        scalar => {
            leaves.push(marked(scalar.clone(), row));
            Value::from(0)
        }
    }
}

/// A key stored as a leaf: a UUID in its canonical text form.
fn is_id_key(key: &str) -> bool {
    is_uuid(key)
}

/// A UUID in its canonical (hyphenated) text form.
pub fn is_uuid(key: &str) -> bool {
    key.len() == 36
        && key.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// What a shape key stands for: `None` for a key that is the next leaf.
fn shape_key(key: &str) -> Option<&str> {
    if key.starts_with(KEY_PLACE) {
        None
    } else {
        Some(key.strip_prefix(ESCAPED_KEY).unwrap_or(key))
    }
}

fn is_reference(map: &Map<String, Value>) -> bool {
    map.len() == 1 && map.get("$ref").is_some_and(Value::is_number)
}

fn marked(scalar: Value, row: &RowContext) -> Value {
    match &scalar {
        Value::String(s) if row.conversation_id == Some(s.as_str()) => {
            Value::Array(vec![CONVERSATION_ID.into()])
        }
        Value::String(s) if row.message_id == Some(s.as_str()) => {
            Value::Array(vec![MESSAGE_ID.into()])
        }
        Value::String(s) if row.event_id == Some(s.as_str()) => Value::Array(vec![EVENT_ID.into()]),
        Value::Number(n) => match (n.as_i64(), row.base_ms) {
            (Some(t), Some(base)) if t >= MIN_TIME => match t.checked_sub(base) {
                // The base itself is the shortest marker (`[2]`, read since 2026-12-07).
                Some(0) => Value::Array(vec![NEAR_BASE.into()]),
                Some(delta) if delta.abs() < MAX_DELTA => {
                    Value::Array(vec![NEAR_BASE.into(), delta.into()])
                }
                _ => scalar,
            },
            _ => scalar,
        },
        _ => scalar,
    }
}

/// The value of `shape` with its leaves put back (the inverse of [`split`]).
pub fn join(shape: &Value, leaves: Vec<Value>, row: &RowContext) -> StoreResult<Value> {
    let mut leaves = leaves.into_iter();
    let value = fill(shape, &mut leaves, row)?;
    if leaves.next().is_some() {
        return Err(corrupt("more leaves than its shape has places"));
    }
    Ok(value)
}

fn fill(
    shape: &Value,
    leaves: &mut std::vec::IntoIter<Value>,
    row: &RowContext,
) -> StoreResult<Value> {
    Ok(match shape {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let key = match shape_key(k) {
                    Some(key) => key.to_owned(),
                    None => match leaves.next() {
                        Some(Value::String(key)) => key,
                        _ => return Err(corrupt("a key place without a text leaf")),
                    },
                };
                out.insert(key, fill(v, leaves, row)?);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| fill(v, leaves, row))
                .collect::<StoreResult<_>>()?,
        ),
        literal if is_literal_place(literal) => literal.clone(),
        place => {
            let leaf = leaves
                .next()
                .ok_or_else(|| corrupt("fewer leaves than its shape has places"))?;
            match leaf {
                Value::Array(marker) => unmark(&marker, row)?,
                Value::Number(id) if is_ref_place(place) => reference(id),
                leaf => leaf,
            }
        }
    })
}

fn is_ref_place(place: &Value) -> bool {
    place.as_u64() == Some(REF_PLACE)
}

/// A place that holds its value (a name of `vocabulary`, or `null`), not a leaf.
fn is_literal_place(place: &Value) -> bool {
    place.is_string() || place.is_null()
}

fn reference(id: serde_json::Number) -> Value {
    let mut map = Map::with_capacity(1);
    map.insert("$ref".to_owned(), Value::Number(id));
    Value::Object(map)
}

fn unmark(marker: &[Value], row: &RowContext) -> StoreResult<Value> {
    let kind = marker.first().and_then(Value::as_u64);
    let value = match (kind, marker.get(1).and_then(Value::as_i64)) {
        (Some(0), None) => row.conversation_id.map(Value::from),
        (Some(1), None) => row.message_id.map(Value::from),
        (Some(3), None) => row.event_id.map(Value::from),
        (Some(2), Some(delta)) => row
            .base_ms
            .and_then(|base| base.checked_add(delta))
            .map(Value::from),
        (Some(2), None) if marker.len() == 1 => row.base_ms.map(Value::from),
        _ => None,
    };
    value.ok_or_else(|| corrupt(&format!("marker {marker:?} has nothing to stand for")))
}

/// Calls `f` with each leaf of a packed value and the key its place sits under (an
/// array's items under the array's key; `""` at the top), in order: what a rewrite of
/// the values in place (an erasure) needs, without rebuilding the value. A bare
/// reference is given to `f` as `{"$ref": id}` (and stored bare again unless `f`
/// replaced it).
pub fn visit_leaves(
    shape: &Value,
    leaves: &mut [Value],
    f: &mut dyn FnMut(&str, &mut Value),
) -> StoreResult<()> {
    let mut next = 0;
    visit(shape, "", leaves, &mut next, f)?;
    if next != leaves.len() {
        return Err(corrupt("more leaves than its shape has places"));
    }
    Ok(())
}

fn visit(
    shape: &Value,
    key: &str,
    leaves: &mut [Value],
    next: &mut usize,
    f: &mut dyn FnMut(&str, &mut Value),
) -> StoreResult<()> {
    match shape {
        Value::Object(map) => {
            for (k, v) in map {
                let key = match shape_key(k) {
                    Some(key) => key,
                    None => {
                        // A key leaf (an id) is not a value: skipped.
                        if leaves.get(*next).is_none() {
                            return Err(corrupt("fewer leaves than its shape has places"));
                        }
                        *next += 1;
                        ""
                    }
                };
                visit(v, key, leaves, next, f)?;
            }
        }
        Value::Array(items) => {
            for v in items {
                visit(v, key, leaves, next, f)?;
            }
        }
        literal if is_literal_place(literal) => {}
        place => {
            let leaf = leaves
                .get_mut(*next)
                .ok_or_else(|| corrupt("fewer leaves than its shape has places"))?;
            match leaf {
                Value::Number(id) if is_ref_place(place) => {
                    let mut wrapped = reference(id.clone());
                    f(key, &mut wrapped);
                    *leaf = match wrapped {
                        Value::Object(mut map) if is_reference(&map) => {
                            map.remove("$ref").unwrap_or(Value::Null)
                        }
                        other => other,
                    };
                }
                _ => f(key, leaf),
            }
            *next += 1;
        }
    }
    Ok(())
}

/// The key each place of `shape` sits under (as [`visit_leaves`] gives it) and
/// whether it holds a reference, in order.
pub fn places(shape: &Value) -> Vec<(String, bool)> {
    fn walk(shape: &Value, key: &str, out: &mut Vec<(String, bool)>) {
        match shape {
            Value::Object(map) => map.iter().for_each(|(k, v)| match shape_key(k) {
                Some(k) => walk(v, k, out),
                None => {
                    out.push((String::new(), false));
                    walk(v, "", out)
                }
            }),
            Value::Array(items) => items.iter().for_each(|v| walk(v, key, out)),
            literal if is_literal_place(literal) => {}
            place => out.push((key.to_owned(), is_ref_place(place))),
        }
    }
    let mut out = Vec::new();
    walk(shape, "", &mut out);
    out
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("packed text: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(value: Value, row: &RowContext) -> (Value, Vec<Value>) {
        let (shape, leaves) = split(&value, row);
        let back = join(&shape, leaves.clone(), row).unwrap();
        assert_eq!(back.to_string(), value.to_string());
        (shape, leaves)
    }

    #[test]
    fn shapes_hold_keys_and_leaves_hold_scalars_in_order() {
        let value = json!({"b": {"x": "s", "y": [1, 2.5, {"z": null}]}, "a": true,
                           "e": [], "o": {}, "r": {"$ref": 7}, "w": {"$ref": [3]}});
        let (shape, leaves) = round_trip(value, &RowContext::default());
        assert_eq!(
            shape,
            json!({"b": {"x": 0, "y": [0, 0, {"z": 0}]}, "a": 0, "e": [], "o": {},
                   "r": 1, "w": {"$ref": [0]}})
        );
        assert_eq!(
            leaves,
            vec![
                json!("s"),
                json!(1),
                json!(2.5),
                json!(null),
                json!(true),
                json!({"$ref": 7}),
                json!(3)
            ]
        );
    }

    #[test]
    fn vocabulary_names_stay_in_the_shape_and_older_shapes_still_read() {
        let value = json!({"type": "PLAIN", "state": {"name": "ACTIVE", "reasonCode": null},
                           "name": "Default", "tags": ["PLAIN", "VIP"], "text": "PLAIN"});
        let (shape, mut leaves) = round_trip(value.clone(), &RowContext::default());
        assert_eq!(
            shape,
            json!({"type": "PLAIN", "state": {"name": "ACTIVE", "reasonCode": null},
                   "name": 0, "tags": [0, 0], "text": 0})
        );
        assert_eq!(
            leaves,
            vec![
                json!("Default"),
                json!("PLAIN"),
                json!("VIP"),
                json!("PLAIN")
            ]
        );
        let keys: Vec<String> = places(&shape).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["name", "tags", "tags", "text"]);
        let mut seen = Vec::new();
        visit_leaves(&shape, &mut leaves, &mut |key, _| seen.push(key.to_owned())).unwrap();
        assert_eq!(seen, keys);
        // A shape written before kept every name as a leaf.
        let before = json!({"type": 0, "state": {"name": 0, "reasonCode": 0},
                            "name": 0, "tags": [0, 0], "text": 0});
        let leaves = [json!("PLAIN"), json!("ACTIVE"), json!(null)]
            .into_iter()
            .chain(leaves)
            .collect();
        let back = join(&before, leaves, &RowContext::default()).unwrap();
        assert_eq!(back.to_string(), value.to_string());
    }

    #[test]
    fn the_rows_own_ids_and_nearby_times_become_markers() {
        let row = RowContext {
            conversation_id: Some("conv-1"),
            message_id: Some("m-1"),
            base_ms: Some(1_796_467_796_946),
            event_id: Some("e-1"),
        };
        let value = json!({"conversationId": "conv-1", "id": "m-1", "other": "conv-2",
                           "event": "e-1", "at": 1_796_467_796_947i64, "far": 1_896_467_796_947i64,
                           "before": 1_796_467_796_000i64, "small": 120_000, "float": 1.5e12});
        let (_, leaves) = round_trip(value, &row);
        assert_eq!(
            leaves,
            vec![
                json!([0]),
                json!([1]),
                json!("conv-2"),
                json!([3]),
                json!([2, 1]),
                json!(1_896_467_796_947i64),
                json!([2, -946]),
                json!(120_000),
                json!(1.5e12)
            ]
        );
        // The base itself is `[2]`; rows written before marked it `[2, 0]`.
        let at = json!({"at": 1_796_467_796_946i64});
        let (shape, leaves) = round_trip(at.clone(), &row);
        assert_eq!(leaves, vec![json!([2])]);
        assert_eq!(join(&shape, vec![json!([2, 0])], &row).unwrap(), at);
        // Without a context nothing is marked.
        let (_, plain) = round_trip(json!({"conversationId": "conv-1"}), &RowContext::default());
        assert_eq!(plain, vec![json!("conv-1")]);
    }

    #[test]
    fn leaves_are_visited_with_the_key_they_sit_under() {
        let value = json!({"id": "a", "list": ["b", {"name": "c"}], "n": 1});
        let (shape, mut leaves) = split(&value, &RowContext::default());
        let mut seen = Vec::new();
        visit_leaves(&shape, &mut leaves, &mut |key, leaf| {
            seen.push((key.to_string(), leaf.clone()));
            *leaf = json!("x");
        })
        .unwrap();
        assert_eq!(
            seen,
            vec![
                ("id".into(), json!("a")),
                ("list".into(), json!("b")),
                ("name".into(), json!("c")),
                ("n".into(), json!(1))
            ]
        );
        let back = join(&shape, leaves, &RowContext::default()).unwrap();
        assert_eq!(
            back,
            json!({"id": "x", "list": ["x", {"name": "x"}], "n": "x"})
        );
        assert!(visit_leaves(&shape, &mut [json!(1)], &mut |_, _| {}).is_err());
        let places = places(&json!({"id": 0, "list": [0, {"name": 1}]}));
        assert_eq!(
            places,
            vec![
                ("id".into(), false),
                ("list".into(), false),
                ("name".into(), true)
            ]
        );
    }

    #[test]
    fn a_bare_id_at_a_reference_place_reads_as_a_reference() {
        let row = RowContext::default();
        let shape = json!({"customer": 1, "n": 0, "old": 0});
        let back = join(&shape, vec![json!(12), json!(3), json!({"$ref": 5})], &row).unwrap();
        assert_eq!(
            back.to_string(),
            r#"{"customer":{"$ref":12},"n":3,"old":{"$ref":5}}"#
        );
        // A visitor sees the reference as `{"$ref": id}`; it is stored bare again.
        let mut leaves = vec![json!(12), json!(3), json!({"$ref": 5})];
        let mut seen = Vec::new();
        visit_leaves(&shape, &mut leaves, &mut |key, leaf| {
            seen.push((key.to_string(), leaf.clone()))
        })
        .unwrap();
        assert_eq!(seen[0], ("customer".into(), json!({"$ref": 12})));
        assert_eq!(seen[1], ("n".into(), json!(3)));
        assert_eq!(leaves, vec![json!(12), json!(3), json!({"$ref": 5})]);
    }

    #[test]
    fn keys_that_are_ids_are_leaves_so_objects_keyed_by_ids_share_a_shape() {
        let a = "179f5627-1f27-49c3-b79c-956042959f61";
        let b = "4b78db19-f3dc-47ae-8409-551b0a973615";
        let row = RowContext::default();
        let (shape_a, leaves_a) = round_trip(json!({"t": {a: 5, "x": 1}, "n": null}), &row);
        let (shape_b, leaves_b) = round_trip(json!({"t": {b: 6, "x": 1}, "n": null}), &row);
        assert_eq!(shape_a, shape_b);
        assert_eq!(leaves_a, vec![json!(a), json!(5), json!(1), json!(null)]);
        assert_eq!(leaves_b[0], json!(b));
        // Two id keys, an id key holding an object, a key that starts with NUL, and
        // keys that only look like ids.
        let odd = json!({a: {b: [1, {"k": 2}]}, b: 3, "\u{0}k0": 4, "\u{0}=x": 5,
                         "179F5627-1F27-49C3-B79C-95604295": 6, "x79f5627-1f27-49c3-b79c-956042959f61": 7});
        let (shape, mut leaves) = round_trip(odd, &row);
        assert_eq!(
            places(&shape)
                .iter()
                .filter(|(key, _)| key.is_empty())
                .count(),
            5 // three id keys, and the two values under id keys
        );
        assert_eq!(places(&shape).len(), leaves.len());
        let mut seen = Vec::new();
        visit_leaves(&shape, &mut leaves, &mut |key, leaf| {
            seen.push((key.to_string(), leaf.clone()))
        })
        .unwrap();
        assert_eq!(seen[0], ("".into(), json!(1)));
        assert_eq!(seen[1], ("k".into(), json!(2)));
        assert_eq!(seen[2], ("".into(), json!(3)));
        assert_eq!(seen[3], ("\u{0}k0".into(), json!(4)));
        // A key place whose leaf is not a text is corrupt.
        let shape = json!({"\u{0}k0": 0});
        assert!(join(&shape, vec![json!(1), json!(2)], &row).is_err());
        assert!(join(&shape, vec![], &row).is_err());
    }

    #[test]
    fn leaves_that_do_not_fit_their_shape_are_corrupt() {
        let row = RowContext::default();
        let shape = json!({"a": 0, "b": 0});
        assert!(join(&shape, vec![json!(1)], &row).is_err());
        assert!(join(&shape, vec![json!(1), json!(2), json!(3)], &row).is_err());
        // A marker for a value the row does not have.
        assert!(join(&shape, vec![json!([0]), json!(2)], &row).is_err());
        assert!(join(&shape, vec![json!([9]), json!(2)], &row).is_err());
    }
}
