//! Per-key rate limits of the paths anyone can hammer (the public
//! invitation preview per address, accepting per caller): governor's GCRA,
//! in process, so each replica counts on its own.

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Keys a limiter forgets by: above this many, idle keys are dropped.
const CAPACITY: usize = 10_000;

/// `per_minute` requests per key in a burst, refilled continuously. Each
/// replica counts on its own.
#[derive(Debug)]
pub struct Limiter<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    clock: DefaultClock,
    /// When the limiter was made, for [`Self::forgotten_at`].
    started: Instant,
    /// Milliseconds after `started` of the last forgetting pass.
    forgotten_at: AtomicU64,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter of `per_minute` requests per key (at least one).
    pub fn per_minute(per_minute: u32) -> Self {
        let quota = Quota::per_minute(NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN));
        Self {
            limiter: RateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            started: Instant::now(),
            forgotten_at: AtomicU64::new(0),
        }
    }

    /// Takes one request for `key`; `Err(seconds)` until the next is allowed.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        self.forget_idle();
        self.limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Drops keys whose buckets are full again, at most once a second, when
    /// more than [`CAPACITY`] are held: memory stays bounded by the keys
    /// active within a minute.
    fn forget_idle(&self) {
        if self.limiter.len() < CAPACITY {
            return;
        }
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.forgotten_at.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 1_000
            && self.forgotten_at.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn a_limiter_allows_a_burst_per_key_then_says_how_long_to_wait() {
        let limiter = Limiter::per_minute(3);
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        for _ in 0..3 {
            assert!(limiter.check(&a).is_ok());
        }
        let wait = limiter.check(&a).unwrap_err();
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.check(&b).is_ok(), "another key has its own bucket");
    }
}
