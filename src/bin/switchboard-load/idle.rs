//! `idle`: opens many connections that then only answer heartbeats, holds them, and reports
//! the server's resident memory (VmRSS of `--server-pid`) before, during and after.
//!
//! `--kind desk` (the default) connects real agent desks, which needs one agent user per
//! connection (a new desk of the same agent takes the session over); `--kind widget`
//! connects customer widgets with distinct customer identifiers instead, which needs no
//! users but exercises the `/customer` namespace.

use crate::api::Target;
use crate::clients;
use crate::procfs::{self, Memory};
use crate::setup::Setup;
use crate::sio::{Client, Events};
use anyhow::bail;
use futures_util::StreamExt;
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Desk,
    Widget,
}

#[derive(clap::Args, Debug, Clone)]
pub struct IdleArgs {
    /// Connections to open.
    #[arg(long, default_value_t = 10_000)]
    pub connections: usize,
    /// Agent desks (one agent user each) or customer widgets.
    #[arg(long, value_enum, default_value_t = Kind::Desk)]
    pub kind: Kind,
    /// Seconds to hold the connections open (longer than the 25 s ping interval shows
    /// that heartbeats keep every one of them alive).
    #[arg(long, default_value_t = 30)]
    pub hold_secs: u64,
    /// Make each desk READY after connecting.
    #[arg(long)]
    pub ready: bool,
    #[command(flatten)]
    pub setup: Setup,
}

#[derive(Debug, Serialize)]
pub struct IdleReport {
    pub kind: Kind,
    pub connections: usize,
    pub connect_secs: f64,
    pub hold_secs: u64,
    /// Connections still open at the end of the hold.
    pub still_open: usize,
    /// Server memory after setup (users, logins), before any connection.
    pub server_before: Option<Memory>,
    /// Right after the last connection was established.
    pub server_connected: Option<Memory>,
    /// At the end of the hold.
    pub server_end: Option<Memory>,
    /// (end - before) / connections.
    pub server_bytes_per_connection: Option<f64>,
    pub tool: Memory,
}

impl IdleReport {
    pub fn clean(&self) -> bool {
        self.still_open == self.connections
    }

    pub fn print(&self) {
        let mib = |m: &Option<Memory>| {
            m.map_or("n/a".to_owned(), |m| {
                format!(
                    "{:.1} MiB (peak {:.1} MiB)",
                    Memory::mib(m.rss_kib),
                    Memory::mib(m.peak_rss_kib)
                )
            })
        };
        println!(
            "idle: {} {:?} connections opened in {:.1}s, held {}s, {} still open",
            self.connections, self.kind, self.connect_secs, self.hold_secs, self.still_open
        );
        println!("  server RSS before     {}", mib(&self.server_before));
        println!("  server RSS connected  {}", mib(&self.server_connected));
        println!("  server RSS end        {}", mib(&self.server_end));
        if let Some(per) = self.server_bytes_per_connection {
            println!("  server per connection {:.1} KiB", per / 1024.0);
        }
        println!(
            "  tool RSS              {:.1} MiB",
            Memory::mib(self.tool.rss_kib)
        );
    }
}

pub async fn run(target: &Target, args: &IdleArgs) -> anyhow::Result<IdleReport> {
    let n = args.connections;
    if n == 0 {
        bail!("connections must be positive");
    }
    let server_memory = || {
        args.setup
            .server_pid
            .map(|pid| procfs::memory(Some(pid)))
            .transpose()
    };
    let timeout = args.setup.timeout();
    let concurrency = args.setup.connect_concurrency.max(1);
    let admin = args.setup.admin_token(target).await?;

    let (clients, connect_secs, server_before, server_connected) = match args.kind {
        Kind::Desk => {
            let logins = args.setup.agents(target, &admin, n).await?;
            let before = server_memory()?;
            let started = Instant::now();
            let desks =
                clients::connect_desks(target.addr, &logins, args.ready, concurrency, timeout)
                    .await?;
            let secs = started.elapsed().as_secs_f64();
            let clients: Vec<Client> = desks.into_iter().map(|d| d.client).collect();
            (clients, secs, before, server_memory()?)
        }
        Kind::Widget => {
            let run_id = args.setup.run_id();
            let before = server_memory()?;
            let started = Instant::now();
            let service = args.setup.service_identifier.as_str();
            let opened: Vec<anyhow::Result<Client>> = futures_util::stream::iter(0..n)
                .map(|i| {
                    let customer = clients::customer_id(&run_id, i);
                    async move {
                        let c = clients::connect_widget(
                            target.addr,
                            service,
                            &customer,
                            Events::Discard,
                            timeout,
                        )
                        .await?;
                        Ok(c.client)
                    }
                })
                .buffered(concurrency)
                .collect()
                .await;
            let clients = opened.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!("connected {n} widgets in {secs:.1}s");
            (clients, secs, before, server_memory()?)
        }
    };

    let hold_end = Instant::now() + Duration::from_secs(args.hold_secs);
    while Instant::now() < hold_end {
        tokio::time::sleep(Duration::from_secs(5).min(hold_end - Instant::now())).await;
        let open = clients.iter().filter(|c| c.is_open()).count();
        let rss = server_memory()?.map_or(String::new(), |m| {
            format!(", server RSS {:.1} MiB", Memory::mib(m.rss_kib))
        });
        eprintln!("  holding: {open}/{n} open{rss}");
    }
    let still_open = clients.iter().filter(|c| c.is_open()).count();
    let server_end = server_memory()?;
    let tool = procfs::memory(None)?;
    for c in &clients {
        c.close();
    }
    let per_connection = match (server_before, server_end) {
        (Some(b), Some(e)) => Some((e.rss_kib as f64 - b.rss_kib as f64) * 1024.0 / n as f64),
        _ => None,
    };
    Ok(IdleReport {
        kind: args.kind,
        connections: n,
        connect_secs,
        hold_secs: args.hold_secs,
        still_open,
        server_before,
        server_connected,
        server_end,
        server_bytes_per_connection: per_connection,
        tool,
    })
}
