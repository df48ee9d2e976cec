//! The engine's deadlines in one ordered set. Each entity keeps the deadline it
//! armed, so a timer is cancelled or moved exactly; nothing is polled.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::state::{AgentIx, TaskIx};
use crate::Millis;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(super) enum Timer {
    /// The next queue step of a waiting task opens.
    Step(TaskIx),
    /// The agent request TTL of a task runs out.
    Ttl(TaskIx),
    /// A reservation was not accepted in time.
    Rona(TaskIx),
    /// A task stops waiting for its last agent and goes to the queue.
    LastAgent(TaskIx),
    /// A dropped desk did not come back.
    DisconnectGrace(AgentIx),
    /// An agent restored after a restart did not reconnect.
    UnknownGrace(AgentIx),
}

#[derive(Default, Serialize, Deserialize)]
pub(super) struct Timers {
    due: BTreeSet<(Millis, Timer)>,
}

impl Timers {
    /// Moves `timer` to `at` (None cancels it); `armed` is the entity's record of it.
    pub fn set(&mut self, armed: &mut Option<Millis>, timer: Timer, at: Option<Millis>) {
        if let Some(old) = armed.take() {
            self.due.remove(&(old, timer));
        }
        if let Some(at) = at {
            self.due.insert((at, timer));
            *armed = Some(at);
        }
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.due.first().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest timer due at `now`, with its deadline. The
    /// caller clears the entity's armed record.
    pub fn pop_due(&mut self, now: Millis) -> Option<(Millis, Timer)> {
        let (at, _) = self.due.first()?;
        if *at > now {
            return None;
        }
        self.due.pop_first()
    }
}
