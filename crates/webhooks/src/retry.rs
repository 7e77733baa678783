//! When a failed delivery is tried again: exponential backoff from five
//! seconds, doubling up to an hour, each delay moved by up to a quarter
//! either way (jitter, so that endpoints failing together do not all come
//! back at once), for a day from the first attempt; then it is given up
//! and the endpoint is marked failing.

use time::{Duration, OffsetDateTime};

/// The backoff of one endpoint's deliveries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetrySchedule {
    /// The delay after the first failure.
    pub first: Duration,
    /// The longest delay.
    pub longest: Duration,
    /// How long after the first attempt a delivery is still tried.
    pub for_at_most: Duration,
}

/// What follows a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Try again at this instant.
    At(OffsetDateTime),
    /// Tried for as long as the schedule allows: give up.
    GiveUp,
}

impl RetrySchedule {
    /// Five seconds doubling up to an hour, for a day.
    pub const DEFAULT: Self =
        Self { first: Duration::seconds(5), longest: Duration::hours(1), for_at_most: Duration::hours(24) };

    /// After failed attempt `attempt` (1 for the first) of a delivery first
    /// tried at `first_at`, failing at `now`; `jitter` is a number in
    /// `0.0..1.0` from the host's random source (0.5: no shift).
    pub fn after(&self, attempt: u32, first_at: OffsetDateTime, now: OffsetDateTime, jitter: f64) -> Retry {
        let doublings = attempt.saturating_sub(1).min(30);
        let base = self.first.saturating_mul(1_i32 << doublings.min(30)).min(self.longest);
        let factor = 0.75 + 0.5 * jitter.clamp(0.0, 1.0);
        let next = now + base * factor;
        if next - first_at > self.for_at_most { Retry::GiveUp } else { Retry::At(next) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn delays_double_from_five_seconds_to_an_hour_with_a_quarter_of_jitter() {
        let s = RetrySchedule::DEFAULT;
        let t0 = datetime!(2026-12-04 12:00 UTC);
        let delay = |attempt, jitter| match s.after(attempt, t0, t0, jitter) {
            Retry::At(at) => at - t0,
            Retry::GiveUp => Duration::ZERO,
        };
        assert_eq!(delay(1, 0.5), Duration::seconds(5));
        assert_eq!(delay(2, 0.5), Duration::seconds(10));
        assert_eq!(delay(4, 0.5), Duration::seconds(40));
        assert_eq!(delay(20, 0.5), Duration::hours(1), "no longer than an hour");
        assert_eq!(delay(u32::MAX, 0.5), Duration::hours(1));
        assert_eq!(delay(1, 0.0), Duration::milliseconds(3750));
        assert_eq!(delay(1, 1.0), Duration::milliseconds(6250));
        assert_eq!(delay(1, 7.0), Duration::milliseconds(6250), "jitter is clamped");
    }

    #[test]
    fn a_delivery_is_tried_for_a_day_and_then_given_up() {
        let s = RetrySchedule::DEFAULT;
        let t0 = datetime!(2026-12-04 12:00 UTC);
        let (mut now, mut attempt, mut tries) = (t0, 1, 1);
        while let Retry::At(next) = s.after(attempt, t0, now, 0.5) {
            now = next;
            attempt += 1;
            tries += 1;
        }
        assert!(now - t0 <= Duration::hours(24) && now - t0 > Duration::hours(23), "{}", now - t0);
        assert!((25..=40).contains(&tries), "{tries} attempts in a day");
    }
}
