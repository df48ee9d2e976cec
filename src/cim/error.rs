//! `CimError`: why a CIM document was refused, naming the offending field by its JSON
//! path (e.g. `header.channelData.serviceIdentifier`), so the HTTP and socket layers
//! can answer `{code, message}` without re-deriving what went wrong.

use serde_json::Value;

/// A CIM document failed validation or could not be read into the typed model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CimError {
    /// A required field is absent, `null`, or an empty string.
    #[error("missing required field `{path}`")]
    MissingField {
        /// Dotted JSON path of the field, e.g. `body.type`.
        path: String,
    },
    /// A field is present but has the wrong type or a value the model refuses.
    #[error("invalid field `{path}`: {reason}")]
    InvalidField {
        /// Dotted JSON path of the field; empty for the document itself.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl CimError {
    /// A required field is missing.
    pub fn missing(path: impl Into<String>) -> Self {
        CimError::MissingField { path: path.into() }
    }

    /// A field has a bad type or value.
    pub fn invalid(path: impl Into<String>, reason: impl Into<String>) -> Self {
        CimError::InvalidField {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// The JSON path of the offending field.
    pub fn path(&self) -> &str {
        match self {
            CimError::MissingField { path } | CimError::InvalidField { path, .. } => path,
        }
    }

    /// A stable machine-readable code for `{code, message}` error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            CimError::MissingField { .. } => "missing_field",
            CimError::InvalidField { .. } => "invalid_field",
        }
    }

    /// Wraps a serde error raised while reading the subtree at `path`.
    pub fn from_serde(path: impl Into<String>, error: &serde_json::Error) -> Self {
        CimError::invalid(path, error.to_string())
    }
}

/// The value at a dotted `path` below `root`, if every step exists.
pub(crate) fn lookup<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .filter(|step| !step.is_empty())
        .try_fold(root, |node, step| node.get(step))
}

/// The object at `path`; missing or `null` is `MissingField`, any other type is
/// `InvalidField`.
pub(crate) fn require_object<'v>(
    root: &'v Value,
    path: &str,
) -> Result<&'v serde_json::Map<String, Value>, CimError> {
    match lookup(root, path) {
        None | Some(Value::Null) => Err(CimError::missing(path)),
        Some(Value::Object(map)) => Ok(map),
        Some(other) => Err(CimError::invalid(
            path,
            format!("expected an object, found {}", json_kind(other)),
        )),
    }
}

/// The non-empty string at `path`; missing, `null` or `""` is `MissingField`, any other
/// type is `InvalidField`.
pub(crate) fn require_str<'v>(root: &'v Value, path: &str) -> Result<&'v str, CimError> {
    match lookup(root, path) {
        None | Some(Value::Null) => Err(CimError::missing(path)),
        Some(Value::String(s)) if s.trim().is_empty() => Err(CimError::missing(path)),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(CimError::invalid(
            path,
            format!("expected a string, found {}", json_kind(other)),
        )),
    }
}

/// Longest id, identifier or name a client may send (message and event ids, sender ids,
/// service and customer identifiers): longer ones are refused before anything is stored.
pub const MAX_ID_LEN: usize = 256;

/// Refuses a string longer than [`MAX_ID_LEN`] characters at `path`.
pub fn check_len(path: &str, value: &str) -> Result<(), CimError> {
    if value.chars().count() > MAX_ID_LEN {
        return Err(CimError::invalid(
            path,
            format!("longer than {MAX_ID_LEN} characters"),
        ));
    }
    Ok(())
}

/// [`require_str`] bounded by [`MAX_ID_LEN`].
pub(crate) fn require_id<'v>(root: &'v Value, path: &str) -> Result<&'v str, CimError> {
    let s = require_str(root, path)?;
    check_len(path, s)?;
    Ok(s)
}

/// A short name for the JSON type of `value`, for error messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// How deep a client's JSON may nest. Real CIM payloads nest about ten levels; the
/// store wraps some objects one level deeper and reads its rows back under
/// serde_json's limit of 128, so anything deeper than this is refused at the edge
/// (desk and widget events, connector messages) before it can be stored.
pub const MAX_JSON_DEPTH: usize = 32;

/// True when `value` nests objects and arrays deeper than `limit` levels.
pub fn nests_deeper_than(value: &Value, limit: usize) -> bool {
    // Recursion stops at `limit`, so it never goes deeper than that; no allocation on
    // the message path.
    match value {
        Value::Array(items) => limit == 0 || items.iter().any(|v| nests_deeper_than(v, limit - 1)),
        Value::Object(map) => limit == 0 || map.values().any(|v| nests_deeper_than(v, limit - 1)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_follows_dotted_paths() {
        let doc = json!({"a": {"b": {"c": 1}}});
        assert_eq!(lookup(&doc, "a.b.c"), Some(&json!(1)));
        assert_eq!(lookup(&doc, "a.x.c"), None);
    }

    #[test]
    fn require_str_distinguishes_missing_from_wrong_type() {
        let doc = json!({"a": {"empty": " ", "num": 3, "ok": "x", "nil": null}});
        assert_eq!(require_str(&doc, "a.ok"), Ok("x"));
        assert_eq!(
            require_str(&doc, "a.empty"),
            Err(CimError::missing("a.empty"))
        );
        assert_eq!(require_str(&doc, "a.nil"), Err(CimError::missing("a.nil")));
        assert_eq!(
            require_str(&doc, "a.none"),
            Err(CimError::missing("a.none"))
        );
        let err = require_str(&doc, "a.num").unwrap_err();
        assert_eq!(err.path(), "a.num");
        assert_eq!(err.code(), "invalid_field");
        assert!(err
            .to_string()
            .contains("expected a string, found a number"));
    }

    #[test]
    fn require_object_reports_path() {
        let doc = json!({"header": {"channelData": "nope"}});
        let err = require_object(&doc, "header.channelData").unwrap_err();
        assert_eq!(err.path(), "header.channelData");
        assert_eq!(
            require_object(&doc, "body").unwrap_err(),
            CimError::missing("body")
        );
    }

    #[test]
    fn nesting_is_measured_in_objects_and_arrays() {
        let mut deep = serde_json::json!("leaf");
        for _ in 0..MAX_JSON_DEPTH {
            deep = serde_json::json!({"$ref": deep});
        }
        assert!(!nests_deeper_than(&deep, MAX_JSON_DEPTH));
        let deeper = serde_json::json!([deep]);
        assert!(nests_deeper_than(&deeper, MAX_JSON_DEPTH));
        assert!(!nests_deeper_than(&serde_json::json!(7), 0));
    }
}
