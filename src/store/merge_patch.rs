//! JSON merge patches (RFC 7386): the patch that turns one value into another, and
//! its application. Used to store the conversation manager's runtime on an event as
//! only what changed since the runtime stored before it.
//!
//! A merge patch cannot set a member to `null` (null removes it): a member that
//! became `null` comes back missing, which readers with serde defaults (the runtime)
//! read the same way.

use serde_json::{Map, Value};

/// The merge patch that turns `from` into `to`; `None` when they are equal.
pub fn diff(from: &Value, to: &Value) -> Option<Value> {
    if from == to {
        return None;
    }
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (key, new) in b {
                match a.get(key) {
                    Some(old) if old == new => {}
                    Some(old) if old.is_object() && new.is_object() => {
                        if let Some(inner) = diff(old, new) {
                            patch.insert(key.clone(), inner);
                        }
                    }
                    // A member that became null: removing it reads back the same.
                    None if new.is_null() => {}
                    _ => {
                        patch.insert(key.clone(), new.clone());
                    }
                }
            }
            for (key, old) in a {
                if !b.contains_key(key) && !old.is_null() {
                    patch.insert(key.clone(), Value::Null);
                }
            }
            Some(Value::Object(patch))
        }
        _ => Some(to.clone()),
    }
}

/// Applies a merge patch to `target` (RFC 7386, section 2).
pub fn apply(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in members {
            if value.is_null() {
                map.shift_remove(key);
            } else {
                apply(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn without_nulls(value: &Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), without_nulls(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    #[test]
    fn a_patch_turns_the_old_value_into_the_new_one() {
        let old = json!({
            "timers": {"customerActivity": {"s1": 10}, "agentSla": null, "wrapups": {}},
            "queueId": "q1", "awaitingAgentReply": false, "agentTasks": {"a1": "t1"}
        });
        let new = json!({
            "timers": {"customerActivity": {"s1": 20}, "agentSla": {"totalMs": 5, "points": [1, 2]},
                       "wrapups": {}},
            "queueId": "q1", "awaitingAgentReply": true, "agentTasks": {}
        });
        let patch = diff(&old, &new).unwrap();
        assert_eq!(
            patch,
            json!({"timers": {"customerActivity": {"s1": 20},
                              "agentSla": {"totalMs": 5, "points": [1, 2]}},
                   "awaitingAgentReply": true, "agentTasks": {"a1": null}})
        );
        let mut restored = old.clone();
        apply(&mut restored, &patch);
        assert_eq!(without_nulls(&restored), without_nulls(&new));

        // And back: members that became null are removed.
        let back = diff(&new, &old).unwrap();
        let mut again = restored;
        apply(&mut again, &back);
        assert_eq!(without_nulls(&again), without_nulls(&old));
        assert_eq!(diff(&old, &old), None);
    }

    #[test]
    fn non_objects_are_replaced_whole() {
        let mut target = json!([1, 2]);
        apply(&mut target, &json!({"a": 1}));
        assert_eq!(target, json!({"a": 1}));
        assert_eq!(diff(&json!(1), &json!("x")), Some(json!("x")));
    }
}
