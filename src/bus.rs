//! The in-process event bus: typed publish/subscribe between components.
//!
//! Bounded: each subscriber has a ring of `capacity` events. A subscriber that
//! falls more than that behind loses the oldest events; the loss is counted and
//! logged with the subscriber's name, never silent. Components that must not
//! lose anything (the engine driver, the agent manager) talk over their own mpsc
//! channels; the bus is for fan-out such as presence and live dashboards.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::broadcast;

pub struct Bus<T: Clone> {
    tx: broadcast::Sender<T>,
    dropped: Arc<AtomicU64>,
}

impl<T: Clone> Clone for Bus<T> {
    fn clone(&self) -> Self {
        Self {
            tx: self.tx.clone(),
            dropped: self.dropped.clone(),
        }
    }
}

impl<T: Clone + Send + 'static> Bus<T> {
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        Self {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Publishes to every current subscriber; returns how many will see it.
    pub fn publish(&self, event: T) -> usize {
        self.tx.send(event).unwrap_or(0)
    }

    pub fn subscribe(&self, name: &str) -> Subscription<T> {
        Subscription {
            rx: self.tx.subscribe(),
            name: name.to_string(),
            dropped: self.dropped.clone(),
        }
    }

    /// Events lost by slow subscribers since start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

pub struct Subscription<T: Clone> {
    rx: broadcast::Receiver<T>,
    name: String,
    dropped: Arc<AtomicU64>,
}

impl<T: Clone> Subscription<T> {
    /// The next event; `None` once the bus is gone. Lag is logged and skipped.
    pub async fn recv(&mut self) -> Option<T> {
        loop {
            match self.rx.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    self.dropped.fetch_add(n, Ordering::Relaxed);
                    tracing::warn!(subscriber = %self.name, lost = n, "slow bus subscriber lost events");
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slow_subscriber_loses_oldest_and_it_is_counted() {
        let bus = Bus::new(2);
        let mut sub = bus.subscribe("test");
        for i in 0..5 {
            bus.publish(i);
        }
        assert_eq!(sub.recv().await, Some(3));
        assert_eq!(sub.recv().await, Some(4));
        assert_eq!(bus.dropped(), 3);
    }

    #[tokio::test]
    async fn every_subscriber_sees_every_event() {
        let bus = Bus::new(8);
        let mut a = bus.subscribe("a");
        let mut b = bus.subscribe("b");
        assert_eq!(bus.publish("x"), 2);
        assert_eq!(a.recv().await, Some("x"));
        assert_eq!(b.recv().await, Some("x"));
        drop(bus);
        assert_eq!(a.recv().await, None);
    }
}
