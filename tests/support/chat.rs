//! Both sides of a chat, as the report, retention, replay and search tests drive it:
//! a customer asking for a chat and saying something, an agent message, the agent
//! READY, leaving a chat with a wrap-up, and placing a direct transfer.

use super::sio_client::{token_auth, SioClient};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// An `AGENT_MESSAGE` CIM event with `body` for `publishCimEvent`.
pub fn agent_message(conversation_id: &str, body: Value) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "name": "AGENT_MESSAGE",
        "type": "MESSAGE",
        "timestamp": 1,
        "conversationId": conversation_id,
        "data": {
            "id": uuid::Uuid::new_v4().to_string(),
            "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": 1},
            "body": body
        }
    })
}

/// A customer on the demo web channel (`1122`) who asked for a chat; the conversation id.
pub async fn widget(addr: SocketAddr, customer: &str) -> (SioClient, String) {
    let w = SioClient::connect(
        addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": customer}),
    )
    .await
    .unwrap();
    let started = w.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    let id = started[0]["conversationId"].as_str().unwrap().to_string();
    (w, id)
}

/// The customer on `widget` says `text` (`MESSAGE_RECEIVED`); the store gave it a seq.
pub async fn customer_says(widget: &SioClient, text: &str) {
    let said = widget
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": uuid::Uuid::new_v4().to_string(),
                   "body": {"type": "PLAIN", "markdownText": text}}),
        )
        .await
        .unwrap();
    assert!(said[0]["seq"].is_number(), "{said:?}");
}

/// A desk signed in with `token`, READY; and its agent id.
pub async fn ready_desk(addr: SocketAddr, token: &str) -> (SioClient, String) {
    let desk = SioClient::connect(addr, "/", token_auth(token))
        .await
        .unwrap();
    let ready = desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": "READY"}}),
        )
        .await
        .unwrap();
    let agent_id = ready[0]["agent"]["id"].as_str().unwrap().to_string();
    (desk, agent_id)
}

/// The agent leaves conversation `id` and wraps it up with "Support: Issue resolved"
/// and the note "fine".
pub async fn leave_and_wrap_up(desk: &SioClient, agent_id: &str, id: &str) {
    let left = desk
        .emit_ack(
            "topicUnsubscription",
            json!({"conversationId": id, "reason": "DONE"}),
        )
        .await
        .unwrap();
    assert_eq!(left[0]["status"], "success", "{left:?}");
    desk.expect("wrapupTimerStarted", T).await.unwrap();
    let wrapup = json!({"type": "WRAPUP", "note": "fine",
        "wrapups": [{"categoryName": "Support", "value": "Issue resolved"}]});
    let closed = desk
        .emit_ack(
            "closeWrapup",
            json!({"agentId": agent_id, "conversationId": id,
                   "cimEvent": agent_message(id, wrapup)}),
        )
        .await
        .unwrap();
    assert_eq!(closed[0]["status"], "ok", "{closed:?}");
}

/// `desk`'s agent, in `conversation` (its topic's conversation, as the desk got it),
/// asks for a direct transfer to agent `to_agent_id`; the request is placed.
pub async fn place_direct_transfer(
    desk: &SioClient,
    conversation: &Value,
    conversation_id: &str,
    to_agent_id: &str,
) {
    let participant = conversation["participants"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["type"] == "AGENT"))
        .cloned()
        .expect("the desk's agent is in the conversation");
    let mut session = conversation["channelSession"].clone();
    session["topicId"] = json!(conversation_id);
    let placed = desk
        .emit_ack(
            "directTransferRequest",
            json!({"channelSession": session, "agentParticipant": participant,
                   "mode": "agent", "queueName": "", "requestedAgentId": to_agent_id,
                   "offerToAgent": true, "note": "over to you"}),
        )
        .await
        .unwrap();
    assert_eq!(placed[0]["status"], "placed", "{placed:?}");
}
