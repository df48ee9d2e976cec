//! The `switchboard` command: parse the CLI, then call the library.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use switchboard::clock::now_ms;
use switchboard::config::{CliOverrides, Config};
use switchboard::store::users::{self, NewUser, Role};
use switchboard::store::Store;

/// mimalloc serves the Rust heap: the message path builds and drops many small JSON
/// trees on several threads, and glibc's malloc spent about half of the server's samples
/// on them (docs/benchmarks.md, issue 13). SQLite keeps glibc's malloc, which the
/// `mallopt` and `malloc_trim` calls below still tune and trim.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "A contact-center appliance in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options every command that touches data takes.
#[derive(clap::Args, Clone)]
struct DataOpts {
    /// TOML configuration file (see packaging/switchboard.toml).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Data directory holding switchboard.db (default ./data).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the appliance.
    Serve {
        #[command(flatten)]
        data: DataOpts,
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Create or upgrade the database schema, then exit.
    Migrate {
        #[command(flatten)]
        data: DataOpts,
    },
    /// Manage users.
    User {
        #[command(flatten)]
        data: DataOpts,
        #[command(subcommand)]
        action: UserAction,
    },
    /// Write a consistent copy of the live database to FILE.
    Backup {
        #[command(flatten)]
        data: DataOpts,
        file: PathBuf,
    },
    /// Report the database size by table and the average bytes per conversation
    /// and per message (the appliance may be running).
    DbSize {
        #[command(flatten)]
        data: DataOpts,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Reports and history.
    Reports {
        #[command(flatten)]
        data: DataOpts,
        #[command(subcommand)]
        action: ReportsAction,
    },
    /// Remove the transcripts of conversations closed more than
    /// `retention.transcript_days` ago (or `--days`), and the input journal older than
    /// `retention.journal_days`, as the server does daily; the report aggregates stay.
    /// The server must be stopped.
    Purge {
        #[command(flatten)]
        data: DataOpts,
        /// Days to keep, instead of `retention.transcript_days` (at least 1).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        days: Option<u32>,
    },
    /// Staffing what-ifs: run the recorded arrivals of a period through the routing
    /// engine on a virtual clock with the site's configuration and with a change, and
    /// compare the per-queue figures (the database is only read; the site may run).
    Simulate {
        #[command(flatten)]
        data: DataOpts,
        #[command(flatten)]
        args: switchboard::simulate::cli::SimulateArgs,
    },
    /// Rebuild the routing engine from its input journal and check that it decides
    /// what was stored; prints the first divergence and exits 1 on one. With a
    /// changed rule (--accept-timeout, --queue/--step-timeout, --policy), shows the
    /// first decision the change alters. The database is only read; the site may run.
    Replay {
        #[command(flatten)]
        data: DataOpts,
        #[command(flatten)]
        args: switchboard::replay::cli::ReplayArgs,
    },
    /// Put backup FILE in place of the database of a stopped server (the replaced
    /// database is kept aside as switchboard.db.replaced-<time>).
    Restore {
        #[command(flatten)]
        data: DataOpts,
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum ReportsAction {
    /// Rebuild the report aggregates from the stored events (the server must be
    /// stopped).
    Rebuild,
}

#[derive(Subcommand)]
enum UserAction {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, default_value = "")]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
    },
    /// List users.
    List,
    /// Set a user's password from standard input (ends the user's sessions).
    Passwd {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| format!("unknown role `{s}` (agent, supervisor or admin)"))
}

fn load_config(data: &DataOpts, listen: Option<SocketAddr>) -> anyhow::Result<Config> {
    Ok(Config::load(
        data.config.as_deref(),
        std::env::vars(),
        &CliOverrides {
            data_dir: data.data_dir.clone(),
            listen,
        },
    )?)
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if !from_stdin {
        bail!("pass --password-stdin and write the password to standard input");
    }
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .context("reading the password from standard input")?;
    let password = buf.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

fn open_store(config: &Config) -> anyhow::Result<Store> {
    Store::open(&config.database_path(), &config.store)
        .with_context(|| format!("opening {}", config.database_path().display()))
}

/// Makes glibc serve large blocks (every password hash or check takes a 19 MiB argon2
/// block) from mmap, so they go back to the system when freed. By default glibc raises its
/// mmap threshold after the first such block is freed and keeps later ones in per-thread
/// arenas: eight concurrent logins left the process 270 MiB resident instead of 18 MiB
/// (docs/benchmarks-load.md).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_system() {
    use std::ffi::c_int;
    extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }
    const M_MMAP_THRESHOLD: c_int = -3;
    // SAFETY: mallopt only tunes the allocator; it runs before any other thread exists.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_system() {}

/// Hands memory freed so far back to the system. glibc keeps the freed pages of each
/// thread's arena resident: starting a site reads its whole state (every agent's saved
/// presence, open tasks and conversations) through short-lived allocations on several
/// threads, about 13 MiB for a site of 10,000 agents, and a burst of connections or traffic
/// leaves as much again (docs/benchmarks.md). Called after start, then every
/// [`RELEASE_INTERVAL`].
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_memory() {
    extern "C" {
        fn malloc_trim(pad: usize) -> std::ffi::c_int;
    }
    // SAFETY: malloc_trim only returns free pages of the allocator's arenas to the system.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}

/// How often the server looks whether a burst is over and its freed memory can go back to
/// the system. One pass walks the free chunks of every arena: about a millisecond with
/// 10,000 connections.
const RELEASE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Returns freed memory to the system at the end of every [`RELEASE_INTERVAL`] in which the
/// process used less than a quarter of a core: after a burst (connections, a reconnect
/// storm), not while the server is busy, whose freed memory is soon reused anyway.
fn keep_releasing_free_memory() -> std::io::Result<()> {
    /// Clock ticks per second of /proc/self/stat (USER_HZ, 100 on Linux).
    const TICKS_PER_SEC: u64 = 100;
    let quiet_ticks = RELEASE_INTERVAL.as_secs() * TICKS_PER_SEC / 4;
    std::thread::Builder::new()
        .name("release-memory".into())
        .spawn(move || {
            let mut last = cpu_ticks();
            loop {
                std::thread::sleep(RELEASE_INTERVAL);
                let now = cpu_ticks();
                let quiet =
                    matches!((last, now), (Some(a), Some(b)) if b.saturating_sub(a) < quiet_ticks);
                last = now;
                if quiet {
                    let started = std::time::Instant::now();
                    release_free_memory();
                    tracing::debug!(
                        took_us = started.elapsed().as_micros() as u64,
                        "free memory returned to the system"
                    );
                }
            }
        })?;
    Ok(())
}

/// CPU time (user and system) this process used so far, in clock ticks.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

fn main() -> std::process::ExitCode {
    return_large_blocks_to_the_system();
    match run(Cli::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchboard: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { data, listen } => {
            let config = load_config(&data, listen)?;
            switchboard::logging::init(&config.log);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(serve(config))
        }
        Command::Migrate { data } => {
            let config = load_config(&data, None)?;
            let store = open_store(&config)?;
            store.close();
            println!(
                "database {} is at schema version {}",
                config.database_path().display(),
                *switchboard::store::LATEST_SCHEMA_VERSION
            );
            Ok(())
        }
        Command::Backup { data, file } => {
            let config = load_config(&data, None)?;
            if file.exists() {
                bail!("{} already exists; choose a new file", file.display());
            }
            let store = open_store(&config)?;
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(store.backup(&file))?;
            store.close();
            println!("backup written to {}", file.display());
            Ok(())
        }
        Command::DbSize { data, json } => {
            let config = load_config(&data, None)?;
            let report = switchboard::store::size::report_at(&config.database_path())?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                println!("{report}");
            }
            Ok(())
        }
        Command::Restore { data, file } => {
            let config = load_config(&data, None)?;
            let done = switchboard::backup::restore::restore(&file, &config.data_dir)?;
            if let Some(aside) = &done.kept_aside {
                println!("the replaced database is kept as {}", aside.display());
            }
            println!(
                "restored {} (schema version {}) into {}; start the server to use it",
                file.display(),
                done.schema_version,
                config.data_dir.display()
            );
            Ok(())
        }
        Command::Reports {
            data,
            action: ReportsAction::Rebuild,
        } => {
            let config = load_config(&data, None)?;
            let _lock = switchboard::backup::DataDirLock::acquire(&config.data_dir)?;
            let store = open_store(&config)?;
            let settings = switchboard::reports::TallySettings::from_config(&config);
            let started = std::time::Instant::now();
            let done =
                store.write_blocking(move |c| switchboard::reports::rebuild::rebuild(c, &settings));
            store.close();
            let done = done?;
            println!(
                "report aggregates rebuilt from {} task-log rows and {} agent state changes in {:.1} s",
                done.task_log_rows,
                done.state_changes,
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Purge { data, days } => {
            let config = load_config(&data, None)?;
            let mut retention = config.retention.clone();
            if let Some(days) = days {
                retention.transcript_days = days;
            }
            if retention.transcript_days == 0 && retention.journal_days == 0 {
                bail!(
                    "transcripts and the journal are kept forever (retention.transcript_days = 0, retention.journal_days = 0); pass --days N"
                );
            }
            let _lock = switchboard::backup::DataDirLock::acquire(&config.data_dir)?;
            let store = open_store(&config)?;
            let started = std::time::Instant::now();
            let done = switchboard::retention::purge::run_blocking(&store, &retention, now_ms());
            store.close();
            let done = done?;
            let transcripts = match retention.transcript_days {
                0 => "transcripts kept forever".to_string(),
                days => format!(
                    "purged the transcripts of {} conversations ({} events) closed more than {days} days ago",
                    done.conversations, done.events
                ),
            };
            println!(
                "{transcripts}; {} input journal rows and {} shared objects no row referred to removed in {:.1} s",
                done.journal_rows,
                done.objects,
                started.elapsed().as_secs_f64(),
            );
            Ok(())
        }
        Command::Replay { data, args } => {
            let config = load_config(&data, None)?;
            // Exit 1: a divergence (printed); exit 2: the journal could not be replayed.
            match switchboard::replay::cli::run(&args, &config) {
                Ok(true) => Ok(()),
                Ok(false) => std::process::exit(1),
                Err(e) => {
                    eprintln!("error ({}): {e}", e.code());
                    std::process::exit(2)
                }
            }
        }
        Command::Simulate { data, args } => {
            let config = load_config(&data, None)?;
            switchboard::simulate::cli::run(args, &config)
        }
        Command::User { data, action } => {
            let config = load_config(&data, None)?;
            let store = open_store(&config)?;
            let result = user_command(&store, action);
            store.close();
            result
        }
    }
}

fn user_command(store: &Store, action: UserAction) -> anyhow::Result<()> {
    match action {
        UserAction::Add {
            username,
            role,
            password_stdin,
            first_name,
            last_name,
        } => {
            let password = read_password(password_stdin)?;
            let hash = users::hash_password(&password)?;
            let user = store.write_blocking(move |c| {
                users::create_user(
                    c,
                    NewUser {
                        username: username.clone(),
                        first_name: first_name.clone(),
                        last_name: last_name.clone(),
                        role,
                        team_id: None,
                        password_hash: hash.clone(),
                    },
                    now_ms(),
                )
            })?;
            println!("added {} ({}) id {}", user.username, user.role, user.id);
        }
        UserAction::List => {
            let list = store.read_blocking(users::list_users)?;
            for u in list {
                println!(
                    "{:<20} {:<10} {:<16} {}",
                    u.username,
                    u.role.as_str(),
                    u.team_name.unwrap_or_default(),
                    if u.disabled { "disabled" } else { "" }
                );
            }
        }
        UserAction::Passwd {
            username,
            password_stdin,
        } => {
            let password = read_password(password_stdin)?;
            let hash = users::hash_password(&password)?;
            let name = username.clone();
            store.write_blocking(move |c| users::set_password(c, &name, &hash))?;
            println!("password of {username} changed; its sessions were ended");
        }
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let running = switchboard::App::start(config).await?;
    release_free_memory();
    keep_releasing_free_memory()?;
    // Tools that start us on port 0 read the address from this line.
    println!("listening on {}://{}", running.scheme(), running.addr);
    if let Some(redirect) = running.redirect_addr {
        println!("redirecting http://{redirect} to https");
    }
    tokio::select! {
        signalled = wait_for_signal(&running) => {
            signalled?;
            tracing::info!("signal received; shutting down");
            running.shutdown().await;
            Ok(())
        }
        () = running.halted() => {
            // A non-zero exit, so the service manager starts it again (the unit's
            // Restart=on-failure) on what is stored.
            running.shutdown().await;
            anyhow::bail!(
                "the store refused a commit (see the error above); stopped so that a restart continues from what is stored"
            )
        }
    }
}

/// Waits for SIGTERM or SIGINT; SIGHUP meanwhile reloads the TLS certificate.
async fn wait_for_signal(running: &switchboard::Running) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => return Ok(()),
            _ = int.recv() => return Ok(()),
            _ = hup.recv() => match running.reload_tls() {
                Ok(true) => tracing::info!("SIGHUP: TLS certificate reloaded"),
                Ok(false) => tracing::info!("SIGHUP: no TLS configured; nothing to reload"),
                Err(e) => tracing::error!(code = e.code(), error = %e, "SIGHUP: TLS certificate not reloaded; the previous one stays in use"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cpu_ticks_of_this_process_are_read() {
        let before = super::cpu_ticks().expect("/proc/self/stat");
        let mut x = 0u64;
        for i in 0..50_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(super::cpu_ticks().unwrap() >= before);
    }
}
