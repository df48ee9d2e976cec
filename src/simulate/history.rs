//! Reads what a site recorded into a [`Workload`], through a read-only connection
//! (the site may be running): the routing configuration as it is now, the arrivals
//! and the times drawn from (the task log, `task_log`), the agents' shifts (their
//! global states in `agent_state_history`) and each task's priority, policy and TTL
//! (`tasks`, `task_media`).

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde_json::Value;

use super::source::{AgentPlan, Arrival, ArrivalSource, Pools, ShiftChange, ShiftState, Workload};
use super::world::DRAIN_MS;
use super::SimError;
use crate::clock::Millis;
use crate::live::facts::{self, Fact, TaskFacts};
use crate::routing::{loader, Input, RoutingConfig, SelectionPolicy};
use crate::store::objects::Inflater;
use crate::store::{tasks, StoreError, StoreResult};

/// A site's recorded data, opened read-only.
pub struct StoreHistory {
    conn: Connection,
}

impl StoreHistory {
    /// Opens the database at `path` read-only.
    pub fn open(path: &Path) -> Result<Self, SimError> {
        let open_error = |source| SimError::Open {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            return Err(SimError::Store(StoreError::NotFound(format!(
                "database {}",
                path.display()
            ))));
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_error)?;
        Ok(StoreHistory { conn })
    }

    /// The workload of `[from, to)`: the configuration, the arrivals (the task log's, or
    /// `source`'s when given: the input journal's, later), the agents with their
    /// shifts (from their state at `from` to `to` plus the drain) and the pools.
    pub fn workload(
        &self,
        source: Option<&dyn ArrivalSource>,
        from: Millis,
        to: Millis,
        routing: RoutingConfig,
        short_abandon_ms: Millis,
    ) -> Result<Workload, SimError> {
        let mut mrds = Vec::new();
        let mut queues = Vec::new();
        let mut profiles = Vec::new();
        for input in loader::configuration(&self.conn)? {
            match input {
                Input::UpsertMrd(m) => mrds.push(m),
                Input::UpsertQueue(q) => queues.push(q),
                Input::UpsertAgent(a) => profiles.push(a),
                _ => {}
            }
        }
        let (recorded, pools) = fold_tasks(&self.conn, from, to, source.is_none())?;
        let arrivals = match source {
            Some(source) => source.arrivals(from, to)?,
            None => recorded,
        };
        let mut agents = Vec::new();
        for profile in profiles {
            let shift = shift_of(&self.conn, &profile.id, from, to + DRAIN_MS, &routing)?;
            agents.push(AgentPlan {
                sample_as: profile.id.clone(),
                profile,
                shift,
            });
        }
        Ok(Workload {
            routing,
            mrds,
            queues,
            agents,
            arrivals,
            pools,
            short_abandon_ms,
        })
    }

    pub fn arrivals(&self) -> StoreArrivals<'_> {
        StoreArrivals { conn: &self.conn }
    }
}

/// The task log as an [`ArrivalSource`].
pub struct StoreArrivals<'c> {
    conn: &'c Connection,
}

impl ArrivalSource for StoreArrivals<'_> {
    fn arrivals(&self, from: Millis, to: Millis) -> Result<Vec<Arrival>, SimError> {
        Ok(fold_tasks(self.conn, from, to, true)?.0)
    }
}

/// What the log says of one task.
#[derive(Default)]
struct Seen {
    first: Option<TaskFacts>,
    offer: Option<(String, Millis)>,
    answer: Option<Millis>,
    wrap_at: Option<Millis>,
}

/// The arrivals of `[from, to)` (tasks first enqueued then; none unless `arrivals_too`)
/// and the accept delays and handle times of the tasks with a row in the period.
fn fold_tasks(
    c: &Connection,
    from: Millis,
    to: Millis,
    arrivals_too: bool,
) -> StoreResult<(Vec<Arrival>, Pools)> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    let mut pools = Pools::default();
    let mut arrivals = Vec::new();
    let mut patience: BTreeMap<String, Millis> = BTreeMap::new();
    for (pos, text) in tasks::log_between(c, from, to)? {
        let event = facts::of_log(&text)
            .ok_or_else(|| StoreError::Corrupt(format!("task_log row {pos} does not read")))?;
        let at = event.at;
        match event.fact {
            Fact::Enqueued(t) => {
                let s = seen.entry(t.id.clone()).or_default();
                if s.first.is_none() {
                    s.first = Some(t);
                }
            }
            Fact::Reserved { agent_id, task } => {
                seen.entry(task.id).or_default().offer = Some((agent_id, at));
            }
            Fact::Changed(t) => {
                let s = seen.entry(t.id.clone()).or_default();
                if t.media_state == "ACTIVE" && t.answer_time > 0 && s.answer.is_none() {
                    s.answer = Some(t.answer_time);
                    if let Some((agent, offered)) = s.offer.take() {
                        if t.assigned_to.as_deref() == Some(agent.as_str()) {
                            let delay = (t.answer_time - offered).max(0);
                            pools.accept_by_agent.entry(agent).or_default().push(delay);
                            pools.accept_all.push(delay);
                        }
                    }
                }
                if t.state == "WRAP_UP" && s.wrap_at.is_none() {
                    s.wrap_at = Some(at);
                }
                if t.is_closed() {
                    match (s.answer, &s.first) {
                        (Some(answer), Some(first)) => {
                            let talk_end = s.wrap_at.unwrap_or(at);
                            let sample = ((talk_end - answer).max(0), (at - talk_end).max(0));
                            let queue = first.queue_id.clone();
                            pools.handle_by_queue.entry(queue).or_default().push(sample);
                            if let Some(agent) = &t.assigned_to {
                                let own = pools.handle_by_agent.entry(agent.clone());
                                own.or_default().push(sample);
                            }
                            pools.handle_all.push(sample);
                        }
                        // An agent's request no one took is no customer's patience.
                        (None, Some(first))
                            if t.reason.as_deref() == Some("CANCELLED") && !t.is_assistance() =>
                        {
                            patience.insert(t.id.clone(), (at - first.enqueue_time).max(0));
                        }
                        _ => {}
                    }
                }
            }
            Fact::CustomerMessage | Fact::AgentMessage => {}
        }
    }
    let mut inflater = Inflater::new(c);
    for (id, s) in seen {
        let Some(first) = s.first.filter(|_| arrivals_too) else {
            continue;
        };
        if first.enqueue_time < from || first.enqueue_time >= to {
            continue;
        }
        let routing = task_routing(c, &mut inflater, &id)?;
        arrivals.push(Arrival {
            patience_ms: patience.get(&id).copied(),
            task_id: id,
            at: first.enqueue_time,
            queue_id: first.queue_id,
            priority: routing.priority,
            policy: routing.policy,
            ttl_ms: routing.ttl_ms,
        });
    }
    arrivals.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.task_id.cmp(&b.task_id)));
    Ok((arrivals, pools))
}

struct Routing {
    priority: u8,
    policy: SelectionPolicy,
    ttl_ms: Option<Millis>,
}

/// A task's priority, selection policy and TTL from its stored snapshot (the routing
/// engine's task); a snapshot in another shape gives the media row's priority, the
/// default policy and no TTL.
fn task_routing(c: &Connection, inflater: &mut Inflater<'_>, id: &str) -> StoreResult<Routing> {
    let mut st = c.prepare_cached(&format!(
        "SELECT {}, (SELECT priority FROM task_media WHERE task_id = t.id LIMIT 1)
         FROM tasks t WHERE t.id = ?1",
        tasks::SNAPSHOT_COLUMNS
    ))?;
    let mut rows = st.query([id])?;
    let Some(row) = rows.next()? else {
        return Ok(Routing {
            priority: 1,
            policy: SelectionPolicy::default(),
            ttl_ms: None,
        });
    };
    let media_priority: Option<i64> = row.get(4)?;
    let snapshot = tasks::read_snapshot(inflater, row)?;
    let routing = snapshot.get("routing").unwrap_or(&Value::Null);
    let priority = routing
        .get("requestedPriority")
        .and_then(Value::as_i64)
        .or(media_priority)
        .unwrap_or(1)
        .clamp(1, 10) as u8;
    let policy = routing
        .get("selectionPolicy")
        .and_then(|p| serde_json::from_value(p.clone()).ok())
        .unwrap_or_default();
    Ok(Routing {
        priority,
        policy,
        ttl_ms: routing.get("agentRequestTtlMs").and_then(Value::as_i64),
    })
}

/// An agent's shift over `[from, until)`: its state at `from`, then its changes. A
/// NOT_READY the engine set for a RONA is left out (the simulated agents answer).
fn shift_of(
    c: &Connection,
    user_id: &str,
    from: Millis,
    until: Millis,
    routing: &RoutingConfig,
) -> StoreResult<Vec<ShiftChange>> {
    let read = |r: &rusqlite::Row<'_>| -> rusqlite::Result<(String, Option<String>, Millis)> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    };
    let before = c
        .prepare_cached(
            "SELECT state, reason_code, changed_at FROM agent_state_history
             WHERE user_id = ?1 AND mrd_id IS NULL AND changed_at < ?2
             ORDER BY changed_at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![user_id, from], read)
        .optional()?;
    let mut st = c.prepare_cached(
        "SELECT state, reason_code, changed_at FROM agent_state_history
         WHERE user_id = ?1 AND mrd_id IS NULL AND changed_at >= ?2 AND changed_at < ?3
         ORDER BY changed_at, id",
    )?;
    let during = st
        .query_map(params![user_id, from, until], read)?
        .collect::<Result<Vec<_>, _>>()?;
    let mut shift = Vec::new();
    if let Some((state, reason, _)) = before {
        if let Some(state) = shift_state(&state) {
            shift.push(ShiftChange {
                at: from,
                state,
                reason,
            });
        }
    }
    for (state, reason, at) in during {
        let rona = state == "NOT_READY" && reason.as_deref() == Some(&routing.rona_reason_code);
        if let (Some(state), false) = (shift_state(&state), rona) {
            shift.push(ShiftChange { at, state, reason });
        }
    }
    Ok(shift)
}

fn shift_state(state: &str) -> Option<ShiftState> {
    match state {
        "READY" => Some(ShiftState::Ready),
        "NOT_READY" => Some(ShiftState::NotReady),
        "LOGOUT" => Some(ShiftState::Logout),
        _ => None,
    }
}
