//! `switchboard-load history`: writes a year (or `--days`) of realistic history
//! straight into a stopped server's data directory, fast, through the store's own
//! row functions (`switchboard::store::...`) so rows are in whatever format the store
//! writes, and the report aggregates through the functions the live writes use
//! (`reports::keep`). Spread over agents in teams and shifts, queues, the hours of the
//! day, with waits, handles, abandons, RONAs, transfers, wrap-ups, CSAT, agent state
//! spans (ready, breaks, logout) and ~20 events per conversation with message text
//! for the full-text index. Worker threads build the conversations (`history_chat`)
//! while the store's writer stores them, one write transaction per `--batch`.
//! The agents' CHAT MRD follows their chats (ACTIVE from answer to close), so the
//! timeline and occupancy have data. What is not generated: open conversations.

#[path = "history_shapes.rs"]
mod shapes;

#[path = "history_chat.rs"]
mod chat;

#[path = "history_events.rs"]
mod events;

use anyhow::Context;
use chat::{Built, Plan};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use serde_json::Value;
use shapes::Templates;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use switchboard::live::facts::LiveEvent;
use switchboard::reports::tally::ClosedAnswered;
use switchboard::reports::{keep, TallySettings};
use switchboard::store::agent_states::{self, StateRow};
use switchboard::store::objects::Interner;
use switchboard::store::{customers, directory, users, Store, StoreResult};

#[derive(clap::Args)]
pub struct HistoryArgs {
    /// Data directory of a stopped server (created when missing, with the demo site).
    #[arg(long)]
    data_dir: PathBuf,
    /// Conversations in all.
    #[arg(long, default_value_t = 1_000_000)]
    conversations: u64,
    /// Days of history, ending now.
    #[arg(long, default_value_t = 365)]
    days: u32,
    /// Days at the start of those not generated: the data directory holds them
    /// already (a run with the same `--conversations` and `--days` stopped after
    /// them, on the same UTC day), and this run adds the days after them.
    #[arg(long, default_value_t = 0)]
    skip_days: u32,
    /// Agents (in teams of 10, on three shifts).
    #[arg(long, default_value_t = 120)]
    agents: usize,
    /// Queues besides the demo site's.
    #[arg(long, default_value_t = 7)]
    queues: usize,
    /// Conversations per write transaction (and per piece of work of a builder thread).
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Threads building the conversations' JSON while the store writes (default: the
    /// machine's cores).
    #[arg(long)]
    workers: Option<usize>,
    #[arg(long, default_value_t = 16)]
    seed: u64,
}

/// What the site the history runs on holds.
pub(super) struct Site {
    channel_id: String,
    /// The CHAT MRD, whose states the agents' tasks drive.
    mrd_id: String,
    queues: Vec<(String, String)>,
    /// (id, username) by shift.
    shifts: [Vec<(String, String)>; 3],
    wrapups: Vec<(String, String)>,
}

/// The writer's page cache during the load (KiB).
const BULK_CACHE_KIB: i64 = 1 << 20;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
/// Shift starts (hours after midnight UTC); each lasts 8 hours.
const SHIFT_STARTS: [i64; 3] = [6, 10, 14];
/// Relative chat volume per hour of the day.
const HOURLY: [u32; 24] = [
    1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 15, 15, 14, 14, 15, 14, 12, 10, 8, 6, 5, 3, 2, 1,
];

pub fn run(args: HistoryArgs) -> anyhow::Result<()> {
    let _lock = switchboard::backup::DataDirLock::acquire(&args.data_dir)?;
    let path = args.data_dir.join("switchboard.db");
    // A bulk load into a stopped data directory: commits are not fsynced (WAL with
    // `synchronous = NORMAL`: a crash of the machine may lose the last batches, never
    // make the file inconsistent), and the writer keeps a big page cache so the
    // indexes' pages stay in memory as the file grows. The server opens the result
    // with its own settings.
    let cfg = switchboard::config::StoreConfig {
        synchronous: switchboard::config::Synchronous::Normal,
        ..Default::default()
    };
    let store = Store::open(&path, &cfg).with_context(|| format!("opening {}", path.display()))?;
    store.write_blocking(|c| Ok(c.pragma_update(None, "cache_size", -BULK_CACHE_KIB)?))?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(switchboard::store::demo::seed_if_empty(&store))?;
    let (agents, queues) = (args.agents.max(3), args.queues);
    let hash = users::hash_password("agent")?;
    let site = store.write_blocking(move |c| site(c, agents, queues, &hash))?;
    let site = Arc::new(site);
    let templates = Templates::load();
    let started = Instant::now();
    let now = switchboard::clock::now_ms();
    let first_day = (now / DAY - i64::from(args.days)) * DAY;
    let per_day = args.conversations / u64::from(args.days.max(1));
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let mut rng = StdRng::seed_from_u64(args.seed.wrapping_add(u64::from(args.skip_days)));
    let of_day = |day: i64| {
        per_day + u64::from((day as u64) < args.conversations % u64::from(args.days.max(1)))
    };
    // Visitors are numbered on from those of the days skipped, as one run would.
    let skipped = (0..i64::from(args.skip_days.min(args.days)))
        .map(of_day)
        .sum::<u64>();
    let mut written = skipped;
    for day in i64::from(args.skip_days)..i64::from(args.days) {
        let midnight = first_day + day * DAY;
        let mut starts: Vec<i64> = (0..of_day(day))
            .map(|_| midnight + hour_of_day(&mut rng) * HOUR + rng.gen_range(0..HOUR))
            .collect();
        starts.sort_unstable();
        let plans: Vec<Plan> = starts
            .iter()
            .enumerate()
            .map(|(i, &start)| {
                let n = written + i as u64;
                // A third of the customers come back.
                let visitor = if n > 10 && rng.gen_range(0..3) == 0 {
                    rng.gen_range(0..n)
                } else {
                    n
                };
                let seed = rng.gen();
                Plan {
                    start,
                    visitor,
                    seed,
                }
            })
            .collect();
        let plans = Arc::new(plans);
        let p = plans.clone();
        let customers = store.write_blocking(move |c| customers_of(c, &p))?;
        let s = site.clone();
        let seed = rng.gen();
        let shifts = store.write_blocking(move |c| agent_day(c, &s, midnight, seed))?;
        let day_plans = DayPlans {
            site: &site,
            templates: &templates,
            customers: &customers,
            plans: &plans,
        };
        let busy = day_plans.write(&store, args.batch.max(1), workers.max(1))?;
        written += plans.len() as u64;
        let s = site.clone();
        store.write_blocking(move |c| mrd_day(c, &s, &shifts, &busy))?;
        if day % 10 == 9 || day + 1 == i64::from(args.days) {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "day {}/{}: {} conversations in {secs:.0} s ({:.0}/s)",
                day + 1,
                args.days,
                written - skipped,
                (written - skipped) as f64 / secs
            );
        }
    }
    store.close();
    println!(
        "wrote {} conversations over days {}-{} into {} in {:.0} s",
        written - skipped,
        args.skip_days.min(args.days) + 1,
        args.days,
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Each visitor of `plans`, found or created (at their first chat) through the store.
fn customers_of(c: &Connection, plans: &[Plan]) -> StoreResult<HashMap<u64, Value>> {
    let mut found = HashMap::new();
    for plan in plans {
        if let Entry::Vacant(slot) = found.entry(plan.visitor) {
            let (identifier, first_name) = chat::visitor_names(plan.visitor);
            let customer =
                customers::find_or_create(c, "WEB", &identifier, Some(&first_name), plan.start)?;
            slot.insert(customer);
        }
    }
    Ok(found)
}

/// A day's chats, with what building them needs.
struct DayPlans<'a> {
    site: &'a Arc<Site>,
    templates: &'a Templates,
    customers: &'a HashMap<u64, Value>,
    plans: &'a [Plan],
}

impl DayPlans<'_> {
    /// Builds the chats in `batch`es on `workers` threads while the store's writer
    /// stores the batches built, in order, one transaction each (the aggregates of a
    /// batch folded in memory and written once). Returns the agents' busy times.
    fn write(
        &self,
        store: &Store,
        batch: usize,
        workers: usize,
    ) -> anyhow::Result<Vec<(String, i64, i64)>> {
        let chunks: Vec<&[Plan]> = self.plans.chunks(batch).collect();
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Vec<Built>)>(workers);
            for _ in 0..workers {
                let (tx, next, chunks) = (tx.clone(), &next, &chunks);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(i) else { break };
                    let built = chunk
                        .iter()
                        .map(|plan| {
                            let customer = &self.customers[&plan.visitor];
                            chat::build(self.site, self.templates, customer, plan)
                        })
                        .collect();
                    if tx.send((i, built)).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            let (mut pending, mut due, mut busy) = (BTreeMap::new(), 0, Vec::new());
            for (i, built) in rx {
                pending.insert(i, built);
                while let Some(built) = pending.remove(&due) {
                    busy.extend(built.iter().filter_map(|b| b.busy.clone()));
                    let built = Arc::new(built);
                    store.write_blocking(move |c| {
                        let mut interner = Interner::default();
                        for b in built.iter() {
                            chat::write(c, &mut interner, b)?;
                        }
                        let log: Vec<LiveEvent> =
                            built.iter().flat_map(|b| b.log.iter().cloned()).collect();
                        let by_conversation: HashMap<&str, &Built> =
                            built.iter().map(|b| (b.conversation_id(), b)).collect();
                        let known = |closed: &ClosedAnswered| {
                            by_conversation
                                .get(closed.conversation_id.as_str())?
                                .found(closed)
                        };
                        keep::task_rows_with(c, &log, &TallySettings::default(), &known)
                    })?;
                    due += 1;
                }
            }
            Ok(busy)
        })
    }
}

fn hour_of_day(rng: &mut StdRng) -> i64 {
    let total: u32 = HOURLY.iter().sum();
    let mut pick = rng.gen_range(0..total);
    for (hour, weight) in HOURLY.iter().enumerate() {
        if pick < *weight {
            return hour as i64;
        }
        pick -= weight;
    }
    12
}

/// The site: the demo site's web channel and queue, `queues` more, and `agents`
/// agents in teams of ten on three shifts (created once; a second run reuses them).
fn site(c: &Connection, agents: usize, queues: usize, hash: &str) -> StoreResult<Site> {
    let one = |sql: &str| c.query_row(sql, [], |r| r.get::<_, String>(0));
    let mrd = one("SELECT id FROM mrds WHERE name = 'CHAT'")?;
    let channel_id = one("SELECT id FROM channels WHERE service_identifier = '1122'")?;
    let now = switchboard::clock::now_ms();
    let made: i64 = c.query_row(
        "SELECT COUNT(*) FROM users WHERE username LIKE 'hist-agent-%'",
        [],
        |r| r.get(0),
    )?;
    if made == 0 {
        for q in 0..queues {
            let row = directory::QueueRow {
                id: uuid::Uuid::new_v4().to_string(),
                name: format!("History queue {}", q + 1),
                mrd_id: mrd.clone(),
                priority: 1,
                accept_timeout_secs: None,
                agent_sla_secs: 120,
                service_level_secs: 30,
                steps: Vec::new(),
            };
            directory::create_queue(c, &row, now)?;
        }
        let mut team = None;
        for a in 0..agents {
            if a % 10 == 0 {
                team = Some(users::create_team(
                    c,
                    &format!("History team {}", a / 10 + 1),
                    now,
                )?);
            }
            let user = users::create_user(
                c,
                users::NewUser {
                    username: format!("hist-agent-{:04}", a + 1),
                    first_name: format!("Agent{}", a + 1),
                    last_name: "History".into(),
                    role: users::Role::Agent,
                    team_id: team.as_ref().map(|t| t.team_id.clone()),
                    password_hash: hash.to_string(),
                },
                now,
            )?;
            directory::set_agent_capacity(c, &user.id, &mrd, 5)?;
        }
    }
    let rows = |sql: &str| -> StoreResult<Vec<(String, String)>> {
        let mut st = c.prepare(sql)?;
        let found = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        Ok(found)
    };
    let all_agents = rows(
        "SELECT id, username FROM users WHERE username LIKE 'hist-agent-%' ORDER BY username",
    )?;
    let mut shifts: [Vec<(String, String)>; 3] = Default::default();
    for (i, agent) in all_agents.into_iter().enumerate() {
        shifts[i % 3].push(agent);
    }
    Ok(Site {
        mrd_id: mrd,
        channel_id,
        queues: rows("SELECT id, name FROM queues ORDER BY name")?,
        shifts,
        wrapups: rows("SELECT category, value FROM wrapup_codes ORDER BY category, value")?,
    })
}

/// Each agent's day: ready at the start of the shift, a break, lunch, logout.
/// Returns each agent's (id, login, logout).
fn agent_day(
    c: &Connection,
    site: &Site,
    midnight: i64,
    seed: u64,
) -> StoreResult<Vec<(String, i64, i64)>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut shifts = Vec::new();
    for (shift, agents) in site.shifts.iter().enumerate() {
        for (id, _) in agents {
            let start = midnight + SHIFT_STARTS[shift] * HOUR + rng.gen_range(-600_000..600_000);
            shifts.push((id.clone(), start, start + 8 * HOUR));
            let changes = [
                (0, "READY", None),
                (2 * HOUR, "NOT_READY", Some("Break")),
                (2 * HOUR + 15 * 60_000, "READY", None),
                (4 * HOUR, "NOT_READY", Some("Lunch")),
                (4 * HOUR + 30 * 60_000, "READY", None),
                (8 * HOUR, "LOGOUT", Some("End of shift")),
            ];
            for (after, state, reason) in changes {
                let row = StateRow {
                    user_id: id.clone(),
                    mrd_id: None,
                    state: state.into(),
                    reason_code: reason.map(str::to_string),
                    changed_at: start + after,
                };
                agent_states::record(c, &row)?;
                keep::agent_state(c, &row)?;
            }
        }
    }
    Ok(shifts)
}

/// Each agent's CHAT MRD over the day, as the server records it: READY at login,
/// ACTIVE while at least one of the agent's chats is open (from answer to close,
/// overlapping chats merged), READY between them, NOT_READY at logout (or when the
/// last chat closes after it). These drive the agent timeline and occupancy.
fn mrd_day(
    c: &Connection,
    site: &Site,
    shifts: &[(String, i64, i64)],
    busy: &[(String, i64, i64)],
) -> StoreResult<()> {
    let mut by_agent: std::collections::HashMap<&str, Vec<(i64, i64)>> = Default::default();
    for (agent, from, to) in busy {
        by_agent.entry(agent).or_default().push((*from, *to));
    }
    for (agent, login, logout) in shifts {
        let (login, logout) = (*login, *logout);
        let mut chats = by_agent.remove(agent.as_str()).unwrap_or_default();
        chats.sort_unstable();
        let mut spans: Vec<(i64, i64)> = Vec::new();
        for (from, to) in chats {
            let from = from.max(login);
            let to = to.max(from);
            match spans.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => spans.push((from, to)),
            }
        }
        let mut changes = vec![(login, "READY")];
        for (from, to) in &spans {
            changes.push((*from, "ACTIVE"));
            changes.push((*to, "READY"));
        }
        let last = spans.last().map_or(login, |s| s.1);
        changes.push((logout.max(last), "NOT_READY"));
        for (at, state) in changes {
            let row = StateRow {
                user_id: agent.clone(),
                mrd_id: Some(site.mrd_id.clone()),
                state: state.into(),
                reason_code: None,
                changed_at: at,
            };
            agent_states::record(c, &row)?;
            keep::agent_state(c, &row)?;
        }
    }
    Ok(())
}

/// The agents on shift at `at`.
pub(super) fn on_shift(site: &Site, at: i64) -> Vec<&(String, String)> {
    let hour = (at % DAY) / HOUR;
    site.shifts
        .iter()
        .zip(SHIFT_STARTS)
        .filter(|(_, start)| hour >= *start && hour < start + 8)
        .flat_map(|(agents, _)| agents.iter())
        .collect()
}
