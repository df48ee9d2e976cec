//! The Socket.IO server handle: namespace table, registry of live sessions, session creation,
//! mounting on actix-web, and shutdown.

use super::config::SocketIoConfig;
use super::connection::Connection;
use super::endpoint;
use super::engine::{CloseReason, Control, Engine, TransportKind};
use super::engineio::{self, Handshake};
use super::namespace::Namespace;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// A Socket.IO v4 server (Engine.IO v4: WebSocket, and HTTP long-polling with upgrade).
/// Cheap to clone; every clone is the same server.
#[derive(Clone)]
pub struct SocketIo {
    inner: Arc<ServerInner>,
}

pub(crate) struct ServerInner {
    pub(crate) config: SocketIoConfig,
    namespaces: RwLock<HashMap<String, Arc<dyn Namespace>>>,
    engines: Mutex<HashMap<String, Arc<Engine>>>,
    shutting_down: AtomicBool,
    /// Signalled when the last session leaves the registry.
    drained: Notify,
    /// Connected sockets per namespace.
    socket_counts: RwLock<HashMap<String, Arc<AtomicUsize>>>,
}

/// One connected socket, counted in its namespace until dropped.
pub(crate) struct SocketCount(Arc<AtomicUsize>);

impl Drop for SocketCount {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl SocketIo {
    pub fn new(config: SocketIoConfig) -> Self {
        SocketIo {
            inner: Arc::new(ServerInner {
                config,
                namespaces: RwLock::new(HashMap::new()),
                engines: Mutex::new(HashMap::new()),
                shutting_down: AtomicBool::new(false),
                drained: Notify::new(),
                socket_counts: RwLock::new(HashMap::new()),
            }),
        }
    }

    pub fn config(&self) -> &SocketIoConfig {
        &self.inner.config
    }

    /// Serves namespace `name` (`/`, `/customer`, ...; a missing leading `/` is added) with
    /// `handler`, replacing any previous handler for new connections. Clients asking for a
    /// namespace that was never added get CONNECT_ERROR `{message: "Invalid namespace"}`.
    pub fn add_namespace(&self, name: &str, handler: Arc<dyn Namespace>) {
        let name = if name.starts_with('/') {
            name.to_owned()
        } else {
            format!("/{name}")
        };
        self.inner
            .socket_counts
            .write()
            .entry(name.clone())
            .or_default();
        self.inner.namespaces.write().insert(name, handler);
    }

    /// Connected sockets per namespace (every added namespace, zero included).
    pub fn sockets_by_namespace(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = self
            .inner
            .socket_counts
            .read()
            .iter()
            .map(|(name, n)| (name.clone(), n.load(Ordering::Relaxed)))
            .collect();
        counts.sort();
        counts
    }

    /// Mounts the endpoint (GET, POST and OPTIONS on `config.path`) on an actix-web app. Serve
    /// the app with [`super::HttpServer`], which takes the WebSocket connections over.
    pub fn configure(&self, cfg: &mut actix_web::web::ServiceConfig) {
        endpoint::configure(self.inner.clone(), cfg);
    }

    /// Answers a `Connection: upgrade` request that actix-http hands over with its connection
    /// (see [`super::HttpServer`]): a WebSocket to the endpoint, or a refusal.
    pub(crate) async fn serve_upgrade<S: super::ws_io::WsIo>(
        &self,
        req: actix_http::Request,
        framed: actix_codec::Framed<S, actix_http::h1::Codec>,
    ) {
        super::ws::accept(self.inner.clone(), req, framed).await;
    }

    /// Live Engine.IO sessions (connections), whatever their namespaces.
    pub fn connection_count(&self) -> usize {
        self.inner.engines.lock().len()
    }

    /// Refuses new sessions, closes every session cleanly (queued packets are flushed, then
    /// the transport is closed; clients see a transport close and reconnect to the next server
    /// instance), and returns once every `on_disconnect` has run, or after twice
    /// `close_grace` at most. Call it before stopping the HTTP server.
    pub async fn shutdown(&self) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        let engines: Vec<Arc<Engine>> = self.inner.engines.lock().values().cloned().collect();
        tracing::info!(
            connections = engines.len(),
            "socket.io: shutting down, closing connections"
        );
        for engine in &engines {
            engine.request(Control::Shutdown);
        }
        let grace = self.inner.config.close_grace;
        if !self.inner.wait_drained(grace).await {
            for engine in self.inner.engines.lock().values() {
                engine.abort(CloseReason::ServerShutdown);
            }
            if !self.inner.wait_drained(grace).await {
                tracing::warn!(
                    remaining = self.connection_count(),
                    "socket.io: connections still finishing after shutdown grace"
                );
            }
        }
    }
}

impl ServerInner {
    pub(crate) fn namespace(&self, name: &str) -> Option<Arc<dyn Namespace>> {
        self.namespaces.read().get(name).cloned()
    }

    /// Counts a socket that completed its connection to namespace `nsp`.
    pub(crate) fn count_socket(&self, nsp: &str) -> SocketCount {
        let counter = self
            .socket_counts
            .read()
            .get(nsp)
            .cloned()
            .unwrap_or_default();
        counter.fetch_add(1, Ordering::Relaxed);
        SocketCount(counter)
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Creates a session and registers it; the caller runs its connection (a task of its own
    /// for polling, inside the WebSocket task for a WebSocket-only session).
    pub(crate) fn open_engine(
        self: &Arc<Self>,
        query: &str,
        transport: TransportKind,
        peer: Option<std::net::IpAddr>,
    ) -> (Arc<Engine>, Connection) {
        let engine = Engine::new(query, transport, self.config.outbound_queue);
        engine.set_peer(peer);
        self.engines
            .lock()
            .insert(engine.sid.clone(), engine.clone());
        let connection = Connection::new(self.clone(), engine.clone());
        tracing::debug!(sid = %engine.sid, ?transport, "socket.io: session opened");
        (engine, connection)
    }

    pub(crate) fn engine(&self, sid: &str) -> Option<Arc<Engine>> {
        self.engines.lock().get(sid).cloned()
    }

    pub(crate) fn remove_engine(&self, sid: &str) {
        let mut engines = self.engines.lock();
        engines.remove(sid);
        if engines.is_empty() {
            self.drained.notify_waiters();
        }
    }

    /// The `open` packet for `engine`; polling sessions may upgrade to WebSocket.
    pub(crate) fn open_packet(&self, engine: &Engine, upgradable: bool) -> String {
        let upgrades: &[&str] = if upgradable { &["websocket"] } else { &[] };
        engineio::encode_open(&Handshake {
            sid: &engine.sid,
            upgrades,
            ping_interval: millis(self.config.ping_interval),
            ping_timeout: millis(self.config.ping_timeout),
            max_payload: self.config.max_payload,
        })
    }

    /// Waits until no session is left; false after `limit`.
    async fn wait_drained(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            drained.as_mut().enable();
            if self.engines.lock().is_empty() {
                return true;
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                return self.engines.lock().is_empty();
            }
        }
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
