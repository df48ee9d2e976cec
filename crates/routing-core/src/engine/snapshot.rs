//! Snapshots of the engine's whole state, for the input journal: a replay may begin
//! at a snapshot instead of at the start of the server's run, and a replay that
//! passes one checks the state it rebuilt against it.
//!
//! A snapshot is the engine's records, indexes and armed timers as JSON, so a core
//! read back from it decides exactly what the running core decided (same slots, same
//! queue order, same deadlines). The opaque payloads (a task's request session and
//! metadata, a pull-mode request's data) are left out, as the journal leaves them out
//! of inputs: no decision reads them, and a daily snapshot should not copy every
//! waiting customer's channel data.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::state::TaskIx;
use super::RoutingCore;
use crate::expr::{Expr, ExprError};
use crate::model::{PullRequestId, SharedJson};
use crate::pull::PullRequest;
use crate::task::Task;

/// Why a snapshot cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("the snapshot does not decode: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("step {step} of queue {queue:?} in the snapshot: {error}")]
    BadExpression {
        queue: String,
        step: usize,
        error: ExprError,
    },
}

impl SnapshotError {
    /// A stable code for logs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            SnapshotError::Decode(_) => "snapshot_undecodable",
            SnapshotError::BadExpression { .. } => "snapshot_bad_expression",
        }
    }
}

impl RoutingCore {
    /// The engine's state between inputs, without opaque payloads.
    pub fn state_snapshot(&self) -> serde_json::Result<Value> {
        serde_json::to_value(self)
    }

    /// A core in the state `snapshot` holds; its tasks carry no request session,
    /// metadata or pull-request data.
    pub fn from_state_snapshot(snapshot: Value) -> Result<Self, SnapshotError> {
        let mut core: RoutingCore = serde_json::from_value(snapshot)?;
        for queue in &mut core.queues {
            let mut steps = Vec::with_capacity(queue.config.steps.len());
            for (step, config) in queue.config.steps.iter().enumerate() {
                let expr = Expr::parse(&config.expression).map_err(|error| {
                    SnapshotError::BadExpression {
                        queue: queue.config.id.clone(),
                        step,
                        error,
                    }
                })?;
                steps.push(expr);
            }
            queue.steps = steps;
        }
        let open: Vec<TaskIx> = core.tasks.iter().map(|(t, _)| t).collect();
        for t in open {
            core.index_by_conversation(t);
        }
        Ok(core)
    }
}

impl RoutingCore {
    /// Gives each task a core read back from a snapshot holds the request session and
    /// metadata `payloads` has for its id (a replay reads them from the stored task
    /// rows): no routing decision reads them, but a site's bridge does (the task a
    /// conversation is told of, who asked for a transfer).
    pub fn supply_payloads(
        &mut self,
        mut payloads: impl FnMut(&str) -> Option<(SharedJson, SharedJson)>,
    ) {
        let slots: Vec<u32> = self.tasks.iter().map(|(ix, _)| ix).collect();
        for ix in slots {
            let Some(slot) = self.tasks.get_mut(ix) else {
                continue;
            };
            if let Some((session, metadata)) = payloads(&slot.task.id) {
                let task = Arc::make_mut(&mut slot.task);
                task.media.request_session = session;
                task.media.metadata = metadata;
            }
        }
    }
}

/// Serializes a task record with its opaque payloads left out.
pub(super) fn task_without_payloads<S: Serializer>(
    task: &Arc<Task>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut bare = Task::clone(task);
    bare.media.request_session = SharedJson::default();
    bare.media.metadata = SharedJson::default();
    bare.serialize(serializer)
}

/// Serializes the pull-mode requests with their data left out.
pub(crate) fn requests_without_data<S: Serializer>(
    requests: &HashMap<PullRequestId, PullRequest>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let bare: HashMap<&PullRequestId, PullRequest> = requests
        .iter()
        .map(|(id, request)| {
            let mut request = request.clone();
            request.data = SharedJson::default();
            (id, request)
        })
        .collect();
    bare.serialize(serializer)
}
