//! The live figures: a sans-IO fold over stored events ([`LiveEvent`]) in commit
//! order, per queue (today and rolling), per agent (today) and per ongoing
//! conversation, as `docs/metrics.md` defines them. The driver passes the time in
//! (`set_day_start`, `expire`); nothing here reads a clock or does I/O, so replaying
//! the stored events gives exactly the figures the live fold had.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::counts::{Counts, Occurrence, Rolling};
use super::facts::{Fact, LiveEvent, TaskFacts};
use crate::clock::Millis;

/// The fold's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureSettings {
    /// Abandons with a wait under this are short abandons.
    pub short_abandon_ms: Millis,
    /// The rolling window.
    pub rolling_ms: Millis,
    /// Service-level threshold of queues without their own.
    pub default_service_level_ms: Millis,
}

impl Default for FigureSettings {
    fn default() -> Self {
        FigureSettings {
            short_abandon_ms: 5_000,
            rolling_ms: 30 * 60_000,
            default_service_level_ms: 30_000,
        }
    }
}

/// One queue's counts.
#[derive(Debug, Clone, Default)]
pub struct QueueFigures {
    pub name: String,
    pub today: Counts,
    pub rolling: Rolling,
}

/// What the fold remembers of an open task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskMemory {
    pub conversation_id: String,
    pub queue_id: String,
    pub state: String,
    pub media_state: String,
    pub assigned_to: Option<String>,
    pub enqueue_time: Millis,
    pub answer_time: Millis,
    /// An agent accepted this task at least once.
    pub answered: bool,
    /// The queue the task was counted as offered in.
    offered_in: Option<String>,
}

impl TaskMemory {
    /// Waiting for an agent: queued, or offered and not accepted yet.
    pub fn is_waiting(&self) -> bool {
        matches!(self.media_state.as_str(), "QUEUED" | "RESERVED")
    }
}

/// An ongoing conversation: one with an open task.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConversationMemory {
    pub customer_name: Option<String>,
    pub channel_name: Option<String>,
    /// When its first task we saw was enqueued.
    pub started_at: Millis,
    /// Its open tasks, by id.
    pub tasks: BTreeSet<String>,
    /// The first customer message after the last agent message, if no agent answered it.
    pub unanswered_since: Option<Millis>,
}

/// Ids whose figures changed since the last [`Figures::take_changes`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Changes {
    pub queues: BTreeSet<String>,
    pub agents: BTreeSet<String>,
    pub conversations: BTreeSet<String>,
    /// Conversations no longer ongoing.
    pub ended: BTreeSet<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
            && self.agents.is_empty()
            && self.conversations.is_empty()
            && self.ended.is_empty()
    }
}

#[derive(Debug, Default)]
pub struct Figures {
    settings: FigureSettings,
    day_start: Millis,
    queues: BTreeMap<String, QueueFigures>,
    /// Per agent, today: `handled` and the handle-time sum.
    agents: HashMap<String, Counts>,
    tasks: HashMap<String, TaskMemory>,
    conversations: HashMap<String, ConversationMemory>,
    service_level_ms: HashMap<String, Millis>,
    changes: Changes,
}

impl Figures {
    pub fn new(settings: FigureSettings, day_start: Millis) -> Self {
        Figures {
            settings,
            day_start,
            ..Figures::default()
        }
    }

    pub fn settings(&self) -> &FigureSettings {
        &self.settings
    }

    pub fn day_start(&self) -> Millis {
        self.day_start
    }

    /// A queue's service-level threshold (its `service_level_secs`). Applies to
    /// answers folded from now on.
    pub fn set_service_level(&mut self, queue_id: &str, threshold_ms: Option<Millis>) {
        match threshold_ms {
            Some(ms) => self.service_level_ms.insert(queue_id.to_string(), ms),
            None => self.service_level_ms.remove(queue_id),
        };
    }

    /// Makes sure the queue has a row, named `name`.
    pub fn name_queue(&mut self, queue_id: &str, name: &str) {
        let queue = self.queues.entry(queue_id.to_string()).or_default();
        if queue.name != name {
            queue.name = name.to_string();
            self.changes.queues.insert(queue_id.to_string());
        }
    }

    /// The queue's settings changed: its row is pushed again.
    pub fn touch_queue(&mut self, queue_id: &str) {
        self.queues.entry(queue_id.to_string()).or_default();
        self.changes.queues.insert(queue_id.to_string());
    }

    /// A new day began at `day_start`: today's counts start from zero.
    pub fn set_day_start(&mut self, day_start: Millis) {
        if day_start == self.day_start {
            return;
        }
        self.day_start = day_start;
        for (id, queue) in &mut self.queues {
            queue.today = Counts::default();
            self.changes.queues.insert(id.clone());
        }
        for id in self.agents.keys() {
            self.changes.agents.insert(id.clone());
        }
        self.agents.clear();
    }

    /// Takes occurrences older than the rolling window out of it.
    pub fn expire(&mut self, now: Millis) {
        let span = self.settings.rolling_ms;
        for (id, queue) in &mut self.queues {
            if queue.rolling.expire(now, span) {
                self.changes.queues.insert(id.clone());
            }
        }
    }

    /// When the next occurrence leaves a rolling window.
    pub fn next_expiry(&self) -> Option<Millis> {
        let span = self.settings.rolling_ms;
        self.queues
            .values()
            .filter_map(|q| q.rolling.next_expiry(span))
            .min()
    }

    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    pub fn queues(&self) -> impl Iterator<Item = (&String, &QueueFigures)> {
        self.queues.iter()
    }

    pub fn queue(&self, queue_id: &str) -> Option<&QueueFigures> {
        self.queues.get(queue_id)
    }

    /// An agent's counts today (`handled`, `aht_ms`).
    pub fn agent_today(&self, agent_id: &str) -> Counts {
        self.agents.get(agent_id).copied().unwrap_or_default()
    }

    pub fn tasks(&self) -> impl Iterator<Item = (&String, &TaskMemory)> {
        self.tasks.iter()
    }

    pub fn task(&self, task_id: &str) -> Option<&TaskMemory> {
        self.tasks.get(task_id)
    }

    pub fn conversations(&self) -> impl Iterator<Item = (&String, &ConversationMemory)> {
        self.conversations.iter()
    }

    pub fn conversation(&self, id: &str) -> Option<&ConversationMemory> {
        self.conversations.get(id)
    }

    /// Waiting tasks of a queue and the oldest enqueue time among them.
    pub fn waiting(&self, queue_id: &str) -> (u64, Option<Millis>) {
        self.tasks
            .values()
            .filter(|t| t.queue_id == queue_id && t.is_waiting())
            .fold((0, None), |(n, oldest), t| {
                let oldest = Some(oldest.map_or(t.enqueue_time, |o: Millis| o.min(t.enqueue_time)));
                (n + 1, oldest)
            })
    }

    /// Folds one stored event in.
    pub fn apply(&mut self, event: &LiveEvent) {
        let at = event.at;
        let conversation_id = &event.conversation_id;
        match &event.fact {
            Fact::Enqueued(task) => {
                let offered = task.reason.is_none()
                    && self
                        .tasks
                        .get(&task.id)
                        .is_none_or(|m| m.offered_in.as_deref() != Some(task.queue_id.as_str()));
                // A supervisor moved the waiting task: out of its old queue, in to this one.
                let moved_from = self
                    .tasks
                    .get(&task.id)
                    .filter(|m| m.queue_id != task.queue_id)
                    .map(|m| m.queue_id.clone());
                if let Some(old) = &moved_from {
                    self.record(old, at, Occurrence::TransferredOut);
                }
                if offered {
                    let transfer = task.is_transfer() || moved_from.is_some();
                    self.record(&task.queue_id, at, Occurrence::Offered { transfer });
                }
                self.task_changed(conversation_id, at, task, offered);
            }
            Fact::Changed(task) => self.task_changed(conversation_id, at, task, false),
            Fact::Reserved { agent_id, task } => {
                self.record(&task.queue_id, at, Occurrence::Reserved);
                self.task_changed(conversation_id, at, task, false);
                if let Some(memory) = self.tasks.get_mut(&task.id) {
                    memory.assigned_to = Some(agent_id.clone());
                }
            }
            Fact::CustomerMessage => {
                if let Some(c) = self.conversations.get_mut(conversation_id) {
                    if c.unanswered_since.is_none() {
                        c.unanswered_since = Some(at);
                        self.changes.conversations.insert(conversation_id.clone());
                    }
                }
            }
            Fact::AgentMessage => {
                if let Some(c) = self.conversations.get_mut(conversation_id) {
                    if c.unanswered_since.take().is_some() {
                        self.changes.conversations.insert(conversation_id.clone());
                    }
                }
            }
        }
    }

    /// Counts what the task's new snapshot means against what we knew of it.
    fn task_changed(&mut self, conversation_id: &str, at: Millis, task: &TaskFacts, offered: bool) {
        let before = self.tasks.get(&task.id).cloned();
        let q = task.queue_id.as_str();
        self.name_queue_from(task);
        let was_reserved = before.as_ref().is_some_and(|m| m.media_state == "RESERVED");
        if was_reserved && task.media_state != "RESERVED" && task.reason.as_deref() == Some("RONA")
        {
            self.record(q, at, Occurrence::Rona);
        }
        if was_reserved
            && task.media_state == "QUEUED"
            && task.reason.as_deref() == Some("DECLINED")
        {
            self.record(q, at, Occurrence::Rejected);
        }
        let answered_before = before.as_ref().is_some_and(|m| m.answered);
        let answered_now = task.media_state == "ACTIVE" && task.answer_time > 0;
        if answered_now && !answered_before {
            let wait_ms = (task.answer_time - task.enqueue_time).max(0);
            let threshold = self
                .service_level_ms
                .get(q)
                .copied()
                .unwrap_or(self.settings.default_service_level_ms);
            let within = wait_ms <= threshold;
            self.record(q, at, Occurrence::Answered { wait_ms, within });
        }
        let answered = answered_before || answered_now;
        if let Some(agent) = &task.assigned_to {
            self.changes.agents.insert(agent.clone());
        }
        if let Some(agent) = before.as_ref().and_then(|m| m.assigned_to.as_ref()) {
            self.changes.agents.insert(agent.clone());
        }
        if task.is_closed() {
            self.task_closed(conversation_id, at, task, answered);
            return;
        }
        let offered_in = if offered {
            Some(task.queue_id.clone())
        } else {
            before.as_ref().and_then(|m| m.offered_in.clone())
        };
        self.tasks.insert(
            task.id.clone(),
            TaskMemory {
                conversation_id: conversation_id.to_string(),
                queue_id: task.queue_id.clone(),
                state: task.state.clone(),
                media_state: task.media_state.clone(),
                assigned_to: task.assigned_to.clone(),
                enqueue_time: task.enqueue_time,
                answer_time: task.answer_time,
                answered,
                offered_in,
            },
        );
        let conversation = self
            .conversations
            .entry(conversation_id.to_string())
            .or_insert_with(|| ConversationMemory {
                started_at: task.enqueue_time,
                ..ConversationMemory::default()
            });
        conversation.tasks.insert(task.id.clone());
        if conversation.customer_name.is_none() {
            conversation.customer_name = task.customer_name.clone();
        }
        if conversation.channel_name.is_none() {
            conversation.channel_name = task.channel_name.clone();
        }
        self.changes.queues.insert(task.queue_id.clone());
        self.changes
            .conversations
            .insert(conversation_id.to_string());
        self.changes.ended.remove(conversation_id);
    }

    fn task_closed(&mut self, conversation_id: &str, at: Millis, task: &TaskFacts, answered: bool) {
        let q = task.queue_id.as_str();
        let reason = task.reason.as_deref();
        if reason == Some("TRANSFERRED") {
            self.record(q, at, Occurrence::TransferredOut);
        }
        if answered {
            if let (Some(agent), true) = (&task.assigned_to, task.answer_time > 0) {
                let handled = Occurrence::Handled {
                    handle_ms: (at - task.answer_time).max(0),
                };
                self.record(q, at, handled);
                if at >= self.day_start {
                    self.agents
                        .entry(agent.clone())
                        .or_default()
                        .apply(handled, 1);
                }
            }
        } else {
            let wait_ms = (at - task.enqueue_time).max(0);
            match reason {
                Some("CANCELLED") | Some("NO_AGENT_AVAILABLE") if !task.is_assistance() => {
                    let short = wait_ms < self.settings.short_abandon_ms;
                    self.record(q, at, Occurrence::Abandoned { wait_ms, short });
                }
                Some("FORCE_CLOSED") => self.record(q, at, Occurrence::Flushed),
                _ => {}
            }
        }
        self.tasks.remove(&task.id);
        self.changes.queues.insert(task.queue_id.clone());
        if let Some(conversation) = self.conversations.get_mut(conversation_id) {
            conversation.tasks.remove(&task.id);
            if conversation.tasks.is_empty() {
                self.conversations.remove(conversation_id);
                self.changes.conversations.remove(conversation_id);
                self.changes.ended.insert(conversation_id.to_string());
            } else {
                self.changes
                    .conversations
                    .insert(conversation_id.to_string());
            }
        }
    }

    fn name_queue_from(&mut self, task: &TaskFacts) {
        if !self.queues.contains_key(&task.queue_id) {
            self.name_queue(&task.queue_id, &task.queue_name);
        }
    }

    fn record(&mut self, queue_id: &str, at: Millis, occurrence: Occurrence) {
        let queue = self.queues.entry(queue_id.to_string()).or_default();
        if at >= self.day_start {
            queue.today.apply(occurrence, 1);
        }
        queue.rolling.add(at, occurrence);
        self.changes.queues.insert(queue_id.to_string());
    }
}
