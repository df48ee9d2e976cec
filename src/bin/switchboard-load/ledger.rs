//! Exactly-once bookkeeping: which messages the server acknowledged and which arrived at
//! the other side, compared at the end of a run.

use serde::Serialize;

/// Messages are identified by (conversation index, message index).
pub type Key = (u32, u32);

#[derive(Debug, Default, Clone)]
pub struct Ledger {
    pub acked: Vec<Key>,
    pub received: Vec<Key>,
}

/// The verdict for one direction.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Verdict {
    pub acked: u64,
    /// Distinct messages received.
    pub received: u64,
    /// Acknowledged but not received by the end of the run (lost, or still in flight when
    /// the drain window closed).
    pub missing: u64,
    /// Extra receipts of a message already received.
    pub duplicates: u64,
    /// Received although no ack came back (the ack may have been lost or timed out).
    pub received_unacked: u64,
}

impl Verdict {
    pub fn exactly_once(&self) -> bool {
        self.missing == 0 && self.duplicates == 0
    }
}

impl Ledger {
    pub fn merge(&mut self, other: Ledger) {
        self.acked.extend(other.acked);
        self.received.extend(other.received);
    }

    pub fn verdict(&self) -> Verdict {
        let mut acked = self.acked.clone();
        acked.sort_unstable();
        acked.dedup();
        let mut received = self.received.clone();
        received.sort_unstable();
        let all_receipts = received.len();
        received.dedup();
        let missing = acked
            .iter()
            .filter(|k| received.binary_search(k).is_err())
            .count();
        let received_unacked = received
            .iter()
            .filter(|k| acked.binary_search(k).is_err())
            .count();
        Verdict {
            acked: acked.len() as u64,
            received: received.len() as u64,
            missing: missing as u64,
            duplicates: (all_receipts - received.len()) as u64,
            received_unacked: received_unacked as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clean_run_is_exactly_once() {
        let ledger = Ledger {
            acked: vec![(0, 0), (0, 2), (1, 0)],
            received: vec![(1, 0), (0, 0), (0, 2)],
        };
        let v = ledger.verdict();
        assert_eq!(v.acked, 3);
        assert_eq!(v.received, 3);
        assert!(v.exactly_once());
    }

    #[test]
    fn losses_duplicates_and_unacked_receipts_are_counted() {
        let ledger = Ledger {
            acked: vec![(0, 0), (0, 1), (0, 2)],
            received: vec![(0, 0), (0, 0), (0, 2), (0, 3)],
        };
        let v = ledger.verdict();
        assert_eq!(v.missing, 1);
        assert_eq!(v.duplicates, 1);
        assert_eq!(v.received_unacked, 1);
        assert!(!v.exactly_once());
    }
}
