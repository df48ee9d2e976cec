//! Deadline bookkeeping for one conversation: customer activity per channel session,
//! the customer and agent SLA clocks (with their notification points, paused while the
//! conversation is on hold), wrap-up per agent, the hold timer and pending studio calls.
//! Every deadline is absolute epoch milliseconds and the whole struct is serde, so a
//! persisted snapshot restores every timer exactly where it was.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::studio::IntentFacts;
use crate::cim::CimEventName;
use crate::clock::Millis;

/// An SLA that counts only while running, with percentage points (ascending, ending at
/// 100) at which the core must act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaClock {
    pub total_ms: i64,
    pub started_at: Millis,
    /// Time counted before the current running stretch (earlier stretches between holds).
    pub consumed_ms: i64,
    /// Start of the current running stretch; `None` while paused.
    pub running_since: Option<Millis>,
    /// Points not reached yet, ascending; the last is 100 (expiry).
    pub pending_points: Vec<u8>,
}

impl SlaClock {
    pub fn start(now: Millis, total_ms: i64, points: Vec<u8>, paused: bool) -> Self {
        SlaClock {
            total_ms: total_ms.max(0),
            started_at: now,
            consumed_ms: 0,
            running_since: (!paused).then_some(now),
            pending_points: points,
        }
    }

    pub fn is_running(&self) -> bool {
        self.running_since.is_some()
    }

    pub fn elapsed_ms(&self, now: Millis) -> i64 {
        self.consumed_ms + self.running_since.map_or(0, |since| (now - since).max(0))
    }

    pub fn remaining_ms(&self, now: Millis) -> i64 {
        (self.total_ms - self.elapsed_ms(now)).max(0)
    }

    fn point_ms(&self, percent: u8) -> i64 {
        let ms = i128::from(self.total_ms) * i128::from(percent) / 100;
        i64::try_from(ms).unwrap_or(i64::MAX)
    }

    /// When the next point is reached, if the clock is running.
    pub fn deadline(&self) -> Option<Millis> {
        let since = self.running_since?;
        let next = *self.pending_points.first()?;
        Some(since.saturating_add((self.point_ms(next) - self.consumed_ms).max(0)))
    }

    pub fn pause(&mut self, now: Millis) {
        if let Some(since) = self.running_since.take() {
            self.consumed_ms += (now - since).max(0);
        }
    }

    pub fn resume(&mut self, now: Millis) {
        if self.running_since.is_none() {
            self.running_since = Some(now);
        }
    }

    /// Pops the next point if it is due at `now`. When the clock has already run out,
    /// intermediate points are skipped (a notification at 50 % is pointless once the
    /// SLA expired, e.g. after a long restart) and 100 is returned.
    pub fn take_due(&mut self, now: Millis) -> Option<u8> {
        let deadline = self.deadline()?;
        if deadline > now {
            return None;
        }
        if self.elapsed_ms(now) >= self.total_ms {
            self.pending_points.clear();
            return Some(100);
        }
        Some(self.pending_points.remove(0))
    }
}

/// An agent's wrap-up after leaving a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrapupTimer {
    pub participant_id: String,
    pub task_id: Option<String>,
    pub started_at: Millis,
    pub deadline: Millis,
}

/// The conversation is on hold since `started_at`; with a deadline it resumes by itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldTimer {
    pub agent_id: Option<String>,
    pub started_at: Millis,
    pub deadline: Option<Millis>,
}

/// A studio call waiting for its answer; at `deadline` the core falls back by itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingStudioCall {
    pub intent: CimEventName,
    pub facts: IntentFacts,
    pub deadline: Millis,
}

/// Which timer is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DueTimer {
    CustomerActivity { channel_session_id: String },
    CustomerSla,
    AgentSla,
    Wrapup { agent_id: String },
    Hold,
    Studio { request_id: String },
    HoursOpen,
}

/// Every timer of one conversation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConversationTimers {
    /// Channel session id → when it expires for lack of customer activity.
    pub customer_activity: BTreeMap<String, Millis>,
    pub customer_sla: Option<SlaClock>,
    pub agent_sla: Option<SlaClock>,
    /// Agent id → wrap-up.
    pub wrapups: BTreeMap<String, WrapupTimer>,
    pub hold: Option<HoldTimer>,
    /// Studio request id → pending call.
    pub studio_calls: BTreeMap<String, PendingStudioCall>,
    /// A message left outside business hours is routed at this time (the channel's
    /// next opening); `None` while the hours never open.
    pub hours_open: Option<Millis>,
}

impl ConversationTimers {
    /// The earliest deadline and the timer it belongs to (ties: the order below).
    pub fn next(&self) -> Option<(Millis, DueTimer)> {
        let mut best: Option<(Millis, DueTimer)> = None;
        let mut consider = |at: Option<Millis>, timer: &dyn Fn() -> DueTimer| {
            if let Some(at) = at {
                if best.as_ref().is_none_or(|(b, _)| at < *b) {
                    best = Some((at, timer()));
                }
            }
        };
        for (id, at) in &self.customer_activity {
            consider(Some(*at), &|| DueTimer::CustomerActivity {
                channel_session_id: id.clone(),
            });
        }
        consider(
            self.customer_sla.as_ref().and_then(SlaClock::deadline),
            &|| DueTimer::CustomerSla,
        );
        consider(
            self.agent_sla.as_ref().and_then(SlaClock::deadline),
            &|| DueTimer::AgentSla,
        );
        for (agent_id, wrapup) in &self.wrapups {
            consider(Some(wrapup.deadline), &|| DueTimer::Wrapup {
                agent_id: agent_id.clone(),
            });
        }
        consider(self.hold.as_ref().and_then(|h| h.deadline), &|| {
            DueTimer::Hold
        });
        for (request_id, call) in &self.studio_calls {
            consider(Some(call.deadline), &|| DueTimer::Studio {
                request_id: request_id.clone(),
            });
        }
        consider(self.hours_open, &|| DueTimer::HoursOpen);
        best
    }

    pub fn next_deadline(&self) -> Option<Millis> {
        self.next().map(|(at, _)| at)
    }

    /// The earliest timer due at `now`.
    pub fn due(&self, now: Millis) -> Option<DueTimer> {
        self.next()
            .and_then(|(at, timer)| (at <= now).then_some(timer))
    }

    /// Stops both SLA clocks (the conversation went on hold).
    pub fn pause_slas(&mut self, now: Millis) {
        for clock in [&mut self.agent_sla, &mut self.customer_sla]
            .into_iter()
            .flatten()
        {
            clock.pause(now);
        }
    }

    /// Restarts both SLA clocks where they stopped.
    pub fn resume_slas(&mut self, now: Millis) {
        for clock in [&mut self.agent_sla, &mut self.customer_sla]
            .into_iter()
            .flatten()
        {
            clock.resume(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_points_fall_due_in_order() {
        let mut clock = SlaClock::start(1_000, 10_000, vec![50, 80, 100], false);
        assert_eq!(clock.deadline(), Some(6_000));
        assert_eq!(clock.take_due(5_999), None);
        assert_eq!(clock.take_due(6_000), Some(50));
        assert_eq!(clock.deadline(), Some(9_000));
        assert_eq!(clock.take_due(9_000), Some(80));
        assert_eq!(clock.take_due(11_000), Some(100));
        assert_eq!(clock.deadline(), None);
    }

    #[test]
    fn pause_stops_the_clock_and_resume_continues_it() {
        let mut clock = SlaClock::start(0, 10_000, vec![100], false);
        clock.pause(4_000);
        assert_eq!(clock.deadline(), None);
        assert_eq!(clock.remaining_ms(50_000), 6_000);
        clock.resume(20_000);
        assert_eq!(clock.deadline(), Some(26_000));
        assert_eq!(clock.remaining_ms(21_000), 5_000);
    }

    #[test]
    fn an_overdue_clock_skips_to_expiry() {
        let mut clock = SlaClock::start(0, 10_000, vec![50, 80, 100], false);
        assert_eq!(clock.take_due(60_000), Some(100));
        assert!(clock.pending_points.is_empty());
    }

    #[test]
    fn next_picks_the_earliest_timer() {
        let mut timers = ConversationTimers::default();
        assert_eq!(timers.next_deadline(), None);
        timers.customer_activity.insert("cs-1".into(), 9_000);
        timers.agent_sla = Some(SlaClock::start(0, 5_000, vec![100], false));
        timers.hold = Some(HoldTimer {
            agent_id: None,
            started_at: 0,
            deadline: Some(7_000),
        });
        assert_eq!(timers.next(), Some((5_000, DueTimer::AgentSla)));
        assert_eq!(timers.due(4_999), None);
        timers.pause_slas(1_000);
        assert_eq!(timers.next(), Some((7_000, DueTimer::Hold)));
        timers.resume_slas(1_000);
        assert_eq!(timers.next_deadline(), Some(5_000));
    }

    #[test]
    fn timers_round_trip_through_json() {
        let mut timers = ConversationTimers::default();
        timers.customer_activity.insert("cs-1".into(), 9_000);
        timers.customer_sla = Some(SlaClock::start(10, 5_000, vec![80, 100], true));
        timers.wrapups.insert(
            "agent-1".into(),
            WrapupTimer {
                participant_id: "p-1".into(),
                task_id: Some("t-1".into()),
                started_at: 3,
                deadline: 60_003,
            },
        );
        let json = serde_json::to_value(&timers).unwrap();
        let back: ConversationTimers = serde_json::from_value(json).unwrap();
        assert_eq!(back, timers);
    }
}
