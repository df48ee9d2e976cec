//! A new version of a shared object stored as its differences from an earlier one.
//!
//! A task, a channel session or a participant is stored again each time one of its
//! values changes (a state, an agent, a time), though most of its leaves stay the
//! same. A packed body (`[shape, leaf, ...]`, see `packed`) whose number of leaves
//! and first two leaves (its kind and id) match an object the writer stored before
//! (its *base*, known from `object_cache`) is stored as `[[base], i, leaf, ...]`: the
//! base's id, then the index and value of each leaf that differs. When the version's
//! shape is not the base's (a null that became a reference: a task given an agent
//! marks that place as a reference), the delta names its own shape,
//! `[[base, shape], i, leaf, ...]`. A base is always a whole body, never a delta, so
//! reading one takes one more object. The first item (an array) tells a delta from a
//! packed body (a bare id or `{"$ref": id}`).

use super::{StoreError, StoreResult};
use serde_json::Value;

/// Bodies with fewer leaves are stored whole.
const MIN_LEAVES: usize = 8;

/// What a packed body (`[shape, leaf, ...]`) is a version of: its number of leaves
/// and its first two leaves (the shape may differ between versions, see above).
pub fn base_key(items: &[Value]) -> Option<(i64, String)> {
    if items.len() <= MIN_LEAVES {
        return None;
    }
    items.first()?.as_i64()?;
    Some((
        items.len() as i64 - 1,
        format!("{}|{}", items.get(1)?, items.get(2)?),
    ))
}

/// The delta of the packed body `items` (`[shape, leaf, ...]`) against the base
/// `base_id` with `base_items` (its own shape and leaves), if it is less than half as
/// long as `whole` (the packed body as text).
pub fn encode(base_id: i64, base_items: &[Value], items: &[Value], whole: &str) -> Option<String> {
    if base_items.len() != items.len() || items.is_empty() {
        return None;
    }
    let head = match (&base_items[0], &items[0]) {
        (old, new) if old == new => vec![base_id.into()],
        (_, new) => vec![base_id.into(), new.as_i64()?.into()],
    };
    let mut out = vec![Value::Array(head)];
    for (i, (old, new)) in base_items[1..].iter().zip(&items[1..]).enumerate() {
        if old != new {
            out.push(i.into());
            out.push(new.clone());
        }
    }
    let text = Value::Array(out).to_string();
    (text.len() * 2 < whole.len()).then_some(text)
}

/// The base a stored body is a delta of, if it is one.
pub fn base_of(items: &[Value]) -> Option<i64> {
    match items.first()? {
        Value::Array(base) if matches!(base.len(), 1 | 2) => base[0].as_i64(),
        _ => None,
    }
}

/// The shape a delta names when it is not its base's (see the module doc).
pub fn own_shape(items: &[Value]) -> Option<i64> {
    match items.first()? {
        Value::Array(base) if base.len() == 2 => base[1].as_i64(),
        _ => None,
    }
}

/// The (index, leaf) pairs of a delta's items (after its base).
pub fn changes(items: &[Value]) -> StoreResult<Vec<(usize, &Value)>> {
    let pairs = items.get(1..).unwrap_or_default();
    if pairs.len() % 2 != 0 {
        return Err(corrupt("an index without a leaf"));
    }
    pairs
        .chunks(2)
        .map(|pair| {
            let i = pair[0].as_u64().ok_or_else(|| corrupt("a bad index"))?;
            Ok((i as usize, &pair[1]))
        })
        .collect()
}

/// The leaves of the version: the base's leaves with the delta's changes.
pub fn apply(items: &[Value], mut base_leaves: Vec<Value>) -> StoreResult<Vec<Value>> {
    for (i, leaf) in changes(items)? {
        let slot = base_leaves
            .get_mut(i)
            .ok_or_else(|| corrupt("an index beyond its base"))?;
        *slot = leaf.clone();
    }
    Ok(base_leaves)
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("object delta: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_version_is_its_base_with_the_changed_leaves() {
        let base: Vec<Value> = serde_json::from_value(json!([
            31,
            "t-1",
            "c-1",
            "QUEUED",
            null,
            "a long queue id 0123456789",
            "Default",
            "INBOUND",
            1_796_494_069_280i64,
            0,
            12
        ]))
        .unwrap();
        let mut next = base.clone();
        next[3] = json!("ACTIVE");
        next[4] = json!("agent-1");
        let whole = json!(next).to_string();
        let text = encode(40, &base, &next, &whole).expect("a short delta");
        assert_eq!(text, r#"[[40],2,"ACTIVE",3,"agent-1"]"#);
        let items: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(base_of(&items), Some(40));
        assert_eq!(own_shape(&items), None);
        assert_eq!(apply(&items, base[1..].to_vec()).unwrap(), next[1..]);
        // Nothing in common: stored whole.
        let other: Vec<Value> = base.iter().map(|_| json!("different")).collect();
        assert_eq!(encode(40, &base, &other, &whole), None);
        assert_eq!(encode(40, &base[1..], &next, &whole), None);
    }

    #[test]
    fn a_version_of_another_shape_names_it() {
        // A null that became a reference: the shape marks the place differently.
        let base: Vec<Value> = serde_json::from_value(json!([
            31,
            7,
            8,
            "QUEUED",
            null,
            "a long queue id 0123456789",
            "Default",
            "INBOUND",
            0,
            12
        ]))
        .unwrap();
        let mut next = base.clone();
        next[0] = json!(35);
        next[4] = json!(29);
        let whole = json!(next).to_string();
        let text = encode(40, &base, &next, &whole).expect("a short delta");
        assert_eq!(text, "[[40,35],3,29]");
        let items: Vec<Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(base_of(&items), Some(40));
        assert_eq!(own_shape(&items), Some(35));
        assert_eq!(apply(&items, base[1..].to_vec()).unwrap(), next[1..]);
        // Both versions are found under one key.
        assert_eq!(base_key(&base), base_key(&next));
    }

    #[test]
    fn bodies_name_their_base_and_bad_deltas_are_corrupt() {
        let items: Vec<Value> =
            serde_json::from_value(json!([31, "t-1", "c-1", 1, 2, 3, 4, 5, 6, 7])).unwrap();
        assert_eq!(base_key(&items), Some((9, r#""t-1"|"c-1""#.to_string())));
        assert_eq!(base_key(&items[..5]), None);
        assert_eq!(base_of(&items), None);
        let bad: Vec<Value> = serde_json::from_value(json!([[40], 2])).unwrap();
        assert!(apply(&bad, vec![json!(1), json!(2), json!(3)]).is_err());
        let beyond: Vec<Value> = serde_json::from_value(json!([[40], 9, "x"])).unwrap();
        assert!(apply(&beyond, vec![json!(1)]).is_err());
    }
}
