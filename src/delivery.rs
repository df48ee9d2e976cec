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

use std::sync::{Arc, OnceLock};

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
