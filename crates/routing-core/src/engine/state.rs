//! The engine's internal records and the ordered keys its indexes use.
//!
//! Indexes (all kept in step with every change, never rebuilt per decision):
//! - per MRD, the agents that can take a task now, ordered longest-available first;
//! - per queue and step k, the waiting tasks whose step k is open, best first
//!   (priority desc, enqueue time, arrival);
//! - per agent, the tasks waiting for that agent only (named or last agent);
//! - per agent and queue, a bitmask of the steps the agent matches.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::ops::{Index, IndexMut};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::expr::Expr;
use crate::model::{AgentProfile, AgentStateName, MrdConfig, MrdStateName, QueueConfig, MAX_STEPS};
use crate::stats::QueueWindow;
use crate::task::Task;
use crate::view::{ResumeState, StateChange};
use crate::Millis;

pub(crate) type AgentIx = u32;
pub(crate) type TaskIx = u32;
pub(crate) type QueueIx = u32;
pub(crate) type MrdIx = u32;

/// Position of an available agent on an MRD: longest available first, then fewer tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct AvailKey {
    pub since: Millis,
    pub load: u32,
    pub agent: AgentIx,
}

/// Position of a waiting task within its queue: best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct QueueKey {
    pub priority: Reverse<u8>,
    pub enqueue_time: Millis,
    pub seq: u64,
    pub task: TaskIx,
}

/// Position of a waiting task across queues, for an agent choosing its next task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct PickKey {
    pub queue_priority: Reverse<u8>,
    pub key: QueueKey,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct MrdSlot {
    pub live: bool,
    pub config: MrdConfig,
    pub queues: Vec<QueueIx>,
    pub available: BTreeSet<AvailKey>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct QueueSlot {
    pub live: bool,
    pub config: QueueConfig,
    pub mrd: MrdIx,
    /// One parsed expression per configured step (empty: the queue has no steps).
    /// Parsed again from `config` when a snapshot is read back.
    #[serde(skip)]
    pub steps: Vec<Expr>,
    /// `open[k]`: waiting tasks whose step k is open. Always at least one set.
    pub open: Vec<BTreeSet<QueueKey>>,
    /// Waiting tasks of this queue that wait for one agent only.
    pub targeted: BTreeSet<QueueKey>,
    pub window: QueueWindow,
}

impl QueueSlot {
    /// Number of step pools (a queue without steps has one pool: every agent).
    pub fn pool_count(&self) -> usize {
        self.open.len()
    }
}

/// Which steps of one queue an agent matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct QueueMatch {
    /// Bit k set: the agent matches step k.
    pub mask: u16,
    pub skill: [u16; MAX_STEPS],
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AgentMrd {
    pub ready_requested: bool,
    pub state: MrdStateName,
    /// The state last published; changes are reported once per input.
    pub reported_state: MrdStateName,
    pub state_since: Millis,
    pub load: u32,
    pub max: u32,
    /// When the agent last became available or its load last changed here.
    pub avail_since: Millis,
    /// The agent's key in the MRD's available set, when it is there.
    pub avail: Option<AvailKey>,
}

impl AgentMrd {
    pub fn new(now: Millis, max: u32) -> Self {
        Self {
            ready_requested: false,
            state: MrdStateName::NotReady,
            reported_state: MrdStateName::NotReady,
            state_since: now,
            load: 0,
            max,
            avail_since: now,
            avail: None,
        }
    }
}

#[derive(Serialize, Deserialize)]
pub(crate) struct AgentSlot {
    pub live: bool,
    pub profile: AgentProfile,
    pub state: AgentStateName,
    pub reason_code: Option<String>,
    pub state_since: Millis,
    pub login_time: Option<Millis>,
    pub connected: bool,
    pub resume: Option<ResumeState>,
    /// Indexed by MRD slot.
    pub mrds: Vec<AgentMrd>,
    /// Indexed by queue slot.
    pub matches: Vec<QueueMatch>,
    /// Tasks held: reserved, active or in wrap-up.
    pub held: Vec<TaskIx>,
    /// Tasks waiting for this agent only.
    pub targeted: BTreeSet<PickKey>,
    /// Reserved and active tasks on non-interruptible MRDs.
    pub non_interruptible_load: u32,
    pub disconnect_deadline: Option<Millis>,
    pub unknown_deadline: Option<Millis>,
    /// History rows gathered during the current input.
    pub changes: Vec<StateChange>,
    pub dirty: bool,
}

/// Where a task waits, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Waiting {
    No,
    /// In `open[0..=step]` of its queue.
    Queue(QueueKey),
    /// In the agent's `targeted` set (and the queue's `targeted` set).
    Targeted(AgentIx, PickKey),
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub(crate) struct TaskTimers {
    pub step: Option<Millis>,
    pub ttl: Option<Millis>,
    pub rona: Option<Millis>,
    pub last_agent: Option<Millis>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct TaskSlot {
    #[serde(serialize_with = "super::snapshot::task_without_payloads")]
    pub task: Arc<Task>,
    pub queue: QueueIx,
    pub mrd: MrdIx,
    /// The holder while reserved, active or in wrap-up.
    pub agent: Option<AgentIx>,
    pub waiting: Waiting,
    pub timers: TaskTimers,
    /// A direct transfer of the task's conversation was accepted while its agent
    /// wrapped up: the wrap-up goes on, and ends the task TRANSFERRED, not DONE. In
    /// the core's snapshots, not in the task rows: a wrap-up a restart restores ends
    /// DONE.
    #[serde(default)]
    pub transferred: bool,
}

impl TaskSlot {
    pub fn task_mut(&mut self) -> &mut Task {
        Arc::make_mut(&mut self.task)
    }
}

/// A vector of reusable slots addressed by `u32`.
#[derive(Serialize, Deserialize)]
pub(crate) struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    pub fn insert(&mut self, item: T) -> u32 {
        self.len += 1;
        match self.free.pop() {
            Some(ix) => {
                self.items[ix as usize] = Some(item);
                ix
            }
            None => {
                self.items.push(Some(item));
                (self.items.len() - 1) as u32
            }
        }
    }

    pub fn remove(&mut self, ix: u32) -> Option<T> {
        let item = self.items.get_mut(ix as usize)?.take()?;
        self.free.push(ix);
        self.len -= 1;
        Some(item)
    }

    pub fn get(&self, ix: u32) -> Option<&T> {
        self.items.get(ix as usize)?.as_ref()
    }

    pub fn get_mut(&mut self, ix: u32) -> Option<&mut T> {
        self.items.get_mut(ix as usize)?.as_mut()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.items
            .iter()
            .enumerate()
            .filter_map(|(ix, item)| item.as_ref().map(|item| (ix as u32, item)))
    }
}

/// Indexing a vacant slot is an engine bug (indexes out of step), never client input.
impl<T> Index<u32> for Slab<T> {
    type Output = T;
    fn index(&self, ix: u32) -> &T {
        match self.get(ix) {
            Some(item) => item,
            None => panic!("routing engine: vacant slot {ix} indexed"),
        }
    }
}

impl<T> IndexMut<u32> for Slab<T> {
    fn index_mut(&mut self, ix: u32) -> &mut T {
        match self.get_mut(ix) {
            Some(item) => item,
            None => panic!("routing engine: vacant slot {ix} indexed"),
        }
    }
}
