//! The order of publication. Every batch the driver queues is published (callers
//! answered, effects delivered: `super::publisher`) in the order the driver queued
//! it, once its write's outcome is known. There is no publishing task: a batch is
//! published on the thread that settles it, which for a stored batch is the
//! store's fsync thread right after its fsync (`Store::submit_then`), so a
//! customer's message goes from there straight onto the desks' socket queues
//! (issue 19's hand-offs). A batch that stored nothing (typing, a read-only answer)
//! settles at once on the driver's task, but is published only after every batch
//! before it: whichever thread settles the batch at the front publishes every
//! settled batch behind it, and one thread publishes at a time.

use super::publisher::{Publisher, Queued};
use crate::store::StoreResult;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Batches queued and not yet published before the driver waits: bounds the work
/// in flight when the store falls behind.
pub(super) const DEPTH: u32 = 256;

/// Publishes queued batches in queue order as their writes settle.
pub(super) struct Sequencer {
    publisher: Publisher,
    line: Mutex<Line>,
    room: Arc<Semaphore>,
    /// Set when a publish step panicked: the driver stops, as it did when the
    /// publisher was a task that died.
    broken: AtomicBool,
}

#[derive(Default)]
struct Line {
    waiting: VecDeque<Place>,
    /// The ticket of `waiting`'s front.
    front: u64,
    /// Whether a thread is publishing the front of the line now.
    publishing: bool,
}

struct Place {
    batch: Queued,
    /// The write's outcome, once known.
    stored: Option<StoreResult<()>>,
    /// Held until the batch is published.
    room: OwnedSemaphorePermit,
}

/// A queued batch's place in line, handed back with its write's outcome.
pub(super) struct Ticket(u64);

impl Sequencer {
    pub(super) fn new(publisher: Publisher) -> Arc<Sequencer> {
        Arc::new(Sequencer {
            publisher,
            line: Mutex::new(Line::default()),
            room: Arc::new(Semaphore::new(DEPTH as usize)),
            broken: AtomicBool::new(false),
        })
    }

    /// Waits until fewer than [`DEPTH`] batches are unpublished, then queues `batch`
    /// behind every earlier one. Settle the ticket with its write's outcome.
    pub(super) async fn queue(&self, batch: Queued) -> Option<Ticket> {
        // The semaphore is never closed; `None` only to avoid a panic path.
        let room = self.room.clone().acquire_owned().await.ok()?;
        let mut line = self.line.lock();
        let ticket = line.front + line.waiting.len() as u64;
        line.waiting.push_back(Place {
            batch,
            stored: None,
            room,
        });
        Some(Ticket(ticket))
    }

    /// Records the outcome of the ticket's write (`Ok` for a batch that stored
    /// nothing), then publishes, here, every batch at the front of the line whose
    /// outcome is known. When another thread is publishing, it publishes these too.
    pub(super) fn settle(&self, ticket: Ticket, stored: StoreResult<()>) {
        let mut line = self.line.lock();
        let index = ticket.0.wrapping_sub(line.front) as usize;
        match line.waiting.get_mut(index) {
            Some(place) => place.stored = Some(stored),
            None => {
                tracing::error!(ticket = ticket.0, "a conversation batch settled twice");
                return;
            }
        }
        if line.publishing {
            return;
        }
        line.publishing = true;
        loop {
            let mut ready = Vec::new();
            while line.waiting.front().is_some_and(|p| p.stored.is_some()) {
                ready.extend(line.waiting.pop_front());
                line.front += 1;
            }
            if ready.is_empty() {
                line.publishing = false;
                return;
            }
            // Unlocked while publishing: the driver queues its next batch meanwhile.
            drop(line);
            for place in ready {
                self.publish(place);
            }
            line = self.line.lock();
        }
    }

    fn publish(&self, place: Place) {
        let Place {
            batch,
            stored,
            room,
        } = place;
        let stored = stored.unwrap_or(Ok(()));
        let published = catch_unwind(AssertUnwindSafe(|| {
            self.publisher.publish(batch, stored);
        }));
        // Room for another batch only once this one is out.
        drop(room);
        if published.is_err() {
            tracing::error!("publishing an engine batch panicked; the engine driver stops");
            self.broken.store(true, Ordering::Relaxed);
        }
    }

    /// Whether a publish step panicked.
    pub(super) fn broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    /// Waits until every queued batch is published.
    pub(super) async fn drained(&self) {
        let _all = self.room.acquire_many(DEPTH).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::handle::ConversationError;
    use crate::conversation::Effect;
    use crate::delivery::ToDesk;
    use crate::delivery::{Deliver, LateSink};
    use crate::engine::answers::Settled;
    use crate::engine::publisher::EventTexts;
    use crate::engine::publisher::{RoutingBatch, RoutingOut};
    use crate::engine::studio::Bridge;
    use crate::store::StoreError;
    use tokio::sync::{mpsc, oneshot};
    use tokio_util::sync::CancellationToken;

    /// The conversations of the `topicClosed` deliveries desks got, in order.
    #[derive(Default)]
    struct Desks(parking_lot::Mutex<Vec<String>>);

    impl Deliver<ToDesk> for Desks {
        fn deliver(&self, item: ToDesk) {
            if let ToDesk::TopicClosed {
                conversation_id, ..
            } = item
            {
                self.0.lock().push(conversation_id);
            }
        }
    }

    fn sequencer() -> (Arc<Sequencer>, Arc<Desks>, CancellationToken) {
        let desks = Arc::new(Desks::default());
        let to_desk = Arc::new(LateSink::default());
        to_desk.attach(desks.clone() as Arc<dyn Deliver<ToDesk>>);
        let halted = CancellationToken::new();
        let publisher = Publisher {
            bridge: Bridge {
                runtime: tokio::runtime::Handle::current(),
                studio_tx: mpsc::unbounded_channel().0,
                studio_url: String::new(),
                http: reqwest::Client::new(),
            },
            to_desk,
            to_customer: Arc::new(LateSink::default()),
            halted: halted.clone(),
            committed: None,
            message_latency: metrics::Histogram::noop(),
            routing: RoutingOut {
                subscribers: Vec::new(),
                observers: crate::bus::Bus::new(1),
                task_log: None,
            },
        };
        (Sequencer::new(publisher), desks, halted)
    }

    /// A batch delivering one `topicClosed` for `conversation` and answering one caller.
    fn batch(conversation: &str) -> (Queued, oneshot::Receiver<Result<(), ConversationError>>) {
        let (reply, answer) = oneshot::channel();
        let queued = Queued {
            answers: vec![Settled::Unit(reply, Ok(()))],
            deliveries: vec![Effect::TopicClosed {
                conversation_id: conversation.to_string(),
                agent_ids: vec!["agent-1".into()],
            }],
            texts: EventTexts::default(),
            has_outbox: false,
            live: Vec::new(),
            received: std::time::Instant::now(),
            routing: RoutingBatch {
                effects: Vec::new(),
                logged: Vec::new(),
                replies: Vec::new(),
                answers: Vec::new(),
            },
        };
        (queued, answer)
    }

    fn delivered(desks: &Desks) -> Vec<String> {
        desks.0.lock().clone()
    }

    #[tokio::test]
    async fn a_batch_that_stored_nothing_waits_for_the_commit_queued_before_it() {
        let (seq, desks, _) = sequencer();
        let (stored, mut stored_answer) = batch("stored");
        let (typing, mut typing_answer) = batch("typing");
        let first = seq.queue(stored).await.unwrap();
        let second = seq.queue(typing).await.unwrap();
        seq.settle(second, Ok(()));
        assert!(
            delivered(&desks).is_empty(),
            "published ahead of a pending commit"
        );
        assert!(
            typing_answer.try_recv().is_err(),
            "answered ahead of a pending commit"
        );
        seq.settle(first, Ok(()));
        assert_eq!(delivered(&desks), ["stored", "typing"]);
        assert!(matches!(stored_answer.try_recv(), Ok(Ok(()))));
        assert!(matches!(typing_answer.try_recv(), Ok(Ok(()))));
        // Nothing waits now: a batch that stores nothing is published at once.
        let (late, _) = batch("late");
        let third = seq.queue(late).await.unwrap();
        seq.settle(third, Ok(()));
        assert_eq!(delivered(&desks), ["stored", "typing", "late"]);
    }

    #[tokio::test]
    async fn a_failed_commit_delivers_nothing_fails_its_callers_and_halts() {
        let (seq, desks, halted) = sequencer();
        let (lost, mut lost_answer) = batch("lost");
        let (behind, mut behind_answer) = batch("behind");
        let first = seq.queue(lost).await.unwrap();
        let second = seq.queue(behind).await.unwrap();
        seq.settle(second, Ok(()));
        seq.settle(first, Err(StoreError::NotDurable));
        assert_eq!(delivered(&desks), ["behind"]);
        assert!(matches!(
            lost_answer.try_recv(),
            Ok(Err(ConversationError::Unavailable(_)))
        ));
        assert!(matches!(behind_answer.try_recv(), Ok(Ok(()))));
        assert!(halted.is_cancelled());
    }

    #[tokio::test]
    async fn commits_settled_on_another_thread_publish_everything_in_queue_order() {
        let (seq, desks, _) = sequencer();
        let (commits, settled) = std::sync::mpsc::channel::<Ticket>();
        // Stands in for the fsync thread: settles every other batch, in order.
        let syncer = {
            let seq = seq.clone();
            std::thread::spawn(move || {
                for ticket in settled {
                    seq.settle(ticket, Ok(()));
                }
            })
        };
        let mut expected = Vec::new();
        for i in 0..400 {
            let name = format!("c{i}");
            let (queued, _) = batch(&name);
            expected.push(name);
            let ticket = seq.queue(queued).await.unwrap();
            if i % 2 == 0 {
                commits.send(ticket).unwrap();
            } else {
                seq.settle(ticket, Ok(()));
            }
        }
        drop(commits);
        syncer.join().unwrap();
        seq.drained().await;
        assert_eq!(delivered(&desks), expected);
    }

    #[tokio::test]
    async fn the_driver_waits_while_depth_batches_are_unpublished() {
        let (seq, desks, _) = sequencer();
        let mut tickets = Vec::new();
        for i in 0..DEPTH {
            tickets.push(seq.queue(batch(&format!("c{i}")).0).await.unwrap());
        }
        let one_more = seq.queue(batch("one more").0);
        tokio::pin!(one_more);
        let waited = tokio::time::timeout(std::time::Duration::from_millis(50), &mut one_more);
        assert!(waited.await.is_err(), "queued past the depth");
        let first = tickets.remove(0);
        seq.settle(first, Ok(()));
        let last = one_more.await.unwrap();
        for ticket in tickets {
            seq.settle(ticket, Ok(()));
        }
        seq.settle(last, Ok(()));
        seq.drained().await;
        assert_eq!(delivered(&desks).len(), DEPTH as usize + 1);
    }
}
