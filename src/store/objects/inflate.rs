//! Reading stored objects back: [`Inflater`] turns a stored column's text (packed,
//! compact or plain JSON) and the shared objects it refers to into the JSON it was
//! written from, parsing each object and shape once per reader.

use super::{PACKED_TAG, REF, TAG};
use crate::store::delta;
use crate::store::packed::{self, RowContext};
use crate::store::{parse_json, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension};
use serde_json::Value;
use std::collections::HashMap;

/// The shape (see `packed`) stored as object `id`.
pub fn read_shape(conn: &Connection, id: i64) -> StoreResult<Value> {
    Inflater::new(conn).shape(id).cloned()
}

/// The id of the shape a stored text (after its tag) or object body refers to, if it
/// is packed: an array whose first item is a bare id or a reference.
pub fn packed_shape(value: &Value) -> Option<i64> {
    shape_id(value.as_array()?.first()?)
}

/// The shape id a packed text's first item names (a bare id or a reference).
fn shape_id(first: &Value) -> Option<i64> {
    if let Some(id) = first.as_i64() {
        return Some(id);
    }
    let first = first.as_object()?;
    if first.len() != 1 {
        return None;
    }
    first.get(REF)?.as_i64()
}

/// Reads stored objects back, each parsed once per reader.
pub struct Inflater<'c> {
    conn: &'c Connection,
    cache: HashMap<i64, Value>,
    shapes: HashMap<i64, Value>,
}

impl<'c> Inflater<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        Inflater {
            conn,
            cache: HashMap::new(),
            shapes: HashMap::new(),
        }
    }

    /// A stored column's text as the JSON it was written from (plain JSON as is).
    pub fn decode(&mut self, text: &str, what: &str) -> StoreResult<Value> {
        self.decode_row(text, &RowContext::default(), what)
    }

    /// [`Inflater::decode`] of a text written by [`Interner::compact_row`] for a row
    /// whose columns hold what `row` says.
    pub fn decode_row(&mut self, text: &str, row: &RowContext, what: &str) -> StoreResult<Value> {
        if let Some(packed) = text.strip_prefix(PACKED_TAG) {
            return self.read_packed(packed, row, what);
        }
        match text.strip_prefix(TAG) {
            Some(compact) => self.read_compact(compact, what),
            None => parse_json(text, what),
        }
    }

    /// An untagged packed text (`[shape, leaf, ...]`) of a row as its original JSON.
    pub fn read_packed(&mut self, text: &str, row: &RowContext, what: &str) -> StoreResult<Value> {
        let mut value = self.unpack(text, row, what)?;
        self.inflate(&mut value)?;
        Ok(value)
    }

    /// An untagged packed text of a row with its own keys and leaves put back but its
    /// shared objects left as references (for [`Inflater::inflate`] to resolve where
    /// a reader needs them): a reader of one field skips reading the rest.
    pub fn unpack(&mut self, text: &str, row: &RowContext, what: &str) -> StoreResult<Value> {
        let Value::Array(mut items) = parse_json(text, what)? else {
            return Err(StoreError::Corrupt(format!(
                "{what}: a packed text is not an array"
            )));
        };
        if items.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "{what}: a packed text has no shape"
            )));
        }
        if let Some(base) = delta::base_of(&items) {
            // A version stored as a delta of a whole body (see `delta`).
            let Value::Array(mut whole) = parse_json(&self.body(base)?, what)? else {
                return Err(StoreError::Corrupt(format!(
                    "{what}: base {base} is not packed"
                )));
            };
            if whole.is_empty() || delta::base_of(&whole).is_some() {
                return Err(StoreError::Corrupt(format!("{what}: bad base {base}")));
            }
            let leaves = delta::apply(&items, whole.split_off(1))?;
            whole.extend(leaves);
            if let Some(shape) = delta::own_shape(&items) {
                whole[0] = shape.into();
            }
            items = whole;
        }
        let shape_id = match items.first().and_then(shape_id) {
            Some(id) => id,
            None => return Err(StoreError::Corrupt(format!("{what}: bad shape reference"))),
        };
        let leaves = items.split_off(1);
        packed::join(self.shape(shape_id)?, leaves, row)
    }

    /// A shape (stored as an object body, never inflated), parsed once per reader.
    fn shape(&mut self, id: i64) -> StoreResult<&Value> {
        if !self.shapes.contains_key(&id) {
            let body = self.body(id)?;
            let shape = parse_json(&body, "cim_objects.body")?;
            self.shapes.insert(id, shape);
        }
        self.shapes
            .get(&id)
            .ok_or_else(|| StoreError::Corrupt(format!("shape {id} is missing")))
    }

    /// The stored body of object `id`, as it is.
    pub fn body(&self, id: i64) -> StoreResult<String> {
        self.conn
            .prepare_cached("SELECT body FROM cim_objects WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::Corrupt(format!("shared object {id} is missing")))
    }

    /// An untagged compact text (from [`Interner::intern`]) as its original JSON.
    fn read_compact(&mut self, text: &str, what: &str) -> StoreResult<Value> {
        let mut value = parse_json(text, what)?;
        self.inflate(&mut value)?;
        Ok(value)
    }

    /// Puts the stored objects back into `value`, which was read from a compact text.
    pub fn inflate(&mut self, value: &mut Value) -> StoreResult<()> {
        match value {
            Value::Object(map) => {
                if map.len() == 1 {
                    match map.get_mut(REF) {
                        Some(Value::Number(n)) => {
                            let id = n.as_i64().ok_or_else(|| {
                                StoreError::Corrupt(format!("bad object reference {n}"))
                            })?;
                            *value = self.object(id)?;
                            return Ok(());
                        }
                        Some(Value::Array(wrapped)) if wrapped.len() == 1 => {
                            let mut inner = wrapped.pop().unwrap_or(Value::Null);
                            self.inflate(&mut inner)?;
                            map.insert(REF.to_owned(), inner);
                            return Ok(());
                        }
                        _ => {}
                    }
                }
                for child in map.values_mut() {
                    self.inflate(child)?;
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.inflate(item)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn object(&mut self, id: i64) -> StoreResult<Value> {
        if let Some(v) = self.cache.get(&id) {
            return Ok(v.clone());
        }
        let body = self.body(id)?;
        let value = if body.starts_with('[') {
            self.read_packed(&body, &RowContext::default(), "cim_objects.body")?
        } else {
            let mut value = parse_json(&body, "cim_objects.body")?;
            self.inflate(&mut value)?;
            value
        };
        self.cache.insert(id, value.clone());
        Ok(value)
    }
}
