//! A Socket.IO echo server for end-to-end tests of the protocol layer with real clients
//! (tests/e2e). Serves the echo namespace on `/` and `/admin` at 127.0.0.1 on a free port
//! (or `SIO_ECHO_ADDR`) and prints `listening on http://ADDR` once ready.
//!
//! Optional env: `SIO_PING_INTERVAL_MS`, `SIO_PING_TIMEOUT_MS`, `SIO_MAX_PAYLOAD`,
//! `SIO_OUTBOUND_QUEUE`. Stops on SIGINT/SIGTERM after closing every connection cleanly.

mod echo;

use actix_web::App;
use std::io::Write as _;
use std::time::Duration;
use switchboard::socketio::{HttpServer, SocketIo, SocketIoConfig};

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

fn config_from_env() -> SocketIoConfig {
    let mut config = SocketIoConfig::default();
    if let Some(ms) = env_number("SIO_PING_INTERVAL_MS") {
        config.ping_interval = Duration::from_millis(ms);
    }
    if let Some(ms) = env_number("SIO_PING_TIMEOUT_MS") {
        config.ping_timeout = Duration::from_millis(ms);
    }
    if let Some(bytes) = env_number("SIO_MAX_PAYLOAD") {
        config.max_payload = usize::try_from(bytes).unwrap_or(usize::MAX);
    }
    if let Some(packets) = env_number("SIO_OUTBOUND_QUEUE") {
        config.outbound_queue = usize::try_from(packets).unwrap_or(usize::MAX);
    }
    config
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let sio = SocketIo::new(config_from_env());
    let echo = echo::EchoNamespace::new();
    sio.add_namespace("/", echo.clone());
    sio.add_namespace("/admin", echo);

    let addr = std::env::var("SIO_ECHO_ADDR").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let app_sio = sio.clone();
    let server = HttpServer::new(sio.clone(), move || {
        let sio = app_sio.clone();
        App::new().configure(move |cfg| sio.configure(cfg))
    })
    .workers(2)
    .bind(addr)?;
    for bound in server.addrs() {
        println!("listening on http://{bound}");
    }
    std::io::stdout().flush()?;

    let running = server.run()?;
    let handle = running.handle();
    let stopper = actix_web::rt::spawn(async move {
        wait_for_stop_signal().await;
        sio.shutdown().await;
        handle.stop(true).await;
    });
    running.await?;
    stopper.abort();
    Ok(())
}

async fn wait_for_stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
