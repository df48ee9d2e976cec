//! Test harness: channel/customer/agent fixtures built from the CIM constructors, a
//! simulated clock that ticks at every deadline, and the contract checks run on every
//! `handle` result (persist before publish, contiguous sequence numbers, deliveries only
//! of persisted events).

use std::collections::HashMap;
use std::sync::Arc;

use crate::cim::{
    AgentSelectionPolicy, CcUser, Channel, ChannelConfig, ChannelConnector, ChannelData,
    ChannelProviderInterface, ChannelSession, ChannelType, CimEvent, CimEventName, CimEventType,
    CimMessage, ConversationState, Customer, Direction, EventEmitter, MessageBody, MessageHeader,
    MessageSender, ParticipantRole, RoomInfo, RoutingMode, RoutingPolicy, Sla, Tenant,
};
use crate::clock::Millis;
use crate::conversation::{
    ConversationCore, CoreSettings, Effect, Input, PersistStep, SequentialIds,
};

pub const QUEUE: &str = "queue-1";
pub const MRD: &str = "mrd-chat";
pub const T0: Millis = 1_700_000_000_000;

/// Channel timers, seconds (0: none).
#[derive(Clone, Copy)]
pub struct ChannelTimers {
    pub activity: i64,
    pub response_sla: i64,
    pub customer_sla: i64,
}

impl Default for ChannelTimers {
    fn default() -> Self {
        ChannelTimers {
            activity: 120,
            response_sla: 0,
            customer_sla: 0,
        }
    }
}

pub fn channel(timers: ChannelTimers) -> Channel {
    let web = ChannelType::new("ct-web", "WEB", MRD);
    let provider = ChannelProviderInterface::new("cpi-1", "web", None, vec![web.clone()]);
    let connector = ChannelConnector::new("cc-1", "web", provider, Tenant::new("t-1"));
    let policy = RoutingPolicy::new(
        RoutingMode::Push,
        AgentSelectionPolicy::LongestAvailable,
        Some(QUEUE.into()),
        120,
        false,
    );
    let mut config =
        ChannelConfig::new("cfg-1", policy, timers.activity, timers.response_sla, None);
    if timers.customer_sla > 0 {
        config.customer_sla = Sla {
            total_duration: timers.customer_sla.into(),
            ..Sla::unset()
        }
        .into();
    }
    Channel::new(
        "ch-1",
        "web",
        "1122",
        Tenant::new("t-1"),
        config,
        connector,
        web,
    )
}

/// A web session of customer `cust-<n>` as the channel layer builds it.
pub fn session(id: &str, customer: u32, timers: ChannelTimers) -> ChannelSession {
    let ident = format!("web-{customer}");
    ChannelSession::new(
        id,
        channel(timers),
        Customer::anonymous(format!("cust-{customer}"), "web", ident.clone()),
        ChannelData::new("1122", ident),
        "",
        RoomInfo::contact_center(""),
        Direction::Inbound,
    )
}

pub fn customer_message(id: &str, customer: u32, text: &str) -> CimMessage {
    let sender = EventEmitter::system("CUSTOMER");
    let mut header = MessageHeader::new(MessageSender::Sender(Box::new(sender)), T0);
    header.channel_data = ChannelData::new("1122", format!("web-{customer}")).into();
    CimMessage::new(id, header, MessageBody::plain(text))
}

pub fn agent(id: &str) -> CcUser {
    CcUser::new(id, id, vec!["agent".into()], None)
}

/// A desk event carrying a message with `body`.
pub fn desk_event(name: CimEventName, id: &str, message_id: &str, body: MessageBody) -> CimEvent {
    let sender = EventEmitter::system("DESK");
    let message = CimMessage::new(
        message_id,
        MessageHeader::new(MessageSender::Sender(Box::new(sender.clone())), T0),
        body,
    );
    CimEvent::new(
        id,
        name,
        CimEventType::Message,
        "",
        sender,
        None,
        serde_json::to_value(&message).unwrap(),
        RoomInfo::contact_center(""),
        T0,
    )
}

pub fn agent_text(id: &str, text: &str) -> CimEvent {
    desk_event(
        CimEventName::AgentMessage,
        id,
        &format!("{id}-msg"),
        MessageBody::plain(text),
    )
}

pub fn whisper(id: &str, text: &str) -> CimEvent {
    desk_event(
        CimEventName::WhisperMessage,
        id,
        &format!("{id}-msg"),
        MessageBody::plain(text),
    )
}

pub fn wrapup_event(id: &str) -> CimEvent {
    desk_event(
        CimEventName::AgentMessage,
        id,
        &format!("{id}-msg"),
        MessageBody::wrapup(
            vec![crate::cim::WrapupEntry::new("Sales", "Upsell")],
            Some("done".into()),
        ),
    )
}

pub fn settings() -> CoreSettings {
    let mut settings = CoreSettings::default();
    settings.conversation.greeting = "Hello!".into();
    settings.conversation.no_agent_message = "Nobody is free.".into();
    settings.conversation.wrapup_timeout_secs = 60;
    settings.conversation.agent_sla_thresholds = vec![50, 80];
    settings.conversation.customer_sla_reminder_percent = 80;
    settings.customer_sla_reminder_message = "Still there?".into();
    settings
}

/// A core on simulated time with the contract checks.
pub struct Harness {
    pub core: ConversationCore<SequentialIds>,
    pub now: Millis,
    /// Every effect so far, in order.
    pub log: Vec<Effect>,
    last_seq: HashMap<String, u64>,
}

impl Harness {
    pub fn new(settings: CoreSettings) -> Self {
        Harness {
            core: ConversationCore::with_ids(settings, SequentialIds::default()),
            now: T0,
            log: Vec::new(),
            last_seq: HashMap::new(),
        }
    }

    /// Rebuilds the core from stored conversations (a restart).
    pub fn restore(&mut self, conversations: Vec<crate::conversation::RestoredConversation>) {
        for restored in &conversations {
            self.last_seq
                .insert(restored.record.conversation.id.clone(), restored.last_seq);
        }
        let effects = self.core.handle(self.now, Input::Restore { conversations });
        assert!(effects.is_empty(), "a restore has no effects: {effects:#?}");
    }

    pub fn send(&mut self, input: Input) -> Vec<Effect> {
        let effects = self.core.handle(self.now, input);
        self.check(&effects);
        self.log.extend(effects.iter().cloned());
        effects
    }

    /// Moves the clock to `until`, ticking at every deadline on the way.
    pub fn advance_to(&mut self, until: Millis) -> Vec<Effect> {
        let mut all = Vec::new();
        while let Some(at) = self.core.next_deadline() {
            if at > until {
                break;
            }
            self.now = self.now.max(at);
            all.extend(self.send(Input::Tick));
            if let Some(next) = self.core.next_deadline() {
                assert!(next > self.now, "a due timer did not fire at {}", self.now);
            }
        }
        self.now = until;
        all.extend(self.send(Input::Tick));
        all
    }

    pub fn advance(&mut self, ms: i64) -> Vec<Effect> {
        self.advance_to(self.now + ms)
    }

    /// Persist first; sequence numbers contiguous per conversation; every delivery and
    /// ack (not duplicate) refers to an event persisted in the same call.
    fn check(&mut self, effects: &[Effect]) {
        let first_other = effects
            .iter()
            .position(|e| !matches!(e, Effect::Persist(_)))
            .unwrap_or(effects.len());
        assert!(
            effects[first_other..]
                .iter()
                .all(|e| !matches!(e, Effect::Persist(_))),
            "a Persist after a publishing effect: {effects:#?}"
        );
        let mut persisted: HashMap<String, Vec<u64>> = HashMap::new();
        for effect in &effects[..first_other] {
            let Effect::Persist(step) = effect else {
                unreachable!()
            };
            let last = self
                .last_seq
                .entry(step.conversation_id.clone())
                .or_insert(0);
            for event in &step.events {
                assert_eq!(event.seq, *last + 1, "seq gap in {}", step.conversation_id);
                *last = event.seq;
                assert_eq!(
                    event.event.conversation_id.get().map(String::as_str),
                    Some(step.conversation_id.as_str())
                );
                // Every stored event reads back as the CIM model types its name.
                if let Err(error) = event.event.typed_data() {
                    panic!("{} data does not fit its type: {error}", event.event.name);
                }
            }
            assert_eq!(step.last_seq, *last);
            persisted
                .entry(step.conversation_id.clone())
                .or_default()
                .extend(step.events.iter().map(|e| e.seq));
        }
        for effect in &effects[first_other..] {
            let (conversation, seq) = match effect {
                // A typing indicator's ack: delivered, never stored.
                Effect::Ack {
                    seq: crate::conversation::typing::EPHEMERAL_SEQ,
                    ..
                } => continue,
                Effect::ToCustomer {
                    conversation_id,
                    seq,
                    ..
                }
                | Effect::ToAgents {
                    conversation_id,
                    seq,
                    ..
                }
                | Effect::ToBots {
                    conversation_id,
                    seq,
                    ..
                }
                | Effect::Ack {
                    conversation_id,
                    seq,
                    duplicate: false,
                    ..
                } => (conversation_id, *seq),
                _ => continue,
            };
            assert!(
                persisted
                    .get(conversation)
                    .is_some_and(|s| s.contains(&seq)),
                "{effect:?} delivers an event not persisted in this call"
            );
        }
    }

    // ---- shortcuts -------------------------------------------------------------

    pub fn state(&self, conversation_id: &str) -> ConversationState {
        self.core
            .conversation(conversation_id)
            .map(|r| r.conversation.state)
            .unwrap_or(ConversationState::Closed)
    }

    /// Starts a conversation with a customer message; returns its id.
    pub fn start(&mut self, session_id: &str, customer: u32, timers: ChannelTimers) -> String {
        let effects = self.send(Input::CustomerMessage {
            channel_session: std::sync::Arc::new(session(session_id, customer, timers)),
            message: Box::new(customer_message(
                &format!("{session_id}-m0"),
                customer,
                "hi",
            )),
        });
        effects
            .iter()
            .find_map(|e| match e {
                Effect::ChannelSessionStarted {
                    conversation_id, ..
                } => Some(conversation_id.clone()),
                _ => None,
            })
            .expect("a new session")
    }

    pub fn join(
        &mut self,
        conversation_id: &str,
        agent_id: &str,
        role: ParticipantRole,
    ) -> Vec<Effect> {
        self.send(Input::AgentJoined {
            conversation_id: conversation_id.into(),
            agent: agent(agent_id),
            role,
            task_id: Some(format!("task-{agent_id}")),
            agent_sla_secs: None,
        })
    }

    pub fn say(
        &mut self,
        session_id: &str,
        customer: u32,
        message_id: &str,
        timers: ChannelTimers,
    ) -> Vec<Effect> {
        self.send(Input::CustomerMessage {
            channel_session: std::sync::Arc::new(session(session_id, customer, timers)),
            message: Box::new(customer_message(message_id, customer, "text")),
        })
    }

    pub fn agent_says(
        &mut self,
        conversation_id: &str,
        agent_id: &str,
        event_id: &str,
    ) -> Vec<Effect> {
        self.send(Input::AgentEvent {
            conversation_id: conversation_id.into(),
            agent_id: agent_id.into(),
            event: agent_text(event_id, "answer"),
        })
    }
}

// ---- effect queries ---------------------------------------------------------------

pub fn persists(effects: &[Effect]) -> Vec<&PersistStep> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Persist(step) => Some(step.as_ref()),
            _ => None,
        })
        .collect()
}

/// Names of the events persisted, in order.
pub fn event_names(effects: &[Effect]) -> Vec<String> {
    persists(effects)
        .iter()
        .flat_map(|p| p.events.iter().map(|e| e.event.name.to_string()))
        .collect()
}

pub fn find_event(effects: &[Effect], name: CimEventName) -> Option<Arc<CimEvent>> {
    persists(effects)
        .iter()
        .flat_map(|p| p.events.iter())
        .find(|e| e.event.name == name)
        .map(|e| e.event.clone())
}

pub fn customer_deliveries(effects: &[Effect]) -> Vec<(u64, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::ToCustomer { seq, event, .. } => Some((*seq, event.name.to_string())),
            _ => None,
        })
        .collect()
}

pub fn agent_deliveries(effects: &[Effect]) -> Vec<(u64, String, Vec<String>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::ToAgents {
                seq,
                event,
                agent_ids,
                ..
            } => Some((*seq, event.name.to_string(), agent_ids.clone())),
            _ => None,
        })
        .collect()
}

/// Typing deliveries: (event name, desks, whether the customer gets it).
pub fn ephemeral_deliveries(effects: &[Effect]) -> Vec<(String, Vec<String>, bool)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Ephemeral {
                event,
                agent_ids,
                customer,
                ..
            } => Some((
                event.name.to_string(),
                agent_ids.clone(),
                customer.is_some(),
            )),
            _ => None,
        })
        .collect()
}

pub fn find_agent_requests(effects: &[Effect]) -> Vec<&crate::conversation::FindAgentRequest> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::FindAgent(request) => Some(request.as_ref()),
            _ => None,
        })
        .collect()
}

pub fn rejected(effects: &[Effect]) -> Option<&crate::conversation::CoreError> {
    match effects {
        [Effect::Rejected(error)] => Some(error),
        _ => None,
    }
}

pub fn has(effects: &[Effect], predicate: impl Fn(&Effect) -> bool) -> bool {
    effects.iter().any(predicate)
}

/// The studio's text messages to the customer.
pub fn studio_texts(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::ToCustomer { event, .. } if event.name == CimEventName::BotMessage => event
                .message()
                .ok()
                .and_then(|m| m.body.markdown_text().map(str::to_owned)),
            _ => None,
        })
        .collect()
}
