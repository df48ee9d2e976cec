//! Documented desk events that must behave as the seeds say, driven through the
//! desk namespace: typed payloads (a wrong type is `invalid_payload`), unknown
//! events without a payload, seed 004's PLAIN `closeWrapup`, an agent leaving a
//! customer who is still there, an agent leaving a pull-mode chat, and routing
//! refusals answered with their own codes.

use crate::common;
use crate::support;

use common::TestServer;
use serde_json::{json, Value};
use std::time::Duration;
use support::sio_client::{token_auth, SioClient};

const T: Duration = Duration::from_secs(10);

async fn desk(server: &TestServer, user: &str) -> SioClient {
    let token = server.login(user, user).await;
    let desk = SioClient::connect(server.addr, "/", token_auth(&token))
        .await
        .unwrap();
    desk.expect("agentPresence", T).await.unwrap();
    desk
}

async fn set_state(desk: &SioClient, name: &str) -> Value {
    let ack = desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": name}}),
        )
        .await
        .unwrap();
    ack[0].clone()
}

async fn ready_desk(server: &TestServer, user: &str) -> SioClient {
    let d = desk(server, user).await;
    assert_eq!(set_state(&d, "READY").await["state"]["name"], "READY");
    d
}

async fn widget(server: &TestServer, service: &str, customer: &str) -> (SioClient, String) {
    let w = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": service, "channelCustomerIdentifier": customer}),
    )
    .await
    .unwrap();
    let started = w.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    let conversation_id = started[0]["conversationId"].as_str().unwrap().to_string();
    (w, conversation_id)
}

/// Waits for the desk's `taskRequest` for `conversation_id` and subscribes to it.
async fn accept(desk: &SioClient, conversation_id: &str) -> Value {
    let offer = desk.expect("taskRequest", T).await.unwrap();
    assert_eq!(offer["conversationId"], conversation_id, "{offer}");
    let topic = desk
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .unwrap();
    assert_eq!(topic[0]["conversationId"], conversation_id, "{topic:?}");
    offer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_agent_state_refuses_fields_of_the_wrong_type_and_changes_nothing() {
    let server = TestServer::start().await;
    let d = desk(&server, "agent1").await;
    let wrong = [
        json!(null),
        json!(7),
        json!(true),
        json!(["x"]),
        json!({"a": 1}),
    ];
    let ready = json!({"name": "READY"});
    let mut probes = Vec::new();
    for bad in &wrong {
        probes.push(json!({"agentId": bad, "action": "agentState", "state": ready}));
        probes.push(json!({"action": bad, "state": ready}));
        probes.push(
            json!({"action": "agentState", "state": {"name": "NOT_READY"}, "reasonCode": bad}),
        );
        probes.push(json!({"action": "agentMRDState", "state": "NOT_READY", "mrdId": bad}));
    }
    // Inside `state`, reasonCode is a string or {name}/{id} (null: none); other types are refused.
    for bad in [json!(7), json!(true), json!(["x"]), json!({"a": 1})] {
        probes.push(
            json!({"action": "agentState", "state": {"name": "NOT_READY", "reasonCode": bad}}),
        );
    }
    probes.push(json!({"action": "agentState", "state": null}));
    probes.push(json!({"action": "agentState", "state": {"name": null}}));
    for probe in probes {
        let ack = d.emit_ack("changeAgentState", probe.clone()).await.unwrap();
        assert_eq!(ack[0]["status"], "error", "{probe} -> {ack:?}");
        assert_eq!(ack[0]["code"], "invalid_payload", "{probe} -> {ack:?}");
        let error = d.expect("errors", T).await.unwrap();
        assert_eq!(error["event"], "changeAgentState");
    }
    // Nothing changed: the agent is still NOT_READY (as logged in), and the
    // well-formed request still works.
    let now = set_state(&d, "READY").await;
    assert_eq!(now["state"]["name"], "READY", "{now}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_event_without_a_payload_is_unknown_event() {
    let server = TestServer::start().await;
    let d = desk(&server, "agent1").await;
    d.emit_args("noSuchEvent", vec![]).unwrap();
    let error = d.expect("errors", T).await.unwrap();
    assert_eq!(error["code"], "unknown_event", "{error}");
    assert_eq!(error["event"], "noSuchEvent");
    d.emit_args("noSuchEvent", vec![json!(5)]).unwrap();
    let error = d.expect("errors", T).await.unwrap();
    assert_eq!(error["code"], "unknown_event", "{error}");
    // A known event without its payload is still invalid_payload.
    d.emit_args("topicSubscription", vec![]).unwrap();
    let error = d.expect("errors", T).await.unwrap();
    assert_eq!(error["code"], "invalid_payload", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_wrapup_accepts_the_seed_004_plain_sample_as_the_note() {
    let server = TestServer::start().await;
    let d = ready_desk(&server, "agent1").await;
    let (_w, conversation_id) = widget(&server, "1122", "wrapup-plain").await;
    accept(&d, &conversation_id).await;
    let left = d
        .emit_ack(
            "topicUnsubscription",
            json!({"conversationId": conversation_id, "reason": "AGENT_LEFT"}),
        )
        .await
        .unwrap();
    assert_eq!(left[0]["status"], "success", "{left:?}");
    d.expect("wrapupTimerStarted", T).await.unwrap();
    // Seed 004's sample, trimmed to what the server reads (the header is the desk's).
    let agent_id = server_user_id(&server, "agent1").await;
    let sample = json!({
        "cimEvent": {
            "id": "c65bb9da-f596-48a2-bef5-bd47f0732dbe",
            "name": "AGENT_MESSAGE",
            "type": "MESSAGE",
            "timestamp": 1653888665578u64,
            "data": {
                "id": "142ad3a6-6ab8-4cf7-9553-959e2c3605c2",
                "header": {"timestamp": 1653888665578u64,
                           "sender": {"id": "688ef131-9cd6-4108-893e-033943eb2be0", "type": "AGENT"}},
                "body": {"markdownText": "fsadf", "type": "PLAIN"}
            }
        },
        "agentId": agent_id,
        "conversationId": conversation_id,
        "roomInfo": {"id": "65a625609487373651365bfb", "mode": "CONTACT_CENTER"}
    });
    let closed = d.emit_ack("closeWrapup", sample).await.unwrap();
    assert_eq!(closed[0]["status"], "ok", "{closed:?}");
    let admin = server.login("admin", "admin").await;
    let (status, conversation) = server
        .get(
            &format!("/api/v1/conversations/{conversation_id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{conversation}");
    let text = conversation.to_string();
    assert!(text.contains("fsadf"), "the note is stored: {text}");
}

async fn server_user_id(server: &TestServer, user: &str) -> String {
    let token = server.login(user, user).await;
    let (status, me) = server.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, 200);
    me["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_leaving_a_waiting_customer_is_not_offered_it_again_and_another_agent_gets_it() {
    let server = TestServer::start().await;
    let a1 = ready_desk(&server, "agent1").await;
    let (_w, conversation_id) = widget(&server, "1122", "left-behind").await;
    accept(&a1, &conversation_id).await;
    let a2 = ready_desk(&server, "agent2").await;

    // Spelled as seed 002's table spells it.
    let left = a1
        .emit_ack(
            "topicUnsubscription_",
            json!({"conversationId": conversation_id, "reason": "AGENT_LEFT"}),
        )
        .await
        .unwrap();
    assert_eq!(left[0]["status"], "success", "{left:?}");
    // agent2 is offered the conversation at once (well inside the 30 s accept
    // timeout agent1 would have to run out first) and accepts it.
    let offer = accept(&a2, &conversation_id).await;
    let task_id = offer["taskId"].as_str().unwrap().to_string();
    let id = task_id.clone();
    let task = server
        .running
        .as_ref()
        .unwrap()
        .routing
        .query(move |core, _| core.task(&id).cloned())
        .await
        .flatten()
        .unwrap();
    assert_eq!(task.media.state, switchboard::routing::MediaState::Active);
    let agent2 = server_user_id(&server, "agent2").await;
    assert_eq!(task.assigned_to.as_deref(), Some(agent2.as_str()));
    // agent1, wrapping up, never saw it.
    let events = a1
        .expect_silence("taskRequest", Duration::from_millis(300))
        .await;
    assert!(
        events.is_ok(),
        "agent1 was offered the conversation it left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_leaving_a_pull_mode_chat_is_dropped_from_its_request_and_subscribers_hear() {
    let server = TestServer::start().await;
    let admin = server.login("admin", "admin").await;
    let (status, list) = server
        .post(
            "/api/v1/pull-lists",
            Some(&admin),
            &json!({"name": "Leads"}),
        )
        .await;
    assert_eq!(status, 201, "{list}");
    let list_id = list["id"].as_str().unwrap().to_string();
    let (status, channel) = server
        .post(
            "/api/v1/channels",
            Some(&admin),
            &json!({"name": "leads", "serviceIdentifier": "2001", "channelType": "WEB",
                    "routingPolicy": {"routingMode": "PULL", "routingObjectId": list_id}}),
        )
        .await;
    assert_eq!(status, 201, "{channel}");
    let a1 = desk(&server, "agent1").await;
    let a2 = desk(&server, "agent2").await;
    let agent1 = server_user_id(&server, "agent1").await;
    let agent2 = server_user_id(&server, "agent2").await;
    for d in [&a1, &a2] {
        let ack = d
            .emit_ack("subscribePullModeList", json!({"listId": list_id}))
            .await
            .unwrap();
        assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    }
    let (_w, conversation_id) = widget(&server, "2001", "lead-leaves").await;
    let request = a1
        .expect("onPullModeSubscribedListRequest", T)
        .await
        .unwrap();
    let request_id = request["id"].as_str().unwrap().to_string();
    for d in [&a1, &a2] {
        let topic = d
            .emit_ack("joinPullModeRequest", json!({"requestId": request_id}))
            .await
            .unwrap();
        assert_eq!(topic[0]["conversationId"], conversation_id, "{topic:?}");
    }
    // Both joined: wait until a2 has heard it.
    loop {
        let update = a2
            .expect("onPullModeSubscribedListRequest", T)
            .await
            .unwrap();
        if update["joinedAgents"].as_array().map(Vec::len) == Some(2) {
            break;
        }
    }
    let left = a1
        .emit_ack(
            "topicUnsubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .unwrap();
    assert_eq!(left[0]["status"], "success", "{left:?}");
    let update = a2
        .expect("onPullModeSubscribedListRequest", T)
        .await
        .unwrap();
    assert_eq!(update["id"], request_id);
    assert_eq!(update["joinedAgents"], json!([agent2]), "{update}");
    assert_ne!(update["joinedAgents"], json!([agent1, agent2]));
    assert_eq!(update["state"], "ACTIVE");
}

/// Sends a desk request that routing refuses: the ack and the `errors` event carry
/// the refusal's own code.
async fn refused(desk: &SioClient, event: &str, payload: Value, code: &str) {
    let ack = desk.emit_ack(event, payload.clone()).await.unwrap();
    assert_eq!(ack[0]["status"], "error", "{event} {payload} -> {ack:?}");
    assert_eq!(ack[0]["code"], code, "{event} {payload} -> {ack:?}");
    let error = desk.expect("errors", T).await.unwrap();
    assert_eq!(
        (error["event"].as_str(), error["code"].as_str()),
        (Some(event), Some(code)),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_refusals_reach_the_desk_with_their_own_codes_and_change_nothing() {
    let server = TestServer::start().await;
    let a2 = desk(&server, "agent2").await;
    // READY on an MRD that does not exist; an existing MRD READY while NOT_READY.
    let mrd =
        |state: &str, id: &str| json!({"action": "agentMRDState", "state": state, "mrdId": id});
    refused(
        &a2,
        "changeAgentState",
        mrd("READY", "no-such-mrd"),
        "unknown_mrd",
    )
    .await;
    let presence = set_state(&a2, "NOT_READY").await;
    let mrd_id = presence["agentMrdStates"][0]["mrd"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no MRD in {presence}"))
        .to_string();
    refused(
        &a2,
        "changeAgentState",
        mrd("READY", &mrd_id),
        "agent_not_ready",
    )
    .await;

    // A task offered to agent1: agent2 can neither reject it nor an unknown one.
    let a1 = ready_desk(&server, "agent1").await;
    let (_w, conversation_id) = widget(&server, "1122", "refusals").await;
    let offer = a1.expect("taskRequest", T).await.unwrap();
    let task_id = offer["taskId"].as_str().unwrap().to_string();
    let reject = |id: &str| json!({"taskId": id});
    refused(&a2, "rejectTask", reject(&task_id), "not_reserved_to_agent").await;
    refused(&a2, "rejectTask", reject("no-such-task"), "unknown_task").await;

    // Pull-mode lists and requests that do not exist.
    refused(
        &a2,
        "subscribePullModeList",
        json!({"listId": "no-such-list"}),
        "unknown_pull_list",
    )
    .await;
    refused(
        &a2,
        "joinPullModeRequest",
        json!({"requestId": "no-such-request"}),
        "unknown_pull_request",
    )
    .await;

    // Nothing changed: agent1 still holds the offer and accepts it.
    let topic = a1
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id}),
        )
        .await
        .unwrap();
    assert_eq!(topic[0]["conversationId"], conversation_id, "{topic:?}");
    assert_eq!(set_state(&a2, "READY").await["state"]["name"], "READY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_change_agent_state_is_answered_with_agent_presence_even_when_nothing_changes() {
    let server = TestServer::start().await;
    let d = desk(&server, "agent1").await;
    // The connection's own presence may come twice (the greeting and the login).
    while d
        .expect_event("agentPresence", Duration::from_millis(300))
        .await
        .is_ok()
    {}
    // A desk that does not ask for an ack waits for the event; the state it asks
    // for first is the one it is in after connecting.
    for name in ["NOT_READY", "READY", "READY"] {
        d.emit(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": name}}),
        )
        .unwrap();
        let presence = d.expect("agentPresence", T).await.unwrap();
        assert_eq!(presence["state"]["name"], name, "{presence}");
    }
    d.expect_silence("agentPresence", Duration::from_millis(300))
        .await
        .unwrap();
}

/// Seed 004's `closeWrapup` sample, ids and all, for `conversation_id`.
fn seed_wrapup(agent_id: &str, conversation_id: &str) -> Value {
    json!({
        "agentId": agent_id,
        "conversationId": conversation_id,
        "cimEvent": {
            "id": "c65bb9da-f596-48a2-bef5-bd47f0732dbe",
            "name": "AGENT_MESSAGE",
            "type": "MESSAGE",
            "timestamp": 1,
            "conversationId": conversation_id,
            "data": {
                "id": "142ad3a6-6ab8-4cf7-9553-959e2c3605c2",
                "header": {"sender": {"id": agent_id, "type": "AGENT"}, "timestamp": 1},
                "body": {"type": "PLAIN", "markdownText": "wrapped up"}
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_sending_the_seed_wrap_up_with_its_fixed_ids_in_every_chat_closes_each() {
    let server = TestServer::start().await;
    let (d, agent_id) =
        support::chat::ready_desk(server.addr, &server.login("agent1", "agent1").await).await;
    for customer in ["seed-walk-1", "seed-walk-2", "seed-walk-3"] {
        let (w, conversation_id) = widget(&server, "1122", customer).await;
        accept(&d, &conversation_id).await;
        let left = d
            .emit_ack(
                "topicUnsubscription",
                json!({"conversationId": conversation_id, "reason": "DONE"}),
            )
            .await
            .unwrap();
        assert_eq!(left[0]["status"], "success", "{left:?}");
        d.expect("wrapupTimerStarted", T).await.unwrap();
        let closed = d
            .emit_ack("closeWrapup", seed_wrapup(&agent_id, &conversation_id))
            .await
            .unwrap();
        assert_eq!(closed[0]["status"], "ok", "{customer}: {closed:?}");
        let topic = d.expect("topicClosed", T).await.unwrap();
        assert_eq!(topic["conversationId"], conversation_id, "{topic}");
        w.close().await;
    }
    let (ready, _) = server.get("/readyz", None).await;
    assert_eq!(ready, 200, "the engine runs on");
}

/// An agent message in `conversation_id` whose message id is always the same.
async fn say_with_fixed_id(desk: &SioClient, conversation_id: &str) -> Value {
    let mut event = support::chat::agent_message(
        conversation_id,
        json!({"type": "PLAIN", "markdownText": "same id again"}),
    );
    event["data"]["id"] = json!("reused-message-id");
    let ack = desk
        .emit_ack(
            "publishCimEvent",
            json!({"conversationId": conversation_id, "cimEvent": event}),
        )
        .await
        .unwrap();
    ack[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_id_reused_after_its_chat_closed_is_stored_and_the_engine_runs_on() {
    let server = TestServer::start().await;
    let (d, agent_id) =
        support::chat::ready_desk(server.addr, &server.login("agent1", "agent1").await).await;
    let (w, first) = widget(&server, "1122", "reuse-1").await;
    accept(&d, &first).await;
    assert_eq!(say_with_fixed_id(&d, &first).await["status"], "ok");
    w.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    d.expect("wrapupTimerStarted", T).await.unwrap();
    let wrapup = support::chat::agent_message(
        &first,
        json!({"type": "WRAPUP", "note": "done", "wrapups": []}),
    );
    let closed = d
        .emit_ack(
            "closeWrapup",
            json!({"agentId": agent_id, "conversationId": first, "cimEvent": wrapup}),
        )
        .await
        .unwrap();
    assert_eq!(closed[0]["status"], "ok", "{closed:?}");
    d.expect("topicClosed", T).await.unwrap();

    d.close().await;

    // Restarted, the engine remembers the ids of open chats only; the store keeps the
    // closed chat's.
    let server = server.restart().await;
    let (d, _) =
        support::chat::ready_desk(server.addr, &server.login("agent1", "agent1").await).await;
    let (_w2, second) = widget(&server, "1122", "reuse-2").await;
    accept(&d, &second).await;
    let ack = say_with_fixed_id(&d, &second).await;
    assert_eq!(ack["status"], "ok", "{ack}");
    assert!(ack["seq"].is_number(), "{ack}");
    let (ready, _) = server.get("/readyz", None).await;
    assert_eq!(ready, 200, "the engine runs on");
    let admin = server.login("admin", "admin").await;
    let (_, transcript) = server
        .get(
            &format!("/api/v1/conversations/{second}/events"),
            Some(&admin),
        )
        .await;
    let texts: Vec<&str> = transcript["events"]
        .as_array()
        .unwrap_or_else(|| panic!("{transcript}"))
        .iter()
        .filter_map(|e| e["data"]["body"]["markdownText"].as_str())
        .collect();
    assert!(texts.contains(&"same id again"), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrap_up_published_as_a_message_never_reaches_the_customer() {
    let server = TestServer::start().await;
    let d = ready_desk(&server, "agent1").await;
    let (w, conversation_id) = widget(&server, "1122", "no-notes-for-me").await;
    accept(&d, &conversation_id).await;
    for body in [
        json!({"type": "WRAPUP", "note": "difficult customer", "wrapups": []}),
        json!({"type": "PLAIN", "markdownText": "anything else?"}),
    ] {
        let event = support::chat::agent_message(&conversation_id, body);
        let ack = d
            .emit_ack(
                "publishCimEvent",
                json!({"conversationId": conversation_id, "cimEvent": event}),
            )
            .await
            .unwrap();
        assert_eq!(ack[0]["status"], "ok", "{ack:?}");
    }
    loop {
        let got = w.expect("MESSAGE_RECEIVED", T).await.unwrap();
        assert_ne!(got["data"]["body"]["type"], "WRAPUP", "{got}");
        if got["data"]["body"]["markdownText"] == "anything else?" {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_nesting_deeper_than_32_levels_are_refused_at_the_edge() {
    let server = TestServer::start().await;
    let d = ready_desk(&server, "agent1").await;
    let (w, conversation_id) = widget(&server, "1122", "deep-thinker").await;
    accept(&d, &conversation_id).await;
    let mut deep = json!("leaf");
    for _ in 0..64 {
        deep = json!({"$ref": deep});
    }
    let mut event = support::chat::agent_message(
        &conversation_id,
        json!({"type": "PLAIN", "markdownText": "hi"}),
    );
    event["data"]["body"]["extra"] = deep.clone();
    let refused = d
        .emit_ack(
            "publishCimEvent",
            json!({"conversationId": conversation_id, "cimEvent": event}),
        )
        .await
        .unwrap();
    assert_eq!(refused[0]["code"], "invalid_payload", "{refused:?}");
    let refused = w
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "deep-1", "body": {"type": "PLAIN", "markdownText": "x", "extra": deep}}),
        )
        .await
        .unwrap();
    assert_eq!(refused[0]["code"], "invalid_payload", "{refused:?}");
    // Nothing was stored; the chat goes on.
    let fine = w
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "deep-2", "body": {"type": "PLAIN", "markdownText": "flat"}}),
        )
        .await
        .unwrap();
    assert_eq!(fine[0]["status"], "ok", "{fine:?}");
    assert!(fine[0]["seq"].as_u64().is_some(), "{fine:?}");
}
