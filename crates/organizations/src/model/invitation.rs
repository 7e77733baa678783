//! Invitations: the record, its statuses, the token, the input limits
//! (parsed once, at the edge) and the transitions create, revoke, resend and
//! reject. Accepting lives in [`super::accept`].

use super::{Authority, Guard, InvitationId, OrganizationId, QuotaPolicy, ZoneId, joined};
use crate::error::{InvitationError, OrgError};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use shared_kernel::{EmailAddress, OrgRole, Transition, UserId};
use std::fmt;
use time::{Duration, OffsetDateTime};

shared_kernel::stored_enum! {
    /// An invitation's stored status. `expired` is never stored: see [`Invitation::state`].
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum InvitationStatus {
        /// Usable until it expires or is used up.
        Pending = "pending",
        /// Used `maxUses` times.
        Accepted = "accepted",
        /// The bound invitee declined.
        Rejected = "rejected",
        /// Withdrawn by the organization (or its creator lost the right to grant it).
        Revoked = "revoked",
    }
}

shared_kernel::stored_enum! {
    /// An invitation's status as read at a given instant (adds `expired`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    pub enum InvitationState {
        /// Usable.
        Pending = "pending",
        /// Used up.
        Accepted = "accepted",
        /// Declined.
        Rejected = "rejected",
        /// Withdrawn.
        Revoked = "revoked",
        /// Past `expiresAt`.
        Expired = "expired",
    }
}

shared_kernel::stored_enum! {
    /// Internal invitations may go to members; external ones (seed 004) are refused to them.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
    #[serde(rename_all = "lowercase")]
    pub enum InvitationKind {
        /// The default.
        #[default]
        Internal = "internal",
        /// Only for people not yet in the organization.
        External = "external",
    }
}

shared_kernel::stored_enum! {
    /// Who stands behind an invitation's grant.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub enum InvitationOrigin {
        /// A member created it: it grants only what they still may, when it is accepted.
        #[default]
        Member = "member",
        /// `usher import memberships` created it for legacy data: the organization grants it.
        Import = "import",
    }
}

/// Why an invitation input is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// `maxUses` outside 1..=1000.
    #[error("maxUses is 1 to {max}", max = MaxUses::MAX)]
    MaxUses,
    /// `expiresInSeconds` outside one hour to 30 days.
    #[error("expiresInSeconds is 3600 to 2592000 (1 hour to 30 days)")]
    Validity,
    /// `membershipDurationSeconds` outside one second to ten years.
    #[error("membershipDurationSeconds is 1 to 316224000 (10 years)")]
    MembershipDuration,
}

/// How many people may accept an invitation: 1..=1000, default 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "u32")]
pub struct MaxUses(u32);

impl MaxUses {
    /// The largest accepted value.
    pub const MAX: u32 = 1000;
    /// One person.
    pub const ONE: Self = Self(1);

    /// Checks a count.
    pub fn new(n: u32) -> Result<Self, LimitError> {
        if (1..=Self::MAX).contains(&n) { Ok(Self(n)) } else { Err(LimitError::MaxUses) }
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for MaxUses {
    fn default() -> Self {
        Self::ONE
    }
}

impl TryFrom<u32> for MaxUses {
    type Error = LimitError;

    fn try_from(n: u32) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

/// How long an invitation stays usable: one hour to 30 days, default 7 days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "i64")]
pub struct Validity(Duration);

impl Validity {
    /// Checks a number of seconds.
    pub fn seconds(s: i64) -> Result<Self, LimitError> {
        if (3600..=30 * 86_400).contains(&s) { Ok(Self(Duration::seconds(s))) } else { Err(LimitError::Validity) }
    }

    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl Default for Validity {
    fn default() -> Self {
        Self(Duration::days(7))
    }
}

impl TryFrom<i64> for Validity {
    type Error = LimitError;

    fn try_from(s: i64) -> Result<Self, Self::Error> {
        Self::seconds(s)
    }
}

/// How long a membership granted by an invitation lasts: one second to ten years.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "i64")]
pub struct MembershipDuration(Duration);

impl MembershipDuration {
    /// Checks a number of seconds.
    pub fn seconds(s: i64) -> Result<Self, LimitError> {
        if (1..=3660 * 86_400).contains(&s) {
            Ok(Self(Duration::seconds(s)))
        } else {
            Err(LimitError::MembershipDuration)
        }
    }

    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl TryFrom<i64> for MembershipDuration {
    type Error = LimitError;

    fn try_from(s: i64) -> Result<Self, Self::Error> {
        Self::seconds(s)
    }
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
    /// The bound user, if any: set at creation, or on the first accept of
    /// an e-mail-bound invitation (the first verified account to accept).
    pub user_id: Option<UserId>,
    /// Internal or external.
    pub kind: InvitationKind,
    /// Who stands behind its grant.
    pub origin: InvitationOrigin,
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
    /// Who created it (the organization's creator for imports).
    pub created_by: UserId,
    /// Creation time.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Compare-and-set version.
    pub version: i64,
}

/// The input of invitation create, parsed at the edge.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The zone, if any.
    pub zone_id: Option<ZoneId>,
    /// The role granted.
    pub role: OrgRole,
    /// Bound e-mail.
    pub email: Option<EmailAddress>,
    /// Bound user.
    pub user_id: Option<UserId>,
    /// Internal or external.
    pub kind: InvitationKind,
    /// How many may accept it.
    pub max_uses: MaxUses,
    /// How long it stays usable.
    pub validity: Validity,
    /// How long granted memberships last.
    pub membership_duration: Option<MembershipDuration>,
}

impl NewInvitation {
    /// An open, single-use link for `role` to the whole organization, with
    /// the defaults of every other input.
    pub fn link(organization_id: OrganizationId, role: OrgRole) -> Self {
        Self {
            organization_id,
            zone_id: None,
            role,
            email: None,
            user_id: None,
            kind: InvitationKind::Internal,
            max_uses: MaxUses::default(),
            validity: Validity::default(),
            membership_duration: None,
        }
    }
}

/// What happened to an invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InvitationEvent {
    /// Created by a member (or an import).
    Created,
    /// One use was taken by `user`.
    Accepted {
        /// Who accepted.
        user: UserId,
    },
    /// The bound invitee declined.
    Rejected {
        /// Who declined.
        user: UserId,
    },
    /// Withdrawn (by `by`, or `None` when its creator lost the right to grant it).
    Revoked {
        /// Who revoked it.
        by: Option<UserId>,
    },
    /// A new token was issued and the expiry renewed.
    Resent {
        /// Who resent it.
        by: UserId,
    },
}

/// An invitation to insert, with what the database re-checks in the same
/// transaction: the creator's membership unchanged, the quotas.
#[derive(Clone, Debug)]
pub struct InvitationDraft {
    /// The invitation.
    pub invitation: Invitation,
    /// Re-checked on insert.
    pub guards: Vec<Guard>,
}

/// A change to a stored invitation and what guards it.
#[derive(Clone, Debug)]
pub struct InvitationUpdate {
    /// The invitation after the change (status, token, expiry).
    pub next: Invitation,
    /// Only while still `pending` (and, for a resend, still carrying this
    /// token): never a version compare, so concurrent accepts of a busy
    /// link never make a revoke or a resend fail. A resend (this is `Some`)
    /// writes `next`'s status, token and expiry; any other update its status only.
    pub expected_token: Option<TokenHash>,
    /// Re-checked in the same transaction (quotas of a resend's e-mail).
    pub guards: Vec<Guard>,
    /// What happened.
    pub event: InvitationEvent,
}

/// An invitation whose expiry passed while it was pending: announced once
/// per expiry (a resend gives it a new one), with `invitation.expired`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expiry {
    /// The invitation, pending in storage and expired as read.
    pub invitation: Invitation,
}

impl Authority {
    /// Decides an invitation create: `invite` permission, a role and zone the
    /// caller may grant, a zone of the organization, one use for an
    /// invitation bound to one person. The draft carries the guards the
    /// insert re-checks: the caller's membership unchanged (so a link never
    /// outlives its creator's removal or demotion) and the quotas.
    pub fn invite(
        &self,
        new: NewInvitation,
        zones: &[ZoneId],
        token: &InvitationToken,
        quotas: &QuotaPolicy,
    ) -> Result<InvitationDraft, InvitationError> {
        let now = self.now();
        if let Some(zone) = new.zone_id
            && !zones.contains(&zone)
        {
            return Err(OrgError::ZoneNotFound.into());
        }
        self.check_grant(new.role, new.zone_id)?;
        if (new.email.is_some() || new.user_id.is_some()) && new.max_uses != MaxUses::ONE {
            return Err(InvitationError::BoundIsSingleUse);
        }
        let invitation = Invitation {
            id: InvitationId::new(),
            organization_id: new.organization_id,
            zone_id: new.zone_id,
            role: new.role,
            email: new.email,
            user_id: new.user_id,
            kind: new.kind,
            origin: InvitationOrigin::Member,
            max_uses: new.max_uses.get(),
            use_count: 0,
            expires_at: now + new.validity.get(),
            valid_for: new.validity.get(),
            membership_duration: new.membership_duration.map(MembershipDuration::get),
            status: InvitationStatus::Pending,
            token_hash: token.hash(),
            created_by: self.membership().user_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut guards = vec![
            Guard::Unchanged { membership_id: self.membership().id, version: self.membership().version },
            Guard::Quota(quotas.pending_invitations(invitation.organization_id, now)),
        ];
        guards.extend(invitation.mail_quotas(quotas, now));
        Ok(InvitationDraft { invitation, guards })
    }

    /// Whether the caller may revoke or resend `invitation`: one for a role
    /// and zone they may grant.
    pub fn check_manage_invitation(&self, invitation: &Invitation) -> Result<(), OrgError> {
        self.check_grant(invitation.role, invitation.zone_id)
    }

    /// Withdraws a pending (or expired) invitation.
    pub fn revoke(&self, invitation: &Invitation) -> Result<InvitationUpdate, InvitationError> {
        self.check_manage_invitation(invitation)?;
        let now = self.now();
        if invitation.status != InvitationStatus::Pending {
            return Err(InvitationError::NotPending(invitation.state(now).as_str()));
        }
        let by = self.membership().user_id;
        let t = invitation.revoked(now, Some(by));
        Ok(InvitationUpdate {
            next: t.record,
            expected_token: None,
            guards: vec![],
            event: InvitationEvent::Revoked { by: Some(by) },
        })
    }

    /// Rotates the token of a pending or expired invitation and renews its
    /// expiry by its original validity; same id and log.
    pub fn resend(
        &self,
        invitation: &Invitation,
        token: &InvitationToken,
        quotas: &QuotaPolicy,
    ) -> Result<InvitationUpdate, InvitationError> {
        self.check_manage_invitation(invitation)?;
        let now = self.now();
        if invitation.status != InvitationStatus::Pending {
            return Err(InvitationError::NotPending(invitation.state(now).as_str()));
        }
        let next = Invitation {
            token_hash: token.hash(),
            expires_at: now + invitation.valid_for,
            updated_at: now,
            version: invitation.version + 1,
            ..invitation.clone()
        };
        let guards = next.mail_quotas(quotas, now);
        let by = self.membership().user_id;
        Ok(InvitationUpdate {
            next,
            expected_token: Some(invitation.token_hash),
            guards,
            event: InvitationEvent::Resent { by },
        })
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

    /// Its expiry, to announce, once it has passed and the invitation is
    /// still pending (its stored status never changes: expiry is read).
    pub fn expiry(&self, now: OffsetDateTime) -> Option<Expiry> {
        (self.state(now) == InvitationState::Expired).then(|| Expiry { invitation: self.clone() })
    }

    /// The member whose standing backs the grant: the creator of a member's
    /// invitation; nobody for an import, which the organization backs.
    pub fn grantor_id(&self) -> Option<UserId> {
        (self.origin == InvitationOrigin::Member).then_some(self.created_by)
    }

    /// Whether it is bound to one person (a user id or an e-mail).
    pub fn is_bound(&self) -> bool {
        self.email.is_some() || self.user_id.is_some()
    }

    /// Whom an e-mail-bound invitation is for, masked (`b***@example.com`):
    /// what the landing page may show to say which account to sign in with.
    pub fn email_hint(&self) -> Option<String> {
        self.email.as_ref().map(EmailAddress::masked)
    }

    /// Whether it is addressed to `invitee`: bound to their user id, or to
    /// their e-mail once verified.
    pub fn is_for(&self, invitee: &super::Invitee) -> bool {
        match (self.user_id, &self.email) {
            (Some(bound), _) => bound == invitee.user_id,
            (None, Some(bound)) => invitee.email_verified && *bound == invitee.email,
            (None, None) => false,
        }
    }

    /// Whether it names `user` or `email` (verified or not): who may learn
    /// that it exists, and be told by the accept why it refuses them.
    pub fn names(&self, user: UserId, email: &EmailAddress) -> bool {
        match (self.user_id, &self.email) {
            (Some(bound), _) => bound == user,
            (None, Some(bound)) => bound == email,
            (None, None) => false,
        }
    }

    /// The quotas an e-mail announcing it counts against (none for links).
    pub fn mail_quotas(&self, quotas: &QuotaPolicy, now: OffsetDateTime) -> Vec<Guard> {
        match &self.email {
            Some(to) => vec![
                Guard::Quota(quotas.mails_of_organization(self.organization_id, now)),
                Guard::Quota(quotas.mails_to(to, now)),
            ],
            None => vec![],
        }
    }

    /// Withdrawn at `now` by `by` (`None`: because its creator may no longer grant it).
    pub fn revoked(&self, now: OffsetDateTime, by: Option<UserId>) -> Transition<Self, InvitationEvent> {
        let record =
            Self { status: InvitationStatus::Revoked, updated_at: now, version: self.version + 1, ..self.clone() };
        Transition::new(record, InvitationEvent::Revoked { by })
    }

    /// The bound invitee declines (an e-mail-bound invitation only with the e-mail verified).
    pub fn reject(&self, invitee: &super::Invitee, now: OffsetDateTime) -> Result<InvitationUpdate, InvitationError> {
        if !self.is_bound() {
            return Err(InvitationError::OpenLink);
        }
        if !self.is_for(invitee) {
            return Err(InvitationError::NotAddressee);
        }
        let user = invitee.user_id;
        let state = self.state(now);
        if state != InvitationState::Pending {
            return Err(InvitationError::NotPending(state.as_str()));
        }
        let next =
            Self { status: InvitationStatus::Rejected, updated_at: now, version: self.version + 1, ..self.clone() };
        Ok(InvitationUpdate { next, expected_token: None, guards: vec![], event: InvitationEvent::Rejected { user } })
    }

    /// One use taken by `user` at `now`: the count goes up, the status
    /// becomes `accepted` at `max_uses`, and an e-mail-bound invitation
    /// binds to the account that took it. The SQL adapter performs exactly
    /// this as one conditional `UPDATE` under the row lock, so that racing
    /// accepts queue instead of overwriting each other's count.
    pub fn take_use(&self, user: UserId, now: OffsetDateTime) -> Self {
        let use_count = self.use_count + 1;
        Self {
            use_count,
            status: if use_count >= self.max_uses { InvitationStatus::Accepted } else { self.status },
            user_id: if self.email.is_some() { self.user_id.or(Some(user)) } else { self.user_id },
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        }
    }
}

/// Formats the roles a caller may grant, for messages.
pub fn describe_roles(roles: &[OrgRole]) -> String {
    if roles.is_empty() { "none".to_owned() } else { joined(roles) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Membership;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    fn admin_of(org: OrganizationId) -> Authority {
        let m = Membership::start(org, UserId::new(1), OrgRole::Admin, vec![], None, None, NOW - Duration::days(1));
        Authority::at(Some(m), NOW).unwrap()
    }

    #[test]
    fn limits_are_parsed_once_with_their_bounds() {
        assert!(MaxUses::new(0).is_err() && MaxUses::new(1001).is_err() && MaxUses::new(1000).is_ok());
        assert!(
            Validity::seconds(3599).is_err()
                && Validity::seconds(3600).is_ok()
                && Validity::seconds(2_592_001).is_err()
        );
        assert!(MembershipDuration::seconds(0).is_err() && MembershipDuration::seconds(316_224_001).is_err());
        assert_eq!(Validity::default().get(), Duration::days(7));
        assert_eq!(MaxUses::default().get(), 1);
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
    fn an_invitation_bound_to_one_person_is_single_use() {
        let org = OrganizationId::new();
        let mut new = NewInvitation::link(org, OrgRole::Member);
        new.email = Some(EmailAddress::parse("b@x.io").unwrap());
        new.max_uses = MaxUses::new(2).unwrap();
        let token = InvitationToken::from_bytes(&[2; 32]);
        let err = admin_of(org).invite(new, &[], &token, &QuotaPolicy::default()).unwrap_err();
        assert!(matches!(err, InvitationError::BoundIsSingleUse));
    }

    #[test]
    fn a_draft_guards_its_creators_membership_and_the_quotas() {
        let org = OrganizationId::new();
        let admin = admin_of(org);
        let mut new = NewInvitation::link(org, OrgRole::Admin);
        new.email = Some(EmailAddress::parse("b@x.io").unwrap());
        let token = InvitationToken::from_bytes(&[3; 32]);
        let draft = admin.invite(new, &[], &token, &QuotaPolicy::default()).unwrap();
        assert_eq!(draft.invitation.token_hash, token.hash());
        assert_eq!(draft.invitation.expires_at, NOW + Duration::days(7));
        assert!(draft.guards.contains(&Guard::Unchanged { membership_id: admin.membership().id, version: 1 }));
        assert_eq!(draft.guards.iter().filter(|g| matches!(g, Guard::Quota(_))).count(), 3);
    }

    #[test]
    fn taking_the_last_use_accepts_and_binds_an_email_invitation_to_its_taker() {
        let org = OrganizationId::new();
        let mut new = NewInvitation::link(org, OrgRole::Member);
        new.email = Some(EmailAddress::parse("b@x.io").unwrap());
        let token = InvitationToken::from_bytes(&[4; 32]);
        let inv = admin_of(org).invite(new, &[], &token, &QuotaPolicy::default()).unwrap().invitation;
        let taken = inv.take_use(UserId::new(7), NOW);
        assert_eq!(
            (taken.use_count, taken.status, taken.user_id),
            (1, InvitationStatus::Accepted, Some(UserId::new(7)))
        );
    }

    #[test]
    fn expired_is_computed_at_read_time() {
        let org = OrganizationId::new();
        let token = InvitationToken::from_bytes(&[5; 32]);
        let inv = admin_of(org)
            .invite(NewInvitation::link(org, OrgRole::Member), &[], &token, &QuotaPolicy::default())
            .unwrap()
            .invitation;
        assert_eq!(inv.state(NOW), InvitationState::Pending);
        assert_eq!(inv.state(inv.expires_at), InvitationState::Expired);
    }
}
