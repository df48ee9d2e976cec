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
/// How deep into debt [`Buckets::charge`] may take a bucket, in bursts.
const MAX_DEBT_BURSTS: f64 = 10.0;

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
        self.wait(bucket)?;
        bucket.tokens -= 1.0;
        Ok(())
    }

    /// Whether `key` may go ahead now (its bucket holds a token), taking nothing;
    /// `Err(retry_after_ms)` when it is spent. Pair with [`Buckets::charge`] to count
    /// only the attempts that turn out to count.
    pub fn check(&self, key: &K, now: Millis) -> Result<(), u64> {
        if self.is_off() {
            return Ok(());
        }
        let mut guard = self.state.lock();
        match guard.0.get_mut(key) {
            Some(bucket) => {
                self.refill(bucket, now);
                self.wait(bucket)
            }
            None => Ok(()),
        }
    }

    /// Takes a token from `key`'s bucket after the fact. The bucket may go into debt
    /// (down to `-MAX_DEBT_BURSTS` bursts), so attempts that were checked at once and
    /// all counted wait the longer for it.
    pub fn charge(&self, key: &K, now: Millis) {
        if self.is_off() {
            return;
        }
        let floor = -f64::from(self.burst) * MAX_DEBT_BURSTS;
        let mut guard = self.state.lock();
        let bucket = guard.0.entry(key.clone()).or_insert(Bucket {
            tokens: f64::from(self.burst),
            at: now,
        });
        self.refill(bucket, now);
        bucket.tokens = (bucket.tokens - 1.0).max(floor);
    }

    fn wait(&self, bucket: &Bucket) -> Result<(), u64> {
        if bucket.tokens >= 1.0 {
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err((missing * 60_000.0 / f64::from(self.per_minute)).ceil() as u64)
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
    fn check_takes_nothing_and_charges_may_go_into_debt() {
        let b = Buckets::new(60, 2);
        for _ in 0..10 {
            assert_eq!(b.check(&"a", 0), Ok(()));
        }
        // Three attempts checked at once, all charged: one token of debt.
        b.charge(&"a", 0);
        b.charge(&"a", 0);
        b.charge(&"a", 0);
        assert_eq!(b.check(&"a", 0), Err(2000));
        assert_eq!(b.check(&"a", 1000), Err(1000));
        assert_eq!(b.check(&"a", 2000), Ok(()));
        // The debt stops at ten bursts.
        for _ in 0..100 {
            b.charge(&"b", 0);
        }
        assert_eq!(b.check(&"b", 0), Err(21_000));
        assert_eq!(b.take(&"c", 0), Ok(()), "another key is untouched");
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
