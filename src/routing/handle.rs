//! The routing engine's handle: what callers send the engine driver (which owns the
//! routing core inside the site, `crate::engine`) and read from it, and what the
//! driver publishes routing effects to once they are committed.

use super::{Effect, Input, RoutingCore};
use crate::clock::Millis;
use crate::live::facts::LiveEvent;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Effects of one committed batch, shared by every subscriber.
pub type EffectBatch = Arc<Vec<Effect>>;

/// Sends a query's answer, once the batch it was read in has committed.
pub type Answer = Box<dyn FnOnce() + Send>;

/// Reads the core (after every earlier input) and returns the answer to send.
pub type Query = Box<dyn FnOnce(&RoutingCore, Millis) -> Answer + Send>;

/// What a [`RoutingHandle`] sends the engine driver.
pub enum Command {
    /// An input; with a reply, the caller hears its effects once committed.
    Input(Input, Option<oneshot::Sender<Vec<Effect>>>),
    Query(Query),
}

/// Sends inputs to the routing engine and reads its state. Cheap to clone.
#[derive(Clone)]
pub struct RoutingHandle {
    tx: mpsc::UnboundedSender<Command>,
}

impl RoutingHandle {
    /// A handle whose commands `rx` receives (the engine driver's).
    pub fn new() -> (RoutingHandle, mpsc::UnboundedReceiver<Command>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (RoutingHandle { tx }, rx)
    }

    /// Feeds an input; its effects are persisted and published in order.
    pub fn send(&self, input: Input) {
        if self.tx.send(Command::Input(input, None)).is_err() {
            tracing::debug!("the engine is gone (shutting down); input dropped");
        }
    }

    /// Feeds an input and returns its effects once they are committed and published.
    /// Empty when the driver is gone.
    pub async fn call(&self, input: Input) -> Vec<Effect> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Input(input, Some(tx))).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Runs `f` against the core after every earlier input; answers once those
    /// inputs were committed.
    pub async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&RoutingCore, Millis) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let query: Query = Box::new(move |core, now| {
            let answer = f(core, now);
            Box::new(move || {
                let _ = tx.send(answer);
            })
        });
        self.tx.send(Command::Query(query)).ok()?;
        rx.await.ok()
    }
}

/// Where committed effects go and must arrive (the agent manager, the metrics).
pub type Subscriber = mpsc::UnboundedSender<EffectBatch>;

/// Where committed effects are offered to observers that may skip some under load
/// (queue-position notices, dashboards): the bus's lag policy applies.
pub type Observers = crate::bus::Bus<EffectBatch>;

/// Where the task log's rows go once committed (the live figures, `crate::live`).
pub type LiveSink = mpsc::UnboundedSender<Vec<LiveEvent>>;

/// What the driver journals (`crate::journal::Recorder`).
#[derive(Clone, Copy, Debug)]
pub struct JournalSettings {
    /// Every input, in the transaction of its effects.
    pub on: bool,
    /// The core's state once per this period (ms; 0: never).
    pub snapshot_every_ms: Millis,
}

/// The serde name of a unit enum value (`READY`, `NOT_READY`, ...).
pub use crate::store::routing_rows::enum_str;
