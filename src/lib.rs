//! Switchboard: a contact-center appliance in one binary.
//!
//! [`App::start`] wires the store, the components and the HTTP/Socket.IO server;
//! `main` and the integration tests both start the appliance through it. See
//! `docs/architecture.md` for the components and how a chat flows through them.

pub mod agents;
pub mod attachments;
pub mod backup;
pub mod bus;
pub mod channels;
pub mod cim;
pub mod clock;
pub mod config;
pub mod conversation;
pub mod delivery;
pub mod engine;
pub mod generations;
pub mod health;
pub mod http;
pub mod journal;
pub mod live;
pub mod logging;
pub mod metrics;
pub mod rate_limit;
pub mod refusal;
pub mod replay;
pub mod reports;
pub mod retention;
pub mod routing;
pub mod sessions;
pub mod simulate;
pub mod site;
/// The Socket.IO server, its own crate in the workspace (`crates/socketio`).
pub use switchboard_socketio as socketio;
pub mod store;

use actix_web::{web, App as ActixApp};
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
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    DataDir(#[from] backup::BackupError),
    #[error(transparent)]
    Tls(#[from] http::tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The appliance, started.
pub struct Running {
    pub addr: SocketAddr,
    /// The plain-HTTP port that redirects to HTTPS (`[http.tls] redirect_listen`).
    pub redirect_addr: Option<SocketAddr>,
    /// Present when serving HTTPS; [`Running::reload_tls`] swaps its certificate.
    tls: Option<http::tls::Tls>,
    pub store: Store,
    pub health: Health,
    pub agents: agents::AgentManager,
    pub conversations: conversation::handle::ConversationHandle,
    pub routing: routing::RoutingHandle,
    pub metrics: metrics::Metrics,
    backups: std::path::PathBuf,
    backup_keep: usize,
    _data_dir_lock: backup::DataDirLock,
    socketio: socketio::SocketIo,
    server: actix_web::dev::ServerHandle,
    server_task: tokio::task::JoinHandle<std::io::Result<()>>,
    stop_engine: tokio_util::sync::CancellationToken,
    engine_halted: tokio_util::sync::CancellationToken,
    tasks: Vec<(&'static str, tokio::task::JoinHandle<()>)>,
}

/// The routing engine's settings from the appliance configuration.
pub fn routing_config(c: &config::RoutingSettings) -> routing::RoutingConfig {
    let secs = |s: u64| (s as i64).saturating_mul(1000);
    routing::RoutingConfig {
        accept_timeout_ms: secs(c.accept_timeout_secs),
        rona_reason_code: c.rona_reason_code.clone(),
        disconnect_grace_ms: secs(c.disconnect_grace_secs),
        auto_sync_mrd_states: c.auto_sync_mrd_states,
        queue_priority_enabled: c.queue_priority_enabled,
        last_agent_wait_ms: secs(c.last_agent_wait_secs),
        unknown_state_grace_ms: secs(c.unknown_grace_secs),
        ..routing::RoutingConfig::default()
    }
}

/// The Socket.IO endpoint's settings from the appliance configuration.
pub fn socketio_config(c: &config::SocketIoSettings) -> socketio::SocketIoConfig {
    use std::time::Duration;
    socketio::SocketIoConfig {
        ping_interval: Duration::from_millis(c.ping_interval_ms),
        ping_timeout: Duration::from_millis(c.ping_timeout_ms),
        max_payload: c.max_payload_bytes,
        outbound_queue: c.outbound_queue,
        cors_allowed_origins: c.cors_allowed_origins.clone(),
        ..socketio::SocketIoConfig::default()
    }
}

pub struct App;

impl App {
    /// Opens the store (migrating it), seeds the demo site when enabled and the
    /// database is empty, starts every component and begins serving.
    pub async fn start(config: Config) -> Result<Running, StartError> {
        App::start_on(config, store::disk::Disk::Os).await
    }

    /// [`App::start`] with the store on `disk` (a simulated disk in the power-cut
    /// harness, `switchboard-load powercut`).
    pub async fn start_on(config: Config, disk: store::disk::Disk) -> Result<Running, StartError> {
        let started_at = Instant::now();
        let config = Arc::new(config);
        let health = Health::default();
        let data_dir_lock = backup::DataDirLock::acquire(&config.data_dir)?;
        // Bad certificate files stop the start before anything else is done.
        let tls = config
            .http
            .tls
            .as_ref()
            .map(http::tls::Tls::load)
            .transpose()?;
        health.set("store", ComponentStatus::Starting);
        let store = {
            let path = config.database_path();
            let cfg = config.store.clone();
            tokio::task::spawn_blocking(move || Store::open_on(&path, &cfg, disk))
                .await
                .map_err(|e| store::StoreError::Migration(e.to_string()))??
        };
        health.set("store", ComponentStatus::Running);
        let metrics = metrics::Metrics::new();
        let metrics_access =
            metrics::MetricsAccess::new(&config.metrics, &config.http.trusted_proxies).map_err(
                |(key, message)| StartError::Config(config::ConfigError::Invalid { key, message }),
            )?;
        let commit_time = metrics.store_commit();
        store.observe_commits(Box::new(move |d| commit_time.record(d.as_secs_f64())));
        let demo = match config.demo_enabled() {
            true => store::demo::seed_if_empty(&store).await?,
            false => None,
        };
        if let Some(demo) = demo {
            tracing::warn!(
                "DEMO SITE CREATED with demo credentials (admin/admin, supervisor/supervisor, agent1..agent3 = their usernames). Do not expose this instance; set demo = false and change the passwords."
            );
            tracing::warn!(
                service_identifier = store::demo::DEMO_CONNECTOR_SERVICE_IDENTIFIER,
                connector_token = %demo.connector_token,
                "demo connector channel: POST /ccm/message/receive with Authorization: Bearer <connector_token> (shown once; POST /api/v1/channels/{{id}}/connector-token replaces it)"
            );
        }

        // Today's live figures, replayed from the store before anything new is stored.
        let live_settings = live::LiveSettings::from_config(&config);
        let figures = live::driver::rebuild(&store, &live_settings, clock::now_ms()).await?;
        let (committed_tx, committed_rx) = tokio::sync::mpsc::unbounded_channel();
        let (task_log_tx, task_log_rx) = tokio::sync::mpsc::unbounded_channel();

        // Components: the engine (routing and conversations), the agent manager, the
        // channels.
        let (to_agents_routing, routing_for_agents) = tokio::sync::mpsc::unbounded_channel();
        let routing_observers = bus::Bus::new(1024);
        let to_desk = std::sync::Arc::new(delivery::LateSink::default());
        let to_customer = std::sync::Arc::new(delivery::LateSink::default());
        let (to_metrics_routing, routing_for_metrics) = tokio::sync::mpsc::unbounded_channel();
        let stop_engine = tokio_util::sync::CancellationToken::new();
        let engine_halted = tokio_util::sync::CancellationToken::new();
        let engine = engine::spawn(
            conversation::CoreSettings::new(config.conversation.clone(), config.studio.clone()),
            engine::Wiring {
                store: store.clone(),
                routing: routing_config(&config.routing),
                journal: routing::handle::JournalSettings {
                    on: config.routing.journal,
                    snapshot_every_ms: config.routing.journal_snapshot_secs as i64 * 1000,
                },
                subscribers: vec![to_agents_routing, to_metrics_routing],
                observers: routing_observers.clone(),
                task_log: Some(task_log_tx),
                reports: reports::TallySettings::from_config(&config),
                to_desk: to_desk.clone(),
                to_customer: to_customer.clone(),
                health: health.clone(),
                shutdown: stop_engine.clone(),
                halted: engine_halted.clone(),
                committed: Some(committed_tx),
                message_latency: metrics.message_latency(),
            },
        )
        .await?;
        let (routing, conversations) = (engine.routing, engine.conversations);
        let sessions = sessions::Sessions::new(store.clone());
        let attachments =
            attachments::Attachments::open(&store, &config.data_dir, config.attachments.clone())
                .await?;
        let agent_manager = agents::AgentManager::new(
            routing.clone(),
            conversations.clone(),
            store.clone(),
            sessions.clone(),
            agents::AgentSettings {
                wrapup_enabled: config.conversation.wrapup_enabled,
                max_participants: 4,
                attachment_urls: Some(attachments.signer.clone()),
            },
        );
        let mut tasks = vec![
            ("engine", engine.task),
            ("metrics", metrics.spawn_routing_fold(routing_for_metrics)),
            ("metrics", metrics.spawn_upkeep()),
        ];
        if let Some(t) = backup::schedule(store.clone(), config.backup.clone(), &config.data_dir) {
            tasks.push(("backups", t));
        }
        if let Some(t) = retention::purge::schedule(store.clone(), config.retention.clone()) {
            tasks.push(("retention", t));
        }
        tasks.push(("agents", agent_manager.spawn_outbound(routing_for_agents)));
        to_desk.attach(std::sync::Arc::new(agent_manager.clone()));
        let (live, live_task) = live::driver::spawn(
            figures,
            live_settings,
            live::driver::Wiring {
                store: store.clone(),
                routing: routing.clone(),
                observers: routing_observers.subscribe("supervisor consoles"),
                committed: committed_rx,
                task_log: task_log_rx,
            },
        );
        tasks.push(("live", live_task));
        let mut sio_config = socketio_config(&config.socketio);
        sio_config.trusted_proxies = metrics_access.trusted_proxies().clone();
        let sio = socketio::SocketIo::new(sio_config);
        sio.add_namespace("/", agents::DeskNamespace::new(agent_manager.clone()));
        sio.add_namespace(
            "/supervisor",
            live::namespace::SupervisorNamespace::new(live, agent_manager.clone()),
        );
        let outbox_wake = channels::outbox::OutboxWake::default();
        let channel_tasks = channels::start(
            &sio,
            channels::Wiring {
                store: store.clone(),
                conversations: conversations.clone(),
                routing: routing.clone(),
                routing_effects: routing_observers.subscribe("widget queue positions"),
                deliveries: to_customer,
                outbox: config.outbox.clone(),
                channels: config.channels.clone(),
                site_zone: config.site.zone().unwrap_or(jiff::tz::TimeZone::UTC),
                outbox_wake: outbox_wake.clone(),
                health: health.clone(),
                attachment_urls: attachments.signer.clone(),
            },
        );
        tasks.extend(channel_tasks.into_iter().map(|t| ("channels", t)));

        let state = web::Data::new(http::AppState {
            store: store.clone(),
            config: config.clone(),
            health: health.clone(),
            started_at,
            routing: routing.clone(),
            conversations: conversations.clone(),
            agents: agent_manager.clone(),
            sessions,
            outbox_wake,
            metrics: metrics.clone(),
            metrics_access,
            socketio: sio.clone(),
            login_limiter: http::login_limit::LoginLimiter::new(&config.login),
            attachments: attachments.clone(),
        });
        let max_body = config.http.max_body_bytes;
        let workers = match config.http.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let sio_routes = sio.clone();
        let bind_error = |addr| move |source| StartError::Bind { addr, source };
        let mut server = socketio::HttpServer::new(sio.clone(), move || {
            ActixApp::new()
                .wrap(tracing_actix_web::TracingLogger::<
                    http::request_log::RequestSpan,
                >::new())
                .app_data(state.clone())
                .configure(|cfg| sio_routes.configure(cfg))
                .configure(|cfg| http::configure(cfg, max_body))
                .default_service(web::to(http::not_found))
        })
        .workers(workers)
        .shutdown_timeout(config.http.shutdown_timeout_secs)
        .client_request_timeout(std::time::Duration::from_millis(
            config.http.client_request_timeout_ms,
        ))
        .keep_alive(std::time::Duration::from_millis(config.http.keep_alive_ms))
        .bind(config.listen)
        .map_err(bind_error(config.listen))?;
        let addr = server.addrs().first().copied().unwrap_or(config.listen);
        if let Some(tls) = &tls {
            server = server.tls(tls.server_config()?);
        }
        if let Some(redirect) = config.http.tls.as_ref().and_then(|t| t.redirect_listen) {
            server = server
                .bind_redirect(redirect, addr.port())
                .map_err(bind_error(redirect))?;
        }
        let redirect_addr = server.redirect_addrs().first().copied();
        let server = server.run().map_err(bind_error(config.listen))?;
        let handle = server.handle();
        let server_task = tokio::spawn(server);
        health.set("http", ComponentStatus::Running);
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(%addr, version = env!("CARGO_PKG_VERSION"), "switchboard listening on {scheme}://{addr}");
        if let Some(redirect) = redirect_addr {
            tracing::info!(%redirect, "plain HTTP on {redirect} redirects to https");
        }
        Ok(Running {
            addr,
            redirect_addr,
            tls,
            store,
            health,
            agents: agent_manager,
            conversations,
            routing,
            metrics,
            backups: config.backup.directory(&config.data_dir),
            backup_keep: config.backup.keep,
            _data_dir_lock: data_dir_lock,
            socketio: sio,
            server: handle,
            server_task,
            stop_engine,
            engine_halted,
            tasks,
        })
    }
}

impl Running {
    /// `https` when serving TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// Reads the TLS certificate and key again (SIGHUP); new connections get them, open
    /// ones keep theirs. Ok(false) when not serving TLS; on error the old certificate stays.
    pub fn reload_tls(&self) -> Result<bool, http::tls::TlsError> {
        match &self.tls {
            Some(tls) => tls.reload().map(|()| true),
            None => Ok(false),
        }
    }

    /// Takes a backup now, as the schedule does (into `backup.directory`, keeping
    /// `backup.keep`); returns its path.
    pub async fn backup_now(&self) -> Result<std::path::PathBuf, backup::BackupError> {
        backup::backup_now(&self.store, &self.backups, self.backup_keep).await
    }

    /// Resolves if the engine halts: a batch of its could not be committed, so its
    /// state is ahead of the store and it handles nothing more. The appliance must
    /// then stop; started again, it continues from what is stored.
    pub async fn halted(&self) {
        self.engine_halted.cancelled().await
    }

    /// Graceful stop: stop accepting, drain in-flight requests, stop the
    /// components, flush and close the store.
    pub async fn shutdown(self) {
        self.socketio.shutdown().await;
        self.server.stop(true).await;
        let _ = self.server_task.await;
        self.health.set("http", ComponentStatus::Stopped);
        // The engine stops once what it queued is published.
        self.stop_engine.cancel();
        let mut tasks = self.tasks;
        if let Some(pos) = tasks.iter().position(|(n, _)| *n == "engine") {
            let _ = tasks.remove(pos).1.await;
        }
        for (_, task) in tasks {
            task.abort();
        }
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.close()).await;
        self.health.set("store", ComponentStatus::Stopped);
        tracing::info!("switchboard stopped");
    }
}
