//! Notifications from the routing engine: task enqueued and state changes, an agent
//! reserved, no agent available, an agent's MRD interrupted. Each becomes its CIM event
//! (emitted by ROUTING_ENGINE) and, where seed 001 lists one, its intent.

use serde_json::json;

use super::core::{lookup, OpenMap};
use super::error::CoreError;
use super::ids::IdGen;
use super::open::is_serving_role;
use super::step::Ctx;
use super::studio::IntentFacts;
use crate::cim::{CimEventName, EventEmitter, QueueRef, Task, TaskStateName};

const ROUTING_ENGINE: &str = "ROUTING_ENGINE";

/// A transfer or conference an agent asked for: its direction is neither INBOUND nor
/// OUTBOUND (the customer's own request).
fn is_assistance(task: &Task) -> bool {
    task.active_media
        .first()
        .is_some_and(|media| !media.media_type.direction.is_known())
}

pub(super) fn task_enqueued<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    task: Task,
    queue: QueueRef,
    agent_sla_secs: Option<u32>,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    conversation.runtime.queue_id = Some(queue.id.clone());
    if agent_sla_secs.is_some() {
        conversation.runtime.agent_sla_secs = agent_sla_secs;
    }
    // A transfer or conference an agent asked for is not the customer's request.
    if conversation.customer_present() && !is_assistance(&task) {
        conversation.runtime.routing_pending = true;
        conversation.runtime.pending_task_id = Some(task.id.clone());
    }
    conversation.notify_with_intent(
        cx,
        CimEventName::TaskEnqueued,
        EventEmitter::system(ROUTING_ENGINE),
        json!({ "task": task, "queue": queue }),
        IntentFacts {
            queue: Some(queue.id),
            ..IntentFacts::default()
        },
    );
    Ok(())
}

pub(super) fn task_state_changed<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    task: Task,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    let served = conversation
        .runtime
        .agent_tasks
        .values()
        .any(|id| *id == task.id);
    // A request whose task is not known yet (requeued, or enqueued before this field
    // existed) is settled by any unserved task's end, as before.
    let pending = conversation
        .runtime
        .pending_task_id
        .as_deref()
        .is_none_or(|id| id == task.id);
    if task.state.name == TaskStateName::Closed && !served && pending {
        conversation.runtime.routing_pending = false;
        conversation.runtime.pending_task_id = None;
    }
    conversation.notify_with_intent(
        cx,
        CimEventName::TaskStateChanged,
        EventEmitter::system(ROUTING_ENGINE),
        json!({ "task": task }),
        IntentFacts {
            reason: task.state.reason_code.get().map(|r| r.to_string()),
            ..IntentFacts::default()
        },
    );
    Ok(())
}

pub(super) fn agent_reserved<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    agent_id: &str,
    task: Task,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    conversation.notify(
        cx,
        CimEventName::AgentReserved,
        EventEmitter::system(ROUTING_ENGINE),
        json!({ "agentId": agent_id, "task": task }),
    );
    Ok(())
}

pub(super) fn no_agent_available<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    conversation_id: &str,
    task: Option<Task>,
) -> Result<(), CoreError> {
    let conversation = lookup(open, cx.index, conversation_id)?;
    let pending = conversation.runtime.pending_task_id.as_deref();
    if let Some(task) = &task {
        if is_assistance(task) || pending.is_some_and(|pending| task.id != pending) {
            // Another request (a transfer or conference an agent asked for) found no
            // agent: the customer is served or its own request still waits, so
            // nothing ends.
            conversation.notify(
                cx,
                CimEventName::NoAgentAvailable,
                EventEmitter::system(ROUTING_ENGINE),
                json!({ "task": task }),
            );
            return Ok(());
        }
    }
    conversation.runtime.routing_pending = false;
    conversation.runtime.pending_task_id = None;
    conversation.notify_with_intent(
        cx,
        CimEventName::NoAgentAvailable,
        EventEmitter::system(ROUTING_ENGINE),
        json!({ "task": task }),
        IntentFacts::default(),
    );
    Ok(())
}

/// Raises AGENT_MRD_INTERRUPTED in each listed conversation the agent serves; the
/// others are skipped (the routing engine's list may be ahead of or behind ours).
pub(super) fn mrd_interrupted<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    agent_id: &str,
    mrd_id: &str,
    conversations: &[String],
) -> Result<(), CoreError> {
    let data = json!({ "mrdId": mrd_id, "agentId": agent_id, "conversations": conversations });
    for conversation_id in conversations {
        let Ok(conversation) = lookup(open, cx.index, conversation_id) else {
            continue;
        };
        let serves = conversation
            .agent(agent_id)
            .is_some_and(|p| is_serving_role(&p.role));
        if serves {
            conversation.notify_with_intent(
                cx,
                CimEventName::AgentMrdInterrupted,
                EventEmitter::system(ROUTING_ENGINE),
                data.clone(),
                IntentFacts::default(),
            );
        }
    }
    Ok(())
}
