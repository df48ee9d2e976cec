//! The desk and widget payloads the tool sends, the few fields it reads back, and the
//! probe text that carries a message's identity and send time through the server.

use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The instant all probe timestamps count from (one per process).
pub fn origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// Wall-clock milliseconds since the Unix epoch (the server's timestamps are in these).
pub fn epoch_ms() -> i64 {
    epoch_micros() / 1000
}

/// Wall-clock microseconds since the Unix epoch.
pub fn epoch_micros() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// What one message says about itself: conversation index, message index, send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub conversation: u32,
    pub index: u32,
    /// Nanoseconds since [`origin`].
    pub sent_nanos: u64,
}

impl Probe {
    pub fn new(conversation: u32, index: u32, sent: Instant) -> Probe {
        Probe {
            conversation,
            index,
            sent_nanos: sent.saturating_duration_since(origin()).as_nanos() as u64,
        }
    }

    /// `lt|<conversation>|<index>|<nanos>`.
    pub fn text(&self) -> String {
        format!(
            "lt|{}|{}|{}",
            self.conversation, self.index, self.sent_nanos
        )
    }

    pub fn parse(text: &str) -> Option<Probe> {
        let mut parts = text.strip_prefix("lt|")?.split('|');
        let probe = Probe {
            conversation: parts.next()?.parse().ok()?,
            index: parts.next()?.parse().ok()?,
            sent_nanos: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(probe)
    }

    /// Time from the send to `received`.
    pub fn latency(&self, received: Instant) -> Duration {
        received
            .saturating_duration_since(origin())
            .saturating_sub(Duration::from_nanos(self.sent_nanos))
    }

    /// Tag for acks: conversation in the high half, index in the low half.
    pub fn tag(&self) -> u64 {
        (u64::from(self.conversation) << 32) | u64::from(self.index)
    }

    pub fn key(&self) -> (u32, u32) {
        (self.conversation, self.index)
    }
}

/// A message id unique to this run.
pub fn message_id(run: &str, side: char, probe: &Probe) -> String {
    format!("{run}-{side}-{}-{}", probe.conversation, probe.index)
}

/// Widget `MESSAGE_RECEIVED` payload.
pub fn customer_message(id: &str, text: &str) -> Value {
    json!({"id": id, "body": {"type": "PLAIN", "markdownText": text}})
}

/// Desk `publishCimEvent` payload with an AGENT_MESSAGE.
pub fn agent_message(
    conversation_id: &str,
    agent_id: &str,
    event_id: &str,
    message_id: &str,
    text: &str,
    now_ms: i64,
) -> Value {
    json!({
        "agentId": agent_id,
        "conversationId": conversation_id,
        "cimEvent": {
            "id": event_id,
            "name": "AGENT_MESSAGE",
            "type": "MESSAGE",
            "timestamp": now_ms,
            "conversationId": conversation_id,
            "data": {
                "id": message_id,
                "header": {"sender": {"id": agent_id, "type": "AGENT"}, "timestamp": now_ms},
                "body": {"type": "PLAIN", "markdownText": text}
            }
        }
    })
}

/// Desk `topicSubscription` payload accepting an offered task.
pub fn accept(conversation_id: &str, agent_id: &str) -> Value {
    json!({
        "conversationId": conversation_id,
        "topicParticipant": {"type": "AGENT", "role": "PRIMARY", "participant": {"id": agent_id}}
    })
}

/// Desk `changeAgentState` to READY.
pub fn ready(agent_id: &str) -> Value {
    json!({"agentId": agent_id, "action": "agentState", "state": {"name": "READY", "reasonCode": null}})
}

/// Just the name of a CIM event (the rest is skipped, not built).
#[derive(Deserialize)]
pub struct NamedEvent {
    #[serde(default)]
    pub name: String,
}

/// The probe-carrying part of a message CIM event: `data.body.markdownText`.
#[derive(Deserialize)]
pub struct MessageEvent {
    pub data: MessageData,
}

#[derive(Deserialize)]
pub struct MessageData {
    pub body: MessageBody,
}

#[derive(Deserialize)]
pub struct MessageBody {
    #[serde(rename = "markdownText", default)]
    pub markdown_text: Option<String>,
}

impl MessageEvent {
    pub fn probe(&self) -> Option<Probe> {
        Probe::parse(self.data.body.markdown_text.as_deref()?)
    }
}

/// The fields of a `taskRequest` the tool reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRequest {
    pub conversation_id: String,
    #[serde(default)]
    pub task: Option<TaskLite>,
    #[serde(default)]
    pub channel_session: Option<SessionLite>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskLite {
    #[serde(default)]
    pub active_media: Vec<MediaLite>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaLite {
    #[serde(default)]
    pub enqueue_time: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionLite {
    #[serde(default)]
    pub channel_data: Option<ChannelDataLite>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelDataLite {
    #[serde(default)]
    pub channel_customer_identifier: Option<String>,
}

impl TaskRequest {
    pub fn enqueue_time(&self) -> Option<i64> {
        self.task.as_ref()?.active_media.first()?.enqueue_time
    }

    pub fn customer(&self) -> Option<&str> {
        self.channel_session
            .as_ref()?
            .channel_data
            .as_ref()?
            .channel_customer_identifier
            .as_deref()
    }
}

/// An ack that is either a success or `{status: "error", code, message}`.
#[derive(Deserialize, Debug)]
pub struct AckStatus {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub duplicate: Option<bool>,
    #[serde(default, rename = "conversationId")]
    pub conversation_id: Option<String>,
}

impl AckStatus {
    pub fn error(&self) -> Option<String> {
        (self.status.as_deref() == Some("error")).then(|| {
            format!(
                "{}: {}",
                self.code.as_deref().unwrap_or("error"),
                self.message.as_deref().unwrap_or_default()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_round_trip_through_their_text() {
        let sent = origin() + Duration::from_millis(7);
        let probe = Probe::new(12, 3, sent);
        let parsed = Probe::parse(&probe.text()).unwrap();
        assert_eq!(parsed, probe);
        assert_eq!(
            parsed.latency(sent + Duration::from_micros(1500)),
            Duration::from_micros(1500)
        );
        assert_eq!(parsed.tag(), (12u64 << 32) | 3);
        assert_eq!(Probe::parse("hello"), None);
        assert_eq!(Probe::parse("lt|1|2"), None);
        assert_eq!(Probe::parse("lt|1|2|3|4"), None);
    }

    #[test]
    fn task_requests_give_their_enqueue_time_and_customer() {
        let offer: TaskRequest = serde_json::from_value(json!({
            "conversationId": "c1",
            "taskId": "t",
            "task": {"activeMedia": [{"enqueueTime": 1234, "state": "RESERVED"}]},
            "channelSession": {"channelData": {"channelCustomerIdentifier": "cust-7"}}
        }))
        .unwrap();
        assert_eq!(offer.enqueue_time(), Some(1234));
        assert_eq!(offer.customer(), Some("cust-7"));
    }

    #[test]
    fn error_acks_are_recognised() {
        let ok: AckStatus = serde_json::from_value(json!({"status": "ok"})).unwrap();
        assert_eq!(ok.error(), None);
        let bad: AckStatus =
            serde_json::from_value(json!({"status": "error", "code": "no_task", "message": "m"}))
                .unwrap();
        assert_eq!(bad.error().as_deref(), Some("no_task: m"));
    }
}
