//! `switchboard-load powercut`: the real appliance in this process on a simulated
//! disk (`switchboard::store::disk`), under live traffic from the connector, widgets
//! and a desk, with the power cut at a seeded I/O operation; each time it boots
//! again from what survived and audits it against everything acknowledged
//! (docs/durability.md). The same seed gives the same cut points and disk fates.

use crate::powercut_ledger::{audit, Totals};
use crate::powercut_traffic::{burst, Chain, CONNECTOR_SID, CONNECTOR_TOKEN};
use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use switchboard::config::Config;
use switchboard::store::disk::{Disk, Image, SimDisk};
use switchboard::{App, Running};

#[derive(clap::Args, Debug, Clone)]
pub struct PowercutArgs {
    /// Power cuts to make.
    #[arg(long, default_value_t = 100)]
    pub cuts: u64,
    /// Seed of the cut points, the traffic and the fate of unsynced writes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Connector messages per traffic burst.
    #[arg(long, default_value_t = 6)]
    pub burst: usize,
    /// Directory for the simulated disks' files (default: /dev/shm, else the temp dir).
    #[arg(long)]
    pub scratch: Option<PathBuf>,
    /// Test knob: the fsync thread answers before it syncs, so losses must be found.
    #[arg(long, hide = true)]
    pub ack_before_sync: bool,
}

#[derive(Debug, Serialize)]
pub struct PowercutReport {
    pub seed: u64,
    #[serde(flatten)]
    pub totals: Totals,
    pub boots: u64,
    pub seconds: f64,
}

impl PowercutReport {
    pub fn clean(&self) -> bool {
        self.totals.clean()
    }

    pub fn print(&self) {
        let t = &self.totals;
        println!(
            "seed {}: {} boots in {:.1} s",
            self.seed, self.boots, self.seconds
        );
        println!("cut points (thread operation file):");
        for (point, n) in &t.cut_points {
            println!("  {n:>6}  {point}");
        }
        println!(
            "sequence gaps {}, missing conversations/tasks/timers/outbox rows {}, integrity failures {}, failed boots {}",
            t.gaps, t.missing_state, t.integrity_failures, t.failed_boots
        );
        for note in &t.notes {
            println!("  {note}");
        }
        println!(
            "{} cuts, {} acknowledged, {} lost, {} duplicated",
            t.cuts, t.acknowledged, t.lost, t.duplicated
        );
    }
}

/// A chain starts over on an empty disk this often (1 in N cuts), so first boots
/// (creating the database) are cut too.
const FRESH_EVERY: u32 = 20;

/// Bursts of one boot before the harness cuts the power itself.
const MAX_BURSTS: u64 = 6;

pub async fn run(args: &PowercutArgs) -> anyhow::Result<PowercutReport> {
    let started = Instant::now();
    let scratch = scratch_dir(args)?;
    let result = cuts(args, &scratch).await;
    let _ = std::fs::remove_dir_all(&scratch);
    let (totals, boots) = result?;
    Ok(PowercutReport {
        seed: args.seed,
        totals,
        boots,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn scratch_dir(args: &PowercutArgs) -> anyhow::Result<PathBuf> {
    let base = match &args.scratch {
        Some(dir) => dir.clone(),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
        None => std::env::temp_dir(),
    };
    let dir = base.join(format!(
        "switchboard-powercut-{}-{}",
        std::process::id(),
        args.seed
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

async fn cuts(args: &PowercutArgs, scratch: &Path) -> anyhow::Result<(Totals, u64)> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()?;
    let mut totals = Totals::default();
    let mut image = Image::new();
    let mut chain = Chain::new(0);
    let mut acknowledged = 0u64;
    // Operations a burst usually takes; cut points are drawn below it.
    let mut window = 400u64;
    let mut boots = 0u64;
    let mut cut = 0u64;
    while cut <= args.cuts {
        let last = cut == args.cuts;
        if !last && cut > 0 && rng.gen_ratio(1, FRESH_EVERY) {
            acknowledged += chain.ledger.messages.len() as u64;
            image = Image::new();
            chain = Chain::new(cut);
        }
        let root = scratch.join(format!("boot-{boots}"));
        boots += 1;
        let disk = SimDisk::boot(&root, &image, u64::MAX, args.ack_before_sync)?;
        // One cut in ten lands while the appliance boots (on the same image again).
        let during_boot = !last && rng.gen_ratio(1, 10);
        let boot_cut = rng.gen_range(1..=window.max(2));
        if during_boot {
            disk.set_cut_at(boot_cut);
        }
        let running = App::start_on(config(&root), Disk::Sim(disk.clone())).await;
        let running = match running {
            Ok(r) => r,
            Err(e) if disk.is_cut() => {
                let _ = e;
                cut += 1;
                totals.cuts += 1;
                record_cut(&mut totals, &disk);
                image = disk.survivor(rng.gen());
                let _ = std::fs::remove_dir_all(&root);
                continue;
            }
            Err(e) => {
                totals.failed_boots += 1;
                totals
                    .notes
                    .push(format!("boot {boots} failed without a cut: {e}"));
                // Start over on an empty disk: this image cannot be audited.
                acknowledged += chain.ledger.messages.len() as u64;
                image = Image::new();
                // A failed boot is a finding, not a cut: the run still makes N cuts.
                chain = Chain::new(cut + 1_000_000 * totals.failed_boots);
                continue;
            }
        };
        if !disk.is_cut() {
            let findings = audit(&running.store, &chain.ledger).await;
            match findings {
                Ok(f) => {
                    totals.add(&f);
                    chain.ledger.forget_lost(&f);
                }
                Err(_) if disk.is_cut() => {}
                Err(e) => totals
                    .notes
                    .push(format!("boot {boots}: audit failed: {e}")),
            }
        }
        if last {
            running.shutdown().await;
            break;
        }
        if !disk.is_cut() {
            prepare(&running, &mut chain).await;
            let start = disk.ops();
            // Anywhere in the first three bursts (on average after one and a half).
            disk.set_cut_at(start + rng.gen_range(1..=3 * window));
            let mut bursts = 0;
            while !disk.is_cut() {
                burst(running.addr, &http, &mut chain, &mut rng, args.burst).await;
                bursts += 1;
                if bursts == MAX_BURSTS && !disk.is_cut() {
                    disk.cut_now();
                }
            }
            // Follow what a burst costs, so cuts spread over the whole of one.
            let used = disk.ops().saturating_sub(start) / bursts;
            window = ((window * 3 + used.max(50)) / 4).clamp(50, 20_000);
        }
        cut += 1;
        totals.cuts += 1;
        if cut.is_multiple_of(500) {
            eprintln!(
                "powercut: {cut} cuts, {} lost, {} duplicated, {} other findings",
                totals.lost,
                totals.duplicated,
                totals.gaps
                    + totals.missing_state
                    + totals.integrity_failures
                    + totals.failed_boots
            );
        }
        record_cut(&mut totals, &disk);
        stop(running).await;
        image = disk.survivor(rng.gen());
        let _ = std::fs::remove_dir_all(&root);
    }
    totals.acknowledged = acknowledged + chain.ledger.messages.len() as u64 + totals.lost;
    Ok((totals, boots))
}

fn record_cut(totals: &mut Totals, disk: &SimDisk) {
    if let Some(p) = disk.cut_point() {
        let file = match p.file.as_str() {
            f if f.ends_with("-wal") => "wal",
            f if f.ends_with(".db") => "db",
            "" => "dir",
            _ => "other",
        };
        let restart = if p.at_start && file == "wal" {
            " (header)"
        } else {
            ""
        };
        *totals
            .cut_points
            .entry(format!("{} {:?} {file}{restart}", p.thread, p.op))
            .or_default() += 1;
    }
}

/// Once per chain: the connector channel with a webhook, and the desk's login.
async fn prepare(running: &Running, chain: &mut Chain) {
    if chain.agent_token.is_none() {
        let _ = create_connector_channel(running).await;
        let http = reqwest::Client::new();
        let login = http
            .post(format!("http://{}/api/v1/auth/login", running.addr))
            .json(&serde_json::json!({"username": "agent1", "password": "agent1"}))
            .send()
            .await;
        if let Ok(resp) = login {
            if let Ok(body) = resp.json::<serde_json::Value>().await {
                chain.agent_token = body["token"].as_str().map(str::to_owned);
            }
        }
    }
}

async fn create_connector_channel(running: &Running) -> anyhow::Result<()> {
    use switchboard::store::directory::{self, NewChannel};
    running
        .store
        .write(|c| {
            let exists: i64 = c.query_row(
                "SELECT COUNT(*) FROM channels WHERE service_identifier = ?1",
                [CONNECTOR_SID],
                |r| r.get(0),
            )?;
            if exists > 0 {
                return Ok(());
            }
            let mrd = directory::list_mrds(c)?
                .into_iter()
                .find(|m| m.name == "CHAT");
            let queue = directory::list_queues(c)?
                .into_iter()
                .find(|q| q.name == "Default");
            let (Some(mrd), Some(queue)) = (mrd, queue) else {
                return Ok(());
            };
            let type_id = directory::create_channel_type(c, "POWERCUT", "_POWERCUT.svg", &mrd.id)?;
            directory::create_channel(
                c,
                &NewChannel {
                    name: "powercut connector",
                    service_identifier: CONNECTOR_SID,
                    channel_type_id: &type_id,
                    // Nothing listens there: replies stay in the outbox, retried.
                    provider_webhook: "http://127.0.0.1:9/powercut",
                    channel_config: directory::push_channel_config(&queue.id, false),
                },
                switchboard::clock::now_ms(),
            )?;
            let digest = switchboard::store::users::token_digest(CONNECTOR_TOKEN);
            c.execute(
                "UPDATE channels SET connector_token_hash = ?2 WHERE service_identifier = ?1",
                [CONNECTOR_SID, digest.as_str()],
            )?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// Stops a boot whose power is gone; its threads only meet failing I/O by now.
async fn stop(running: Running) {
    if tokio::time::timeout(Duration::from_secs(10), running.shutdown())
        .await
        .is_err()
    {
        eprintln!("powercut: a cut appliance did not stop within 10 s; left behind");
    }
}

fn config(root: &Path) -> Config {
    let mut config = Config {
        data_dir: root.to_path_buf(),
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        demo: Some(true),
        ..Config::default()
    };
    config.http.workers = 1;
    config.http.shutdown_timeout_secs = 1;
    config.store.read_connections = 2;
    config
}
