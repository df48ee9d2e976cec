//! Desk payloads parsed at the edge: each event's argument becomes its own serde
//! struct before a handler acts, with the field rules a plain `Option<String>`
//! cannot state (an optional id may be absent, but a present `null`, number,
//! boolean, array or object is refused).

use super::DeskError;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Parses an event's payload into `T`; a mismatch is `invalid_payload` naming the
/// field (`agentId: invalid type: null, expected a string`).
pub(super) fn parse<T: DeserializeOwned>(payload: &Value) -> Result<T, DeskError> {
    serde_path_to_error::deserialize(payload).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path.is_empty() || path == "." {
            DeskError::invalid(inner.to_string())
        } else {
            DeskError::invalid(format!("{path}: {inner}"))
        }
    })
}

/// For `#[serde(deserialize_with = "non_empty_string")]`: a required field that must be
/// a non-empty string (absent is serde's ``missing field `conversationId` ``).
pub(super) fn non_empty_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = String::deserialize(d)?;
    if s.is_empty() {
        return Err(D::Error::custom("must be a non-empty string"));
    }
    Ok(s)
}

/// For `#[serde(default, deserialize_with = "present_string")]`: an absent field is
/// `None`; a present one must be a non-empty string.
pub(super) fn present_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    non_empty_string(d).map(Some)
}

/// For `#[serde(default, deserialize_with = "blank_or_string")]`: an optional string
/// that desks may also send as `null` or `""` for "none" (the envelope fields that
/// were always read leniently); any other type is refused.
pub(super) fn blank_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(s) if !s.is_empty() => Ok(Some(s)),
        _ => Ok(None),
    }
}

/// For `#[serde(default, deserialize_with = "present")]`: an absent field is `None`; a
/// present one (even `null`) must be a `T`.
pub(super) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// A reason code: a string, or `{name}` / `{id}` (name first). An empty string is
/// no reason code; any other type is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ReasonCode(pub Option<String>);

impl<'de> Deserialize<'de> for ReasonCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(ReasonCode(Some(s).filter(|s| !s.is_empty()))),
            Value::Object(o) => {
                let named = ["name", "id"]
                    .iter()
                    .find_map(|k| o.get(*k).and_then(Value::as_str))
                    .filter(|s| !s.is_empty());
                match named {
                    Some(s) => Ok(ReasonCode(Some(s.to_string()))),
                    None => Err(D::Error::custom(
                        "a reasonCode object needs a non-empty string name or id",
                    )),
                }
            }
            other => Err(D::Error::custom(format!(
                "must be a string or {{name}}, found {}",
                crate::cim::json_kind(&other)
            ))),
        }
    }
}

/// Test helper for the per-event structs: every value of `bad` put at `field` of
/// `valid` is refused as `invalid_payload` with a message naming `field`.
#[cfg(test)]
pub(super) fn assert_refused<T: DeserializeOwned + std::fmt::Debug>(
    valid: &Value,
    field: &str,
    bad: &[Value],
) {
    for value in bad {
        let mut probe = valid.clone();
        probe[field] = value.clone();
        let err = parse::<T>(&probe).expect_err(&format!("{field}: {value} was accepted"));
        assert_eq!(err.code, "invalid_payload", "{probe}");
        assert!(err.message.starts_with(field), "{probe} -> {}", err.message);
    }
}

/// Wrong values for an optional string that may be blank (`blank_or_string`).
#[cfg(test)]
pub(super) fn not_blank_or_strings() -> Vec<Value> {
    use serde_json::json;
    vec![json!(5), json!(true), json!(["x"]), json!({"x": 1})]
}

/// Wrong values for a required or optional non-empty string field.
#[cfg(test)]
pub(super) fn not_strings() -> Vec<Value> {
    use serde_json::json;
    vec![
        json!(null),
        json!(5),
        json!(true),
        json!(["x"]),
        json!({"x": 1}),
        json!(""),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        #[serde(default, deserialize_with = "present_string")]
        agent_id: Option<String>,
        #[serde(default, deserialize_with = "present")]
        reason: Option<ReasonCode>,
    }

    #[test]
    fn absent_is_none_and_wrong_types_are_refused_by_name() {
        let ok: Probe = parse(&json!({})).unwrap();
        assert_eq!(ok.agent_id, None);
        let ok: Probe = parse(&json!({"agentId": "a1", "reason": {"id": "r"}})).unwrap();
        assert_eq!(ok.agent_id.as_deref(), Some("a1"));
        assert_eq!(ok.reason, Some(ReasonCode(Some("r".into()))));
        for bad in [
            json!(null),
            json!(5),
            json!(true),
            json!([]),
            json!({}),
            json!(""),
        ] {
            let err = parse::<Probe>(&json!({ "agentId": bad })).unwrap_err();
            assert_eq!(err.code, "invalid_payload");
            assert!(err.message.starts_with("agentId"), "{}", err.message);
        }
        for bad in [
            json!(null),
            json!(5),
            json!(false),
            json!(["x"]),
            json!({"x": 1}),
        ] {
            let err = parse::<Probe>(&json!({ "reason": bad })).unwrap_err();
            assert!(err.message.starts_with("reason"), "{}", err.message);
        }
    }
}
