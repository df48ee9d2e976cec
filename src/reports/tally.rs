//! The sans-IO core of the kept aggregates: what one task-log row ([`LiveEvent`])
//! counts for the reports, given what was remembered of its task ([`TaskMemo`]).
//! It follows `docs/metrics.md` exactly as the live fold (`crate::live::figures`)
//! does, and names the agent an occurrence belongs to (an offer, an answer, a RONA,
//! a handled or transferred task), so team and agent reports can count it too.
//! The occurrences are `crate::live::counts::Occurrence`, summed by the same
//! `Counts`, so the report's rates are the console's.

use crate::clock::Millis;
use crate::live::counts::{Counts, Occurrence};
use crate::live::facts::{Fact, LiveEvent, TaskFacts};

/// The settings the definitions need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TallySettings {
    /// Abandons with a wait under this are short abandons.
    pub short_abandon_ms: Millis,
    /// Service-level threshold of a queue that has none stored.
    pub default_service_level_ms: Millis,
}

impl Default for TallySettings {
    fn default() -> Self {
        TallySettings {
            short_abandon_ms: 5_000,
            default_service_level_ms: 30_000,
        }
    }
}

impl TallySettings {
    pub fn from_config(config: &crate::config::Config) -> Self {
        TallySettings {
            short_abandon_ms: (config.supervisor.short_abandon_secs as i64).saturating_mul(1000),
            ..TallySettings::default()
        }
    }
}

/// What is remembered of an open task between its changes (`report_tasks`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskMemo {
    pub conversation_id: String,
    pub queue_id: String,
    /// The queue the task was counted offered in.
    pub offered_in: Option<String>,
    pub media_state: String,
    pub assigned_to: Option<String>,
    /// An agent accepted this task at least once.
    pub answered: bool,
}

/// One occurrence, and the agent it belongs to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub occurrence: Occurrence,
    pub agent: Option<String>,
    /// The queue it counts at when not the task's (the old queue of a moved task).
    pub queue: Option<String>,
    /// A supervisor's move: it counts at the queues only, not in the channel's
    /// report (the chat did not come or go there).
    pub queue_only: bool,
}

/// A task that closed after an agent answered it: its first response and wrap-up
/// codes are read from its conversation's messages between these times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedAnswered {
    pub conversation_id: String,
    pub queue_id: String,
    pub agent: Option<String>,
    pub enqueue_time: Millis,
    pub answer_time: Millis,
    pub closed_at: Millis,
}

/// What one row means.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Step {
    /// The task's memo after the row; `None` once it closed.
    pub memo: Option<TaskMemo>,
    pub counted: Vec<Counted>,
    pub closed: Option<ClosedAnswered>,
}

/// What `event` counts, given the task's memo `before` and its queue's service-level
/// threshold `service_level_ms` (`None`: the default).
pub fn step(
    before: Option<&TaskMemo>,
    event: &LiveEvent,
    service_level_ms: Option<Millis>,
    settings: &TallySettings,
) -> Step {
    let mut out = Step::default();
    let (task, offered) = match &event.fact {
        Fact::Enqueued(task) => {
            let offered = task.reason.is_none()
                && before.is_none_or(|m| m.offered_in.as_deref() != Some(task.queue_id.as_str()));
            // A supervisor moved the waiting task: out of its old queue, in to this one.
            let moved_from = before
                .filter(|m| m.queue_id != task.queue_id)
                .map(|m| m.queue_id.clone());
            if let Some(old) = &moved_from {
                out.counted.push(Counted {
                    occurrence: Occurrence::TransferredOut,
                    agent: None,
                    queue: Some(old.clone()),
                    queue_only: true,
                });
            }
            if offered {
                let transfer = task.is_transfer() || moved_from.is_some();
                out.counted.push(Counted {
                    occurrence: Occurrence::Offered { transfer },
                    agent: None,
                    queue: None,
                    queue_only: moved_from.is_some(),
                });
            }
            (task, offered)
        }
        Fact::Changed(task) => (task, false),
        Fact::Reserved { agent_id, task } => {
            out.count(Occurrence::Reserved, Some(agent_id.clone()));
            (task, false)
        }
        Fact::CustomerMessage | Fact::AgentMessage => {
            out.memo = before.cloned();
            return out;
        }
    };
    let was_reserved = before.is_some_and(|m| m.media_state == "RESERVED");
    if was_reserved && task.media_state != "RESERVED" && task.reason.as_deref() == Some("RONA") {
        let agent = before.and_then(|m| m.assigned_to.clone());
        out.count(Occurrence::Rona, agent);
    }
    if was_reserved && task.media_state == "QUEUED" && task.reason.as_deref() == Some("DECLINED") {
        let agent = before.and_then(|m| m.assigned_to.clone());
        out.count(Occurrence::Rejected, agent);
    }
    let answered_before = before.is_some_and(|m| m.answered);
    let answered_now = task.media_state == "ACTIVE" && task.answer_time > 0;
    if answered_now && !answered_before {
        let wait_ms = (task.answer_time - task.enqueue_time).max(0);
        let within = wait_ms <= service_level_ms.unwrap_or(settings.default_service_level_ms);
        out.count(
            Occurrence::Answered { wait_ms, within },
            task.assigned_to.clone(),
        );
    }
    let answered = answered_before || answered_now;
    if task.is_closed() {
        out.close(event, task, answered, settings);
        return out;
    }
    let assigned_to = match &event.fact {
        Fact::Reserved { agent_id, .. } => Some(agent_id.clone()),
        _ => task.assigned_to.clone(),
    };
    out.memo = Some(TaskMemo {
        conversation_id: event.conversation_id.clone(),
        queue_id: task.queue_id.clone(),
        offered_in: if offered {
            Some(task.queue_id.clone())
        } else {
            before.and_then(|m| m.offered_in.clone())
        },
        media_state: task.media_state.clone(),
        assigned_to,
        answered,
    });
    out
}

impl Step {
    fn count(&mut self, occurrence: Occurrence, agent: Option<String>) {
        self.counted.push(Counted {
            occurrence,
            agent,
            queue: None,
            queue_only: false,
        });
    }

    fn close(&mut self, event: &LiveEvent, task: &TaskFacts, answered: bool, s: &TallySettings) {
        let at = event.at;
        let reason = task.reason.as_deref();
        if reason == Some("TRANSFERRED") {
            self.count(Occurrence::TransferredOut, task.assigned_to.clone());
        }
        if answered {
            if let (Some(agent), true) = (&task.assigned_to, task.answer_time > 0) {
                let handle_ms = (at - task.answer_time).max(0);
                self.count(Occurrence::Handled { handle_ms }, Some(agent.clone()));
                self.closed = Some(ClosedAnswered {
                    conversation_id: event.conversation_id.clone(),
                    queue_id: task.queue_id.clone(),
                    agent: Some(agent.clone()),
                    enqueue_time: task.enqueue_time,
                    answer_time: task.answer_time,
                    closed_at: at,
                });
            }
        } else {
            let wait_ms = (at - task.enqueue_time).max(0);
            match reason {
                Some("CANCELLED") | Some("NO_AGENT_AVAILABLE") if !task.is_assistance() => {
                    let short = wait_ms < s.short_abandon_ms;
                    self.count(Occurrence::Abandoned { wait_ms, short }, None);
                }
                Some("FORCE_CLOSED") => self.count(Occurrence::Flushed, None),
                _ => {}
            }
        }
    }
}

/// The counts of one interval and dimension, with what `Counts` leaves out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub counts: Counts,
    /// The longest wait of an answered or abandoned task.
    pub max_wait_ms: Millis,
    /// Answered tasks with an agent message, and the sum of their first-response times.
    pub first_responses: u64,
    pub first_response_sum_ms: Millis,
}

impl Tally {
    pub fn add(&mut self, occurrence: Occurrence) {
        self.counts.apply(occurrence, 1);
        match occurrence {
            Occurrence::Answered { wait_ms, .. } | Occurrence::Abandoned { wait_ms, .. } => {
                self.max_wait_ms = self.max_wait_ms.max(wait_ms);
            }
            _ => {}
        }
    }

    pub fn add_first_response(&mut self, ms: Millis) {
        self.first_responses += 1;
        self.first_response_sum_ms += ms;
    }

    /// Adds another tally (of a later or other interval) into this one.
    pub fn merge(&mut self, other: &Tally) {
        let (a, b) = (&mut self.counts, &other.counts);
        a.offered += b.offered;
        a.answered += b.answered;
        a.abandoned += b.abandoned;
        a.short_abandons += b.short_abandons;
        a.flushed += b.flushed;
        a.transfers_in += b.transfers_in;
        a.transfers_out += b.transfers_out;
        a.reservations += b.reservations;
        a.ronas += b.ronas;
        a.rejects += b.rejects;
        a.answered_within += b.answered_within;
        a.handled += b.handled;
        a.wait_sum_ms += b.wait_sum_ms;
        a.handle_sum_ms += b.handle_sum_ms;
        self.max_wait_ms = self.max_wait_ms.max(other.max_wait_ms);
        self.first_responses += other.first_responses;
        self.first_response_sum_ms += other.first_response_sum_ms;
    }

    /// Mean first-response time.
    pub fn first_response_ms(&self) -> Option<Millis> {
        (self.first_responses > 0).then(|| self.first_response_sum_ms / self.first_responses as i64)
    }
}

/// The 15-minute interval holding `at`.
pub fn interval_of(at: Millis) -> Millis {
    at - at.rem_euclid(INTERVAL_MS)
}

pub const INTERVAL_MS: Millis = 15 * 60_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn task(media: &str, agent: Option<&str>, answer: Millis) -> TaskFacts {
        TaskFacts {
            id: "t".into(),
            state: "ACTIVE".into(),
            reason: None,
            assigned_to: agent.map(str::to_owned),
            queue_id: "q".into(),
            queue_name: "Q".into(),
            direction: "INBOUND".into(),
            media_state: media.into(),
            enqueue_time: 1_000,
            answer_time: answer,
            customer_name: None,
            channel_name: None,
        }
    }

    fn ev(at: Millis, fact: Fact) -> LiveEvent {
        LiveEvent {
            conversation_id: "c".into(),
            at,
            fact,
        }
    }

    #[test]
    fn a_task_answered_then_closed_counts_for_its_agent() {
        let s = TallySettings::default();
        let first = step(
            None,
            &ev(1_000, Fact::Enqueued(task("QUEUED", None, 0))),
            None,
            &s,
        );
        assert_eq!(first.counted.len(), 1);
        assert_eq!(first.counted[0].agent, None);
        let memo = first.memo.expect("open");
        let offer = Fact::Reserved {
            agent_id: "a".into(),
            task: task("RESERVED", Some("a"), 0),
        };
        let reserved = step(Some(&memo), &ev(2_000, offer), None, &s);
        let memo = reserved.memo.expect("open");
        assert_eq!(memo.assigned_to.as_deref(), Some("a"));
        let answer = step(
            Some(&memo),
            &ev(41_000, Fact::Changed(task("ACTIVE", Some("a"), 41_000))),
            Some(40_000),
            &s,
        );
        assert_eq!(
            answer.counted[0].occurrence,
            Occurrence::Answered {
                wait_ms: 40_000,
                within: true
            }
        );
        let memo = answer.memo.expect("open");
        let mut closed = task("CLOSED", Some("a"), 41_000);
        closed.state = "CLOSED".into();
        let close = step(Some(&memo), &ev(101_000, Fact::Changed(closed)), None, &s);
        assert_eq!(close.memo, None);
        assert_eq!(
            close.counted,
            vec![Counted {
                occurrence: Occurrence::Handled { handle_ms: 60_000 },
                agent: Some("a".into()),
                queue: None,
                queue_only: false,
            }]
        );
        assert_eq!(close.closed.expect("answered").answer_time, 41_000);
    }

    #[test]
    fn a_supervisors_move_counts_at_the_queues_only() {
        let s = TallySettings::default();
        let first = step(
            None,
            &ev(1_000, Fact::Enqueued(task("QUEUED", None, 0))),
            None,
            &s,
        );
        assert!(
            !first.counted[0].queue_only,
            "a new chat counts in its channel"
        );
        let memo = first.memo.expect("open");
        let mut moved = task("QUEUED", None, 0);
        moved.queue_id = "q2".into();
        let step = step(Some(&memo), &ev(5_000, Fact::Enqueued(moved)), None, &s);
        let counted: Vec<_> = step
            .counted
            .iter()
            .map(|c| (c.occurrence, c.queue.clone(), c.queue_only))
            .collect();
        assert_eq!(
            counted,
            vec![
                (Occurrence::TransferredOut, Some("q".to_string()), true),
                (Occurrence::Offered { transfer: true }, None, true),
            ]
        );
    }

    #[test]
    fn intervals_are_quarter_hours() {
        assert_eq!(interval_of(0), 0);
        assert_eq!(interval_of(INTERVAL_MS - 1), 0);
        assert_eq!(interval_of(INTERVAL_MS), INTERVAL_MS);
        assert_eq!(interval_of(-1), -INTERVAL_MS);
    }
}
