//! `switchboard-load history`: writes a year (or `--days`) of realistic history
//! straight into a stopped server's data directory, fast, through the store's own
//! row functions (`switchboard::store::...`) so rows are in whatever format the store
//! writes, and the report aggregates through the functions the live writes use
//! (`reports::keep`). Spread over agents in teams and shifts, queues, the hours of the
//! day, with waits, handles, abandons, RONAs, transfers, wrap-ups, CSAT, agent state
//! spans (ready, breaks, logout) and ~20 events per conversation with message text
//! for the full-text index. One write transaction per `--batch` conversations.
//! What is not generated: MRD states (so occupancy reads 0), open conversations.

#[path = "history_shapes.rs"]
mod shapes;

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::Connection;
use serde_json::{json, Value};
use shapes::{Chat, Templates, WORDS};
use std::path::PathBuf;
use std::time::Instant;
use switchboard::live::facts::{Fact, LiveEvent, TaskFacts};
use switchboard::reports::{keep, TallySettings};
use switchboard::store::agent_states::{self, StateRow};
use switchboard::store::conversations::{self, ChannelSessionRow, ConversationRow};
use switchboard::store::events::{self, EventRow};
use switchboard::store::objects::Interner;
use switchboard::store::{csat, customers, directory, tasks, users, Store, StoreResult};

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
    /// Agents (in teams of 10, on three shifts).
    #[arg(long, default_value_t = 120)]
    agents: usize,
    /// Queues besides the demo site's.
    #[arg(long, default_value_t = 7)]
    queues: usize,
    /// Conversations per write transaction.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    #[arg(long, default_value_t = 16)]
    seed: u64,
}

/// What the site the history runs on holds.
struct Site {
    channel_id: String,
    queues: Vec<(String, String)>,
    /// (id, username) by shift.
    shifts: [Vec<(String, String)>; 3],
    wrapups: Vec<(String, String)>,
}

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
    let store = Store::open(&path, &Default::default())
        .with_context(|| format!("opening {}", path.display()))?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(switchboard::store::demo::seed_if_empty(&store))?;
    let (agents, queues) = (args.agents.max(3), args.queues);
    let hash = users::hash_password("agent")?;
    let site = store.write_blocking(move |c| site(c, agents, queues, &hash))?;
    let site = std::sync::Arc::new(site);
    let templates = std::sync::Arc::new(Templates::load());
    let started = Instant::now();
    let now = switchboard::clock::now_ms();
    let first_day = (now / DAY - i64::from(args.days)) * DAY;
    let per_day = args.conversations / u64::from(args.days.max(1));
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut written = 0u64;
    for day in 0..i64::from(args.days) {
        let midnight = first_day + day * DAY;
        let extra = u64::from((day as u64) < args.conversations % u64::from(args.days.max(1)));
        let mut starts: Vec<i64> = (0..per_day + extra)
            .map(|_| midnight + hour_of_day(&mut rng) * HOUR + rng.gen_range(0..HOUR))
            .collect();
        starts.sort_unstable();
        let s = site.clone();
        let seed = rng.gen();
        store.write_blocking(move |c| agent_day(c, &s, midnight, seed))?;
        for chunk in starts.chunks(args.batch.max(1)) {
            let (s, t, count) = (site.clone(), templates.clone(), chunk.len() as u64);
            let chunk = chunk.to_vec();
            let seed = rng.gen();
            let base = written;
            store.write_blocking(move |c| {
                let mut rng = StdRng::seed_from_u64(seed);
                for (i, start) in chunk.iter().enumerate() {
                    conversation(c, &s, &t, &mut rng, base + i as u64, *start)?;
                }
                Ok(())
            })?;
            written += count;
        }
        if day % 10 == 9 || day + 1 == i64::from(args.days) {
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "day {}/{}: {written} conversations in {secs:.0} s ({:.0}/s)",
                day + 1,
                args.days,
                written as f64 / secs
            );
        }
    }
    store.close();
    println!(
        "wrote {written} conversations over {} days into {} in {:.0} s",
        args.days,
        path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
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
        channel_id,
        queues: rows("SELECT id, name FROM queues ORDER BY name")?,
        shifts,
        wrapups: rows("SELECT category, value FROM wrapup_codes ORDER BY category, value")?,
    })
}

/// Each agent's day: ready at the start of the shift, a break, lunch, logout.
fn agent_day(c: &Connection, site: &Site, midnight: i64, seed: u64) -> StoreResult<()> {
    let mut rng = StdRng::seed_from_u64(seed);
    for (shift, agents) in site.shifts.iter().enumerate() {
        for (id, _) in agents {
            let start = midnight + SHIFT_STARTS[shift] * HOUR + rng.gen_range(-600_000..600_000);
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
    Ok(())
}

/// The agents on shift at `at`.
fn on_shift(site: &Site, at: i64) -> Vec<&(String, String)> {
    let hour = (at % DAY) / HOUR;
    site.shifts
        .iter()
        .zip(SHIFT_STARTS)
        .filter(|(_, start)| hour >= *start && hour < start + 8)
        .flat_map(|(agents, _)| agents.iter())
        .collect()
}

/// How one task goes.
enum Outcome {
    Abandoned,
    Handled { rona: bool, transfer: bool },
}

/// Writes one closed conversation starting at `start`, as the server would have.
fn conversation(
    c: &Connection,
    site: &Site,
    t: &Templates,
    rng: &mut StdRng,
    n: u64,
    start: i64,
) -> StoreResult<()> {
    let staff = on_shift(site, start);
    let roll = rng.gen_range(0..100);
    let outcome = if staff.is_empty() || roll < 8 {
        Outcome::Abandoned
    } else {
        Outcome::Handled {
            rona: roll < 11,
            transfer: (11..15).contains(&roll),
        }
    };
    // A third of the customers come back.
    let visitor = if n > 10 && rng.gen_range(0..3) == 0 {
        rng.gen_range(0..n)
    } else {
        n
    };
    let identifier = format!("visitor-{visitor}");
    let first_name = format!("Customer{visitor}");
    let customer = customers::find_or_create(c, "WEB", &identifier, Some(&first_name), start)?;
    let customer_id = customer["_id"].as_str().unwrap_or_default().to_string();
    let conversation_id = uuid::Uuid::new_v4().to_string();
    let session_id = uuid::Uuid::new_v4().to_string();
    let task_id = uuid::Uuid::new_v4().to_string();
    let queue = &site.queues[rng.gen_range(0..site.queues.len())];
    let agent = staff
        .get(rng.gen_range(0..staff.len().max(1)))
        .map(|(id, name)| (id.as_str(), name.as_str()));
    let chat = Chat {
        conversation_id: &conversation_id,
        session_id: &session_id,
        task_id: &task_id,
        customer: &customer,
        identifier: &identifier,
        first_name: &first_name,
        queue: (&queue.0, &queue.1),
        agent: match outcome {
            Outcome::Abandoned => None,
            Outcome::Handled { .. } => agent,
        },
        start,
    };
    let session = t.session(&chat);
    let mut interner = Interner::default();
    let mut log = Vec::new();
    let mut events: Vec<Value> = vec![
        t.notification(&chat, &session, "CHANNEL_SESSION_STARTED", start),
        t.notification(&chat, &session, "CONVERSATION_STARTED", start + 5),
        t.notification(&chat, &session, "TASK_ENQUEUED", start + 10),
    ];
    let wait = 2_000 + rng.gen_range(0..90_000i64);
    let facts =
        |state: &str, media: &str, reason: Option<&str>, agent: Option<&str>, answer: i64| {
            TaskFacts {
                id: task_id.clone(),
                state: state.into(),
                reason: reason.map(str::to_string),
                assigned_to: agent.map(str::to_string),
                queue_id: queue.0.clone(),
                queue_name: queue.1.clone(),
                direction: "INBOUND".into(),
                media_state: media.into(),
                enqueue_time: start,
                answer_time: answer,
                customer_name: Some(first_name.clone()),
                channel_name: Some("web".into()),
            }
        };
    let at = |at: i64, fact: Fact| LiveEvent {
        conversation_id: conversation_id.clone(),
        at,
        fact,
    };
    log.push(at(
        start,
        Fact::Enqueued(facts("CREATED", "QUEUED", None, None, 0)),
    ));
    let end;
    let mut agent_id = None;
    match (outcome, chat.agent) {
        (Outcome::Handled { rona, transfer }, Some((aid, _))) => {
            agent_id = Some(aid);
            let mut offered = start + wait - 2_000;
            if rona {
                let other = staff[rng.gen_range(0..staff.len())].0.as_str();
                let task = facts("CREATED", "RESERVED", None, Some(other), 0);
                log.push(at(
                    offered - 30_000,
                    Fact::Reserved {
                        agent_id: other.into(),
                        task,
                    },
                ));
                let back = facts("CREATED", "QUEUED", Some("RONA"), None, 0);
                log.push(at(offered - 1_000, Fact::Enqueued(back)));
                offered += 1;
            }
            let task = facts("CREATED", "RESERVED", None, Some(aid), 0);
            log.push(at(
                offered,
                Fact::Reserved {
                    agent_id: aid.into(),
                    task,
                },
            ));
            let answer = start + wait;
            log.push(at(
                answer,
                Fact::Changed(facts("ACTIVE", "ACTIVE", None, Some(aid), answer)),
            ));
            events.push(t.notification(&chat, &session, "AGENT_RESERVED", offered));
            events.push(t.agent_event(&chat, "AGENT_SUBSCRIBED", answer));
            let messages = rng.gen_range(8..17);
            let mut when = answer;
            for m in 0..messages {
                when += rng.gen_range(5_000..60_000);
                let words: Vec<&str> = (0..rng.gen_range(4..14))
                    .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
                    .collect();
                let body = json!({"type": "PLAIN", "markdownText": words.join(" ")});
                events.push(t.message(&chat, &session, m % 2 == 1, body, when));
            }
            let left = when + rng.gen_range(5_000..30_000);
            events.push(t.agent_event(&chat, "AGENT_UNSUBSCRIBED", left));
            let (category, value) = &site.wrapups[rng.gen_range(0..site.wrapups.len())];
            let wrapup = json!({"type": "WRAPUP", "note": "", "wrapups": [{"categoryName": category, "value": value}]});
            let closed = left + rng.gen_range(3_000..40_000);
            events.push(t.message(&chat, &session, true, wrapup, closed - 1));
            log.push(at(
                left,
                Fact::Changed(facts("WRAP_UP", "ACTIVE", None, Some(aid), answer)),
            ));
            let reason = transfer.then_some("TRANSFERRED");
            log.push(at(
                closed,
                Fact::Changed(facts("CLOSED", "CLOSED", reason, Some(aid), answer)),
            ));
            end = closed;
        }
        _ => {
            end = start + wait;
            log.push(at(
                end,
                Fact::Changed(facts("CLOSED", "CLOSED", Some("CANCELLED"), None, 0)),
            ));
        }
    }
    // Written in the order the foreign keys need.
    let snapshot = t.conversation(&chat, &session, end);
    conversations::upsert(
        c,
        &ConversationRow {
            id: &conversation_id,
            customer_id: &customer_id,
            room_id: &conversation_id,
            state: "CLOSED",
            direction: "INBOUND",
            queue_id: Some(&queue.0),
            last_agent_id: agent_id,
            data: "[]".into(),
            metadata: "{}".into(),
            timers: "{}".into(),
            snapshot: interner.compact(c, snapshot)?,
            creation_time: start,
            end_time: Some(end),
            last_seq: 0,
        },
        end,
    )?;
    conversations::upsert_channel_session(
        c,
        &ChannelSessionRow {
            id: &session_id,
            conversation_id: &conversation_id,
            channel_id: &site.channel_id,
            customer_id: &customer_id,
            state: "CLOSED",
            reason_code: None,
            session: interner.compact_whole(c, session.clone())?,
            started_at: start,
            ended_at: Some(end),
        },
    )?;
    events.push(t.notification(&chat, &session, "TASK_STATE_CHANGED", end));
    events.push(t.notification(&chat, &session, "CHANNEL_SESSION_ENDED", end + 5));
    for (seq, event) in events.into_iter().enumerate() {
        let id = event["id"].as_str().unwrap_or_default().to_string();
        let name = event["name"].as_str().unwrap_or_default().to_string();
        let kind = event["type"].as_str().unwrap_or("NOTIFICATION").to_string();
        let timestamp = event["timestamp"].as_i64().unwrap_or(start);
        let message_id = event["data"]["id"]
            .as_str()
            .filter(|_| kind == "MESSAGE")
            .map(str::to_string);
        let encoded = events::encode(event, &conversation_id, message_id.as_deref(), timestamp);
        events::append(
            c,
            &mut interner,
            &EventRow {
                id: &id,
                conversation_id: &conversation_id,
                seq: seq as u64 + 1,
                name: &name,
                kind: &kind,
                timestamp,
                message_id: message_id.as_deref(),
                event: &encoded,
                runtime: None,
            },
        )?;
    }
    let task = t.task(&chat, &session);
    tasks::upsert(
        c,
        &tasks::TaskRow {
            id: &task_id,
            conversation_id: &conversation_id,
            state: "CLOSED",
            agent_id,
            disposition: None,
            closed: true,
            snapshot: interner.compact(c, task)?,
            media_id: &uuid::Uuid::new_v4().to_string(),
            mrd_id: "",
            queue_id: &queue.0,
            media_state: "CLOSED",
            priority: 1,
            direction: "INBOUND",
            mode: "QUEUE",
            enqueue_time: start,
            answer_time: agent_id.map(|_| start + wait),
        },
        end,
    )?;
    for event in &log {
        let text = serde_json::to_string(event).unwrap_or_default();
        tasks::append_log(c, &task_id, &conversation_id, event.at, &text)?;
    }
    keep::task_rows(c, &log, &TallySettings::default())?;
    if agent_id.is_some() && rng.gen_range(0..10) < 3 {
        let rating = csat::Csat {
            rating: rng.gen_range(1..6),
            comment: String::new(),
            submitted_at: end + 60_000,
        };
        csat::submit(c, &conversation_id, &customer_id, &rating)?;
    }
    Ok(())
}
