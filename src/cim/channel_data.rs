//! `ChannelData`: how the customer is addressed on a channel (`serviceIdentifier`,
//! `channelCustomerIdentifier`) plus `additionalAttributes`, of which the web widget's
//! `WebChannelData` (browser, locale, pre-chat form) is typed here.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::CimError;
use super::nullable::Nullable;

/// The `type` (and `key`) of the additional attribute holding `WebChannelData`.
pub const WEB_CHANNEL_DATA: &str = "WebChannelData";

/// `channelData`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelData {
    /// The customer's address on the channel (phone number, widget id, ...).
    #[serde(rename = "channelCustomerIdentifier")]
    pub channel_customer_identifier: String,
    /// The channel's `serviceIdentifier`.
    #[serde(rename = "serviceIdentifier")]
    pub service_identifier: String,
    #[serde(
        rename = "requestPriority",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub request_priority: Nullable<i64>,
    /// Older seeds only (e.g. `webChannel`).
    #[serde(
        rename = "channelTypeCode",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub channel_type_code: Nullable<String>,
    /// Newer seeds only.
    #[serde(
        rename = "customerFirstName",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub customer_first_name: Nullable<String>,
    /// Newer seeds only.
    #[serde(
        rename = "customerLastName",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub customer_last_name: Nullable<String>,
    #[serde(
        rename = "additionalAttributes",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub additional_attributes: Nullable<Vec<AdditionalAttribute>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChannelData {
    /// Channel data in the newer shape: priority 0, null customer names, no attributes.
    pub fn new(
        service_identifier: impl Into<String>,
        channel_customer_identifier: impl Into<String>,
    ) -> Self {
        ChannelData {
            channel_customer_identifier: channel_customer_identifier.into(),
            service_identifier: service_identifier.into(),
            request_priority: 0.into(),
            channel_type_code: Nullable::Absent,
            customer_first_name: Nullable::Null,
            customer_last_name: Nullable::Null,
            additional_attributes: Vec::new().into(),
            extra: Map::new(),
        }
    }

    /// The additional attributes (empty when absent or null).
    pub fn attributes(&self) -> &[AdditionalAttribute] {
        self.additional_attributes
            .get()
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The first `WebChannelData` attribute, typed; `None` if there is none.
    pub fn web_channel_data(&self) -> Option<Result<WebChannelData, CimError>> {
        self.attributes()
            .iter()
            .find(|a| a.attribute_type == WEB_CHANNEL_DATA)
            .and_then(AdditionalAttribute::web_channel_data)
    }
}

/// An entry of `channelData.additionalAttributes`: `{key, type, value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdditionalAttribute {
    pub key: String,
    #[serde(rename = "type")]
    pub attribute_type: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub value: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl AdditionalAttribute {
    /// The attribute carrying the web widget's data (`key` and `type` `WebChannelData`).
    pub fn from_web_channel_data(data: &WebChannelData) -> Result<Self, CimError> {
        let value = serde_json::to_value(data)
            .map_err(|e| CimError::from_serde("additionalAttributes.value", &e))?;
        Ok(AdditionalAttribute {
            key: WEB_CHANNEL_DATA.to_owned(),
            attribute_type: WEB_CHANNEL_DATA.to_owned(),
            value: value.into(),
            extra: Map::new(),
        })
    }

    /// The value read as `WebChannelData` when `type` is `WebChannelData`.
    pub fn web_channel_data(&self) -> Option<Result<WebChannelData, CimError>> {
        if self.attribute_type != WEB_CHANNEL_DATA {
            return None;
        }
        let value = self.value.get()?;
        Some(
            WebChannelData::deserialize(value)
                .map_err(|e| CimError::from_serde("additionalAttributes.value", &e)),
        )
    }
}

/// The web widget's attribute value: `{browserDeviceInfo, queue, locale, formData}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct WebChannelData {
    #[serde(
        rename = "browserDeviceInfo",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub browser_device_info: Nullable<BrowserDeviceInfo>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub queue: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub locale: Nullable<Locale>,
    #[serde(
        rename = "formData",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub form_data: Nullable<FormData>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `browserDeviceInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BrowserDeviceInfo {
    #[serde(
        rename = "browserId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub browser_id: Nullable<String>,
    #[serde(
        rename = "browserIdExpiryTime",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub browser_id_expiry_time: Nullable<String>,
    #[serde(
        rename = "browserName",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub browser_name: Nullable<String>,
    #[serde(
        rename = "deviceType",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub device_type: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `locale`: `{timezone, language, country}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Locale {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub timezone: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub language: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub country: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `formData`: the pre-chat form the customer filled in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FormData {
    /// A number in the seeds (a random float); kept as JSON.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub id: Nullable<Value>,
    /// A number in the older seed and a string in the newer ones; kept as JSON.
    #[serde(
        rename = "formId",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub form_id: Nullable<Value>,
    #[serde(
        rename = "filledBy",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub filled_by: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub attributes: Nullable<Vec<FormAttribute>>,
    /// ISO-8601 text.
    #[serde(
        rename = "createdOn",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub created_on: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An entry of `formData.attributes`: `{key, type, value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormAttribute {
    pub key: String,
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub attribute_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub value: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn new_channel_data_has_the_newer_shape() {
        let data = ChannelData::new("1122", "cust-1");
        assert_eq!(
            serde_json::to_value(&data).unwrap(),
            json!({
                "channelCustomerIdentifier": "cust-1",
                "serviceIdentifier": "1122",
                "requestPriority": 0,
                "customerFirstName": null,
                "customerLastName": null,
                "additionalAttributes": []
            })
        );
        assert!(data.web_channel_data().is_none());
    }

    #[test]
    fn web_channel_data_attribute_round_trips_through_the_accessor() {
        let web = WebChannelData {
            queue: String::new().into(),
            locale: Locale {
                language: "english".to_owned().into(),
                ..Locale::default()
            }
            .into(),
            ..WebChannelData::default()
        };
        let mut data = ChannelData::new("1122", "cust-1");
        data.additional_attributes =
            vec![AdditionalAttribute::from_web_channel_data(&web).unwrap()].into();
        let read = data.web_channel_data().unwrap().unwrap();
        assert_eq!(read, web);
        let value = serde_json::to_value(&data).unwrap();
        assert_eq!(
            value["additionalAttributes"][0]["type"],
            json!("WebChannelData")
        );
        assert_eq!(
            value["additionalAttributes"][0]["value"]["locale"],
            json!({"language": "english"})
        );
    }

    #[test]
    fn malformed_web_channel_data_names_the_field() {
        let attribute = AdditionalAttribute {
            key: WEB_CHANNEL_DATA.into(),
            attribute_type: WEB_CHANNEL_DATA.into(),
            value: json!({"locale": 5}).into(),
            extra: Map::new(),
        };
        let err = attribute.web_channel_data().unwrap().unwrap_err();
        assert_eq!(err.path(), "additionalAttributes.value");
    }
}
