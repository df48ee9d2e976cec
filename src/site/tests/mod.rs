//! The whole site on a virtual clock, as quinn-proto's `Pair` tests drive two
//! endpoints: a [`World`] feeds the site its inputs, ticks it at every deadline,
//! commits each step's effects to a store the way the engine's driver does (task,
//! agent and conversation rows in one transaction), checks the site's invariants
//! after every step, and restarts the site from that store.

mod pair;
mod pair_departures;
mod pair_transfers;
mod properties;

use super::{Site, SiteEffect, SiteInput};
use crate::cim::{CcUser, ParticipantRole};
use crate::clock::Millis;
use crate::conversation::tests::support;
use crate::conversation::{self, IdGen, IdKind, SequentialIds};
use crate::reports::TallySettings;
use crate::routing::{self, loader, MediaState, RequestedAgentState, RoutingConfig, TaskStateName};
use crate::store::conversation_rows::{self, RowsWritten};
use crate::store::conversations as conversation_store;
use crate::store::routing_rows::RoutingRows;
use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

pub const T0: Millis = support::T0;
pub const QUEUE: &str = support::QUEUE;
pub const MRD: &str = support::MRD;
/// Chats an agent takes at once.
pub const CAPACITY: u32 = 2;

/// Deterministic ids that differ between runs of one world, so a restarted site
/// never reuses an id the store already holds.
#[derive(Clone, Default, serde::Serialize)]
pub struct RunIds {
    run: u32,
    ids: SequentialIds,
}

impl IdGen for RunIds {
    fn next_id(&mut self, kind: IdKind) -> String {
        format!("r{}-{}", self.run, self.ids.next_id(kind))
    }
}

pub fn routing_config() -> RoutingConfig {
    RoutingConfig {
        accept_timeout_ms: 20_000,
        disconnect_grace_ms: 15_000,
        unknown_state_grace_ms: 60_000,
        ..RoutingConfig::default()
    }
}

/// The site's directory: one chat MRD, one queue, `agents` agents (`agent-1`, ...).
fn directory(store: &Connection, agents: usize) -> Vec<String> {
    use crate::store::directory::{self, MrdRow, QueueRow};
    use crate::store::users::{self, NewUser, Role};
    let mrd = MrdRow {
        id: MRD.into(),
        name: "Chat".into(),
        description: String::new(),
        max_tasks: CAPACITY,
        interruptible: false,
    };
    directory::create_mrd(store, &mrd, T0).expect("mrd");
    let queue = QueueRow {
        id: QUEUE.into(),
        name: "Support".into(),
        mrd_id: MRD.into(),
        priority: 5,
        accept_timeout_secs: None,
        agent_sla_secs: 0,
        service_level_secs: 30,
        steps: Vec::new(),
    };
    directory::create_queue(store, &queue, T0).expect("queue");
    (1..=agents)
        .map(|n| {
            let user = NewUser {
                username: format!("agent-{n}"),
                first_name: String::new(),
                last_name: String::new(),
                role: Role::Agent,
                team_id: None,
                password_hash: "x".into(),
            };
            let created = users::create_user(store, user, T0).expect("agent").id;
            // Readable ids that are the same every run, so a failing case replays.
            let id = format!("agent-{n}");
            store
                .execute("UPDATE users SET id = ?1 WHERE id = ?2", [&id, &created])
                .expect("agent id");
            id
        })
        .collect()
}

/// The site, its clock and its store.
pub struct World {
    pub site: Site<RunIds>,
    pub now: Millis,
    /// Agent `n`'s user id is `agents[n - 1]`.
    agents: Vec<String>,
    run: u32,
    store: Connection,
    written: RowsWritten,
    /// Every effect since the world began, across restarts.
    pub log: Vec<SiteEffect>,
}

impl World {
    /// A site with `agents` agents, none logged in yet.
    pub fn new(agents: usize) -> World {
        let store = crate::store::test_connection();
        let agents = directory(&store, agents);
        // The customers and channels conversation rows refer to are the channel
        // layer's rows, which this world does not run.
        store
            .pragma_update(None, "foreign_keys", "OFF")
            .expect("pragma");
        let mut world = World {
            site: Site::with_ids(routing_config(), support::settings(), RunIds::default()),
            now: T0,
            agents,
            run: 0,
            store,
            written: RowsWritten::default(),
            log: Vec::new(),
        };
        let routing = loader::load(&world.store).expect("directory");
        let effects = world.site.restore(T0, Vec::new(), routing);
        world.commit(effects);
        world
    }

    /// Agent `n`'s user id.
    pub fn agent_id(&self, n: usize) -> String {
        self.agents[n - 1].clone()
    }

    /// Agent `n` as its desk session knows it.
    pub fn agent(&self, n: usize) -> CcUser {
        support::agent(&self.agent_id(n))
    }

    /// One step: handled, committed, checked.
    pub fn send(&mut self, input: SiteInput) -> Vec<SiteEffect> {
        let effects = self.site.handle(self.now, input);
        self.commit(effects.clone());
        effects
    }

    pub fn routing(&mut self, input: routing::Input) -> Vec<SiteEffect> {
        self.send(SiteInput::Routing(input))
    }

    pub fn conversation(&mut self, input: conversation::Input) -> Vec<SiteEffect> {
        self.send(SiteInput::Conversation(Box::new(input)))
    }

    /// Agent `n`'s desk connects and the agent goes READY.
    pub fn ready(&mut self, n: usize) -> Vec<SiteEffect> {
        let mut effects = self.routing(routing::Input::AgentConnected {
            agent_id: self.agent_id(n),
        });
        effects.extend(self.routing(routing::Input::SetAgentState {
            agent_id: self.agent_id(n),
            state: RequestedAgentState::Ready,
            reason_code: None,
        }));
        effects
    }

    /// Customer `n` writes `text` in session `session_id` (a new conversation when
    /// the customer has none open).
    pub fn customer_says(&mut self, session_id: &str, n: u32, text: &str) -> Vec<SiteEffect> {
        let id = format!("{session_id}-{}", self.log.len());
        self.conversation(conversation::Input::CustomerMessage {
            channel_session: Arc::new(support::session(
                session_id,
                n,
                support::ChannelTimers::default(),
            )),
            message: Box::new(support::customer_message(&id, n, text)),
        })
    }

    /// Moves the clock to `until`, ticking at every deadline on the way.
    pub fn advance_to(&mut self, until: Millis) -> Vec<SiteEffect> {
        let mut all = Vec::new();
        while let Some(at) = self.site.next_deadline() {
            if at > until {
                break;
            }
            self.now = self.now.max(at);
            all.extend(self.send(SiteInput::Tick));
        }
        self.now = self.now.max(until);
        all
    }

    pub fn advance(&mut self, ms: Millis) -> Vec<SiteEffect> {
        self.advance_to(self.now + ms)
    }

    /// Writes a step's rows in one transaction, as the engine's driver does.
    fn commit(&mut self, effects: Vec<SiteEffect>) {
        let mut routing_effects = Vec::new();
        let mut steps = Vec::new();
        for effect in &effects {
            match effect {
                SiteEffect::Routing(e) => routing_effects.push(e.clone()),
                SiteEffect::Conversation(conversation::Effect::Persist(step)) => steps.push(
                    self.written
                        .encode((**step).clone())
                        .expect("a step encodes"),
                ),
                _ => {}
            }
        }
        let rows = RoutingRows::of(&routing_effects, &[], Vec::new(), TallySettings::default())
            .expect("routing rows");
        let tx = self.store.transaction().expect("transaction");
        conversation_rows::write_batch(&tx, &steps, &[], self.now).expect("conversation rows");
        rows.write(&tx, self.now).expect("routing rows written");
        tx.commit().expect("commit");
        self.log.extend(effects);
        self.check();
    }

    /// The process dies and starts again: a new site from what the store holds, the
    /// directory's configuration first, as the loader reads it.
    pub fn restart(&mut self) -> Vec<SiteEffect> {
        self.run += 1;
        self.written = RowsWritten::default();
        self.site = Site::with_ids(
            routing_config(),
            support::settings(),
            RunIds {
                run: self.run,
                ids: SequentialIds::default(),
            },
        );
        let conversations = conversation_store::open_conversations(&self.store, 1024)
            .expect("open conversations")
            .into_iter()
            .map(conversation_rows::restore_record)
            .collect::<Result<Vec<_>, _>>()
            .expect("restorable");
        let routing = loader::load(&self.store).expect("routing rows");
        let effects = self.site.restore(self.now, conversations, routing);
        self.commit(effects.clone());
        effects
    }

    /// The id of customer `n`'s open conversation.
    pub fn conversation_of(&self, n: u32) -> Option<String> {
        self.site
            .conversations()
            .conversation_of_customer(&format!("cust-{n}"))
            .map(str::to_owned)
    }

    /// The open task of a conversation, if any.
    pub fn open_task(&self, conversation_id: &str) -> Option<routing::Task> {
        self.site
            .routing()
            .tasks_of_conversation(conversation_id)
            .find(|t| !t.is_closed())
            .cloned()
    }

    /// The invariants of the whole site, after every committed step.
    fn check(&self) {
        let routing = self.site.routing();
        let conversations = self.site.conversations();
        // No agent over capacity; no task held by two agents.
        let mut holders: HashMap<String, String> = HashMap::new();
        for view in routing.agents() {
            for mrd in &view.mrd_states {
                assert!(
                    mrd.load <= mrd.max_agent_tasks,
                    "{} over capacity on {}: {} of {}",
                    view.agent_id,
                    mrd.mrd_id,
                    mrd.load,
                    mrd.max_agent_tasks
                );
            }
            for task in &view.task_ids {
                if let Some(other) = holders.insert(task.clone(), view.agent_id.clone()) {
                    panic!("{task} held by {other} and {}", view.agent_id);
                }
            }
        }
        // No waiting customer left without a task: a conversation waiting for an agent
        // names an open task, in the same step that asked for it.
        for id in conversations.conversation_ids() {
            let Some(runtime) = conversations.runtime(&id) else {
                continue;
            };
            if runtime.routing_pending && !runtime.waiting_for_hours {
                let task = runtime
                    .pending_task_id
                    .as_deref()
                    .and_then(|t| routing.task(t));
                assert!(
                    task.is_some_and(|t| !t.is_closed()),
                    "conversation {id} waits for an agent with no open task ({:?})",
                    runtime.pending_task_id
                );
            }
        }
        // No task outlives its conversation: a queued, offered or served task belongs
        // to an open conversation.
        let open: HashSet<String> = conversations.conversation_ids().into_iter().collect();
        for task in routing.tasks().filter(|t| !t.is_closed()) {
            assert!(
                open.contains(&task.conversation_id),
                "task {} ({:?}) outlives conversation {}, which is closed",
                task.id,
                task.media.state,
                task.conversation_id
            );
        }
        // An agent serving a conversation holds its task, and the reverse.
        for task in routing.tasks() {
            let serving =
                task.media.state == MediaState::Active && task.state.name == TaskStateName::Active;
            if let (true, Some(agent)) = (serving, task.assigned_to.as_deref()) {
                let in_conversation = conversations
                    .conversation(&task.conversation_id)
                    .is_some_and(|r| {
                        r.conversation
                            .agents()
                            .any(|p| p.as_cc_user().is_some_and(|u| u.id == agent))
                    });
                assert!(
                    in_conversation,
                    "{agent} holds active task {} but is not in conversation {}",
                    task.id, task.conversation_id
                );
            }
        }
        for id in conversations.conversation_ids() {
            let (Some(record), Some(runtime)) =
                (conversations.conversation(&id), conversations.runtime(&id))
            else {
                continue;
            };
            for participant in record.conversation.agents() {
                let serving = matches!(
                    participant.role,
                    ParticipantRole::Primary | ParticipantRole::Assistant
                ) && participant.is_active.get().copied() != Some(false);
                let Some(agent) = participant.as_cc_user().map(|u| u.id.as_str()) else {
                    continue;
                };
                // A pull-mode join serves without a task; a task's agent holds it.
                let Some(task_id) = runtime.agent_tasks.get(agent).filter(|_| serving) else {
                    continue;
                };
                let held = routing.task(task_id).is_some_and(|t| {
                    t.assigned_to.as_deref() == Some(agent)
                        && t.media.state == MediaState::Active
                        && t.conversation_id == id
                });
                assert!(
                    held,
                    "{agent} serves conversation {id} as {:?} but does not hold its task \
                     {task_id} ({:?})",
                    participant.role,
                    routing
                        .task(task_id)
                        .map(|t| (t.media.state, t.assigned_to.clone()))
                );
            }
        }
    }
}

/// The routing effects of a step.
pub fn routing_effects(effects: &[SiteEffect]) -> impl Iterator<Item = &routing::Effect> {
    effects.iter().filter_map(|e| match e {
        SiteEffect::Routing(e) => Some(e),
        _ => None,
    })
}

/// The task offered to `agent` in these effects.
pub fn offered_to(effects: &[SiteEffect], agent: &str) -> Option<Arc<routing::Task>> {
    routing_effects(effects).find_map(|e| match e {
        routing::Effect::OfferTask { agent_id, task } if agent_id == agent => Some(task.clone()),
        _ => None,
    })
}

/// The names of the CIM events these effects store, in order.
pub fn stored_events(effects: &[SiteEffect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            SiteEffect::Conversation(conversation::Effect::Persist(step)) => Some(step),
            _ => None,
        })
        .flat_map(|step| {
            step.events
                .iter()
                .map(|e| e.event.name.as_str().to_string())
        })
        .collect()
}
