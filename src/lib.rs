//! Switchboard: a contact-center appliance in one binary.
//!
//! [`App::start`] wires the store, the components and the HTTP/Socket.IO server;
//! `main` and the integration tests both start the appliance through it. See
//! `docs/architecture.md` for the components and how a chat flows through them.

pub mod agents;
pub mod bus;
pub mod channels;
pub mod cim;
pub mod clock;
pub mod config;
pub mod conversation;
pub mod health;
pub mod http;
pub mod logging;
pub mod routing;
pub mod socketio;
pub mod store;

use actix_web::{web, App as ActixApp, HttpServer};
use config::Config;
use health::{ComponentStatus, Health};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use store::Store;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The appliance, started.
pub struct Running {
    pub addr: SocketAddr,
    pub store: Store,
    pub health: Health,
    server: actix_web::dev::ServerHandle,
    server_task: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub struct App;

impl App {
    /// Opens the store (migrating it), seeds the demo site when enabled and the
    /// database is empty, starts every component and begins serving.
    pub async fn start(config: Config) -> Result<Running, StartError> {
        let started_at = Instant::now();
        let config = Arc::new(config);
        let health = Health::default();
        health.set("store", ComponentStatus::Starting);
        let store = {
            let path = config.database_path();
            let cfg = config.store.clone();
            tokio::task::spawn_blocking(move || Store::open(&path, &cfg))
                .await
                .map_err(|e| store::StoreError::Migration(e.to_string()))??
        };
        health.set("store", ComponentStatus::Running);
        if config.demo_enabled() && store::demo::seed_if_empty(&store).await? {
            tracing::warn!(
                "DEMO SITE CREATED with demo credentials (admin/admin, supervisor/supervisor, agent1..agent3 = their usernames). Do not expose this instance; set demo = false and change the passwords."
            );
        }

        let state = web::Data::new(http::AppState {
            store: store.clone(),
            config: config.clone(),
            health: health.clone(),
            started_at,
        });
        let max_body = config.http.max_body_bytes;
        let workers = match config.http.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let server = HttpServer::new(move || {
            ActixApp::new()
                .wrap(tracing_actix_web::TracingLogger::default())
                .app_data(state.clone())
                .configure(|cfg| http::configure(cfg, max_body))
                .default_service(web::to(http::not_found))
        })
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(config.http.shutdown_timeout_secs)
        .bind(config.listen)
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
        let addr = server.addrs().first().copied().unwrap_or(config.listen);
        let server = server.run();
        let handle = server.handle();
        let server_task = tokio::spawn(server);
        health.set("http", ComponentStatus::Running);
        tracing::info!(%addr, version = env!("CARGO_PKG_VERSION"), "switchboard listening on http://{addr}");
        Ok(Running {
            addr,
            store,
            health,
            server: handle,
            server_task,
        })
    }
}

impl Running {
    /// Graceful stop: stop accepting, drain in-flight requests, stop the
    /// components, flush and close the store.
    pub async fn shutdown(self) {
        self.server.stop(true).await;
        let _ = self.server_task.await;
        self.health.set("http", ComponentStatus::Stopped);
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.close()).await;
        self.health.set("store", ComponentStatus::Stopped);
        tracing::info!("switchboard stopped");
    }
}
