//! The built-in default flow: what Switchboard does for an intent when no external
//! flow answers it.

use super::{Action, FindAgentAction, IntentFacts};
use crate::cim::{ChannelSessionReasonCode, CimEventName};
use crate::config::InterruptedAction;
use crate::conversation::CoreSettings;

/// The conversation's situation when the built-in flow runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowContext {
    /// A customer channel session is still STARTED.
    pub customer_present: bool,
    /// Agents serving the customer (PRIMARY or ASSISTANT).
    pub serving_agents: usize,
    /// An agent request is already with the routing engine.
    pub routing_pending: bool,
    pub on_hold: bool,
    /// A message left outside business hours, not routed before they open.
    pub waiting_for_hours: bool,
}

/// The built-in default flow: what Switchboard does for an intent when no external flow
/// answers it.
pub fn builtin_actions(
    intent: &CimEventName,
    facts: &IntentFacts,
    ctx: &FlowContext,
    settings: &CoreSettings,
) -> Vec<Action> {
    let conversation = &settings.conversation;
    let mut actions = Vec::new();
    let needs_agent = ctx.customer_present
        && ctx.serving_agents == 0
        && !ctx.routing_pending
        && !ctx.waiting_for_hours;
    match intent {
        // A message left outside hours: no greeting, no agent until they open.
        CimEventName::ConversationStarted if ctx.waiting_for_hours => {}
        CimEventName::ConversationStarted => {
            if !conversation.greeting.trim().is_empty() {
                actions.push(Action::SendMessage {
                    text: conversation.greeting.clone(),
                });
            }
            if needs_agent {
                actions.push(Action::FindAgent(FindAgentAction::default()));
            }
        }
        CimEventName::FindAgent if needs_agent => {
            actions.push(Action::FindAgent(FindAgentAction {
                queue: facts.queue.clone(),
                request_type: facts.request_type.clone(),
                ..FindAgentAction::default()
            }));
        }
        CimEventName::AgentUnsubscribed if needs_agent => {
            actions.push(Action::FindAgent(FindAgentAction::default()));
        }
        CimEventName::ChannelSessionExpired if !ctx.customer_present => {
            actions.push(Action::EndConversation {
                reason: Some(ChannelSessionReasonCode::Inactivity),
            });
        }
        CimEventName::AgentSlaExpired => {
            actions.push(Action::RemoveAllAgents {
                reason: Some("SLA_EXPIRED".to_owned()),
            });
            if ctx.customer_present {
                actions.push(Action::FindAgent(FindAgentAction::default()));
            }
        }
        CimEventName::CustomerSlaExpired => {
            actions.push(Action::EndConversation {
                reason: Some(ChannelSessionReasonCode::Inactivity),
            });
        }
        CimEventName::NoAgentAvailable if ctx.serving_agents == 0 => {
            if !conversation.no_agent_message.trim().is_empty() {
                actions.push(Action::SendMessage {
                    text: conversation.no_agent_message.clone(),
                });
            }
            actions.push(Action::EndConversation {
                reason: Some(ChannelSessionReasonCode::ForceClosed),
            });
        }
        CimEventName::AgentMrdInterrupted
            if conversation.on_mrd_interrupted == InterruptedAction::Hold
                && ctx.serving_agents > 0
                && !ctx.on_hold =>
        {
            actions.push(Action::HoldConversation {
                duration_secs: None,
            });
        }
        _ => {}
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(customer_present: bool, serving_agents: usize, routing_pending: bool) -> FlowContext {
        FlowContext {
            customer_present,
            serving_agents,
            routing_pending,
            on_hold: false,
            waiting_for_hours: false,
        }
    }

    #[test]
    fn builtin_flow_greets_and_finds_an_agent() {
        let settings = CoreSettings::default();
        let actions = builtin_actions(
            &CimEventName::ConversationStarted,
            &IntentFacts::default(),
            &ctx(true, 0, false),
            &settings,
        );
        assert_eq!(
            actions,
            vec![
                Action::SendMessage {
                    text: settings.conversation.greeting.clone()
                },
                Action::FindAgent(FindAgentAction::default())
            ]
        );
        let mut quiet = settings.clone();
        quiet.conversation.greeting = String::new();
        assert_eq!(
            builtin_actions(
                &CimEventName::ConversationStarted,
                &IntentFacts::default(),
                &ctx(true, 0, false),
                &quiet
            ),
            vec![Action::FindAgent(FindAgentAction::default())]
        );
    }

    #[test]
    fn builtin_flow_refinds_only_when_the_customer_is_alone() {
        let settings = CoreSettings::default();
        let intent = CimEventName::AgentUnsubscribed;
        let facts = IntentFacts::default();
        assert_eq!(
            builtin_actions(&intent, &facts, &ctx(true, 0, false), &settings),
            vec![Action::FindAgent(FindAgentAction::default())]
        );
        assert!(builtin_actions(&intent, &facts, &ctx(true, 1, false), &settings).is_empty());
        assert!(builtin_actions(&intent, &facts, &ctx(false, 0, false), &settings).is_empty());
        assert!(builtin_actions(&intent, &facts, &ctx(true, 0, true), &settings).is_empty());
    }

    #[test]
    fn builtin_flow_handles_expiry_sla_no_agent_and_interruption() {
        let settings = CoreSettings::default();
        let facts = IntentFacts::default();
        assert_eq!(
            builtin_actions(
                &CimEventName::ChannelSessionExpired,
                &facts,
                &ctx(false, 1, false),
                &settings
            ),
            vec![Action::EndConversation {
                reason: Some(ChannelSessionReasonCode::Inactivity)
            }]
        );
        assert_eq!(
            builtin_actions(
                &CimEventName::AgentSlaExpired,
                &facts,
                &ctx(true, 1, false),
                &settings
            ),
            vec![
                Action::RemoveAllAgents {
                    reason: Some("SLA_EXPIRED".into())
                },
                Action::FindAgent(FindAgentAction::default())
            ]
        );
        assert_eq!(
            builtin_actions(
                &CimEventName::NoAgentAvailable,
                &facts,
                &ctx(true, 0, false),
                &settings
            ),
            vec![
                Action::SendMessage {
                    text: settings.conversation.no_agent_message.clone()
                },
                Action::EndConversation {
                    reason: Some(ChannelSessionReasonCode::ForceClosed)
                }
            ]
        );
        assert_eq!(
            builtin_actions(
                &CimEventName::AgentMrdInterrupted,
                &facts,
                &ctx(true, 1, false),
                &settings
            ),
            vec![Action::HoldConversation {
                duration_secs: None
            }]
        );
        let mut ignore = settings.clone();
        ignore.conversation.on_mrd_interrupted = InterruptedAction::Ignore;
        assert!(builtin_actions(
            &CimEventName::AgentMrdInterrupted,
            &facts,
            &ctx(true, 1, false),
            &ignore
        )
        .is_empty());
        let find = IntentFacts {
            queue: Some("vip".into()),
            request_type: Some("CHAT".into()),
            reason: None,
        };
        assert_eq!(
            builtin_actions(
                &CimEventName::FindAgent,
                &find,
                &ctx(true, 0, false),
                &settings
            ),
            vec![Action::FindAgent(FindAgentAction {
                queue: Some("vip".into()),
                request_type: Some("CHAT".into()),
                ..FindAgentAction::default()
            })]
        );
        for quiet in [
            CimEventName::TaskEnqueued,
            CimEventName::TaskStateChanged,
            CimEventName::AgentSubscribed,
            CimEventName::ParticipantRoleChanged,
            CimEventName::ChannelSessionStarted,
            CimEventName::ConversationPaused,
            CimEventName::ConversationResumed,
        ] {
            assert!(builtin_actions(&quiet, &facts, &ctx(true, 1, false), &settings).is_empty());
        }
    }
}
