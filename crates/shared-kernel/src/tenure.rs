//! When a membership grants access, and how long an ended one stays in a
//! user's list: the one definition every reader (the User DTO, the
//! sidebar, the members list, authorisation) derives status from.

use time::{Duration, OffsetDateTime};

/// How long an ended membership keeps appearing, as `inactive`, in its
/// member's User DTO.
pub const ENDED_LISTED_FOR: Duration = Duration::days(30);

/// The part of a membership that says when it grants access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tenure {
    /// When it was ended (removed, left, or expired by the sweeper).
    pub ended_at: Option<OffsetDateTime>,
    /// When a time-bound membership stops granting access.
    pub expires_at: Option<OffsetDateTime>,
}

impl Tenure {
    /// The tenure of a stored membership: `active` is its stored status; an
    /// inactive row always carries its end, and its join time stands in for
    /// a legacy row without one.
    pub fn stored(
        active: bool,
        joined_at: OffsetDateTime,
        ended_at: Option<OffsetDateTime>,
        expires_at: Option<OffsetDateTime>,
    ) -> Self {
        Self { ended_at: if active { None } else { Some(ended_at.unwrap_or(joined_at)) }, expires_at }
    }

    /// Whether it grants access at `now`: not ended, and `now` before its
    /// expiry, whether or not the sweeper has run.
    pub fn grants_at(&self, now: OffsetDateTime) -> bool {
        self.ended_at.is_none() && self.expires_at.is_none_or(|e| e > now)
    }

    /// When it stopped granting access, if it has by `now`.
    pub fn ended_by(&self, now: OffsetDateTime) -> Option<OffsetDateTime> {
        self.ended_at.or(self.expires_at.filter(|e| *e <= now))
    }

    /// Whether its member still sees it at `now`: granting, or ended less
    /// than [`ENDED_LISTED_FOR`] ago.
    pub fn listed_at(&self, now: OffsetDateTime) -> bool {
        self.ended_by(now).is_none_or(|end| end > Self::listed_since(now))
    }

    /// The earliest end still listed at `now` (for queries that fetch the candidates).
    pub fn listed_since(now: OffsetDateTime) -> OffsetDateTime {
        now - ENDED_LISTED_FOR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    #[test]
    fn a_membership_grants_until_it_ends_or_expires() {
        let open = Tenure { ended_at: None, expires_at: None };
        assert!(open.grants_at(NOW));
        let bound = Tenure { ended_at: None, expires_at: Some(NOW) };
        assert!(bound.grants_at(NOW - Duration::seconds(1)));
        assert!(!bound.grants_at(NOW), "expired at the instant of its expiry");
        assert_eq!(bound.ended_by(NOW), Some(NOW));
        let ended = Tenure { ended_at: Some(NOW - Duration::days(1)), expires_at: None };
        assert!(!ended.grants_at(NOW));
    }

    #[test]
    fn ended_memberships_stay_listed_for_thirty_days() {
        let ended = |ago: Duration| Tenure { ended_at: Some(NOW - ago), expires_at: None };
        assert!(ended(Duration::days(29)).listed_at(NOW));
        assert!(!ended(Duration::days(30)).listed_at(NOW));
        let lapsed = Tenure { ended_at: None, expires_at: Some(NOW - Duration::days(31)) };
        assert!(!lapsed.listed_at(NOW), "an unswept lapse counts from its expiry");
    }
}
