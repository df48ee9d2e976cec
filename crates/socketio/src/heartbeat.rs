//! The Engine.IO v4 heartbeat as a plain state machine: the server pings every `interval`
//! after the previous pong, and gives the client `timeout` to answer each ping.
//!
//! No clock reads here: the connection task passes `now` in and sleeps until [`Heartbeat::deadline`].

use std::time::Duration;
use tokio::time::Instant;

/// What the connection must do when the heartbeat deadline is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatAction {
    /// Send a `ping` packet now.
    SendPing,
    /// The client did not answer the last ping in time: close the session.
    TimedOut,
    /// The deadline moved (e.g. a pong arrived); nothing to do yet.
    Wait,
}

#[derive(Debug, Clone)]
pub struct Heartbeat {
    interval: Duration,
    timeout: Duration,
    next_ping: Instant,
    pong_deadline: Option<Instant>,
}

impl Heartbeat {
    /// Starts the heartbeat at session open: the first ping is due one interval from `now`.
    pub fn new(now: Instant, interval: Duration, timeout: Duration) -> Self {
        Heartbeat {
            interval,
            timeout,
            next_ping: now + interval,
            pong_deadline: None,
        }
    }

    /// When [`Heartbeat::on_deadline`] must next be called.
    pub fn deadline(&self) -> Instant {
        self.pong_deadline.unwrap_or(self.next_ping)
    }

    /// Call at (or after) [`Heartbeat::deadline`].
    pub fn on_deadline(&mut self, now: Instant) -> HeartbeatAction {
        match self.pong_deadline {
            Some(deadline) if now >= deadline => HeartbeatAction::TimedOut,
            Some(_) => HeartbeatAction::Wait,
            None if now >= self.next_ping => {
                self.pong_deadline = Some(now + self.timeout);
                HeartbeatAction::SendPing
            }
            None => HeartbeatAction::Wait,
        }
    }

    /// A pong arrived: the next ping is due one interval from now.
    pub fn on_pong(&mut self, now: Instant) {
        self.pong_deadline = None;
        self.next_ping = now + self.interval;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: Duration = Duration::from_millis(300);
    const TIMEOUT: Duration = Duration::from_millis(200);

    #[test]
    fn pings_after_interval_then_times_out_without_pong() {
        let start = Instant::now();
        let mut hb = Heartbeat::new(start, INTERVAL, TIMEOUT);
        assert_eq!(hb.deadline(), start + INTERVAL);
        assert_eq!(hb.on_deadline(start), HeartbeatAction::Wait);
        assert_eq!(hb.on_deadline(start + INTERVAL), HeartbeatAction::SendPing);
        assert_eq!(hb.deadline(), start + INTERVAL + TIMEOUT);
        assert_eq!(
            hb.on_deadline(start + INTERVAL + TIMEOUT / 2),
            HeartbeatAction::Wait
        );
        assert_eq!(
            hb.on_deadline(start + INTERVAL + TIMEOUT),
            HeartbeatAction::TimedOut
        );
    }

    #[test]
    fn pong_schedules_next_ping_one_interval_later() {
        let start = Instant::now();
        let mut hb = Heartbeat::new(start, INTERVAL, TIMEOUT);
        assert_eq!(hb.on_deadline(start + INTERVAL), HeartbeatAction::SendPing);
        let pong_at = start + INTERVAL + Duration::from_millis(50);
        hb.on_pong(pong_at);
        assert_eq!(hb.deadline(), pong_at + INTERVAL);
        assert_eq!(
            hb.on_deadline(start + INTERVAL + TIMEOUT),
            HeartbeatAction::Wait
        );
        assert_eq!(
            hb.on_deadline(pong_at + INTERVAL),
            HeartbeatAction::SendPing
        );
    }

    #[test]
    fn unsolicited_pong_only_delays_the_next_ping() {
        let start = Instant::now();
        let mut hb = Heartbeat::new(start, INTERVAL, TIMEOUT);
        let early = start + Duration::from_millis(100);
        hb.on_pong(early);
        assert_eq!(hb.deadline(), early + INTERVAL);
    }
}
