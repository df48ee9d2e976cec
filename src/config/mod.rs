//! The one typed configuration and how it is layered.
//!
//! Precedence, lowest first: built-in defaults < TOML file < `SWITCHBOARD_*`
//! environment variables < command-line flags. Unknown keys and bad values are
//! refused at start with a message naming the key (`store.synchronous`, ...).
//! Environment variables name nested keys with a double underscore:
//! `SWITCHBOARD_LOG__FORMAT=json`, `SWITCHBOARD_LISTEN=0.0.0.0:8080`.
//!
//! This file holds the sections and their defaults; `load` layers them.

mod load;

pub use load::CliOverrides;

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "SWITCHBOARD_";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration at `{key}`: {message}")]
    Invalid { key: String, message: String },
    #[error("environment variable {var} does not name a configuration key: {message}")]
    Env { var: String, message: String },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Directory holding `switchboard.db` and backups.
    pub data_dir: PathBuf,
    /// Address the HTTP and Socket.IO server listens on.
    pub listen: SocketAddr,
    /// Create the demo site on an empty data directory. Unset means: on when no
    /// config file is given, off otherwise.
    pub demo: Option<bool>,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub login: LoginSettings,
    pub store: StoreConfig,
    pub socketio: SocketIoSettings,
    pub routing: RoutingSettings,
    pub conversation: ConversationSettings,
    pub studio: StudioSettings,
    pub channels: ChannelSettings,
    pub outbox: OutboxSettings,
    pub site: SiteSettings,
    pub supervisor: SupervisorSettings,
    pub metrics: crate::metrics::MetricsConfig,
    pub backup: crate::backup::BackupConfig,
    pub retention: crate::retention::RetentionConfig,
    pub attachments: crate::attachments::AttachmentSettings,
    pub search: crate::reports::search::Limits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            demo: None,
            log: LogConfig::default(),
            http: HttpConfig::default(),
            login: LoginSettings::default(),
            store: StoreConfig::default(),
            socketio: SocketIoSettings::default(),
            routing: RoutingSettings::default(),
            conversation: ConversationSettings::default(),
            studio: StudioSettings::default(),
            channels: ChannelSettings::default(),
            outbox: OutboxSettings::default(),
            site: SiteSettings::default(),
            supervisor: SupervisorSettings::default(),
            metrics: crate::metrics::MetricsConfig::default(),
            backup: crate::backup::BackupConfig::default(),
            retention: crate::retention::RetentionConfig::default(),
            attachments: crate::attachments::AttachmentSettings::default(),
            search: crate::reports::search::Limits::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing-subscriber filter, e.g. `info` or `switchboard=debug,actix_web=warn`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            level: "info".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Largest accepted request body (JSON APIs and connectors), in bytes.
    pub max_body_bytes: usize,
    /// Lifetime of a login token, in seconds.
    pub token_ttl_secs: u64,
    /// How long a graceful shutdown waits for in-flight requests, in seconds.
    pub shutdown_timeout_secs: u64,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Reverse proxies (addresses or CIDR networks) whose `X-Forwarded-For` names the
    /// client; anyone else's is ignored.
    pub trusted_proxies: Vec<String>,
    /// Serve HTTPS and WSS instead of plain HTTP (absent: plain HTTP).
    pub tls: Option<TlsConfig>,
    /// A connection must send a complete request head within this many milliseconds of
    /// opening (or it gets 408 and is closed); a connection that never sends a byte is
    /// closed after it too. 0 turns the timeout off; otherwise at least 1000.
    pub client_request_timeout_ms: u64,
    /// An idle keep-alive connection is closed after this many milliseconds.
    pub keep_alive_ms: u64,
}

/// `[http.tls]`: the certificate the server presents. SIGHUP reads both files again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// Also listen here for plain HTTP, answering every request with a redirect to HTTPS.
    #[serde(default)]
    pub redirect_listen: Option<SocketAddr>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            token_ttl_secs: 12 * 3600,
            shutdown_timeout_secs: 10,
            workers: 0,
            trusted_proxies: Vec::new(),
            tls: None,
            client_request_timeout_ms: 5000,
            keep_alive_ms: 5000,
        }
    }
}

/// Failed logins are limited per username and per client address (token buckets:
/// a burst, then so many per minute). A limited login answers 429 with `Retry-After`,
/// whatever the password. Clients on this host (loopback, not relayed by an untrusted
/// proxy) are not limited unless `limit_loopback` is set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LoginSettings {
    /// Failed logins one username may have in a row before it is limited.
    pub username_burst: u32,
    /// Failed logins per minute a username gets back; 0 turns the per-username limit off.
    pub username_per_minute: u32,
    /// Failed logins one client address may have in a row before it is limited.
    pub address_burst: u32,
    /// Failed logins per minute an address gets back; 0 turns the per-address limit off.
    pub address_per_minute: u32,
    /// Also limit clients on this host. Off by default: the tests, the benchmarks and
    /// the load tool all sign in from 127.0.0.1.
    pub limit_loopback: bool,
}

impl Default for LoginSettings {
    fn default() -> Self {
        LoginSettings {
            username_burst: 5,
            username_per_minute: 2,
            address_burst: 20,
            address_per_minute: 10,
            limit_loopback: false,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum Synchronous {
    Off,
    Normal,
    Full,
    Extra,
}

impl Synchronous {
    pub fn pragma_value(self) -> &'static str {
        match self {
            Synchronous::Off => "OFF",
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
            Synchronous::Extra => "EXTRA",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub synchronous: Synchronous,
    pub busy_timeout_ms: u64,
    /// Read-only connections kept for queries.
    pub read_connections: usize,
    /// Page cache of the writer's connection, in KiB. Every message inserts into
    /// indexes that grow with the history (message ids, the full-text index); the
    /// pages they touch are read back from the file whenever they fell out of it.
    pub writer_cache_kib: u64,
    /// How much of the database file each read connection maps into memory, in MiB
    /// (0: none). A query's pages are then read in place rather than copied out of
    /// the OS cache by a system call each, and unlike a connection's own page cache
    /// the map is not emptied by every commit another connection makes. It is
    /// address space: the pages are the OS cache's, shared by the connections.
    /// SQLite is built to map up to 1 TiB (`.cargo/config.toml`).
    pub reader_mmap_mib: u64,
    /// Most writes committed in one transaction by the writer thread.
    pub max_batch: usize,
    /// Writes that may wait for the writer before producers are slowed down.
    pub queue_capacity: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            synchronous: Synchronous::Full,
            busy_timeout_ms: 5000,
            read_connections: 4,
            writer_cache_kib: 65_536,
            reader_mmap_mib: 65_536,
            max_batch: 4096,
            queue_capacity: 65536,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SocketIoSettings {
    pub ping_interval_ms: u64,
    pub ping_timeout_ms: u64,
    /// Largest Engine.IO payload accepted, in bytes.
    pub max_payload_bytes: usize,
    /// Outbound packets queued per connection before it is closed as too slow.
    pub outbound_queue: usize,
    /// Origins allowed to use HTTP long-polling cross-origin, e.g. the sites that embed
    /// the chat widget (`*` allows any). Empty: same origin only.
    pub cors_allowed_origins: Vec<String>,
}

impl Default for SocketIoSettings {
    fn default() -> Self {
        Self {
            ping_interval_ms: 25_000,
            ping_timeout_ms: 20_000,
            max_payload_bytes: 1024 * 1024,
            outbound_queue: 1024,
            cors_allowed_origins: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingSettings {
    /// Default time an agent has to accept an offered task (RONA), seconds.
    pub accept_timeout_secs: u64,
    /// Reason code given to an agent made NOT_READY by a RONA.
    pub rona_reason_code: String,
    /// How long a disconnected desk keeps its state and tasks, seconds.
    pub disconnect_grace_secs: u64,
    /// After a restart, how long agents stay UNKNOWN waiting for their desks, seconds.
    pub unknown_grace_secs: u64,
    /// Set every MRD READY/NOT_READY together with the global state.
    pub auto_sync_mrd_states: bool,
    /// Order waiting tasks by queue priority before task priority.
    pub queue_priority_enabled: bool,
    /// How long a task waits for the customer's last agent before the queue, seconds.
    pub last_agent_wait_secs: u64,
    /// How far back the customer's last agent counts, seconds.
    pub last_agent_window_secs: u64,
    /// Append every input of the routing engine and the conversation manager to the
    /// input journal (`switchboard replay`).
    pub journal: bool,
    /// How often the journal keeps a snapshot of the engine's state, seconds
    /// (0: never). Snapshots are taken at the first input of each period counted from
    /// midnight UTC (daily by default); a replay may begin at one, and the retention
    /// purge removes the journal before the last one it has passed.
    pub journal_snapshot_secs: u64,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        Self {
            accept_timeout_secs: 30,
            rona_reason_code: "RONA".into(),
            disconnect_grace_secs: 30,
            unknown_grace_secs: 60,
            auto_sync_mrd_states: true,
            queue_priority_enabled: true,
            last_agent_wait_secs: 0,
            last_agent_window_secs: 24 * 3600,
            journal: true,
            journal_snapshot_secs: 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum InterruptedAction {
    /// Put the interrupted conversations on hold.
    Hold,
    /// Leave them as they are.
    Ignore,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ConversationSettings {
    pub wrapup_enabled: bool,
    pub wrapup_timeout_secs: u64,
    /// Greeting sent to the customer when a conversation starts (empty: none).
    pub greeting: String,
    /// Text sent to the customer when no agent was found in time.
    pub no_agent_message: String,
    pub on_mrd_interrupted: InterruptedAction,
    /// Customer SLA reminder threshold as a percentage of the SLA (0 disables).
    pub customer_sla_reminder_percent: u8,
    /// Agent SLA threshold notifications sent to the desk, as percentages.
    pub agent_sla_thresholds: Vec<u8>,
}

impl Default for ConversationSettings {
    fn default() -> Self {
        Self {
            wrapup_enabled: true,
            wrapup_timeout_secs: 60,
            greeting: "Thanks for reaching out. Finding an agent for you.".into(),
            no_agent_message: "Sorry, no agent is available right now. Please try again later."
                .into(),
            on_mrd_interrupted: InterruptedAction::Hold,
            customer_sla_reminder_percent: 80,
            agent_sla_thresholds: vec![50, 80],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StudioSettings {
    /// URL of an external flow (e.g. Node-RED) that answers intents with actions. Empty: built-in flow only.
    pub url: String,
    /// Intents sent to the external flow; empty means every intent.
    pub intents: Vec<String>,
    pub timeout_ms: u64,
}

impl Default for StudioSettings {
    fn default() -> Self {
        Self {
            url: String::new(),
            intents: Vec::new(),
            timeout_ms: 2000,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ChannelSettings {
    /// A site-wide secret connectors may send as `Authorization: Bearer <token>` to
    /// `POST /ccm/message/receive`, besides each channel's own connector token. Empty:
    /// only channel tokens are accepted.
    pub connector_token: String,
    /// Chat requests (`CHAT_REQUESTED`, or a first message) a client address may make
    /// per minute on `/customer`; 0 turns the limit off.
    pub chat_requests_per_minute: u32,
    /// How many chat requests an address may make at once before the per-minute rate
    /// applies.
    pub chat_request_burst: u32,
    /// Also limit loopback addresses (127.0.0.1, ::1). Off by default: the tests, the
    /// benchmarks and the load tool all connect from loopback.
    pub limit_loopback: bool,
}

impl Default for ChannelSettings {
    fn default() -> Self {
        ChannelSettings {
            connector_token: String::new(),
            chat_requests_per_minute: 30,
            chat_request_burst: 60,
            limit_loopback: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxSettings {
    /// Attempts before a webhook delivery is dead-lettered.
    pub max_attempts: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    pub request_timeout_ms: u64,
    /// Deliveries in flight at once (over all webhooks).
    pub concurrency: usize,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            initial_backoff_ms: 500,
            max_backoff_ms: 300_000,
            request_timeout_ms: 5000,
            concurrency: 4,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SiteSettings {
    /// IANA time zone of the site (e.g. `Europe/Berlin`): "today" in the live figures
    /// and reports starts at its local midnight.
    pub time_zone: String,
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            time_zone: "UTC".into(),
        }
    }
}

impl SiteSettings {
    /// The configured time zone.
    pub fn zone(&self) -> Result<jiff::tz::TimeZone, String> {
        jiff::tz::TimeZone::get(&self.time_zone).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SupervisorSettings {
    /// Abandons with a wait under this many seconds are short abandons, left out of
    /// the service level.
    pub short_abandon_secs: u64,
    /// Shortest time between two updates pushed to one supervisor console, in ms.
    pub update_interval_ms: u64,
}

impl Default for SupervisorSettings {
    fn default() -> Self {
        Self {
            short_abandon_secs: 5,
            update_interval_ms: 250,
        }
    }
}
