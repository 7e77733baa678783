//! A membership change as data: the write, its history row, the guards the
//! database re-checks in the same transaction, and the effects it carries
//! out there. The model decides all of it; an adapter executes a plan in
//! one transaction and decides nothing.

use super::{
    HistoryCause, Invitation, InvitationId, InvitationStatus, Membership, MembershipId, OrganizationId, Quota, ZoneId,
};
use shared_kernel::{Event, OrgRole, UserId};
use time::OffsetDateTime;

/// A membership change to carry out atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MembershipPlan {
    /// The row to write.
    pub write: MembershipWrite,
    /// Why, by whom, and which invitation caused it: the history row.
    pub history: HistoryNote,
    /// Re-checked after the write; any failing rolls everything back.
    pub guards: Vec<Guard>,
    /// Carried out in the same transaction.
    pub effects: Vec<Effect>,
}

impl MembershipPlan {
    /// The membership after the change.
    pub fn membership(&self) -> &Membership {
        match &self.write {
            MembershipWrite::Insert(m) | MembershipWrite::Update(m) => m,
        }
    }
}

/// The membership row a plan writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipWrite {
    /// A new membership (the one-active-per-user index may refuse it: a concurrent join).
    Insert(Membership),
    /// A new version over `version - 1` of a stored-active row (compare-and-set).
    Update(Membership),
}

/// The history row of a change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryNote {
    /// Why.
    pub cause: HistoryCause,
    /// Who: the acting member, the accepting invitee, the appointing
    /// superuser, for imports the organization's creator; none for the sweeper.
    pub changed_by: Option<UserId>,
    /// The invitation that caused it.
    pub invitation_id: Option<InvitationId>,
    /// When the new version starts.
    pub at: OffsetDateTime,
}

/// A condition the database re-checks inside the writing transaction, so
/// that what the model decided from an earlier read still holds at commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guard {
    /// After the write, some stored-active membership of the organization
    /// holds `role` with no end date. With `role = admin` this is "an active
    /// permanent admin remains": time-bound admins do not count. The adapter
    /// serialises these checks per organization (a row lock), so two
    /// concurrent demotions cannot both pass.
    Remains {
        /// The organization.
        organization_id: OrganizationId,
        /// The role that must remain held.
        role: OrgRole,
    },
    /// The membership is still stored active at `version`: the authority a
    /// decision relied on (the actor's, or an invitation creator's) has not
    /// been removed, demoted or re-scoped since it was read. The adapter
    /// locks the row against concurrent changes until commit.
    Unchanged {
        /// The membership.
        membership_id: MembershipId,
        /// The version read.
        version: i64,
    },
    /// `user_id` is not blocked from the organization.
    NotBlocked {
        /// The organization.
        organization_id: OrganizationId,
        /// The user.
        user_id: UserId,
    },
    /// Counted below its limit (see [`Quota`]).
    Quota(Quota),
}

/// Something a change does besides writing the membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Revokes the pending invitations their creator may no longer grant.
    RevokeInvitations(Revocation),
    /// Clears the user's current organization if it is this one.
    ClearCurrent {
        /// The user.
        user_id: UserId,
        /// The organization.
        organization_id: OrganizationId,
    },
    /// Keeps the user out of every invitation of the organization until an admin unblocks them.
    Block {
        /// The organization.
        organization_id: OrganizationId,
        /// The blocked user.
        user_id: UserId,
        /// Who blocked them.
        blocked_by: UserId,
        /// When.
        at: OffsetDateTime,
    },
}

/// The pending invitations `created_by` made in an organization that they
/// may no longer grant (every one, once their membership ended): revoked in
/// the change that took the right away, each with its `invitation.revoked`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The organization.
    pub organization_id: OrganizationId,
    /// Whose invitations.
    pub created_by: UserId,
    /// What their creator may still grant (`None`: nothing, their membership ended).
    pub keep: Option<Grants>,
    /// Who made the change (none: the expiry sweeper).
    pub by: Option<UserId>,
    /// When.
    pub at: OffsetDateTime,
}

impl Revocation {
    /// Whether this revokes `invitation`: pending, made by `created_by` in
    /// the organization, and not one they may still grant.
    pub fn covers(&self, invitation: &Invitation) -> bool {
        invitation.organization_id == self.organization_id
            && invitation.created_by == self.created_by
            && invitation.status == InvitationStatus::Pending
            && !self.keep.as_ref().is_some_and(|keep| keep.allow(invitation))
    }

    /// `invitation` revoked, and its `invitation.revoked` event, whose
    /// `reason` says why: `creator_membership_ended` or `creator_may_no_longer_grant`.
    pub fn revoke(&self, invitation: &Invitation) -> (Invitation, Event) {
        let next = invitation.revoked(self.at, self.by).record;
        let reason = if self.keep.is_none() { "creator_membership_ended" } else { "creator_may_no_longer_grant" };
        let event = super::events::revoked_with_its_creator(&next, self.by, reason);
        (next, event)
    }
}

/// What a member may still grant: invitations for one of `roles`, in one of
/// `zones` (`None`: any zone or the whole organization).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grants {
    /// The roles (empty: none).
    pub roles: Vec<OrgRole>,
    /// The zones, when their grants are zone-scoped.
    pub zones: Option<Vec<ZoneId>>,
}

impl Grants {
    /// Whether these grants allow `invitation`: its role, and, when scoped
    /// to zones, one of them (an organization-wide invitation is outside every zone list).
    pub fn allow(&self, invitation: &Invitation) -> bool {
        self.roles.contains(&invitation.role)
            && self.zones.as_ref().is_none_or(|zones| invitation.zone_id.is_some_and(|z| zones.contains(&z)))
    }
}
