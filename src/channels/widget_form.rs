//! What a widget tells about its customer when it asks for a chat: the
//! `additionalAttributes` (WebChannelData with `formData`, locale, browser) become the
//! session's `channelData`, and the form's `firstName` / `lastName` / `email` (or
//! `customerFirstName` / `customerLastName` given directly) name the customer and are
//! copied into `channelData.customerFirstName` / `customerLastName`. `form_answers`
//! lists every answer for the channel's pre-chat form to check (`channels::prechat`).

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

/// Every `formData` answer of a `CHAT_REQUESTED` payload as `(key, value)`, for the
/// channel's pre-chat form to check; `customerFirstName` / `customerLastName` given
/// beside `additionalAttributes` count as `firstName` / `lastName`.
pub(super) fn form_answers(payload: &Value) -> Result<Vec<(String, Value)>, WidgetError> {
    let attributes = attributes_of(payload)?;
    let mut answers: Vec<(String, Value)> = Vec::new();
    for list in attributes.iter().filter_map(|a| {
        a.pointer("/value/formData/attributes")
            .and_then(Value::as_array)
    }) {
        for attr in list {
            let key = attr.get("key").and_then(Value::as_str).ok_or_else(|| {
                WidgetError::new("invalid_field", "formData.attributes[].key must be text")
            })?;
            answers.push((
                key.to_owned(),
                attr.get("value").cloned().unwrap_or(Value::Null),
            ));
        }
    }
    for (direct, key) in [
        ("customerFirstName", "firstName"),
        ("customerLastName", "lastName"),
    ] {
        if let Some(value) = payload.get(direct) {
            answers.retain(|(k, _)| k != key);
            answers.push((key.to_owned(), value.clone()));
        }
    }
    Ok(answers)
}

/// The `additionalAttributes` list of a payload (a WebChannelData object is wrapped).
fn attributes_of(payload: &Value) -> Result<Vec<Value>, WidgetError> {
    match payload.get("additionalAttributes") {
        Some(Value::Array(list)) => Ok(list.clone()),
        Some(obj @ Value::Object(_)) => Ok(vec![
            json!({"key": "WebChannelData", "type": "WebChannelData", "value": obj}),
        ]),
        Some(Value::Null) | None => Ok(Vec::new()),
        Some(_) => Err(WidgetError::new(
            "invalid_payload",
            "additionalAttributes must be a list or a WebChannelData object",
        )),
    }
}

/// The session's `channelData` and the customer's name, from a `CHAT_REQUESTED`
/// payload.
pub(super) fn chat_request_data(
    service_identifier: &str,
    customer_identifier: &str,
    payload: &Value,
) -> Result<(Value, CustomerName), WidgetError> {
    let attributes = attributes_of(payload)?;
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
    fn form_answers_gather_every_attribute_and_direct_names() {
        let payload = json!({"customerFirstName": "Ann", "additionalAttributes": {"formData": {"attributes": [
            {"key": "firstName", "value": "Jane"},
            {"key": "topic", "value": "Billing"},
        ]}}});
        let answers = form_answers(&payload).unwrap();
        assert_eq!(
            answers,
            vec![
                ("topic".to_owned(), json!("Billing")),
                ("firstName".to_owned(), json!("Ann"))
            ]
        );
        let bad = json!({"additionalAttributes": {"formData": {"attributes": [{"value": "x"}]}}});
        assert_eq!(form_answers(&bad).unwrap_err().code, "invalid_field");
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
