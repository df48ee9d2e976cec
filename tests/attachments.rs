//! Attachments on a real server: upload by a desk (bearer token, participant only) and
//! by a widget (its session secret), what is refused (too large, a forbidden type, a
//! spoofed type, the wrong conversation, no credentials) and that a refusal stores
//! nothing, and the signed URLs (served while valid; forged or expired refused).

use crate::channels_support;
use crate::common;
use crate::support;

use channels_support::{accept, desk, publish, set_state, store, widget_on, T};
use common::TestServer;
use serde_json::{json, Value};
use support::sio_client::SioClient;
use switchboard::attachments::signing::Signer;
use switchboard::clock::now_ms;

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

const LIMIT: usize = 64 * 1024;

/// A multipart/form-data body with one field `field` holding `bytes`.
fn form(field: &str, file_name: &str, content_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----switchboard-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// An upload that must be refused: who, file name, claimed type, bytes, status, code.
type Refusal<'a> = (As<'a>, &'a str, &'a str, &'a [u8], u16, &'a str);

/// How an upload authenticates.
#[derive(Clone, Copy)]
enum As<'a> {
    Desk(&'a str),
    Widget { session: &'a str, secret: &'a str },
    Nobody,
}

async fn upload(
    server: &TestServer,
    conversation: &str,
    who: As<'_>,
    file_name: &str,
    content_type: &str,
    bytes: &[u8],
) -> (u16, Value) {
    let (form_type, body) = form("file", file_name, content_type, bytes);
    let mut req = server
        .http
        .post(server.url(&format!("/api/v1/conversations/{conversation}/attachments")))
        .header("Content-Type", form_type)
        .body(body);
    match who {
        As::Desk(token) => req = req.bearer_auth(token),
        As::Widget { session, secret } => {
            req = req
                .header("X-Channel-Session", session)
                .header("X-Session-Secret", secret)
        }
        As::Nobody => {}
    }
    let resp = req.send().await.expect("upload request");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn rows(server: &TestServer) -> i64 {
    channels_support::count(server, "attachments", "1").await
}

fn files_on_disk(server: &TestServer) -> usize {
    let root = server.data_dir().join("attachments");
    let Ok(dirs) = std::fs::read_dir(&root) else {
        return 0;
    };
    dirs.filter_map(Result::ok)
        .filter(|d| d.file_name() != "tmp")
        .map(|d| std::fs::read_dir(d.path()).map_or(0, |f| f.count()))
        .sum()
}

/// A widget's chat: (widget, conversation id, channel session id, session secret).
async fn chat(server: &TestServer, customer: &str) -> (SioClient, String, String, String) {
    let widget = widget_on(server, "1122", customer).await;
    let started = widget
        .emit_ack("CHAT_REQUESTED", json!({}))
        .await
        .expect("CHAT_REQUESTED ack");
    let text = |pointer: &str| {
        started[0]
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{pointer} in {started:?}"))
            .to_owned()
    };
    (
        widget,
        text("/conversationId"),
        text("/channelSession/id"),
        text("/sessionSecret"),
    )
}

async fn get(server: &TestServer, url: &str) -> reqwest::Response {
    server
        .http
        .get(server.url(url))
        .send()
        .await
        .expect("download request")
}

#[tokio::test]
async fn uploads_are_checked_stored_by_hash_and_served_by_signed_url() {
    let server = TestServer::start_with(|c| c.attachments.max_bytes = LIMIT).await;
    let (widget, conversation, session, secret) = chat(&server, "att-cust-1").await;
    let (agent, _) = desk(&server, "agent1").await;
    set_state(&agent, "READY").await;
    accept(&agent, &conversation).await;
    let token = server.login("agent1", "agent1").await;

    // A desk uploads an image; the answer carries the signed URL and the IMAGE body.
    let (status, image) = upload(
        &server,
        &conversation,
        As::Desk(&token),
        "dot.png",
        "image/png",
        PNG,
    )
    .await;
    assert_eq!(status, 201, "{image}");
    assert_eq!(image["mimeType"], "image/png");
    assert_eq!(image["size"], PNG.len());
    assert_eq!(image["fileName"], "dot.png");
    assert_eq!(image["body"]["type"], "IMAGE");
    let url = image["url"].as_str().expect("url").to_owned();
    assert_eq!(image["body"]["attachment"]["mediaUrl"], url);
    assert_eq!(image["body"]["attachment"]["mimeType"], "image/png");
    assert!(
        url.starts_with(&format!(
            "/attachments/{}?exp=",
            image["id"].as_str().unwrap()
        )),
        "{url}"
    );
    assert_eq!((rows(&server).await, files_on_disk(&server)), (1, 1));
    let served = get(&server, &url).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    // The same content again is a second row over the same file.
    let (status, again) = upload(
        &server,
        &conversation,
        As::Desk(&token),
        "copy.png",
        "image/png",
        PNG,
    )
    .await;
    assert_eq!(status, 201, "{again}");
    assert_eq!((rows(&server).await, files_on_disk(&server)), (2, 1));

    // The message goes out as an IMAGE body and reaches the customer with the URL.
    let data = json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": now_ms()},
        "body": image["body"],
    });
    publish(&agent, &conversation, "AGENT_MESSAGE", "MESSAGE", data).await;
    loop {
        let event = widget
            .expect("MESSAGE_RECEIVED", T)
            .await
            .expect("agent message");
        if event["name"] == "AGENT_MESSAGE" {
            assert_eq!(
                event["data"]["body"]["attachment"]["mediaUrl"], url,
                "{event}"
            );
            break;
        }
    }

    // The widget uploads with its session secret; a text file claiming to be a PNG is
    // stored as what it is: text, sent as a FILE.
    let who = || As::Widget {
        session: &session,
        secret: &secret,
    };
    let (status, text) = upload(
        &server,
        &conversation,
        who(),
        "notes.png",
        "image/png",
        b"just text\n",
    )
    .await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(text["mimeType"], "text/plain");
    assert_eq!(text["body"]["type"], "FILE");
    let served = get(&server, text["url"].as_str().unwrap()).await;
    assert_eq!(served.headers()["content-type"], "text/plain");
    assert!(served.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));

    // Refusals: each answers {code, message} and stores nothing.
    let before = (rows(&server).await, files_on_disk(&server));
    let program: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
    let big = vec![b'a'; LIMIT + 1];
    let desk = As::Desk(&token);
    let wrong_secret = As::Widget {
        session: &session,
        secret: "wrong",
    };
    let refusals: [Refusal; 7] = [
        (desk, "big.txt", "text/plain", &big, 413, "too_large"),
        (desk, "cat.png", "image/png", program, 415, "forbidden_type"),
        (
            desk,
            "blob.bin",
            "application/octet-stream",
            b"\x00\x01\x02\x03",
            415,
            "forbidden_type",
        ),
        (
            As::Nobody,
            "dot.png",
            "image/png",
            PNG,
            401,
            "unauthenticated",
        ),
        (
            As::Desk("not-a-token"),
            "dot.png",
            "image/png",
            PNG,
            401,
            "unauthenticated",
        ),
        (
            wrong_secret,
            "dot.png",
            "image/png",
            PNG,
            401,
            "unauthenticated",
        ),
        (desk, "empty.txt", "text/plain", b"", 400, "bad_upload"),
    ];
    for (who, name, claimed, bytes, want_status, want_code) in refusals {
        let (status, body) = upload(&server, &conversation, who, name, claimed, bytes).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (want_status, Some(want_code)),
            "{name}: {body}"
        );
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    assert_eq!((rows(&server).await, files_on_disk(&server)), before);

    // The wrong conversation: another customer's chat, which this agent is not in.
    let (_other_widget, other, other_session, other_secret) = chat(&server, "att-cust-2").await;
    let (status, body) = upload(
        &server,
        &other,
        As::Desk(&token),
        "dot.png",
        "image/png",
        PNG,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("not_participant")),
        "{body}"
    );
    let (status, body) = upload(&server, &other, who(), "dot.png", "image/png", PNG).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("not_participant")),
        "{body}"
    );
    let cross = As::Widget {
        session: &other_session,
        secret: &other_secret,
    };
    let (status, body) = upload(&server, &conversation, cross, "dot.png", "image/png", PNG).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("not_participant")),
        "{body}"
    );
    assert_eq!((rows(&server).await, files_on_disk(&server)), before);

    // A silent monitor sees the chat but writes nothing: no upload either.
    let (monitor, _) = channels_support::desk(&server, "supervisor").await;
    let joined = monitor
        .emit_ack(
            "JoinAsSilentMonitor",
            json!({"conversationId": conversation}),
        )
        .await
        .unwrap();
    assert!(joined[0].get("code").is_none(), "{joined:?}");
    let monitor_token = server.login("supervisor", "supervisor").await;
    let (status, body) = upload(
        &server,
        &conversation,
        As::Desk(&monitor_token),
        "dot.png",
        "image/png",
        PNG,
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("not_participant")),
        "{body}"
    );
    assert_eq!((rows(&server).await, files_on_disk(&server)), before);

    // Signed URLs: a forged signature, another id and an expired URL are refused.
    let id = image["id"].as_str().unwrap();
    let forged = format!("{}0", &url[..url.len() - 1]);
    let forged = if forged == url {
        format!("{}1", &url[..url.len() - 1])
    } else {
        forged
    };
    let (exp, sig) = url
        .split_once("?exp=")
        .unwrap()
        .1
        .split_once("&sig=")
        .unwrap();
    for bad in [
        forged,
        format!(
            "/attachments/{}?exp={exp}&sig={sig}",
            text["id"].as_str().unwrap()
        ),
        format!(
            "/attachments/{id}?exp={}&sig={sig}",
            exp.parse::<i64>().unwrap() + 1
        ),
        format!("/attachments/{id}"),
    ] {
        let resp = get(&server, &bad).await;
        assert_eq!(resp.status(), 403, "{bad}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "bad_signature", "{bad}");
    }
    let key = store(&server)
        .read(|c| {
            Ok(c.query_row(
                "SELECT key FROM site_keys WHERE name = 'attachment_url'",
                [],
                |r| r.get::<_, String>(0),
            )?)
        })
        .await
        .unwrap();
    let (expired, _) = Signer::new(&key, 60, "").url(id, now_ms() - 3_600_000);
    let resp = get(&server, &expired).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "expired");
    // ... and the same key signs a fresh one that works: the key is the site's.
    let (fresh, _) = Signer::new(&key, 60, "").url(id, now_ms());
    assert_eq!(get(&server, &fresh).await.status(), 200);

    // A message whose URL has expired since is signed afresh when its transcript is
    // read: the history API and a desk's topic serve a working URL.
    let mut body = image["body"].clone();
    body["attachment"]["mediaUrl"] = json!(expired);
    let message_id = uuid::Uuid::new_v4().to_string();
    let data = json!({
        "id": message_id,
        "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": now_ms()},
        "body": body,
    });
    publish(&agent, &conversation, "AGENT_MESSAGE", "MESSAGE", data).await;
    let supervisor = server.login("supervisor", "supervisor").await;
    let (status, history) = server
        .get(
            &format!("/api/v1/conversations/{conversation}/events"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let stored_url = |events: &Value| {
        events
            .as_array()
            .expect("events")
            .iter()
            .find(|e| e["data"]["id"] == message_id.as_str())
            .and_then(|e| e.pointer("/data/body/attachment/mediaUrl"))
            .and_then(Value::as_str)
            .expect("the message and its URL")
            .to_owned()
    };
    let from_history = stored_url(&history["events"]);
    assert_ne!(from_history, expired);
    assert_eq!(get(&server, &from_history).await.status(), 200);
    let topic = agent
        .emit_ack(
            "topicSubscription",
            json!({"conversationId": conversation, "lastSeq": 0}),
        )
        .await
        .expect("topic");
    let from_topic = stored_url(&topic[0]["topicData"]["events"]);
    assert_eq!(get(&server, &from_topic).await.status(), 200);
    // ... and so does a customer's tab replaying the chat.
    let tab = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": "att-cust-1",
               "sessionSecret": secret, "lastSeq": 0}),
    )
    .await
    .expect("a second tab with the secret");
    loop {
        let event = tab.expect("MESSAGE_RECEIVED", T).await.expect("replay");
        if event["data"]["id"] == message_id.as_str() {
            let replayed = event["data"]["body"]["attachment"]["mediaUrl"]
                .as_str()
                .unwrap();
            assert_eq!(get(&server, replayed).await.status(), 200, "{replayed}");
            break;
        }
    }

    // That expired URL pasted into another conversation (the one waiting since) is
    // not signed afresh there: a transcript renews only its own conversation's
    // attachments.
    accept(&agent, &other).await;
    let pasted_id = uuid::Uuid::new_v4().to_string();
    let data = json!({
        "id": pasted_id,
        "header": {"sender": {"id": "x", "type": "AGENT"}, "timestamp": now_ms()},
        "body": body,
    });
    publish(&agent, &other, "AGENT_MESSAGE", "MESSAGE", data).await;
    let (status, history) = server
        .get(
            &format!("/api/v1/conversations/{other}/events"),
            Some(&supervisor),
        )
        .await;
    assert_eq!(status, 200, "{history}");
    let pasted = history["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["data"]["id"] == pasted_id.as_str())
        .and_then(|e| e.pointer("/data/body/attachment/mediaUrl"))
        .and_then(Value::as_str)
        .expect("the pasted message")
        .to_owned();
    assert_eq!(pasted, expired);
    assert_eq!(get(&server, &pasted).await.status(), 403);
}

#[tokio::test]
async fn attachments_are_in_backups_and_go_with_their_conversations() {
    let elsewhere = tempfile::tempdir().expect("backup disk");
    let backups = elsewhere.path().to_path_buf();
    let mut server = TestServer::start_with(|c| c.backup.directory = backups.clone()).await;
    let (first_tab, conversation, session, secret) = chat(&server, "att-backup").await;
    let who = As::Widget {
        session: &session,
        secret: &secret,
    };
    let (status, image) = upload(&server, &conversation, who, "dot.png", "image/png", PNG).await;
    assert_eq!(status, 201, "{image}");
    let url = image["url"].as_str().unwrap().to_owned();

    let file = server
        .running
        .as_ref()
        .unwrap()
        .backup_now()
        .await
        .expect("backup");
    assert!(switchboard::backup::attachments::companion(&file).is_dir());

    // The disk is lost; the backup brings back the row, the file and the signing key.
    first_tab.close().await;
    server.stop().await;
    let data = server.data_dir();
    std::fs::remove_dir_all(&data).expect("data destroyed");
    std::fs::create_dir(&data).expect("new empty data dir");
    switchboard::backup::restore::restore(&file, &data).expect("restore");
    let server = server.restart().await;
    let served = get(&server, &url).await;
    assert_eq!(
        served.status(),
        200,
        "the URL signed before the backup still works"
    );
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    // Erasure of the customer: once the chat is closed, its rows and files go.
    let resumed = SioClient::connect(
        server.addr,
        "/customer",
        json!({"serviceIdentifier": "1122", "channelCustomerIdentifier": "att-backup", "sessionSecret": secret}),
    )
    .await
    .expect("the customer comes back with the chat's secret");
    let ended = resumed.emit_ack("CHAT_ENDED", json!({})).await.unwrap();
    assert_eq!(ended[0]["status"], "ok", "{ended:?}");
    let admin = server.login("admin", "admin").await;
    let customer = loop {
        let (_, found) = server
            .get(
                &format!("/api/v1/conversations/{conversation}"),
                Some(&admin),
            )
            .await;
        if found["state"] == "CLOSED" {
            break found["customerId"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // The sweep leaves files younger than ten minutes (an upload's row may be on its
    // way): this one is made older.
    let path = files_path(&server);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|f| {
            f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        })
        .unwrap();
    let (status, erased) = server
        .post(
            &format!("/api/v1/customers/{customer}/erase"),
            Some(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!((rows(&server).await, files_on_disk(&server)), (0, 0));
    assert_eq!(get(&server, &url).await.status(), 404);
}

/// The one attachment file on disk.
fn files_path(server: &TestServer) -> std::path::PathBuf {
    let root = server.data_dir().join("attachments");
    std::fs::read_dir(&root)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|d| d.file_name() != "tmp")
        .flat_map(|d| std::fs::read_dir(d.path()).unwrap().filter_map(Result::ok))
        .map(|f| f.path())
        .next()
        .expect("a file")
}
