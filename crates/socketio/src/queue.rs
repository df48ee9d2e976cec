//! A bounded queue with one consumer whose storage exists only while items are queued, so an
//! idle connection holds no queue memory (a tokio mpsc channel allocates a 32-slot block up
//! front, per channel, per connection). The consumer can wait by polling ([`BoundedQueue::poll_pop`]),
//! so a hand-written future can consume it without holding a waiter of its own.

use futures_util::task::AtomicWaker;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::task::{Context, Poll};
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    Full,
    Closed,
}

struct Inner<T> {
    items: VecDeque<T>,
    closed: bool,
}

pub(crate) struct BoundedQueue<T> {
    inner: Mutex<Inner<T>>,
    capacity: usize,
    /// The single consumer's waker, registered before it finds the queue empty.
    consumer: AtomicWaker,
    /// Wakes producers waiting for space.
    space: Notify,
}

impl<T> BoundedQueue<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        BoundedQueue {
            inner: Mutex::new(Inner {
                items: VecDeque::new(),
                closed: false,
            }),
            capacity: capacity.max(1),
            consumer: AtomicWaker::new(),
            space: Notify::new(),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn try_push(&self, item: T) -> Result<(), PushError> {
        self.offer(item).map_err(|(err, _)| err)
    }

    /// Queues `item` if there is room; hands it back otherwise.
    pub(crate) fn offer(&self, item: T) -> Result<(), (PushError, T)> {
        let mut inner = self.inner.lock();
        if inner.closed {
            return Err((PushError::Closed, item));
        }
        if inner.items.len() >= self.capacity {
            return Err((PushError::Full, item));
        }
        inner.items.push_back(item);
        drop(inner);
        self.consumer.wake();
        Ok(())
    }

    /// Completes when an item is taken (or the queue closes): a producer waiting for room
    /// enables it, then offers again.
    pub(crate) fn space(&self) -> Notified<'_> {
        self.space.notified()
    }

    /// Waits for space, then queues `item`. Cancel-safe (the item is dropped if cancelled).
    pub(crate) async fn push(&self, item: T) -> Result<(), PushError> {
        let mut item = Some(item);
        loop {
            let space = self.space.notified();
            tokio::pin!(space);
            space.as_mut().enable();
            {
                let mut inner = self.inner.lock();
                if inner.closed {
                    return Err(PushError::Closed);
                }
                if inner.items.len() < self.capacity {
                    if let Some(item) = item.take() {
                        inner.items.push_back(item);
                    }
                    drop(inner);
                    self.consumer.wake();
                    return Ok(());
                }
            }
            space.await;
        }
    }

    pub(crate) fn try_pop(&self) -> Option<T> {
        let mut inner = self.inner.lock();
        let item = inner.items.pop_front();
        if inner.items.is_empty() {
            // An idle session keeps no queue storage.
            inner.items = VecDeque::new();
        }
        drop(inner);
        if item.is_some() {
            self.space.notify_waiters();
        }
        item
    }

    /// The next item; `None` once the queue is closed. For the single consumer; cancel-safe.
    pub(crate) async fn pop(&self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_pop(cx)).await
    }

    /// The next item, `None` once closed, or `Pending` with the consumer's waker registered.
    pub(crate) fn poll_pop(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(item) = self.try_pop() {
            return Poll::Ready(Some(item));
        }
        self.consumer.register(cx.waker());
        // A push between the first look and the registration must not be missed.
        if let Some(item) = self.try_pop() {
            return Poll::Ready(Some(item));
        }
        if self.inner.lock().closed {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    /// Forgets the consumer's waker: pushes do not wake it until [`BoundedQueue::poll_pop`]
    /// registers it again. For a consumer that is running and will look at the queue before it
    /// waits, so that items pushed by its own task meanwhile do not wake it for nothing.
    pub(crate) fn unregister_consumer(&self) {
        drop(self.consumer.take());
    }

    /// Drops what is queued and refuses further items; wakes everyone waiting.
    pub(crate) fn close(&self) {
        let dropped = {
            let mut inner = self.inner.lock();
            inner.closed = true;
            std::mem::take(&mut inner.items)
        };
        drop(dropped);
        self.consumer.wake();
        self.space.notify_waiters();
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.inner.lock().items.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn refuses_beyond_capacity_and_after_close() {
        let queue = BoundedQueue::new(2);
        assert_eq!(queue.try_push(1), Ok(()));
        assert_eq!(queue.try_push(2), Ok(()));
        assert_eq!(queue.try_push(3), Err(PushError::Full));
        assert_eq!(queue.try_pop(), Some(1));
        assert_eq!(queue.try_push(3), Ok(()));
        queue.close();
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.try_push(4), Err(PushError::Closed));
        assert_eq!(queue.try_pop(), None);
    }

    #[test]
    fn storage_is_released_after_a_burst() {
        let queue = BoundedQueue::new(1000);
        for i in 0..500 {
            queue.try_push(i).unwrap();
        }
        while queue.try_pop().is_some() {}
        assert_eq!(queue.inner.lock().items.capacity(), 0);
    }

    #[tokio::test]
    async fn pop_waits_for_a_push_and_ends_on_close() {
        let queue = Arc::new(BoundedQueue::new(4));
        let consumer = {
            let queue = queue.clone();
            tokio::spawn(async move {
                let first = queue.pop().await;
                let second = queue.pop().await;
                (first, second)
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        queue.try_push("a").unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        queue.close();
        assert_eq!(consumer.await.unwrap(), (Some("a"), None));
    }

    #[tokio::test]
    async fn push_waits_for_space() {
        let queue = Arc::new(BoundedQueue::new(1));
        queue.try_push(1).unwrap();
        let producer = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.push(2).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!producer.is_finished());
        assert_eq!(queue.pop().await, Some(1));
        assert_eq!(producer.await.unwrap(), Ok(()));
        assert_eq!(queue.pop().await, Some(2));
    }

    #[test]
    fn an_unregistered_consumer_is_not_woken_until_it_waits_again() {
        use futures_util::task::{waker, ArcWake};
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct Count(AtomicUsize);
        impl ArcWake for Count {
            fn wake_by_ref(this: &Arc<Self>) {
                this.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = waker(count.clone());
        let mut cx = Context::from_waker(&waker);
        let queue = BoundedQueue::new(4);
        assert_eq!(queue.poll_pop(&mut cx), Poll::Pending);
        queue.unregister_consumer();
        queue.try_push(1).unwrap();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            0,
            "no wake once unregistered"
        );
        assert_eq!(queue.poll_pop(&mut cx), Poll::Ready(Some(1)));
        assert_eq!(queue.poll_pop(&mut cx), Poll::Pending);
        queue.try_push(2).unwrap();
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "woken after waiting again"
        );
    }

    #[tokio::test]
    async fn a_cancelled_pop_loses_no_wakeup() {
        let queue = Arc::new(BoundedQueue::new(4));
        // Cancel a waiting pop, then push: the next pop must still see the item.
        let _ = tokio::time::timeout(Duration::from_millis(5), queue.pop()).await;
        queue.try_push(7).unwrap();
        let got = tokio::time::timeout(Duration::from_millis(100), queue.pop()).await;
        assert_eq!(got, Ok(Some(7)));
    }
}
