//! Row mapping of the routing engine: what one committed batch of its effects
//! writes, in one transaction — each task's row and snapshot, agent views and their
//! state history, pull-mode requests, the task log, the report aggregates folded
//! from it, and the input journal's rows.

use super::journal::{self, Entry};
use super::objects::Interner;
use super::tasks;
use super::{StoreError, StoreResult};
use crate::clock::Millis;
use crate::live::facts::LiveEvent;
use crate::reports::{self, TallySettings};
use crate::routing::{AgentView, Effect, PullRequest, StateChange, Task};
use rusqlite::Connection;
use std::sync::Arc;

/// The rows of one batch of routing effects, gathered before the write.
pub struct RoutingRows {
    tasks: Vec<Arc<Task>>,
    agents: Vec<(Box<AgentView>, Vec<StateChange>)>,
    pulls: Vec<PullRequest>,
    pull_deletes: Vec<String>,
    /// (task id, conversation id, fact as JSON) of the task log.
    log: Vec<(String, String, String)>,
    logged: Vec<LiveEvent>,
    entries: Vec<Entry>,
    reports: TallySettings,
}

impl RoutingRows {
    /// What `effects` change, with the task log's facts `logged` (folded into the
    /// report aggregates by `reports`) and the journal's `entries`.
    pub fn of(
        effects: &[Effect],
        logged: &[LiveEvent],
        entries: Vec<Entry>,
        reports: TallySettings,
    ) -> StoreResult<Self> {
        let log = logged
            .iter()
            .map(|e| {
                Ok((
                    e.task_id().to_string(),
                    e.conversation_id.clone(),
                    serde_json::to_string(e)?,
                ))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut rows = RoutingRows {
            tasks: Vec::new(),
            agents: Vec::new(),
            pulls: Vec::new(),
            pull_deletes: Vec::new(),
            log,
            logged: logged.to_vec(),
            entries,
            reports,
        };
        for effect in effects {
            rows.tasks.extend(effect.tasks().cloned());
            match effect {
                Effect::AgentStateChanged { agent, changes } => {
                    rows.agents.push((agent.clone(), changes.clone()))
                }
                Effect::PullRequestAdded { request, .. }
                | Effect::PullRequestUpdated { request, .. }
                | Effect::PullRequestJoined { request, .. } => rows.pulls.push(request.clone()),
                Effect::PullRequestRemoved { request_id, .. } => {
                    rows.pull_deletes.push(request_id.clone())
                }
                _ => {}
            }
        }
        Ok(rows)
    }

    /// Nothing to write (the task log's facts come only with task rows).
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
            && self.agents.is_empty()
            && self.pulls.is_empty()
            && self.pull_deletes.is_empty()
            && self.entries.is_empty()
    }

    /// Writes the rows in the caller's transaction, as of `now`.
    pub fn write(&self, c: &Connection, now: Millis) -> StoreResult<()> {
        // Later snapshots of the same task win: they are written last.
        let mut interner = Interner::default();
        for task in &self.tasks {
            write_task(c, &mut interner, task, now)?;
        }
        for (view, changes) in &self.agents {
            write_agent(c, &mut interner, view, changes, now)?;
        }
        for request in &self.pulls {
            let snapshot =
                serde_json::to_string(request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            tasks::save_pull_request(
                c,
                &request.id,
                &request.list_id,
                &enum_str(&request.state),
                &snapshot,
                now,
            )?;
        }
        for id in &self.pull_deletes {
            tasks::delete_pull_request(c, id)?;
        }
        for (task_id, conversation_id, fact) in &self.log {
            tasks::append_log(c, task_id, conversation_id, now, fact)?;
        }
        reports::keep::task_rows(c, &self.logged, &self.reports)?;
        for entry in &self.entries {
            journal::append(c, &mut interner, entry)?;
        }
        Ok(())
    }
}

/// The serde name of a unit enum value (`READY`, `NOT_READY`, ...).
pub fn enum_str<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn write_task(
    c: &Connection,
    interner: &mut Interner,
    task: &Task,
    now: Millis,
) -> Result<(), StoreError> {
    let value = serde_json::to_value(task).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let snapshot =
        tasks::compact_snapshot(c, interner, value, &task.id, &task.conversation_id, now)?;
    let state = enum_str(&task.state.name);
    let disposition = task.state.reason_code.as_ref().map(enum_str);
    let media_state = enum_str(&task.media.state);
    let direction = enum_str(&task.media.direction);
    let mode = enum_str(&task.media.mode);
    tasks::upsert(
        c,
        &tasks::TaskRow {
            id: &task.id,
            conversation_id: &task.conversation_id,
            state: &state,
            agent_id: task.assigned_to.as_deref(),
            disposition: disposition.as_deref(),
            closed: task.is_closed(),
            snapshot,
            media_id: &task.media.id,
            mrd_id: &task.media.mrd_id,
            queue_id: &task.media.queue.id,
            media_state: &media_state,
            priority: task.media.priority,
            direction: &direction,
            mode: &mode,
            enqueue_time: task.media.enqueue_time,
            answer_time: (task.media.answer_time > 0).then_some(task.media.answer_time),
        },
        now,
    )
}

fn write_agent(
    c: &Connection,
    interner: &mut Interner,
    view: &AgentView,
    changes: &[StateChange],
    now: Millis,
) -> Result<(), StoreError> {
    use super::agent_states::{self, StateRow};
    use crate::routing::StateChangeKind;
    let value = serde_json::to_value(view).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let snapshot = tasks::compact_agent_view(c, interner, value, &view.agent_id, now)?;
    tasks::save_agent_view(c, &view.agent_id, &snapshot, now)?;
    for change in changes {
        let row = match &change.kind {
            StateChangeKind::Agent { state, reason_code } => StateRow {
                user_id: view.agent_id.clone(),
                mrd_id: None,
                state: enum_str(state),
                reason_code: reason_code.clone(),
                changed_at: change.at,
            },
            StateChangeKind::Mrd { mrd_id, state } => StateRow {
                user_id: view.agent_id.clone(),
                mrd_id: Some(mrd_id.clone()),
                state: enum_str(state),
                reason_code: None,
                changed_at: change.at,
            },
        };
        agent_states::record(c, &row)?;
        reports::keep::agent_state(c, &row)?;
    }
    Ok(())
}
