//! Recent per-queue history: handle times (for the estimated wait) and answer
//! waits (for the service level), each over a bounded window.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::Millis;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct QueueWindow {
    handle_times: VecDeque<Millis>,
    handle_sum: i64,
    answered_within: VecDeque<bool>,
    within_count: usize,
}

impl QueueWindow {
    pub fn record_handle_time(&mut self, window: usize, handle_ms: Millis) {
        let handle_ms = handle_ms.max(0);
        self.handle_times.push_back(handle_ms);
        self.handle_sum += handle_ms;
        while self.handle_times.len() > window.max(1) {
            if let Some(old) = self.handle_times.pop_front() {
                self.handle_sum -= old;
            }
        }
    }

    pub fn record_answer(&mut self, window: usize, within_threshold: bool) {
        self.answered_within.push_back(within_threshold);
        self.within_count += usize::from(within_threshold);
        while self.answered_within.len() > window.max(1) {
            if let Some(old) = self.answered_within.pop_front() {
                self.within_count -= usize::from(old);
            }
        }
    }

    pub fn average_handle_ms(&self) -> Option<Millis> {
        let count = self.handle_times.len() as i64;
        (count > 0).then(|| self.handle_sum / count)
    }

    pub fn service_level(&self) -> Option<f64> {
        let count = self.answered_within.len();
        (count > 0).then(|| self.within_count as f64 / count as f64)
    }
}

/// Estimated wait of the task at `position` when the agents serving its queue can
/// work `capacity` tasks at once, each taking `average_handle_ms`: `position`
/// completions are needed before it is served, and `capacity` slots complete one
/// task per `average_handle_ms / capacity` on average.
pub(crate) fn estimated_wait(
    position: u32,
    capacity: u64,
    average_handle_ms: Millis,
) -> Option<Millis> {
    if capacity == 0 {
        return None;
    }
    let capacity = i64::try_from(capacity).unwrap_or(i64::MAX);
    Some(i64::from(position).saturating_mul(average_handle_ms.max(0)) / capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_only_recent_handle_times() {
        let mut w = QueueWindow::default();
        assert_eq!(w.average_handle_ms(), None);
        for ms in [100, 200, 300, 400] {
            w.record_handle_time(3, ms);
        }
        assert_eq!(w.average_handle_ms(), Some(300));
    }

    #[test]
    fn service_level_is_share_answered_in_time() {
        let mut w = QueueWindow::default();
        for within in [true, false, true, true, false] {
            w.record_answer(4, within);
        }
        assert_eq!(w.service_level(), Some(0.5));
    }

    #[test]
    fn estimated_wait_scales_with_position_and_capacity() {
        assert_eq!(estimated_wait(1, 2, 1000), Some(500));
        assert_eq!(estimated_wait(2, 2, 1000), Some(1000));
        assert_eq!(estimated_wait(3, 1, 60_000), Some(180_000));
        assert_eq!(estimated_wait(5, 0, 1000), None);
    }
}
