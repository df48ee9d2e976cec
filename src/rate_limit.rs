//! Token buckets per key (a client address, a username): the one rate limiter behind
//! the widget's chat-request limit and the login limit. Each key may spend `burst`
//! tokens at once; tokens come back at `per_minute`. A key whose bucket is full again
//! is forgotten at the next sweep, so the map holds only keys that spent recently.

use crate::clock::Millis;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::Hash;

/// How often the map drops keys whose buckets are full again.
const SWEEP_EVERY_MS: Millis = 60_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Millis,
}

/// A token bucket per key.
pub struct Buckets<K> {
    per_minute: u32,
    burst: u32,
    state: Mutex<(HashMap<K, Bucket>, Millis)>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    /// `per_minute` 0 turns the limit off (every take succeeds).
    pub fn new(per_minute: u32, burst: u32) -> Self {
        Buckets {
            per_minute,
            burst: burst.max(1),
            state: Mutex::new((HashMap::new(), 0)),
        }
    }

    pub fn is_off(&self) -> bool {
        self.per_minute == 0
    }

    fn refill(&self, bucket: &mut Bucket, now: Millis) {
        let elapsed = (now - bucket.at).max(0) as f64;
        bucket.tokens = (bucket.tokens + elapsed * f64::from(self.per_minute) / 60_000.0)
            .min(f64::from(self.burst));
        bucket.at = now;
    }

    /// Takes one token from `key`'s bucket; `Err(retry_after_ms)` when it is empty.
    pub fn take(&self, key: &K, now: Millis) -> Result<(), u64> {
        if self.is_off() {
            return Ok(());
        }
        let mut guard = self.state.lock();
        let (buckets, swept) = &mut *guard;
        if now - *swept > SWEEP_EVERY_MS {
            let full = f64::from(self.burst);
            buckets.retain(|_, bucket| {
                self.refill(bucket, now);
                bucket.tokens < full
            });
            *swept = now;
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
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

    /// Gives back a token taken by [`Buckets::take`] (the attempt did not count).
    pub fn refund(&self, key: &K, now: Millis) {
        if self.is_off() {
            return;
        }
        let mut guard = self.state.lock();
        if let Some(bucket) = guard.0.get_mut(key) {
            self.refill(bucket, now);
            bucket.tokens = (bucket.tokens + 1.0).min(f64::from(self.burst));
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.state.lock().0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval_per_key() {
        let b = Buckets::new(60, 3);
        for _ in 0..3 {
            assert_eq!(b.take(&"a", 0), Ok(()));
        }
        assert_eq!(b.take(&"a", 0), Err(1000));
        assert_eq!(b.take(&"a", 500), Err(500));
        assert_eq!(b.take(&"a", 1000), Ok(()));
        assert_eq!(b.take(&"b", 1000), Ok(()), "another key has its own bucket");
    }

    #[test]
    fn a_refund_gives_the_token_back_but_never_above_the_burst() {
        let b = Buckets::new(1, 2);
        assert_eq!(b.take(&"a", 0), Ok(()));
        assert_eq!(b.take(&"a", 0), Ok(()));
        assert!(b.take(&"a", 0).is_err());
        b.refund(&"a", 0);
        assert_eq!(b.take(&"a", 0), Ok(()));
        b.refund(&"a", 0);
        b.refund(&"a", 0);
        b.refund(&"a", 0);
        assert_eq!(b.take(&"a", 0), Ok(()));
        assert_eq!(b.take(&"a", 0), Ok(()));
        assert!(b.take(&"a", 0).is_err(), "refunds stop at the burst");
    }

    #[test]
    fn zero_per_minute_is_off() {
        let b = Buckets::new(0, 1);
        for _ in 0..100 {
            assert_eq!(b.take(&"a", 0), Ok(()));
        }
        assert_eq!(b.len(), 0);
    }

    #[test]
    fn full_buckets_are_forgotten() {
        let b = Buckets::new(60, 2);
        assert_eq!(b.take(&"a", 0), Ok(()));
        assert_eq!(b.len(), 1);
        assert_eq!(b.take(&"b", SWEEP_EVERY_MS + 1), Ok(()));
        assert_eq!(b.len(), 1, "the refilled bucket is gone");
    }
}
