//! Keeping the report aggregates (migration V7) inside the store transaction that
//! writes what causes them: the engine driver calls [`task_rows`] with the task-log
//! rows it appends, and [`agent_state`] with each agent state change it records. The
//! rebuild ([`super::rebuild`]) replays the same functions over the stored rows.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension};

use super::messages;
use super::spans;
use super::tally::{self, interval_of, ClosedAnswered, Tally, TallySettings, TaskMemo};
use crate::clock::Millis;
use crate::live::counts::Occurrence;
use crate::live::facts::LiveEvent;
use crate::store::agent_states::StateRow;
use crate::store::event_keys::{self, read_id, read_optional_id};
use crate::store::StoreResult;

/// The report dimensions, as stored in `report_intervals.dimension`.
pub const QUEUE: &str = "queue";
pub const CHANNEL: &str = "channel";
pub const TEAM: &str = "team";
pub const AGENT: &str = "agent";

type Key = (Millis, &'static str, String);

/// Tallies and wrap-up counts of one transaction, written once each at the end.
#[derive(Default)]
struct Batch {
    tallies: BTreeMap<Key, Tally>,
    wrapups: BTreeMap<(Key, String), i64>,
}

/// Folds task-log rows (in commit order) into the aggregates.
pub fn task_rows(c: &Connection, rows: &[LiveEvent], settings: &TallySettings) -> StoreResult<()> {
    task_rows_with(c, rows, settings, &|_| None)
}

/// [`task_rows`] for a caller that holds the closed tasks' messages in memory (the
/// history generator, which built them): `known` gives a closed task's
/// [`messages::Found`] (from [`messages::read`] over the same `AGENT_MESSAGE`
/// events), or `None` to read them back from the store as [`task_rows`] does.
pub fn task_rows_with(
    c: &Connection,
    rows: &[LiveEvent],
    settings: &TallySettings,
    known: &dyn Fn(&ClosedAnswered) -> Option<messages::Found>,
) -> StoreResult<()> {
    let mut batch = Batch::default();
    for event in rows {
        task_row(c, event, settings, known, &mut batch)?;
    }
    batch.write(c)
}

fn task_row(
    c: &Connection,
    event: &LiveEvent,
    settings: &TallySettings,
    known: &dyn Fn(&ClosedAnswered) -> Option<messages::Found>,
    batch: &mut Batch,
) -> StoreResult<()> {
    let task_id = event.task_id();
    if task_id.is_empty() {
        return Ok(());
    }
    let before = memo(c, task_id)?;
    let queue_id = match &event.fact {
        crate::live::facts::Fact::Enqueued(t)
        | crate::live::facts::Fact::Changed(t)
        | crate::live::facts::Fact::Reserved { task: t, .. } => t.queue_id.clone(),
        _ => return Ok(()),
    };
    let service_level = service_level_ms(c, &queue_id)?;
    let step = tally::step(before.as_ref(), event, service_level, settings);
    match &step.memo {
        Some(m) => save_memo(c, task_id, m)?,
        None => forget(c, task_id)?,
    }
    let interval = interval_of(event.at);
    let channel = channel_of(c, &event.conversation_id)?;
    for counted in &step.counted {
        let queue = counted.queue.as_deref().unwrap_or(&queue_id);
        let channel = channel.as_deref().filter(|_| !counted.queue_only);
        let dims = dimensions(c, queue, channel, counted.agent.as_deref())?;
        for (dimension, key) in dims {
            batch.add(interval, dimension, key, counted.occurrence);
        }
    }
    if let Some(closed) = &step.closed {
        let found = match known(closed) {
            Some(found) => found,
            None => messages::of_task(c, closed)?,
        };
        let dims = dimensions(c, &queue_id, channel.as_deref(), closed.agent.as_deref())?;
        for (dimension, key) in dims {
            let k = (interval, dimension, key);
            if let Some(ms) = found.first_response_ms {
                batch
                    .tallies
                    .entry(k.clone())
                    .or_default()
                    .add_first_response(ms);
            }
            for code in &found.wrapups {
                *batch.wrapups.entry((k.clone(), code.clone())).or_default() += 1;
            }
        }
    }
    Ok(())
}

/// The dimensions an occurrence counts in: the task's queue and channel always, the
/// agent and the agent's team when it belongs to one.
fn dimensions(
    c: &Connection,
    queue_id: &str,
    channel: Option<&str>,
    agent: Option<&str>,
) -> StoreResult<Vec<(&'static str, String)>> {
    let mut dims = vec![(QUEUE, queue_id.to_string())];
    if let Some(channel) = channel {
        dims.push((CHANNEL, channel.to_string()));
    }
    if let Some(agent) = agent {
        dims.push((AGENT, agent.to_string()));
        if let Some(team) = team_of(c, agent)? {
            dims.push((TEAM, team));
        }
    }
    Ok(dims)
}

impl Batch {
    fn add(&mut self, interval: Millis, dimension: &'static str, key: String, o: Occurrence) {
        self.tallies
            .entry((interval, dimension, key))
            .or_default()
            .add(o);
    }

    fn write(self, c: &Connection) -> StoreResult<()> {
        let mut st = c.prepare_cached(
            "INSERT INTO report_intervals(interval_start, dimension, key, offered, answered,
                 answered_within, abandoned, short_abandons, flushed, transfers_in, transfers_out,
                 reservations, ronas, handled, wait_sum_ms, handle_sum_ms, max_wait_ms,
                 first_responses, first_response_sum_ms, rejects)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
             ON CONFLICT(dimension, key, interval_start) DO UPDATE SET
                 offered = offered + excluded.offered,
                 answered = answered + excluded.answered,
                 answered_within = answered_within + excluded.answered_within,
                 abandoned = abandoned + excluded.abandoned,
                 short_abandons = short_abandons + excluded.short_abandons,
                 flushed = flushed + excluded.flushed,
                 transfers_in = transfers_in + excluded.transfers_in,
                 transfers_out = transfers_out + excluded.transfers_out,
                 reservations = reservations + excluded.reservations,
                 ronas = ronas + excluded.ronas,
                 rejects = rejects + excluded.rejects,
                 handled = handled + excluded.handled,
                 wait_sum_ms = wait_sum_ms + excluded.wait_sum_ms,
                 handle_sum_ms = handle_sum_ms + excluded.handle_sum_ms,
                 max_wait_ms = max(max_wait_ms, excluded.max_wait_ms),
                 first_responses = first_responses + excluded.first_responses,
                 first_response_sum_ms = first_response_sum_ms + excluded.first_response_sum_ms",
        )?;
        for ((interval, dimension, key), t) in &self.tallies {
            let n = &t.counts;
            st.execute(params![
                interval,
                dimension,
                key,
                n.offered as i64,
                n.answered as i64,
                n.answered_within as i64,
                n.abandoned as i64,
                n.short_abandons as i64,
                n.flushed as i64,
                n.transfers_in as i64,
                n.transfers_out as i64,
                n.reservations as i64,
                n.ronas as i64,
                n.handled as i64,
                n.wait_sum_ms,
                n.handle_sum_ms,
                t.max_wait_ms,
                t.first_responses as i64,
                t.first_response_sum_ms,
                n.rejects as i64
            ])?;
        }
        let mut st = c.prepare_cached(
            "INSERT INTO report_wrapups(interval_start, dimension, key, code, count)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(dimension, key, interval_start, code) DO UPDATE SET
                 count = count + excluded.count",
        )?;
        for (((interval, dimension, key), code), count) in &self.wrapups {
            st.execute(params![interval, dimension, key, code, count])?;
        }
        Ok(())
    }
}

// A memo's ids are kept as `event_keys` stores ids (a UUID as its 16 bytes, V30): the
// table holds one row per open task, ~100 bytes less each.
fn memo(c: &Connection, task_id: &str) -> StoreResult<Option<TaskMemo>> {
    let row = c
        .prepare_cached(
            "SELECT conversation_id, queue_id, offered_in, media_state, assigned_to, answered
             FROM report_tasks WHERE task_id = ?1",
        )?
        .query_row([event_keys::id(task_id)], |r| {
            Ok((
                read_id(r.get_ref(0)?),
                read_id(r.get_ref(1)?),
                read_optional_id(r.get_ref(2)?),
                r.get::<_, String>(3)?,
                read_optional_id(r.get_ref(4)?),
                r.get::<_, bool>(5)?,
            ))
        })
        .optional()?;
    let Some((conversation_id, queue_id, offered_in, media_state, assigned_to, answered)) = row
    else {
        return Ok(None);
    };
    Ok(Some(TaskMemo {
        conversation_id: conversation_id?,
        queue_id: queue_id?,
        offered_in: offered_in?,
        media_state,
        assigned_to: assigned_to?,
        answered,
    }))
}

fn save_memo(c: &Connection, task_id: &str, m: &TaskMemo) -> StoreResult<()> {
    let optional = |id: &Option<String>| id.as_deref().map(event_keys::id);
    c.prepare_cached(
        "INSERT INTO report_tasks(task_id, conversation_id, queue_id, offered_in, media_state,
             assigned_to, answered) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(task_id) DO UPDATE SET queue_id = excluded.queue_id,
             offered_in = excluded.offered_in, media_state = excluded.media_state,
             assigned_to = excluded.assigned_to, answered = excluded.answered",
    )?
    .execute(params![
        event_keys::id(task_id),
        event_keys::id(&m.conversation_id),
        event_keys::id(&m.queue_id),
        optional(&m.offered_in),
        m.media_state,
        optional(&m.assigned_to),
        m.answered
    ])?;
    Ok(())
}

fn forget(c: &Connection, task_id: &str) -> StoreResult<()> {
    c.prepare_cached("DELETE FROM report_tasks WHERE task_id = ?1")?
        .execute([event_keys::id(task_id)])?;
    Ok(())
}

fn service_level_ms(c: &Connection, queue_id: &str) -> StoreResult<Option<Millis>> {
    let secs: Option<i64> = c
        .prepare_cached("SELECT service_level_secs FROM queues WHERE id = ?1")?
        .query_row([queue_id], |r| r.get(0))
        .optional()?;
    Ok(secs.map(|s| s.saturating_mul(1000)))
}

/// The channel of a conversation: its first channel session's.
pub fn channel_of(c: &Connection, conversation_id: &str) -> StoreResult<Option<String>> {
    Ok(c.prepare_cached(
        "SELECT channel_id FROM channel_sessions WHERE conversation_id = ?1
         ORDER BY started_at, id LIMIT 1",
    )?
    .query_row([conversation_id], |r| r.get(0))
    .optional()?)
}

fn team_of(c: &Connection, user_id: &str) -> StoreResult<Option<String>> {
    Ok(c.prepare_cached("SELECT team_id FROM users WHERE id = ?1")?
        .query_row([user_id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Folds a customer's rating of `conversation_id`, given at `at`, into the interval
/// aggregates (`csat_count`, `csat_sum`, migration V19), by the definitions of
/// [`super::csat`]: the queue of the conversation's last answered task, its channel,
/// each agent who answered a task of it and each such agent's team. Called in the
/// transaction that stores the rating, and by the rebuild.
pub fn rating(c: &Connection, conversation_id: &str, rating: i64, at: Millis) -> StoreResult<()> {
    let queue: Option<String> = c
        .prepare_cached(
            "SELECT m.queue_id FROM tasks t JOIN task_media m ON m.task_id = t.id
             WHERE t.conversation_id = ?1 AND m.answer_time > 0
             ORDER BY m.answer_time DESC LIMIT 1",
        )?
        .query_row([conversation_id], |r| r.get(0))
        .optional()?;
    let mut keys: Vec<(&'static str, String)> = Vec::new();
    keys.extend(queue.map(|q| (QUEUE, q)));
    keys.extend(channel_of(c, conversation_id)?.map(|ch| (CHANNEL, ch)));
    let agents: Vec<(String, Option<String>)> = c
        .prepare_cached(
            "SELECT DISTINCT t.agent_id, u.team_id FROM tasks t
             JOIN task_media m ON m.task_id = t.id LEFT JOIN users u ON u.id = t.agent_id
             WHERE t.conversation_id = ?1 AND m.answer_time > 0 AND t.agent_id IS NOT NULL",
        )?
        .query_map([conversation_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut teams: Vec<String> = Vec::new();
    for (agent, team) in agents {
        keys.push((AGENT, agent));
        if let Some(team) = team.filter(|t| !teams.contains(t)) {
            teams.push(team);
        }
    }
    keys.extend(teams.into_iter().map(|t| (TEAM, t)));
    let mut st = c.prepare_cached(
        "INSERT INTO report_intervals(interval_start, dimension, key, csat_count, csat_sum)
         VALUES (?1, ?2, ?3, 1, ?4)
         ON CONFLICT(dimension, key, interval_start) DO UPDATE SET
             csat_count = csat_count + 1, csat_sum = csat_sum + excluded.csat_sum",
    )?;
    for (dimension, key) in keys {
        st.execute(params![interval_of(at), dimension, key, rating])?;
    }
    Ok(())
}

/// Folds one agent state change into the spans and the agents' time.
pub fn agent_state(c: &Connection, row: &StateRow) -> StoreResult<()> {
    spans::record(c, row)
}
