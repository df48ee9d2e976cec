//! Customers, found or created (anonymous) by channel type and channelCustomerIdentifier.

use super::{parse_json, StoreResult};
use crate::clock::Millis;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

/// The customer known on `channel_type` as `identifier`, created anonymous when new.
/// Returned in the CIM customer shape (`_id`, `firstName`, `isAnonymous`, and the
/// identifier list under the channel key, e.g. `"web": ["43466"]`).
pub fn find_or_create(
    conn: &Connection,
    channel_type: &str,
    identifier: &str,
    first_name: Option<&str>,
    now: Millis,
) -> StoreResult<Value> {
    let existing: Option<String> = conn
        .prepare_cached(
            "SELECT customer_id FROM customer_identifiers WHERE channel_type = ?1 AND identifier = ?2",
        )?
        .query_row(params![channel_type, identifier], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return get(conn, &id);
    }
    let id = uuid::Uuid::new_v4().simple().to_string();
    let key = channel_key(channel_type);
    let name = first_name.filter(|n| !n.is_empty()).unwrap_or(identifier);
    let data = json!({ key: [identifier] });
    conn.prepare_cached(
        "INSERT INTO customers(id, first_name, is_anonymous, data, created_at) VALUES (?1, ?2, 1, ?3, ?4)",
    )?
    .execute(params![id, name, data.to_string(), now])?;
    conn.prepare_cached(
        "INSERT INTO customer_identifiers(channel_type, identifier, customer_id) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![channel_type, identifier, id])?;
    get(conn, &id)
}

/// The customer with `id` in the CIM shape.
pub fn get(conn: &Connection, id: &str) -> StoreResult<Value> {
    let (first_name, anonymous, data): (String, bool, String) = conn
        .prepare_cached("SELECT first_name, is_anonymous, data FROM customers WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let mut customer = json!({
        "_id": id,
        "firstName": first_name,
        "phoneNumber": [],
        "isAnonymous": anonymous,
        "__v": 0,
    });
    if let (Some(obj), Value::Object(extra)) = (
        customer.as_object_mut(),
        parse_json(&data, "customers.data")?,
    ) {
        obj.extend(extra);
    }
    Ok(customer)
}

/// The key under which a channel type's identifiers are listed on a customer (WEB -> web).
pub fn channel_key(channel_type: &str) -> String {
    channel_type
        .strip_prefix("CX_")
        .unwrap_or(channel_type)
        .to_ascii_lowercase()
}
