//! The Socket.IO layer through its public protocol: a real actix-web server on 127.0.0.1:0
//! serving the echo namespace (examples/sio_echo/echo.rs), driven by the test client over
//! WebSocket and by raw HTTP long-polling requests.

use crate::support;

#[path = "../../examples/sio_echo/echo.rs"]
mod echo;

mod events;
mod limits;
mod namespaces;
mod polling;

use actix_web::App;
use echo::EchoNamespace;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use support::sio_client::{token_auth, SioClient};
use switchboard::socketio::{HttpServer, SocketIo, SocketIoConfig};

const WAIT: Duration = Duration::from_secs(3);

struct TestServer {
    addr: SocketAddr,
    sio: SocketIo,
    echo: Arc<EchoNamespace>,
}

async fn start(config: SocketIoConfig) -> TestServer {
    let sio = SocketIo::new(config);
    let echo = EchoNamespace::new();
    sio.add_namespace("/", echo.clone());
    sio.add_namespace("/admin", echo.clone());
    let app_sio = sio.clone();
    let server = HttpServer::new(sio.clone(), move || {
        let sio = app_sio.clone();
        App::new().configure(move |cfg| sio.configure(cfg))
    })
    .workers(1)
    .bind(([127, 0, 0, 1], 0).into())
    .expect("bind 127.0.0.1:0");
    let addr = server.addrs()[0];
    actix_rt::spawn(server.run().expect("start the server"));
    TestServer { addr, sio, echo }
}

async fn start_default() -> TestServer {
    start(SocketIoConfig::default()).await
}

async fn good_client(server: &TestServer) -> SioClient {
    SioClient::connect(server.addr, "/", token_auth("good"))
        .await
        .expect("connect with a good token")
}

/// Pings every 150 ms; a generous pong timeout keeps answering clients safe on a loaded machine.
fn fast_heartbeat() -> SocketIoConfig {
    SocketIoConfig {
        ping_interval: Duration::from_millis(150),
        ping_timeout: Duration::from_millis(400),
        ..SocketIoConfig::default()
    }
}

fn ws_url(addr: SocketAddr, sid: Option<&str>) -> String {
    let mut url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    if let Some(sid) = sid {
        url.push_str("&sid=");
        url.push_str(sid);
    }
    url
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let response = http.get(url).send().await.expect("GET");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

async fn wait_until(mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not reached"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
