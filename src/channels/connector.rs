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
//! incomplete message (the message names the field), 401 a missing or wrong connector
//! token, 404 an unknown serviceIdentifier, 409 a session that has ended, 413 a body
//! over `http.max_body_bytes`, 415 a body that is not JSON.
//!
//! Authentication: connectors are services, not users. When `channels.connector_token`
//! is set, they must send `Authorization: Bearer <token>`; when empty the route is
//! open, as connectors of the documented platform post unauthenticated from inside the
//! cluster.

use crate::cim::{ChannelData, ChannelSession, CimError, CimMessage, MessageSender};
use crate::clock::now_ms;
use crate::conversation::handle::{ConversationError, MessageAck};
use crate::http::auth::bearer_token;
use crate::http::error::ApiError;
use crate::http::AppState;
use crate::store::{conversations, customers, directory, StoreError};
use actix_web::http::StatusCode;
use actix_web::{dev::Payload, web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use serde_json::{json, Value};
use std::future::{ready, Ready};

/// The route connectors post customer messages to.
pub const RECEIVE_PATH: &str = "/ccm/message/receive";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(RECEIVE_PATH, web::post().to(receive));
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error(transparent)]
    Message(#[from] CimError),
    #[error("unknown serviceIdentifier {0:?}")]
    UnknownChannel(String),
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
            ConnectorError::UnknownChannel(_) => {
                json!({"code": "unknown_channel", "message": self.to_string()})
            }
            ConnectorError::Conversation(e) => json!({"code": e.code(), "message": e.to_string()}),
            ConnectorError::Store(e) => {
                return ApiError::Internal(e.to_string()).error_response();
            }
        };
        HttpResponse::build(self.status_code()).json(body)
    }
}

/// A caller allowed to post connector messages (see the module doc).
pub struct ConnectorAuth;

impl FromRequest for ConnectorAuth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>() else {
            return ready(Err(ApiError::Internal("app state missing".into())));
        };
        let expected = state.config.channels.connector_token.as_bytes();
        let allowed = expected.is_empty()
            || bearer_token(req).is_some_and(|t| constant_time_eq(t.as_bytes(), expected));
        ready(if allowed {
            Ok(ConnectorAuth)
        } else {
            Err(ApiError::Unauthenticated)
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
        (status = 404, description = "unknown serviceIdentifier", body = crate::http::error::ErrorBody)
    ),
    security(("bearer" = []))
)]
pub(crate) async fn receive(
    _: ConnectorAuth,
    state: web::Data<AppState>,
    body: web::Json<Value>,
) -> Result<HttpResponse, ConnectorError> {
    let message = inbound_message(&body)?;
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
    let first_name = match &message.header.sender {
        MessageSender::Sender(sender) => sender.sender_name.get().cloned(),
        MessageSender::Participant(_) => None,
    }
    .or_else(|| data.customer_first_name.get().cloned())
    .filter(|n| !n.trim().is_empty());
    let sid = service_identifier.clone();
    let found = state
        .store
        .write(move |c| {
            let Some(channel) = directory::channel_by_service_identifier(c, &sid)? else {
                return Ok(None);
            };
            let channel_type = channel
                .pointer("/channelType/name")
                .and_then(Value::as_str)
                .unwrap_or("WEB")
                .to_string();
            let customer = customers::find_or_create(
                c,
                &channel_type,
                &customer_identifier,
                first_name.as_deref(),
                now_ms(),
            )?;
            let customer_id = customer.get("_id").and_then(Value::as_str).unwrap_or("");
            let channel_id = channel.get("id").and_then(Value::as_str).unwrap_or("");
            let running = conversations::running_session(c, customer_id, channel_id)?;
            Ok(Some((channel, customer, running)))
        })
        .await?;
    let Some((channel, customer, running)) = found else {
        return Err(ConnectorError::UnknownChannel(service_identifier));
    };
    let session_id = running
        .map(|(session_id, _)| session_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut channel_data =
        serde_json::to_value(&data).map_err(|e| CimError::from_serde("header.channelData", &e))?;
    if let Some(obj) = channel_data.as_object_mut() {
        obj.entry("requestPriority").or_insert(json!(0));
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
