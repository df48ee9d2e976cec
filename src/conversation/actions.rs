//! Applying a studio flow's actions to a conversation. Each action either applies or
//! yields a reason it could not (reported as `ActionFailed`); a failed action never
//! stops the ones after it.

use super::ids::{IdGen, IdKind};
use super::open::{is_serving_role, OpenConversation};
use super::step::Ctx;
use super::studio::Action;
use crate::cim::{
    Bot, ChannelSessionReasonCode, ChannelSessionStateName, CimEventName, ConversationState,
    EventEmitter, Participant, ParticipantRole, ParticipantType, TaskStateReason,
};

impl OpenConversation {
    /// Applies one action; `Err` says why it could not be.
    pub fn apply_action<I: IdGen>(
        &mut self,
        cx: &mut Ctx<'_, I>,
        action: &Action,
    ) -> Result<(), String> {
        if self.closed {
            return Err("the conversation is closed".to_owned());
        }
        match action {
            Action::FindAgent(find) => self.find_agent(cx, find),
            Action::SendMessage { text } => self.send_studio_message(cx, text).map(|_| ()),
            Action::EndConversation { reason } => {
                let reason = reason
                    .clone()
                    .unwrap_or(ChannelSessionReasonCode::ForceClosed);
                self.end_conversation(cx, reason);
                Ok(())
            }
            Action::RemoveChannelSession {
                channel_session_id,
                reason,
            } => {
                let targets = match channel_session_id {
                    Some(id) if self.session_running(id) => vec![id.clone()],
                    Some(id) => return Err(format!("no running channel session `{id}`")),
                    None => self.active_session_ids(),
                };
                if targets.is_empty() {
                    return Err("the customer has no running channel session".to_owned());
                }
                let reason = reason
                    .clone()
                    .unwrap_or(ChannelSessionReasonCode::ForceClosed);
                for id in targets {
                    self.end_session(cx, &id, ChannelSessionStateName::Closed, reason.clone());
                }
                if !self.customer_present() {
                    self.customer_gone(cx, true);
                }
                Ok(())
            }
            Action::RemoveAllAgents { reason } => {
                let reason = reason.as_deref().unwrap_or("REMOVED");
                let indices: Vec<usize> = self
                    .active_agent_indices()
                    .into_iter()
                    .filter(|i| self.conversation.participants[*i].role != ParticipantRole::WrapUp)
                    .collect();
                if indices.is_empty() {
                    return Err("no agent to remove".to_owned());
                }
                for index in indices {
                    self.drop_agent(cx, index, Some(TaskStateReason::ForceClosed), reason, true);
                }
                self.settle(cx);
                Ok(())
            }
            Action::ChangeParticipantRole {
                participant_id,
                role,
            } => {
                let index = self
                    .participant_index(participant_id)
                    .ok_or_else(|| format!("no active participant `{participant_id}`"))?;
                let participant = &self.conversation.participants[index];
                let allowed = match participant.participant_type {
                    ParticipantType::Agent => matches!(
                        role,
                        ParticipantRole::Primary
                            | ParticipantRole::Assistant
                            | ParticipantRole::SilentMonitor
                            | ParticipantRole::Whisper
                    ),
                    ParticipantType::Bot => {
                        matches!(role, ParticipantRole::Primary | ParticipantRole::Assistant)
                    }
                    _ => false,
                };
                if !allowed {
                    return Err(format!(
                        "a {} participant cannot take the role {role}",
                        participant.participant_type
                    ));
                }
                if participant.role == ParticipantRole::WrapUp {
                    return Err("the agent is in wrap-up".to_owned());
                }
                if &participant.role != role {
                    let stops_serving =
                        is_serving_role(&participant.role) && !is_serving_role(role);
                    self.change_role(cx, index, role.clone(), Some("STUDIO"));
                    if stops_serving {
                        self.end_serving_task(cx, index);
                    }
                    self.promote_if_no_primary(cx);
                    self.settle(cx);
                }
                Ok(())
            }
            Action::AssignBot(assign) => {
                let already = self.active_bots().iter().any(|b| b.id == assign.bot_id);
                if already {
                    return Err(format!("bot `{}` is already assigned", assign.bot_id));
                }
                let bot = Bot::new(
                    assign.bot_id.clone(),
                    assign.bot_type.clone().unwrap_or_else(|| "BOT".to_owned()),
                    assign.name.clone().unwrap_or_else(|| assign.bot_id.clone()),
                    assign.uri.clone(),
                );
                let participant = Participant::bot(
                    cx.new_id(IdKind::Participant),
                    bot,
                    assign.role.clone(),
                    Some(self.id.clone()),
                    cx.now,
                );
                self.conversation.participants.push(participant.clone());
                self.mark_dirty(cx);
                self.announce_role(cx, &participant, Some("ASSIGN_BOT"));
                Ok(())
            }
            Action::RevokeBot { bot_id } => {
                let indices: Vec<usize> = (0..self.conversation.participants.len())
                    .filter(|i| {
                        let p = &self.conversation.participants[*i];
                        p.participant_type == ParticipantType::Bot
                            && super::open::participant_active(p)
                            && bot_id
                                .as_deref()
                                .is_none_or(|id| p.participant.id() == Some(id))
                    })
                    .collect();
                if indices.is_empty() {
                    return Err(match bot_id {
                        Some(id) => format!("bot `{id}` is not assigned"),
                        None => "no bot is assigned".to_owned(),
                    });
                }
                for index in indices {
                    self.deactivate_participant(cx, index);
                    let participant = self.conversation.participants[index].clone();
                    self.announce_role(cx, &participant, Some("REVOKE_BOT"));
                }
                Ok(())
            }
            Action::UpdateConversationData { entries } => {
                if entries.is_empty() {
                    return Err("no conversationData entries".to_owned());
                }
                for entry in entries {
                    self.conversation.set_data(
                        &entry.key,
                        entry.data_type.clone(),
                        entry.value.get().cloned().unwrap_or_default(),
                    );
                }
                self.mark_dirty(cx);
                let data = serde_json::to_value(self.materialized()).unwrap_or_default();
                self.notify(
                    cx,
                    CimEventName::ConversationDataChanged,
                    EventEmitter::conversation_monitor(),
                    data,
                );
                Ok(())
            }
            Action::HoldConversation { duration_secs } => {
                if *self.state() != ConversationState::Active {
                    return Err(format!(
                        "cannot hold a conversation that is {}",
                        self.state()
                    ));
                }
                self.hold(cx, None, *duration_secs);
                Ok(())
            }
            Action::ResumeConversation => {
                if *self.state() != ConversationState::OnHold {
                    return Err(format!(
                        "cannot resume a conversation that is {}",
                        self.state()
                    ));
                }
                self.resume(cx, None);
                Ok(())
            }
        }
    }
}
