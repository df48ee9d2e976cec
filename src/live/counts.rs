//! Counts of one queue (or agent) over a period, and the occurrences they are made
//! of. The rolling window keeps its occurrences so it can take each back out when
//! it leaves the window.

use std::collections::VecDeque;

use serde::Serialize;

use crate::clock::Millis;

/// One countable thing that happened to a task, at the task's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occurrence {
    Offered {
        transfer: bool,
    },
    Reserved,
    Rona,
    /// The agent it was offered to declined it.
    Rejected,
    /// `within`: the wait was within the queue's service-level threshold.
    Answered {
        wait_ms: Millis,
        within: bool,
    },
    /// `short`: the wait was under the short-abandon limit.
    Abandoned {
        wait_ms: Millis,
        short: bool,
    },
    Flushed,
    TransferredOut,
    Handled {
        handle_ms: Millis,
    },
}

/// The counts of `docs/metrics.md`, plus the sums the averages need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub short_abandons: u64,
    pub flushed: u64,
    pub transfers_in: u64,
    pub transfers_out: u64,
    pub reservations: u64,
    pub ronas: u64,
    /// Offers declined by the agent (`rejectTask`).
    pub rejects: u64,
    pub answered_within: u64,
    /// Tasks closed after being answered (the AHT denominator).
    pub handled: u64,
    #[serde(skip)]
    pub wait_sum_ms: i64,
    #[serde(skip)]
    pub handle_sum_ms: i64,
}

impl Counts {
    /// Adds (`sign` 1) or takes back (`sign` -1) one occurrence.
    pub fn apply(&mut self, occurrence: Occurrence, sign: i8) {
        let n = |c: &mut u64| {
            *c = if sign >= 0 {
                c.saturating_add(1)
            } else {
                c.saturating_sub(1)
            }
        };
        let s = i64::from(sign.signum());
        match occurrence {
            Occurrence::Offered { transfer } => {
                n(&mut self.offered);
                if transfer {
                    n(&mut self.transfers_in);
                }
            }
            Occurrence::Reserved => n(&mut self.reservations),
            Occurrence::Rona => n(&mut self.ronas),
            Occurrence::Rejected => n(&mut self.rejects),
            Occurrence::Answered { wait_ms, within } => {
                n(&mut self.answered);
                if within {
                    n(&mut self.answered_within);
                }
                self.wait_sum_ms += s * wait_ms;
            }
            Occurrence::Abandoned { short, .. } => {
                n(&mut self.abandoned);
                if short {
                    n(&mut self.short_abandons);
                }
            }
            Occurrence::Flushed => n(&mut self.flushed),
            Occurrence::TransferredOut => n(&mut self.transfers_out),
            Occurrence::Handled { handle_ms } => {
                n(&mut self.handled);
                self.handle_sum_ms += s * handle_ms;
            }
        }
    }

    /// Answered within the threshold ÷ (answered + abandoned − short abandons), in %.
    pub fn service_level_pct(&self) -> Option<f64> {
        let long_abandons = self.abandoned.saturating_sub(self.short_abandons);
        let denominator = self.answered + long_abandons;
        (denominator > 0).then(|| 100.0 * self.answered_within as f64 / denominator as f64)
    }

    /// Mean wait of the answered tasks.
    pub fn asa_ms(&self) -> Option<Millis> {
        (self.answered > 0).then(|| self.wait_sum_ms / self.answered as i64)
    }

    /// Mean handle time of the tasks closed after being answered.
    pub fn aht_ms(&self) -> Option<Millis> {
        (self.handled > 0).then(|| self.handle_sum_ms / self.handled as i64)
    }
}

/// Counts over the last `span` milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Rolling {
    counts: Counts,
    recent: VecDeque<(Millis, Occurrence)>,
}

impl Rolling {
    pub fn add(&mut self, at: Millis, occurrence: Occurrence) {
        self.counts.apply(occurrence, 1);
        self.recent.push_back((at, occurrence));
    }

    /// Takes out the occurrences at or before `now - span`; true when any left.
    pub fn expire(&mut self, now: Millis, span: Millis) -> bool {
        let mut changed = false;
        while let Some(&(at, occurrence)) = self.recent.front() {
            if at > now - span {
                break;
            }
            self.counts.apply(occurrence, -1);
            self.recent.pop_front();
            changed = true;
        }
        changed
    }

    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    /// When the oldest occurrence leaves the window.
    pub fn next_expiry(&self, span: Millis) -> Option<Millis> {
        self.recent.front().map(|(at, _)| at + span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_level_leaves_short_abandons_out() {
        let mut c = Counts::default();
        c.apply(
            Occurrence::Answered {
                wait_ms: 10,
                within: true,
            },
            1,
        );
        c.apply(
            Occurrence::Abandoned {
                wait_ms: 1,
                short: true,
            },
            1,
        );
        assert_eq!(c.service_level_pct(), Some(100.0));
        c.apply(
            Occurrence::Abandoned {
                wait_ms: 60_000,
                short: false,
            },
            1,
        );
        assert_eq!(c.service_level_pct(), Some(50.0));
        assert_eq!(c.abandoned, 2);
        assert_eq!(c.short_abandons, 1);
    }

    #[test]
    fn rolling_counts_forget_what_left_the_window() {
        let mut r = Rolling::default();
        r.add(1_000, Occurrence::Reserved);
        r.add(
            5_000,
            Occurrence::Answered {
                wait_ms: 400,
                within: true,
            },
        );
        assert!(!r.expire(1_999, 1_000));
        assert!(r.expire(2_000, 1_000));
        assert_eq!(r.counts().reservations, 0);
        assert_eq!(r.counts().answered, 1);
        assert_eq!(r.counts().asa_ms(), Some(400));
        assert_eq!(r.next_expiry(1_000), Some(6_000));
        assert!(r.expire(6_000, 1_000));
        assert_eq!(*r.counts(), Counts::default());
    }
}
