//! The live-figures task: owns the [`Figures`] fold, the agents' presence and the
//! queue settings; folds committed events as the conversation manager publishes them
//! and agent presence as the routing engine publishes it; keeps the connected
//! consoles and pushes each one its scoped changes at most once per
//! `supervisor.update_interval_ms` (changes in between are coalesced).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use super::facts::{self, LiveEvent};
use super::figures::{Changes, FigureSettings, Figures};
use super::view::{self, Index, QueueInfo};
use crate::bus::Subscription;
use crate::cim::CimEvent;
use crate::clock::{now_ms, Millis};
use crate::routing::{AgentView, Effect, EffectBatch, RoutingHandle};
use crate::socketio::Socket;
use crate::store::queue_thresholds::Thresholds;
use crate::store::{events, tasks, Store, StoreError};

/// How often agents and queue settings are re-read whole (presence published while
/// this task lagged behind the bus, queues changed in admin).
const REFRESH: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct LiveSettings {
    pub figures: FigureSettings,
    pub zone: jiff::tz::TimeZone,
    pub update_interval: Duration,
}

impl LiveSettings {
    pub fn from_config(config: &crate::config::Config) -> Self {
        LiveSettings {
            figures: FigureSettings {
                short_abandon_ms: (config.supervisor.short_abandon_secs as i64)
                    .saturating_mul(1000),
                ..FigureSettings::default()
            },
            zone: config.site.zone().unwrap_or(jiff::tz::TimeZone::UTC),
            update_interval: Duration::from_millis(config.supervisor.update_interval_ms),
        }
    }
}

/// Midnight of `now`'s day in `zone`, in epoch ms.
pub fn day_start(zone: &jiff::tz::TimeZone, now: Millis) -> Millis {
    let Ok(ts) = jiff::Timestamp::from_millisecond(now) else {
        return now;
    };
    ts.to_zoned(zone.clone())
        .start_of_day()
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(now)
}

/// Whose agents and conversations a console sees.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub admin: bool,
    pub teams: HashSet<String>,
}

impl Scope {
    pub fn sees_team(&self, team: Option<&str>) -> bool {
        self.admin || team.is_some_and(|t| self.teams.contains(t))
    }
}

/// A connected console.
pub struct Console {
    pub socket: Socket,
    pub scope: Scope,
    /// Conversations this console was last shown.
    shown: BTreeSet<String>,
}

impl Console {
    pub fn new(socket: Socket, scope: Scope) -> Self {
        Console {
            socket,
            scope,
            shown: BTreeSet::new(),
        }
    }
}

enum Command {
    Connect(Console, oneshot::Sender<()>),
    Disconnect(String),
}

/// Talks to the live-figures task.
#[derive(Clone)]
pub struct LiveHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl LiveHandle {
    /// Registers the console and sends it the full snapshot (before this returns).
    pub async fn connect(&self, console: Console) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Command::Connect(console, done)).is_ok() {
            let _ = rx.await;
        }
    }

    pub fn disconnect(&self, socket_id: &str) {
        let _ = self.tx.send(Command::Disconnect(socket_id.to_string()));
    }
}

/// Today's figures (and the rolling window's), replayed from the store.
pub async fn rebuild(
    store: &Store,
    settings: &LiveSettings,
    now: Millis,
) -> Result<Figures, StoreError> {
    let day = day_start(&settings.zone, now);
    let since = day.min(now - settings.figures.rolling_ms);
    let queues = store.read(crate::store::directory::list_queues).await?;
    let (log, messages) = store
        .read(move |c| Ok((tasks::log_since(c, since)?, events::live_messages(c)?)))
        .await?;
    let mut figures = Figures::new(settings.figures.clone(), day);
    for q in &queues {
        figures.name_queue(&q.id, &q.name);
        figures.set_service_level(&q.id, Some(q.service_level_secs.saturating_mul(1000)));
    }
    let mut replay: Vec<LiveEvent> = log.iter().filter_map(|t| facts::of_log(t)).collect();
    replay.extend(messages.iter().filter_map(|t| facts::of_stored_event(t)));
    // Task changes and messages are two logs; merged by time (stable: each keeps its order).
    replay.sort_by_key(|e| e.at);
    for event in &replay {
        figures.apply(event);
    }
    figures.expire(now);
    tracing::info!(events = replay.len(), "live figures rebuilt from the store");
    Ok(figures)
}

pub struct Wiring {
    pub store: Store,
    pub routing: RoutingHandle,
    pub observers: Subscription<EffectBatch>,
    /// Message events, as the conversation manager commits them.
    pub committed: mpsc::UnboundedReceiver<Vec<Arc<CimEvent>>>,
    /// Task changes, as the routing engine commits them (its task log).
    pub task_log: mpsc::UnboundedReceiver<Vec<LiveEvent>>,
}

pub fn spawn(
    figures: Figures,
    settings: LiveSettings,
    wiring: Wiring,
) -> (LiveHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let live = Live {
        figures,
        settings,
        agents: BTreeMap::new(),
        queues: BTreeMap::new(),
        consoles: Vec::new(),
        changed_agents: BTreeSet::new(),
        store: wiring.store,
        routing: wiring.routing,
    };
    let task = tokio::spawn(live.run(rx, wiring.observers, wiring.committed, wiring.task_log));
    (LiveHandle { tx }, task)
}

struct Live {
    figures: Figures,
    settings: LiveSettings,
    agents: BTreeMap<String, AgentView>,
    queues: BTreeMap<String, QueueInfo>,
    consoles: Vec<Console>,
    /// Agents whose presence changed since the last push.
    changed_agents: BTreeSet<String>,
    store: Store,
    routing: RoutingHandle,
}

impl Live {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut observers: Subscription<EffectBatch>,
        mut committed: mpsc::UnboundedReceiver<Vec<Arc<CimEvent>>>,
        mut task_log: mpsc::UnboundedReceiver<Vec<LiveEvent>>,
    ) {
        self.refresh().await;
        let mut push = tokio::time::interval(self.settings.update_interval);
        push.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut refresh = tokio::time::interval(REFRESH);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                batch = task_log.recv() => match batch {
                    Some(batch) => batch.iter().for_each(|e| self.figures.apply(e)),
                    None => break,
                },
                batch = committed.recv() => match batch {
                    Some(batch) => self.fold(&batch),
                    None => break,
                },
                command = commands.recv() => match command {
                    Some(Command::Connect(console, done)) => {
                        self.connect(console);
                        let _ = done.send(());
                    }
                    Some(Command::Disconnect(id)) => self.consoles.retain(|c| c.socket.id() != id),
                    None => break,
                },
                batch = observers.recv() => match batch {
                    Some(batch) => self.presence(&batch),
                    None => break,
                },
                _ = push.tick() => self.push(now_ms()),
                _ = refresh.tick() => self.refresh().await,
            }
        }
    }

    fn fold(&mut self, batch: &[Arc<CimEvent>]) {
        for event in batch {
            if let Some(event) = facts::of_event(event) {
                self.figures.apply(&event);
            }
        }
    }

    fn presence(&mut self, batch: &EffectBatch) {
        for effect in batch.iter() {
            if let Effect::AgentStateChanged { agent, .. } = effect {
                self.changed_agents.insert(agent.agent_id.clone());
                self.agents
                    .insert(agent.agent_id.clone(), (**agent).clone());
            }
        }
    }

    /// Re-reads every agent's presence and the queue settings.
    async fn refresh(&mut self) {
        let read = self
            .routing
            .query(|core, _| {
                let agents: Vec<AgentView> = core.agents().collect();
                let queues: Vec<_> = core.queue_configs().cloned().collect();
                (agents, queues)
            })
            .await;
        let Some((agents, queues)) = read else {
            return;
        };
        let thresholds = self
            .store
            .read(crate::store::queue_thresholds::all)
            .await
            .unwrap_or_default();
        let mut seen = BTreeSet::new();
        for agent in agents {
            seen.insert(agent.agent_id.clone());
            if self.agents.get(&agent.agent_id) != Some(&agent) {
                self.changed_agents.insert(agent.agent_id.clone());
                self.agents.insert(agent.agent_id.clone(), agent);
            }
        }
        self.agents.retain(|id, _| seen.contains(id));
        let mut infos = BTreeMap::new();
        for q in queues {
            let info = QueueInfo {
                name: q.name.clone(),
                mrd_id: q.mrd_id.clone(),
                service_level_ms: q.service_level_threshold_ms,
                agent_sla_ms: q.agent_sla_ms,
                thresholds: thresholds
                    .get(&q.id)
                    .cloned()
                    .unwrap_or_else(Thresholds::default),
            };
            self.figures.name_queue(&q.id, &q.name);
            self.figures
                .set_service_level(&q.id, q.service_level_threshold_ms);
            infos.insert(q.id, info);
        }
        if infos != self.queues {
            let changed: Vec<String> = infos.keys().cloned().collect();
            self.queues = infos;
            for id in changed {
                self.figures.touch_queue(&id);
            }
        }
    }

    fn queue_ids(&self) -> BTreeSet<String> {
        self.queues
            .keys()
            .cloned()
            .chain(self.figures.queues().map(|(id, _)| id.clone()))
            .collect()
    }

    fn visible_conversation(
        scope: &Scope,
        agents: &BTreeMap<String, AgentView>,
        members: &[String],
    ) -> bool {
        scope.admin
            || members.is_empty()
            || members
                .iter()
                .any(|m| scope.sees_team(agents.get(m).and_then(|a| a.team.as_deref())))
    }

    /// The full snapshot for one console.
    fn connect(&mut self, mut console: Console) {
        let now = now_ms();
        self.figures
            .set_day_start(day_start(&self.settings.zone, now));
        self.figures.expire(now);
        let index = Index::build(&self.figures);
        let queues: Vec<Value> = self
            .queue_ids()
            .iter()
            .map(|id| {
                view::queue_row(
                    id,
                    &self.figures,
                    self.queues.get(id),
                    &self.agents,
                    &index,
                    now,
                )
            })
            .collect();
        let agents: Vec<Value> = self
            .agents
            .values()
            .filter(|a| console.scope.sees_team(a.team.as_deref()))
            .map(|a| view::agent_row(a, &self.figures, &index))
            .collect();
        let mut conversations = Vec::new();
        for (id, _) in self.figures.conversations() {
            if let Some((row, members)) =
                view::conversation_row(id, &self.figures, &self.queues, &self.agents, now)
            {
                if Self::visible_conversation(&console.scope, &self.agents, &members) {
                    console.shown.insert(id.clone());
                    conversations.push(row);
                }
            }
        }
        let snapshot = json!({
            "now": now,
            "dayStart": self.figures.day_start(),
            "timeZone": self.settings.zone.iana_name(),
            "shortAbandonSecs": self.settings.figures.short_abandon_ms / 1000,
            "scope": {"admin": console.scope.admin, "teams": console.scope.teams},
            "queues": queues,
            "agents": agents,
            "conversations": conversations,
        });
        let _ = console.socket.emit("supervisor:snapshot", snapshot);
        self.consoles.push(console);
    }

    /// Pushes what changed since the last push to every console, scoped.
    fn push(&mut self, now: Millis) {
        let day = day_start(&self.settings.zone, now);
        self.figures.set_day_start(day);
        self.figures.expire(now);
        let mut changes: Changes = self.figures.take_changes();
        changes.agents.append(&mut self.changed_agents);
        self.consoles.retain(|c| c.socket.is_connected());
        if changes.is_empty() || self.consoles.is_empty() {
            return;
        }
        let index = Index::build(&self.figures);
        let queues: Vec<Value> = changes
            .queues
            .iter()
            .map(|id| {
                view::queue_row(
                    id,
                    &self.figures,
                    self.queues.get(id),
                    &self.agents,
                    &index,
                    now,
                )
            })
            .collect();
        let agents: Vec<(Option<String>, Value)> = changes
            .agents
            .iter()
            .filter_map(|id| self.agents.get(id))
            .map(|a| (a.team.clone(), view::agent_row(a, &self.figures, &index)))
            .collect();
        let conversations: Vec<(String, Value, Vec<String>)> = changes
            .conversations
            .iter()
            .filter_map(|id| {
                view::conversation_row(id, &self.figures, &self.queues, &self.agents, now)
                    .map(|(row, members)| (id.clone(), row, members))
            })
            .collect();
        for console in &mut self.consoles {
            let scope = &console.scope;
            let agents_out: Vec<&Value> = agents
                .iter()
                .filter(|(team, _)| scope.sees_team(team.as_deref()))
                .map(|(_, row)| row)
                .collect();
            let mut conversations_out = Vec::new();
            let mut ended: Vec<&String> = Vec::new();
            for (id, row, members) in &conversations {
                if Self::visible_conversation(scope, &self.agents, members) {
                    console.shown.insert(id.clone());
                    conversations_out.push(row);
                } else if console.shown.remove(id) {
                    ended.push(id);
                }
            }
            for id in &changes.ended {
                if console.shown.remove(id) {
                    ended.push(id);
                }
            }
            let update = json!({
                "now": now,
                "dayStart": self.figures.day_start(),
                "queues": queues,
                "agents": agents_out,
                "conversations": conversations_out,
                "ended": ended,
            });
            let _ = console.socket.emit("supervisor:update", update);
        }
    }
}
