//! Chat requests per client address: a token bucket per IP address
//! (`channels.chat_requests_per_minute`, `channels.chat_request_burst`). Loopback
//! addresses are not limited unless `channels.limit_loopback` is set, so the tests, the
//! benchmarks and the load tool, which all run on 127.0.0.1, are never throttled.

use crate::clock::Millis;
use crate::rate_limit::Buckets;
use std::net::IpAddr;

/// A token bucket per client address.
pub struct ChatLimiter {
    buckets: Buckets<IpAddr>,
    limit_loopback: bool,
}

impl ChatLimiter {
    /// `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32, burst: u32, limit_loopback: bool) -> Self {
        ChatLimiter {
            buckets: Buckets::new(per_minute, burst),
            limit_loopback,
        }
    }

    /// Takes one request from `peer`'s bucket; `Err(retry_after_ms)` when it is empty.
    pub fn check(&self, peer: Option<IpAddr>, now: Millis) -> Result<(), u64> {
        match peer {
            Some(ip) if self.limit_loopback || !ip.is_loopback() => self.buckets.take(&ip, now),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTSIDE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7)));
    const LOOPBACK: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn a_burst_then_one_per_interval() {
        let limiter = ChatLimiter::new(60, 3, false);
        for _ in 0..3 {
            assert_eq!(limiter.check(OUTSIDE, 0), Ok(()));
        }
        assert_eq!(limiter.check(OUTSIDE, 0), Err(1000));
        assert_eq!(limiter.check(OUTSIDE, 1000), Ok(()));
        assert_eq!(limiter.check(None, 1000), Ok(()), "no address: not limited");
    }

    #[test]
    fn loopback_is_free_unless_asked_and_zero_is_off() {
        let limiter = ChatLimiter::new(1, 1, false);
        for _ in 0..100 {
            assert_eq!(limiter.check(LOOPBACK, 0), Ok(()));
        }
        let strict = ChatLimiter::new(1, 1, true);
        assert_eq!(strict.check(LOOPBACK, 0), Ok(()));
        assert!(strict.check(LOOPBACK, 0).is_err());
        let off = ChatLimiter::new(0, 1, true);
        for _ in 0..100 {
            assert_eq!(off.check(OUTSIDE, 0), Ok(()));
        }
    }
}
