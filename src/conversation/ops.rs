//! The lifecycle operations on one open conversation, shared by input handlers, timers
//! and studio actions: customer sessions starting and ending, the customer leaving,
//! ending and closing, the settling rule that derives the conversation state from who
//! is present, hold and resume, the SLA clocks and studio messages. Agent operations
//! live in `agent_ops`, the agent request to the routing engine in `agent_request`.
//!
//! Callers validate first; these operations assume their preconditions hold.

use serde_json::json;

use super::effect::Effect;
use super::events::{notification, studio_message};
use super::ids::{IdGen, IdKind};
use super::open::{session_started, OpenConversation};
use super::step::{Ctx, RaisedTrigger};
use super::studio::IntentFacts;
use super::timers::{HoldTimer, SlaClock};
use crate::cim::{
    ChannelSession, ChannelSessionReasonCode, ChannelSessionStateName, CimEventName,
    ConversationState, EventEmitter, Participant, ParticipantRole, TaskStateReason,
};

const AGENT_MANAGER: &str = "AGENT_MANAGER";

pub(super) fn secs_to_ms(secs: i64) -> i64 {
    secs.saturating_mul(1000)
}

/// `now` plus `secs`, saturating: durations come from clients and configuration.
pub(super) fn after_secs(now: crate::clock::Millis, secs: u64) -> crate::clock::Millis {
    now.saturating_add(secs_to_ms(i64::try_from(secs).unwrap_or(i64::MAX)))
}

impl OpenConversation {
    // ---- customer side ---------------------------------------------------------

    /// Adds a customer session (new conversation or a returning customer): the customer
    /// participant, the activity timer, CHANNEL_SESSION_STARTED and its intent.
    pub fn add_session<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, mut session: ChannelSession) {
        session.conversation_id = self.id.clone().into();
        session.room_info = self.room_info().into();
        session.normalize_to_current();
        session.set_state(
            ChannelSessionStateName::Started,
            Some(ChannelSessionReasonCode::Customer),
        );
        let participant_id = cx.new_id(IdKind::Participant);
        self.conversation.participants.push(Participant::customer(
            participant_id,
            session.clone(),
            cx.now,
        ));
        self.conversation.channel_session = Box::new(session.clone()).into();
        cx.index
            .by_session
            .insert(session.id.clone(), self.id.clone());
        if let Some(metadata) = self.conversation.metadata.get_mut() {
            metadata.last_used_channel_session = Box::new(session.clone()).into();
        }
        self.sessions.push(session.clone());
        self.mark_dirty(cx);
        self.reset_activity(cx, &session.id);
        let event = notification(
            self.next_event_id(cx),
            CimEventName::ChannelSessionStarted,
            &self.id,
            EventEmitter::customer(&session.customer),
            Some(session.clone()),
            serde_json::to_value(&session).unwrap_or_default(),
            &self.room_info(),
            cx.now,
        );
        self.emit_with_intent(cx, event, IntentFacts::default());
        self.settle(cx);
    }

    /// Makes the session `session_id` the one messages to the customer go to.
    pub fn set_last_used<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, session_id: &str) {
        let current = self
            .conversation
            .metadata
            .get()
            .and_then(|m| m.last_used_channel_session.get())
            .map(|cs| cs.id.as_str());
        if current == Some(session_id) {
            return;
        }
        let Some(session) = self.session(session_id).cloned() else {
            return;
        };
        if let Some(metadata) = self.conversation.metadata.get_mut() {
            metadata.last_used_channel_session = Box::new(session).into();
            self.mark_dirty(cx);
        }
    }

    /// Restarts the session's customer activity timeout.
    pub fn reset_activity<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, session_id: &str) {
        if self.runtime.waiting_for_hours {
            // A message left outside hours: its customer has gone and comes back later.
            return;
        }
        let timeout = self
            .session(session_id)
            .and_then(|s| s.channel.channel_config.customer_activity_timeout.get())
            .copied()
            .filter(|secs| *secs > 0);
        if let Some(secs) = timeout {
            self.runtime.timers.customer_activity.insert(
                session_id.to_owned(),
                cx.now.saturating_add(secs_to_ms(secs)),
            );
            self.touch(cx);
        }
    }

    /// Ends one customer session: ENDED by the customer side (customer, network,
    /// inactivity) or CLOSED by the contact center. Emits CHANNEL_SESSION_EXPIRED (with
    /// its intent) for inactivity, else CHANNEL_SESSION_ENDED, and tells the channel.
    pub fn end_session<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        session_id: &str,
        state: ChannelSessionStateName,
        reason: ChannelSessionReasonCode,
    ) {
        let (new_state, new_reason) = (state.clone(), reason.clone());
        self.update_session(cx, session_id, move |cs| {
            cs.set_state(new_state.clone(), Some(new_reason.clone()))
        });
        if let Some(index) = self.customer_participant_index(session_id) {
            self.deactivate_participant(cx, index);
        }
        self.runtime.timers.customer_activity.remove(session_id);
        let Some(session) = self.session(session_id).cloned() else {
            return;
        };
        let expired = reason == ChannelSessionReasonCode::Inactivity
            && state == ChannelSessionStateName::Ended;
        let emitter = match reason {
            ChannelSessionReasonCode::Customer | ChannelSessionReasonCode::Network => {
                EventEmitter::customer(&session.customer)
            }
            _ => EventEmitter::conversation_monitor(),
        };
        let name = if expired {
            CimEventName::ChannelSessionExpired
        } else {
            CimEventName::ChannelSessionEnded
        };
        let event = notification(
            self.next_event_id(cx),
            name,
            &self.id,
            emitter,
            Some(session.clone()),
            serde_json::to_value(&session).unwrap_or_default(),
            &self.room_info(),
            cx.now,
        );
        if expired {
            self.emit_with_intent(cx, event, IntentFacts::default());
        } else {
            self.emit(cx, event, None);
        }
        cx.effect(Effect::ChannelSessionClosed {
            conversation_id: self.id.clone(),
            channel_session_id: session_id.to_owned(),
            state,
            reason,
        });
    }

    /// The customer has no running session any more. Customer-side timers stop, a
    /// pending agent request is cancelled, serving agents go to wrap-up (when enabled);
    /// without wrap-up they stay (CUSTOMER_LEFT: the customer may come back) unless the
    /// contact center ended the conversation, which then closes.
    pub fn customer_gone<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, ended_by_center: bool) {
        let timers = &mut self.runtime.timers;
        timers.customer_sla = None;
        timers.agent_sla = None;
        timers.hold = None;
        self.runtime.awaiting_agent_reply = false;
        self.cancel_routing(cx, TaskStateReason::Cancelled);
        self.touch(cx);
        if self.serving_count() > 0 {
            if cx.settings.wrapup_secs().is_some() {
                let indices: Vec<usize> = self.active_agent_indices();
                for index in indices {
                    match self.conversation.participants[index].role {
                        ParticipantRole::Primary | ParticipantRole::Assistant => {
                            self.start_wrapup(cx, index, "CONVERSATION_ENDED")
                        }
                        ParticipantRole::WrapUp => {}
                        _ => self.drop_agent(cx, index, None, "CONVERSATION_ENDED", false),
                    }
                }
            } else if ended_by_center {
                self.close(cx, ChannelSessionReasonCode::ForceClosed);
                return;
            } else {
                self.set_state(cx, ConversationState::CustomerLeft);
                return;
            }
        }
        self.settle(cx);
    }

    /// Ends the conversation for the customer (sessions CLOSED with `reason`); agents
    /// wrap up when enabled, otherwise it closes at once.
    pub fn end_conversation<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        reason: ChannelSessionReasonCode,
    ) {
        for session_id in self.active_session_ids() {
            self.end_session(
                cx,
                &session_id,
                ChannelSessionStateName::Closed,
                reason.clone(),
            );
        }
        self.customer_gone(cx, true);
        if !self.closed && self.serving_count() == 0 && self.wrapup_count() == 0 {
            self.close(cx, reason);
        }
    }

    /// CLOSED: every session closed, routing cancelled, every agent and bot out,
    /// timers cleared, `endTime` and `durationInSeconds` set.
    pub fn close<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, reason: ChannelSessionReasonCode) {
        if self.closed {
            return;
        }
        for session_id in self.active_session_ids() {
            self.end_session(
                cx,
                &session_id,
                ChannelSessionStateName::Closed,
                reason.clone(),
            );
        }
        self.cancel_routing(cx, TaskStateReason::Cancelled);
        let agent_ids = self.active_agent_ids();
        for index in self.active_agent_indices() {
            let participant = &self.conversation.participants[index];
            let Some(agent_id) = participant.as_cc_user().map(|u| u.id.clone()) else {
                continue;
            };
            let task_id = self.runtime.agent_tasks.remove(&agent_id);
            match participant.role {
                ParticipantRole::WrapUp => cx.effect(Effect::WrapupEnded {
                    conversation_id: self.id.clone(),
                    agent_id,
                    task_id,
                    timed_out: false,
                }),
                ParticipantRole::Primary | ParticipantRole::Assistant => {
                    cx.effect(Effect::AgentTaskEnded {
                        conversation_id: self.id.clone(),
                        agent_id,
                        task_id,
                        disposition: TaskStateReason::Done,
                        wrap_up: false,
                    })
                }
                _ => {}
            }
            self.deactivate_participant(cx, index);
        }
        if !agent_ids.is_empty() {
            cx.effect(Effect::TopicClosed {
                conversation_id: self.id.clone(),
                agent_ids,
            });
        }
        let bots: Vec<usize> = (0..self.conversation.participants.len())
            .filter(|i| {
                let p = &self.conversation.participants[*i];
                p.participant_type == crate::cim::ParticipantType::Bot
                    && super::open::participant_active(p)
            })
            .collect();
        for index in bots {
            self.deactivate_participant(cx, index);
        }
        for request_id in self.runtime.timers.studio_calls.keys() {
            cx.index.studio_requests.remove(request_id);
        }
        self.runtime.timers = Default::default();
        self.runtime.routing_pending = false;
        self.runtime.pending_task_id = None;
        self.runtime.awaiting_agent_reply = false;
        let creation = self
            .conversation
            .creation_time
            .get()
            .copied()
            .unwrap_or(cx.now);
        self.conversation.end_time = cx.now.into();
        self.conversation.duration_in_seconds = ((cx.now - creation).max(0) / 1000).into();
        self.set_state(cx, ConversationState::Closed);
        if cx.index.by_customer.get(&self.customer_id) == Some(&self.id) {
            cx.index.by_customer.remove(&self.customer_id);
        }
        self.closed = true;
        self.mark_dirty(cx);
    }

    /// Derives the state from who is present. With the customer: ACTIVE (ON_HOLD) when
    /// an agent serves, else INACTIVE (CREATED until an agent ever served). Without:
    /// WRAP_UP while agents wrap up, CLOSED when nobody is left (unless a flow is still
    /// deciding).
    pub fn settle<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>) {
        if self.closed {
            return;
        }
        let serving = self.serving_count();
        if self.customer_present() {
            let target = if serving > 0 {
                if self.on_hold() {
                    ConversationState::OnHold
                } else {
                    ConversationState::Active
                }
            } else {
                if self.runtime.timers.hold.take().is_some() {
                    self.runtime.timers.resume_slas(cx.now);
                }
                self.runtime.timers.agent_sla = None;
                if *self.state() == ConversationState::Created {
                    ConversationState::Created
                } else {
                    ConversationState::Inactive
                }
            };
            self.set_state(cx, target);
        } else if serving == 0 {
            if self.wrapup_count() > 0 {
                if cx.index.by_customer.get(&self.customer_id) == Some(&self.id) {
                    cx.index.by_customer.remove(&self.customer_id);
                }
                self.set_state(cx, ConversationState::WrapUp);
            } else if self.runtime.timers.studio_calls.is_empty() {
                self.close(cx, ChannelSessionReasonCode::ForceClosed);
            }
        }
    }

    // ---- hold ------------------------------------------------------------------

    /// ON_HOLD: both SLA clocks stop; with a duration the hold ends by itself.
    pub fn hold<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        agent_id: Option<String>,
        duration_secs: Option<u64>,
    ) {
        let deadline = duration_secs.map(|secs| after_secs(cx.now, secs));
        self.runtime.timers.pause_slas(cx.now);
        self.runtime.timers.hold = Some(HoldTimer {
            agent_id: agent_id.clone(),
            started_at: cx.now,
            deadline,
        });
        self.set_state(cx, ConversationState::OnHold);
        self.announce_hold(cx, CimEventName::ConversationPaused, agent_id);
    }

    /// Ends the hold: SLA clocks continue where they stopped.
    pub fn resume<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, agent_id: Option<String>) {
        self.runtime.timers.hold = None;
        self.runtime.timers.resume_slas(cx.now);
        self.settle(cx);
        self.announce_hold(cx, CimEventName::ConversationResumed, agent_id);
    }

    fn announce_hold<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        name: CimEventName,
        agent_id: Option<String>,
    ) {
        let details = self.materialized().hold_timer_details;
        let event = notification(
            self.next_event_id(cx),
            name,
            &self.id,
            EventEmitter::system(AGENT_MANAGER),
            self.latest_session().cloned(),
            json!({ "agentId": agent_id, "holdTimerDetails": details }),
            &self.room_info(),
            cx.now,
        );
        self.emit_with_intent(cx, event, IntentFacts::default());
    }

    // ---- SLA clocks --------------------------------------------------------------

    /// Starts the agent response SLA when the customer waits for a serving agent.
    pub fn maybe_start_agent_sla<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>) {
        if self.runtime.timers.agent_sla.is_some()
            || !self.runtime.awaiting_agent_reply
            || self.serving_count() == 0
        {
            return;
        }
        let secs = self
            .runtime
            .agent_sla_secs
            .map(i64::from)
            .filter(|s| *s > 0)
            .or_else(|| {
                self.current_session()
                    .and_then(|s| s.channel.channel_config.response_sla.get().copied())
                    .filter(|s| *s > 0)
            });
        if let Some(secs) = secs {
            self.runtime.timers.agent_sla = Some(SlaClock::start(
                cx.now,
                secs_to_ms(secs),
                cx.settings.agent_sla_points(),
                self.on_hold(),
            ));
            self.touch(cx);
        }
    }

    /// Starts the customer SLA when a message that expects an answer reached the
    /// customer and the channel has a customer SLA.
    pub fn maybe_start_customer_sla<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>) {
        if self.runtime.timers.customer_sla.is_some() {
            return;
        }
        let secs = self
            .current_session()
            .and_then(|s| s.channel.channel_config.customer_sla.get())
            .and_then(|sla| sla.total_duration.get().copied())
            .filter(|s| *s > 0);
        if let Some(secs) = secs {
            self.runtime.timers.customer_sla = Some(SlaClock::start(
                cx.now,
                secs_to_ms(secs),
                cx.settings.customer_sla_points(),
                self.on_hold(),
            ));
            self.touch(cx);
        }
    }

    // ---- messages ----------------------------------------------------------------

    /// A studio message (greeting, reminder, flow text) to the customer.
    pub fn send_studio_message<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        text: &str,
    ) -> Result<u64, String> {
        if !self.customer_present() {
            return Err("the customer has no running channel session".to_owned());
        }
        let event = studio_message(
            self.next_event_id(cx),
            &self.id,
            &self.room_info(),
            text,
            cx.now,
        );
        Ok(self.emit(cx, event, None))
    }

    /// Whether a session of this conversation is still running.
    pub fn session_running(&self, session_id: &str) -> bool {
        self.session(session_id).is_some_and(session_started)
    }

    /// Emits a notification with `data` naming the latest session, raising its intent.
    pub fn notify_with_intent<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        name: CimEventName,
        emitter: EventEmitter,
        data: serde_json::Value,
        facts: IntentFacts,
    ) -> u64 {
        let event = notification(
            self.next_event_id(cx),
            name,
            &self.id,
            emitter,
            self.latest_session().cloned(),
            data,
            &self.room_info(),
            cx.now,
        );
        self.emit_with_intent(cx, event, facts)
    }

    /// Emits a notification with `data` naming the latest session, without an intent.
    pub fn notify<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        name: CimEventName,
        emitter: EventEmitter,
        data: serde_json::Value,
    ) -> u64 {
        let event = notification(
            self.next_event_id(cx),
            name,
            &self.id,
            emitter,
            self.latest_session().cloned(),
            data,
            &self.room_info(),
            cx.now,
        );
        self.emit(cx, event, None)
    }

    /// Raises an intent that has no event of its own (CONVERSATION_STARTED).
    pub fn raise_started<I: IdGen>(&self, cx: &mut Ctx<'_, I>, session: &ChannelSession) {
        self.raise(
            cx,
            CimEventName::ConversationStarted,
            RaisedTrigger::Session(Box::new(session.clone())),
            IntentFacts::default(),
        );
    }
}
