//! Options every mode shares: who the admin is, how agent users are named, how many setup
//! requests and handshakes run at once, and the per-step timeout.

use crate::api::{AgentLogin, Target};
use anyhow::Context;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(clap::Args, Debug, Clone)]
pub struct Setup {
    /// Admin user that creates the agent users (the demo site's admin by default).
    #[arg(long, default_value = "admin")]
    pub admin_user: String,
    /// The admin's password (the demo site's is the username).
    #[arg(long, default_value = "admin")]
    pub admin_password: String,
    /// Agent usernames are this prefix plus a 5-digit index; existing users are reused.
    #[arg(long)]
    pub user_prefix: Option<String>,
    /// Keeps the agents' bearer tokens in this JSON file: a later run against the same data
    /// directory reuses them instead of logging every agent in again (an argon2 check each).
    /// Delete the file when the data directory is recreated.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// User creations and logins in flight at once (each costs the server an argon2 hash).
    #[arg(long, default_value_t = 4)]
    pub setup_concurrency: usize,
    /// Socket.IO handshakes (and chat requests) in flight at once.
    #[arg(long, default_value_t = 32)]
    pub connect_concurrency: usize,
    /// Timeout of each setup step (a handshake, an ack), in seconds.
    #[arg(long, default_value_t = 15)]
    pub timeout_secs: u64,
    /// Process id of the server: its CPU time and memory (from /proc) join the report.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// serviceIdentifier of the web channel the widgets use.
    #[arg(long, default_value = "1122")]
    pub service_identifier: String,
}

impl Setup {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.max(1))
    }

    pub async fn admin_token(&self, target: &Target) -> anyhow::Result<String> {
        target.wait_healthy(self.timeout()).await?;
        target.login(&self.admin_user, &self.admin_password).await
    }

    /// Creates (when missing) and logs in `count` agents.
    pub async fn agents(
        &self,
        target: &Target,
        admin_token: &str,
        count: usize,
    ) -> anyhow::Result<Vec<AgentLogin>> {
        let prefix = self.user_prefix.as_deref().unwrap_or("load-agent-");
        if let Some(path) = &self.token_file {
            if let Some(known) = saved_logins(path, prefix, count)? {
                eprintln!("reusing {count} agent tokens from {}", path.display());
                return Ok(known);
            }
        }
        let logins = target
            .provision_agents(admin_token, prefix, count, self.setup_concurrency)
            .await?;
        if let Some(path) = &self.token_file {
            save_logins(path, &logins)?;
        }
        Ok(logins)
    }

    /// A short id that keeps this run's customers and message ids apart from other runs'.
    pub fn run_id(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
    }
}

/// The saved tokens of agents `{prefix}00000..count`, when the file has all of them.
fn saved_logins(
    path: &Path,
    prefix: &str,
    count: usize,
) -> anyhow::Result<Option<Vec<AgentLogin>>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    let tokens: HashMap<String, String> =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok((0..count)
        .map(|i| {
            let username = format!("{prefix}{i:05}");
            let token = tokens.get(&username)?.clone();
            Some(AgentLogin { username, token })
        })
        .collect())
}

/// Adds `logins` to the token file.
fn save_logins(path: &Path, logins: &[AgentLogin]) -> anyhow::Result<()> {
    let mut tokens: HashMap<String, String> = std::fs::read_to_string(path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    for login in logins {
        tokens.insert(login.username.clone(), login.token.clone());
    }
    std::fs::write(path, serde_json::to_string(&tokens)?)
        .with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_tokens_are_reused_only_when_all_are_known() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        assert!(saved_logins(&path, "a-", 2).unwrap().is_none());
        let login = |i: usize| AgentLogin {
            username: format!("a-{i:05}"),
            token: format!("t{i}"),
        };
        save_logins(&path, &[login(0)]).unwrap();
        assert!(saved_logins(&path, "a-", 2).unwrap().is_none());
        save_logins(&path, &[login(1)]).unwrap();
        let known = saved_logins(&path, "a-", 2).unwrap().unwrap();
        assert_eq!(known[1].token, "t1");
        assert_eq!(known.len(), 2);
    }
}
