//! What a member may do in their organization at an instant.
//!
//! The model of roles and zones:
//! - **Admins** act on the whole organization, whatever zones their
//!   membership names: they grant any role, manage every member, rename the
//!   organization, create zones, read histories and acceptance logs.
//! - **Moderators** grant and manage guests and members only. A moderator
//!   whose membership names zones is scoped to them: they invite only to
//!   those zones, and list and manage only members whose zones all lie
//!   inside them (an organization-wide member is outside every zone scope).
//!   A moderator without zones acts organization-wide.
//! - **Members and guests** manage nothing.
//! - Nobody grants for longer than they hold: a time-bound member's grants
//!   end no later than their own membership.

use super::{Membership, ZoneId};
use crate::error::OrgError;
use shared_kernel::OrgRole;
use time::OffsetDateTime;

/// Where a member's management reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The whole organization.
    Organization,
    /// Only these zones (never empty).
    Zones(Vec<ZoneId>),
}

impl Scope {
    /// Whether a membership covering `zones` lies inside this scope.
    pub fn contains_all(&self, zones: &[ZoneId]) -> bool {
        match self {
            Self::Organization => true,
            Self::Zones(scope) => !zones.is_empty() && zones.iter().all(|z| scope.contains(z)),
        }
    }

    /// Whether an invitation to `zone` (`None`: the whole organization) lies inside this scope.
    pub fn admits(&self, zone: Option<ZoneId>) -> bool {
        match (self, zone) {
            (Self::Organization, _) => true,
            (Self::Zones(scope), Some(z)) => scope.contains(&z),
            (Self::Zones(_), None) => false,
        }
    }

    /// The zones, when scoped.
    pub fn zones(&self) -> Option<&[ZoneId]> {
        match self {
            Self::Organization => None,
            Self::Zones(z) => Some(z),
        }
    }
}

/// The roles a holder of `role` may grant, and may remove or demote.
pub fn grantable_roles(role: OrgRole) -> &'static [OrgRole] {
    match role {
        OrgRole::Admin => &OrgRole::ALL,
        OrgRole::Moderator => &[OrgRole::Guest, OrgRole::Member],
        OrgRole::Member | OrgRole::Guest => &[],
    }
}

/// A member's standing in their organization at `now`: a membership that
/// grants access then. Every organization use case starts from one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    membership: Membership,
    now: OffsetDateTime,
}

impl Authority {
    /// The standing `membership` gives at `now`; `NotMember` when there is
    /// none or it grants nothing (ended, or past its expiry).
    pub fn at(membership: Option<Membership>, now: OffsetDateTime) -> Result<Self, OrgError> {
        match membership {
            Some(m) if m.grants(now).is_some() => Ok(Self { membership: m, now }),
            _ => Err(OrgError::NotMember),
        }
    }

    /// The membership behind it.
    pub fn membership(&self) -> &Membership {
        &self.membership
    }

    /// The role held.
    pub fn role(&self) -> OrgRole {
        self.membership.role
    }

    /// The instant it was read at.
    pub fn now(&self) -> OffsetDateTime {
        self.now
    }

    /// `Forbidden` unless the role is at least `required`.
    pub fn require(&self, required: OrgRole) -> Result<&Self, OrgError> {
        if self.role().at_least(required) { Ok(self) } else { Err(OrgError::Forbidden { required }) }
    }

    /// Where their management reaches: admins the whole organization,
    /// others their zones when their membership names any.
    pub fn scope(&self) -> Scope {
        if self.role() == OrgRole::Admin || self.membership.zones.is_empty() {
            Scope::Organization
        } else {
            Scope::Zones(self.membership.zones.clone())
        }
    }

    /// The roles they may grant (and remove or demote).
    pub fn grantable(&self) -> &'static [OrgRole] {
        grantable_roles(self.role())
    }

    /// Whether they may grant `role` in `zone`.
    pub fn check_grant(&self, role: OrgRole, zone: Option<ZoneId>) -> Result<(), OrgError> {
        if !self.grantable().contains(&role) {
            return Err(OrgError::RoleNotAllowed(role));
        }
        if !self.scope().admits(zone) {
            return Err(OrgError::OutOfScope);
        }
        Ok(())
    }

    /// Whether they may remove, demote or otherwise change `target`: a role
    /// they may grant, inside their scope.
    pub fn check_manage(&self, target: &Membership) -> Result<(), OrgError> {
        if !self.grantable().contains(&target.role) {
            return Err(OrgError::RoleNotAllowed(target.role));
        }
        if !self.scope().contains_all(&target.zones) {
            return Err(OrgError::OutOfScope);
        }
        Ok(())
    }

    /// The latest end they may give what they grant: `requested` (`None`:
    /// open-ended), cut to their own expiry when they are time-bound.
    pub fn bound_end(&self, requested: Option<OffsetDateTime>) -> Option<OffsetDateTime> {
        match (requested, self.membership.expires_at) {
            (Some(r), Some(own)) => Some(r.min(own)),
            (None, own) => own,
            (r, None) => r,
        }
    }

    /// Whether they may give an end of `end` (`None`: open-ended).
    pub fn check_end(&self, end: Option<OffsetDateTime>) -> Result<(), OrgError> {
        if self.bound_end(end) == end { Ok(()) } else { Err(OrgError::BeyondOwnTerm) }
    }

    /// What they may do, for clients that show controls by it.
    pub fn permissions(&self) -> Permissions {
        let admin = self.role() == OrgRole::Admin;
        Permissions {
            role: self.role(),
            grant_roles: self.grantable().to_vec(),
            zones: self.scope().zones().map(<[ZoneId]>::to_vec),
            until: self.membership.expires_at,
            invite: !self.grantable().is_empty(),
            list_members: self.role().at_least(OrgRole::Moderator),
            update_members: admin,
            manage_organization: admin,
            read_logs: admin,
            unblock: admin,
            manage_webhooks: admin,
        }
    }
}

/// What a member may do, as the model decides it (the API's `youMay`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Permissions {
    /// The role held.
    pub role: OrgRole,
    /// Roles they may grant by invitation, remove and block.
    pub grant_roles: Vec<OrgRole>,
    /// The zones their management is limited to; `None`: the whole organization.
    pub zones: Option<Vec<ZoneId>>,
    /// When their own membership (and so everything they grant) ends.
    pub until: Option<OffsetDateTime>,
    /// Whether they may create, revoke and resend invitations.
    pub invite: bool,
    /// Whether they may list members and invitations.
    pub list_members: bool,
    /// Whether they may change members' role, zones and expiry.
    pub update_members: bool,
    /// Whether they may rename the organization, set its logo and create zones.
    pub manage_organization: bool,
    /// Whether they may read membership histories and acceptance logs.
    pub read_logs: bool,
    /// Whether they may lift a block.
    pub unblock: bool,
    /// Whether they may register, change and remove the organization's
    /// webhook endpoints and read their deliveries.
    pub manage_webhooks: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrganizationId;
    use shared_kernel::UserId;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    fn holding(role: OrgRole, zones: Vec<ZoneId>, expires_at: Option<OffsetDateTime>) -> Authority {
        let m = Membership::start(
            OrganizationId::new(),
            UserId::new(1),
            role,
            zones,
            expires_at,
            None,
            NOW - Duration::days(1),
        );
        Authority::at(Some(m), NOW).unwrap()
    }

    #[test]
    fn admins_grant_anything_moderators_only_guest_and_member() {
        let admin = holding(OrgRole::Admin, vec![], None);
        assert!(admin.check_grant(OrgRole::Admin, None).is_ok());
        let moderator = holding(OrgRole::Moderator, vec![], None);
        assert!(moderator.check_grant(OrgRole::Member, None).is_ok());
        assert!(matches!(
            moderator.check_grant(OrgRole::Moderator, None),
            Err(OrgError::RoleNotAllowed(OrgRole::Moderator))
        ));
        let member = holding(OrgRole::Member, vec![], None);
        assert!(matches!(member.check_grant(OrgRole::Guest, None), Err(OrgError::RoleNotAllowed(_))));
    }

    #[test]
    fn a_zone_moderator_invites_and_manages_only_inside_their_zones() {
        let (north, south) = (ZoneId::new(), ZoneId::new());
        let moderator = holding(OrgRole::Moderator, vec![north], None);
        assert!(moderator.check_grant(OrgRole::Member, Some(north)).is_ok());
        assert!(matches!(moderator.check_grant(OrgRole::Member, Some(south)), Err(OrgError::OutOfScope)));
        assert!(matches!(moderator.check_grant(OrgRole::Member, None), Err(OrgError::OutOfScope)));
        let org = OrganizationId::new();
        let in_north = Membership::start(org, UserId::new(2), OrgRole::Member, vec![north], None, None, NOW);
        let in_both = Membership::start(org, UserId::new(3), OrgRole::Member, vec![north, south], None, None, NOW);
        let everywhere = Membership::start(org, UserId::new(4), OrgRole::Member, vec![], None, None, NOW);
        assert!(moderator.check_manage(&in_north).is_ok());
        assert!(matches!(moderator.check_manage(&in_both), Err(OrgError::OutOfScope)));
        assert!(matches!(moderator.check_manage(&everywhere), Err(OrgError::OutOfScope)));
    }

    #[test]
    fn admins_are_organization_wide_whatever_their_zones() {
        let admin = holding(OrgRole::Admin, vec![ZoneId::new()], None);
        assert_eq!(admin.scope(), Scope::Organization);
        assert!(admin.check_grant(OrgRole::Member, None).is_ok());
    }

    #[test]
    fn a_time_bound_member_grants_no_further_than_their_own_end() {
        let until = NOW + Duration::days(2);
        let moderator = holding(OrgRole::Moderator, vec![], Some(until));
        assert_eq!(moderator.bound_end(None), Some(until));
        assert_eq!(moderator.bound_end(Some(NOW + Duration::days(9))), Some(until));
        assert_eq!(moderator.bound_end(Some(NOW + Duration::days(1))), Some(NOW + Duration::days(1)));
        assert!(matches!(moderator.check_end(None), Err(OrgError::BeyondOwnTerm)));
        assert!(holding(OrgRole::Admin, vec![], None).check_end(None).is_ok());
    }

    #[test]
    fn an_expired_membership_gives_no_authority() {
        let m = Membership::start(
            OrganizationId::new(),
            UserId::new(1),
            OrgRole::Admin,
            vec![],
            Some(NOW),
            None,
            NOW - Duration::days(1),
        );
        assert!(matches!(Authority::at(Some(m), NOW), Err(OrgError::NotMember)));
        assert!(matches!(Authority::at(None, NOW), Err(OrgError::NotMember)));
    }
}
