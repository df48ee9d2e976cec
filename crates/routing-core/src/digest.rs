//! What the input journal keeps of an input's effects so that a replay can check it
//! recomputed the same: a [`digest`] (FNV-1a, 64 bits, stable across builds and runs)
//! of everything routing decided, and a [`brief`] line a person can read at a
//! divergence.
//!
//! Both leave out the opaque payloads the engine only carries (a task's request
//! session and metadata, a pull-mode request's data): the journal does not keep them
//! (they hold the customer's values), and no routing decision reads them.

use std::fmt::{self, Write};
use std::hash::Hasher;

use fnv::FnvHasher;

use super::effect::Effect;
use super::input::Input;
use super::pull::PullRequest;
use super::task::Task;

/// FNV-1a of the routing content of `effects`, in order.
pub fn digest(effects: &[Effect]) -> u64 {
    digest_of(effects, render)
}

/// One short line per effect, `; `-separated: what happened to which task (ids
/// cut to 8 characters) or agent.
pub fn brief(effects: &[Effect]) -> String {
    brief_of(effects, brief_one)
}

/// FNV-1a of what `render` writes of each item, in order (an item ends with a byte
/// no text holds): the digest of the journal's rows, for either core's effects.
pub fn digest_of<T>(
    items: &[T],
    mut render: impl FnMut(&mut HashWriter, &T) -> fmt::Result,
) -> u64 {
    let mut w = HashWriter(FnvHasher::default());
    for item in items {
        // Writing into a hasher cannot fail.
        let _ = render(&mut w, item);
        w.0.write_u8(0xff);
    }
    w.0.finish()
}

/// What `brief_one` writes of each item, `; `-separated.
pub fn brief_of<T>(
    items: &[T],
    mut brief_one: impl FnMut(&mut String, &T) -> fmt::Result,
) -> String {
    let mut out = String::new();
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push_str("; ");
        }
        let _ = brief_one(&mut out, item);
    }
    out
}

/// An id cut to its first 8 characters, for a brief.
pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// `input` as the journal keeps it: serde-encoded without the payloads it does not
/// keep (see the module doc). The payloads are taken out for the encoding and put
/// back, so nothing is copied.
pub fn journal_form(input: &mut Input) -> serde_json::Result<serde_json::Value> {
    use serde_json::Value;
    use std::mem::take;
    match input {
        Input::EnqueueTask(new) => {
            let kept = (take(&mut new.request_session), take(&mut new.metadata));
            let value = serde_json::to_value(&*input);
            if let Input::EnqueueTask(new) = input {
                (new.request_session, new.metadata) = kept;
            }
            value
        }
        Input::RestoreTask(task) => {
            let media = &mut task.media;
            let kept = (take(&mut media.request_session), take(&mut media.metadata));
            let value = serde_json::to_value(&*input);
            if let Input::RestoreTask(task) = input {
                (task.media.request_session, task.media.metadata) = kept;
            }
            value
        }
        Input::AddPullRequest(new) => {
            let kept = std::mem::replace(&mut new.data, Value::Null);
            let value = serde_json::to_value(&*input);
            if let Input::AddPullRequest(new) = input {
                new.data = kept;
            }
            value
        }
        Input::RestorePullRequest(request) => {
            let kept = take(&mut request.data);
            let value = serde_json::to_value(&*input);
            if let Input::RestorePullRequest(request) = input {
                request.data = kept;
            }
            value
        }
        other => serde_json::to_value(&*other),
    }
}

/// Text written into an FNV-1a hasher, no text built.
pub struct HashWriter(FnvHasher);

impl Write for HashWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

fn render(w: &mut impl Write, effect: &Effect) -> fmt::Result {
    match effect {
        Effect::TaskEnqueued { task, queue } => {
            write!(w, "E{queue:?}")?;
            task_content(w, task)
        }
        Effect::TaskStateChanged { task } => {
            w.write_str("S")?;
            task_content(w, task)
        }
        Effect::TaskMovedOn { task } => {
            w.write_str("M")?;
            task_content(w, task)
        }
        Effect::OfferTask { agent_id, task } => {
            write!(w, "O{agent_id:?}")?;
            task_content(w, task)
        }
        Effect::TaskAssigned { agent_id, task } => {
            write!(w, "A{agent_id:?}")?;
            task_content(w, task)
        }
        Effect::RevokeTask {
            agent_id,
            task,
            reason,
        } => {
            write!(w, "V{agent_id:?}{reason:?}")?;
            task_content(w, task)
        }
        Effect::NoAgentAvailable { task } => {
            w.write_str("N")?;
            task_content(w, task)
        }
        Effect::TaskRerouted { task, from_agent } => {
            write!(w, "R{from_agent:?}")?;
            task_content(w, task)
        }
        Effect::TaskTransferred { original, new } => {
            w.write_str("T")?;
            task_content(w, original)?;
            task_content(w, new)
        }
        Effect::PullListSubscribed {
            agent_id,
            list_id,
            requests,
        } => {
            write!(w, "PS{agent_id:?}{list_id:?}")?;
            requests.iter().try_for_each(|r| pull_content(w, r))
        }
        Effect::PullRequestAdded { agents, request } => {
            write!(w, "PA{agents:?}")?;
            pull_content(w, request)
        }
        Effect::PullRequestUpdated { agents, request } => {
            write!(w, "PU{agents:?}")?;
            pull_content(w, request)
        }
        Effect::PullRequestJoined { agent_id, request } => {
            write!(w, "PJ{agent_id:?}")?;
            pull_content(w, request)
        }
        // The rest carry no opaque payload: their whole content counts.
        other => write!(w, "{other:?}"),
    }
}

/// A task's content but its payloads and the selection policy it carries (a replay
/// with another policy diverges where an agent is picked, not where the policy is
/// noted).
fn task_content(w: &mut impl Write, t: &Task) -> fmt::Result {
    let m = &t.media;
    let r = &t.routing;
    write!(
        w,
        "{:?}{:?}{:?}{:?}{:?}|{:?}{:?}{:?}{:?}{:?}{}{:?}{}{}|",
        t.id,
        t.conversation_id,
        t.state,
        t.assigned_to,
        t.agent_request_ttl_timer_id,
        m.id,
        m.mrd_id,
        m.queue,
        m.direction,
        m.mode,
        m.priority,
        m.state,
        m.enqueue_time,
        m.answer_time,
    )?;
    write!(
        w,
        "{:?}{}{:?}{:?}{}{:?}{:?}{}{}{:?}{:?}{}",
        r.target,
        r.offer_to_agent,
        r.exclude_agents,
        r.related_task,
        r.requested_priority,
        r.agent_request_ttl_ms,
        r.ttl_deadline,
        r.step,
        r.step_opened_at,
        r.reserved_at,
        r.accept_deadline,
        r.seq
    )
}

fn pull_content(w: &mut impl Write, r: &PullRequest) -> fmt::Result {
    write!(
        w,
        "{:?}{:?}{:?}{:?}{:?}{}",
        r.id, r.list_id, r.conversation_id, r.state, r.joined_agents, r.created_at
    )
}

fn brief_one(out: &mut String, effect: &Effect) -> fmt::Result {
    match effect {
        Effect::TaskEnqueued { task, queue } => write!(
            out,
            "enqueued {} in {} at {}",
            short(&task.id),
            queue.name,
            task.media.priority
        ),
        Effect::TaskStateChanged { task } => write!(
            out,
            "task {} {:?}/{:?}{}",
            short(&task.id),
            task.state.name,
            task.media.state,
            task.state
                .reason_code
                .map(|r| format!(" {r:?}"))
                .unwrap_or_default()
        ),
        Effect::TaskMovedOn { task } => write!(
            out,
            "task {} waits at step {} of {:?}",
            short(&task.id),
            task.routing.step,
            task.routing.target
        ),
        Effect::OfferTask { agent_id, task } => {
            write!(out, "offer {} to {}", short(&task.id), short(agent_id))?;
            let r = &task.routing;
            match (r.reserved_at, r.accept_deadline) {
                (Some(at), Some(deadline)) => {
                    write!(out, " ({} ms to accept)", deadline - at)
                }
                _ => Ok(()),
            }
        }
        Effect::TaskAssigned { agent_id, task } => {
            write!(out, "assign {} to {}", short(&task.id), short(agent_id))
        }
        Effect::RevokeTask {
            agent_id,
            task,
            reason,
        } => write!(
            out,
            "revoke {} from {} {reason:?}",
            short(&task.id),
            short(agent_id)
        ),
        Effect::AgentStateChanged { agent, .. } => write!(
            out,
            "agent {} {:?} [{}]",
            short(&agent.agent_id),
            agent.state,
            agent
                .mrd_states
                .iter()
                .map(|m| format!(
                    "{} {:?} {}/{}",
                    m.mrd_name, m.state, m.load, m.max_agent_tasks
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Effect::MrdInterrupted {
            mrd_id, agent_id, ..
        } => write!(out, "interrupted {mrd_id} of {}", short(agent_id)),
        Effect::NoAgentAvailable { task } => write!(out, "no agent for {}", short(&task.id)),
        Effect::TaskRerouted { task, from_agent } => write!(
            out,
            "rerouted {} from {}",
            short(&task.id),
            short(from_agent)
        ),
        Effect::TaskTransferred { original, new } => write!(
            out,
            "transferred {} to {}",
            short(&original.id),
            short(&new.id)
        ),
        Effect::PullListSubscribed {
            agent_id, list_id, ..
        } => write!(out, "{} subscribed {list_id}", short(agent_id)),
        Effect::PullListUnsubscribed {
            agent_id, list_id, ..
        } => write!(out, "{} unsubscribed {list_id}", short(agent_id)),
        Effect::PullRequestAdded { request, .. } => {
            write!(out, "pull request {} added", short(&request.id))
        }
        Effect::PullRequestUpdated { request, .. } => write!(
            out,
            "pull request {} {:?}",
            short(&request.id),
            request.state
        ),
        Effect::PullRequestRemoved { request_id, .. } => {
            write!(out, "pull request {} removed", short(request_id))
        }
        Effect::PullRequestJoined { agent_id, request } => write!(
            out,
            "{} joined pull request {}",
            short(agent_id),
            short(&request.id)
        ),
        Effect::Rejected { input, error } => write!(out, "{input} refused: {}", error.code()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Direction, Input, MrdConfig, NewTask, QueueConfig, RoutingConfig, RoutingCore,
        SelectionPolicy, TaskMode,
    };
    use serde_json::json;

    fn core() -> RoutingCore {
        let mut core = RoutingCore::new(RoutingConfig::default());
        core.handle(
            0,
            Input::UpsertMrd(MrdConfig {
                id: "chat".into(),
                name: "CHAT".into(),
                description: String::new(),
                max_tasks: 2,
                interruptible: true,
            }),
        );
        core.handle(
            0,
            Input::UpsertQueue(QueueConfig {
                id: "q".into(),
                name: "Q".into(),
                mrd_id: "chat".into(),
                priority: 1,
                accept_timeout_ms: None,
                agent_sla_ms: None,
                service_level_threshold_ms: None,
                steps: Vec::new(),
            }),
        );
        core
    }

    fn enqueue(session: serde_json::Value) -> Input {
        Input::EnqueueTask(Box::new(NewTask {
            task_id: "task-0001-x".into(),
            media_id: "m".into(),
            conversation_id: "c".into(),
            queue_id: "q".into(),
            priority: 5,
            direction: Direction::Inbound,
            mode: TaskMode::Queue,
            offer_to_agent: true,
            agent_request_ttl_ms: None,
            selection_policy: SelectionPolicy::LongestAvailable,
            preferred_last_agent: None,
            exclude_agents: Vec::new(),
            related_task: None,
            request_session: session,
            metadata: json!({"requestType": "CHAT"}),
        }))
    }

    #[test]
    fn the_digest_ignores_payloads_and_sees_routing() {
        let with = core().handle(10, enqueue(json!({"customer": "Ada Lovelace"})));
        let journaled = journal_form(&mut enqueue(json!({"x": 1}))).unwrap();
        let stripped: Input = serde_json::from_value(journaled).unwrap();
        let stripped = core().handle(10, stripped);
        assert!(!with.is_empty());
        assert_eq!(digest(&with), digest(&stripped));
        assert_eq!(brief(&with), brief(&stripped));
        assert!(
            brief(&with).starts_with("enqueued task-000 in Q at 5"),
            "{}",
            brief(&with)
        );
        // Another time is another decision.
        let later = core().handle(11, enqueue(json!({})));
        assert_ne!(digest(&with), digest(&later));
        assert_eq!(digest(&[]), FnvHasher::default().finish());
    }

    #[test]
    fn a_journaled_input_reads_back_without_its_payloads() {
        let mut input = enqueue(json!({"customer": "Ada"}));
        let text = journal_form(&mut input).unwrap().to_string();
        assert!(!text.contains("Ada"), "{text}");
        // The input itself keeps its payloads.
        assert_eq!(input, enqueue(json!({"customer": "Ada"})));
        let Input::EnqueueTask(back) = serde_json::from_str(&text).unwrap() else {
            panic!("{text}");
        };
        assert_eq!(back.request_session, json!(null));
        assert_eq!(back.task_id, "task-0001-x");
    }
}
