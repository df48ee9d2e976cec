//! Agent operations on one open conversation: agents joining (a new PRIMARY takes
//! over), leaving with or without wrap-up, being removed, wrap-up ending, role changes
//! (each announced with PARTICIPANT_ROLE_CHANGED) and an ASSISTANT taking over a
//! vacated PRIMARY.
//!
//! Callers validate first; these operations assume their preconditions hold.

use super::effect::Effect;
use super::events::{notification, role_changed_data, subscription_data};
use super::ids::{IdGen, IdKind};
use super::open::{is_serving_role, participant_active, OpenConversation};
use super::ops::after_secs;
use super::step::Ctx;
use super::studio::IntentFacts;
use super::timers::WrapupTimer;
use crate::cim::{
    CcUser, CimEventName, EventEmitter, Participant, ParticipantRole, ParticipantType,
    TaskStateReason,
};

const AGENT_MANAGER: &str = "AGENT_MANAGER";

impl OpenConversation {
    pub fn active_agent_indices(&self) -> Vec<usize> {
        (0..self.conversation.participants.len())
            .filter(|i| {
                let p = &self.conversation.participants[*i];
                p.participant_type == ParticipantType::Agent && participant_active(p)
            })
            .collect()
    }

    /// Adds an agent participant and emits AGENT_SUBSCRIBED. A new PRIMARY takes over
    /// from an existing one, which becomes ASSISTANT.
    pub fn add_agent<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        user: CcUser,
        role: ParticipantRole,
        task_id: Option<String>,
    ) {
        if role == ParticipantRole::Primary {
            let primaries: Vec<usize> = self
                .active_agent_indices()
                .into_iter()
                .filter(|i| self.conversation.participants[*i].role == ParticipantRole::Primary)
                .collect();
            for index in primaries {
                self.change_role(
                    cx,
                    index,
                    ParticipantRole::Assistant,
                    Some("PRIMARY_JOINED"),
                );
            }
        }
        let agent_id = user.id.clone();
        let participant = Participant::agent(
            cx.new_id(IdKind::Participant),
            user,
            role.clone(),
            self.id.clone(),
            cx.now,
        );
        self.conversation.participants.push(participant.clone());
        self.mark_dirty(cx);
        if let Some(task_id) = task_id {
            self.runtime.agent_tasks.insert(agent_id.clone(), task_id);
        }
        if is_serving_role(&role) {
            self.runtime.routing_pending = false;
            self.runtime.pending_task_id = None;
            self.runtime.last_agent_id = Some(agent_id);
        }
        let event = notification(
            self.next_event_id(cx),
            CimEventName::AgentSubscribed,
            &self.id,
            EventEmitter::system(AGENT_MANAGER),
            None,
            subscription_data(&participant, None),
            &self.room_info(),
            cx.now,
        );
        self.emit_with_intent(cx, event, IntentFacts::default());
        self.settle(cx);
        self.maybe_start_agent_sla(cx);
    }

    /// Emits AGENT_UNSUBSCRIBED (and its intent) for the participant at `index`.
    fn announce_unsubscribed<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, index: usize, reason: &str) {
        let participant = self.conversation.participants[index].clone();
        let event = notification(
            self.next_event_id(cx),
            CimEventName::AgentUnsubscribed,
            &self.id,
            EventEmitter::system(AGENT_MANAGER),
            None,
            subscription_data(&participant, Some(reason)),
            &self.room_info(),
            cx.now,
        );
        let facts = IntentFacts {
            reason: Some(reason.to_owned()),
            ..IntentFacts::default()
        };
        self.emit_with_intent(cx, event, facts);
    }

    /// The agent left by itself: AGENT_UNSUBSCRIBED, then wrap-up when enabled (monitors
    /// just leave), an ASSISTANT takes over a vacated PRIMARY, and the state settles.
    pub fn agent_leaves<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, index: usize, reason: &str) {
        self.announce_unsubscribed(cx, index, reason);
        let role = self.conversation.participants[index].role.clone();
        let leaving = self.conversation.participants[index]
            .as_cc_user()
            .map(|u| u.id.clone());
        if self.customer_present() && leaving.is_some() && leaving == self.runtime.last_agent_id {
            // It left a customer who is still there: routing it back is no service.
            self.runtime.last_agent_id = None;
        }
        if is_serving_role(&role) && cx.settings.wrapup_secs().is_some() {
            self.start_wrapup(cx, index, reason);
        } else {
            let agent_id = self.conversation.participants[index]
                .as_cc_user()
                .map(|u| u.id.clone());
            self.deactivate_participant(cx, index);
            if let (Some(agent_id), true) = (agent_id, is_serving_role(&role)) {
                let task_id = self.runtime.agent_tasks.remove(&agent_id);
                cx.effect(Effect::AgentTaskEnded {
                    conversation_id: self.id.clone(),
                    agent_id,
                    task_id,
                    disposition: TaskStateReason::Done,
                    wrap_up: false,
                });
            }
        }
        self.promote_if_no_primary(cx);
        self.settle(cx);
    }

    /// Takes an agent out without wrap-up (removed by a flow or by routing):
    /// AGENT_UNSUBSCRIBED, the routing task closed with `disposition` (when given) and
    /// `topicClosed` to the desk.
    pub fn drop_agent<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        index: usize,
        disposition: Option<TaskStateReason>,
        reason: &str,
        announce: bool,
    ) {
        if announce {
            self.announce_unsubscribed(cx, index, reason);
        }
        let participant = &self.conversation.participants[index];
        let role = participant.role.clone();
        let Some(agent_id) = participant.as_cc_user().map(|u| u.id.clone()) else {
            return;
        };
        self.runtime.timers.wrapups.remove(&agent_id);
        self.deactivate_participant(cx, index);
        let task_id = self.runtime.agent_tasks.remove(&agent_id);
        if let (Some(disposition), true) = (disposition, is_serving_role(&role)) {
            cx.effect(Effect::AgentTaskEnded {
                conversation_id: self.id.clone(),
                agent_id: agent_id.clone(),
                task_id,
                disposition,
                wrap_up: false,
            });
        }
        cx.effect(Effect::TopicClosed {
            conversation_id: self.id.clone(),
            agent_ids: vec![agent_id],
        });
    }

    /// A serving agent moved to a role that serves nobody (a monitor, a whisperer): its
    /// task ends, so its capacity is free and no task outlives its part in the chat.
    pub fn end_serving_task<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, index: usize) {
        let Some(agent_id) = self.conversation.participants[index]
            .as_cc_user()
            .map(|u| u.id.clone())
        else {
            return;
        };
        let Some(task_id) = self.runtime.agent_tasks.remove(&agent_id) else {
            return;
        };
        cx.effect(Effect::AgentTaskEnded {
            conversation_id: self.id.clone(),
            agent_id,
            task_id: Some(task_id),
            disposition: TaskStateReason::Done,
            wrap_up: false,
        });
    }

    /// Moves a serving agent to WRAP_UP with its timer.
    pub fn start_wrapup<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, index: usize, reason: &str) {
        let Some(secs) = cx.settings.wrapup_secs() else {
            return;
        };
        self.change_role(cx, index, ParticipantRole::WrapUp, Some(reason));
        let participant = &self.conversation.participants[index];
        let Some(agent_id) = participant.as_cc_user().map(|u| u.id.clone()) else {
            return;
        };
        let participant_id = participant.id.clone();
        let task_id = self.runtime.agent_tasks.get(&agent_id).cloned();
        self.runtime.timers.wrapups.insert(
            agent_id.clone(),
            WrapupTimer {
                participant_id,
                task_id: task_id.clone(),
                started_at: cx.now,
                deadline: after_secs(cx.now, secs),
            },
        );
        cx.effect(Effect::AgentTaskEnded {
            conversation_id: self.id.clone(),
            agent_id: agent_id.clone(),
            task_id: task_id.clone(),
            disposition: TaskStateReason::Done,
            wrap_up: true,
        });
        cx.effect(Effect::WrapupTimerStarted {
            conversation_id: self.id.clone(),
            agent_id,
            task_id,
            duration_secs: secs,
            room_info: self.room_info(),
        });
    }

    /// Keeps an agent's wrap-up (codes and note) with the conversation.
    pub fn record_wrap_up<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>, entry: serde_json::Value) {
        match self.conversation.wrap_ups.get_mut() {
            Some(list) => list.push(entry),
            None => self.conversation.wrap_ups = vec![entry].into(),
        }
        self.mark_dirty(cx);
    }

    /// The agent's wrap-up is over (closed by the desk or timed out).
    pub fn finish_wrapup<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        agent_id: &str,
        timed_out: bool,
    ) {
        self.runtime.timers.wrapups.remove(agent_id);
        let task_id = self.runtime.agent_tasks.remove(agent_id);
        if let Some(index) = self.agent_index(agent_id) {
            self.deactivate_participant(cx, index);
        }
        cx.effect(Effect::WrapupEnded {
            conversation_id: self.id.clone(),
            agent_id: agent_id.to_owned(),
            task_id,
            timed_out,
        });
        cx.effect(Effect::TopicClosed {
            conversation_id: self.id.clone(),
            agent_ids: vec![agent_id.to_owned()],
        });
        self.touch(cx);
        self.settle(cx);
    }

    /// Sets a participant's role and emits PARTICIPANT_ROLE_CHANGED with its intent.
    pub fn change_role<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        index: usize,
        role: ParticipantRole,
        reason: Option<&str>,
    ) {
        let Some(participant) = self.conversation.participants.get_mut(index) else {
            return;
        };
        participant.role = role;
        participant.state_changed_on = cx.now.into();
        let participant = participant.clone();
        self.mark_dirty(cx);
        self.announce_role(cx, &participant, reason);
    }

    /// Emits PARTICIPANT_ROLE_CHANGED (and its intent) for `participant`.
    pub fn announce_role<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        participant: &Participant,
        reason: Option<&str>,
    ) {
        let event = notification(
            self.next_event_id(cx),
            CimEventName::ParticipantRoleChanged,
            &self.id,
            EventEmitter::conversation_monitor(),
            self.latest_session().cloned(),
            role_changed_data(participant, reason),
            &self.room_info(),
            cx.now,
        );
        let facts = IntentFacts {
            reason: reason.map(str::to_owned),
            ..IntentFacts::default()
        };
        self.emit_with_intent(cx, event, facts);
    }

    /// When no PRIMARY agent is left, the longest-present ASSISTANT becomes PRIMARY.
    pub fn promote_if_no_primary<I: IdGen>(&mut self, cx: &mut Ctx<'_, I>) {
        let agents = self.active_agent_indices();
        let has_primary = agents
            .iter()
            .any(|i| self.conversation.participants[*i].role == ParticipantRole::Primary);
        if has_primary {
            return;
        }
        let assistant = agents
            .into_iter()
            .find(|i| self.conversation.participants[*i].role == ParticipantRole::Assistant);
        if let Some(index) = assistant {
            self.change_role(cx, index, ParticipantRole::Primary, Some("PRIMARY_LEFT"));
        }
    }
}
