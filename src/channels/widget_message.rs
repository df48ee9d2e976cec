//! What a widget says, checked: a `MESSAGE_RECEIVED` becomes a CIM message whose
//! sender and channel data are the connection's own customer (a client value naming
//! anyone else is refused with `sender_mismatch`).

use crate::cim::{ChannelSession, CimMessage};
use crate::clock::now_ms;
use serde_json::{json, Value};

/// What a refused widget request gets: the same refusal as a desk's.
pub(super) use crate::refusal::Refusal as WidgetError;

/// A CIM message from the widget. The header's sender and channel data are the
/// session's: a client value naming another customer or channel is refused
/// (`sender_mismatch`), an absent one is filled in.
pub(super) fn inbound_message(
    session: &ChannelSession,
    payload: Value,
) -> Result<CimMessage, WidgetError> {
    let mut message = payload;
    let obj = message
        .as_object_mut()
        .ok_or_else(|| WidgetError::new("invalid_payload", "a message object is required"))?;
    if !obj.contains_key("id") {
        obj.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
    }
    let header = obj.entry("header").or_insert_with(|| json!({}));
    if header.is_null() {
        *header = json!({});
    }
    let Some(header) = header.as_object_mut() else {
        return Err(WidgetError::new(
            "invalid_field",
            "header must be an object",
        ));
    };
    check_claimed_sender(header.get("sender"), session)?;
    check_claimed_channel(header.get("channelData"), session)?;
    // The conversation manager writes the session itself.
    header.remove("channelSession");
    header.insert(
        "sender".into(),
        json!({
            "id": session.customer.id().unwrap_or_default(),
            "type": "CUSTOMER",
            "senderName": session.customer.first_name.as_deref_str().unwrap_or_default(),
            "additionalDetail": null,
        }),
    );
    header.insert(
        "channelData".into(),
        serde_json::to_value(&session.channel_data).unwrap_or(Value::Null),
    );
    header.entry("timestamp").or_insert_with(|| json!(now_ms()));
    CimMessage::from_inbound_value(&message).map_err(|e| WidgetError::new(e.code(), e.to_string()))
}

fn mismatch(message: String) -> WidgetError {
    WidgetError::new("sender_mismatch", message)
}

/// A `header.sender` the client sent may only name this customer: its profile id or
/// its `channelCustomerIdentifier`, with type CUSTOMER.
fn check_claimed_sender(
    sender: Option<&Value>,
    session: &ChannelSession,
) -> Result<(), WidgetError> {
    let Some(sender) = sender.filter(|s| !s.is_null()) else {
        return Ok(());
    };
    if !sender.is_object() {
        return Err(WidgetError::new(
            "invalid_field",
            "header.sender must be an object",
        ));
    }
    match sender.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if t.eq_ignore_ascii_case("CUSTOMER") => {}
        Some(other) => {
            return Err(mismatch(format!(
                "header.sender.type {other} is not this customer: a widget sends CUSTOMER messages"
            )))
        }
    }
    let own = [
        session.customer.id().unwrap_or_default(),
        session.channel_customer_identifier(),
    ];
    match sender.get("id") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(id)) if own.contains(&id.as_str()) => Ok(()),
        Some(_) => Err(mismatch(
            "header.sender.id names someone other than this customer".into(),
        )),
    }
}

/// A `header.channelData` the client sent may only name this customer's channel.
fn check_claimed_channel(
    data: Option<&Value>,
    session: &ChannelSession,
) -> Result<(), WidgetError> {
    let Some(data) = data.filter(|d| !d.is_null()) else {
        return Ok(());
    };
    if !data.is_object() {
        return Err(WidgetError::new(
            "invalid_field",
            "header.channelData must be an object",
        ));
    }
    for (field, own) in [
        ("serviceIdentifier", session.service_identifier()),
        (
            "channelCustomerIdentifier",
            session.channel_customer_identifier(),
        ),
    ] {
        match data.get(field) {
            None | Some(Value::Null) => {}
            Some(Value::String(v)) if v == own => {}
            Some(_) => {
                return Err(mismatch(format!(
                    "header.channelData.{field} is not this customer's"
                )))
            }
        }
    }
    Ok(())
}
