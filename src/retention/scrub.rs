//! Replacing a customer's personal strings in stored JSON texts, in place.
//!
//! A stored text is plain JSON or a one-character tag and then JSON whose shared
//! objects are references `{"$ref": <cim_objects id>}` (see `store::objects`).
//! [`Secrets::scrub_text`] replaces, anywhere in the JSON, a string equal to one of
//! the customer's values (name, email, identifiers, what they typed in the widget's
//! form) by [`ERASED`], and within longer strings (not ids) the values' occurrences;
//! it leaves references as they are and reports them, so the shared objects they name
//! are scrubbed in place too and every row referring to them stays readable.

use crate::store::{delta, objects, packed, StoreError, StoreResult};
use serde_json::Value;
use std::collections::HashSet;

/// What an erased value reads as.
pub const ERASED: &str = "(erased)";

/// Values shorter than this are not looked for inside longer strings.
const MIN_WITHIN: usize = 3;

/// The values to erase.
#[derive(Debug, Default)]
pub struct Secrets {
    exact: HashSet<String>,
    within: Vec<String>,
}

impl Secrets {
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.is_empty() || value == ERASED {
            return;
        }
        if self.exact.insert(value.to_string()) && value.chars().count() >= MIN_WITHIN {
            self.within.push(value.to_lowercase());
        }
    }

    /// Every string found in `value` (a customer's attributes).
    pub fn add_all(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add(s),
            Value::Array(items) => items.iter().for_each(|v| self.add_all(v)),
            Value::Object(map) => map.values().for_each(|v| self.add_all(v)),
            _ => {}
        }
    }

    /// `text` (a stored column or object body) with the secrets replaced, if any
    /// was found; pushes the ids of the shared objects it refers to onto `refs`. A
    /// packed text (see `store::packed`) is scrubbed leaf by leaf with the keys of its
    /// shape, which `shapes` reads (it parses any stored object's body: a delta's
    /// base is read through it too).
    pub fn scrub_text(
        &self,
        text: &str,
        shapes: &mut dyn FnMut(i64) -> StoreResult<Value>,
        refs: &mut Vec<i64>,
    ) -> StoreResult<Option<String>> {
        let (tag, json) = match text.chars().next() {
            // A shared id's body is a JSON string (`store::objects::share_ids`).
            Some('{' | '[' | '"') | None => ("", text),
            Some(c) => text.split_at(c.len_utf8()),
        };
        let mut value: Value = serde_json::from_str(json)
            .map_err(|e| StoreError::Corrupt(format!("stored JSON text: {e}")))?;
        if let Some(base) = value.as_array().and_then(|items| delta::base_of(items)) {
            // An object version stored as a delta of its base (`store::delta`): the
            // keys of its leaves are those of the base's shape.
            refs.push(base);
            let own = value.as_array().and_then(|items| delta::own_shape(items));
            let shape_id = match own {
                Some(shape) => shape,
                None => objects::packed_shape(&shapes(base)?).ok_or_else(|| {
                    StoreError::Corrupt(format!("delta base {base} is not packed"))
                })?,
            };
            let places = packed::places(&shapes(shape_id)?);
            let mut changed = false;
            if let Value::Array(items) = &mut value {
                for pair in items[1..].chunks_mut(2) {
                    let [index, leaf] = pair else {
                        return Err(StoreError::Corrupt(
                            "object delta: an index without a leaf".into(),
                        ));
                    };
                    let (key, is_ref) = index
                        .as_u64()
                        .and_then(|i| places.get(i as usize))
                        .ok_or_else(|| StoreError::Corrupt("object delta: a bad index".into()))?;
                    match leaf.as_i64() {
                        Some(id) if *is_ref => refs.push(id),
                        _ => changed |= self.scrub(leaf, key, refs),
                    }
                }
            }
            return Ok(changed.then(|| format!("{tag}{value}")));
        }
        if let Some(shape_id) = objects::packed_shape(&value) {
            let shape = shapes(shape_id)?;
            let mut changed = false;
            if let Value::Array(items) = &mut value {
                packed::visit_leaves(&shape, &mut items[1..], &mut |key, leaf| {
                    changed |= self.scrub(leaf, key, refs);
                })?;
            }
            return Ok(changed.then(|| format!("{tag}{value}")));
        }
        if !self.scrub(&mut value, "", refs) {
            return Ok(None);
        }
        Ok(Some(format!("{tag}{value}")))
    }

    /// Scrubs `value` (under `key`); says whether anything changed.
    fn scrub(&self, value: &mut Value, key: &str, refs: &mut Vec<i64>) -> bool {
        match value {
            Value::String(s) => match self.replaced(s, key) {
                Some(new) => {
                    *s = new;
                    true
                }
                None => false,
            },
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |changed, v| self.scrub(v, key, refs) | changed),
            Value::Object(map) => {
                if map.len() == 1 {
                    if let Some(id) = map.get("$ref").and_then(Value::as_i64) {
                        refs.push(id);
                        return false;
                    }
                }
                map.iter_mut()
                    .fold(false, |changed, (k, v)| self.scrub(v, k, refs) | changed)
            }
            _ => false,
        }
    }

    fn replaced(&self, s: &str, key: &str) -> Option<String> {
        if self.exact.contains(s.trim()) {
            return Some(ERASED.to_string());
        }
        // Ids are matched whole only: a short identifier may be part of a UUID.
        let is_id = key == "id" || key == "_id" || key.ends_with("Id") || key.ends_with("_id");
        if is_id || s.len() < MIN_WITHIN {
            return None;
        }
        let lower = s.to_lowercase();
        if !self.within.iter().any(|w| lower.contains(w.as_str())) {
            return None;
        }
        // Lowercasing keeps byte offsets only for ASCII; otherwise the whole string goes.
        if !s.is_ascii() {
            return Some(ERASED.to_string());
        }
        let mut out = s.to_string();
        for w in &self.within {
            let mut from = 0;
            while let Some(at) = out[from..].to_ascii_lowercase().find(w.as_str()) {
                let at = from + at;
                out.replace_range(at..at + w.len(), ERASED);
                from = at + ERASED.len();
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_shapes(id: i64) -> StoreResult<Value> {
        Err(StoreError::NotFound(format!("shape {id}")))
    }

    #[test]
    fn a_packed_text_is_scrubbed_with_the_keys_of_its_shape() {
        let conn = crate::store::test_connection();
        let value = json!({"id": "a43466b", "firstName": "Jolene", "customer": {"$ref": 12},
                           "note": "ask JOLENE", "n": 43466});
        let d = crate::store::objects::dehydrate(value);
        let mut interner = crate::store::objects::Interner::default();
        let text = format!("%{}", interner.intern(&conn, &d).unwrap());
        let mut shapes = |id| crate::store::objects::read_shape(&conn, id);
        let mut refs = Vec::new();
        let out = secrets()
            .scrub_text(&text, &mut shapes, &mut refs)
            .unwrap()
            .unwrap();
        // The original single-key `$ref` object is data, not a reference.
        assert_eq!(refs, Vec::<i64>::new());
        let back = crate::store::objects::Inflater::new(&conn)
            .decode(&out, "test")
            .unwrap();
        assert_eq!(
            back,
            json!({"id": "a43466b", "firstName": ERASED, "customer": {"$ref": 12},
                   "note": "ask (erased)", "n": 43466})
        );
    }

    #[test]
    fn an_id_shared_as_an_object_is_scrubbed_in_its_object() {
        // A customer identifier that is a UUID is stored once as a shared object
        // whose body is the JSON string (`objects::share_ids`); the text refers to it.
        let conn = crate::store::test_connection();
        let id = "6f9d3c1e-2b4a-4c8e-9f1a-7d2e5b8c0a13";
        let d = crate::store::objects::dehydrate(json!({"identifier": id, "n": 1}));
        let mut interner = crate::store::objects::Interner::default();
        let text = format!("%{}", interner.intern(&conn, &d).unwrap());
        assert!(!text.contains(id), "{text}");
        let mut secrets = Secrets::default();
        secrets.add(id);
        let mut shapes = |id| crate::store::objects::read_shape(&conn, id);
        let mut refs = Vec::new();
        assert_eq!(
            secrets.scrub_text(&text, &mut shapes, &mut refs).unwrap(),
            None
        );
        assert_eq!(refs.len(), 1);
        let body: String = conn
            .query_row(
                "SELECT body FROM cim_objects WHERE id = ?1",
                [refs[0]],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(body, format!("\"{id}\""));
        let scrubbed = secrets.scrub_text(&body, &mut shapes, &mut refs).unwrap();
        assert_eq!(scrubbed.as_deref(), Some("\"(erased)\""));
    }

    fn secrets() -> Secrets {
        let mut s = Secrets::default();
        s.add_all(&json!({"web": ["43466"], "lastName": "Zabriskie", "email": "jz@example.org"}));
        s.add("Jolene");
        s
    }

    #[test]
    fn equal_values_and_occurrences_are_replaced_ids_and_references_are_kept() {
        let text = format!(
            "~{}",
            json!({
                "id": "a43466b", "customer": {"$ref": 12}, "firstName": "Jolene",
                "channelData": {"channelCustomerIdentifier": "43466", "note": "ask JOLENE zabriskie"},
                "list": [{"$ref": 13}, "jz@example.org"], "n": 43466
            })
        );
        let mut refs = Vec::new();
        let out = secrets()
            .scrub_text(&text, &mut no_shapes, &mut refs)
            .unwrap()
            .unwrap();
        assert_eq!(refs, vec![12, 13]);
        assert!(out.starts_with('~'), "{out}");
        let back: Value = serde_json::from_str(&out[1..]).unwrap();
        assert_eq!(back["id"], "a43466b");
        assert_eq!(back["firstName"], ERASED);
        assert_eq!(back["channelData"]["channelCustomerIdentifier"], ERASED);
        assert_eq!(back["channelData"]["note"], "ask (erased) (erased)");
        assert_eq!(back["list"], json!([{"$ref": 13}, ERASED]));
        assert_eq!(back["n"], 43466);
    }

    #[test]
    fn a_text_without_secrets_is_left_alone_and_bad_json_is_corrupt() {
        let mut refs = Vec::new();
        let plain = json!({"a": "nothing here", "b": {"$ref": 3}}).to_string();
        assert_eq!(
            secrets()
                .scrub_text(&plain, &mut no_shapes, &mut refs)
                .unwrap(),
            None
        );
        assert_eq!(refs, vec![3]);
        assert!(matches!(
            secrets().scrub_text("~{oops", &mut no_shapes, &mut refs),
            Err(StoreError::Corrupt(_))
        ));
    }
}
