//! Helpers for the channel and history tests: connector messages, a connector channel
//! with a providerWebhook, an HTTP receiver the test starts and stops, and the desk
//! steps of a chat (ready, accept, answer).
#![allow(dead_code)]

use crate::common::TestServer;
use crate::support::sio_client::{token_auth, SioClient};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchboard::clock::now_ms;
use switchboard::store::directory::{self, NewChannel};

pub const T: Duration = Duration::from_secs(10);

/// A connector's customer message.
pub fn connector_message(id: &str, service_identifier: &str, customer: &str, text: &str) -> Value {
    json!({
        "id": id,
        "header": {
            "sender": {"id": customer, "type": "CUSTOMER", "senderName": "Pat", "additionalDetail": null},
            "channelData": {
                "serviceIdentifier": service_identifier,
                "channelCustomerIdentifier": customer,
                "additionalAttributes": []
            },
            "timestamp": now_ms()
        },
        "body": {"type": "PLAIN", "markdownText": text}
    })
}

/// The running server's store.
pub fn store(server: &TestServer) -> &switchboard::store::Store {
    &server.running.as_ref().expect("server running").store
}

/// The demo connector channel (type WHATSAPP, routed to the Default queue).
pub const CONNECTOR_SID: &str = "8899";

/// The connector token the tests give channel `service_identifier`.
pub fn test_connector_token(service_identifier: &str) -> String {
    format!("test-connector-token-{service_identifier}")
}

/// Gives channel `service_identifier` the token [`test_connector_token`] (the demo
/// site's own token is only printed).
pub async fn set_connector_token(server: &TestServer, service_identifier: &str) -> String {
    let token = test_connector_token(service_identifier);
    let (sid, digest) = (
        service_identifier.to_string(),
        switchboard::store::users::token_digest(&token),
    );
    store(server)
        .write(move |c| {
            c.execute(
                "UPDATE channels SET connector_token_hash = ?2 WHERE service_identifier = ?1",
                [&sid, &digest],
            )?;
            Ok(())
        })
        .await
        .expect("connector token set");
    token
}

/// Posts a connector message with its channel's connector token; (status, body).
pub async fn post_message(server: &TestServer, message: &Value) -> (u16, Value) {
    let sid = message
        .pointer("/header/channelData/serviceIdentifier")
        .and_then(Value::as_str)
        .unwrap_or(CONNECTOR_SID);
    let token = set_connector_token(server, sid).await;
    server
        .post("/ccm/message/receive", Some(&token), message)
        .await
}

/// Creates a connector channel (type WHATSAPP on the CHAT MRD) routing to the Default
/// queue, delivering outbound messages to `webhook`.
pub async fn create_webhook_channel(server: &TestServer, service_identifier: &str, webhook: &str) {
    let sid = service_identifier.to_string();
    let webhook = webhook.to_string();
    store(server)
        .write(move |c| {
            let mrd = directory::list_mrds(c)?
                .into_iter()
                .find(|m| m.name == "CHAT")
                .expect("demo CHAT MRD");
            let queue = directory::list_queues(c)?
                .into_iter()
                .find(|q| q.name == "Default")
                .expect("demo Default queue");
            let type_id: Option<String> = c
                .query_row(
                    "SELECT id FROM channel_types WHERE name = 'WHATSAPP'",
                    [],
                    |r| r.get(0),
                )
                .ok();
            let type_id = match type_id {
                Some(id) => id,
                None => directory::create_channel_type(c, "WHATSAPP", "_WHATSAPP.svg", &mrd.id)?,
            };
            directory::create_channel(
                c,
                &NewChannel {
                    name: &format!("whatsapp-{sid}"),
                    service_identifier: &sid,
                    channel_type_id: &type_id,
                    provider_webhook: &webhook,
                    channel_config: directory::push_channel_config(&queue.id, false),
                },
                now_ms(),
            )?;
            Ok(())
        })
        .await
        .expect("channel created");
}

/// A port nothing listens on (yet): connections to it are refused until a
/// [`Receiver`] is started on it.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// One request the receiver answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub body: Value,
    pub idempotency_key: Option<String>,
    pub status: u16,
}

/// A webhook receiver: records every POST and answers 200 (or `status` when set).
pub struct Receiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<Mutex<u16>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    pub async fn start(port: u16) -> Receiver {
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(Mutex::new(200u16));
        let (r, s) = (received.clone(), status.clone());
        let server = HttpServer::new(move || {
            let (r, s) = (r.clone(), s.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (r, s) = (r.clone(), s.clone());
                async move {
                    let code = *s.lock();
                    r.lock().push(Received {
                        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                        idempotency_key: req
                            .headers()
                            .get("Idempotency-Key")
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_owned),
                        status: code,
                    });
                    HttpResponse::build(
                        actix_web::http::StatusCode::from_u16(code).expect("status"),
                    )
                    .finish()
                }
            }))
        })
        .workers(1)
        .disable_signals();
        // A receiver started again on its old port may find it taken for a moment by
        // another test's ephemeral socket: it waits for it, as a real receiver would.
        let mut tries = 0;
        let listener = loop {
            match std::net::TcpListener::bind(("127.0.0.1", port)) {
                Ok(listener) => break listener,
                Err(e) if port != 0 && tries < 100 => {
                    tries += 1;
                    tracing::debug!(error = %e, port, "the receiver's port is taken; waiting");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("receiver binds: {e:?}"),
            }
        };
        let server = server.listen(listener).expect("receiver listens");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            addr,
            received,
            status,
            handle,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers `code` from now on.
    pub fn answer_with(&self, code: u16) {
        *self.status.lock() = code;
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().clone()
    }

    /// Successful deliveries of events named `name` in `conversation_id`.
    pub fn delivered(&self, conversation_id: &str, name: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| {
                (200..300).contains(&r.status)
                    && r.body["conversationId"] == conversation_id
                    && r.body["name"] == name
            })
            .collect()
    }

    /// Waits until `pred` holds of the requests received.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&[Received]) -> bool) {
        let start = Instant::now();
        while !pred(&self.received()) {
            assert!(
                start.elapsed() < T,
                "receiver: timed out waiting for {what}; got {:#?}",
                self.received()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops listening: further connections are refused.
    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

/// Polls `GET path` as `token` until `pred` holds of the answer; returns it.
pub async fn poll_api(
    server: &TestServer,
    path: &str,
    token: &str,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        let (status, body) = server.get(path, Some(token)).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        if pred(&body) {
            return body;
        }
        assert!(
            start.elapsed() < T,
            "timed out waiting for {what}; last GET {path}: {body:#}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A customer widget of web channel `service_identifier` on `/customer`.
pub async fn widget_on(server: &TestServer, service_identifier: &str, customer: &str) -> SioClient {
    SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": service_identifier, "channelCustomerIdentifier": customer}),
    )
    .await
    .expect("widget connects")
}

/// A customer of the demo web channel asks for a chat; returns (widget, conversation id).
pub async fn start_chat(server: &TestServer, customer: &str) -> (SioClient, String) {
    let widget = widget_on(server, "1122", customer).await;
    let started = widget
        .emit_ack("CHAT_REQUESTED", json!({}))
        .await
        .expect("CHAT_REQUESTED ack");
    let conversation = started[0]["conversationId"]
        .as_str()
        .unwrap_or_else(|| panic!("a conversation: {started:?}"))
        .to_string();
    (widget, conversation)
}

/// An agent desk, signed in and connected; returns (desk, agent id).
pub async fn desk(server: &TestServer, user: &str) -> (SioClient, String) {
    let token = server.login(user, user).await;
    let desk = SioClient::connect(server.addr, "/", token_auth(&token))
        .await
        .expect("desk connects");
    let presence = desk.expect("agentPresence", T).await.expect("presence");
    let id = presence["agent"]["id"]
        .as_str()
        .expect("agent id")
        .to_string();
    (desk, id)
}

pub async fn set_state(desk: &SioClient, name: &str) {
    let ack = desk
        .emit_ack(
            "changeAgentState",
            json!({"action": "agentState", "state": {"name": name}}),
        )
        .await
        .expect("state ack");
    assert_eq!(ack[0]["state"]["name"], name, "{ack:?}");
}

/// Waits for the offer of `conversation_id` and accepts it.
pub async fn accept(desk: &SioClient, conversation_id: &str) {
    let offer = desk.expect("taskRequest", T).await.expect("taskRequest");
    assert_eq!(offer["conversationId"], conversation_id, "{offer}");
    let topic = desk
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation_id, "topicParticipant": {"type": "AGENT", "role": "PRIMARY"}}),
        )
        .await
        .expect("topicSubscription ack");
    assert_eq!(topic[0]["conversationId"], conversation_id, "{topic:?}");
}

/// Sends an AGENT_MESSAGE; returns its cimEvent id.
pub async fn answer(desk: &SioClient, conversation_id: &str, text: &str) -> String {
    let data = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": now_ms()},
        "body": {"type": "PLAIN", "markdownText": text}
    });
    publish(desk, conversation_id, "AGENT_MESSAGE", "MESSAGE", data).await
}

/// Publishes a cimEvent `name` of type `kind` with `data`; returns its id.
pub async fn publish(
    desk: &SioClient,
    conversation_id: &str,
    name: &str,
    kind: &str,
    data: Value,
) -> String {
    let event_id = uuid::Uuid::new_v4().to_string();
    let ack = desk
        .emit_ack(
            "publishCimEvent",
            json!({
                "conversationId": conversation_id,
                "cimEvent": {
                    "id": event_id,
                    "name": name,
                    "type": kind,
                    "timestamp": now_ms(),
                    "conversationId": conversation_id,
                    "data": data
                }
            }),
        )
        .await
        .expect("publishCimEvent ack");
    assert_eq!(ack[0]["status"], "ok", "{name}: {ack:?}");
    event_id
}

/// Rows of a table matching `where_clause` (read through the running server's store).
pub async fn count(server: &TestServer, table: &str, where_clause: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE {where_clause}");
    store(server)
        .read(move |c| Ok(c.query_row(&sql, [], |r| r.get(0))?))
        .await
        .expect("count")
}
