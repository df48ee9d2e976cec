//! `MessageBody`: the body of a CIM message, one variant per documented `type` (PLAIN,
//! IMAGE/VIDEO/AUDIO/FILE/STICKER, LOCATION, CONTACT, URL, BUTTON, WRAPUP, NOTIFICATION,
//! DELIVERYNOTIFICATION) plus `Other` for types this build does not know, which are
//! kept verbatim. [`validate_body`] checks a raw body and names the bad field.

use serde::de::Error as _;
use serde::ser::{Error as _, SerializeMap};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::error::{json_kind, lookup, require_object, require_str, CimError};
use super::nullable::Nullable;
use super::string_enum::string_enum;

string_enum! {
    /// `body.notificationType` of a NOTIFICATION body.
    pub enum NotificationType {
        SystemError = "SYSTEM_ERROR",
        ChannelSessionStarted = "CHANNEL_SESSION_STARTED",
        ChannelSessionExpired = "CHANNEL_SESSION_EXPIRED",
        ChannelSessionEnded = "CHANNEL_SESSION_ENDED",
        AgentSubscribed = "AGENT_SUBSCRIBED",
        AgentUnsubscribed = "AGENT_UNSUBSCRIBED",
        ConsultTransfer = "CONSULT_TRANSFER",
        ConsultConference = "CONSULT_CONFERENCE",
        DirectTransfer = "DIRECT_TRANSFER",
        NoAgentAvailable = "NO_AGENT_AVAILABLE",
        TypingStarted = "TYPING_STARTED",
        TypingStopped = "TYPING_STOPPED",
        AgentReserved = "AGENT_RESERVED",
    }
}

string_enum! {
    /// `body.status` of a DELIVERYNOTIFICATION body.
    pub enum DeliveryStatus {
        Delivered = "DELIVERED",
        Connected = "CONNECTED",
        Read = "READ",
        Failed = "FAILED",
    }
}

/// PLAIN: `{markdownText}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PlainBody {
    #[serde(
        rename = "markdownText",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub markdown_text: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `attachment` of a media body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    #[serde(rename = "mediaUrl")]
    pub media_url: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub thumbnail: Nullable<Value>,
    #[serde(
        rename = "mimeType",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub mime_type: Nullable<String>,
    /// Bytes.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub size: Nullable<i64>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// IMAGE, VIDEO, AUDIO, FILE, STICKER: `{caption, attachment, markdownText,
/// additionalDetails}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaBody {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub caption: Nullable<String>,
    pub attachment: Attachment,
    #[serde(
        rename = "markdownText",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub markdown_text: Nullable<String>,
    #[serde(
        rename = "additionalDetails",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub additional_details: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `location` of a LOCATION body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub latitude: f64,
    pub longitude: f64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// LOCATION: `{location: {latitude, longitude}, markdownText, additionalDetails}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocationBody {
    pub location: GeoPoint,
    #[serde(
        rename = "markdownText",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub markdown_text: Nullable<String>,
    #[serde(
        rename = "additionalDetails",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub additional_details: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// CONTACT: `{contacts, markdownText, additionalDetails}`; contact cards kept as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactBody {
    pub contacts: Vec<Value>,
    #[serde(
        rename = "markdownText",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub markdown_text: Nullable<String>,
    #[serde(
        rename = "additionalDetails",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub additional_details: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// URL: `{mediaUrl, markdownText}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlBody {
    #[serde(rename = "mediaUrl")]
    pub media_url: String,
    #[serde(
        rename = "markdownText",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub markdown_text: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An entry of `buttons`: `{type, title, payload, additionalButtonDetails}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Button {
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub button_type: Nullable<String>,
    pub title: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub payload: Nullable<Value>,
    #[serde(
        rename = "additionalButtonDetails",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub additional_button_details: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// BUTTON: `{buttonMessageType, buttons, markdownText, additionalDetails}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ButtonBody {
    #[serde(
        rename = "buttonMessageType",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub button_message_type: Nullable<String>,
    pub buttons: Vec<Button>,
    #[serde(
        rename = "markdownText",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub markdown_text: Nullable<String>,
    #[serde(
        rename = "additionalDetails",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub additional_details: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An entry of `wrapups`: `{categoryName, value}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrapupEntry {
    #[serde(rename = "categoryName")]
    pub category_name: String,
    pub value: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl WrapupEntry {
    /// `{categoryName, value}`.
    pub fn new(category_name: impl Into<String>, value: impl Into<String>) -> Self {
        WrapupEntry {
            category_name: category_name.into(),
            value: value.into(),
            extra: Map::new(),
        }
    }
}

/// WRAPUP: `{wrapups, note, markdownText}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrapupBody {
    pub wrapups: Vec<WrapupEntry>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub note: Nullable<String>,
    #[serde(
        rename = "markdownText",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub markdown_text: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// NOTIFICATION: `{notificationType, markdownText}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationBody {
    #[serde(rename = "notificationType")]
    pub notification_type: NotificationType,
    #[serde(
        rename = "markdownText",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub markdown_text: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// DELIVERYNOTIFICATION: `{messageId, status, reasonCode, markdownText}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryNotificationBody {
    #[serde(rename = "messageId")]
    pub message_id: String,
    pub status: DeliveryStatus,
    /// A number (200, 400, ...) in the documentation; kept as JSON.
    #[serde(
        rename = "reasonCode",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub reason_code: Nullable<Value>,
    #[serde(
        rename = "markdownText",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub markdown_text: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `body` of a CIM message, chosen by its `type`.
#[derive(Debug, Clone, PartialEq)]
pub enum MessageBody {
    Plain(PlainBody),
    Image(MediaBody),
    Video(MediaBody),
    Audio(MediaBody),
    File(MediaBody),
    Sticker(MediaBody),
    Location(LocationBody),
    Contact(ContactBody),
    Url(UrlBody),
    Button(ButtonBody),
    Wrapup(WrapupBody),
    Notification(NotificationBody),
    DeliveryNotification(DeliveryNotificationBody),
    /// A `type` this build does not know; `fields` are the other keys, verbatim.
    Other {
        body_type: String,
        fields: Map<String, Value>,
    },
}

impl MessageBody {
    /// The documented body types (`type_name` of every variant but `Other`).
    pub const KNOWN_TYPES: [&'static str; 13] = [
        "PLAIN",
        "IMAGE",
        "VIDEO",
        "AUDIO",
        "FILE",
        "STICKER",
        "LOCATION",
        "CONTACT",
        "URL",
        "BUTTON",
        "WRAPUP",
        "NOTIFICATION",
        "DELIVERYNOTIFICATION",
    ];

    /// `{type: PLAIN, markdownText}`.
    pub fn plain(text: impl Into<String>) -> Self {
        MessageBody::Plain(PlainBody {
            markdown_text: text.into().into(),
            extra: Map::new(),
        })
    }

    /// `{type: WRAPUP, wrapups, note}`; `note: None` emits `null`.
    pub fn wrapup(wrapups: Vec<WrapupEntry>, note: Option<String>) -> Self {
        MessageBody::Wrapup(WrapupBody {
            wrapups,
            note: note.into(),
            markdown_text: Nullable::Absent,
            extra: Map::new(),
        })
    }

    /// `{type: NOTIFICATION, notificationType}` (e.g. typing indicators).
    pub fn notification(notification_type: NotificationType) -> Self {
        MessageBody::Notification(NotificationBody {
            notification_type,
            markdown_text: Nullable::Absent,
            extra: Map::new(),
        })
    }

    /// `{type: DELIVERYNOTIFICATION, messageId, status, reasonCode}`.
    pub fn delivery_notification(
        message_id: impl Into<String>,
        status: DeliveryStatus,
        reason_code: Option<Value>,
    ) -> Self {
        MessageBody::DeliveryNotification(DeliveryNotificationBody {
            message_id: message_id.into(),
            status,
            reason_code: reason_code.into(),
            markdown_text: Nullable::Absent,
            extra: Map::new(),
        })
    }

    /// The wire `type`.
    pub fn type_name(&self) -> &str {
        match self {
            MessageBody::Plain(_) => "PLAIN",
            MessageBody::Image(_) => "IMAGE",
            MessageBody::Video(_) => "VIDEO",
            MessageBody::Audio(_) => "AUDIO",
            MessageBody::File(_) => "FILE",
            MessageBody::Sticker(_) => "STICKER",
            MessageBody::Location(_) => "LOCATION",
            MessageBody::Contact(_) => "CONTACT",
            MessageBody::Url(_) => "URL",
            MessageBody::Button(_) => "BUTTON",
            MessageBody::Wrapup(_) => "WRAPUP",
            MessageBody::Notification(_) => "NOTIFICATION",
            MessageBody::DeliveryNotification(_) => "DELIVERYNOTIFICATION",
            MessageBody::Other { body_type, .. } => body_type,
        }
    }

    /// The body's `markdownText`, whatever its type.
    pub fn markdown_text(&self) -> Option<&str> {
        match self {
            MessageBody::Plain(b) => b.markdown_text.as_deref_str(),
            MessageBody::Image(b)
            | MessageBody::Video(b)
            | MessageBody::Audio(b)
            | MessageBody::File(b)
            | MessageBody::Sticker(b) => b.markdown_text.as_deref_str(),
            MessageBody::Location(b) => b.markdown_text.as_deref_str(),
            MessageBody::Contact(b) => b.markdown_text.as_deref_str(),
            MessageBody::Url(b) => b.markdown_text.as_deref_str(),
            MessageBody::Button(b) => b.markdown_text.as_deref_str(),
            MessageBody::Wrapup(b) => b.markdown_text.as_deref_str(),
            MessageBody::Notification(b) => b.markdown_text.as_deref_str(),
            MessageBody::DeliveryNotification(b) => b.markdown_text.as_deref_str(),
            MessageBody::Other { fields, .. } => fields.get("markdownText").and_then(Value::as_str),
        }
    }

    /// False for `Other`.
    pub fn is_known(&self) -> bool {
        !matches!(self, MessageBody::Other { .. })
    }
}

fn serialize_tagged<S: Serializer, T: Serialize>(
    serializer: S,
    tag: &str,
    body: &T,
) -> Result<S::Ok, S::Error> {
    let fields = match serde_json::to_value(body).map_err(S::Error::custom)? {
        Value::Object(fields) => fields,
        _ => return Err(S::Error::custom("a message body must be a JSON object")),
    };
    serialize_fields(serializer, tag, &fields)
}

fn serialize_fields<S: Serializer>(
    serializer: S,
    tag: &str,
    fields: &Map<String, Value>,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(fields.len() + 1))?;
    map.serialize_entry("type", tag)?;
    for (key, value) in fields.iter().filter(|(key, _)| key.as_str() != "type") {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

impl Serialize for MessageBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tag = self.type_name();
        match self {
            MessageBody::Plain(b) => serialize_tagged(serializer, tag, b),
            MessageBody::Image(b)
            | MessageBody::Video(b)
            | MessageBody::Audio(b)
            | MessageBody::File(b)
            | MessageBody::Sticker(b) => serialize_tagged(serializer, tag, b),
            MessageBody::Location(b) => serialize_tagged(serializer, tag, b),
            MessageBody::Contact(b) => serialize_tagged(serializer, tag, b),
            MessageBody::Url(b) => serialize_tagged(serializer, tag, b),
            MessageBody::Button(b) => serialize_tagged(serializer, tag, b),
            MessageBody::Wrapup(b) => serialize_tagged(serializer, tag, b),
            MessageBody::Notification(b) => serialize_tagged(serializer, tag, b),
            MessageBody::DeliveryNotification(b) => serialize_tagged(serializer, tag, b),
            MessageBody::Other { fields, .. } => serialize_fields(serializer, tag, fields),
        }
    }
}

impl<'de> Deserialize<'de> for MessageBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = match Value::deserialize(deserializer)? {
            Value::Object(fields) => fields,
            other => {
                return Err(D::Error::custom(format!(
                    "message body must be an object, found {}",
                    json_kind(&other)
                )))
            }
        };
        let body_type = match fields.shift_remove("type") {
            Some(Value::String(t)) => t,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "message body `type` must be a string, found {}",
                    json_kind(&other)
                )))
            }
            None => return Err(D::Error::missing_field("type")),
        };
        fn read<'de, T: Deserialize<'de>, E: serde::de::Error>(
            body_type: &str,
            fields: Map<String, Value>,
        ) -> Result<T, E> {
            T::deserialize(Value::Object(fields))
                .map_err(|e| E::custom(format!("{body_type} body: {e}")))
        }
        Ok(match body_type.as_str() {
            "PLAIN" => MessageBody::Plain(read(&body_type, fields)?),
            "IMAGE" => MessageBody::Image(read(&body_type, fields)?),
            "VIDEO" => MessageBody::Video(read(&body_type, fields)?),
            "AUDIO" => MessageBody::Audio(read(&body_type, fields)?),
            "FILE" => MessageBody::File(read(&body_type, fields)?),
            "STICKER" => MessageBody::Sticker(read(&body_type, fields)?),
            "LOCATION" => MessageBody::Location(read(&body_type, fields)?),
            "CONTACT" => MessageBody::Contact(read(&body_type, fields)?),
            "URL" => MessageBody::Url(read(&body_type, fields)?),
            "BUTTON" => MessageBody::Button(read(&body_type, fields)?),
            "WRAPUP" => MessageBody::Wrapup(read(&body_type, fields)?),
            "NOTIFICATION" => MessageBody::Notification(read(&body_type, fields)?),
            "DELIVERYNOTIFICATION" => MessageBody::DeliveryNotification(read(&body_type, fields)?),
            _ => MessageBody::Other { body_type, fields },
        })
    }
}

fn require_array<'v>(root: &'v Value, path: &str) -> Result<&'v Vec<Value>, CimError> {
    match lookup(root, path) {
        None | Some(Value::Null) => Err(CimError::missing(path)),
        Some(Value::Array(items)) => Ok(items),
        Some(other) => Err(CimError::invalid(
            path,
            format!("expected an array, found {}", json_kind(other)),
        )),
    }
}

fn require_number(root: &Value, path: &str) -> Result<f64, CimError> {
    match lookup(root, path) {
        None | Some(Value::Null) => Err(CimError::missing(path)),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| CimError::invalid(path, "not a finite number")),
        Some(other) => Err(CimError::invalid(
            path,
            format!("expected a number, found {}", json_kind(other)),
        )),
    }
}

/// Checks a raw message body (found at `path`, e.g. `body`) for the fields its `type`
/// requires, then reads it. Errors name the field, e.g. `body.type`,
/// `body.wrapups[0].categoryName`, `body.attachment.mediaUrl`.
pub fn validate_body(body: &Value, path: &str) -> Result<MessageBody, CimError> {
    match body {
        Value::Object(_) => {}
        Value::Null => return Err(CimError::missing(path)),
        other => {
            return Err(CimError::invalid(
                path,
                format!("expected an object, found {}", json_kind(other)),
            ))
        }
    }
    let here = |e: CimError| rebase(e, path);
    match require_str(body, "type").map_err(here)? {
        "PLAIN" => {
            require_str(body, "markdownText").map_err(here)?;
        }
        "IMAGE" | "VIDEO" | "AUDIO" | "FILE" | "STICKER" => {
            require_object(body, "attachment").map_err(here)?;
            require_str(body, "attachment.mediaUrl").map_err(here)?;
        }
        "LOCATION" => {
            require_object(body, "location").map_err(here)?;
            require_number(body, "location.latitude").map_err(here)?;
            require_number(body, "location.longitude").map_err(here)?;
        }
        "CONTACT" => {
            require_array(body, "contacts").map_err(here)?;
        }
        "URL" => {
            require_str(body, "mediaUrl").map_err(here)?;
        }
        "BUTTON" => {
            for (i, button) in require_array(body, "buttons")
                .map_err(here)?
                .iter()
                .enumerate()
            {
                let base = format!("{path}.buttons[{i}]");
                require_str(button, "title").map_err(|e| rebase(e, &base))?;
            }
        }
        "WRAPUP" => {
            for (i, entry) in require_array(body, "wrapups")
                .map_err(here)?
                .iter()
                .enumerate()
            {
                let base = format!("{path}.wrapups[{i}]");
                require_str(entry, "categoryName").map_err(|e| rebase(e, &base))?;
                require_str(entry, "value").map_err(|e| rebase(e, &base))?;
            }
        }
        "NOTIFICATION" => {
            require_str(body, "notificationType").map_err(here)?;
        }
        "DELIVERYNOTIFICATION" => {
            require_str(body, "messageId").map_err(here)?;
            require_str(body, "status").map_err(here)?;
        }
        _ => {}
    }
    MessageBody::deserialize(body).map_err(|e| CimError::from_serde(path, &e))
}

/// Prefixes a path produced relative to a sub-document with the sub-document's path.
fn rebase(error: CimError, base: &str) -> CimError {
    let join = |p: &str| {
        if base.is_empty() {
            p.to_owned()
        } else {
            format!("{base}.{p}")
        }
    };
    match error {
        CimError::MissingField { path } => CimError::missing(join(&path)),
        CimError::InvalidField { path, reason } => CimError::invalid(join(&path), reason),
    }
}

#[cfg(test)]
mod tests;
