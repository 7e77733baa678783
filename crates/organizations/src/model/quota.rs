//! Quotas: how many organizations a user creates a day, how many invitation
//! e-mails go out per organization an hour and per recipient a day, how
//! many invitations an organization keeps pending. They are counted in the
//! database inside the writing transaction, serialised per counter, so
//! every replica shares them.

use super::OrganizationId;
use shared_kernel::{EmailAddress, UserId};
use time::{Duration, OffsetDateTime};

/// The limits (settings `quotas.*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuotaPolicy {
    /// Organizations one user may create in 24 hours.
    pub organizations_per_user_per_day: u32,
    /// Invitation e-mails one organization may queue in an hour.
    pub emails_per_organization_per_hour: u32,
    /// Invitation e-mails one address may receive in 24 hours.
    pub emails_per_recipient_per_day: u32,
    /// Unexpired pending invitations one organization may hold.
    pub pending_invitations_per_organization: u32,
}

impl Default for QuotaPolicy {
    fn default() -> Self {
        Self {
            organizations_per_user_per_day: 10,
            emails_per_organization_per_hour: 100,
            emails_per_recipient_per_day: 5,
            pending_invitations_per_organization: 1000,
        }
    }
}

impl QuotaPolicy {
    /// Organizations created by `user` in the last 24 hours.
    pub fn organizations_by(&self, user: UserId, now: OffsetDateTime) -> Quota {
        Quota::windowed(
            Counter::OrganizationsCreatedBy(user),
            self.organizations_per_user_per_day,
            Duration::days(1),
            now,
        )
    }

    /// Invitation e-mails queued for `org` in the last hour.
    pub fn mails_of_organization(&self, org: OrganizationId, now: OffsetDateTime) -> Quota {
        Quota::windowed(
            Counter::MailsOfOrganization(org),
            self.emails_per_organization_per_hour,
            Duration::hours(1),
            now,
        )
    }

    /// Invitation e-mails queued to `to` in the last 24 hours.
    pub fn mails_to(&self, to: &EmailAddress, now: OffsetDateTime) -> Quota {
        Quota::windowed(Counter::MailsTo(to.clone()), self.emails_per_recipient_per_day, Duration::days(1), now)
    }

    /// `org`'s invitations pending and unexpired at `now`.
    pub fn pending_invitations(&self, org: OrganizationId, now: OffsetDateTime) -> Quota {
        Quota {
            counter: Counter::PendingInvitations(org),
            limit: self.pending_invitations_per_organization,
            window: None,
            now,
        }
    }
}

/// What a quota counts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
    /// Organizations whose `created_by` is the user, by `created_at`.
    OrganizationsCreatedBy(UserId),
    /// Outbox e-mails of the organization's invitations, by when they were queued.
    MailsOfOrganization(OrganizationId),
    /// Outbox e-mails to the address, by when they were queued.
    MailsTo(EmailAddress),
    /// The organization's invitations that are pending and unexpired, released as they expire.
    PendingInvitations(OrganizationId),
}

impl Counter {
    /// The stable machine name of the quota (`organizations_per_user_per_day`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::OrganizationsCreatedBy(_) => "organizations_per_user_per_day",
            Self::MailsOfOrganization(_) => "emails_per_organization_per_hour",
            Self::MailsTo(_) => "emails_per_recipient_per_day",
            Self::PendingInvitations(_) => "pending_invitations_per_organization",
        }
    }

    /// A key naming this counter alone, for a lock that serialises its checks.
    pub fn key(&self) -> String {
        match self {
            Self::OrganizationsCreatedBy(u) => format!("usher:quota:orgs:{u}"),
            Self::MailsOfOrganization(o) => format!("usher:quota:org-mails:{o}"),
            Self::MailsTo(e) => format!("usher:quota:mails-to:{e}"),
            Self::PendingInvitations(o) => format!("usher:quota:pending:{o}"),
        }
    }
}

/// One quota check: fewer than `limit` rows counted, so one more fits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quota {
    /// What is counted.
    pub counter: Counter,
    /// How many may exist.
    pub limit: u32,
    /// The rolling window rows are counted in (`None`: the counter's own rule).
    pub window: Option<Duration>,
    /// The instant of the check.
    pub now: OffsetDateTime,
}

impl Quota {
    fn windowed(counter: Counter, limit: u32, window: Duration, now: OffsetDateTime) -> Self {
        Self { counter, limit, window: Some(window), now }
    }

    /// The earliest row time still counted (`now - window`), for windowed counters.
    pub fn since(&self) -> Option<OffsetDateTime> {
        self.window.map(|w| self.now - w)
    }

    /// Whether `count` rows leave room for one more.
    pub fn admits(&self, count: u64) -> bool {
        count < u64::from(self.limit)
    }

    /// The refusal for a full counter whose first release is at
    /// `release_at`: for windowed counters the oldest counted row's time
    /// plus the window; for pending invitations the earliest expiry.
    pub fn exceeded(&self, oldest: Option<OffsetDateTime>) -> QuotaExceeded {
        let release = match (self.window, oldest) {
            (Some(window), Some(t)) => Some(t + window),
            (None, Some(t)) => Some(t),
            (_, None) => None,
        };
        let wait = release.map_or(Duration::hours(1), |r| r - self.now);
        QuotaExceeded { quota: self.counter.name(), limit: self.limit, retry_after: wait.max(Duration::seconds(1)) }
    }
}

/// A quota was full.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the {quota} quota ({limit}) is used up; retry in {} s", retry_after.whole_seconds())]
#[non_exhaustive]
pub struct QuotaExceeded {
    /// The quota's name.
    pub quota: &'static str,
    /// Its limit.
    pub limit: u32,
    /// How long until one more fits.
    pub retry_after: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    #[test]
    fn a_full_window_frees_up_when_its_oldest_row_leaves_it() {
        let q = QuotaPolicy::default().organizations_by(UserId::new(1), NOW);
        assert!(q.admits(9) && !q.admits(10));
        assert_eq!(q.since(), Some(NOW - Duration::days(1)));
        let e = q.exceeded(Some(NOW - Duration::hours(20)));
        assert_eq!((e.quota, e.retry_after), ("organizations_per_user_per_day", Duration::hours(4)));
    }

    #[test]
    fn full_pending_invitations_free_up_at_the_earliest_expiry() {
        let q = QuotaPolicy::default().pending_invitations(OrganizationId::new(), NOW);
        assert_eq!(q.since(), None);
        assert_eq!(q.exceeded(Some(NOW + Duration::minutes(5))).retry_after, Duration::minutes(5));
    }
}
