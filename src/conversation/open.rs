//! `OpenConversation`: one conversation the core holds in memory — the CIM
//! `Conversation`, its channel sessions, the runtime bookkeeping and the events not yet
//! handed to the store — with the queries every operation asks (who is present, which
//! session is current, ...) and the primitives that keep it consistent: numbering and
//! delivering events, raising intents, changing state and session copies.

use std::collections::VecDeque;
use std::sync::Arc;

use super::audience::{deliver_to_customer, is_serving_agent_notice};
use super::effect::{CustomerAddress, Effect};
use super::ids::{IdGen, IdKind};
use super::record::{ConversationRecord, ConversationRuntime, StoredEvent};
use super::step::{Ctx, IdRecord, RaisedIntent, RaisedTrigger};
use super::studio::{FlowContext, IntentFacts};
use super::typing::TypingGate;
use crate::cim::{
    AgentSla, Bot, ChannelSession, ChannelSessionStateName, CimEvent, CimEventName, Conversation,
    ConversationState, HoldTimerDetails, Nullable, Participant, ParticipantRole, ParticipantState,
    ParticipantType, RoomInfo,
};

/// True unless the participant is marked `isActive: false`.
pub(super) fn participant_active(p: &Participant) -> bool {
    p.is_active.get() != Some(&false)
}

/// PRIMARY and ASSISTANT agents serve the customer; monitors and wrap-ups do not.
pub(super) fn is_serving_role(role: &ParticipantRole) -> bool {
    matches!(role, ParticipantRole::Primary | ParticipantRole::Assistant)
}

fn agent_id_of(p: &Participant) -> Option<&str> {
    p.as_cc_user().map(|u| u.id.as_str())
}

pub(super) fn session_started(session: &ChannelSession) -> bool {
    session.state_name() == Some(&ChannelSessionStateName::Started)
}

pub(super) fn address_of(session: &ChannelSession) -> CustomerAddress {
    CustomerAddress {
        channel_session_id: session.id.clone(),
        channel_id: session.channel.id.clone(),
        service_identifier: session.service_identifier().to_owned(),
        channel_customer_identifier: session.channel_customer_identifier().to_owned(),
        provider_webhook: session.channel.provider_webhook().map(str::to_owned),
    }
}

#[derive(Debug, Clone)]
pub(super) struct OpenConversation {
    pub id: String,
    pub customer_id: String,
    pub conversation: Conversation,
    pub sessions: Vec<ChannelSession>,
    pub runtime: ConversationRuntime,
    pub last_seq: u64,
    /// Client ids stored in this conversation, oldest first (bounded).
    pub recent_ids: VecDeque<(String, u64)>,
    /// Events of the current step, not yet handed to the store.
    pub pending_events: Vec<StoredEvent>,
    /// The CIM record changed in the current step.
    pub record_dirty: bool,
    /// Already listed in the current step's `touched`.
    pub in_step: bool,
    /// Reached CLOSED in the current step; leaves the core when the step ends.
    pub closed: bool,
    /// The typing indicators that went out last, per sender (never stored).
    pub typing: TypingGate,
}

impl OpenConversation {
    pub fn new(
        conversation: Conversation,
        sessions: Vec<ChannelSession>,
        runtime: ConversationRuntime,
        last_seq: u64,
        customer_id: String,
    ) -> Self {
        OpenConversation {
            id: conversation.id.clone(),
            customer_id,
            conversation,
            sessions,
            runtime,
            last_seq,
            recent_ids: VecDeque::new(),
            pending_events: Vec::new(),
            record_dirty: false,
            in_step: false,
            closed: false,
            typing: TypingGate::default(),
        }
    }

    // ---- queries -------------------------------------------------------------

    pub fn state(&self) -> &ConversationState {
        &self.conversation.state
    }

    pub fn room_info(&self) -> RoomInfo {
        self.conversation
            .room_info
            .get()
            .cloned()
            .unwrap_or_else(|| RoomInfo::contact_center(self.customer_id.clone()))
    }

    pub fn on_hold(&self) -> bool {
        self.runtime.timers.hold.is_some()
    }

    /// Active agent participants, any role.
    pub fn active_agents(&self) -> impl Iterator<Item = &Participant> {
        self.conversation
            .participants
            .iter()
            .filter(|p| p.participant_type == ParticipantType::Agent && participant_active(p))
    }

    /// Whether an agent routing gave the chat to (one holding a task of it) serves it:
    /// a supervisor who barged in, or a pull-mode joiner, holds none.
    pub fn served_through_a_task(&self) -> bool {
        self.active_agents().any(|p| {
            is_serving_role(&p.role)
                && p.as_cc_user()
                    .is_some_and(|u| self.runtime.agent_tasks.contains_key(&u.id))
        })
    }

    pub fn serving_count(&self) -> usize {
        self.active_agents()
            .filter(|p| is_serving_role(&p.role))
            .count()
    }

    pub fn wrapup_count(&self) -> usize {
        self.active_agents()
            .filter(|p| p.role == ParticipantRole::WrapUp)
            .count()
    }

    /// The user ids of every active agent participant (desks that receive events).
    pub fn active_agent_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = Vec::new();
        for id in self.active_agents().filter_map(agent_id_of) {
            if !ids.iter().any(|known| known == id) {
                ids.push(id.to_owned());
            }
        }
        ids
    }

    /// Index of the agent's active participant.
    pub fn agent_index(&self, agent_id: &str) -> Option<usize> {
        self.conversation.participants.iter().position(|p| {
            p.participant_type == ParticipantType::Agent
                && participant_active(p)
                && agent_id_of(p) == Some(agent_id)
        })
    }

    pub fn agent(&self, agent_id: &str) -> Option<&Participant> {
        self.agent_index(agent_id)
            .map(|i| &self.conversation.participants[i])
    }

    /// Index of an active participant by participant id, agent user id or bot id.
    pub fn participant_index(&self, id: &str) -> Option<usize> {
        let participants = &self.conversation.participants;
        participants
            .iter()
            .position(|p| participant_active(p) && p.id == id)
            .or_else(|| {
                participants.iter().position(|p| {
                    participant_active(p)
                        && p.participant_type != ParticipantType::Customer
                        && p.participant.id() == Some(id)
                })
            })
    }

    pub fn active_bots(&self) -> Vec<Bot> {
        self.conversation
            .participants
            .iter()
            .filter(|p| p.participant_type == ParticipantType::Bot && participant_active(p))
            .filter_map(|p| p.as_bot().cloned())
            .collect()
    }

    pub fn session(&self, id: &str) -> Option<&ChannelSession> {
        self.sessions.iter().find(|s| s.id == id)
    }

    pub fn active_session_ids(&self) -> Vec<String> {
        self.sessions
            .iter()
            .filter(|s| session_started(s))
            .map(|s| s.id.clone())
            .collect()
    }

    pub fn customer_present(&self) -> bool {
        self.sessions.iter().any(session_started)
    }

    /// The session messages to the customer go to: the last used one if still
    /// running, else the newest running one.
    pub fn current_session(&self) -> Option<&ChannelSession> {
        let last_used = self
            .conversation
            .metadata
            .get()
            .and_then(|m| m.last_used_channel_session.get())
            .map(|s| s.id.as_str());
        last_used
            .and_then(|id| {
                self.sessions
                    .iter()
                    .find(|s| s.id == id && session_started(s))
            })
            .or_else(|| self.sessions.iter().rev().find(|s| session_started(s)))
    }

    /// The customer participant of the channel session `session_id`.
    pub fn customer_participant(&self, session_id: &str) -> Option<&Participant> {
        self.conversation.participants.iter().rev().find(|p| {
            p.participant_type == ParticipantType::Customer
                && p.participant.id() == Some(session_id)
        })
    }

    /// The session to name in notifications: the current one, else the newest.
    pub fn latest_session(&self) -> Option<&ChannelSession> {
        self.current_session().or_else(|| self.sessions.last())
    }

    pub fn flow_context(&self) -> FlowContext {
        FlowContext {
            customer_present: self.customer_present(),
            serving_agents: self.serving_count(),
            routing_pending: self.runtime.routing_pending,
            on_hold: self.on_hold(),
            waiting_for_hours: self.runtime.waiting_for_hours,
        }
    }

    /// The conversation with its SLA and hold fields filled in from the timers, as
    /// event data and studio payloads show it.
    pub fn materialized(&self) -> Conversation {
        let mut conversation = self.conversation.clone();
        let timers = &self.runtime.timers;
        conversation.agent_sla = match &timers.agent_sla {
            Some(clock) => AgentSla {
                total_duration: (clock.total_ms / 1000).into(),
                action: Nullable::Null,
                start_time: clock.started_at.into(),
                extra: Default::default(),
            },
            None => AgentSla::unset(),
        }
        .into();
        conversation.cached_agent_sla_duration = timers
            .agent_sla
            .as_ref()
            .map_or(0, |clock| clock.consumed_ms / 1000)
            .into();
        conversation.hold_timer_details = match &timers.hold {
            Some(hold) => HoldTimerDetails {
                total_duration: hold.deadline.map(|d| (d - hold.started_at) / 1000).into(),
                start_time: hold.started_at.into(),
                extra: Default::default(),
            },
            None => HoldTimerDetails {
                total_duration: Nullable::Null,
                start_time: Nullable::Null,
                extra: Default::default(),
            },
        }
        .into();
        conversation
    }

    pub fn record(&self) -> ConversationRecord {
        ConversationRecord {
            conversation: self.materialized(),
            channel_sessions: self.sessions.clone(),
        }
    }

    // ---- primitives ------------------------------------------------------------

    pub fn touch<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>) {
        if !self.in_step {
            self.in_step = true;
            cx.step.touched.push(self.id.clone());
        }
    }

    pub fn mark_dirty<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>) {
        self.record_dirty = true;
        self.touch(cx);
    }

    pub fn set_state<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, state: ConversationState) {
        if self.conversation.state != state {
            self.conversation.state = state;
            self.mark_dirty(cx);
        }
    }

    /// Numbers `event`, queues it for the store and delivers it: to every active agent,
    /// to the customer's current session when the customer may see it, and customer
    /// messages to assigned bots. Returns its sequence number.
    pub fn emit<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        event: CimEvent,
        message_id: Option<String>,
    ) -> u64 {
        self.emit_arc(cx, Arc::new(event), message_id)
    }

    fn emit_arc<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        event: Arc<CimEvent>,
        message_id: Option<String>,
    ) -> u64 {
        self.last_seq += 1;
        let seq = self.last_seq;
        let agent_ids = self.active_agent_ids();
        if !agent_ids.is_empty() {
            cx.effect(Effect::ToAgents {
                conversation_id: self.id.clone(),
                agent_ids,
                seq,
                event: event.clone(),
            });
        }
        if deliver_to_customer(&event) {
            if let Some(session) = self.current_session() {
                let address = address_of(session);
                // Connectors relay messages to a provider; "joined/left" lines are the
                // widget's own.
                let to_widget = address
                    .provider_webhook
                    .as_deref()
                    .is_none_or(str::is_empty);
                if to_widget || !is_serving_agent_notice(&event) {
                    cx.effect(Effect::ToCustomer {
                        conversation_id: self.id.clone(),
                        address,
                        seq,
                        event: event.clone(),
                    });
                }
            }
        }
        if event.name == CimEventName::CustomerMessage {
            let bots = self.active_bots();
            if !bots.is_empty() {
                cx.effect(Effect::ToBots {
                    conversation_id: self.id.clone(),
                    bots,
                    seq,
                    event: event.clone(),
                });
            }
        }
        self.pending_events.push(StoredEvent {
            seq,
            message_id,
            event,
        });
        self.touch(cx);
        seq
    }

    /// Queues an intent; it runs after the current input's own changes.
    pub fn raise<I: IdGen>(
        &self,
        cx: &mut Ctx<'_, I>,
        intent: CimEventName,
        trigger: RaisedTrigger,
        facts: IntentFacts,
    ) {
        cx.step.intents.push_back(RaisedIntent {
            conversation_id: self.id.clone(),
            intent,
            trigger,
            facts,
        });
    }

    /// Emits `event` and raises the intent of the same name on it.
    pub fn emit_with_intent<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        event: CimEvent,
        facts: IntentFacts,
    ) -> u64 {
        let intent = event.name.clone();
        let event = Arc::new(event);
        let seq = self.emit_arc(cx, event.clone(), None);
        self.raise(cx, intent, RaisedTrigger::Event(event), facts);
        seq
    }

    /// Remembers a client id as stored under `seq`.
    pub fn remember_id<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, id: String, seq: u64) {
        cx.index.known_ids.insert(
            id.clone(),
            IdRecord {
                conversation_id: self.id.clone(),
                seq,
            },
        );
        self.recent_ids.push_back((id, seq));
        while self.recent_ids.len() > cx.settings.dedup_window_per_conversation.max(1) {
            if let Some((old, _)) = self.recent_ids.pop_front() {
                cx.index.known_ids.remove(&old);
            }
        }
    }

    /// Applies `change` to every copy of the session the conversation holds: the
    /// session list, its customer participant, `channelSession` and
    /// `metadata.lastUsedChannelSession`.
    pub fn update_session<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        session_id: &str,
        change: impl Fn(&mut ChannelSession),
    ) {
        for session in self.sessions.iter_mut().filter(|s| s.id == session_id) {
            change(session);
        }
        for participant in &mut self.conversation.participants {
            if let crate::cim::ParticipantEntity::ChannelSession(cs) = &mut participant.participant
            {
                if cs.id == session_id {
                    change(cs);
                }
            }
        }
        if let Some(cs) = self.conversation.channel_session.get_mut() {
            if cs.id == session_id {
                change(cs);
            }
        }
        if let Some(metadata) = self.conversation.metadata.get_mut() {
            if let Some(cs) = metadata.last_used_channel_session.get_mut() {
                if cs.id == session_id {
                    change(cs);
                }
            }
        }
        self.mark_dirty(cx);
    }

    /// Marks the participant at `index` as gone.
    pub fn deactivate_participant<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, index: usize) {
        if let Some(p) = self.conversation.participants.get_mut(index) {
            p.is_active = false.into();
            p.state = ParticipantState::Unsubscribed.into();
            p.state_changed_on = cx.now.into();
        }
        self.mark_dirty(cx);
    }

    /// The customer participant of a session.
    pub fn customer_participant_index(&self, session_id: &str) -> Option<usize> {
        self.conversation.participants.iter().position(|p| {
            p.participant_type == ParticipantType::Customer
                && participant_active(p)
                && p.as_channel_session().map(|cs| cs.id.as_str()) == Some(session_id)
        })
    }

    pub fn next_event_id<I: IdGen>(&self, cx: &mut Ctx<'_, I>) -> String {
        cx.new_id(IdKind::Event)
    }
}
