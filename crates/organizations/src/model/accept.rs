//! Accepting an invitation: who accepts, the ordered refusals, and the plan
//! of an acceptance that is not refused.
//!
//! The checks run in this order: revoked or rejected, expired, used up; the
//! grantor's standing (a link never grants more than its creator may at
//! that instant: an ended, lapsed, demoted or re-scoped creator's link is
//! revoked); wrong person; e-mail mismatch or unverified; blocked; the
//! creator accepting their own link; external and already a member; already
//! holding this access. What it grants is bounded by the creator's own term:
//! a time-bound creator's link grants access ending no later than theirs.

use super::{
    Acceptance, Authority, ClientInfo, Effect, Guard, HistoryCause, HistoryNote, Invitation, InvitationKind,
    InvitationOrigin, InvitationStatus, InvitationUpdate, Membership, MembershipPlan, MembershipWrite, Outcome,
    Revocation,
};
use shared_kernel::{EmailAddress, UserId};
use time::OffsetDateTime;

/// Who is accepting: the signed-in user's id and e-mail as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitee {
    /// The caller.
    pub user_id: UserId,
    /// Their e-mail.
    pub email: EmailAddress,
    /// Whether the identity provider verified it.
    pub email_verified: bool,
}

/// Who stands behind the grant of the invitation being accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grantor {
    /// A member's invitation: the creator's stored-active membership of the
    /// organization as read now (`None` when they have none).
    Member(Option<Membership>),
    /// An imported invitation: the organization itself.
    Organization,
}

/// What an acceptance is decided on besides the invitation and the invitee,
/// read together: the grantor's and the invitee's stored-active memberships
/// of the organization and whether the invitee is blocked from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// The invitation creator's stored-active membership (`None` when the
    /// invitation has no member behind it, or they hold none).
    pub grantor: Option<Membership>,
    /// The invitee's stored-active membership.
    pub existing: Option<Membership>,
    /// Whether the invitee is blocked from the organization.
    pub blocked: bool,
}

impl Grantor {
    /// Who stands behind `invitation`'s grant, `creator` being its creator's
    /// stored-active membership as read ([`Invitation::grantor_id`]).
    pub fn of(invitation: &Invitation, creator: Option<Membership>) -> Self {
        match invitation.origin {
            InvitationOrigin::Member => Grantor::Member(creator),
            InvitationOrigin::Import => Grantor::Organization,
        }
    }
}

/// How an acceptance is recorded in the membership's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcceptVia {
    /// Someone accepted a link or their invitation (cause `invitation`, joined now).
    Invitation,
    /// An imported legacy membership applied (cause `import`, joined when the legacy system says).
    Import {
        /// When they joined in the legacy system.
        joined_at: OffsetDateTime,
    },
}

/// Everything an acceptance is decided from, read just before.
#[derive(Clone, Debug)]
pub struct AcceptContext<'a> {
    /// Who accepts.
    pub invitee: &'a Invitee,
    /// The invitee's stored-active membership of the organization (possibly lapsed).
    pub existing: Option<&'a Membership>,
    /// Who stands behind the grant.
    pub grantor: &'a Grantor,
    /// Whether the invitee is blocked from the organization.
    pub blocked: bool,
    /// Where the request came from.
    pub client: &'a ClientInfo,
    /// How it is recorded.
    pub via: AcceptVia,
    /// The instant.
    pub now: OffsetDateTime,
}

/// Why an invitation cannot be accepted, in the order the checks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Withdrawn by the organization, or its creator may no longer grant it.
    #[error("the invitation was revoked")]
    Revoked,
    /// Declined by its invitee.
    #[error("the invitation was rejected")]
    Rejected,
    /// Past its expiry.
    #[error("the invitation has expired")]
    Expired,
    /// Every use was taken.
    #[error("the invitation has been used up")]
    UsedUp,
    /// Bound to another user.
    #[error("the invitation is for another person")]
    WrongPerson,
    /// Bound to another e-mail.
    #[error("the invitation is for another e-mail address")]
    EmailMismatch,
    /// Bound to the caller's e-mail, which is not verified.
    #[error("verify your e-mail address to accept this invitation")]
    EmailUnverified,
    /// The caller was removed from the organization and blocked.
    #[error("you were removed from this organization and may not rejoin until an admin unblocks you")]
    Blocked,
    /// External, and the caller already belongs to the organization.
    #[error("external invitations are for people outside the organization")]
    ExternalMember,
    /// The caller already has this access or more (or made the link).
    #[error("you are already a member with this access")]
    AlreadyMember,
    /// Accepting would grant more than the invitation does: the caller's
    /// higher role in a zone the invitation grants a lower role in, or a
    /// raised role beyond the end a time-bound creator may grant.
    #[error(
        "accepting would grant you more than this invitation does (your higher role in its zone, or a raised role beyond its creator's term); ask an admin"
    )]
    WouldWiden,
}

impl Refusal {
    /// The reason stored in the acceptance log.
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::UsedUp => "used_up",
            Self::WrongPerson => "wrong_person",
            Self::EmailMismatch => "email_mismatch",
            Self::EmailUnverified => "email_unverified",
            Self::Blocked => "blocked",
            Self::ExternalMember => "external_member",
            Self::AlreadyMember => "already_member",
            Self::WouldWiden => "would_widen",
        }
    }
}

/// A refused acceptance: the refusal, its log row, and the clean-up the
/// refusal calls for (the creator's lapsed membership ended, or this link
/// revoked), which the service carries out before logging.
#[derive(Clone, Debug)]
pub struct Refused {
    /// Why.
    pub refusal: Refusal,
    /// The failed attempt's log row.
    pub log: Acceptance,
    /// What to put right first.
    pub cleanup: Option<Cleanup>,
    /// `invitation.acceptance_failed`, written with the log row.
    pub event: shared_kernel::Event,
}

/// What a refusal puts right.
#[derive(Clone, Debug)]
pub enum Cleanup {
    /// The creator's membership ran out: end it as the sweeper would (which
    /// revokes every pending invitation they made).
    EndCreator(MembershipPlan),
    /// The creator may no longer grant this invitation: revoke it.
    Revoke(InvitationUpdate),
}

/// An acceptance to carry out in one transaction.
#[derive(Clone, Debug)]
pub struct AcceptPlan {
    /// The invitation after one use is taken ([`Invitation::take_use`]).
    pub invitation: Invitation,
    /// The invitation as read: the use is taken only while it is still
    /// pending, unexpired, not used up and carries this token.
    pub read: Invitation,
    /// The caller's lapsed membership, ended first (history cause `expired`).
    pub end_lapsed: Option<MembershipPlan>,
    /// The membership created or upgraded.
    pub membership: MembershipPlan,
    /// The log row.
    pub log: Acceptance,
}

impl Invitation {
    /// Why it cannot be used by anyone at `now` (the first checks of
    /// accept), as preview reports it: `revoked`, `rejected`, `expired`,
    /// `accepted` (a single-use invitation taken) or `used_up`.
    pub fn unusable_reason(&self, now: OffsetDateTime) -> Option<&'static str> {
        match self.usable(now) {
            Ok(()) => None,
            Err(Refusal::UsedUp) if self.max_uses == 1 => Some("accepted"),
            Err(r) => Some(r.reason()),
        }
    }

    fn usable(&self, now: OffsetDateTime) -> Result<(), Refusal> {
        match self.status {
            InvitationStatus::Revoked => return Err(Refusal::Revoked),
            InvitationStatus::Rejected => return Err(Refusal::Rejected),
            _ => {}
        }
        if self.expires_at <= now {
            return Err(Refusal::Expired);
        }
        if self.status == InvitationStatus::Accepted || self.use_count >= self.max_uses {
            return Err(Refusal::UsedUp);
        }
        Ok(())
    }

    /// Decides an acceptance (see the module documentation for the order).
    pub fn accept(&self, ctx: &AcceptContext<'_>) -> Result<AcceptPlan, Box<Refused>> {
        let now = ctx.now;
        let refuse = |refusal: Refusal, cleanup: Option<Cleanup>| {
            let log = Acceptance::new(
                self.id,
                Some(ctx.invitee.user_id),
                Outcome::Failed,
                Some(refusal.reason()),
                ctx.client,
                now,
            );
            let event = log.failure_event(self);
            Box::new(Refused { refusal, log, cleanup, event })
        };
        self.usable(now).map_err(|r| refuse(r, None))?;
        let authority = match (ctx.grantor, self.origin) {
            (Grantor::Member(creator), InvitationOrigin::Member) => match Authority::at(creator.clone(), now) {
                Ok(a) if a.check_grant(self.role, self.zone_id).is_ok() => Some(a),
                Ok(_) => return Err(refuse(Refusal::Revoked, Some(Cleanup::Revoke(self.revoke_for_grantor(now))))),
                Err(_) => {
                    let cleanup = match creator {
                        Some(m) if m.lapsed(now) => m.expire(now).map(Cleanup::EndCreator),
                        _ => Some(Cleanup::Revoke(self.revoke_for_grantor(now))),
                    };
                    return Err(refuse(Refusal::Revoked, cleanup));
                }
            },
            (Grantor::Organization, InvitationOrigin::Import) => None,
            // A grantor that does not match the invitation's origin is a
            // caller's mistake; refusing is the safe reading.
            _ => return Err(refuse(Refusal::Revoked, None)),
        };
        let invitee = ctx.invitee;
        if self.user_id.is_some_and(|u| u != invitee.user_id) {
            return Err(refuse(Refusal::WrongPerson, None));
        }
        if let Some(email) = &self.email
            && self.user_id.is_none()
        {
            if *email != invitee.email {
                return Err(refuse(Refusal::EmailMismatch, None));
            }
            if !invitee.email_verified {
                return Err(refuse(Refusal::EmailUnverified, None));
            }
        }
        if ctx.blocked {
            return Err(refuse(Refusal::Blocked, None));
        }
        if authority.as_ref().is_some_and(|a| a.membership().user_id == invitee.user_id) {
            return Err(refuse(Refusal::AlreadyMember, None));
        }
        let current = ctx.existing.filter(|m| m.grants(now).is_some());
        if self.kind == InvitationKind::External && current.is_some() {
            return Err(refuse(Refusal::ExternalMember, None));
        }
        let offered_end = self.membership_duration.map(|d| now + d);
        let end = authority.as_ref().map_or(offered_end, |a| a.bound_end(offered_end));
        // An import is made in the organization's name: its invitation's creator.
        let (cause, joined_at, changed_by) = match ctx.via {
            AcceptVia::Invitation => (HistoryCause::Invitation, now, invitee.user_id),
            AcceptVia::Import { joined_at } => (HistoryCause::Import, joined_at, self.created_by),
        };
        let write = match current {
            None => MembershipWrite::Insert(Membership::start(
                self.organization_id,
                invitee.user_id,
                self.role,
                self.zone_id.into_iter().collect(),
                end,
                Some(self.id),
                joined_at,
            )),
            Some(current) => MembershipWrite::Update(self.upgrade(current, end).map_err(|r| refuse(r, None))?),
        };
        let mut guards = vec![Guard::NotBlocked { organization_id: self.organization_id, user_id: invitee.user_id }];
        if let Some(a) = &authority {
            guards.push(Guard::Unchanged { membership_id: a.membership().id, version: a.membership().version });
        }
        // A new membership's first version starts when it was joined (the
        // legacy date of an import); an upgrade's now.
        let at = if matches!(write, MembershipWrite::Insert(_)) { joined_at } else { now };
        let membership = MembershipPlan {
            write,
            history: HistoryNote { cause, changed_by: Some(changed_by), invitation_id: Some(self.id), at },
            guards,
            effects: vec![],
        };
        Ok(AcceptPlan {
            invitation: self.take_use(invitee.user_id, now),
            read: self.clone(),
            end_lapsed: ctx.existing.filter(|m| m.lapsed(now)).and_then(|m| m.expire(now)),
            membership,
            log: Acceptance::new(self.id, Some(invitee.user_id), Outcome::Accepted, None, ctx.client, now),
        })
    }

    /// The next version of `current` after accepting: the higher role, the
    /// invitation's zone added (an organization-wide membership stays so),
    /// the later end (a permanent membership never gets one). A membership
    /// has one end, so a raise by a grant that ends (`end`) is refused
    /// unless the membership already ends no later than that: otherwise
    /// the raised role would outlast what its creator may grant.
    fn upgrade(&self, current: &Membership, end: Option<OffsetDateTime>) -> Result<Membership, Refusal> {
        let zones = match self.zone_id {
            None => Vec::new(),
            Some(_) if current.zones.is_empty() => Vec::new(),
            Some(z) if current.zones.contains(&z) => current.zones.clone(),
            Some(z) => {
                let mut zones: Vec<_> = current.zones.iter().copied().chain([z]).collect();
                zones.sort();
                zones
            }
        };
        let widened = zones.len() > current.zones.len() || (zones.is_empty() && !current.zones.is_empty());
        if widened && current.role > self.role {
            return Err(Refusal::WouldWiden);
        }
        let raised = self.role > current.role || widened;
        if raised && end.is_some_and(|e| current.expires_at.is_none_or(|old| old > e)) {
            return Err(Refusal::WouldWiden);
        }
        let expires_at = match (current.expires_at, end) {
            (None, _) => None,
            (Some(_), None) => None,
            (Some(old), Some(new)) => Some(old.max(new)),
        };
        let role = current.role.max(self.role);
        if role == current.role && zones == current.zones && expires_at == current.expires_at {
            return Err(Refusal::AlreadyMember);
        }
        Ok(Membership { role, zones, expires_at, ..current.next() })
    }

    /// Revoked because its creator may no longer grant it.
    fn revoke_for_grantor(&self, now: OffsetDateTime) -> InvitationUpdate {
        let t = self.revoked(now, None);
        InvitationUpdate {
            next: t.record,
            expected_token: None,
            guards: vec![],
            event: super::InvitationEvent::Revoked { by: None },
        }
    }
}

impl MembershipPlan {
    /// The effects of ending `m`: the pending invitations its member made
    /// there are revoked, and it stops being their current organization.
    pub(crate) fn ending_effects(m: &Membership, at: OffsetDateTime, by: Option<UserId>) -> Vec<Effect> {
        vec![
            Effect::RevokeInvitations(Revocation {
                organization_id: m.organization_id,
                created_by: m.user_id,
                keep: None,
                by,
                at,
            }),
            Effect::ClearCurrent { user_id: m.user_id, organization_id: m.organization_id },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{InvitationId, InvitationToken, OrganizationId, ZoneId};
    use shared_kernel::OrgRole;
    use time::Duration;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    fn invitee(id: i64, mail: &str, verified: bool) -> Invitee {
        Invitee { user_id: UserId::new(id), email: EmailAddress::parse(mail).unwrap(), email_verified: verified }
    }

    fn creator(org: OrganizationId, role: OrgRole, expires_at: Option<OffsetDateTime>) -> Membership {
        Membership::start(org, UserId::new(1), role, vec![], expires_at, None, NOW - Duration::days(10))
    }

    fn invitation() -> Invitation {
        Invitation {
            id: InvitationId::new(),
            organization_id: OrganizationId::new(),
            zone_id: None,
            role: OrgRole::Member,
            email: None,
            user_id: None,
            kind: InvitationKind::Internal,
            origin: InvitationOrigin::Member,
            max_uses: 1,
            use_count: 0,
            expires_at: NOW + Duration::days(7),
            valid_for: Duration::days(7),
            membership_duration: None,
            status: InvitationStatus::Pending,
            token_hash: InvitationToken::from_bytes(&[7; 32]).hash(),
            created_by: UserId::new(1),
            created_at: NOW,
            updated_at: NOW,
            version: 1,
        }
    }

    fn member(inv: &Invitation, role: OrgRole) -> Membership {
        Membership::start(inv.organization_id, UserId::new(2), role, vec![], None, None, NOW - Duration::days(1))
    }

    struct Case {
        invitee: Invitee,
        existing: Option<Membership>,
        grantor: Grantor,
        blocked: bool,
    }

    impl Case {
        fn new(inv: &Invitation) -> Self {
            Self {
                invitee: invitee(2, "b@x.io", true),
                existing: None,
                grantor: Grantor::Member(Some(creator(inv.organization_id, OrgRole::Admin, None))),
                blocked: false,
            }
        }

        fn run(&self, inv: &Invitation) -> Result<AcceptPlan, Box<Refused>> {
            let client = ClientInfo::default();
            inv.accept(&AcceptContext {
                invitee: &self.invitee,
                existing: self.existing.as_ref(),
                grantor: &self.grantor,
                blocked: self.blocked,
                client: &client,
                via: AcceptVia::Invitation,
                now: NOW,
            })
        }

        fn refusal(&self, inv: &Invitation) -> Refusal {
            self.run(inv).expect_err("expected a refusal").refusal
        }
    }

    #[test]
    fn accepting_checks_run_in_the_specified_order() {
        let mut inv = invitation();
        let mut case = Case::new(&inv);
        inv.status = InvitationStatus::Revoked;
        inv.expires_at = NOW;
        assert_eq!(case.refusal(&inv), Refusal::Revoked);
        inv.status = InvitationStatus::Rejected;
        assert_eq!(case.refusal(&inv), Refusal::Rejected);
        inv.status = InvitationStatus::Accepted;
        assert_eq!(case.refusal(&inv), Refusal::Expired);
        inv.expires_at = NOW + Duration::hours(1);
        assert_eq!(case.refusal(&inv), Refusal::UsedUp);
        assert_eq!(inv.unusable_reason(NOW), Some("accepted"));
        inv.status = InvitationStatus::Pending;
        inv.use_count = 1;
        inv.user_id = Some(UserId::new(99));
        assert_eq!(case.refusal(&inv), Refusal::UsedUp, "used up beats the wrong person");
        inv.max_uses = 2;
        assert_eq!(case.refusal(&inv), Refusal::WrongPerson);
        inv.user_id = None;
        inv.email = Some(EmailAddress::parse("c@x.io").unwrap());
        assert_eq!(case.refusal(&inv), Refusal::EmailMismatch);
        inv.email = Some(EmailAddress::parse("b@x.io").unwrap());
        case.invitee.email_verified = false;
        assert_eq!(case.refusal(&inv), Refusal::EmailUnverified);
        case.invitee.email_verified = true;
        case.blocked = true;
        assert_eq!(case.refusal(&inv), Refusal::Blocked);
        case.blocked = false;
        inv.kind = InvitationKind::External;
        case.existing = Some(member(&inv, OrgRole::Guest));
        assert_eq!(case.refusal(&inv), Refusal::ExternalMember);
        inv.kind = InvitationKind::Internal;
        case.existing = Some(member(&inv, OrgRole::Member));
        assert_eq!(case.refusal(&inv), Refusal::AlreadyMember);
    }

    #[test]
    fn accepting_creates_upgrades_or_adds_the_zone() {
        let mut inv = invitation();
        inv.membership_duration = Some(Duration::hours(2));
        let mut case = Case::new(&inv);
        let plan = case.run(&inv).unwrap();
        let MembershipWrite::Insert(created) = &plan.membership.write else { panic!("expected a new membership") };
        assert_eq!((created.role, created.expires_at), (OrgRole::Member, Some(NOW + Duration::hours(2))));
        assert_eq!(created.invitation_id, Some(inv.id));
        assert_eq!(plan.membership.history.changed_by, Some(UserId::new(2)));
        assert_eq!(plan.membership.history.invitation_id, Some(inv.id));
        assert_eq!((plan.invitation.use_count, plan.invitation.status), (1, InvitationStatus::Accepted));

        inv.membership_duration = None;
        inv.role = OrgRole::Moderator;
        let guest = member(&inv, OrgRole::Guest);
        case.existing = Some(guest.clone());
        let plan = case.run(&inv).unwrap();
        assert_eq!(plan.membership.membership().role, OrgRole::Moderator);
        assert_eq!(plan.membership.membership().version, guest.version + 1);

        let (zone_a, zone_b) = (ZoneId::new(), ZoneId::new());
        let mut in_a = member(&inv, OrgRole::Member);
        in_a.zones = vec![zone_a];
        case.existing = Some(in_a);
        inv.role = OrgRole::Member;
        inv.zone_id = Some(zone_b);
        let mut both = vec![zone_a, zone_b];
        both.sort();
        assert_eq!(case.run(&inv).unwrap().membership.membership().zones, both);
    }

    #[test]
    fn a_higher_role_is_not_widened_to_a_zone_the_invitation_grants_lower() {
        let mut inv = invitation();
        let mut moderator_north = member(&inv, OrgRole::Moderator);
        moderator_north.zones = vec![ZoneId::new()];
        inv.zone_id = Some(ZoneId::new());
        let mut case = Case::new(&inv);
        case.existing = Some(moderator_north);
        assert_eq!(case.refusal(&inv), Refusal::WouldWiden);
    }

    #[test]
    fn a_time_bound_creators_link_grants_no_longer_than_their_own_term() {
        let mut inv = invitation();
        let until = NOW + Duration::days(3);
        let mut case = Case::new(&inv);
        case.grantor = Grantor::Member(Some(creator(inv.organization_id, OrgRole::Moderator, Some(until))));
        assert_eq!(
            case.run(&inv).unwrap().membership.membership().expires_at,
            Some(until),
            "an open-ended link is cut"
        );
        inv.membership_duration = Some(Duration::days(1));
        assert_eq!(case.run(&inv).unwrap().membership.membership().expires_at, Some(NOW + Duration::days(1)));
    }

    #[test]
    fn a_time_bound_member_cannot_make_themselves_permanent_with_their_own_link() {
        let inv = invitation();
        let mut case = Case::new(&inv);
        let mut own = creator(inv.organization_id, OrgRole::Moderator, Some(NOW + Duration::days(1)));
        own.user_id = UserId::new(2);
        case.grantor = Grantor::Member(Some(own.clone()));
        case.existing = Some(own);
        assert_eq!(case.refusal(&inv), Refusal::AlreadyMember);
    }

    #[test]
    fn a_time_bound_creators_link_raises_no_one_beyond_its_term() {
        let mut inv = invitation();
        inv.role = OrgRole::Member;
        let mut case = Case::new(&inv);
        let until = NOW + Duration::days(1);
        case.grantor = Grantor::Member(Some(creator(inv.organization_id, OrgRole::Moderator, Some(until))));
        case.existing = Some(member(&inv, OrgRole::Guest));
        assert_eq!(case.refusal(&inv), Refusal::WouldWiden, "a permanent guest is not made a member forever");
        let mut short = member(&inv, OrgRole::Guest);
        short.expires_at = Some(NOW + Duration::hours(1));
        case.existing = Some(short);
        let raised = case.run(&inv).unwrap();
        assert_eq!(
            (raised.membership.membership().role, raised.membership.membership().expires_at),
            (OrgRole::Member, Some(until))
        );
    }

    #[test]
    fn a_permanent_creators_link_may_extend_a_time_bound_member() {
        let inv = invitation();
        let mut case = Case::new(&inv);
        let mut guest = member(&inv, OrgRole::Member);
        guest.expires_at = Some(NOW + Duration::days(1));
        case.existing = Some(guest);
        assert_eq!(case.run(&inv).unwrap().membership.membership().expires_at, None);
    }

    #[test]
    fn a_link_whose_creator_lapsed_is_refused_and_ends_their_membership() {
        let inv = invitation();
        let mut case = Case::new(&inv);
        case.grantor = Grantor::Member(Some(creator(inv.organization_id, OrgRole::Admin, Some(NOW))));
        let refused = case.run(&inv).unwrap_err();
        assert_eq!(refused.refusal, Refusal::Revoked);
        assert!(matches!(refused.cleanup, Some(Cleanup::EndCreator(_))));
        case.grantor = Grantor::Member(Some(creator(inv.organization_id, OrgRole::Member, None)));
        let refused = case.run(&inv).unwrap_err();
        assert!(matches!(refused.cleanup, Some(Cleanup::Revoke(_))), "a demoted creator's link is revoked");
    }

    #[test]
    fn a_lapsed_member_rejoins_at_once_and_their_old_membership_ends_first() {
        let inv = invitation();
        let mut case = Case::new(&inv);
        let mut lapsed = member(&inv, OrgRole::Member);
        lapsed.expires_at = Some(NOW - Duration::minutes(1));
        case.existing = Some(lapsed.clone());
        let plan = case.run(&inv).unwrap();
        let ended = plan.end_lapsed.expect("the lapsed membership is ended first");
        assert_eq!((ended.membership().id, ended.history.cause), (lapsed.id, HistoryCause::Expired));
        assert!(matches!(plan.membership.write, MembershipWrite::Insert(_)));
    }

    #[test]
    fn an_accept_re_checks_the_creators_membership_and_the_block_at_commit() {
        let inv = invitation();
        let case = Case::new(&inv);
        let plan = case.run(&inv).unwrap();
        let Grantor::Member(Some(creator)) = &case.grantor else { unreachable!() };
        assert!(
            plan.membership.guards.contains(&Guard::Unchanged { membership_id: creator.id, version: creator.version })
        );
        assert!(
            plan.membership
                .guards
                .contains(&Guard::NotBlocked { organization_id: inv.organization_id, user_id: UserId::new(2) })
        );
    }
}
