//! The clock port. Only [`SystemClock`] reads the wall clock; everything else
//! takes `now` from a `Clock` so tests can fix or step time.

use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// A source of the current instant, in UTC and truncated to microseconds.
pub trait Clock: Send + Sync {
    /// The current instant. MUST be UTC and MUST carry no sub-microsecond part,
    /// so that values round-trip equal through PostgreSQL and SQLite.
    fn now(&self) -> OffsetDateTime;
}

/// Drops the sub-microsecond part: PostgreSQL keeps microseconds, SQLite
/// nanoseconds, and a record must compare equal after a round trip through either.
pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(t).to_offset(time::UtcOffset::UTC)
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        truncate_to_micros(OffsetDateTime::now_utc())
    }
}

/// A clock that stands still until told to move; for tests.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    /// A clock stopped at `at` (truncated to microseconds).
    pub fn at(at: OffsetDateTime) -> Self {
        Self(Mutex::new(truncate_to_micros(at)))
    }

    /// Moves the clock forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        // A poisoned lock only means another test thread panicked mid-advance;
        // the stored instant is still a valid value.
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = truncate_to_micros(at);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_system_clock_is_utc_and_whole_microseconds() {
        let now = SystemClock.now();
        assert_eq!(now.offset(), time::UtcOffset::UTC);
        assert_eq!(now.nanosecond() % 1_000, 0);
    }

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let clock = FixedClock::at(datetime!(2026-06-14 10:00:00.123456789 UTC));
        assert_eq!(clock.now(), datetime!(2026-06-14 10:00:00.123456 UTC));
        clock.advance(Duration::minutes(5));
        assert_eq!(clock.now(), datetime!(2026-06-14 10:05:00.123456 UTC));
    }

    #[test]
    fn truncation_converts_other_offsets_to_utc() {
        let t = datetime!(2026-06-14 12:00:00.5 +02:00);
        assert_eq!(truncate_to_micros(t), datetime!(2026-06-14 10:00:00.5 UTC));
        assert_eq!(truncate_to_micros(t).offset(), time::UtcOffset::UTC);
    }
}
