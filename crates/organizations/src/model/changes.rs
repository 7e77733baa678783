//! The membership changes other than accepting: founding an organization,
//! updating a member's role, zones or expiry, removing (and blocking),
//! leaving, expiring, and a superuser appointing an admin. Each returns the
//! plan the adapter carries out.

use super::{
    Authority, Effect, EndReason, Grants, Guard, HistoryCause, HistoryNote, Membership, MembershipPlan,
    MembershipWrite, Name, Organization, OrganizationId, QuotaPolicy, Revocation, ZoneId, grantable_roles,
};
use crate::error::OrgError;
use shared_kernel::{OrgRole, UserId};
use time::OffsetDateTime;

/// A block lifted: `user_id` may join the organization again.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unblock {
    /// The organization.
    pub organization_id: OrganizationId,
    /// Who was blocked.
    pub user_id: UserId,
    /// The admin who lifted it.
    pub by: UserId,
    /// When.
    pub at: OffsetDateTime,
}

/// A new organization with its creator's admin membership.
#[derive(Clone, Debug)]
pub struct Founding {
    /// The organization.
    pub organization: Organization,
    /// The creator's permanent admin membership (cause `created`).
    /// Inserting it also makes the organization the creator's current one.
    pub admin: MembershipPlan,
    /// Checked before the organization is inserted: the organizations-per-day quota.
    pub guards: Vec<Guard>,
}

/// Founds an organization named `name` for `creator`.
pub fn found_organization(name: &Name, creator: UserId, quotas: &QuotaPolicy, now: OffsetDateTime) -> Founding {
    let organization = Organization::new(name, creator, now);
    let membership = Membership::start(organization.id, creator, OrgRole::Admin, vec![], None, None, now);
    let admin = MembershipPlan {
        write: MembershipWrite::Insert(membership),
        history: HistoryNote { cause: HistoryCause::Created, changed_by: Some(creator), invitation_id: None, at: now },
        guards: vec![],
        effects: vec![],
    };
    Founding { organization, admin, guards: vec![Guard::Quota(quotas.organizations_by(creator, now))] }
}

/// A change to a member's role, zones or expiry; `None` fields stay.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberUpdate {
    /// The new role.
    pub role: Option<OrgRole>,
    /// The new zones (empty: the whole organization).
    pub zones: Option<Vec<ZoneId>>,
    /// The new end: `Some(None)` makes it permanent.
    pub expires_at: Option<Option<OffsetDateTime>>,
}

impl Authority {
    /// Changes `target`'s role, zones or expiry (`org:admin`). `zones` are
    /// the organization's. `Ok(None)` when nothing changes.
    pub fn update_member(
        &self,
        target: &Membership,
        update: &MemberUpdate,
        zones: &[ZoneId],
    ) -> Result<Option<MembershipPlan>, OrgError> {
        self.require(OrgRole::Admin)?;
        let now = self.now();
        if target.grants(now).is_none() {
            return Err(OrgError::MemberNotFound);
        }
        self.check_manage(target)?;
        let role = update.role.unwrap_or(target.role);
        self.check_grant(role, None)?;
        let member_zones = match &update.zones {
            Some(requested) => {
                if requested.iter().any(|z| !zones.contains(z)) {
                    return Err(OrgError::ZoneNotFound);
                }
                let mut z = requested.clone();
                z.sort();
                z.dedup();
                z
            }
            None => target.zones.clone(),
        };
        let expires_at = match update.expires_at {
            Some(Some(t)) if t <= now => return Err(OrgError::EndInPast),
            Some(end) => end,
            None => target.expires_at,
        };
        // What the caller grants (a new end, a higher role, other zones)
        // may not outlast their own membership.
        if expires_at != target.expires_at || role > target.role || member_zones != target.zones {
            self.check_end(expires_at)?;
        }
        let next = Membership { role, zones: member_zones, expires_at, ..target.next() };
        let cause = if next.role != target.role {
            HistoryCause::RoleChange
        } else if next.zones != target.zones {
            HistoryCause::ZoneChange
        } else if next.expires_at != target.expires_at {
            HistoryCause::ExpiryChange
        } else {
            return Ok(None);
        };
        let mut guards = self.actor_guard(target);
        if holds_permanently(target, OrgRole::Admin) && !holds_permanently(&next, OrgRole::Admin) {
            guards.push(Guard::Remains { organization_id: target.organization_id, role: OrgRole::Admin });
        }
        let mut effects = vec![];
        if next.role != target.role || next.zones != target.zones {
            effects.push(Effect::RevokeInvitations(Revocation {
                organization_id: next.organization_id,
                created_by: next.user_id,
                keep: Some(grants_of(&next)),
                by: Some(self.membership().user_id),
                at: now,
            }));
        }
        Ok(Some(MembershipPlan {
            write: MembershipWrite::Update(next),
            history: HistoryNote { cause, changed_by: Some(self.membership().user_id), invitation_id: None, at: now },
            guards,
            effects,
        }))
    }

    /// Removes `target` (`org:moderator`; a role the caller may grant,
    /// inside their scope). With `block`, `target` may not rejoin through
    /// any invitation of the organization until an admin unblocks them.
    pub fn remove_member(&self, target: &Membership, block: bool) -> Result<MembershipPlan, OrgError> {
        self.require(OrgRole::Moderator)?;
        let now = self.now();
        if target.grants(now).is_none() {
            return Err(OrgError::MemberNotFound);
        }
        self.check_manage(target)?;
        let next = target.ended(EndReason::Removed, now);
        let mut guards = self.actor_guard(target);
        if holds_permanently(target, OrgRole::Admin) {
            guards.push(Guard::Remains { organization_id: target.organization_id, role: OrgRole::Admin });
        }
        let mut effects = MembershipPlan::ending_effects(target, now, Some(self.membership().user_id));
        if block {
            effects.push(Effect::Block {
                organization_id: target.organization_id,
                user_id: target.user_id,
                blocked_by: self.membership().user_id,
                at: now,
            });
        }
        Ok(MembershipPlan {
            write: MembershipWrite::Update(next),
            history: HistoryNote {
                cause: HistoryCause::Removed,
                changed_by: Some(self.membership().user_id),
                invitation_id: None,
                at: now,
            },
            guards,
            effects,
        })
    }

    /// Lifts `user`'s block (`org:admin`).
    pub fn unblock(&self, user: UserId) -> Result<Unblock, OrgError> {
        self.require(OrgRole::Admin)?;
        Ok(Unblock {
            organization_id: self.membership().organization_id,
            user_id: user,
            by: self.membership().user_id,
            at: self.now(),
        })
    }

    /// The guard that the caller's own membership is unchanged at commit,
    /// unless the change is to that very membership (its compare-and-set covers it).
    fn actor_guard(&self, target: &Membership) -> Vec<Guard> {
        let own = self.membership();
        if own.id == target.id {
            vec![]
        } else {
            vec![Guard::Unchanged { membership_id: own.id, version: own.version }]
        }
    }
}

impl Membership {
    /// The member leaves at `now`; refused when it grants nothing (`NotMember`).
    pub fn leave(&self, now: OffsetDateTime) -> Result<MembershipPlan, OrgError> {
        if self.grants(now).is_none() {
            return Err(OrgError::NotMember);
        }
        let mut guards = vec![];
        if holds_permanently(self, OrgRole::Admin) {
            guards.push(Guard::Remains { organization_id: self.organization_id, role: OrgRole::Admin });
        }
        Ok(MembershipPlan {
            write: MembershipWrite::Update(self.ended(EndReason::Left, now)),
            history: HistoryNote {
                cause: HistoryCause::Left,
                changed_by: Some(self.user_id),
                invitation_id: None,
                at: now,
            },
            guards,
            effects: MembershipPlan::ending_effects(self, now, Some(self.user_id)),
        })
    }

    /// Ends a lapsed membership at its expiry, as the sweeper does (`None`
    /// while it still grants or once it ended). Time-bound admins never
    /// count as the organization's permanent admin, so this needs no guard.
    pub fn expire(&self, now: OffsetDateTime) -> Option<MembershipPlan> {
        if !self.lapsed(now) {
            return None;
        }
        let at = self.expires_at.map_or(now, |e| e.min(now));
        Some(MembershipPlan {
            write: MembershipWrite::Update(self.ended(EndReason::Expired, at)),
            history: HistoryNote { cause: HistoryCause::Expired, changed_by: None, invitation_id: None, at },
            guards: vec![],
            effects: MembershipPlan::ending_effects(self, at, None),
        })
    }
}

/// A superuser appoints `user` a permanent admin of `organization`, so that
/// no organization is ever left unmanageable. `existing` is the user's
/// stored-active membership; `Ok(None)` when they already are one.
pub fn appoint_admin(
    superuser: UserId,
    organization: OrganizationId,
    user: UserId,
    existing: Option<&Membership>,
    now: OffsetDateTime,
) -> Option<(Option<MembershipPlan>, MembershipPlan)> {
    let history =
        HistoryNote { cause: HistoryCause::Appointed, changed_by: Some(superuser), invitation_id: None, at: now };
    let current = existing.filter(|m| m.grants(now).is_some());
    let write = match current {
        Some(m) if holds_permanently(m, OrgRole::Admin) => return None,
        Some(m) => MembershipWrite::Update(Membership { role: OrgRole::Admin, expires_at: None, ..m.next() }),
        None => MembershipWrite::Insert(Membership::start(organization, user, OrgRole::Admin, vec![], None, None, now)),
    };
    let end_lapsed = existing.and_then(|m| m.expire(now));
    Some((end_lapsed, MembershipPlan { write, history, guards: vec![], effects: vec![] }))
}

/// Whether `m` holds `role` with no end date.
fn holds_permanently(m: &Membership, role: OrgRole) -> bool {
    m.role == role && m.is_permanent()
}

/// What `m`'s holder may grant by invitation.
fn grants_of(m: &Membership) -> Grants {
    let zones = (m.role != OrgRole::Admin && !m.zones.is_empty()).then(|| m.zones.clone());
    Grants { roles: grantable_roles(m.role).to_vec(), zones }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    fn holding(org: OrganizationId, user: i64, role: OrgRole, zones: Vec<ZoneId>) -> Membership {
        Membership::start(org, UserId::new(user), role, zones, None, None, NOW - Duration::days(1))
    }

    fn authority(m: &Membership) -> Authority {
        Authority::at(Some(m.clone()), NOW).unwrap()
    }

    #[test]
    fn demoting_or_removing_a_permanent_admin_needs_another_to_remain() {
        let org = OrganizationId::new();
        let (a, b) = (holding(org, 1, OrgRole::Admin, vec![]), holding(org, 2, OrgRole::Admin, vec![]));
        let demote = MemberUpdate { role: Some(OrgRole::Member), ..MemberUpdate::default() };
        let plan = authority(&a).update_member(&b, &demote, &[]).unwrap().unwrap();
        assert!(plan.guards.contains(&Guard::Remains { organization_id: org, role: OrgRole::Admin }));
        assert!(plan.guards.contains(&Guard::Unchanged { membership_id: a.id, version: a.version }));
        let bound = MemberUpdate { expires_at: Some(Some(NOW + Duration::days(1))), ..MemberUpdate::default() };
        let plan = authority(&a).update_member(&b, &bound, &[]).unwrap().unwrap();
        assert_eq!(plan.history.cause, HistoryCause::ExpiryChange);
        assert!(
            plan.guards.contains(&Guard::Remains { organization_id: org, role: OrgRole::Admin }),
            "a time-bound admin does not count"
        );
        let plan = authority(&a).remove_member(&b, false).unwrap();
        assert!(plan.guards.contains(&Guard::Remains { organization_id: org, role: OrgRole::Admin }));
        assert!(a.leave(NOW).unwrap().guards.contains(&Guard::Remains { organization_id: org, role: OrgRole::Admin }));
    }

    #[test]
    fn demoting_revokes_the_links_the_new_role_may_not_grant() {
        let org = OrganizationId::new();
        let admin = holding(org, 1, OrgRole::Admin, vec![]);
        let moderator = holding(org, 2, OrgRole::Moderator, vec![]);
        let to_member = MemberUpdate { role: Some(OrgRole::Member), ..MemberUpdate::default() };
        let plan = authority(&admin).update_member(&moderator, &to_member, &[]).unwrap().unwrap();
        assert!(plan.effects.iter().any(
            |e| matches!(e, Effect::RevokeInvitations(Revocation { keep: Some(Grants { roles, .. }), .. }) if roles.is_empty())
        ));
    }

    #[test]
    fn removing_ends_revokes_clears_and_may_block() {
        let org = OrganizationId::new();
        let moderator = holding(org, 1, OrgRole::Moderator, vec![]);
        let member = holding(org, 2, OrgRole::Member, vec![]);
        let plan = authority(&moderator).remove_member(&member, true).unwrap();
        assert_eq!(plan.membership().end_reason, Some(EndReason::Removed));
        assert!(plan.effects.iter().any(|e| matches!(e, Effect::Block { user_id, .. } if *user_id == member.user_id)));
        assert!(plan.effects.iter().any(|e| matches!(e, Effect::ClearCurrent { .. })));
        assert!(matches!(
            authority(&moderator).remove_member(&holding(org, 3, OrgRole::Moderator, vec![]), false),
            Err(OrgError::RoleNotAllowed(_))
        ));
    }

    #[test]
    fn a_zone_moderator_cannot_remove_outside_their_zone() {
        let org = OrganizationId::new();
        let (north, south) = (ZoneId::new(), ZoneId::new());
        let moderator = holding(org, 1, OrgRole::Moderator, vec![north]);
        assert!(authority(&moderator).remove_member(&holding(org, 2, OrgRole::Member, vec![north]), false).is_ok());
        assert!(matches!(
            authority(&moderator).remove_member(&holding(org, 3, OrgRole::Member, vec![south]), false),
            Err(OrgError::OutOfScope)
        ));
    }

    #[test]
    fn a_time_bound_admin_cannot_make_anyone_permanent() {
        let org = OrganizationId::new();
        let mut admin = holding(org, 1, OrgRole::Admin, vec![]);
        admin.expires_at = Some(NOW + Duration::days(1));
        let mut guest = holding(org, 2, OrgRole::Guest, vec![]);
        guest.expires_at = Some(NOW + Duration::hours(1));
        let forever = MemberUpdate { expires_at: Some(None), ..MemberUpdate::default() };
        assert!(matches!(authority(&admin).update_member(&guest, &forever, &[]), Err(OrgError::BeyondOwnTerm)));
        let past = MemberUpdate { expires_at: Some(Some(NOW)), ..MemberUpdate::default() };
        assert!(matches!(authority(&admin).update_member(&guest, &past, &[]), Err(OrgError::EndInPast)));
    }

    #[test]
    fn a_time_bound_admin_cannot_raise_a_permanent_member() {
        let org = OrganizationId::new();
        let mut admin = holding(org, 1, OrgRole::Admin, vec![]);
        admin.expires_at = Some(NOW + Duration::days(1));
        let member = holding(org, 2, OrgRole::Member, vec![]);
        let raise = MemberUpdate { role: Some(OrgRole::Admin), ..MemberUpdate::default() };
        assert!(matches!(authority(&admin).update_member(&member, &raise, &[]), Err(OrgError::BeyondOwnTerm)));
        let lower = MemberUpdate { role: Some(OrgRole::Guest), ..MemberUpdate::default() };
        assert!(authority(&admin).update_member(&member, &lower, &[]).is_ok(), "lowering grants nothing");
    }

    #[test]
    fn the_sweeper_ends_a_lapse_at_its_expiry_and_nothing_else() {
        let org = OrganizationId::new();
        let mut m = holding(org, 2, OrgRole::Admin, vec![]);
        assert!(m.expire(NOW).is_none());
        m.expires_at = Some(NOW - Duration::hours(2));
        let plan = m.expire(NOW).unwrap();
        assert_eq!(plan.membership().ended_at, Some(NOW - Duration::hours(2)));
        assert!(plan.guards.is_empty());
    }

    #[test]
    fn a_superuser_appoints_a_permanent_admin_once() {
        let org = OrganizationId::new();
        let mut member = holding(org, 2, OrgRole::Member, vec![]);
        member.expires_at = Some(NOW + Duration::days(1));
        let (lapsed, plan) = appoint_admin(UserId::new(9), org, member.user_id, Some(&member), NOW).unwrap();
        assert!(lapsed.is_none());
        assert_eq!((plan.membership().role, plan.membership().expires_at), (OrgRole::Admin, None));
        assert_eq!((plan.history.cause, plan.history.changed_by), (HistoryCause::Appointed, Some(UserId::new(9))));
        let admin = holding(org, 3, OrgRole::Admin, vec![]);
        assert!(appoint_admin(UserId::new(9), org, admin.user_id, Some(&admin), NOW).is_none());
    }
}
