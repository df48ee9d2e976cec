//! What a widget tells about its customer when it asks for a chat: the
//! `additionalAttributes` (WebChannelData with `formData`, locale, browser) become the
//! session's `channelData`, and the form's `firstName` / `lastName` / `email` (or
//! `customerFirstName` / `customerLastName` given directly) name the customer and are
//! copied into `channelData.customerFirstName` / `customerLastName`.

use super::widget_message::WidgetError;
use crate::cim::check_len;
use crate::store::customers::CustomerName;
use serde_json::{json, Value};

/// A name part from the form: trimmed, non-empty, at most `MAX_ID_LEN` characters.
fn name_part(value: Option<&Value>, field: &str) -> Result<Option<String>, WidgetError> {
    let Some(text) = value.and_then(Value::as_str).map(str::trim) else {
        return Ok(None);
    };
    if text.is_empty() {
        return Ok(None);
    }
    check_len(field, text).map_err(|e| WidgetError::new(e.code(), e.to_string()))?;
    Ok(Some(text.to_owned()))
}

/// The form attribute `key` of any WebChannelData in `attributes`.
fn form_value<'a>(attributes: &'a [Value], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .filter_map(|a| {
            a.pointer("/value/formData/attributes")
                .and_then(Value::as_array)
        })
        .flatten()
        .find(|attr| attr.get("key").and_then(Value::as_str) == Some(key))
        .and_then(|attr| attr.get("value"))
}

/// The session's `channelData` and the customer's name, from a `CHAT_REQUESTED`
/// payload.
pub(super) fn chat_request_data(
    service_identifier: &str,
    customer_identifier: &str,
    payload: &Value,
) -> Result<(Value, CustomerName), WidgetError> {
    let attributes = match payload.get("additionalAttributes") {
        Some(Value::Array(list)) => list.clone(),
        Some(obj @ Value::Object(_)) => {
            vec![json!({"key": "WebChannelData", "type": "WebChannelData", "value": obj})]
        }
        Some(Value::Null) | None => Vec::new(),
        Some(_) => {
            return Err(WidgetError::new(
                "invalid_payload",
                "additionalAttributes must be a list or a WebChannelData object",
            ))
        }
    };
    let name = CustomerName {
        first_name: name_part(
            payload
                .get("customerFirstName")
                .or_else(|| form_value(&attributes, "firstName")),
            "firstName",
        )?,
        last_name: name_part(
            payload
                .get("customerLastName")
                .or_else(|| form_value(&attributes, "lastName")),
            "lastName",
        )?,
        email: name_part(form_value(&attributes, "email"), "email")?,
    };
    // The newer seeds' shape: the name keys are always there, null when not given.
    let channel_data = json!({
        "channelCustomerIdentifier": customer_identifier,
        "serviceIdentifier": service_identifier,
        "requestPriority": 0,
        "customerFirstName": name.first_name,
        "customerLastName": name.last_name,
        "channelTypeCode": "webChannel",
        "additionalAttributes": attributes,
    });
    Ok((channel_data, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_names_the_customer() {
        let payload = json!({"additionalAttributes": {"formData": {"attributes": [
            {"key": "firstName", "value": " Jane ", "type": "string"},
            {"key": "lastName", "value": "Doe", "type": "string"},
            {"key": "email", "value": "", "type": "string"},
        ]}}});
        let (data, name) = chat_request_data("1122", "c-1", &payload).unwrap();
        assert_eq!(name.first_name.as_deref(), Some("Jane"));
        assert_eq!(name.last_name.as_deref(), Some("Doe"));
        assert_eq!(name.email, None);
        assert_eq!(data["customerFirstName"], "Jane");
        assert_eq!(data["customerLastName"], "Doe");
        assert_eq!(data["additionalAttributes"][0]["key"], "WebChannelData");
    }

    #[test]
    fn direct_names_win_and_bad_input_is_refused() {
        let payload = json!({"customerFirstName": "Ann", "additionalAttributes": []});
        let (data, name) = chat_request_data("1122", "c-1", &payload).unwrap();
        assert_eq!(name.first_name.as_deref(), Some("Ann"));
        assert_eq!(data["customerLastName"], Value::Null, "{data}");
        assert!(
            data.get("customerLastName").is_some(),
            "null, not absent: {data}"
        );
        assert!(chat_request_data("1122", "c-1", &json!({"additionalAttributes": 5})).is_err());
        let long = json!({"customerFirstName": "x".repeat(300)});
        assert_eq!(
            chat_request_data("1122", "c-1", &long).unwrap_err().code,
            "invalid_field"
        );
    }
}
