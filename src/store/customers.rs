//! Customers, found or created (anonymous) by channel type and channelCustomerIdentifier,
//! and named from what the customer or its connector tells (widget form, sender name).

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
    if let Some(id) = find_id(conn, channel_type, identifier)? {
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

/// The id of the customer known on `channel_type` as `identifier`, if any.
pub fn find_id(
    conn: &Connection,
    channel_type: &str,
    identifier: &str,
) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT customer_id FROM customer_identifiers WHERE channel_type = ?1 AND identifier = ?2",
        )?
        .query_row(params![channel_type, identifier], |r| r.get(0))
        .optional()?)
}

/// The customer known on `channel_type` as `identifier`, if there is one (nothing is
/// created).
pub fn find(conn: &Connection, channel_type: &str, identifier: &str) -> StoreResult<Option<Value>> {
    find_id(conn, channel_type, identifier)?
        .map(|id| get(conn, &id))
        .transpose()
}

/// What a customer says its name is (each part optional, blank parts ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerName {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
}

impl CustomerName {
    pub fn is_empty(&self) -> bool {
        self.first_name.is_none() && self.last_name.is_none() && self.email.is_none()
    }
}

/// Records the name parts given on the customer `id`: `firstName` in its column,
/// `lastName` and `email` among its attributes.
pub fn set_name(conn: &Connection, id: &str, name: &CustomerName) -> StoreResult<()> {
    if name.is_empty() {
        return Ok(());
    }
    conn.prepare_cached(
        "UPDATE customers SET first_name = COALESCE(?2, first_name),
             data = json_set(data,
                 '$.lastName', COALESCE(?3, json_extract(data, '$.lastName')),
                 '$.email', COALESCE(?4, json_extract(data, '$.email')))
         WHERE id = ?1",
    )?
    .execute(params![id, name.first_name, name.last_name, name.email])?;
    Ok(())
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
