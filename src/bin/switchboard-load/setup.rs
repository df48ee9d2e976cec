//! Options every mode shares: who the admin is, how agent users are named, how many setup
//! requests and handshakes run at once, and the per-step timeout.

use crate::api::{AgentLogin, Target};
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
        target
            .provision_agents(admin_token, prefix, count, self.setup_concurrency)
            .await
    }

    /// A short id that keeps this run's customers and message ids apart from other runs'.
    pub fn run_id(&self) -> String {
        uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
    }
}
