//! The appliance's HTTP API as the load tool uses it: the loopback-only target, logins,
//! and provisioning agent users (create through the admin API, then log in) with bounded
//! concurrency, because every create and login costs the server an argon2 hash.

use anyhow::{anyhow, bail, Context};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

/// Password of every agent the tool creates.
pub const AGENT_PASSWORD: &str = "switchboard-load";

/// A running appliance on this machine.
#[derive(Clone)]
pub struct Target {
    pub base: String,
    pub addr: SocketAddr,
    http: reqwest::Client,
}

/// An agent ready to connect a desk.
#[derive(Debug, Clone)]
pub struct AgentLogin {
    pub username: String,
    pub token: String,
}

impl Target {
    /// Accepts only `http://` URLs on a loopback address (or `localhost`).
    pub fn new(url: &str) -> anyhow::Result<Target> {
        let parsed = reqwest::Url::parse(url).with_context(|| format!("bad --url {url}"))?;
        if parsed.scheme() != "http" {
            bail!("--url must be http:// (the tool drives a local appliance)");
        }
        let host = parsed.host_str().unwrap_or_default();
        let ip: IpAddr = if host == "localhost" {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .parse()
                .map_err(|_| anyhow!("--url must name a loopback address such as 127.0.0.1"))?
        };
        if !ip.is_loopback() {
            bail!("--url must be a loopback address (127.0.0.1), not {ip}");
        }
        let port = parsed
            .port_or_known_default()
            .ok_or_else(|| anyhow!("--url needs a port"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Target {
            base: format!("http://{}", SocketAddr::new(ip, port)),
            addr: SocketAddr::new(ip, port),
            http,
        })
    }

    /// Waits until `GET /healthz` answers 200.
    pub async fn wait_healthy(&self, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let ok = self
                .http
                .get(format!("{}/healthz", self.base))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ok {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("{} is not healthy after {within:?}", self.base);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `POST /api/v1/auth/login`; returns the bearer token.
    pub async fn login(&self, username: &str, password: &str) -> anyhow::Result<String> {
        let resp = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .with_context(|| format!("login of {username}"))?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("login of {username}: HTTP {status} {body}");
        }
        body["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow!("login of {username}: no token in {body}"))
    }

    /// `POST /api/v1/users` with role agent and no team. True when created, false when the
    /// username already existed (a previous run on the same data directory).
    pub async fn create_agent(&self, admin_token: &str, username: &str) -> anyhow::Result<bool> {
        let resp = self
            .http
            .post(format!("{}/api/v1/users", self.base))
            .bearer_auth(admin_token)
            .json(&json!({"username": username, "password": AGENT_PASSWORD, "role": "agent"}))
            .send()
            .await
            .with_context(|| format!("creating {username}"))?;
        let status = resp.status();
        if status.as_u16() == 409 {
            return Ok(false);
        }
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            bail!("creating {username}: HTTP {status} {body}");
        }
        Ok(true)
    }

    /// The MRD named `name`, as `GET /api/v1/mrds` lists it.
    async fn mrd(&self, token: &str, name: &str) -> anyhow::Result<Option<Value>> {
        let resp = self
            .http
            .get(format!("{}/api/v1/mrds", self.base))
            .bearer_auth(token)
            .send()
            .await
            .context("listing MRDs")?;
        let mrds: Value = resp.json().await.context("MRD list")?;
        Ok(mrds
            .as_array()
            .and_then(|list| list.iter().find(|m| m["name"] == name).cloned()))
    }

    /// `maxTasks` of the MRD named `name` (the default capacity of agents without their own).
    pub async fn mrd_max_tasks(&self, token: &str, name: &str) -> anyhow::Result<Option<u64>> {
        Ok(self
            .mrd(token, name)
            .await?
            .and_then(|m| m["maxTasks"].as_u64()))
    }

    /// How many queues the site has.
    pub async fn count_queues(&self, token: &str) -> anyhow::Result<usize> {
        let resp = self
            .http
            .get(format!("{}/api/v1/queues?limit=1", self.base))
            .bearer_auth(token)
            .send()
            .await
            .context("listing queues")?;
        let page: Value = resp.json().await.context("queue list")?;
        Ok(page["total"].as_u64().unwrap_or_default() as usize)
    }

    /// Creates a queue on the CHAT MRD with no steps.
    pub async fn create_queue(&self, token: &str, name: &str) -> anyhow::Result<()> {
        let chat = self
            .mrd(token, "CHAT")
            .await?
            .and_then(|m| m["id"].as_str().map(str::to_string))
            .ok_or_else(|| anyhow!("no CHAT MRD"))?;
        let resp = self
            .http
            .post(format!("{}/api/v1/queues", self.base))
            .bearer_auth(token)
            .json(&json!({"name": name, "mrdId": chat}))
            .send()
            .await
            .with_context(|| format!("creating queue {name}"))?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            bail!("creating queue {name}: HTTP {status} {body}");
        }
        Ok(())
    }

    /// Creates (when missing) and logs in `count` agents named `{prefix}{i}`, at most
    /// `concurrency` requests at a time.
    pub async fn provision_agents(
        &self,
        admin_token: &str,
        prefix: &str,
        count: usize,
        concurrency: usize,
    ) -> anyhow::Result<Vec<AgentLogin>> {
        let started = Instant::now();
        let results: Vec<anyhow::Result<AgentLogin>> = futures_util::stream::iter(0..count)
            .map(|i| async move {
                let username = format!("{prefix}{i:05}");
                self.create_agent(admin_token, &username).await?;
                let token = self.login(&username, AGENT_PASSWORD).await?;
                Ok(AgentLogin { username, token })
            })
            .buffered(concurrency.max(1))
            .collect()
            .await;
        let agents = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        eprintln!(
            "provisioned {count} agents ({prefix}*) in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        Ok(agents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_targets_are_accepted() {
        assert_eq!(
            Target::new("http://127.0.0.1:8080").unwrap().addr,
            "127.0.0.1:8080".parse().unwrap()
        );
        assert_eq!(
            Target::new("http://localhost:9/").unwrap().base,
            "http://127.0.0.1:9"
        );
        assert!(Target::new("http://[::1]:80").is_ok());
        assert!(Target::new("http://10.0.0.1:8080").is_err());
        assert!(Target::new("http://example.com:8080").is_err());
        assert!(Target::new("https://127.0.0.1:8080").is_err());
        assert!(Target::new("not a url").is_err());
    }
}
