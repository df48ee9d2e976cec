//! Random interleavings of customer, agent, routing and clock inputs: the contract
//! checks of the harness hold after every step (persist before publish, contiguous
//! sequences, deliveries only of stored events, due timers fire), refused inputs change
//! nothing, and the conversation state always matches who is present.

use proptest::prelude::*;

use super::support::*;
use crate::cim::{ChannelSessionReasonCode, ConversationState, ParticipantRole};
use crate::conversation::{Effect, Input};

#[derive(Debug, Clone)]
enum Op {
    Say(u32),
    Chat(u32),
    Leave(u32),
    Join(u32, u32, u8),
    AgentLeave(u32, u32),
    AgentSay(u32, u32),
    Hold(u32, u32),
    Resume(u32, u32),
    CloseWrapup(u32, u32),
    NoAgent(u32),
    End(u32),
    Enqueued(u32, u32),
    Interrupt(u32),
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let customer = 1u32..4;
    let agent = 1u32..4;
    prop_oneof![
        4 => customer.clone().prop_map(Op::Say),
        1 => customer.clone().prop_map(Op::Chat),
        1 => customer.clone().prop_map(Op::Leave),
        3 => (customer.clone(), agent.clone(), 0u8..3).prop_map(|(c, a, r)| Op::Join(c, a, r)),
        1 => (customer.clone(), agent.clone()).prop_map(|(c, a)| Op::AgentLeave(c, a)),
        3 => (customer.clone(), agent.clone()).prop_map(|(c, a)| Op::AgentSay(c, a)),
        1 => (customer.clone(), agent.clone()).prop_map(|(c, a)| Op::Hold(c, a)),
        1 => (customer.clone(), agent.clone()).prop_map(|(c, a)| Op::Resume(c, a)),
        1 => (customer.clone(), agent.clone()).prop_map(|(c, a)| Op::CloseWrapup(c, a)),
        1 => customer.clone().prop_map(Op::NoAgent),
        1 => customer.clone().prop_map(Op::End),
        1 => (customer.clone(), 0u32..60).prop_map(|(c, s)| Op::Enqueued(c, s)),
        1 => agent.prop_map(Op::Interrupt),
        3 => (1i64..150_000).prop_map(Op::Advance),
    ]
}

struct World {
    h: Harness,
    /// Per customer: the session generation (a new session id after one ended).
    generation: [u32; 4],
    counter: u32,
    timers: ChannelTimers,
}

impl World {
    fn session_id(&self, customer: u32) -> String {
        format!("cs-{customer}-{}", self.generation[customer as usize])
    }

    fn conversation(&self, customer: u32) -> String {
        self.h
            .core
            .conversation_of_customer(&format!("cust-{customer}"))
            .unwrap_or("conv-none")
            .to_owned()
    }

    fn next_id(&mut self) -> String {
        self.counter += 1;
        format!("id-{}", self.counter)
    }

    fn apply(&mut self, op: &Op) {
        let input = match *op {
            Op::Say(c) => {
                let id = self.next_id();
                let session = self.session_id(c);
                let effects = self.h.say(&session, c, &id, self.timers);
                if effects.iter().any(
                    |e| matches!(e, Effect::Rejected(err) if err.code() == "channel_session_ended"),
                ) {
                    self.generation[c as usize] += 1;
                }
                return;
            }
            Op::Chat(c) => Input::ChatRequested {
                channel_session: Box::new(session(&self.session_id(c), c, self.timers)),
            },
            Op::Leave(c) => {
                let input = Input::CustomerLeft {
                    channel_session_id: self.session_id(c),
                    reason: ChannelSessionReasonCode::Customer,
                };
                self.generation[c as usize] += 1;
                input
            }
            Op::Join(c, a, role) => Input::AgentJoined {
                conversation_id: self.conversation(c),
                agent: agent(&format!("agent-{a}")),
                role: [
                    ParticipantRole::Primary,
                    ParticipantRole::Assistant,
                    ParticipantRole::SilentMonitor,
                ][role as usize]
                    .clone(),
                task_id: Some(self.next_id()),
                agent_sla_secs: None,
            },
            Op::AgentLeave(c, a) => Input::AgentLeft {
                conversation_id: self.conversation(c),
                agent_id: format!("agent-{a}"),
                reason: None,
            },
            Op::AgentSay(c, a) => Input::AgentEvent {
                conversation_id: self.conversation(c),
                agent_id: format!("agent-{a}"),
                event: agent_text(&self.next_id(), "x"),
            },
            Op::Hold(c, a) => Input::Hold {
                conversation_id: self.conversation(c),
                agent_id: format!("agent-{a}"),
                duration_secs: Some(45),
            },
            Op::Resume(c, a) => Input::Resume {
                conversation_id: self.conversation(c),
                agent_id: format!("agent-{a}"),
            },
            Op::CloseWrapup(c, a) => {
                let agent_id = format!("agent-{a}");
                let wrapping: Vec<String> = self
                    .h
                    .core
                    .agent_conversations(&agent_id)
                    .into_iter()
                    .filter(|id| {
                        self.h
                            .core
                            .runtime(id)
                            .is_some_and(|r| r.timers.wrapups.contains_key(&agent_id))
                    })
                    .collect();
                let conversation_id = wrapping
                    .first()
                    .cloned()
                    .unwrap_or_else(|| self.conversation(c));
                Input::CloseWrapup {
                    conversation_id,
                    agent_id,
                    event: wrapup_event(&self.next_id()),
                }
            }
            Op::NoAgent(c) => Input::NoAgentAvailable {
                conversation_id: self.conversation(c),
                task: None,
            },
            Op::End(c) => Input::EndConversation {
                conversation_id: self.conversation(c),
                agent_id: None,
                reason: None,
            },
            Op::Enqueued(c, secs) => Input::TaskEnqueued {
                conversation_id: self.conversation(c),
                task: crate::cim::Task::new(self.next_id(), self.conversation(c), vec![], None),
                queue: crate::cim::QueueRef::new(QUEUE, "Default"),
                agent_sla_secs: Some(secs),
            },
            Op::Interrupt(a) => Input::MrdInterrupted {
                agent_id: format!("agent-{a}"),
                mrd_id: MRD.into(),
                conversations: self.h.core.agent_conversations(&format!("agent-{a}")),
            },
            Op::Advance(ms) => {
                self.h.advance(ms);
                return;
            }
        };
        let before: Vec<_> = self
            .h
            .core
            .conversation_ids()
            .into_iter()
            .map(|id| (self.h.core.conversation(&id), self.h.core.last_seq(&id)))
            .collect();
        let effects = self.h.send(input);
        if let [Effect::Rejected(_)] = effects.as_slice() {
            let after: Vec<_> = self
                .h
                .core
                .conversation_ids()
                .into_iter()
                .map(|id| (self.h.core.conversation(&id), self.h.core.last_seq(&id)))
                .collect();
            assert_eq!(before, after, "a refused input changed state");
        }
    }

    /// The state of every open conversation matches who is in it.
    fn check_states(&self) {
        for id in self.h.core.conversation_ids() {
            let record = self.h.core.conversation(&id).unwrap();
            let conversation = &record.conversation;
            let active = |p: &&crate::cim::Participant| p.is_active.get() != Some(&false);
            let serving = conversation
                .participants
                .iter()
                .filter(active)
                .filter(|p| {
                    p.as_cc_user().is_some()
                        && matches!(
                            p.role,
                            ParticipantRole::Primary | ParticipantRole::Assistant
                        )
                })
                .count();
            let customer = record
                .channel_sessions
                .iter()
                .any(|s| s.state_name() == Some(&crate::cim::ChannelSessionStateName::Started));
            match conversation.state {
                ConversationState::Active | ConversationState::OnHold => {
                    assert!(serving > 0 && customer, "{id} {:?}", conversation.state)
                }
                ConversationState::Inactive | ConversationState::Created => {
                    assert!(serving == 0 && customer, "{id} {:?}", conversation.state)
                }
                ConversationState::CustomerLeft => assert!(serving > 0 && !customer),
                ConversationState::WrapUp => assert!(serving == 0 && !customer),
                ConversationState::Closed => panic!("{id} is closed but still open"),
                ConversationState::Other(_) => panic!("unknown state"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_interleavings_keep_the_contract(
        ops in prop::collection::vec(op(), 1..60),
        wrapup in any::<bool>(),
        slas in any::<bool>(),
    ) {
        let mut s = settings();
        s.conversation.wrapup_enabled = wrapup;
        let timers = ChannelTimers {
            activity: 300,
            response_sla: if slas { 30 } else { 0 },
            customer_sla: if slas { 200 } else { 0 },
        };
        let mut world = World { h: Harness::new(s), generation: [0; 4], counter: 0, timers };
        for op in &ops {
            world.apply(op);
            world.check_states();
        }
        world.h.advance(3_600_000);
        world.check_states();
    }
}
