//! The conversation manager through the running appliance: the external studio
//! flow (answers, and the fallback to the built-in flow on timeout), a restart in
//! the middle of a conversation that keeps its state and timers, and a message the
//! store refuses, which no one sees.

use crate::common;
use crate::support;

use actix_web::{web, App, HttpResponse, HttpServer};
use common::TestServer;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::sio_client::{token_auth, SioClient};

const T: Duration = Duration::from_secs(10);

async fn widget(server: &TestServer, customer: &str) -> SioClient {
    SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": customer}),
    )
    .await
    .unwrap()
}

async fn ready_desk(server: &TestServer, user: &str) -> SioClient {
    let token = server.login(user, user).await;
    let desk = SioClient::connect(server.addr, "/", token_auth(&token))
        .await
        .unwrap();
    desk.emit_ack(
        "changeAgentState",
        json!({"action": "agentState", "state": {"name": "READY"}}),
    )
    .await
    .unwrap();
    desk
}

/// Runs `sql` on the appliance's store, as an operator would with the sqlite3 shell.
async fn run_sql(server: &TestServer, sql: &'static str) {
    server
        .running
        .as_ref()
        .unwrap()
        .store
        .write(move |c| {
            c.execute_batch(sql)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// A customer's chat accepted by `agent`'s desk: (desk, widget, conversation id).
async fn accepted_chat(
    server: &TestServer,
    agent: &str,
    customer: &str,
) -> (SioClient, SioClient, String, String) {
    let desk = ready_desk(server, agent).await;
    let w = widget(server, customer).await;
    let started = w.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    let conversation_id = started[0]["conversationId"].as_str().unwrap().to_string();
    let secret = started[0]["sessionSecret"].as_str().unwrap().to_string();
    desk.expect("taskRequest", T).await.unwrap();
    desk.emit_ack(
        "topicSubscription",
        json!({"conversationId": conversation_id}),
    )
    .await
    .unwrap();
    (desk, w, conversation_id, secret)
}

/// A studio flow on 127.0.0.1:0 that records intents and answers with `answer(intent)`,
/// sleeping `delay` first.
async fn studio(
    answer: fn(&str) -> Value,
    delay: Duration,
) -> (String, Arc<Mutex<Vec<Value>>>, actix_web::dev::ServerHandle) {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let log = seen.clone();
    let server = HttpServer::new(move || {
        let log = log.clone();
        App::new().route(
            "/flow",
            web::post().to(move |body: web::Json<Value>| {
                let log = log.clone();
                async move {
                    let intent = body["payload"]["intent"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    log.lock().unwrap().push(body.into_inner());
                    tokio::time::sleep(delay).await;
                    HttpResponse::Ok().json(answer(&intent))
                }
            }),
        )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (format!("http://{addr}/flow"), seen, handle)
}

fn flow_answer(intent: &str) -> Value {
    match intent {
        "CONVERSATION_STARTED" => json!([
            {"type": "SEND_MESSAGE", "data": {"text": "Hello from the external flow"}},
            {"type": "UPDATE_CONVERSATION_DATA", "data": {"conversationData": {"source": "flow"}}},
            {"type": "FIND_AGENT", "data": {}}
        ]),
        _ => json!([]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_flow_answers_intents_with_actions() {
    let (url, seen, studio_server) = studio(flow_answer, Duration::ZERO).await;
    let server = TestServer::start_with(|c| c.studio.url = url).await;
    let desk = ready_desk(&server, "agent1").await;
    let w = widget(&server, "flow-1").await;
    w.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    let greeting = w.expect("MESSAGE_RECEIVED", T).await.unwrap();
    assert_eq!(
        greeting["data"]["body"]["markdownText"],
        "Hello from the external flow"
    );
    let offer = desk.expect("taskRequest", T).await.unwrap();
    let topic = desk
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": offer["conversationId"]}),
        )
        .await
        .unwrap();
    let data = &topic[0]["topicData"]["conversation"]["conversationData"];
    assert!(data.to_string().contains("source"), "{data}");
    let intents: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|m| {
            m["payload"]["intent"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(
        intents.contains(&"CONVERSATION_STARTED".to_string()),
        "{intents:?}"
    );
    // Every request has the documented envelope; intents carry their cimEvent (the
    // CONVERSATION_STARTED sample of seed 001 carries the channelSession instead).
    for message in seen.lock().unwrap().iter() {
        assert!(message.get("_msgid").is_some());
        assert!(message["payload"]["roomId"].is_string());
        let entities = &message["payload"]["entities"];
        match message["payload"]["intent"].as_str() {
            Some("CONVERSATION_STARTED") => assert!(entities["channelSession"].is_object()),
            _ => assert!(entities["cimEvent"].is_object(), "{message}"),
        }
    }
    studio_server.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_external_flow_falls_back_to_the_built_in_flow() {
    let (url, seen, studio_server) = studio(flow_answer, Duration::from_secs(3)).await;
    let server = TestServer::start_with(|c| {
        c.studio.url = url;
        c.studio.timeout_ms = 300;
    })
    .await;
    let desk = ready_desk(&server, "agent1").await;
    let w = widget(&server, "flow-2").await;
    w.emit_ack("CHAT_REQUESTED", json!({})).await.unwrap();
    // The built-in flow greets and finds an agent.
    let greeting = w.expect("MESSAGE_RECEIVED", T).await.unwrap();
    assert!(greeting["data"]["body"]["markdownText"]
        .as_str()
        .unwrap()
        .contains("Finding an agent"));
    desk.expect("taskRequest", T).await.unwrap();
    assert!(!seen.lock().unwrap().is_empty(), "the flow was asked first");
    assert!(switchboard::engine::STUDIO_FALLBACKS.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    studio_server.stop(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_mid_conversation_keeps_state_and_timers() {
    let server = TestServer::start().await;
    // A short customer activity timeout on the demo channel.
    run_sql(
        &server,
        "UPDATE channels SET config = json_set(config, '$.customerActivityTimeout', 3)",
    )
    .await;
    let (desk, w, conversation_id, secret) = accepted_chat(&server, "agent1", "restart-conv").await;
    let ack = w
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "before-restart", "body": {"type": "PLAIN", "markdownText": "hi"}}),
        )
        .await
        .unwrap();
    let seq_before = ack[0]["seq"].as_u64().unwrap();
    drop(w);
    drop(desk);

    let server = server.restart().await;
    let supervisor = server.login("supervisor", "supervisor").await;
    let path = format!("/api/v1/conversations/{conversation_id}");
    let state = |server: &TestServer| {
        let (token, path) = (supervisor.clone(), path.clone());
        let http = server.http.clone();
        let url = server.url(&path);
        async move {
            let body: Value = http
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (
                body["state"].as_str().unwrap_or_default().to_string(),
                body["lastSeq"].as_i64().unwrap_or(-1),
            )
        }
    };
    let (s, last_seq) = state(&server).await;
    assert_eq!(s, "ACTIVE", "the conversation came back as it was");
    assert!(last_seq as u64 >= seq_before);
    // The retried message is still recognised after the restart (the tab resumes its
    // chat with the session secret it was given).
    let w = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": "restart-conv",
               "sessionSecret": secret}),
    )
    .await
    .unwrap();
    let again = w
        .emit_ack(
            "MESSAGE_RECEIVED",
            json!({"id": "before-restart", "body": {"type": "PLAIN", "markdownText": "hi"}}),
        )
        .await
        .unwrap();
    assert_eq!(again[0]["duplicate"], true, "{again:?}");
    assert_eq!(again[0]["seq"].as_u64().unwrap(), seq_before);
    // The activity timer (3 s from the last message) fires after the restart.
    let expired = w.expect("CHANNEL_SESSION_EXPIRED", T).await.unwrap();
    assert_eq!(expired["reason"], "INACTIVITY");
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let (s, _) = state(&server).await;
        if s != "ACTIVE" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "conversation never left ACTIVE"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_store_refuses_is_refused_to_its_sender_and_delivered_to_no_one() {
    let server = TestServer::start().await;
    // The store refuses one message id, so the write holding it fails as a whole.
    run_sql(
        &server,
        "CREATE TRIGGER refuse_one BEFORE INSERT ON cim_event_rows
         WHEN NEW.message_id = 'refused-by-store'
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
    )
    .await;
    let (desk, w, conversation_id, _) = accepted_chat(&server, "agent1", "store-refuses").await;

    let message = |id: &str| json!({"id": id, "body": {"type": "PLAIN", "markdownText": id}});
    let refused = w
        .emit_ack("MESSAGE_RECEIVED", message("refused-by-store"))
        .await
        .unwrap();
    assert_eq!(refused[0]["code"], "unavailable", "{refused:?}");
    // The engine halts (its state took in what the store refused): what comes next
    // is refused too until the appliance starts again.
    let running = server.running.as_ref().unwrap();
    tokio::time::timeout(T, running.halted()).await.unwrap();
    let later = w
        .emit_ack("MESSAGE_RECEIVED", message("sent-while-halted"))
        .await
        .unwrap();
    assert_eq!(later[0]["status"], "error", "{later:?}");

    // The desk never heard the refused message.
    while let Ok(event) = desk
        .expect("onCimEvent", std::time::Duration::from_millis(500))
        .await
    {
        let id = event["data"]["id"].as_str().unwrap_or_default().to_string();
        assert_ne!(id, "refused-by-store", "a refused message was delivered");
    }
    w.close().await;
    desk.close().await;
    run_sql_after_halt(&server, "DROP TRIGGER refuse_one");
    let server = server.restart().await;
    let admin = server.login("admin", "admin").await;
    let (status, transcript) = server
        .get(
            &format!("/api/v1/conversations/{conversation_id}/events"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, 200, "{transcript}");
    let text = transcript.to_string();
    assert!(!text.contains("refused-by-store"), "{text}");
    assert!(!text.contains("sent-while-halted"), "{text}");
}

/// `sql` on the database from the test's own connection (the engine is halted; the
/// store's writer still runs, but this needs none of it).
fn run_sql_after_halt(server: &TestServer, sql: &str) {
    let conn = rusqlite::Connection::open(server.data_dir().join("switchboard.db")).unwrap();
    conn.execute_batch(sql).unwrap();
}
