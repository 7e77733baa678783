//! Memberships, how one reads at an instant, and their history (seed 004's
//! membership shadow: every version, who made it and why).

use super::{InvitationId, MembershipId, OrganizationId, ZoneId};
use serde::{Deserialize, Serialize};
use shared_kernel::{OrgRole, Tenure, UserId};
use time::OffsetDateTime;

shared_kernel::stored_enum! {
    /// A membership's stored status. Readers never show it as is: see [`Membership::view_at`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum MembershipStatus {
        /// Grants its role (until `expiresAt`, if any).
        Active = "active",
        /// Ended; kept forever, never deleted.
        Inactive = "inactive",
    }
}

shared_kernel::stored_enum! {
    /// Why a membership ended.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum EndReason {
        /// A moderator or admin removed the member.
        Removed = "removed",
        /// The member left.
        Left = "left",
        /// A time-bound membership ran out.
        Expired = "expired",
    }
}

shared_kernel::stored_enum! {
    /// Why a history row was written.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum HistoryCause {
        /// The organization's creator became its admin.
        Created = "created",
        /// An invitation was accepted.
        Invitation = "invitation",
        /// The role changed.
        RoleChange = "role_change",
        /// The zones changed.
        ZoneChange = "zone_change",
        /// The expiry was set, moved or cleared.
        ExpiryChange = "expiry_change",
        /// Removed by a moderator or admin.
        Removed = "removed",
        /// The member left.
        Left = "left",
        /// A time-bound membership ran out (ended by the sweeper or on the spot).
        Expired = "expired",
        /// Imported from legacy data (FiO "Case 1").
        Import = "import",
        /// A superuser appointed the member admin.
        Appointed = "appointed",
    }
}

/// A user's membership of an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// Its id.
    pub id: MembershipId,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The member.
    pub user_id: UserId,
    /// The role held.
    pub role: OrgRole,
    /// The zones it covers; empty means the whole organization.
    pub zones: Vec<ZoneId>,
    /// Stored status; read it through [`Membership::view_at`].
    pub status: MembershipStatus,
    /// When a time-bound membership stops granting anything.
    pub expires_at: Option<OffsetDateTime>,
    /// The invitation it came from, if any.
    pub invitation_id: Option<InvitationId>,
    /// When it started.
    pub joined_at: OffsetDateTime,
    /// When it ended.
    pub ended_at: Option<OffsetDateTime>,
    /// Why it ended.
    pub end_reason: Option<EndReason>,
    /// Compare-and-set version.
    pub version: i64,
}

/// How a membership reads at an instant: what every reader shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MembershipView {
    /// `active` only while it grants access; one past its expiry reads `inactive`.
    pub status: MembershipStatus,
    /// When it stopped granting access (its expiry, for one the sweeper has not ended yet).
    pub ended_at: Option<OffsetDateTime>,
    /// Why (`expired` for an unswept lapse).
    pub end_reason: Option<EndReason>,
}

impl Membership {
    /// A new active membership.
    pub fn start(
        organization_id: OrganizationId,
        user_id: UserId,
        role: OrgRole,
        zones: Vec<ZoneId>,
        expires_at: Option<OffsetDateTime>,
        invitation_id: Option<InvitationId>,
        now: OffsetDateTime,
    ) -> Self {
        let mut zones = zones;
        zones.sort();
        zones.dedup();
        Self {
            id: MembershipId::new(),
            organization_id,
            user_id,
            role,
            zones,
            status: MembershipStatus::Active,
            expires_at,
            invitation_id,
            joined_at: now,
            ended_at: None,
            end_reason: None,
            version: 1,
        }
    }

    /// When it grants access (the shared definition, [`Tenure`]).
    pub fn tenure(&self) -> Tenure {
        Tenure::stored(self.status == MembershipStatus::Active, self.joined_at, self.ended_at, self.expires_at)
    }

    /// The role this membership grants at `now`: nothing once it ended or
    /// once `expiresAt` has passed, whether or not the sweeper has run.
    pub fn grants(&self, now: OffsetDateTime) -> Option<OrgRole> {
        self.tenure().grants_at(now).then_some(self.role)
    }

    /// Stored active but past its expiry: grants nothing, not yet ended by the sweeper.
    pub fn lapsed(&self, now: OffsetDateTime) -> bool {
        self.status == MembershipStatus::Active && self.grants(now).is_none()
    }

    /// How it reads at `now`.
    pub fn view_at(&self, now: OffsetDateTime) -> MembershipView {
        if self.grants(now).is_some() {
            return MembershipView { status: MembershipStatus::Active, ended_at: None, end_reason: None };
        }
        MembershipView {
            status: MembershipStatus::Inactive,
            ended_at: self.tenure().ended_by(now),
            end_reason: self.end_reason.or(Some(EndReason::Expired)),
        }
    }

    /// Whether it has no end date.
    pub fn is_permanent(&self) -> bool {
        self.expires_at.is_none()
    }

    /// Whether it covers `zone` (`None` = the whole organization).
    pub fn covers(&self, zone: Option<ZoneId>) -> bool {
        match zone {
            None => self.zones.is_empty(),
            Some(z) => self.zones.is_empty() || self.zones.contains(&z),
        }
    }

    /// The next version: same membership, one version later.
    pub(crate) fn next(&self) -> Self {
        Self { version: self.version + 1, ..self.clone() }
    }

    /// The next version, ended at `now` for `reason`.
    pub fn ended(&self, reason: EndReason, now: OffsetDateTime) -> Self {
        Self { status: MembershipStatus::Inactive, ended_at: Some(now), end_reason: Some(reason), ..self.next() }
    }
}

/// One version of a membership (seed 004's membership shadow).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipHistory {
    /// The membership.
    pub membership_id: MembershipId,
    /// Its organization.
    pub organization_id: OrganizationId,
    /// Its member.
    pub user_id: UserId,
    /// The role of this version.
    pub role: OrgRole,
    /// The zones of this version.
    pub zones: Vec<ZoneId>,
    /// The status of this version.
    pub status: MembershipStatus,
    /// The expiry of this version.
    pub expires_at: Option<OffsetDateTime>,
    /// When this version started.
    pub valid_from: OffsetDateTime,
    /// When the next version replaced it; `None` for the current one.
    pub valid_to: Option<OffsetDateTime>,
    /// Who made the change: the acting member, the accepting invitee, the
    /// appointing superuser, for imports the organization's creator (in
    /// whose name `usher import` issues the invitation); none for the sweeper.
    pub changed_by: Option<UserId>,
    /// The invitation that caused it (accepts and imports).
    pub invitation_id: Option<InvitationId>,
    /// Why this version exists.
    pub cause: HistoryCause,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    fn member() -> Membership {
        Membership::start(
            OrganizationId::new(),
            UserId::new(2),
            OrgRole::Member,
            vec![],
            None,
            None,
            NOW - Duration::days(1),
        )
    }

    #[test]
    fn a_time_bound_membership_grants_nothing_once_it_expired() {
        let mut m = member();
        m.expires_at = Some(NOW);
        assert_eq!(m.grants(NOW - Duration::seconds(1)), Some(OrgRole::Member));
        assert_eq!(m.grants(NOW), None);
        assert!(m.lapsed(NOW));
        assert_eq!(m.ended(EndReason::Removed, NOW).grants(NOW - Duration::days(1)), None);
    }

    #[test]
    fn an_unswept_lapse_reads_as_expired_at_its_expiry() {
        let mut m = member();
        m.expires_at = Some(NOW - Duration::hours(1));
        let view = m.view_at(NOW);
        assert_eq!(
            view,
            MembershipView {
                status: MembershipStatus::Inactive,
                ended_at: Some(NOW - Duration::hours(1)),
                end_reason: Some(EndReason::Expired),
            }
        );
        let removed = member().ended(EndReason::Removed, NOW);
        assert_eq!(removed.view_at(NOW).end_reason, Some(EndReason::Removed));
        assert_eq!(member().view_at(NOW).status, MembershipStatus::Active);
    }
}
