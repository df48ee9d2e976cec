//! Settings of the Socket.IO endpoint: heartbeat, limits, path, CORS.

use std::time::Duration;

/// Settings of the Socket.IO endpoint. `Default` gives the reference server's values
/// (except `max_payload`, 1 MiB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketIoConfig {
    /// URL path of the endpoint; stock clients use `/socket.io/`.
    pub path: String,
    /// The server pings every `ping_interval` after the previous pong.
    pub ping_interval: Duration,
    /// A client that does not answer a ping within `ping_timeout` is disconnected.
    pub ping_timeout: Duration,
    /// Largest accepted WebSocket message or HTTP POST body, in bytes. Larger input closes
    /// that connection. Also announced to clients as `maxPayload`.
    pub max_payload: usize,
    /// Outbound packets queued per connection. When a client cannot keep up and the queue is
    /// full, the connection is closed as too slow (logged with its sid).
    pub outbound_queue: usize,
    /// A connection with no connected namespace for this long is closed.
    pub connect_timeout: Duration,
    /// A WebSocket opened to upgrade a polling session must complete the probe within this.
    pub upgrade_timeout: Duration,
    /// Time allowed to flush queued packets when the server closes a connection cleanly.
    pub close_grace: Duration,
    /// Origins allowed to use HTTP long-polling cross-origin (`*` allows any). WebSocket is
    /// not subject to CORS. Empty: same-origin only.
    pub cors_allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` names a client (`http.trusted_proxies`): a
    /// session opened through one is known by the forwarded address (per-address limits).
    pub trusted_proxies: crate::client_addr::AddrList,
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        SocketIoConfig {
            path: "/socket.io/".to_owned(),
            ping_interval: Duration::from_secs(25),
            ping_timeout: Duration::from_secs(20),
            max_payload: 1024 * 1024,
            outbound_queue: 1024,
            connect_timeout: Duration::from_secs(45),
            upgrade_timeout: Duration::from_secs(10),
            close_grace: Duration::from_secs(2),
            cors_allowed_origins: Vec::new(),
            trusted_proxies: Default::default(),
        }
    }
}

impl SocketIoConfig {
    /// The address a handshake request comes from: its TCP peer, or the client a trusted
    /// proxy forwarded.
    pub(crate) fn client_ip(
        &self,
        peer: Option<std::net::IpAddr>,
        headers: &actix_http::header::HeaderMap,
    ) -> Option<std::net::IpAddr> {
        let peer = peer?;
        Some(crate::client_addr::ClientAddr::from_headers(peer, headers, &self.trusted_proxies).ip)
    }

    pub(crate) fn allows_origin(&self, origin: &str) -> bool {
        self.cors_allowed_origins
            .iter()
            .any(|allowed| allowed == "*" || allowed == origin)
    }
}
