//! The one typed configuration and how it is layered.
//!
//! Precedence, lowest first: built-in defaults < TOML file < `SWITCHBOARD_*`
//! environment variables < command-line flags. Unknown keys and bad values are
//! refused at start with a message naming the key (`store.synchronous`, ...).
//! Environment variables name nested keys with a double underscore:
//! `SWITCHBOARD_LOG__FORMAT=json`, `SWITCHBOARD_LISTEN=0.0.0.0:8080`.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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

/// Command-line values that override every other layer.
#[derive(Debug, Clone, Default)]
pub struct CliOverrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
}

impl Config {
    /// Builds the configuration from every layer. `env` is the process environment
    /// (passed in so tests can supply their own).
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        cli: &CliOverrides,
    ) -> Result<Config, ConfigError> {
        let mut tree =
            toml::Value::try_from(Config::default()).map_err(|e| ConfigError::Invalid {
                key: "<defaults>".into(),
                message: e.to_string(),
            })?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            let file_tree: toml::Value = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.message().to_string(),
            })?;
            merge(&mut tree, file_tree);
        }
        let mut env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        env.sort();
        for (var, value) in env {
            let path: Vec<String> = var[ENV_PREFIX.len()..]
                .split("__")
                .map(|s| s.to_ascii_lowercase())
                .collect();
            if path.iter().any(|p| p.is_empty()) {
                return Err(ConfigError::Env {
                    var,
                    message: "empty key segment".into(),
                });
            }
            set_path(&mut tree, &path, parse_env_value(&value)).map_err(|message| {
                ConfigError::Env {
                    var: var.clone(),
                    message,
                }
            })?;
        }
        let mut config: Config =
            serde_path_to_error::deserialize(tree).map_err(|e| ConfigError::Invalid {
                key: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        if let Some(dir) = &cli.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(listen) = cli.listen {
            config.listen = listen;
        }
        if config.demo.is_none() {
            config.demo = Some(file.is_none());
        }
        config.validate()?;
        Ok(config)
    }

    /// Whether the demo site is created on an empty data directory.
    pub fn demo_enabled(&self) -> bool {
        self.demo.unwrap_or(true)
    }

    /// The SQLite database file inside the data directory.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("switchboard.db")
    }

    /// Checks values whose type alone does not say whether they make sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: &str| {
            Err(ConfigError::Invalid {
                key: key.into(),
                message: message.into(),
            })
        };
        if self.store.read_connections == 0 {
            return invalid("store.read_connections", "must be at least 1");
        }
        if self.store.max_batch == 0 {
            return invalid("store.max_batch", "must be at least 1");
        }
        if self.store.queue_capacity == 0 {
            return invalid("store.queue_capacity", "must be at least 1");
        }
        if self.http.max_body_bytes < 1024 {
            return invalid("http.max_body_bytes", "must be at least 1024");
        }
        if (1..1000).contains(&self.http.client_request_timeout_ms) {
            // actix-http reads a clock that moves in half-second steps: a shorter
            // timeout can expire before the first byte could arrive.
            return invalid(
                "http.client_request_timeout_ms",
                "must be 0 (off) or at least 1000",
            );
        }
        if self.socketio.max_payload_bytes < 1024 {
            return invalid("socketio.max_payload_bytes", "must be at least 1024");
        }
        if self.socketio.ping_interval_ms == 0 || self.socketio.ping_timeout_ms == 0 {
            return invalid(
                "socketio.ping_interval_ms",
                "heartbeat times must be positive",
            );
        }
        if self.socketio.outbound_queue == 0 {
            return invalid("socketio.outbound_queue", "must be at least 1");
        }
        if self.routing.accept_timeout_secs == 0 {
            return invalid("routing.accept_timeout_secs", "must be positive");
        }
        if self.outbox.max_attempts == 0 {
            return invalid("outbox.max_attempts", "must be at least 1");
        }
        if self.outbox.concurrency == 0 {
            return invalid("outbox.concurrency", "must be at least 1");
        }
        if self.outbox.request_timeout_ms == 0 {
            return invalid("outbox.request_timeout_ms", "must be positive");
        }
        if self.outbox.max_backoff_ms < self.outbox.initial_backoff_ms {
            return invalid(
                "outbox.max_backoff_ms",
                "must not be below outbox.initial_backoff_ms",
            );
        }
        let url = &self.studio.url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return invalid("studio.url", "must be an http:// or https:// URL");
        }
        if self
            .conversation
            .agent_sla_thresholds
            .iter()
            .any(|p| *p == 0 || *p >= 100)
        {
            return invalid(
                "conversation.agent_sla_thresholds",
                "each threshold must be between 1 and 99 percent",
            );
        }
        if let Err(e) = self.site.zone() {
            return invalid("site.time_zone", &format!("not a known time zone: {e}"));
        }
        if self.supervisor.update_interval_ms < 50 {
            return invalid("supervisor.update_interval_ms", "must be at least 50");
        }
        if !(1..=10_000).contains(&self.retention.batch) {
            return invalid("retention.batch", "must be between 1 and 10000");
        }
        if let Err((key, message)) =
            crate::metrics::MetricsAccess::new(&self.metrics, &self.http.trusted_proxies)
        {
            return invalid(&key, &message);
        }
        if let Some(tls) = &self.http.tls {
            if tls.redirect_listen == Some(self.listen) && self.listen.port() != 0 {
                return invalid(
                    "http.tls.redirect_listen",
                    "must differ from the HTTPS address `listen`",
                );
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return invalid("log.level", "not a valid log filter");
        }
        Ok(())
    }
}

fn merge(base: &mut toml::Value, overlay: toml::Value) {
    match (base, overlay) {
        (toml::Value::Table(base), toml::Value::Table(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) if existing.is_table() && value.is_table() => {
                        merge(existing, value)
                    }
                    _ => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

fn set_path(tree: &mut toml::Value, path: &[String], value: toml::Value) -> Result<(), String> {
    let mut node = tree;
    for (i, segment) in path.iter().enumerate() {
        let table = node
            .as_table_mut()
            .ok_or_else(|| format!("`{}` is not a section", path[..i].join(".")))?;
        if i + 1 == path.len() {
            if table.get(segment).is_some_and(|v| v.is_table()) {
                return Err(format!("`{}` is a section, not a value", path.join(".")));
            }
            // Unknown keys are left for deserialization to refuse with their full path,
            // except sections that do not exist at all.
            table.insert(segment.clone(), value);
            return Ok(());
        }
        node = table
            .get_mut(segment)
            .ok_or_else(|| format!("unknown section `{}`", path[..=i].join(".")))?;
    }
    Err("empty key".into())
}

/// Environment values are typed the way TOML would type them; anything that is
/// not a TOML scalar or array is taken as a plain string.
fn parse_env_value(raw: &str) -> toml::Value {
    let probe = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&probe) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.into())),
        Err(_) => toml::Value::String(raw.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_with_demo_on_without_file() {
        let c = Config::load(None, env(&[]), &CliOverrides::default()).unwrap();
        assert_eq!(c.store.synchronous, Synchronous::Full);
        assert!(c.demo_enabled());
    }

    #[test]
    fn precedence_file_then_env_then_cli() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\n[store]\nsynchronous = \"NORMAL\"\nbusy_timeout_ms = 10\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&path),
            env(&[("SWITCHBOARD_STORE__BUSY_TIMEOUT_MS", "20")]),
            &CliOverrides {
                listen: Some("127.0.0.1:9100".parse().unwrap()),
                data_dir: None,
            },
        )
        .unwrap();
        assert_eq!(c.store.synchronous, Synchronous::Normal);
        assert_eq!(c.store.busy_timeout_ms, 20);
        assert_eq!(c.listen.port(), 9100);
        assert!(
            !c.demo_enabled(),
            "a config file turns demo off unless it says so"
        );
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[store]\nsynchronus = \"FULL\"\n").unwrap();
        let err = Config::load(Some(&path), env(&[]), &CliOverrides::default()).unwrap_err();
        assert!(err.to_string().contains("synchronus"), "{err}");

        let err = Config::load(
            None,
            env(&[("SWITCHBOARD_NOPE", "1")]),
            &CliOverrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = Config::load(
            None,
            env(&[("SWITCHBOARD_STORE__SYNCHRONOUS", "SOMETIMES")]),
            &CliOverrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("store.synchronous"), "{err}");
        let err = Config::load(
            None,
            env(&[("SWITCHBOARD_STORE__READ_CONNECTIONS", "0")]),
            &CliOverrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("store.read_connections"), "{err}");
    }
}
