//! Hand-over of committed deliveries to a component that starts later: the
//! conversation publisher gives desk deliveries to the agent manager and customer
//! deliveries to the widget channel through a [`LateSink`]. The receiver runs on the
//! caller's thread (the store's fsync thread, where a batch is published), in the
//! caller's order, so a committed event reaches a socket's
//! outbound queue without a task hand-off of its own (issue 19 counts them).
//!
//! The agent manager and the channels are built after the engine driver (they
//! need its handle); the publisher's sink is attached to them once they exist. A
//! delivery made before that is dropped: no desk or widget can be connected yet.
//!
//! What is delivered ([`ToDesk`], [`ToCustomer`]) is defined here, so the engine
//! imports nothing from the agent manager or the channels: they implement
//! [`Deliver`] for it.

use serde_json::Value;
use std::sync::{Arc, OnceLock};

/// What the engine delivers to desks after commit (the agent manager's `onCimEvent`, ...).
#[derive(Debug, Clone)]
pub enum ToDesk {
    /// `onCimEvent` to each agent: `event` is the event's JSON text with its `seq`.
    CimEvent {
        agent_ids: Vec<String>,
        conversation_id: String,
        seq: u64,
        event: Arc<str>,
    },
    /// `onCimEvent` without a `seq`: an ephemeral event (typing), delivered at once and
    /// never replayed.
    Ephemeral {
        agent_ids: Vec<String>,
        conversation_id: String,
        event: Arc<str>,
    },
    /// `topicClosed`.
    TopicClosed {
        agent_ids: Vec<String>,
        conversation_id: String,
    },
    /// `wrapupTimerStarted {task, duration, conversationId, roomInfo}`.
    WrapupTimerStarted { agent_id: String, payload: Value },
    /// Any other named event (SLA thresholds, ...).
    Notify {
        agent_ids: Vec<String>,
        event: &'static str,
        payload: Value,
    },
}

/// What the engine delivers to customers after commit (the widget channel and the outbox).
#[derive(Debug, Clone)]
pub enum ToCustomer {
    /// A CIM event for the customer's widget (`MESSAGE_RECEIVED`, `CHANNEL_SESSION_STARTED`, ...).
    Event {
        conversation_id: String,
        channel_session_id: String,
        /// With `channel_customer_identifier`: who the customer is, so an event that
        /// races ahead of the widget's own session bookkeeping still finds its tabs.
        service_identifier: String,
        channel_customer_identifier: String,
        /// The event's JSON text with its `seq` (none for an ephemeral event such as
        /// typing), shared with the desks that get it.
        event: Arc<str>,
    },
    /// The channel session ended (`CHANNEL_SESSION_ENDED`) or expired (`CHANNEL_SESSION_EXPIRED`).
    SessionEnded {
        channel_session_id: String,
        /// `INACTIVITY` is an expiry; `AGENT` an agent's End chat; others an end.
        reason: crate::cim::ChannelSessionReasonCode,
    },
    /// New outbox rows were committed: wake the webhook worker.
    OutboxReady,
}

/// Takes one delivery, synchronously (it may queue it on sockets, never wait).
pub trait Deliver<T>: Send + Sync {
    fn deliver(&self, item: T);
}

/// A [`Deliver`] target attached once, after the sender was built.
pub struct LateSink<T> {
    target: OnceLock<Arc<dyn Deliver<T>>>,
}

impl<T> Default for LateSink<T> {
    fn default() -> Self {
        LateSink {
            target: OnceLock::new(),
        }
    }
}

impl<T> LateSink<T> {
    /// Attaches the receiver; a second attach is ignored (the first receiver stays).
    pub fn attach(&self, target: Arc<dyn Deliver<T>>) {
        let _ = self.target.set(target);
    }

    /// Delivers to the receiver, or drops the item while none is attached.
    pub fn deliver(&self, item: T) {
        if let Some(target) = self.target.get() {
            target.deliver(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;

    struct Recorder(Mutex<Vec<u32>>);

    impl Deliver<u32> for Recorder {
        fn deliver(&self, item: u32) {
            self.0.lock().push(item);
        }
    }

    #[test]
    fn delivers_in_order_to_the_first_receiver_once_attached() {
        let sink = LateSink::<u32>::default();
        sink.deliver(1);
        let first = Arc::new(Recorder(Mutex::new(Vec::new())));
        let second = Arc::new(Recorder(Mutex::new(Vec::new())));
        sink.attach(first.clone());
        sink.attach(second.clone());
        sink.deliver(2);
        sink.deliver(3);
        assert_eq!(*first.0.lock(), vec![2, 3]);
        assert!(second.0.lock().is_empty());
    }
}
