//! `Nullable<T>`: a field that can be absent, present as `null`, or present with a value.
//!
//! The seeds distinguish all three (`"token": null` is not the same document as no
//! `token` key), and a deserialized sample must re-serialize to the identical JSON, so
//! a plain `Option<T>` is not enough. Every optional CIM field is declared as
//!
//! ```ignore
//! #[serde(default, skip_serializing_if = "Nullable::is_absent")]
//! pub field: Nullable<T>,
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An optional JSON field that remembers whether it was missing or explicitly `null`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Nullable<T> {
    /// The key was not present.
    #[default]
    Absent,
    /// The key was present with the value `null`.
    Null,
    /// The key was present with a value.
    Value(T),
}

impl<T> Nullable<T> {
    /// True when the key was not present; used by `skip_serializing_if`.
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }

    /// True when the key was present as `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Nullable::Null)
    }

    /// True when the key carried a value.
    pub fn is_value(&self) -> bool {
        matches!(self, Nullable::Value(_))
    }

    /// The value, if there is one (absent and null both give `None`).
    pub fn get(&self) -> Option<&T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Mutable access to the value, if there is one.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value, consuming the field (absent and null both give `None`).
    pub fn into_option(self) -> Option<T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Borrowing view: `Nullable<&T>` with the same presence.
    pub fn as_ref(&self) -> Nullable<&T> {
        match self {
            Nullable::Absent => Nullable::Absent,
            Nullable::Null => Nullable::Null,
            Nullable::Value(v) => Nullable::Value(v),
        }
    }

    /// Maps the value, keeping absent and null as they are.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Nullable<U> {
        match self {
            Nullable::Absent => Nullable::Absent,
            Nullable::Null => Nullable::Null,
            Nullable::Value(v) => Nullable::Value(f(v)),
        }
    }

    /// Stores a value, whatever was there before.
    pub fn set(&mut self, value: T) {
        *self = Nullable::Value(value);
    }
}

impl<T: AsRef<str>> Nullable<T> {
    /// The value as `&str`, if there is one.
    pub fn as_deref_str(&self) -> Option<&str> {
        self.get().map(|s| s.as_ref())
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Nullable::Value(value)
    }
}

impl<T> From<Option<T>> for Nullable<T> {
    /// `None` becomes an explicit `null`: the emitted shapes in the seeds spell unset
    /// fields as `null` rather than leaving them out.
    fn from(value: Option<T>) -> Self {
        match value {
            Some(v) => Nullable::Value(v),
            None => Nullable::Null,
        }
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Value(v) => v.serialize(serializer),
            // Absent is normally skipped by `skip_serializing_if`; if a caller forgets,
            // `null` is the least surprising spelling.
            Nullable::Absent | Nullable::Null => serializer.serialize_none(),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Probe {
        #[serde(default, skip_serializing_if = "Nullable::is_absent")]
        field: Nullable<u32>,
    }

    #[test]
    fn absent_null_and_value_round_trip() {
        for input in [json!({}), json!({"field": null}), json!({"field": 7})] {
            let probe: Probe = serde_json::from_value(input.clone()).unwrap();
            assert_eq!(serde_json::to_value(&probe).unwrap(), input);
        }
    }

    #[test]
    fn presence_is_reported() {
        let absent: Probe = serde_json::from_value(json!({})).unwrap();
        let null: Probe = serde_json::from_value(json!({"field": null})).unwrap();
        let value: Probe = serde_json::from_value(json!({"field": 3})).unwrap();
        assert!(absent.field.is_absent());
        assert!(null.field.is_null());
        assert_eq!(value.field.get(), Some(&3));
    }

    #[test]
    fn none_converts_to_explicit_null() {
        assert_eq!(Nullable::<u8>::from(None), Nullable::Null);
        assert_eq!(Nullable::from(Some(1u8)), Nullable::Value(1));
    }
}
