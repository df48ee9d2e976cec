//! `MESSAGE_LEFT {additionalAttributes, message: {id, body: {type: "PLAIN",
//! markdownText}}}`: outside business hours the customer leaves a message (a
//! Switchboard addition, docs/protocol.md). It passes the channel's pre-chat form like
//! a chat request, starts a conversation holding the message, and is routed to the
//! channel's queue when the hours open (`conversation::hours_hold`); when the channel
//! is open it is routed at once. The tab gets the chat's `sessionSecret`: coming back
//! with it (the bundled widget keeps it), the customer reads the agent's reply.

use super::{Widget, WidgetError};
use crate::channels::widget_form::chat_request_data;
use crate::channels::widget_message::inbound_message;
use crate::clock::now_ms;
use crate::socketio::Socket;
use serde::Deserialize;
use serde_json::{json, Value};

/// Longest message a customer may leave, in characters.
const MAX_TEXT_CHARS: usize = 4_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct MessageLeft {
    /// Checked by `gate` and `chat_request_data` (WebChannelData with the form).
    #[serde(default)]
    #[allow(dead_code)]
    additional_attributes: Option<Value>,
    #[serde(default)]
    #[allow(dead_code)]
    customer_first_name: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    customer_last_name: Option<String>,
    message: LeftText,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeftText {
    id: String,
    body: LeftBody,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeftBody {
    #[serde(rename = "type")]
    kind: String,
    #[serde(rename = "markdownText")]
    markdown_text: String,
}

/// The message's id and text, checked before anything is written.
fn checked(payload: &Value) -> Result<(String, String), WidgetError> {
    let request: MessageLeft = serde_json::from_value(payload.clone())
        .map_err(|e| WidgetError::new("invalid_payload", format!("MESSAGE_LEFT: {e}")))?;
    let LeftText { id, body } = request.message;
    if id.trim().is_empty() || id.chars().count() > 256 {
        return Err(WidgetError::new(
            "invalid_field",
            "message.id must be 1-256 characters",
        ));
    }
    if body.kind != "PLAIN" {
        return Err(WidgetError::new(
            "invalid_field",
            "message.body.type must be PLAIN",
        ));
    }
    let text = body.markdown_text.trim().to_owned();
    if text.is_empty() {
        return Err(WidgetError::new(
            "missing_field",
            "message.body.markdownText: write a message",
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(WidgetError::new(
            "invalid_field",
            format!("message.body.markdownText must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok((id, text))
}

impl Widget {
    pub(super) async fn message_left(
        &self,
        socket: &Socket,
        customer_key: &str,
        payload: &Value,
    ) -> Result<Value, WidgetError> {
        let (id, text) = checked(payload)?;
        let (service_identifier, customer_identifier) = self.identity(customer_key)?;
        if self.running_session(customer_key, socket)?.is_some() {
            return Err(WidgetError::new(
                "wrong_state",
                "a chat is running: send the message with MESSAGE_RECEIVED",
            ));
        }
        let gate = self
            .gate(customer_key, &service_identifier, payload, true)
            .await?;
        let (channel_data, name) =
            chat_request_data(&service_identifier, &customer_identifier, payload)?;
        let (session_id, secret) = self.new_session(socket, customer_key, name).await?;
        let session = self.channel_session(customer_key, &session_id, channel_data)?;
        let message = inbound_message(
            &session,
            json!({"id": id, "body": {"type": "PLAIN", "markdownText": text}}),
        )?;
        let opens_at = if gate.open {
            Some(now_ms())
        } else {
            gate.opens_at
        };
        let ack = self
            .inner
            .conversations
            .message_left(session, message, opens_at)
            .await?;
        self.remember_session(customer_key, &session_id, &ack.conversation_id);
        Ok(json!({
            "status": "ok",
            "messageId": id,
            "conversationId": ack.conversation_id,
            "channelSessionId": session_id,
            "seq": ack.seq,
            "open": gate.open,
            "nextOpen": if gate.open { None } else { gate.opens_at },
            "timeZone": gate.time_zone,
            "sessionSecret": secret,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_text_message_may_be_left() {
        let ok = json!({"message": {"id": "m-1", "body": {"type": "PLAIN", "markdownText": " Call me "}}});
        assert_eq!(
            checked(&ok).unwrap(),
            ("m-1".to_owned(), "Call me".to_owned())
        );
        let refuse = |v: Value| checked(&v).unwrap_err().code;
        assert_eq!(refuse(json!({})), "invalid_payload");
        assert_eq!(
            refuse(
                json!({"message": {"id": "m", "body": {"type": "PLAIN", "markdownText": "  "}}})
            ),
            "missing_field"
        );
        assert_eq!(
            refuse(json!({"message": {"id": "m", "body": {"type": "IMAGE", "markdownText": "x"}}})),
            "invalid_field"
        );
        assert_eq!(
            refuse(json!({"message": {"id": "", "body": {"type": "PLAIN", "markdownText": "x"}}})),
            "invalid_field"
        );
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            refuse(
                json!({"message": {"id": "m", "body": {"type": "PLAIN", "markdownText": long}}})
            ),
            "invalid_field"
        );
        assert_eq!(
            refuse(
                json!({"message": {"id": "m", "body": {"type": "PLAIN", "markdownText": "x"}}, "extra": 1})
            ),
            "invalid_payload"
        );
    }
}
