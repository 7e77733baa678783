//! Records, state enums, value types and the pure rules of organizations,
//! invitations and memberships.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use shared_kernel::{EmailAddress, OrgRole, UserId};
use std::fmt;
use time::{Duration, OffsetDateTime};

shared_kernel::uuid_id!(
    /// An organization's id.
    OrganizationId
);
shared_kernel::uuid_id!(
    /// A zone's id.
    ZoneId
);
shared_kernel::uuid_id!(
    /// A membership's id.
    MembershipId
);
shared_kernel::uuid_id!(
    /// An invitation's id.
    InvitationId
);
shared_kernel::uuid_id!(
    /// An acceptance log row's id.
    AcceptanceId
);
shared_kernel::uuid_id!(
    /// An outbox row's id.
    OutboxId
);

/// Why a name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a name is 2..100 characters after trimming, without control characters")]
pub struct NameError;

/// An organization or zone name: trimmed, 2..100 Unicode scalar values, no control characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    /// Checks a name.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let trimmed = raw.trim();
        let len = trimmed.chars().count();
        if !(2..=100).contains(&len) || trimmed.chars().any(char::is_control) {
            return Err(NameError);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A URL-friendly slug: lower-case ASCII letters and digits joined by `-`,
    /// followed by a short suffix from `id` so equal names never collide.
    pub fn slug(&self, id: OrganizationId) -> String {
        let mut slug = String::new();
        for c in self.0.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') && !slug.is_empty() {
                slug.push('-');
            }
        }
        let base = slug.trim_end_matches('-');
        let simple = id.as_uuid().simple().to_string();
        // The tail of a UUIDv7 is random; the head is a timestamp.
        let suffix = &simple[simple.len() - 8..];
        if base.is_empty() { suffix.to_owned() } else { format!("{base}-{suffix}") }
    }
}

/// An organization (company of seed 004, FiO app of seed 002).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Organization {
    /// Its id.
    pub id: OrganizationId,
    /// Display name.
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// Public logo URL.
    pub logo_url: Option<String>,
    /// The user who created it.
    pub created_by: UserId,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
}

/// A named part of an organization (seed 004).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Its id.
    pub id: ZoneId,
    /// The organization it belongs to.
    pub organization_id: OrganizationId,
    /// Unique within the organization.
    pub name: String,
    /// Creation time.
    pub created_at: OffsetDateTime,
}

/// Whether a membership grants its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MembershipStatus {
    /// Grants its role (until `expiresAt`, if any).
    Active,
    /// Ended; kept forever, never deleted.
    Inactive,
}

/// Why a membership ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndReason {
    /// A moderator or admin removed the member.
    Removed,
    /// The member left.
    Left,
    /// A time-bound membership ran out.
    Expired,
}

/// Why a history row was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistoryCause {
    /// The organization's creator became its admin.
    Created,
    /// An invitation was accepted.
    Invitation,
    /// The role changed.
    RoleChange,
    /// The zones changed.
    ZoneChange,
    /// Removed by a moderator or admin.
    Removed,
    /// The member left.
    Left,
    /// The sweeper ended a time-bound membership.
    Expired,
    /// Imported from legacy data (FiO "Case 1").
    Import,
}

macro_rules! string_enum {
    ($ty:ty { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// The stable name used in storage and on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }

            /// The value for a stored name.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($name => Some(Self::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(MembershipStatus { Active => "active", Inactive => "inactive" });
string_enum!(EndReason { Removed => "removed", Left => "left", Expired => "expired" });
string_enum!(HistoryCause {
    Created => "created", Invitation => "invitation", RoleChange => "role_change", ZoneChange => "zone_change",
    Removed => "removed", Left => "left", Expired => "expired", Import => "import",
});
string_enum!(InvitationStatus { Pending => "pending", Accepted => "accepted", Rejected => "rejected", Revoked => "revoked" });
string_enum!(InvitationKind { Internal => "internal", External => "external" });
string_enum!(Outcome { Accepted => "accepted", Declined => "declined", Failed => "failed" });

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
    /// Active or ended.
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

    /// The role this membership grants at `now`: nothing once it ended or
    /// once `expiresAt` has passed, whether or not the sweeper has run.
    pub fn grants(&self, now: OffsetDateTime) -> Option<OrgRole> {
        let live = self.status == MembershipStatus::Active && self.expires_at.is_none_or(|e| e > now);
        live.then_some(self.role)
    }

    /// Whether it covers `zone` (`None` = the whole organization).
    pub fn covers(&self, zone: Option<ZoneId>) -> bool {
        match zone {
            None => self.zones.is_empty(),
            Some(z) => self.zones.is_empty() || self.zones.contains(&z),
        }
    }

    /// The next version with another role.
    pub fn with_role(&self, role: OrgRole) -> Self {
        Self { role, version: self.version + 1, ..self.clone() }
    }

    /// The next version, ended at `now` for `reason`.
    pub fn ended(&self, reason: EndReason, now: OffsetDateTime) -> Self {
        Self {
            status: MembershipStatus::Inactive,
            ended_at: Some(now),
            end_reason: Some(reason),
            version: self.version + 1,
            ..self.clone()
        }
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
    /// Who made the change (none for the sweeper and imports).
    pub changed_by: Option<UserId>,
    /// Why this version exists.
    pub cause: HistoryCause,
}

/// Who may grant `role`: admins any role, moderators guest or member, nobody else anything.
pub fn may_grant(actor: OrgRole, role: OrgRole) -> bool {
    match actor {
        OrgRole::Admin => true,
        OrgRole::Moderator => role <= OrgRole::Member,
        _ => false,
    }
}

/// Who may remove a member holding `target`: admins anyone, moderators guests and members.
pub fn may_remove(actor: OrgRole, target: OrgRole) -> bool {
    may_grant(actor, target)
}

/// An invitation's stored status. `expired` is never stored: see [`Invitation::state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationStatus {
    /// Usable until it expires or is used up.
    Pending,
    /// Used `maxUses` times.
    Accepted,
    /// The bound invitee declined.
    Rejected,
    /// Withdrawn by the organization.
    Revoked,
}

/// An invitation's status as read at a given instant (adds `expired`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationState {
    /// Usable.
    Pending,
    /// Used up.
    Accepted,
    /// Declined.
    Rejected,
    /// Withdrawn.
    Revoked,
    /// Past `expiresAt`.
    Expired,
}

string_enum!(InvitationState {
    Pending => "pending", Accepted => "accepted", Rejected => "rejected", Revoked => "revoked", Expired => "expired",
});

/// Internal invitations may go to members; external ones (seed 004) are refused to them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InvitationKind {
    /// The default.
    #[default]
    Internal,
    /// Only for people not yet in the organization.
    External,
}

/// An invitation's secret, shown once. Its `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct InvitationToken(String);

impl InvitationToken {
    /// Wraps a token the caller presented.
    pub fn from_presented(raw: &str) -> Self {
        Self(raw.trim().to_owned())
    }

    /// A token from 32 random bytes, base64url without padding.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The secret, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SHA-256 that is stored and looked up.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for InvitationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InvitationToken(***)")
    }
}

/// The SHA-256 of a token, stored as lower-case hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// From stored hex.
    pub fn from_hex(raw: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(raw, &mut out).ok()?;
        Some(Self(out))
    }
}

/// An invitation to an organization (or one of its zones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// Its id.
    pub id: InvitationId,
    /// The organization.
    pub organization_id: OrganizationId,
    /// The zone it grants, if any.
    pub zone_id: Option<ZoneId>,
    /// The role it grants.
    pub role: OrgRole,
    /// The bound e-mail, if any (normalised).
    pub email: Option<EmailAddress>,
    /// The bound user, if any.
    pub user_id: Option<UserId>,
    /// Internal or external.
    pub kind: InvitationKind,
    /// How many people may accept it.
    pub max_uses: u32,
    /// How many have.
    pub use_count: u32,
    /// When it stops being usable.
    pub expires_at: OffsetDateTime,
    /// Its validity at creation, so a resend renews by the same amount.
    pub valid_for: Duration,
    /// How long memberships it grants last; `None` = open-ended.
    pub membership_duration: Option<Duration>,
    /// Stored status.
    pub status: InvitationStatus,
    /// The SHA-256 of its token.
    pub token_hash: TokenHash,
    /// Who created it.
    pub created_by: UserId,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Compare-and-set version.
    pub version: i64,
}

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

/// Why an invitation cannot be accepted, in the order the checks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Withdrawn by the organization.
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
    /// External, and the caller already belongs to the organization.
    #[error("external invitations are for people outside the organization")]
    ExternalMember,
    /// The caller already has this access or more.
    #[error("you are already a member with this access")]
    AlreadyMember,
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
            Self::ExternalMember => "external_member",
            Self::AlreadyMember => "already_member",
        }
    }
}

/// What accepting does to the caller's membership.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipChange {
    /// A new membership.
    Create(Membership),
    /// The existing active membership gets a higher role, the zone or a later expiry.
    Update {
        /// The version read.
        previous: Membership,
        /// The version to write.
        next: Membership,
    },
}

impl MembershipChange {
    /// The membership after the change.
    pub fn result(&self) -> &Membership {
        match self {
            Self::Create(m) => m,
            Self::Update { next, .. } => next,
        }
    }
}

impl Invitation {
    /// The status as of `now`: a pending invitation past its expiry reads `expired`.
    pub fn state(&self, now: OffsetDateTime) -> InvitationState {
        match self.status {
            InvitationStatus::Pending if self.expires_at <= now => InvitationState::Expired,
            InvitationStatus::Pending => InvitationState::Pending,
            InvitationStatus::Accepted => InvitationState::Accepted,
            InvitationStatus::Rejected => InvitationState::Rejected,
            InvitationStatus::Revoked => InvitationState::Revoked,
        }
    }

    /// Why it cannot be used by anyone at `now` (the first three checks of
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

    /// Whether it is bound to one person (a user id or an e-mail).
    pub fn is_bound(&self) -> bool {
        self.email.is_some() || self.user_id.is_some()
    }

    /// Whether it is addressed to `invitee` (bound to their id or verified e-mail).
    pub fn is_for(&self, invitee: &Invitee) -> bool {
        self.user_id == Some(invitee.user_id) || (invitee.email_verified && self.email.as_ref() == Some(&invitee.email))
    }

    /// Decides an acceptance by `invitee`, whose active membership of the
    /// organization is `existing`, in the spec's order: revoked/rejected,
    /// expired, used up, wrong person, e-mail mismatch/unverified, external
    /// member, already member. Otherwise the membership change to write.
    pub fn decide_accept(
        &self,
        invitee: &Invitee,
        existing: Option<&Membership>,
        now: OffsetDateTime,
    ) -> Result<MembershipChange, Refusal> {
        self.usable(now)?;
        if self.user_id.is_some_and(|u| u != invitee.user_id) {
            return Err(Refusal::WrongPerson);
        }
        if let Some(email) = &self.email {
            if *email != invitee.email {
                return Err(Refusal::EmailMismatch);
            }
            if !invitee.email_verified {
                return Err(Refusal::EmailUnverified);
            }
        }
        // A membership past its expiry grants nothing, so it does not count.
        let existing = existing.filter(|m| m.grants(now).is_some());
        if self.kind == InvitationKind::External && existing.is_some() {
            return Err(Refusal::ExternalMember);
        }
        let expires_at = self.membership_duration.map(|d| now + d);
        let Some(current) = existing else {
            let zones = self.zone_id.into_iter().collect();
            return Ok(MembershipChange::Create(Membership::start(
                self.organization_id,
                invitee.user_id,
                self.role,
                zones,
                expires_at,
                Some(self.id),
                now,
            )));
        };
        let later_expiry = match (current.expires_at, expires_at) {
            (Some(old), Some(new)) => new > old,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if current.role >= self.role && current.covers(self.zone_id) && !later_expiry {
            return Err(Refusal::AlreadyMember);
        }
        let zones = match self.zone_id {
            None => Vec::new(),
            Some(_) if current.zones.is_empty() => Vec::new(),
            Some(z) if current.zones.contains(&z) => current.zones.clone(),
            Some(z) => current.zones.iter().copied().chain([z]).collect(),
        };
        let next = Membership {
            role: current.role.max(self.role),
            zones,
            expires_at: if later_expiry { expires_at } else { current.expires_at },
            version: current.version + 1,
            ..current.clone()
        };
        Ok(MembershipChange::Update { previous: current.clone(), next })
    }
}

/// How an acceptance attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Access granted.
    Accepted,
    /// The invitee rejected it.
    Declined,
    /// Refused; `reason` says why.
    Failed,
}

/// One row of an invitation's acceptance log (seed 004 logs every attempt).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acceptance {
    /// Its id.
    pub id: AcceptanceId,
    /// The invitation.
    pub invitation_id: InvitationId,
    /// Who tried.
    pub user_id: Option<UserId>,
    /// What happened.
    pub outcome: Outcome,
    /// Why it failed.
    pub reason: Option<String>,
    /// When.
    pub at: OffsetDateTime,
    /// The client address.
    pub ip: Option<String>,
    /// The client's user agent.
    pub user_agent: Option<String>,
}

/// Where a request came from, for the acceptance log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client address.
    pub ip: Option<String>,
    /// The user agent (truncated to 512 bytes by the app).
    pub user_agent: Option<String>,
}

impl Acceptance {
    /// A log row for `invitation` at `now`.
    pub fn new(
        invitation_id: InvitationId,
        user_id: Option<UserId>,
        outcome: Outcome,
        reason: Option<&str>,
        client: &ClientInfo,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id: AcceptanceId::new(),
            invitation_id,
            user_id,
            outcome,
            reason: reason.map(str::to_owned),
            at: now,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
        }
    }
}

/// A member as the members list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The membership.
    pub membership: Membership,
    /// The member's display name.
    pub display_name: String,
    /// The member's e-mail.
    pub email: String,
}

/// Filters of the members list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberFilter {
    /// Only this status (`active` means granting at `now`).
    pub status: Option<MembershipStatus>,
    /// Only this role.
    pub role: Option<OrgRole>,
    /// Only memberships covering this zone.
    pub zone: Option<ZoneId>,
}

/// One line of a membership import (FiO "Case 1"), parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportLine {
    /// The organization: its id, slug or exact name.
    pub organization: String,
    /// The member's e-mail.
    pub email: EmailAddress,
    /// The role to grant.
    pub role: OrgRole,
    /// When they joined in the legacy system.
    pub joined_at: OffsetDateTime,
}

/// What importing one line did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImportOutcome {
    /// A known user got an active membership (history cause `import`).
    Joined,
    /// An unknown e-mail got a bound invitation, applied at their first sign-in.
    Invited,
    /// This organization and e-mail were imported before: nothing changed.
    Unchanged,
    /// No organization has this id, slug or name.
    UnknownOrganization,
}

/// One line of the sidebar (seed 002): an organization the caller belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SidebarApp {
    /// The organization.
    pub organization: Organization,
    /// The membership.
    pub membership: Membership,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    fn invitee(id: i64, mail: &str, verified: bool) -> Invitee {
        Invitee { user_id: UserId::new(id), email: EmailAddress::parse(mail).unwrap(), email_verified: verified }
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

    #[test]
    fn names_are_trimmed_and_bounded_and_slugs_are_unique() {
        assert_eq!(Name::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert!(Name::parse("A").is_err());
        assert!(Name::parse(&"x".repeat(101)).is_err());
        assert!(Name::parse("a\u{0}b").is_err());
        let id = OrganizationId::new();
        let slug = Name::parse("Ecole St. Anne!").unwrap().slug(id);
        assert!(slug.starts_with("ecole-st-anne-"), "{slug}");
        assert_ne!(slug, Name::parse("Ecole St. Anne!").unwrap().slug(OrganizationId::new()));
    }

    #[test]
    fn admins_grant_anything_moderators_only_guest_and_member() {
        assert!(may_grant(OrgRole::Admin, OrgRole::Admin));
        assert!(may_grant(OrgRole::Moderator, OrgRole::Member));
        assert!(!may_grant(OrgRole::Moderator, OrgRole::Moderator));
        assert!(!may_grant(OrgRole::Member, OrgRole::Guest));
        assert!(may_remove(OrgRole::Moderator, OrgRole::Guest));
        assert!(!may_remove(OrgRole::Moderator, OrgRole::Admin));
    }

    #[test]
    fn tokens_hash_to_hex_and_never_debug_print() {
        let token = InvitationToken::from_bytes(&[1; 32]);
        assert_eq!(token.expose().len(), 43);
        assert_eq!(format!("{token:?}"), "InvitationToken(***)");
        let hash = token.hash();
        assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(InvitationToken::from_presented(&format!(" {} ", token.expose())).hash(), hash);
    }

    #[test]
    fn a_time_bound_membership_grants_nothing_once_it_expired() {
        let inv = invitation();
        let mut m = member(&inv, OrgRole::Member);
        m.expires_at = Some(NOW);
        assert_eq!(m.grants(NOW - Duration::seconds(1)), Some(OrgRole::Member));
        assert_eq!(m.grants(NOW), None);
        assert_eq!(m.ended(EndReason::Removed, NOW).grants(NOW - Duration::days(1)), None);
    }

    #[test]
    fn accepting_checks_run_in_the_specified_order() {
        let someone = invitee(2, "b@x.io", true);
        // Revoked beats expired, expired beats used up.
        let mut inv = invitation();
        inv.status = InvitationStatus::Revoked;
        inv.expires_at = NOW;
        assert_eq!(inv.decide_accept(&someone, None, NOW), Err(Refusal::Revoked));
        inv.status = InvitationStatus::Rejected;
        assert_eq!(inv.decide_accept(&someone, None, NOW), Err(Refusal::Rejected));
        inv.status = InvitationStatus::Accepted;
        assert_eq!(inv.decide_accept(&someone, None, NOW), Err(Refusal::Expired));
        inv.expires_at = NOW + Duration::hours(1);
        assert_eq!(inv.decide_accept(&someone, None, NOW), Err(Refusal::UsedUp));
        assert_eq!(inv.unusable_reason(NOW), Some("accepted"));
        // Used up beats the wrong person.
        inv.status = InvitationStatus::Pending;
        inv.use_count = 1;
        inv.user_id = Some(UserId::new(99));
        assert_eq!(inv.decide_accept(&someone, None, NOW), Err(Refusal::UsedUp));
        inv.max_uses = 2;
        assert_eq!(inv.decide_accept(&someone, None, NOW), Err(Refusal::WrongPerson));
        inv.user_id = None;
        inv.email = Some(EmailAddress::parse("c@x.io").unwrap());
        assert_eq!(inv.decide_accept(&someone, None, NOW), Err(Refusal::EmailMismatch));
        inv.email = Some(EmailAddress::parse("b@x.io").unwrap());
        assert_eq!(inv.decide_accept(&invitee(2, "b@x.io", false), None, NOW), Err(Refusal::EmailUnverified));
        inv.kind = InvitationKind::External;
        let existing = member(&inv, OrgRole::Guest);
        assert_eq!(inv.decide_accept(&someone, Some(&existing), NOW), Err(Refusal::ExternalMember));
        inv.kind = InvitationKind::Internal;
        let existing = member(&inv, OrgRole::Member);
        assert_eq!(inv.decide_accept(&someone, Some(&existing), NOW), Err(Refusal::AlreadyMember));
    }

    #[test]
    fn accepting_creates_upgrades_or_adds_the_zone() {
        let someone = invitee(2, "b@x.io", true);
        let mut inv = invitation();
        inv.membership_duration = Some(Duration::hours(2));
        let MembershipChange::Create(created) = inv.decide_accept(&someone, None, NOW).unwrap() else {
            panic!("expected a new membership")
        };
        assert_eq!(created.role, OrgRole::Member);
        assert_eq!(created.expires_at, Some(NOW + Duration::hours(2)));
        assert_eq!(created.invitation_id, Some(inv.id));

        inv.membership_duration = None;
        inv.role = OrgRole::Moderator;
        let guest = member(&inv, OrgRole::Guest);
        let change = inv.decide_accept(&someone, Some(&guest), NOW).unwrap();
        assert_eq!(change.result().role, OrgRole::Moderator);
        assert_eq!(change.result().version, guest.version + 1);

        let zone_a = ZoneId::new();
        let zone_b = ZoneId::new();
        let mut in_a = member(&inv, OrgRole::Member);
        in_a.zones = vec![zone_a];
        inv.role = OrgRole::Member;
        inv.zone_id = Some(zone_b);
        let change = inv.decide_accept(&someone, Some(&in_a), NOW).unwrap();
        assert_eq!(change.result().zones, vec![zone_a, zone_b]);
        assert_eq!(change.result().role, OrgRole::Member);
    }

    #[test]
    fn an_expired_membership_does_not_block_external_invitations() {
        let mut inv = invitation();
        inv.kind = InvitationKind::External;
        let mut old = member(&inv, OrgRole::Member);
        old.expires_at = Some(NOW - Duration::minutes(1));
        assert!(inv.decide_accept(&invitee(2, "b@x.io", true), Some(&old), NOW).is_ok());
    }

    #[test]
    fn expired_is_computed_at_read_time() {
        let inv = invitation();
        assert_eq!(inv.state(NOW), InvitationState::Pending);
        assert_eq!(inv.state(inv.expires_at), InvitationState::Expired);
        assert_eq!(inv.unusable_reason(inv.expires_at), Some("expired"));
    }
}
