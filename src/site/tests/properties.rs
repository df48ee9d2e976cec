//! Random interleavings over the whole site — customers writing and leaving, agents
//! going ready, not ready, dropping and coming back, accepting, leaving, looking in
//! as monitors and transferring (direct and consult), the clock, restarts — with the site's invariants checked after every
//! step (`World::check`: no agent over capacity, no task held by two agents, no
//! waiting customer without a task, no task outliving its conversation) and FIFO
//! within a priority checked on every offer.

use super::*;
use crate::cim::ChannelSessionReasonCode;
use crate::routing::{Direction, Effect as R, NewTask, SelectionPolicy, Target, TaskMode};
use proptest::prelude::*;
use serde_json::json;

const AGENTS: usize = 3;
const CUSTOMERS: u32 = 5;

#[derive(Debug, Clone)]
enum Op {
    Ready(usize),
    NotReady(usize),
    Drop(usize),
    Reconnect(usize),
    Say(u32),
    CustomerLeaves(u32),
    Accept(usize),
    AgentLeaves(usize, u32),
    /// A supervisor-agent looks in as a silent monitor (it may be offered the chat
    /// while it is in it).
    Monitor(usize, u32),
    /// A direct transfer, or a consult transfer (`true`).
    Transfer(usize, usize, bool),
    Advance(i64),
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    let agent = 1..=AGENTS;
    let customer = 1..=CUSTOMERS;
    prop_oneof![
        3 => agent.clone().prop_map(Op::Ready),
        1 => agent.clone().prop_map(Op::NotReady),
        1 => agent.clone().prop_map(Op::Drop),
        1 => agent.clone().prop_map(Op::Reconnect),
        5 => customer.clone().prop_map(Op::Say),
        1 => customer.clone().prop_map(Op::CustomerLeaves),
        4 => agent.clone().prop_map(Op::Accept),
        2 => (agent.clone(), customer.clone()).prop_map(|(a, c)| Op::AgentLeaves(a, c)),
        1 => (agent.clone(), customer).prop_map(|(a, c)| Op::Monitor(a, c)),
        1 => (agent.clone(), agent, any::<bool>()).prop_map(|(a, b, consult)| Op::Transfer(a, b, consult)),
        3 => (1i64..40_000).prop_map(Op::Advance),
        1 => Just(Op::Restart),
    ]
}

/// Per customer: the session generation (a new session after one ended).
struct Customers([u32; CUSTOMERS as usize + 1]);

impl Customers {
    fn session(&self, n: u32) -> String {
        format!("cs-{n}-{}", self.0[n as usize])
    }
}

fn apply(w: &mut World, customers: &mut Customers, op: &Op) -> Vec<SiteEffect> {
    match *op {
        Op::Ready(n) => w.ready(n),
        Op::NotReady(n) => w.routing(routing::Input::SetAgentState {
            agent_id: w.agent_id(n),
            state: RequestedAgentState::NotReady,
            reason_code: None,
        }),
        Op::Drop(n) => w.routing(routing::Input::AgentDisconnected {
            agent_id: w.agent_id(n),
        }),
        Op::Reconnect(n) => w.routing(routing::Input::AgentConnected {
            agent_id: w.agent_id(n),
        }),
        Op::Say(c) => {
            let session = customers.session(c);
            w.customer_says(&session, c, "hello")
        }
        Op::CustomerLeaves(c) => {
            let session = customers.session(c);
            customers.0[c as usize] += 1;
            w.conversation(conversation::Input::CustomerLeft {
                channel_session_id: session,
                reason: ChannelSessionReasonCode::Customer,
            })
        }
        Op::Accept(n) => {
            let agent_id = w.agent_id(n);
            let offered = w
                .site
                .routing()
                .tasks_of_agent(&agent_id)
                .into_iter()
                .find(|t| t.media.state == MediaState::Reserved)
                .map(|t| t.id.clone());
            let agent = Box::new(w.agent(n));
            w.send(SiteInput::Accept {
                agent,
                task_id: offered.unwrap_or_else(|| "nothing-offered".into()),
            })
        }
        Op::AgentLeaves(n, c) => {
            let conversation_id = w.conversation_of(c).unwrap_or_else(|| "none".into());
            let agent_id = w.agent_id(n);
            w.send(SiteInput::Leave {
                agent_id,
                conversation_id,
                reason: "AGENT_LEFT".into(),
            })
        }
        Op::Monitor(n, c) => {
            let conversation_id = w.conversation_of(c).unwrap_or_else(|| "none".into());
            let agent = w.agent(n);
            w.conversation(conversation::Input::AgentJoined {
                conversation_id,
                agent,
                role: crate::cim::ParticipantRole::SilentMonitor,
                task_id: None,
                agent_sla_secs: None,
            })
        }
        Op::Transfer(from, to, consult) => {
            let from_id = w.agent_id(from);
            let own = w
                .site
                .routing()
                .tasks_of_agent(&from_id)
                .into_iter()
                .find(|t| t.media.state == MediaState::Active)
                .cloned();
            let Some(own) = own else {
                return Vec::new();
            };
            let task = NewTask {
                task_id: format!("transfer-{}-{}", own.id, w.log.len()),
                media_id: format!("media-transfer-{}", w.log.len()),
                conversation_id: own.conversation_id.clone(),
                queue_id: QUEUE.into(),
                priority: 1,
                direction: match consult {
                    true => Direction::Consult,
                    false => Direction::DirectTransfer,
                },
                mode: TaskMode::Agent {
                    agent_id: w.agent_id(to),
                },
                offer_to_agent: true,
                agent_request_ttl_ms: Some(30_000),
                selection_policy: SelectionPolicy::LongestAvailable,
                preferred_last_agent: None,
                exclude_agents: vec![from_id.clone()],
                related_task: Some(own.id.clone()),
                request_session: (*own.media.request_session).clone(),
                metadata: json!({
                    "requestType": if consult { "CONSULT_TRANSFER" } else { "DIRECT_TRANSFER" },
                    "requestedBy": from_id,
                }),
            };
            w.routing(routing::Input::EnqueueTask(Box::new(task)))
        }
        Op::Advance(ms) => w.advance(ms),
        Op::Restart => w.restart(),
    }
}

/// The waiting tasks: id → (queue, priority).
fn waiting(w: &World) -> HashMap<String, (String, u8)> {
    w.site
        .routing()
        .tasks()
        .filter(|t| t.media.state == MediaState::Queued)
        .map(|t| (t.id.clone(), (t.media.queue.id.clone(), t.media.priority)))
        .collect()
}

/// FIFO within a priority: an offer this step made that still stands did not pass
/// over an older task of the same queue and priority that waited all step long and
/// that the agent could have taken. (An offer taken back later in the step, by a
/// RONA say, decided nothing.)
fn check_fifo(
    w: &World,
    waited: &HashMap<String, (String, u8)>,
    effects: &[SiteEffect],
) -> Result<(), TestCaseError> {
    let routing = w.site.routing();
    let waiting_now = waiting(w);
    for effect in routing_effects(effects) {
        let R::OfferTask { agent_id, task } = effect else {
            continue;
        };
        let standing = routing.task(&task.id).is_some_and(|t| {
            t.media.state == MediaState::Reserved && t.assigned_to.as_ref() == Some(agent_id)
        });
        if !standing || task.routing.target != Target::Queue {
            continue;
        }
        let holds: HashSet<&str> = routing
            .tasks_of_agent(agent_id)
            .into_iter()
            .map(|t| t.conversation_id.as_str())
            .collect();
        let place = (task.media.queue.id.clone(), task.media.priority);
        for older in routing.tasks() {
            let passed_over = waited.get(&older.id) == Some(&place)
                && waiting_now.get(&older.id) == Some(&place)
                && older.routing.target == Target::Queue
                && older.routing.seq < task.routing.seq
                && !older.routing.exclude_agents.contains(agent_id)
                && !holds.contains(older.conversation_id.as_str());
            prop_assert!(
                !passed_over,
                "{} offered to {agent_id} before the older {}",
                task.id,
                older.id
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_site_keeps_its_invariants(ops in prop::collection::vec(op(), 1..60)) {
        let mut w = World::new(AGENTS);
        let mut customers = Customers([0; CUSTOMERS as usize + 1]);
        for op in &ops {
            // `World::check` runs after every committed step.
            let waited = waiting(&w);
            let effects = apply(&mut w, &mut customers, op);
            check_fifo(&w, &waited, &effects)?;
        }
    }
}
