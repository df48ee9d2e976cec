//! Layering the configuration: built-in defaults, then the TOML file, then
//! `SWITCHBOARD_*` environment variables, then command-line flags, each refused by
//! the key it names when unknown or bad.

use super::{Config, ConfigError, ENV_PREFIX};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
    use crate::config::*;

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
