//! Chat requests per client address: a token bucket per IP address
//! (`channels.chat_requests_per_minute`, `channels.chat_request_burst`). Loopback
//! addresses are not limited unless `channels.limit_loopback` is set, so the tests, the
//! benchmarks and the load tool, which all run on 127.0.0.1, are never throttled.

use crate::clock::Millis;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;

/// How often the bucket map drops addresses whose buckets are full again.
const SWEEP_EVERY_MS: Millis = 60_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Millis,
}

/// A token bucket per client address.
pub struct ChatLimiter {
    per_minute: u32,
    burst: u32,
    limit_loopback: bool,
    state: Mutex<(HashMap<IpAddr, Bucket>, Millis)>,
}

impl ChatLimiter {
    /// `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32, burst: u32, limit_loopback: bool) -> Self {
        ChatLimiter {
            per_minute,
            burst: burst.max(1),
            limit_loopback,
            state: Mutex::new((HashMap::new(), 0)),
        }
    }

    fn refill(&self, bucket: &mut Bucket, now: Millis) {
        let elapsed = (now - bucket.at).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed * f64::from(self.per_minute) / 60_000.0)
            .min(f64::from(self.burst));
        bucket.at = now;
    }

    /// Takes one request from `peer`'s bucket; `Err(retry_after_ms)` when it is empty.
    pub fn check(&self, peer: Option<IpAddr>, now: Millis) -> Result<(), u64> {
        let Some(ip) = peer else {
            return Ok(());
        };
        if self.per_minute == 0 || (ip.is_loopback() && !self.limit_loopback) {
            return Ok(());
        }
        let mut guard = self.state.lock();
        let (buckets, swept) = &mut *guard;
        if now - *swept > SWEEP_EVERY_MS {
            let full = f64::from(self.burst);
            let mut stale = Vec::new();
            for (ip, bucket) in buckets.iter_mut() {
                self.refill(bucket, now);
                if bucket.tokens >= full {
                    stale.push(*ip);
                }
            }
            for ip in stale {
                buckets.remove(&ip);
            }
            *swept = now;
        }
        let bucket = buckets.entry(ip).or_insert(Bucket {
            tokens: f64::from(self.burst),
            at: now,
        });
        self.refill(bucket, now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err((missing * 60_000.0 / f64::from(self.per_minute)).ceil() as u64)
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
        assert_eq!(limiter.check(OUTSIDE, 500), Err(500));
        assert_eq!(limiter.check(OUTSIDE, 1000), Ok(()));
        // Other addresses have buckets of their own.
        let other = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 8)));
        assert_eq!(limiter.check(other, 1000), Ok(()));
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

    #[test]
    fn full_buckets_are_forgotten() {
        let limiter = ChatLimiter::new(60, 2, false);
        assert_eq!(limiter.check(OUTSIDE, 0), Ok(()));
        assert_eq!(limiter.state.lock().0.len(), 1);
        assert_eq!(limiter.check(None, 0), Ok(()));
        let other = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1)));
        assert_eq!(limiter.check(other, SWEEP_EVERY_MS + 1), Ok(()));
        assert_eq!(
            limiter.state.lock().0.len(),
            1,
            "the refilled bucket is gone"
        );
    }
}
