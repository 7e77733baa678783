//! The ports of organizations and invitations.
//!
//! Every method is atomic. Methods that carry out a [`MembershipPlan`] MUST
//! do all of it in one transaction: check the plan's `Unchanged`,
//! `NotBlocked` and `Quota` guards before the write and its `Remains`
//! guards after it (serialising `Remains` and `Quota` checks per
//! organization or counter), write the membership with a compare-and-set
//! on `version - 1` (answering `WriteError::Conflict`, writing nothing, when
//! it moved), close the current history row and add the new one, and carry
//! out the effects. They decide nothing: every decision is in the plan.

use crate::error::WriteError;
use crate::model::{
    AcceptPlan, Acceptance, Account, Delivery, DueImport, Expiry, Founding, ImportLine, Invitation, InvitationDraft,
    InvitationId, InvitationMail, InvitationQuery, InvitationToken, InvitationUpdate, Invitee, Member, MemberQuery,
    Membership, MembershipHistory, MembershipPlan, Organization, OrganizationId, OutboxId, OutboxMail, SidebarApp,
    Standing, TokenHash, Unblock, Zone,
};
use async_trait::async_trait;
use image_upload::{ObjectKey, TicketId};
use shared_kernel::{EmailAddress, Page, PageRequest, UserId};
use time::OffsetDateTime;

/// A user blocked from an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The blocked user.
    pub user_id: UserId,
    /// Their display name.
    pub display_name: String,
    /// Their e-mail.
    pub email: String,
    /// Who blocked them.
    pub blocked_by: UserId,
    /// When.
    pub blocked_at: OffsetDateTime,
}

/// Stores organizations, zones, memberships, their history and blocks.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait OrganizationRepository: Send + Sync {
    /// In one transaction: checks the founding's guards, inserts the
    /// organization (`Conflict` when its slug is taken), carries out the
    /// founding plan and makes the organization the creator's current one.
    async fn create(&self, founding: &Founding) -> Result<(), WriteError>;

    /// The organization, if it exists.
    async fn get(&self, id: OrganizationId) -> anyhow::Result<Option<Organization>>;

    /// The organization with this id, slug or exact name (the slug first,
    /// then the oldest of that name).
    async fn find(&self, reference: &str) -> anyhow::Result<Option<Organization>>;

    /// Renames, by `by`, and writes its `organization.updated`
    /// ([`organization_updated`](crate::events::organization_updated)) in
    /// the same transaction; `None` if it does not exist.
    async fn rename(
        &self,
        id: OrganizationId,
        name: &str,
        now: OffsetDateTime,
        by: UserId,
    ) -> anyhow::Result<Option<Organization>>;

    /// In ONE transaction: marks the still-issued upload ticket used, sets
    /// the logo, and writes its `organization.updated` by `by`. Returns the
    /// previous logo's key. `Conflict` if the ticket was used.
    async fn set_logo(
        &self,
        id: OrganizationId,
        ticket: TicketId,
        key: &ObjectKey,
        url: &str,
        now: OffsetDateTime,
        by: UserId,
    ) -> Result<Option<ObjectKey>, WriteError>;

    /// Clears the logo and writes its `organization.updated` by `by`, in
    /// one transaction; returns the removed object's key.
    async fn clear_logo(
        &self,
        id: OrganizationId,
        now: OffsetDateTime,
        by: UserId,
    ) -> anyhow::Result<Option<ObjectKey>>;

    /// Inserts a zone with its `zone.created` by `by`; `NameTaken` when the
    /// organization has one whose [`Zone::key`] is the same.
    async fn create_zone(&self, zone: &Zone, by: UserId) -> Result<(), WriteError>;

    /// The organization's zones, by name.
    async fn zones(&self, org: OrganizationId) -> anyhow::Result<Vec<Zone>>;

    /// The user's stored-active membership of `org` (possibly past its
    /// expiry: callers read it with `Membership::grants`).
    async fn active_membership(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Option<Membership>>;

    /// One page of the members the query selects, newest first (by
    /// `joined_at`, then id).
    async fn members(&self, query: &MemberQuery, page: &PageRequest<uuid::Uuid>) -> anyhow::Result<Page<Member>>;

    /// Carries out `plans` in order, in one transaction (see the module documentation).
    async fn apply(&self, plans: &[MembershipPlan]) -> Result<(), WriteError>;

    /// The history of `user` in `org`, oldest first.
    async fn history(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Vec<MembershipHistory>>;

    /// Makes `membership`'s organization its user's current one, while the
    /// membership is still stored active at its version (`Conflict` otherwise).
    async fn set_current(&self, membership: &Membership, now: OffsetDateTime) -> Result<(), WriteError>;

    /// The user's stored-active memberships with their organizations (the
    /// model keeps those granting access and orders them).
    async fn sidebar(&self, user: UserId) -> anyhow::Result<Vec<SidebarApp>>;

    /// The user's id, e-mail and verification flag.
    async fn invitee(&self, user: UserId) -> anyhow::Result<Option<Invitee>>;

    /// A user's display name.
    async fn display_name(&self, user: UserId) -> anyhow::Result<Option<String>>;

    /// The accounts whose e-mail is `email`.
    async fn accounts_with_email(&self, email: &EmailAddress) -> anyhow::Result<Vec<Account>>;

    /// Whether `user` is blocked from `org`.
    async fn is_blocked(&self, org: OrganizationId, user: UserId) -> anyhow::Result<bool>;

    /// [`Self::active_membership`] of `creator` (when given) and of `user`
    /// in `org`, and [`Self::is_blocked`] of `user`, read together (one
    /// round trip on SQL when either membership exists): what an acceptance
    /// is decided on.
    async fn standing(&self, org: OrganizationId, creator: Option<UserId>, user: UserId) -> anyhow::Result<Standing>;

    /// Lifts a block, with its event; `false` (and no event) if there was none.
    async fn unblock(&self, unblock: &Unblock) -> anyhow::Result<bool>;

    /// The users blocked from `org`, most recent first.
    async fn blocks(&self, org: OrganizationId) -> anyhow::Result<Vec<Block>>;

    /// Up to `limit` stored-active memberships whose `expires_at` is not
    /// after `now`, soonest first (the sweeper ends each with its plan).
    async fn due_expiries(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<Membership>>;
}

/// Stores invitations, their acceptance log, the e-mail outbox and imports.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait InvitationRepository: Send + Sync {
    /// Inserts a new invitation after checking the draft's guards, and
    /// queues its e-mail, in one transaction.
    async fn insert(&self, draft: &InvitationDraft, mail: Option<OutboxMail>) -> Result<(), WriteError>;

    /// The invitation whose token hashes to `hash`.
    async fn find_by_hash(&self, hash: &TokenHash) -> anyhow::Result<Option<Invitation>>;

    /// The invitation with this id.
    async fn find(&self, id: InvitationId) -> anyhow::Result<Option<Invitation>>;

    /// One page of the organization's invitations the query selects, newest first.
    async fn list(&self, query: &InvitationQuery, page: &PageRequest<uuid::Uuid>) -> anyhow::Result<Page<Invitation>>;

    /// One page of the invitations stored pending and unexpired at `at`,
    /// bound to `user` or to `email`, newest first.
    async fn mine(
        &self,
        user: UserId,
        email: Option<EmailAddress>,
        at: OffsetDateTime,
        page: &PageRequest<uuid::Uuid>,
    ) -> anyhow::Result<Page<Invitation>>;

    /// Accepts in ONE transaction: takes one use of `plan.read` with a
    /// conditional update that performs [`Invitation::take_use`] while the
    /// row is still pending, unexpired, not used up and carries
    /// `plan.read.token_hash` (`Conflict`, nothing written, otherwise); then
    /// carries out `plan.end_lapsed` and `plan.membership`; then logs `plan.log`.
    ///
    /// The guard deliberately does not compare `version`: concurrent accepts
    /// of a multi-use link only bump the counter, which the guard re-checks
    /// under the row lock, so they queue instead of failing each other.
    async fn accept(&self, plan: &AcceptPlan) -> Result<(), WriteError>;

    /// Logs a refused attempt and writes its `invitation.acceptance_failed`
    /// event, in their own transaction; consumes nothing.
    async fn log(&self, entry: &Acceptance, event: &shared_kernel::Event) -> anyhow::Result<()>;

    /// Writes `update.next` while the stored invitation is still pending
    /// (and carries `update.expected_token`, when given), after checking its
    /// guards, logging `entry` and queueing `mail`, in one transaction.
    /// `Conflict` (nothing written) when it no longer is.
    async fn update(
        &self,
        update: &InvitationUpdate,
        entry: Option<Acceptance>,
        mail: Option<OutboxMail>,
    ) -> Result<(), WriteError>;

    /// The acceptance log of one invitation, newest first.
    async fn acceptances(&self, id: InvitationId) -> anyhow::Result<Vec<Acceptance>>;

    /// Up to `limit` pending invitations whose expiry passed by `now` and
    /// was not announced yet (a resend's new expiry is announced anew), oldest expiry first.
    async fn unannounced_expiries(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<Invitation>>;

    /// Records that `expiry` was announced, with its `invitation.expired`, if
    /// the invitation is still pending with that expiry and not announced
    /// yet; `false` (and no event) when another run, a resend or a revoke came first.
    async fn announce_expiry(&self, expiry: &Expiry) -> Result<bool, WriteError>;

    /// Up to `limit` outbox mails not sent, not closed and due at `now`, oldest first.
    async fn due_mails(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<OutboxMail>>;

    /// Claims a due mail by moving its `next_attempt_at` from the value read
    /// to `lease_until`, and in the same transaction reads its invitation as
    /// it is now. `None` if another worker (or replica) claimed it first;
    /// `Some(None)` if the invitation is gone.
    async fn claim_mail(
        &self,
        mail: &OutboxMail,
        lease_until: OffsetDateTime,
    ) -> anyhow::Result<Option<Option<Invitation>>>;

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

    /// Closes a mail that will never be sent (cancelled, or deliberately not sent), saying why.
    async fn mail_closed(&self, id: OutboxId, reason: &str, now: OffsetDateTime) -> anyhow::Result<()>;

    /// Whether this organization and e-mail were imported before.
    async fn imported(&self, org: OrganizationId, email: &EmailAddress) -> anyhow::Result<bool>;

    /// Records an import line of `org` in one transaction: its invitation
    /// (none for a line whose account already is a member, which counts as
    /// applied), the import row (keyed by organization and e-mail;
    /// `Ok(false)`, nothing written, when a concurrent run recorded it
    /// first), and, for a line that joins at once, the acceptance `join`,
    /// whose import counts as applied.
    async fn record_import(
        &self,
        line: &ImportLine,
        org: OrganizationId,
        invitation: Option<Invitation>,
        join: Option<AcceptPlan>,
        now: OffsetDateTime,
    ) -> Result<bool, WriteError>;

    /// Up to `limit` unapplied imports whose invitation is still stored
    /// pending and whose e-mail some account has verified, oldest first,
    /// with the accounts having that e-mail.
    async fn due_imports(&self, limit: u32) -> anyhow::Result<Vec<DueImport>>;

    /// Applies one import in one transaction: marks it applied (`Ok(false)`
    /// when another replica did) and carries out `plan` like [`Self::accept`].
    async fn apply_import(&self, due: &DueImport, plan: &AcceptPlan) -> Result<bool, WriteError>;

    /// Settles an import the accept rules refused: marks it applied so it is
    /// never tried again, and logs the refusal, in one transaction.
    async fn settle_import(&self, due: &DueImport, log: &Acceptance) -> anyhow::Result<()>;
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

/// Links into the host's UI, supplied by the host (the app serves its dashboard).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait InvitationLinks: Send + Sync {
    /// The link that carries a token (shown once, put in QR codes). It
    /// should keep the token out of server logs (a URL fragment does).
    fn token_link(&self, token: &InvitationToken) -> String;

    /// The link an invitation e-mail carries: it names the invitation, no secret.
    fn invitation_link(&self, id: InvitationId) -> String;
}

/// Sends invitation e-mails.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends one invitation e-mail; `NotSent` when it deliberately does not.
    /// An error means "retry later".
    async fn send_invitation(&self, mail: &InvitationMail) -> anyhow::Result<Delivery>;
}

/// The embedded default: logs that a mail was not sent (never the link).
#[derive(Clone, Copy, Debug, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn send_invitation(&self, mail: &InvitationMail) -> anyhow::Result<Delivery> {
        tracing::info!(to = %mail.to.as_str(), organization = %mail.organization, role = %mail.role,
            "invitation e-mail not sent: no SMTP server is configured (smtp.url)");
        Ok(Delivery::NotSent("not sent: no SMTP server is configured (smtp.url)".to_owned()))
    }
}
