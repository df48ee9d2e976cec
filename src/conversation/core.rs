//! `ConversationCore`: the sans-IO conversation manager. `handle(now, input)` applies
//! one input and returns the effects in contract order (every `Persist` first, then
//! deliveries, routing requests, studio calls, ...); `next_deadline()` says when to
//! `Tick` next. No clock reads, no I/O; ids come from an [`IdGen`].
//!
//! One call runs in three phases: the input's handler (which validates before it
//! changes anything, so a refused input changes nothing), the intents it raised (built-in
//! flow at once, external flow as `CallStudio`: `intents`), and a settle pass; then
//! every touched conversation becomes one `Persist`.

use std::collections::{BTreeSet, HashMap};

use super::effect::Effect;
use super::error::CoreError;
use super::ids::{IdGen, UuidIds};
use super::input::Input;
use super::intents::{run_intents, studio_answered};
use super::open::OpenConversation;
use super::origins::Origins;
use super::record::{ConversationRecord, ConversationRuntime, PersistStep, RestoredConversation};
use super::settings::CoreSettings;
use super::step::{Ctx, IdRecord, Indexes, Step};
use super::wrapup_close;
use super::{agent_inputs, customer_inputs, hours_hold, routing_inputs, tick};
use crate::cim::{ConversationState, ParticipantRole};
use crate::clock::Millis;

pub(super) type OpenMap = HashMap<String, OpenConversation>;

pub struct ConversationCore<I: IdGen = UuidIds> {
    settings: CoreSettings,
    pub(super) ids: I,
    pub(super) open: OpenMap,
    index: Indexes,
    /// Message origins built lately (never stored).
    origins: Origins,
    /// (deadline, conversation id) for every conversation with a timer.
    deadlines: BTreeSet<(Millis, String)>,
    indexed_deadline: HashMap<String, Millis>,
}

impl ConversationCore<UuidIds> {
    /// A core drawing UUIDs.
    pub fn new(settings: CoreSettings) -> Self {
        ConversationCore::with_ids(settings, UuidIds::default())
    }
}

impl<I: IdGen> ConversationCore<I> {
    pub fn with_ids(settings: CoreSettings, ids: I) -> Self {
        ConversationCore {
            settings,
            ids,
            open: HashMap::new(),
            index: Indexes::default(),
            origins: Origins::default(),
            deadlines: BTreeSet::new(),
            indexed_deadline: HashMap::new(),
        }
    }

    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    /// When the earliest timer of any conversation is due.
    pub fn next_deadline(&self) -> Option<Millis> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Applies one input at time `now`.
    pub fn handle(&mut self, now: Millis, input: Input) -> Vec<Effect> {
        self.ids.at(now);
        if let Input::Restore { conversations } = input {
            self.restore(conversations);
            return Vec::new();
        }
        let due: Vec<String> = match input {
            Input::Tick => self
                .deadlines
                .iter()
                .take_while(|(at, _)| *at <= now)
                .map(|(_, id)| id.clone())
                .collect(),
            _ => Vec::new(),
        };
        let mut step = Step::default();
        let Self {
            settings,
            ids,
            open,
            index,
            origins,
            ..
        } = self;
        let mut cx = Ctx {
            now,
            settings,
            ids,
            index,
            origins,
            step: &mut step,
        };
        let result = dispatch(open, &mut cx, input, &due);
        if let Err(error) = result {
            debug_assert!(step.touched.is_empty(), "a refused input changed state");
            if step.touched.is_empty() {
                return vec![Effect::Rejected(error)];
            }
            // Handlers refuse before changing anything; should one ever not, what changed
            // is still persisted rather than lost.
            let mut effects = self.finish(step);
            effects.push(Effect::Rejected(error));
            return effects;
        }
        for _ in 0..4 {
            run_intents(open, &mut cx);
            let touched = cx.step.touched.clone();
            for id in &touched {
                if let Some(conversation) = open.get_mut(id) {
                    conversation.settle(&mut cx);
                }
            }
            if cx.step.intents.is_empty() {
                break;
            }
        }
        self.finish(step)
    }

    /// Turns the step into effects: one `Persist` per touched conversation, then the
    /// rest in order; drops conversations that closed.
    fn finish(&mut self, step: Step) -> Vec<Effect> {
        let mut effects = Vec::with_capacity(step.touched.len() + step.effects.len());
        let mut closed = Vec::new();
        for id in &step.touched {
            let Some(conversation) = self.open.get_mut(id) else {
                continue;
            };
            conversation.in_step = false;
            let record = conversation
                .record_dirty
                .then(|| Box::new(conversation.record()));
            conversation.record_dirty = false;
            effects.push(Effect::Persist(Box::new(PersistStep {
                conversation_id: id.clone(),
                last_seq: conversation.last_seq,
                record,
                runtime: conversation.runtime.clone(),
                events: std::mem::take(&mut conversation.pending_events),
            })));
            if conversation.closed {
                closed.push(id.clone());
            }
            self.reindex(id);
        }
        effects.extend(step.effects);
        for id in closed {
            self.forget(&id);
            effects.push(Effect::ConversationClosed {
                conversation_id: id,
            });
        }
        effects
    }

    /// Removes a closed conversation, keeping its ids for late duplicates.
    fn forget(&mut self, id: &str) {
        let Some(conversation) = self.open.remove(id) else {
            return;
        };
        self.origins.forget(id);
        for session in &conversation.sessions {
            if self.index.by_session.get(&session.id).map(String::as_str) == Some(id) {
                self.index.by_session.remove(&session.id);
            }
        }
        if self
            .index
            .by_customer
            .get(&conversation.customer_id)
            .map(String::as_str)
            == Some(id)
        {
            self.index.by_customer.remove(&conversation.customer_id);
        }
        for (client_id, seq) in conversation.recent_ids {
            self.index.known_ids.remove(&client_id);
            self.index.remember_closed_id(
                client_id,
                IdRecord {
                    conversation_id: id.to_owned(),
                    seq,
                },
                self.settings.dedup_window_closed,
            );
        }
        self.index
            .remember_closed_conversation(id.to_owned(), self.settings.dedup_window_closed);
        if let Some(at) = self.indexed_deadline.remove(id) {
            self.deadlines.remove(&(at, id.to_owned()));
        }
    }

    fn reindex(&mut self, id: &str) {
        let next = self
            .open
            .get(id)
            .and_then(|c| c.runtime.timers.next_deadline());
        let previous = self.indexed_deadline.get(id).copied();
        if previous == next {
            return;
        }
        if let Some(at) = previous {
            self.deadlines.remove(&(at, id.to_owned()));
            self.indexed_deadline.remove(id);
        }
        if let Some(at) = next {
            self.deadlines.insert((at, id.to_owned()));
            self.indexed_deadline.insert(id.to_owned(), at);
        }
    }

    pub(super) fn restore(&mut self, conversations: Vec<RestoredConversation>) {
        for restored in conversations {
            let RestoredConversation {
                record,
                runtime,
                last_seq,
                recent_ids,
            } = restored;
            let conversation = record.conversation;
            if conversation.state == ConversationState::Closed {
                continue;
            }
            let id = conversation.id.clone();
            let customer_id = conversation
                .customer
                .get()
                .and_then(|c| c.id())
                .or_else(|| {
                    record
                        .channel_sessions
                        .first()
                        .and_then(|s| s.customer.id())
                })
                .unwrap_or_default()
                .to_owned();
            let accepts_customer = !matches!(
                conversation.state,
                ConversationState::WrapUp | ConversationState::Closed
            );
            let mut open = OpenConversation::new(
                conversation,
                record.channel_sessions,
                runtime,
                last_seq,
                customer_id.clone(),
            );
            for session in &open.sessions {
                self.index.by_session.insert(session.id.clone(), id.clone());
            }
            if accepts_customer && !customer_id.is_empty() {
                self.index.by_customer.insert(customer_id, id.clone());
            }
            for request_id in open.runtime.timers.studio_calls.keys() {
                self.index
                    .studio_requests
                    .insert(request_id.clone(), id.clone());
            }
            let window = self.settings.dedup_window_per_conversation.max(1);
            let skip = recent_ids.len().saturating_sub(window);
            for (client_id, seq) in recent_ids.into_iter().skip(skip) {
                self.index.known_ids.insert(
                    client_id.clone(),
                    IdRecord {
                        conversation_id: id.clone(),
                        seq,
                    },
                );
                open.recent_ids.push_back((client_id, seq));
            }
            self.open.insert(id.clone(), open);
            self.reindex(&id);
        }
    }

    // ---- inspection (agent manager, channel layer, tests) -------------------------

    /// The conversation as the store would record it now.
    pub fn conversation(&self, id: &str) -> Option<ConversationRecord> {
        self.open.get(id).map(OpenConversation::record)
    }

    pub fn runtime(&self, id: &str) -> Option<&ConversationRuntime> {
        self.open.get(id).map(|c| &c.runtime)
    }

    /// The role `agent_id` has in the conversation now, if it is in it.
    pub fn agent_role(&self, id: &str, agent_id: &str) -> Option<ParticipantRole> {
        let open = self.open.get(id)?;
        open.conversation
            .agent_members()
            .into_iter()
            .find_map(|(agent, role)| (agent == agent_id).then_some(role))
    }

    /// Why the conversation would not take `agent_id` now (`AgentJoined`'s refusal),
    /// if it would not.
    pub fn join_refusal(&self, id: &str, agent_id: &str) -> Option<CoreError> {
        match self.open.get(id) {
            Some(open) => agent_inputs::join_refusal(open, agent_id),
            None => Some(CoreError::UnknownConversation {
                conversation_id: id.to_owned(),
            }),
        }
    }

    /// Whether an agent in the conversation holds its PRIMARY role.
    pub fn has_primary_agent(&self, id: &str) -> bool {
        self.open
            .get(id)
            .is_some_and(|c| c.conversation.primary_agent().is_some())
    }

    pub fn last_seq(&self, id: &str) -> Option<u64> {
        self.open.get(id).map(|c| c.last_seq)
    }

    /// Ids of the open conversations.
    pub fn conversation_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.open.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// The open conversation the customer would (re)join.
    pub fn conversation_of_customer(&self, customer_id: &str) -> Option<&str> {
        self.index.by_customer.get(customer_id).map(String::as_str)
    }

    /// The open conversation a channel session belongs to.
    pub fn conversation_of_session(&self, channel_session_id: &str) -> Option<&str> {
        self.index
            .by_session
            .get(channel_session_id)
            .map(String::as_str)
    }

    /// Open conversations the agent is an active participant of (any role).
    pub fn agent_conversations(&self, agent_id: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .open
            .values()
            .filter(|c| c.agent(agent_id).is_some())
            .map(|c| c.id.clone())
            .collect();
        ids.sort();
        ids
    }
}

fn dispatch<I: IdGen>(
    open: &mut OpenMap,
    cx: &mut Ctx<'_, I>,
    input: Input,
    due: &[String],
) -> Result<(), CoreError> {
    match input {
        Input::ChatRequested { channel_session } => {
            customer_inputs::chat_requested(open, cx, *channel_session)
        }
        Input::CustomerMessage {
            channel_session,
            message,
        } => customer_inputs::customer_message(open, cx, channel_session, *message),
        Input::CustomerLeft {
            channel_session_id,
            reason,
        } => customer_inputs::customer_left(open, cx, &channel_session_id, reason),
        Input::MessageLeft {
            channel_session,
            message,
            opens_at,
        } => hours_hold::message_left(open, cx, *channel_session, *message, opens_at),
        Input::HoursChanged {
            channel_id,
            opens_at,
        } => hours_hold::hours_changed(open, cx, &channel_id, opens_at),
        Input::AgentJoined {
            conversation_id,
            agent,
            role,
            task_id,
            agent_sla_secs,
        } => agent_inputs::agent_joined(
            open,
            cx,
            &conversation_id,
            agent,
            role,
            task_id,
            agent_sla_secs,
        ),
        Input::AgentLeft {
            conversation_id,
            agent_id,
            reason,
        } => agent_inputs::agent_left(open, cx, &conversation_id, &agent_id, reason),
        Input::AgentRemoved {
            conversation_id,
            agent_id,
            task_id,
            reason,
            task_requeued,
        } => agent_inputs::agent_removed(
            open,
            cx,
            &conversation_id,
            &agent_id,
            &task_id,
            &reason,
            task_requeued,
        ),
        Input::AgentLoggedOut { agent_id } => {
            agent_inputs::agent_logged_out(open, cx, &agent_id);
            Ok(())
        }
        Input::AgentEvent {
            conversation_id,
            agent_id,
            event,
        } => agent_inputs::agent_event(open, cx, &conversation_id, &agent_id, event),
        Input::CloseWrapup {
            conversation_id,
            agent_id,
            event,
        } => wrapup_close::close_wrapup(open, cx, &conversation_id, &agent_id, event),
        Input::ChangeRole {
            conversation_id,
            agent_id,
            role,
        } => agent_inputs::change_role(open, cx, &conversation_id, &agent_id, role),
        Input::Hold {
            conversation_id,
            agent_id,
            duration_secs,
        } => agent_inputs::hold(open, cx, &conversation_id, &agent_id, duration_secs),
        Input::Resume {
            conversation_id,
            agent_id,
        } => agent_inputs::resume(open, cx, &conversation_id, &agent_id),
        Input::EndConversation {
            conversation_id,
            agent_id,
            reason,
        } => agent_inputs::end_conversation(open, cx, &conversation_id, agent_id, reason),
        Input::BotEvent {
            conversation_id,
            event,
        } => agent_inputs::bot_event(open, cx, &conversation_id, event),
        Input::TaskEnqueued {
            conversation_id,
            task,
            queue,
            agent_sla_secs,
        } => routing_inputs::task_enqueued(open, cx, &conversation_id, task, queue, agent_sla_secs),
        Input::TaskStateChanged {
            conversation_id,
            task,
        } => routing_inputs::task_state_changed(open, cx, &conversation_id, task),
        Input::AgentReserved {
            conversation_id,
            agent_id,
            task,
        } => routing_inputs::agent_reserved(open, cx, &conversation_id, &agent_id, task),
        Input::NoAgentAvailable {
            conversation_id,
            task,
        } => routing_inputs::no_agent_available(open, cx, &conversation_id, task),
        Input::MrdInterrupted {
            agent_id,
            mrd_id,
            conversations,
        } => routing_inputs::mrd_interrupted(open, cx, &agent_id, &mrd_id, &conversations),
        Input::StudioActions {
            request_id,
            actions,
        } => studio_answered(open, cx, &request_id, Ok(actions)),
        Input::StudioFailed { request_id, reason } => {
            studio_answered(open, cx, &request_id, Err(reason))
        }
        Input::Tick => {
            tick::fire_due(open, cx, due);
            Ok(())
        }
        Input::Restore { .. } => Ok(()),
    }
}

/// The open conversation `id`, or why there is none.
pub(super) fn lookup<'a>(
    open: &'a mut OpenMap,
    index: &Indexes,
    id: &str,
) -> Result<&'a mut OpenConversation, CoreError> {
    match open.get_mut(id) {
        Some(conversation) if !conversation.closed => Ok(conversation),
        Some(_) => Err(CoreError::ConversationClosed {
            conversation_id: id.to_owned(),
        }),
        None if index.was_closed(id) => Err(CoreError::ConversationClosed {
            conversation_id: id.to_owned(),
        }),
        None => Err(CoreError::UnknownConversation {
            conversation_id: id.to_owned(),
        }),
    }
}
