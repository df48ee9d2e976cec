//! What the input journal keeps of a conversation input's effects, so that a replay
//! can check it recomputed the same (`conversation::journal`): a [`digest`] (FNV-1a,
//! 64 bits, stable across runs of one build) of what the core decided, and a [`brief`] line a
//! person can read at a divergence.
//!
//! Both leave out what the customer wrote and who the customer is (message texts,
//! names, form values): the journal refers to stored messages instead of copying them
//! and an erasure scrubs the customer's values from what it keeps, and neither may make
//! a replay diverge. What is kept is the decisions: which events were stored under
//! which ids and sequence numbers, who each went to, the conversation's state, its
//! participants' roles and states, its sessions' states, its runtime (timers, queue,
//! tasks), routing requests, wrap-ups, studio calls and refusals.

use std::fmt::{self, Write};

use crate::routing::digest::{brief_of, digest_of, short};

use super::effect::{CustomerAddress, Effect};
use super::record::{ConversationRecord, PersistStep};
use crate::cim::CimEvent;

/// FNV-1a of the decisions in `effects`, in order.
pub fn digest(effects: &[Effect]) -> u64 {
    digest_of(effects, render)
}

/// One short line per effect, `; `-separated (ids cut to 8 characters).
pub fn brief(effects: &[Effect]) -> String {
    brief_of(effects, brief_one)
}

fn event(w: &mut impl Write, seq: u64, e: &CimEvent) -> fmt::Result {
    write!(w, "#{seq} {} {:?}", e.id, e.name)
}

fn address(w: &mut impl Write, a: &CustomerAddress) -> fmt::Result {
    write!(w, "{}@{}", a.channel_session_id, a.channel_id)
}

fn record(w: &mut impl Write, r: &ConversationRecord) -> fmt::Result {
    let c = &r.conversation;
    write!(w, "{:?}", c.state)?;
    for p in &c.participants {
        write!(
            w,
            " p:{} {:?} {:?} {:?} {:?}",
            p.id,
            p.participant_type,
            p.role,
            p.state.get(),
            p.is_active.get()
        )?;
    }
    for s in &r.channel_sessions {
        write!(w, " s:{} {:?}", s.id, s.state_name())?;
    }
    Ok(())
}

fn persist(w: &mut impl Write, p: &PersistStep) -> fmt::Result {
    write!(w, "persist {} {} ", p.conversation_id, p.last_seq)?;
    if let Some(r) = &p.record {
        record(w, r)?;
    }
    // The runtime holds ids, times and flags only; its maps are ordered. Written
    // straight into the hasher (no text is built).
    write!(w, "{:?}", p.runtime)?;
    for e in &p.events {
        w.write_char(' ')?;
        event(w, e.seq, &e.event)?;
        write!(w, " {:?}", e.message_id)?;
    }
    Ok(())
}

fn render(w: &mut impl Write, effect: &Effect) -> fmt::Result {
    match effect {
        Effect::Persist(p) => persist(w, p),
        Effect::ToCustomer {
            conversation_id,
            address: a,
            seq,
            event: e,
        } => {
            write!(w, "customer {conversation_id} ")?;
            address(w, a)?;
            w.write_char(' ')?;
            event(w, *seq, e)
        }
        Effect::ToAgents {
            conversation_id,
            agent_ids,
            seq,
            event: e,
        } => {
            write!(w, "agents {conversation_id} {agent_ids:?} ")?;
            event(w, *seq, e)
        }
        Effect::Ephemeral {
            conversation_id,
            agent_ids,
            customer,
            event: e,
        } => {
            write!(w, "ephemeral {conversation_id} {agent_ids:?} ")?;
            if let Some(a) = customer {
                address(w, a)?;
            }
            write!(w, " {:?}", e.name)
        }
        Effect::ToBots {
            conversation_id,
            bots,
            seq,
            event: e,
        } => {
            write!(w, "bots {conversation_id}")?;
            for bot in bots {
                write!(w, " {}", bot.id)?;
            }
            w.write_char(' ')?;
            event(w, *seq, e)
        }
        Effect::Ack {
            id,
            conversation_id,
            seq,
            duplicate,
        } => write!(w, "ack {id} {conversation_id} {seq} {duplicate}"),
        Effect::ChannelSessionStarted {
            conversation_id,
            channel_session,
            new_conversation,
        } => write!(
            w,
            "session started {conversation_id} {} {new_conversation}",
            channel_session.id
        ),
        Effect::ChannelSessionClosed {
            conversation_id,
            channel_session_id,
            state,
            reason,
        } => write!(
            w,
            "session closed {conversation_id} {channel_session_id} {state:?} {reason:?}"
        ),
        Effect::FindAgent(f) => write!(
            w,
            "find agent {} {:?} {} {:?} {:?} {} {:?} {:?} {:?} {:?} {:?} {:?}",
            f.conversation_id,
            f.queue,
            f.priority,
            f.last_agent_id,
            f.exclude_agents,
            f.offer_to_agent,
            f.request_type,
            f.mrd_id,
            f.agent_request_ttl_secs,
            f.selection_policy,
            f.routing_mode,
            f.channel_session.id
        ),
        Effect::CancelTasks {
            conversation_id,
            disposition,
        } => write!(w, "cancel tasks {conversation_id} {disposition:?}"),
        Effect::AgentTaskEnded {
            conversation_id,
            agent_id,
            task_id,
            disposition,
            wrap_up,
        } => write!(
            w,
            "task ended {conversation_id} {agent_id} {task_id:?} {disposition:?} {wrap_up}"
        ),
        Effect::WrapupTimerStarted {
            conversation_id,
            agent_id,
            task_id,
            duration_secs,
            ..
        } => write!(
            w,
            "wrap-up {conversation_id} {agent_id} {task_id:?} {duration_secs}"
        ),
        Effect::WrapupEnded {
            conversation_id,
            agent_id,
            task_id,
            timed_out,
        } => write!(
            w,
            "wrap-up ended {conversation_id} {agent_id} {task_id:?} {timed_out}"
        ),
        Effect::TopicClosed {
            conversation_id,
            agent_ids,
        } => write!(w, "topic closed {conversation_id} {agent_ids:?}"),
        Effect::NotifyDesks {
            agent_ids, event, ..
        } => write!(w, "notify {agent_ids:?} {event}"),
        Effect::AgentSlaThreshold {
            conversation_id,
            agent_ids,
            percent,
            remaining_ms,
        } => write!(
            w,
            "sla {conversation_id} {agent_ids:?} {percent} {remaining_ms}"
        ),
        Effect::CallStudio {
            request_id,
            conversation_id,
            intent,
            timeout_ms,
            ..
        } => write!(
            w,
            "studio {request_id} {conversation_id} {intent:?} {timeout_ms}"
        ),
        Effect::StudioFallback {
            request_id,
            conversation_id,
            intent,
            reason,
        } => write!(
            w,
            "studio fallback {request_id} {conversation_id} {intent:?} {reason}"
        ),
        Effect::ActionFailed {
            conversation_id,
            action,
            ..
        } => write!(w, "action failed {conversation_id} {action}"),
        Effect::ConversationClosed { conversation_id } => {
            write!(w, "closed {conversation_id}")
        }
        Effect::Rejected(error) => write!(w, "rejected {}", error.code()),
    }
}

fn brief_one(out: &mut String, effect: &Effect) -> fmt::Result {
    match effect {
        Effect::Persist(p) => {
            write!(
                out,
                "persist {} to #{}",
                short(&p.conversation_id),
                p.last_seq
            )?;
            if let Some(r) = &p.record {
                write!(out, " {:?}", r.conversation.state)?;
            }
            for e in &p.events {
                write!(out, " #{} {:?}", e.seq, e.event.name)?;
            }
            Ok(())
        }
        Effect::ToCustomer { seq, event, .. } => {
            write!(out, "to customer #{seq} {:?}", event.name)
        }
        Effect::ToAgents {
            agent_ids,
            seq,
            event,
            ..
        } => write!(
            out,
            "to {} agent(s) #{seq} {:?}",
            agent_ids.len(),
            event.name
        ),
        Effect::Ephemeral { event, .. } => write!(out, "ephemeral {:?}", event.name),
        Effect::ToBots { seq, event, .. } => write!(out, "to bots #{seq} {:?}", event.name),
        Effect::Ack { seq, duplicate, .. } => match duplicate {
            true => write!(out, "ack #{seq} duplicate"),
            false => write!(out, "ack #{seq}"),
        },
        Effect::ChannelSessionStarted {
            new_conversation, ..
        } => write!(out, "session started (new: {new_conversation})"),
        Effect::ChannelSessionClosed { reason, .. } => write!(out, "session closed {reason:?}"),
        Effect::FindAgent(f) => write!(out, "find agent {:?}", f.queue),
        Effect::CancelTasks { disposition, .. } => write!(out, "cancel tasks {disposition:?}"),
        Effect::AgentTaskEnded {
            agent_id,
            disposition,
            ..
        } => write!(out, "task of {} ended {disposition:?}", short(agent_id)),
        Effect::WrapupTimerStarted { agent_id, .. } => {
            write!(out, "wrap-up of {}", short(agent_id))
        }
        Effect::WrapupEnded { agent_id, .. } => {
            write!(out, "wrap-up of {} ended", short(agent_id))
        }
        Effect::TopicClosed { agent_ids, .. } => {
            write!(out, "topic closed for {} agent(s)", agent_ids.len())
        }
        Effect::NotifyDesks { event, .. } => write!(out, "notify {event}"),
        Effect::AgentSlaThreshold { percent, .. } => write!(out, "sla {percent}%"),
        Effect::CallStudio { intent, .. } => write!(out, "studio {intent:?}"),
        Effect::StudioFallback { intent, .. } => write!(out, "studio fallback {intent:?}"),
        Effect::ActionFailed { action, .. } => write!(out, "{action} failed"),
        Effect::ConversationClosed { conversation_id } => {
            write!(out, "closed {}", short(conversation_id))
        }
        Effect::Rejected(error) => write!(out, "rejected {}", error.code()),
    }
}
