//! The ports of organizations and invitations.
//!
//! Every method is atomic. Methods that change a membership MUST write the
//! new version to the membership history in the same transaction, and MUST
//! compare-and-set on the version they were given, answering
//! `WriteError::Conflict` (writing nothing) when it moved.

use crate::error::WriteError;
use crate::model::{
    Acceptance, HistoryCause, ImportLine, ImportOutcome, Invitation, InvitationId, InvitationState, InvitationToken,
    Invitee, Member, MemberFilter, Membership, MembershipChange, MembershipHistory, Organization, OrganizationId,
    OutboxId, SidebarApp, TokenHash, Zone,
};
use async_trait::async_trait;
use image_upload::{ObjectKey, TicketId};
use shared_kernel::{EmailAddress, Page, PageRequest, UserId};
use time::OffsetDateTime;

/// Stores organizations, zones, memberships and their history.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait OrganizationRepository: Send + Sync {
    /// In one transaction: inserts `org`, its creator's `admin` membership
    /// (history cause `created`) and makes it the creator's current organization.
    async fn create(&self, org: &Organization, admin: &Membership) -> Result<(), WriteError>;

    /// The organization, if it exists.
    async fn get(&self, id: OrganizationId) -> anyhow::Result<Option<Organization>>;

    /// Renames; `None` if it does not exist.
    async fn rename(&self, id: OrganizationId, name: &str, now: OffsetDateTime)
    -> anyhow::Result<Option<Organization>>;

    /// In ONE transaction: marks the still-issued upload ticket used and sets
    /// the logo. Returns the previous logo's key. `Conflict` if the ticket was used.
    async fn set_logo(
        &self,
        id: OrganizationId,
        ticket: TicketId,
        key: &ObjectKey,
        url: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ObjectKey>, WriteError>;

    /// Clears the logo; returns the removed object's key.
    async fn clear_logo(&self, id: OrganizationId, now: OffsetDateTime) -> anyhow::Result<Option<ObjectKey>>;

    /// Inserts a zone; `NameTaken` when the organization has one with that name.
    async fn create_zone(&self, zone: &Zone) -> Result<(), WriteError>;

    /// The organization's zones, by name.
    async fn zones(&self, org: OrganizationId) -> anyhow::Result<Vec<Zone>>;

    /// The user's `active` membership of `org` (possibly past its expiry:
    /// callers decide with `Membership::grants`).
    async fn active_membership(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Option<Membership>>;

    /// One page of the members of `org` matching `filter`, newest first
    /// (by `joined_at`, then id); `active` means granting at `now`.
    async fn members(
        &self,
        org: OrganizationId,
        filter: &MemberFilter,
        page: &PageRequest,
        now: OffsetDateTime,
    ) -> anyhow::Result<Page<Member>>;

    /// Writes `next` over the version `next.version - 1`, with a history row
    /// (`cause`, `changed_by`). When `next` takes an admin away (demoted or
    /// ended) and no other active admin remains: `LastAdmin`. When `next`
    /// ends the membership it also revokes the pending invitations that member
    /// created in the organization and clears their current organization if
    /// it was this one. When `next` demotes the member, it revokes the pending
    /// invitations they created there for roles the new role may not grant
    /// ([`crate::may_grant`]).
    async fn update_membership(
        &self,
        next: &Membership,
        cause: HistoryCause,
        changed_by: Option<UserId>,
        now: OffsetDateTime,
    ) -> Result<(), WriteError>;

    /// The history of `user` in `org`, oldest first.
    async fn history(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Vec<MembershipHistory>>;

    /// Makes `org` the user's current organization if they hold a membership
    /// granting access at `now`; `false` (nothing written) otherwise.
    async fn switch_current(&self, user: UserId, org: OrganizationId, now: OffsetDateTime) -> anyhow::Result<bool>;

    /// The caller's active memberships granting at `now` with their
    /// organizations: admins' own organizations first, then by name.
    async fn sidebar(&self, user: UserId, now: OffsetDateTime) -> anyhow::Result<Vec<SidebarApp>>;

    /// The user's id, e-mail and verification flag.
    async fn invitee(&self, user: UserId) -> anyhow::Result<Option<Invitee>>;

    /// A user's display name.
    async fn display_name(&self, user: UserId) -> anyhow::Result<Option<String>>;

    /// The id of the user with this e-mail, if exactly one exists.
    async fn user_by_email(&self, email: &EmailAddress) -> anyhow::Result<Option<UserId>>;

    /// Imports one line in one transaction, idempotently (keyed by
    /// organization and e-mail): a known user (exactly one with this e-mail)
    /// gets an active membership with `joined_at` and history cause `import`
    /// (unless already a member); an unknown e-mail gets a pending invitation
    /// bound to it, created by the organization's creator, whose token
    /// (`token_hash`) is never shown.
    async fn import_line(
        &self,
        line: &ImportLine,
        token_hash: &TokenHash,
        now: OffsetDateTime,
    ) -> anyhow::Result<ImportOutcome>;

    /// Applies up to `limit` pending imports whose e-mail now belongs to a
    /// user with that e-mail verified: membership (cause `import`, legacy
    /// `joined_at`), invitation `accepted`, an `accepted` log row. Idempotent
    /// and safe on several replicas. Returns how many were applied.
    async fn apply_imports(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<u64>;

    /// Ends up to `limit` active memberships whose `expires_at` is not after
    /// `now` (`expired`, history row, invitations revoked). Idempotent and safe
    /// on several replicas: each membership is ended once. Returns how many.
    async fn expire_due(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<u64>;
}

/// Stores invitations and their acceptance log.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait InvitationRepository: Send + Sync {
    /// Inserts a new invitation and, in the same transaction, its e-mail into the outbox.
    async fn insert(&self, invitation: &Invitation, mail: Option<OutboxMail>) -> anyhow::Result<()>;

    /// The invitation whose token hashes to `hash`.
    async fn find_by_hash(&self, hash: &TokenHash) -> anyhow::Result<Option<Invitation>>;

    /// The invitation with this id.
    async fn find(&self, id: InvitationId) -> anyhow::Result<Option<Invitation>>;

    /// Invitations of `org`, newest first, optionally only in `state` as of `now`.
    async fn list(
        &self,
        org: OrganizationId,
        state: Option<InvitationState>,
        now: OffsetDateTime,
    ) -> anyhow::Result<Vec<Invitation>>;

    /// Pending, unexpired invitations bound to `user` or to `email`, newest first.
    async fn mine(
        &self,
        user: UserId,
        email: Option<EmailAddress>,
        now: OffsetDateTime,
    ) -> anyhow::Result<Vec<Invitation>>;

    /// Accepts in ONE transaction: increments `use_count` with a conditional
    /// update (`status = pending AND use_count < max_uses AND expires_at > now
    /// AND token_hash = invitation.token_hash`), setting status `accepted`
    /// when it reaches `max_uses`; applies `change` (insert, or
    /// compare-and-set update) with a history row (cause `invitation`); logs
    /// `log`. `Conflict` (nothing written) when any condition fails, so racing
    /// accepts never exceed `max_uses`.
    ///
    /// The guard deliberately does not compare `version`: concurrent accepts
    /// of a multi-use link only bump the counter, which the guard re-checks
    /// under the row lock, so they queue instead of failing each other. The
    /// token hash stands in for what an accept must not miss: a resend
    /// (which rotates it), while revocation and expiry are in the guard.
    async fn accept(
        &self,
        invitation: &Invitation,
        change: &MembershipChange,
        log: &Acceptance,
        now: OffsetDateTime,
    ) -> Result<(), WriteError>;

    /// Logs an attempt in its own transaction; consumes nothing.
    async fn log(&self, entry: &Acceptance) -> anyhow::Result<()>;

    /// Writes `next` (a status or token change of a pending invitation) over
    /// version `next.version - 1`, logging `entry` and queueing `mail` if
    /// given, in one transaction. `Conflict` if it moved.
    async fn update(
        &self,
        next: &Invitation,
        entry: Option<Acceptance>,
        mail: Option<OutboxMail>,
    ) -> Result<(), WriteError>;

    /// The acceptance log of one invitation, newest first.
    async fn acceptances(&self, id: InvitationId) -> anyhow::Result<Vec<Acceptance>>;

    /// Up to `limit` unsent, not abandoned outbox mails due at `now`, oldest first.
    async fn due_mails(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<OutboxMail>>;

    /// Claims a due mail by moving its `next_attempt_at` from the value read
    /// to `lease_until`; `false` if another worker (or replica) claimed it first.
    async fn claim_mail(&self, mail: &OutboxMail, lease_until: OffsetDateTime) -> anyhow::Result<bool>;

    /// Marks a mail sent.
    async fn mail_sent(&self, id: OutboxId, now: OffsetDateTime) -> anyhow::Result<()>;

    /// Records a failed send: retry at `retry_at`, or give up when `None`.
    async fn mail_failed(
        &self,
        id: OutboxId,
        attempts: u32,
        retry_at: Option<OffsetDateTime>,
        error: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<()>;
}

/// Makes invitation tokens.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait TokenGenerator: Send + Sync {
    /// A fresh, unguessable token.
    fn generate(&self) -> anyhow::Result<InvitationToken>;
}

/// 32 bytes from the operating system's CSPRNG.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsTokenGenerator;

impl TokenGenerator for OsTokenGenerator {
    fn generate(&self) -> anyhow::Result<InvitationToken> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the OS random source failed: {e}"))?;
        Ok(InvitationToken::from_bytes(&bytes))
    }
}

/// An invitation e-mail to send. It carries no secret: the link opens the
/// dashboard, where the signed-in invitee (whose verified e-mail is the
/// bound one) accepts by invitation id. Tokens are never stored, so an
/// outbox row that outlives the request cannot leak one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationMail {
    /// The recipient.
    pub to: EmailAddress,
    /// The organization's name.
    pub organization: String,
    /// Who invited.
    pub invited_by: String,
    /// The role offered.
    pub role: shared_kernel::OrgRole,
    /// `{public_url}/dashboard/invite?invitation={id}`.
    pub link: String,
    /// When the invitation expires.
    pub expires_at: OffsetDateTime,
}

/// An outbox row: a mail written in the invitation's transaction and sent
/// (and retried with backoff) by a background task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMail {
    /// Row id.
    pub id: OutboxId,
    /// The invitation it announces.
    pub invitation_id: InvitationId,
    /// The mail.
    pub mail: InvitationMail,
    /// Failed sends so far.
    pub attempts: u32,
    /// Not sent before this instant.
    pub next_attempt_at: OffsetDateTime,
}

/// Sends invitation e-mails.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends one invitation e-mail. An error means "retry later".
    async fn send_invitation(&self, mail: &InvitationMail) -> anyhow::Result<()>;
}

/// The embedded default: logs that a mail would be sent (never the link).
#[derive(Clone, Copy, Debug, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn send_invitation(&self, mail: &InvitationMail) -> anyhow::Result<()> {
        tracing::info!(to = %mail.to.as_str(), organization = %mail.organization, role = %mail.role, link = %mail.link,
            "invitation e-mail not sent: no SMTP server is configured");
        Ok(())
    }
}
