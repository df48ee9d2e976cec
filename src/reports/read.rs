//! Reading an interval report from the kept aggregates: the 15-minute rows of one
//! dimension in the period, summed into the report's intervals and per entity over
//! the whole period, with the agents' time (closed spans from `report_agent_time`,
//! open spans counted up to now), the customers' ratings (kept beside the counts,
//! `reports::keep::rating`; defined in [`super::csat`]) and the
//! wrap-up codes. Only the entities the caller may see are read ([`Scope`]).

use std::collections::{BTreeMap, HashSet};

use rusqlite::{params, Connection};

use super::csat::Csat;
use super::keep::{AGENT, CHANNEL, QUEUE, TEAM};
use super::period::Period;
use super::spans::{self, GLOBAL, OCCUPIED, OCCUPIED_MRD};
use super::tally::Tally;
use crate::clock::Millis;
use crate::live::counts::Counts;
use crate::store::StoreResult;

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Kind {
    Queues,
    Channels,
    Teams,
    Agents,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "queues" => Some(Kind::Queues),
            "channels" => Some(Kind::Channels),
            "teams" => Some(Kind::Teams),
            "agents" => Some(Kind::Agents),
            _ => None,
        }
    }

    pub fn dimension(self) -> &'static str {
        match self {
            Kind::Queues => QUEUE,
            Kind::Channels => CHANNEL,
            Kind::Teams => TEAM,
            Kind::Agents => AGENT,
        }
    }

    /// Team and agent reports count the work of agents: their "offered" is the
    /// offers to the agents.
    pub fn is_agent_work(self) -> bool {
        matches!(self, Kind::Teams | Kind::Agents)
    }
}

/// Whose figures a caller sees: admins all; supervisors every queue and channel
/// (as on the live console) and the teams they supervise and those teams' agents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub admin: bool,
    pub teams: HashSet<String>,
}

/// An agent's time in one interval (or the period).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentTime {
    pub logged_in_ms: Millis,
    pub ready_ms: Millis,
    pub not_ready_ms: Millis,
    pub occupied_ms: Millis,
    /// Not-ready time by reason ("" when none was given).
    pub not_ready_by_reason: BTreeMap<String, Millis>,
}

impl AgentTime {
    fn add(&mut self, state: &str, reason: &str, ms: Millis) {
        if state == OCCUPIED {
            self.occupied_ms += ms;
            return;
        }
        self.logged_in_ms += ms;
        match state {
            "READY" => self.ready_ms += ms,
            "NOT_READY" => {
                self.not_ready_ms += ms;
                *self
                    .not_ready_by_reason
                    .entry(reason.to_string())
                    .or_default() += ms;
            }
            _ => {}
        }
    }

    fn merge(&mut self, other: &AgentTime) {
        self.logged_in_ms += other.logged_in_ms;
        self.ready_ms += other.ready_ms;
        self.not_ready_ms += other.not_ready_ms;
        self.occupied_ms += other.occupied_ms;
        for (reason, ms) in &other.not_ready_by_reason {
            *self.not_ready_by_reason.entry(reason.clone()).or_default() += ms;
        }
    }

    /// Time with at least one task ÷ time logged in, in %.
    pub fn occupancy_pct(&self) -> Option<f64> {
        (self.logged_in_ms > 0).then(|| 100.0 * self.occupied_ms as f64 / self.logged_in_ms as f64)
    }
}

/// One entity's figures over one interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub start: Millis,
    pub end: Millis,
    pub id: String,
    pub name: String,
    pub tally: Tally,
    /// The customers' ratings given in the interval.
    pub csat: Csat,
    /// Agents only.
    pub time: Option<AgentTime>,
}

/// How often one wrap-up code was given, per entity over the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapupCount {
    pub id: String,
    pub name: String,
    pub code: String,
    pub count: i64,
}

/// An interval report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub kind: Kind,
    /// Per report interval and entity, in time order then by name.
    pub lines: Vec<Line>,
    /// Per entity over the whole period (every entity in scope, with or without
    /// figures), by name.
    pub totals: Vec<Line>,
    pub wrapups: Vec<WrapupCount>,
}

/// Reads the report of `kind` over `period` as `scope` may see it; `only` narrows it
/// to one entity; open agent spans count up to `now`.
pub fn report(
    c: &Connection,
    kind: Kind,
    period: &Period,
    scope: &Scope,
    only: Option<&str>,
    now: Millis,
) -> StoreResult<Report> {
    let names = entities(c, kind, scope)?;
    let visible = |id: &str| names.contains_key(id) && only.is_none_or(|o| o == id);
    let keys = visible_keys(&names, only);
    let mut cells: BTreeMap<(Millis, String), Cell> = BTreeMap::new();
    // Each visible entity's rows of the period by the primary key (dimension, key,
    // start): a seek per entity, instead of every row the dimension ever kept read
    // to keep the period's (~0.1 s for a day of agents after a year).
    let mut st = c.prepare_cached(
        "SELECT interval_start, key, offered, answered, answered_within, abandoned,
                short_abandons, flushed, transfers_in, transfers_out, reservations, ronas,
                handled, wait_sum_ms, handle_sum_ms, max_wait_ms, first_responses,
                first_response_sum_ms, rejects, csat_count, csat_sum
         FROM report_intervals
         WHERE dimension = ?3 AND key IN (SELECT value FROM json_each(?4))
           AND interval_start >= ?1 AND interval_start < ?2",
    )?;
    let mut rows = st.query(params![period.start, period.end, kind.dimension(), keys])?;
    while let Some(r) = rows.next()? {
        let key: String = r.get(1)?;
        let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
        let tally = Tally {
            counts: Counts {
                offered: n(2)?,
                answered: n(3)?,
                answered_within: n(4)?,
                abandoned: n(5)?,
                short_abandons: n(6)?,
                flushed: n(7)?,
                transfers_in: n(8)?,
                transfers_out: n(9)?,
                reservations: n(10)?,
                ronas: n(11)?,
                rejects: n(18)?,
                handled: n(12)?,
                wait_sum_ms: r.get(13)?,
                handle_sum_ms: r.get(14)?,
            },
            max_wait_ms: r.get(15)?,
            first_responses: n(16)?,
            first_response_sum_ms: r.get(17)?,
        };
        let rated = Csat {
            count: n(19)?,
            sum: r.get(20)?,
        };
        let start = period.interval_start(r.get(0)?).max(period.start);
        let cell = cells.entry((start, key)).or_default();
        cell.0.merge(&tally);
        cell.2.merge(&rated);
    }
    if kind == Kind::Agents {
        for (at, user, state, reason, ms) in agent_time(c, period, now)? {
            if visible(&user) {
                let start = period.interval_start(at).max(period.start);
                cells
                    .entry((start, user))
                    .or_default()
                    .1
                    .add(&state, &reason, ms);
            }
        }
    }
    let agents = kind == Kind::Agents;
    let mut totals: BTreeMap<String, Cell> = BTreeMap::new();
    let mut lines = Vec::with_capacity(cells.len());
    for ((start, id), (tally, time, rated)) in cells {
        let total = totals.entry(id.clone()).or_default();
        total.0.merge(&tally);
        total.1.merge(&time);
        total.2.merge(&rated);
        lines.push(Line {
            start,
            end: period.interval_end(start),
            name: names.get(&id).cloned().unwrap_or_default(),
            id,
            tally,
            csat: rated,
            time: agents.then_some(time),
        });
    }
    lines.sort_by(|a, b| (a.start, &a.name, &a.id).cmp(&(b.start, &b.name, &b.id)));
    let mut totals: Vec<Line> = names
        .iter()
        .filter(|(id, _)| only.is_none_or(|o| o == id.as_str()))
        .map(|(id, name)| {
            let (tally, time, rated) = totals.remove(id).unwrap_or_default();
            Line {
                start: period.start,
                end: period.end,
                id: id.clone(),
                name: name.clone(),
                tally,
                csat: rated,
                time: agents.then_some(time),
            }
        })
        .collect();
    totals.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
    let wrapups = wrapups(c, kind, period, &keys)?
        .into_iter()
        .map(|mut w| {
            w.name = names.get(&w.id).cloned().unwrap_or_default();
            w
        })
        .collect();
    Ok(Report {
        kind,
        lines,
        totals,
        wrapups,
    })
}

/// One entity's figures in one interval: counts, agent time, ratings.
type Cell = (Tally, AgentTime, Csat);

/// The entities of `kind` the scope sees, id → display name.
fn entities(c: &Connection, kind: Kind, scope: &Scope) -> StoreResult<BTreeMap<String, String>> {
    let sql = match kind {
        Kind::Queues => "SELECT id, name, NULL FROM queues",
        Kind::Channels => "SELECT id, name, NULL FROM channels",
        Kind::Teams => "SELECT id, name, id FROM teams",
        Kind::Agents => {
            "SELECT id, CASE WHEN TRIM(first_name || ' ' || last_name) = '' THEN username
                        ELSE TRIM(first_name || ' ' || last_name) END, team_id
             FROM users WHERE role <> 'admin'"
        }
    };
    let mut st = c.prepare_cached(sql)?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
        ))
    })?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (id, name, team) = row?;
        let seen = scope.admin
            || !kind.is_agent_work()
            || team.as_ref().is_some_and(|t| scope.teams.contains(t));
        if seen {
            out.insert(id, name);
        }
    }
    Ok(out)
}

/// (15-minute interval, agent, state, reason, ms).
type TimePiece = (Millis, String, String, String, Millis);

/// The agents' time pieces of the period: closed spans as kept,
/// open ones up to `now`.
fn agent_time(c: &Connection, period: &Period, now: Millis) -> StoreResult<Vec<TimePiece>> {
    let mut st = c.prepare_cached(
        "SELECT interval_start, user_id, state, reason_code, ms FROM report_agent_time
         WHERE interval_start >= ?1 AND interval_start < ?2",
    )?;
    let mut out = st
        .query_map(params![period.start, period.end], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut st = c.prepare_cached(
        // `+start_at`: the open spans by their partial index, not every span started
        // before the period's end by `agent_state_spans_start` (a year of spans).
        "SELECT user_id, mrd_id, start_at, state, reason_code FROM agent_state_spans
         WHERE end_at IS NULL AND +start_at < ?1",
    )?;
    let open = st
        .query_map([period.end.min(now)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Millis>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    for (user, mrd, start, state, reason) in open {
        if !(mrd == GLOBAL || mrd == OCCUPIED_MRD) || !spans::counts_time(&mrd, &state) {
            continue;
        }
        let from = start.max(period.start);
        let to = now.min(period.end);
        for (interval, ms) in spans::pieces(from, to) {
            out.push((interval, user.clone(), state.clone(), reason.clone(), ms));
        }
    }
    Ok(out)
}

/// The ids of the entities a report shows (`names`, narrowed to `only`), as the JSON
/// array its queries read them from.
fn visible_keys(names: &BTreeMap<String, String>, only: Option<&str>) -> String {
    let keys: Vec<&str> = names
        .keys()
        .map(String::as_str)
        .filter(|id| only.is_none_or(|o| o == *id))
        .collect();
    serde_json::to_string(&keys).unwrap_or_else(|_| "[]".into())
}

/// The wrap-up codes given over `period` to the entities `keys` (a JSON array).
fn wrapups(
    c: &Connection,
    kind: Kind,
    period: &Period,
    keys: &str,
) -> StoreResult<Vec<WrapupCount>> {
    let mut st = c.prepare_cached(
        "SELECT key, code, SUM(count) FROM report_wrapups
         WHERE dimension = ?1 AND key IN (SELECT value FROM json_each(?4))
           AND interval_start >= ?2 AND interval_start < ?3
         GROUP BY key, code ORDER BY key, SUM(count) DESC, code",
    )?;
    let rows = st
        .query_map(
            params![kind.dimension(), period.start, period.end, keys],
            |r| {
                Ok(WrapupCount {
                    id: r.get(0)?,
                    name: String::new(),
                    code: r.get(1)?,
                    count: r.get(2)?,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
