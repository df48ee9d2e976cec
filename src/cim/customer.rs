//! `Customer`: the customer profile embedded in channel sessions and conversations.
//! Besides its fixed fields (`_id`, `firstName`, `phoneNumber`, `isAnonymous`, `__v`) a
//! profile carries one array of identifiers per channel type (`web`, `voice`, ...) and
//! admin-defined attributes; those stay in `extra` under their own keys.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::nullable::Nullable;

/// `customer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    /// The profile id (MongoDB-style `_id` in the seeds).
    #[serde(rename = "_id", default, skip_serializing_if = "Nullable::is_absent")]
    pub mongo_id: Nullable<String>,
    #[serde(
        rename = "firstName",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub first_name: Nullable<String>,
    #[serde(
        rename = "phoneNumber",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub phone_number: Nullable<Vec<String>>,
    #[serde(
        rename = "isAnonymous",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub is_anonymous: Nullable<bool>,
    /// Document version (`__v`).
    #[serde(rename = "__v", default, skip_serializing_if = "Nullable::is_absent")]
    pub version: Nullable<i64>,
    /// Channel identifier arrays (`web`, `voice`, ...) and custom attributes.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Customer {
    /// An anonymous customer first seen on `channel_key` (e.g. `web`) as `identifier`;
    /// like the seeds, the identifier doubles as the first name.
    pub fn anonymous(
        id: impl Into<String>,
        channel_key: impl Into<String>,
        identifier: impl Into<String>,
    ) -> Self {
        let identifier = identifier.into();
        let mut extra = Map::new();
        extra.insert(
            channel_key.into(),
            Value::Array(vec![Value::String(identifier.clone())]),
        );
        Customer {
            mongo_id: id.into().into(),
            first_name: identifier.into(),
            phone_number: Vec::new().into(),
            is_anonymous: true.into(),
            version: 0.into(),
            extra,
        }
    }

    /// The profile id: `_id`, or `id` for senders that spell it that way.
    pub fn id(&self) -> Option<&str> {
        self.mongo_id
            .as_deref_str()
            .or_else(|| self.extra.get("id").and_then(Value::as_str))
    }

    /// The string identifiers stored under `channel_key` (e.g. `web`), skipping blanks.
    pub fn channel_identifiers(&self, channel_key: &str) -> Vec<&str> {
        self.extra
            .get(channel_key)
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Records `identifier` under `channel_key` unless it is already there.
    pub fn add_channel_identifier(&mut self, channel_key: &str, identifier: &str) {
        let entry = self
            .extra
            .entry(channel_key.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        if let Value::Array(ids) = entry {
            if !ids.iter().any(|v| v.as_str() == Some(identifier)) {
                ids.push(Value::String(identifier.to_owned()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn anonymous_customer_has_the_seed_shape() {
        let customer = Customer::anonymous("c1", "web", "43466");
        assert_eq!(
            serde_json::to_value(&customer).unwrap(),
            json!({
                "_id": "c1",
                "firstName": "43466",
                "phoneNumber": [],
                "isAnonymous": true,
                "__v": 0,
                "web": ["43466"]
            })
        );
        assert_eq!(customer.id(), Some("c1"));
    }

    #[test]
    fn channel_identifiers_live_in_extra() {
        let mut customer: Customer = serde_json::from_value(json!({
            "_id": "c1", "voice": [""], "web": ["0302"], "labels": []
        }))
        .unwrap();
        assert_eq!(customer.channel_identifiers("web"), vec!["0302"]);
        assert!(customer.channel_identifiers("voice").is_empty());
        customer.add_channel_identifier("voice", "1073");
        customer.add_channel_identifier("voice", "1073");
        assert_eq!(customer.channel_identifiers("voice"), vec!["1073"]);
        assert_eq!(customer.extra["labels"], json!([]));
    }

    #[test]
    fn id_falls_back_to_plain_id() {
        let customer: Customer = serde_json::from_value(json!({"id": "x"})).unwrap();
        assert_eq!(customer.id(), Some("x"));
        assert_eq!(serde_json::to_value(&customer).unwrap(), json!({"id": "x"}));
    }
}
