//! The events of organizations, memberships and invitations: each change the
//! model decides names its event here, with the resource as it stands after
//! the change. The adapter writes them in the change's transaction
//! (docs/events.md lists every type with an example). Ids are strings, as
//! the API writes them (user ids included).

use super::{
    AcceptPlan, Acceptance, Effect, Expiry, Founding, HistoryCause, Invitation, InvitationDraft, InvitationEvent,
    InvitationUpdate, Membership, MembershipPlan, MembershipStatus, MembershipWrite, Organization, Outcome, Unblock,
    Zone,
};
use serde_json::{Value, json};
use shared_kernel::{Event, Subject, UserId};

/// `organization.created`
pub const ORGANIZATION_CREATED: &str = "organization.created";
/// `organization.updated`: its name or logo changed (`data.changed` says which).
pub const ORGANIZATION_UPDATED: &str = "organization.updated";
/// `zone.created`
pub const ZONE_CREATED: &str = "zone.created";
/// `membership.created`: someone joined (founding, an invitation, an import, an appointment).
pub const MEMBERSHIP_CREATED: &str = "membership.created";
/// `membership.role_changed`: an admin changed the role, or a superuser appointed an admin.
pub const MEMBERSHIP_ROLE_CHANGED: &str = "membership.role_changed";
/// `membership.zones_changed`
pub const MEMBERSHIP_ZONES_CHANGED: &str = "membership.zones_changed";
/// `membership.expiry_changed`: the end date was set, moved or cleared.
pub const MEMBERSHIP_EXPIRY_CHANGED: &str = "membership.expiry_changed";
/// `membership.upgraded`: an accepted invitation raised the role, widened the zones or lengthened the term.
pub const MEMBERSHIP_UPGRADED: &str = "membership.upgraded";
/// `membership.ended`, with `reason` `removed`, `left` or `expired`.
pub const MEMBERSHIP_ENDED: &str = "membership.ended";
/// `membership.unblocked`: an admin lifted the block a removal put on someone.
pub const MEMBERSHIP_UNBLOCKED: &str = "membership.unblocked";
/// `invitation.created`
pub const INVITATION_CREATED: &str = "invitation.created";
/// `invitation.accepted`
pub const INVITATION_ACCEPTED: &str = "invitation.accepted";
/// `invitation.acceptance_failed`, with the refusal's `reason`.
pub const INVITATION_ACCEPTANCE_FAILED: &str = "invitation.acceptance_failed";
/// `invitation.rejected`: the invitee declined.
pub const INVITATION_REJECTED: &str = "invitation.rejected";
/// `invitation.revoked`
pub const INVITATION_REVOKED: &str = "invitation.revoked";
/// `invitation.resent`: a new token and expiry.
pub const INVITATION_RESENT: &str = "invitation.resent";
/// `invitation.expired`: its expiry passed while it was pending.
pub const INVITATION_EXPIRED: &str = "invitation.expired";

/// Every event type this context emits, in the order docs/events.md lists them.
pub const EVENT_TYPES: &[&str] = &[
    ORGANIZATION_CREATED,
    ORGANIZATION_UPDATED,
    ZONE_CREATED,
    MEMBERSHIP_CREATED,
    MEMBERSHIP_ROLE_CHANGED,
    MEMBERSHIP_ZONES_CHANGED,
    MEMBERSHIP_EXPIRY_CHANGED,
    MEMBERSHIP_UPGRADED,
    MEMBERSHIP_ENDED,
    MEMBERSHIP_UNBLOCKED,
    INVITATION_CREATED,
    INVITATION_ACCEPTED,
    INVITATION_ACCEPTANCE_FAILED,
    INVITATION_REJECTED,
    INVITATION_REVOKED,
    INVITATION_RESENT,
    INVITATION_EXPIRED,
];

/// An organization as its events show it.
pub fn organization_data(o: &Organization) -> Value {
    json!({
        "id": o.id.to_string(),
        "name": o.name,
        "slug": o.slug,
        "logoUrl": o.logo_url,
        "createdBy": o.created_by.to_string(),
        "createdAt": rfc3339(o.created_at),
    })
}

/// A membership as its events show it.
pub fn membership_data(m: &Membership) -> Value {
    json!({
        "id": m.id.to_string(),
        "organizationId": m.organization_id.to_string(),
        "userId": m.user_id.to_string(),
        "role": m.role.as_str(),
        "zoneIds": m.zones.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "status": m.status.as_str(),
        "expiresAt": m.expires_at.map(rfc3339),
        "invitationId": m.invitation_id.map(|i| i.to_string()),
        "joinedAt": rfc3339(m.joined_at),
        "endedAt": m.ended_at.map(rfc3339),
        "endReason": m.end_reason.map(|r| r.as_str()),
        "version": m.version,
    })
}

/// An invitation as its events show it (never its token or the token's hash).
pub fn invitation_data(i: &Invitation) -> Value {
    json!({
        "id": i.id.to_string(),
        "organizationId": i.organization_id.to_string(),
        "zoneId": i.zone_id.map(|z| z.to_string()),
        "role": i.role.as_str(),
        "email": i.email.as_ref().map(|e| e.as_str()),
        "userId": i.user_id.map(|u| u.to_string()),
        "kind": i.kind.as_str(),
        "origin": i.origin.as_str(),
        "maxUses": i.max_uses,
        "useCount": i.use_count,
        "expiresAt": rfc3339(i.expires_at),
        "membershipDurationSeconds": i.membership_duration.map(|d| d.whole_seconds()),
        "status": i.status.as_str(),
        "createdBy": i.created_by.to_string(),
        "createdAt": rfc3339(i.created_at),
    })
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

impl Founding {
    /// `organization.created` (the founder's membership has its own event, from its plan).
    pub fn event(&self) -> Event {
        let o = &self.organization;
        Event::new(
            ORGANIZATION_CREATED,
            o.created_at,
            Some(o.created_by),
            Some(o.id.as_uuid()),
            Subject::new("organization", o.id),
            json!({ "organization": organization_data(o) }),
        )
    }
}

/// What of an organization an update changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrganizationChange {
    /// Renamed.
    Name,
    /// A logo set, replaced or removed.
    Logo,
}

/// `organization.updated`: `o` as it stands after `by` changed `what`.
pub fn organization_updated(o: &Organization, what: OrganizationChange, by: UserId) -> Event {
    let changed = match what {
        OrganizationChange::Name => "name",
        OrganizationChange::Logo => "logo",
    };
    Event::new(
        ORGANIZATION_UPDATED,
        o.updated_at,
        Some(by),
        Some(o.id.as_uuid()),
        Subject::new("organization", o.id),
        json!({ "organization": organization_data(o), "changed": [changed] }),
    )
}

impl Zone {
    /// `zone.created`, by `by`.
    pub fn created_event(&self, by: UserId) -> Event {
        Event::new(
            ZONE_CREATED,
            self.created_at,
            Some(by),
            Some(self.organization_id.as_uuid()),
            Subject::new("zone", self.id),
            json!({ "zone": {
                "id": self.id.to_string(),
                "organizationId": self.organization_id.to_string(),
                "name": self.name,
                "createdAt": rfc3339(self.created_at),
            } }),
        )
    }
}

impl MembershipPlan {
    /// The event of this change: its type follows from the write and its history cause.
    pub fn event(&self) -> Event {
        let m = self.membership();
        let kind = match (&self.write, self.history.cause) {
            (MembershipWrite::Insert(_), _) => MEMBERSHIP_CREATED,
            (MembershipWrite::Update(m), _) if m.status == MembershipStatus::Inactive => MEMBERSHIP_ENDED,
            (_, HistoryCause::RoleChange | HistoryCause::Appointed) => MEMBERSHIP_ROLE_CHANGED,
            (_, HistoryCause::ZoneChange) => MEMBERSHIP_ZONES_CHANGED,
            (_, HistoryCause::ExpiryChange) => MEMBERSHIP_EXPIRY_CHANGED,
            _ => MEMBERSHIP_UPGRADED,
        };
        let mut data = json!({ "membership": membership_data(m), "cause": self.history.cause.as_str() });
        if kind == MEMBERSHIP_ENDED {
            data["reason"] = json!(m.end_reason.map(|r| r.as_str()));
            data["blocked"] = json!(self.effects.iter().any(|e| matches!(e, Effect::Block { .. })));
        }
        Event::new(
            kind,
            self.history.at,
            self.history.changed_by,
            Some(m.organization_id.as_uuid()),
            Subject::new("membership", m.id),
            data,
        )
    }
}

/// The event of a change to `invitation`, made by `actor`.
fn invitation_event(kind: &str, invitation: &Invitation, actor: Option<UserId>, at: time::OffsetDateTime) -> Event {
    Event::new(
        kind,
        at,
        actor,
        Some(invitation.organization_id.as_uuid()),
        Subject::new("invitation", invitation.id),
        json!({ "invitation": invitation_data(invitation) }),
    )
}

impl InvitationDraft {
    /// `invitation.created`.
    pub fn event(&self) -> Event {
        self.invitation.created_event()
    }
}

impl Invitation {
    /// `invitation.created` (by a member, or by an import in the organization's name).
    pub fn created_event(&self) -> Event {
        invitation_event(INVITATION_CREATED, self, Some(self.created_by), self.created_at)
    }
}

impl Expiry {
    /// `invitation.expired`, at the instant it expired, by nobody; the
    /// invitation's `status` as the API reads it now, `expired`.
    pub fn event(&self) -> Event {
        let mut event = invitation_event(INVITATION_EXPIRED, &self.invitation, None, self.invitation.expires_at);
        event.data["invitation"]["status"] = json!(super::InvitationState::Expired.as_str());
        event
    }
}

impl Unblock {
    /// `membership.unblocked`, about the user (a block outlives the membership it ended).
    pub fn event(&self) -> Event {
        Event::new(
            MEMBERSHIP_UNBLOCKED,
            self.at,
            Some(self.by),
            Some(self.organization_id.as_uuid()),
            Subject::new("user", self.user_id),
            json!({ "userId": self.user_id.to_string() }),
        )
    }
}

/// `invitation.revoked` of an invitation its creator may no longer grant,
/// with the `reason`.
pub(crate) fn revoked_with_its_creator(invitation: &Invitation, by: Option<UserId>, reason: &str) -> Event {
    let mut event = invitation_event(INVITATION_REVOKED, invitation, by, invitation.updated_at);
    event.data["reason"] = json!(reason);
    event
}

impl InvitationUpdate {
    /// `invitation.rejected`, `invitation.revoked` or `invitation.resent`.
    pub fn domain_event(&self) -> Event {
        let next = &self.next;
        let (kind, actor) = match self.event {
            InvitationEvent::Created => (INVITATION_CREATED, Some(next.created_by)),
            InvitationEvent::Accepted { user } => (INVITATION_ACCEPTED, Some(user)),
            InvitationEvent::Rejected { user } => (INVITATION_REJECTED, Some(user)),
            InvitationEvent::Revoked { by } => (INVITATION_REVOKED, by),
            InvitationEvent::Resent { by } => (INVITATION_RESENT, Some(by)),
        };
        invitation_event(kind, next, actor, next.updated_at)
    }
}

impl AcceptPlan {
    /// The events of this acceptance, in order: the caller's lapsed
    /// membership ended, the membership made or raised, then
    /// `invitation.accepted` (the invitation after the use is taken).
    pub fn events(&self) -> Vec<Event> {
        let mut accepted = invitation_event(INVITATION_ACCEPTED, &self.invitation, self.log.user_id, self.log.at);
        accepted.data["membershipId"] = json!(self.membership.membership().id.to_string());
        self.end_lapsed.iter().chain([&self.membership]).map(MembershipPlan::event).chain([accepted]).collect()
    }
}

impl Acceptance {
    /// The event this log row adds to its change: `invitation.acceptance_failed`
    /// for a refused attempt; none otherwise (an accept or a decline is the
    /// invitation's own event).
    pub fn event(&self, invitation: &Invitation) -> Option<Event> {
        (self.outcome == Outcome::Failed).then(|| self.failure_event(invitation))
    }

    /// `invitation.acceptance_failed`, with the refusal's reason.
    pub(crate) fn failure_event(&self, invitation: &Invitation) -> Event {
        let mut event = invitation_event(INVITATION_ACCEPTANCE_FAILED, invitation, self.user_id, self.at);
        event.data["reason"] = json!(self.reason);
        event
    }
}
