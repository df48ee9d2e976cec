//! The connector endpoint: `POST /ccm/message/receive`, where channel connectors
//! (WhatsApp, SMS, Facebook, ... gateways) hand in customer messages as CIM messages.
//!
//! The body is a CIM message `{id, header: {sender, channelData: {serviceIdentifier,
//! channelCustomerIdentifier, ...}, ...}, body}` from the customer (`header.sender.type`
//! CUSTOMER). The customer is found or created by the channel's type and
//! `channelCustomerIdentifier`; the message joins the customer's running session on
//! that channel, or starts one (and a conversation). The answer comes after commit:
//! `202 {status: "accepted", messageId, conversationId, seq, duplicate}`. The message
//! id is the idempotency key: a retry is answered again with the first `seq` and
//! `duplicate: true`, and stores nothing.
//!
//! Errors are `{code, message}` (plus `field` for a bad message): 400 a malformed or
//! incomplete message (the message names the field), 401 a missing or unknown
//! connector token, 403 a token of another channel (`wrong_channel`) or a web channel
//! named (`web_channel`: connectors never post into widget chats), 404 an unknown
//! serviceIdentifier, 409 a session that has ended or a disabled channel asked for a
//! new chat (`channel_disabled`; running chats finish), 413 a body over
//! `http.max_body_bytes`, 415 a body that is not JSON.
//!
//! Authentication: connectors are services, not users. A connector sends
//! `Authorization: Bearer <token>`: its channel's own connector token (created with the
//! channel, see `POST /api/v1/channels`; only its SHA-256 is stored), which lets it post
//! to that channel only, or the site-wide `channels.connector_token` when one is
//! configured, which lets it post to every connector channel. No token, no post: the
//! token is checked before the body is read.

use crate::cim::{ChannelData, ChannelSession, CimError, CimMessage, MessageSender};
use crate::clock::now_ms;
use crate::conversation::handle::{ConversationError, MessageAck};
use crate::http::auth::bearer_token;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::customers::CustomerName;
use crate::store::{
    channel_admin, conversations, customers, directory, secrets, users, StoreError,
};
use actix_web::http::StatusCode;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;

/// The route connectors post customer messages to.
pub const RECEIVE_PATH: &str = "/ccm/message/receive";

/// The channel type of widget (web) channels, which connectors may not post to.
pub const WEB_CHANNEL_TYPE: &str = "WEB";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(RECEIVE_PATH, web::post().to(receive));
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error(transparent)]
    Message(#[from] CimError),
    #[error("unknown serviceIdentifier {0:?}")]
    UnknownChannel(String),
    #[error("this connector token is not for channel {0:?}")]
    WrongChannel(String),
    #[error("channel {0:?} is a web (widget) channel; connectors post to their own channels")]
    WebChannel(String),
    #[error("channel {0:?} is disabled and takes no new chats")]
    Disabled(String),
    #[error(transparent)]
    Conversation(#[from] ConversationError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ResponseError for ConnectorError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConnectorError::Message(_) => StatusCode::BAD_REQUEST,
            ConnectorError::UnknownChannel(_) => StatusCode::NOT_FOUND,
            ConnectorError::WrongChannel(_) | ConnectorError::WebChannel(_) => {
                StatusCode::FORBIDDEN
            }
            ConnectorError::Disabled(_) => StatusCode::CONFLICT,
            ConnectorError::Conversation(e) => match e {
                ConversationError::NotFound(_) => StatusCode::NOT_FOUND,
                ConversationError::NotParticipant { .. } => StatusCode::FORBIDDEN,
                ConversationError::WrongState(_) => StatusCode::CONFLICT,
                ConversationError::Invalid(_) => StatusCode::BAD_REQUEST,
                ConversationError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                ConversationError::Refused { code, .. } => match *code {
                    "unknown_conversation" | "unknown_channel_session" => StatusCode::NOT_FOUND,
                    "not_a_participant" => StatusCode::FORBIDDEN,
                    "conversation_closed"
                    | "channel_session_ended"
                    | "invalid_state"
                    | "id_in_use"
                    | "already_participant"
                    | "in_wrapup"
                    | "not_in_wrapup" => StatusCode::CONFLICT,
                    _ => StatusCode::BAD_REQUEST,
                },
            },
            ConnectorError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let body = match self {
            ConnectorError::Message(e) => {
                json!({"code": e.code(), "message": e.to_string(), "field": e.path()})
            }
            ConnectorError::UnknownChannel(_)
            | ConnectorError::WrongChannel(_)
            | ConnectorError::WebChannel(_)
            | ConnectorError::Disabled(_) => {
                json!({"code": self.code(), "message": self.to_string()})
            }
            ConnectorError::Conversation(e) => json!({"code": e.code(), "message": e.to_string()}),
            ConnectorError::Store(e) => {
                return ApiError::Internal(e.to_string()).error_response();
            }
        };
        HttpResponse::build(self.status_code()).json(body)
    }
}

impl ConnectorError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ConnectorError::Message(e) => e.code(),
            ConnectorError::UnknownChannel(_) => "unknown_channel",
            ConnectorError::WrongChannel(_) => "wrong_channel",
            ConnectorError::WebChannel(_) => "web_channel",
            ConnectorError::Disabled(_) => "channel_disabled",
            ConnectorError::Conversation(e) => e.code(),
            ConnectorError::Store(_) => "internal",
        }
    }
}

/// A caller allowed to post connector messages (see the module doc): to every
/// connector channel (the site-wide token) or to the channels its token belongs to.
pub enum ConnectorAuth {
    Site,
    Channels(Vec<String>),
}

impl ConnectorAuth {
    /// Refuses a channel this credential may not post to.
    fn check(&self, service_identifier: &str) -> Result<(), ConnectorError> {
        match self {
            ConnectorAuth::Channels(own) if !own.iter().any(|s| s == service_identifier) => {
                Err(ConnectorError::WrongChannel(service_identifier.to_string()))
            }
            _ => Ok(()),
        }
    }
}

impl FromRequest for ConnectorAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("app state missing".into()))?;
            let token = token.ok_or(ApiError::Unauthenticated)?;
            let site = state.config.channels.connector_token.as_bytes();
            if !site.is_empty() && constant_time_eq(token.as_bytes(), site) {
                return Ok(ConnectorAuth::Site);
            }
            let digest = users::token_digest(&token);
            let own = state
                .store
                .read(move |c| secrets::channels_for_connector_token(c, &digest))
                .await?;
            if own.is_empty() {
                Err(ApiError::Unauthenticated)
            } else {
                Ok(ConnectorAuth::Channels(own))
            }
        })
    }
}

/// Compares without stopping at the first difference, so timing does not reveal
/// how much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The answer to a connector's message: stored, in which conversation.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// `accepted`.
    pub status: &'static str,
    pub message_id: String,
    pub conversation_id: String,
    /// The message's sequence number in the conversation.
    pub seq: u64,
    /// The message id was seen before: nothing new was stored.
    pub duplicate: bool,
}

/// A connector posts a customer's message (CIM MESSAGE, see docs/protocol.md).
#[utoipa::path(
    post,
    path = "/ccm/message/receive",
    tag = "connector",
    request_body(content = Object, description = "a CIM message whose header names the channel (serviceIdentifier) and customer"),
    responses(
        (status = 202, description = "stored; the answer names the conversation", body = Received),
        (status = 400, description = "not a valid CIM message", body = crate::http::error::ErrorBody),
        (status = 401, description = "the connector credential is missing or wrong", body = crate::http::error::ErrorBody),
        (status = 403, description = "wrong_channel: the token is another channel's; web_channel: a widget channel", body = crate::http::error::ErrorBody),
        (status = 404, description = "unknown serviceIdentifier", body = crate::http::error::ErrorBody),
        (status = 409, description = "channel_disabled: a disabled channel takes no new chats; conversation_closed / channel_session_ended", body = crate::http::error::ErrorBody)
    ),
    security(("connector" = []))
)]
pub(crate) async fn receive(
    auth: ConnectorAuth,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ConnectorError> {
    let message = inbound_message(&body)?;
    auth.check(&channel_data(&message)?.service_identifier)?;
    let session = channel_session(&state, &message).await?;
    let MessageAck {
        conversation_id,
        seq,
        duplicate,
    } = state
        .conversations
        .customer_message(std::sync::Arc::new(session), message.clone())
        .await?;
    Ok(HttpResponse::Accepted().json(Received {
        status: "accepted",
        message_id: message.id.clone(),
        conversation_id,
        seq,
        duplicate,
    }))
}

/// Validates a connector's message: the CIM shape, a customer sender, sane identifiers.
pub fn inbound_message(value: &Value) -> Result<CimMessage, CimError> {
    if crate::cim::nests_deeper_than(value, crate::cim::MAX_JSON_DEPTH) {
        return Err(CimError::invalid(
            "message",
            format!("nests deeper than {} levels", crate::cim::MAX_JSON_DEPTH),
        ));
    }
    let message = CimMessage::from_inbound_value(value)?;
    let sender_type = message.header.sender.type_name();
    if !sender_type.eq_ignore_ascii_case("CUSTOMER") {
        return Err(CimError::invalid(
            "header.sender.type",
            format!("connectors post customer messages (CUSTOMER), not {sender_type:?}"),
        ));
    }
    // Identifiers are required and bounded by the message validation itself.
    channel_data(&message)?;
    Ok(message)
}

/// The name the connector gives its customer: `channelData.customerFirstName` /
/// `customerLastName` when given, else `header.sender.senderName` as the first name.
fn sender_name(message: &CimMessage, data: &ChannelData) -> CustomerName {
    let given = |n: Option<&String>| n.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let sender_name = match &message.header.sender {
        MessageSender::Sender(sender) => given(sender.sender_name.get()),
        MessageSender::Participant(_) => None,
    };
    CustomerName {
        first_name: given(data.customer_first_name.get()).or(sender_name),
        last_name: given(data.customer_last_name.get()),
        email: None,
    }
}

fn channel_data(message: &CimMessage) -> Result<&ChannelData, CimError> {
    message
        .header
        .channel_data
        .get()
        .ok_or_else(|| CimError::missing("header.channelData"))
}

/// The customer's session on the message's channel: the running one, else a new one.
async fn channel_session(
    state: &AppState,
    message: &CimMessage,
) -> Result<ChannelSession, ConnectorError> {
    let data = channel_data(message)?.clone();
    let service_identifier = data.service_identifier.clone();
    let customer_identifier = data.channel_customer_identifier.clone();
    let name = sender_name(message, &data);
    let sid = service_identifier.clone();
    let found = state
        .store
        .write(move |c| {
            let Some(channel) = directory::channel_by_service_identifier(c, &sid)? else {
                return Ok(Err(ConnectorError::UnknownChannel(sid.clone())));
            };
            let channel_type = channel
                .pointer("/channelType/name")
                .and_then(Value::as_str)
                .unwrap_or("WEB")
                .to_string();
            if channel_type == WEB_CHANNEL_TYPE {
                return Ok(Err(ConnectorError::WebChannel(sid.clone())));
            }
            let channel_id = channel.get("id").and_then(Value::as_str).unwrap_or("");
            let known = customers::find(c, &channel_type, &customer_identifier)?;
            let known_id = known
                .as_ref()
                .and_then(|k| k.get("_id").and_then(Value::as_str));
            let running = match known_id {
                Some(id) => conversations::running_session(c, id, channel_id)?,
                None => None,
            };
            // A disabled channel refuses new chats; running ones finish.
            if running.is_none() && !channel_admin::takes_new_chats(c, &sid)? {
                return Ok(Err(ConnectorError::Disabled(sid.clone())));
            }
            let customer = customers::find_or_create(
                c,
                &channel_type,
                &customer_identifier,
                name.first_name.as_deref(),
                now_ms(),
            )?;
            // The connector names the customer: the latest name given wins.
            let customer_id = customer.get("_id").and_then(Value::as_str).unwrap_or("");
            let customer = if !name.is_empty() {
                customers::set_name(c, customer_id, &name)?;
                customers::get(c, customer_id)?
            } else {
                customer
            };
            Ok(Ok((channel, customer, running)))
        })
        .await?;
    let (channel, customer, running) = found?;
    let session_id = running
        .map(|(session_id, _)| session_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut channel_data =
        serde_json::to_value(&data).map_err(|e| CimError::from_serde("header.channelData", &e))?;
    if let Some(obj) = channel_data.as_object_mut() {
        obj.entry("requestPriority").or_insert(json!(0));
        // The newer seeds' shape: the name keys are always there, null when not given.
        obj.entry("customerFirstName").or_insert(Value::Null);
        obj.entry("customerLastName").or_insert(Value::Null);
        obj.entry("additionalAttributes").or_insert(json!([]));
        if let Some(type_name) = channel.pointer("/channelType/name").cloned() {
            obj.entry("channelTypeCode").or_insert(type_name);
        }
    }
    let session = json!({
        "participantType": "ChannelSession",
        "id": session_id,
        "channel": channel,
        "customer": customer,
        "customerSuggestions": [],
        "channelData": channel_data,
        "latestIntent": null,
        "customerPresence": {"value": null},
        "isActive": true,
        "state": {"name": "STARTED", "reasonCode": "CUSTOMER"},
        "channelSessionDirection": "INBOUND",
        "active": true,
    });
    serde_json::from_value(session)
        .map_err(|e| ConnectorError::Message(CimError::from_serde("header.channelData", &e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Value {
        json!({
            "id": "m-1",
            "header": {
                "sender": {"id": "c-1", "type": "CUSTOMER", "senderName": "Ann", "additionalDetail": null},
                "channelData": {"serviceIdentifier": "8899", "channelCustomerIdentifier": "+15550001"},
            },
            "body": {"type": "PLAIN", "markdownText": "hi"}
        })
    }

    #[test]
    fn a_customer_message_is_accepted() {
        let m = inbound_message(&message()).unwrap();
        assert_eq!(m.id, "m-1");
    }

    #[test]
    fn bad_messages_name_the_field() {
        let mut m = message();
        m["header"]["sender"]["type"] = json!("AGENT");
        assert_eq!(
            inbound_message(&m).unwrap_err().path(),
            "header.sender.type"
        );
        let mut m = message();
        m["header"]["channelData"]
            .as_object_mut()
            .unwrap()
            .remove("serviceIdentifier");
        assert_eq!(
            inbound_message(&m).unwrap_err().path(),
            "header.channelData.serviceIdentifier"
        );
        let mut m = message();
        m["header"]["channelData"]["channelCustomerIdentifier"] = json!("x".repeat(300));
        assert_eq!(
            inbound_message(&m).unwrap_err().path(),
            "header.channelData.channelCustomerIdentifier"
        );
        let mut m = message();
        m["body"] = json!({"type": "PLAIN"});
        assert!(inbound_message(&m).unwrap_err().path().starts_with("body"));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret1"));
    }
}
