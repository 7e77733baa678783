//! The use cases: organizations, zones and memberships
//! ([`OrganizationService`]), the organization logo ([`LogoService`]) and
//! invitations ([`InvitationService`]).

use crate::error::{AcceptError, InvitationError, OrgError, WriteError};
use crate::model::OutboxId;
use crate::model::{
    Acceptance, ClientInfo, EndReason, HistoryCause, ImportLine, ImportOutcome, Invitation, InvitationId,
    InvitationKind, InvitationState, InvitationStatus, InvitationToken, Member, MemberFilter, Membership,
    MembershipHistory, Name, Organization, OrganizationId, Outcome, SidebarApp, Zone, ZoneId, may_grant, may_remove,
};
use crate::ports::{
    InvitationMail, InvitationRepository, Notifier, OrganizationRepository, OutboxMail, TokenGenerator,
};
use image_upload::{ImageUpload, ImageUploads, IssuedTicket};
use shared_kernel::{Actor, Clock, EmailAddress, OrgRole, Page, PageRequest, UserId};
use std::sync::Arc;
use time::Duration;

/// How often a use case re-reads and decides again after losing a
/// compare-and-set. Racing accepts of one link lose once per winner, so this
/// bounds the contenders one link can serve at once.
const MAX_ATTEMPTS: usize = 100;

/// Sends of one invitation e-mail before the outbox gives up on it.
pub const MAX_SEND_ATTEMPTS: u32 = 12;

/// The wait before retry `attempts + 1`: 30 s doubling, at most an hour.
fn backoff(attempts: u32) -> Duration {
    Duration::seconds(30_i64.saturating_mul(1_i64 << attempts.min(7)).min(3600))
}

/// Organizations, zones and memberships.
#[derive(Clone)]
pub struct OrganizationService {
    orgs: Arc<dyn OrganizationRepository>,
    clock: Arc<dyn Clock>,
}

impl OrganizationService {
    /// Builds the service.
    pub fn new(orgs: Arc<dyn OrganizationRepository>, clock: Arc<dyn Clock>) -> Self {
        Self { orgs, clock }
    }

    /// `org:required`: the caller's membership if it grants at least
    /// `required` right now (read from the database on every call, so an
    /// expired or ended membership grants nothing).
    pub async fn require(&self, actor: &Actor, org: OrganizationId, required: OrgRole) -> Result<Membership, OrgError> {
        let membership = self.orgs.active_membership(org, actor.user_id).await?.ok_or(OrgError::NotMember)?;
        match membership.grants(self.clock.now()) {
            None => Err(OrgError::NotMember),
            Some(role) if role.at_least(required) => Ok(membership),
            Some(_) => Err(OrgError::Forbidden { required }),
        }
    }

    /// Creates an organization; the caller becomes its admin and it becomes current.
    pub async fn create(&self, actor: &Actor, name: &Name) -> Result<Organization, OrgError> {
        let now = self.clock.now();
        let id = OrganizationId::new();
        let org = Organization {
            id,
            name: name.as_str().to_owned(),
            slug: name.slug(id),
            logo_url: None,
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
        };
        let admin = Membership::start(id, actor.user_id, OrgRole::Admin, vec![], None, None, now);
        self.orgs.create(&org, &admin).await?;
        Ok(org)
    }

    /// Makes `org` the caller's current organization.
    pub async fn switch(&self, actor: &Actor, org: OrganizationId) -> Result<(), OrgError> {
        if self.orgs.switch_current(actor.user_id, org, self.clock.now()).await? {
            Ok(())
        } else {
            Err(OrgError::NotMember)
        }
    }

    /// The organization and its zones (`org:guest`).
    pub async fn get(&self, actor: &Actor, org: OrganizationId) -> Result<(Organization, Vec<Zone>), OrgError> {
        self.require(actor, org, OrgRole::Guest).await?;
        let found = self.orgs.get(org).await?.ok_or(OrgError::NotMember)?;
        Ok((found, self.orgs.zones(org).await?))
    }

    /// Renames the organization (`org:admin`).
    pub async fn rename(&self, actor: &Actor, org: OrganizationId, name: &Name) -> Result<Organization, OrgError> {
        self.require(actor, org, OrgRole::Admin).await?;
        self.orgs.rename(org, name.as_str(), self.clock.now()).await?.ok_or(OrgError::NotMember)
    }

    /// Creates a zone (`org:admin`).
    pub async fn create_zone(&self, actor: &Actor, org: OrganizationId, name: &Name) -> Result<Zone, OrgError> {
        self.require(actor, org, OrgRole::Admin).await?;
        let zone = Zone {
            id: ZoneId::new(),
            organization_id: org,
            name: name.as_str().to_owned(),
            created_at: self.clock.now(),
        };
        self.orgs.create_zone(&zone).await?;
        Ok(zone)
    }

    /// The zones (`org:guest`).
    pub async fn zones(&self, actor: &Actor, org: OrganizationId) -> Result<Vec<Zone>, OrgError> {
        self.require(actor, org, OrgRole::Guest).await?;
        Ok(self.orgs.zones(org).await?)
    }

    /// The members (`org:moderator`).
    pub async fn members(
        &self,
        actor: &Actor,
        org: OrganizationId,
        filter: &MemberFilter,
        page: &PageRequest,
    ) -> Result<Page<Member>, OrgError> {
        self.require(actor, org, OrgRole::Moderator).await?;
        Ok(self.orgs.members(org, filter, page, self.clock.now()).await?)
    }

    /// Changes a member's role (`org:admin`); the last admin cannot be demoted.
    pub async fn update_role(
        &self,
        actor: &Actor,
        org: OrganizationId,
        user: UserId,
        role: OrgRole,
    ) -> Result<Membership, OrgError> {
        self.require(actor, org, OrgRole::Admin).await?;
        self.change(org, user, Some(actor.user_id), |m| {
            (m.role != role).then(|| (m.with_role(role), HistoryCause::RoleChange))
        })
        .await
    }

    /// Removes a member (`org:moderator`; moderators remove guests and members only).
    pub async fn remove(&self, actor: &Actor, org: OrganizationId, user: UserId) -> Result<Membership, OrgError> {
        let own = self.require(actor, org, OrgRole::Moderator).await?;
        let target = self.orgs.active_membership(org, user).await?.ok_or(OrgError::MemberNotFound)?;
        if !may_remove(own.role, target.role) {
            return Err(OrgError::RoleNotAllowed(target.role));
        }
        let now = self.clock.now();
        self.change(org, user, Some(actor.user_id), |m| Some((m.ended(EndReason::Removed, now), HistoryCause::Removed)))
            .await
    }

    /// The caller leaves the organization.
    pub async fn leave(&self, actor: &Actor, org: OrganizationId) -> Result<Membership, OrgError> {
        let now = self.clock.now();
        self.change(org, actor.user_id, Some(actor.user_id), |m| {
            Some((m.ended(EndReason::Left, now), HistoryCause::Left))
        })
        .await
        .map_err(|e| if matches!(e, OrgError::MemberNotFound) { OrgError::NotMember } else { e })
    }

    /// Re-reads the active membership and applies `next` until the
    /// compare-and-set holds. `next` returning `None` means nothing to change.
    async fn change(
        &self,
        org: OrganizationId,
        user: UserId,
        by: Option<UserId>,
        next: impl Fn(&Membership) -> Option<(Membership, HistoryCause)>,
    ) -> Result<Membership, OrgError> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.orgs.active_membership(org, user).await?.ok_or(OrgError::MemberNotFound)?;
            let Some((updated, cause)) = next(&current) else { return Ok(current) };
            match self.orgs.update_membership(&updated, cause, by, self.clock.now()).await {
                Ok(()) => return Ok(updated),
                Err(WriteError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(OrgError::Conflict)
    }

    /// One user's membership history in `org` (`org:admin`).
    pub async fn history(
        &self,
        actor: &Actor,
        org: OrganizationId,
        user: UserId,
    ) -> Result<Vec<MembershipHistory>, OrgError> {
        self.require(actor, org, OrgRole::Admin).await?;
        Ok(self.orgs.history(org, user).await?)
    }

    /// The caller's organizations (seed 002's sidebar).
    pub async fn sidebar(&self, actor: &Actor) -> Result<Vec<SidebarApp>, OrgError> {
        Ok(self.orgs.sidebar(actor.user_id, self.clock.now()).await?)
    }

    /// Imports legacy memberships line by line (FiO "Case 1"); one outcome per line.
    pub async fn import(
        &self,
        lines: &[ImportLine],
        tokens: &dyn TokenGenerator,
    ) -> anyhow::Result<Vec<ImportOutcome>> {
        let mut outcomes = Vec::with_capacity(lines.len());
        for line in lines {
            // The invitation's token is never shown: the invitee is admitted
            // at sign-in, not by link.
            let hash = tokens.generate()?.hash();
            outcomes.push(self.orgs.import_line(line, &hash, self.clock.now()).await?);
        }
        Ok(outcomes)
    }

    /// Applies imports whose invitee has signed in since; how many.
    pub async fn apply_imports(&self, limit: u32) -> anyhow::Result<u64> {
        self.orgs.apply_imports(self.clock.now(), limit).await
    }

    /// Ends time-bound memberships that ran out; how many.
    pub async fn sweep(&self, limit: u32) -> anyhow::Result<u64> {
        self.orgs.expire_due(self.clock.now(), limit).await
    }
}

/// The organization logo: seed 003's two-step upload with owner = organization id.
#[derive(Clone)]
pub struct LogoService {
    orgs: OrganizationService,
    repo: Arc<dyn OrganizationRepository>,
    uploads: ImageUploads,
    policy: ImageUpload,
}

impl LogoService {
    /// Builds the use cases with the logo `policy` (purpose `logo`, prefix `logos`).
    pub fn new(
        orgs: OrganizationService,
        repo: Arc<dyn OrganizationRepository>,
        uploads: ImageUploads,
        policy: ImageUpload,
    ) -> Self {
        Self { orgs, repo, uploads, policy }
    }

    /// The logo upload policy of seed 003 with the given rate limit.
    pub fn policy(tries_per_window: u32, window: Duration) -> ImageUpload {
        ImageUpload { purpose: "logo", key_prefix: "logos", ..ImageUpload::avatar(tries_per_window, window) }
    }

    /// A presigned upload of a new logo (`org:admin`).
    pub async fn ticket(
        &self,
        actor: &Actor,
        org: OrganizationId,
        content_type: &str,
    ) -> Result<IssuedTicket, LogoError> {
        self.orgs.require(actor, org, OrgRole::Admin).await?;
        Ok(self.uploads.issue_ticket(&self.policy, &org.to_string(), actor.user_id, content_type).await?)
    }

    /// Verifies the upload and makes it the logo (`org:admin`); deletes the previous one.
    pub async fn finalize(&self, actor: &Actor, org: OrganizationId, tmp_key: &str) -> Result<String, LogoError> {
        self.orgs.require(actor, org, OrgRole::Admin).await?;
        let upload = self.uploads.verify(&self.policy, &org.to_string(), actor.user_id, tmp_key).await?;
        let now = upload.ticket.created_at.max(self.orgs.clock.now());
        match self.repo.set_logo(org, upload.ticket.id, &upload.key, &upload.url, now).await {
            Ok(previous) => {
                if let Some(previous) = previous.filter(|p| *p != upload.key) {
                    // A leftover object costs storage, not correctness.
                    let _ = self.uploads.store().delete(&previous).await;
                }
                Ok(upload.url)
            }
            Err(e) => {
                let _ = self.uploads.store().delete(&upload.key).await;
                Err(match e {
                    WriteError::Conflict => image_upload::FinalizeError::TicketUsed.into(),
                    other => OrgError::from(other).into(),
                })
            }
        }
    }

    /// Removes the logo (`org:admin`).
    pub async fn remove(&self, actor: &Actor, org: OrganizationId) -> Result<(), LogoError> {
        self.orgs.require(actor, org, OrgRole::Admin).await?;
        if let Some(previous) = self.repo.clear_logo(org, self.orgs.clock.now()).await.map_err(OrgError::from)? {
            let _ = self.uploads.store().delete(&previous).await;
        }
        Ok(())
    }
}

/// A logo use case failed.
#[derive(Debug, thiserror::Error)]
pub enum LogoError {
    /// Authorisation.
    #[error(transparent)]
    Org(#[from] OrgError),
    /// Issuing the ticket.
    #[error(transparent)]
    Ticket(#[from] image_upload::TicketError),
    /// Finalizing.
    #[error(transparent)]
    Finalize(#[from] image_upload::FinalizeError),
}

/// The input of invitation create, already parsed.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    /// The organization.
    pub organization_id: OrganizationId,
    /// The zone, if any.
    pub zone_id: Option<ZoneId>,
    /// The role granted.
    pub role: OrgRole,
    /// Bound e-mail (normalised).
    pub email: Option<EmailAddress>,
    /// Bound user.
    pub user_id: Option<UserId>,
    /// Internal or external.
    pub kind: InvitationKind,
    /// 1..=1000.
    pub max_uses: u32,
    /// 1 h..=30 d.
    pub expires_in: Duration,
    /// How long granted memberships last.
    pub membership_duration: Option<Duration>,
}

/// A created (or resent) invitation with its one-time secret.
#[derive(Clone, Debug)]
pub struct CreatedInvitation {
    /// The invitation.
    pub invitation: Invitation,
    /// The token, shown once.
    pub token: InvitationToken,
    /// `{public_url}/dashboard/invite#token=…`
    pub url: String,
}

/// What the public preview shows.
#[derive(Clone, Debug)]
pub struct Preview {
    /// The invitation.
    pub invitation: Invitation,
    /// Its organization.
    pub organization: Organization,
    /// Its zone.
    pub zone: Option<Zone>,
    /// The inviter's display name.
    pub invited_by: String,
    /// Its state now.
    pub state: InvitationState,
    /// Why it cannot be used, if it cannot.
    pub reason: Option<&'static str>,
}

/// The invitation use cases.
#[derive(Clone)]
pub struct InvitationService {
    orgs: OrganizationService,
    org_repo: Arc<dyn OrganizationRepository>,
    invitations: Arc<dyn InvitationRepository>,
    tokens: Arc<dyn TokenGenerator>,
    notifier: Arc<dyn Notifier>,
    clock: Arc<dyn Clock>,
    public_url: String,
}

impl InvitationService {
    /// Builds the service; links are made under `public_url`.
    pub fn new(
        org_repo: Arc<dyn OrganizationRepository>,
        invitations: Arc<dyn InvitationRepository>,
        tokens: Arc<dyn TokenGenerator>,
        notifier: Arc<dyn Notifier>,
        clock: Arc<dyn Clock>,
        public_url: &str,
    ) -> Self {
        Self {
            orgs: OrganizationService::new(org_repo.clone(), clock.clone()),
            org_repo,
            invitations,
            tokens,
            notifier,
            clock,
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The link for a token; the token sits in the fragment so it never
    /// reaches a server log.
    pub fn url(&self, token: &InvitationToken) -> String {
        format!("{}/dashboard/invite#token={}", self.public_url, token.expose())
    }

    /// Creates an invitation (`org:moderator`; nobody grants above their own
    /// role and moderators grant only guest or member).
    pub async fn create(&self, actor: &Actor, new: NewInvitation) -> Result<CreatedInvitation, InvitationError> {
        let own = self.orgs.require(actor, new.organization_id, OrgRole::Moderator).await?;
        if !may_grant(own.role, new.role) {
            return Err(OrgError::RoleNotAllowed(new.role).into());
        }
        if !(1..=1000).contains(&new.max_uses) {
            return Err(InvitationError::Invalid("maxUses is 1..1000".into()));
        }
        if new.expires_in < Duration::hours(1) || new.expires_in > Duration::days(30) {
            return Err(InvitationError::Invalid("expiresInSeconds is 3600..2592000 (1 hour to 30 days)".into()));
        }
        if new.membership_duration.is_some_and(|d| d <= Duration::ZERO || d > Duration::days(3660)) {
            return Err(InvitationError::Invalid("membershipDurationSeconds is 1..316224000 (10 years)".into()));
        }
        if let Some(user) = new.user_id
            && self.org_repo.invitee(user).await?.is_none()
        {
            return Err(InvitationError::Invalid(format!("userId: there is no user {user}")));
        }
        if let Some(zone) = new.zone_id
            && !self.org_repo.zones(new.organization_id).await?.iter().any(|z| z.id == zone)
        {
            return Err(OrgError::ZoneNotFound.into());
        }
        let now = self.clock.now();
        let token = self.tokens.generate()?;
        let invitation = Invitation {
            id: InvitationId::new(),
            organization_id: new.organization_id,
            zone_id: new.zone_id,
            role: new.role,
            email: new.email,
            user_id: new.user_id,
            kind: new.kind,
            max_uses: new.max_uses,
            use_count: 0,
            expires_at: now + new.expires_in,
            valid_for: new.expires_in,
            membership_duration: new.membership_duration,
            status: InvitationStatus::Pending,
            token_hash: token.hash(),
            created_by: actor.user_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mail = self.outbox_mail(actor, &invitation).await?;
        self.invitations.insert(&invitation, mail).await?;
        Ok(CreatedInvitation { url: self.url(&token), invitation, token })
    }

    /// The outbox row announcing an e-mail-bound invitation (none for others).
    async fn outbox_mail(&self, actor: &Actor, invitation: &Invitation) -> anyhow::Result<Option<OutboxMail>> {
        let Some(to) = invitation.email.clone() else { return Ok(None) };
        let organization = self.org_repo.get(invitation.organization_id).await?.map(|o| o.name).unwrap_or_default();
        let invited_by = self.org_repo.display_name(actor.user_id).await?.unwrap_or_default();
        Ok(Some(OutboxMail {
            id: OutboxId::new(),
            invitation_id: invitation.id,
            mail: InvitationMail {
                to,
                organization,
                invited_by,
                role: invitation.role,
                link: format!("{}/dashboard/invite?invitation={}", self.public_url, invitation.id),
                expires_at: invitation.expires_at,
            },
            attempts: 0,
            next_attempt_at: self.clock.now(),
        }))
    }

    /// Sends due outbox mails; how many were sent. A failed send is retried
    /// with exponential backoff (30 s doubling, at most an hour apart) and
    /// abandoned after [`MAX_SEND_ATTEMPTS`]; the invitation itself is never
    /// affected. Claims are compare-and-set, so replicas never send twice.
    pub async fn drain_outbox(&self, limit: u32) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut sent = 0;
        for due in self.invitations.due_mails(now, limit).await? {
            // The lease covers a slow SMTP server; a crashed sender's claim lapses.
            if !self.invitations.claim_mail(&due, now + Duration::minutes(5)).await? {
                continue;
            }
            match self.notifier.send_invitation(&due.mail).await {
                Ok(()) => {
                    self.invitations.mail_sent(due.id, self.clock.now()).await?;
                    sent += 1;
                }
                Err(e) => {
                    let attempts = due.attempts + 1;
                    let retry_at = (attempts < MAX_SEND_ATTEMPTS).then(|| self.clock.now() + backoff(attempts));
                    tracing::warn!(invitation = %due.invitation_id, attempts, error = %e,
                        "sending an invitation e-mail failed");
                    self.invitations
                        .mail_failed(due.id, attempts, retry_at, &format!("{e:#}"), self.clock.now())
                        .await?;
                }
            }
        }
        Ok(sent)
    }

    /// What a token grants, or why it cannot be used. Public; changes nothing.
    pub async fn preview(&self, token: &InvitationToken) -> Result<Preview, InvitationError> {
        let invitation = self.invitations.find_by_hash(&token.hash()).await?.ok_or(InvitationError::NotFound)?;
        let organization = self.org_repo.get(invitation.organization_id).await?.ok_or(InvitationError::NotFound)?;
        let zone = match invitation.zone_id {
            Some(id) => self.org_repo.zones(invitation.organization_id).await?.into_iter().find(|z| z.id == id),
            None => None,
        };
        let invited_by = self.org_repo.display_name(invitation.created_by).await?.unwrap_or_default();
        let now = self.clock.now();
        Ok(Preview {
            state: invitation.state(now),
            reason: invitation.unusable_reason(now),
            invitation,
            organization,
            zone,
            invited_by,
        })
    }

    /// Accepts by token.
    pub async fn accept_token(
        &self,
        actor: &Actor,
        token: &InvitationToken,
        client: &ClientInfo,
    ) -> Result<Membership, AcceptError> {
        let hash = token.hash();
        self.accept(actor, client, || async { self.invitations.find_by_hash(&hash).await }).await
    }

    /// Accepts a bound invitation by id (open links need their token).
    pub async fn accept_id(
        &self,
        actor: &Actor,
        id: InvitationId,
        client: &ClientInfo,
    ) -> Result<Membership, AcceptError> {
        self.accept(actor, client, || async { Ok(self.invitations.find(id).await?.filter(Invitation::is_bound)) }).await
    }

    async fn accept<F, Fut>(&self, actor: &Actor, client: &ClientInfo, load: F) -> Result<Membership, AcceptError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = anyhow::Result<Option<Invitation>>>,
    {
        let invitee = self.org_repo.invitee(actor.user_id).await?.ok_or(AcceptError::UserGone)?;
        for _ in 0..MAX_ATTEMPTS {
            let invitation = load().await?.ok_or(AcceptError::NotFound)?;
            let now = self.clock.now();
            if self.end_lapsed_creator(&invitation, now).await? {
                // Their pending invitations, this one included, are revoked now: read it again.
                continue;
            }
            let existing = self.org_repo.active_membership(invitation.organization_id, actor.user_id).await?;
            match invitation.decide_accept(&invitee, existing.as_ref(), now) {
                Err(refusal) => {
                    let entry = Acceptance::new(
                        invitation.id,
                        Some(actor.user_id),
                        Outcome::Failed,
                        Some(refusal.reason()),
                        client,
                        now,
                    );
                    self.invitations.log(&entry).await?;
                    return Err(refusal.into());
                }
                Ok(change) => {
                    let entry =
                        Acceptance::new(invitation.id, Some(actor.user_id), Outcome::Accepted, None, client, now);
                    match self.invitations.accept(&invitation, &change, &entry, now).await {
                        Ok(()) => return Ok(change.result().clone()),
                        // Another accept (or a revoke) won: read again and decide again.
                        Err(WriteError::Conflict) => continue,
                        Err(e) => return Err(anyhow::Error::new(e).context("accepting an invitation").into()),
                    }
                }
            }
        }
        Err(AcceptError::Conflict)
    }

    /// Ending a membership revokes the pending invitations its holder created
    /// (invitations.md), and a time-bound membership ends at its `expiresAt`
    /// whether or not the sweeper has run. So when the creator of a pending
    /// invitation holds a membership that ran out, it is ended here as the
    /// sweeper would end it (history row, invitations revoked), and `true`
    /// says the invitation must be read again. Without this, an expired
    /// moderator's links kept granting access until the next sweep.
    async fn end_lapsed_creator(
        &self,
        invitation: &Invitation,
        now: time::OffsetDateTime,
    ) -> Result<bool, AcceptError> {
        if invitation.status != InvitationStatus::Pending {
            return Ok(false);
        }
        let creator = self.org_repo.active_membership(invitation.organization_id, invitation.created_by).await?;
        let Some(creator) = creator.filter(|m| m.grants(now).is_none()) else { return Ok(false) };
        let ended = creator.ended(EndReason::Expired, now);
        match self.org_repo.update_membership(&ended, HistoryCause::Expired, None, now).await {
            // A conflict means the sweeper or another request ended it first.
            Ok(()) | Err(WriteError::Conflict) => Ok(true),
            Err(e) => Err(anyhow::Error::new(e).context("ending a creator's lapsed membership").into()),
        }
    }

    /// The bound invitee declines; it leaves their list and stays visible to the organization.
    pub async fn reject(
        &self,
        actor: &Actor,
        id: InvitationId,
        client: &ClientInfo,
    ) -> Result<Invitation, InvitationError> {
        let invitation = self.invitations.find(id).await?.ok_or(InvitationError::NotFound)?;
        self.reject_loaded(actor, invitation, client).await
    }

    /// The bound invitee declines the invitation this token opens (the
    /// landing page holds only the token).
    pub async fn reject_token(
        &self,
        actor: &Actor,
        token: &InvitationToken,
        client: &ClientInfo,
    ) -> Result<Invitation, InvitationError> {
        let invitation = self.invitations.find_by_hash(&token.hash()).await?.ok_or(InvitationError::NotFound)?;
        self.reject_loaded(actor, invitation, client).await
    }

    async fn reject_loaded(
        &self,
        actor: &Actor,
        invitation: Invitation,
        client: &ClientInfo,
    ) -> Result<Invitation, InvitationError> {
        let invitee = self.org_repo.invitee(actor.user_id).await?.ok_or(InvitationError::NotFound)?;
        let id = invitation.id;
        if !invitation.is_bound() {
            return Err(InvitationError::OpenLink);
        }
        if !invitation.is_for(&invitee) {
            return Err(InvitationError::NotAddressee);
        }
        let now = self.clock.now();
        let state = invitation.state(now);
        if state != InvitationState::Pending {
            return Err(InvitationError::NotPending(state.as_str()));
        }
        let next = Invitation {
            status: InvitationStatus::Rejected,
            updated_at: now,
            version: invitation.version + 1,
            ..invitation
        };
        let entry = Acceptance::new(id, Some(actor.user_id), Outcome::Declined, None, client, now);
        self.invitations.update(&next, Some(entry), None).await?;
        Ok(next)
    }

    /// Loads an invitation the caller may manage: `org:moderator`, and
    /// moderators only invitations granting guest or member.
    async fn manageable(&self, actor: &Actor, id: InvitationId) -> Result<Invitation, InvitationError> {
        let invitation = self.invitations.find(id).await?.ok_or(InvitationError::NotFound)?;
        let own = match self.orgs.require(actor, invitation.organization_id, OrgRole::Moderator).await {
            Ok(m) => m,
            // Outsiders learn nothing about the invitation.
            Err(OrgError::NotMember) => return Err(InvitationError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if !may_grant(own.role, invitation.role) {
            return Err(OrgError::RoleNotAllowed(invitation.role).into());
        }
        Ok(invitation)
    }

    /// Withdraws a pending invitation.
    pub async fn revoke(&self, actor: &Actor, id: InvitationId) -> Result<Invitation, InvitationError> {
        let invitation = self.manageable(actor, id).await?;
        if invitation.status != InvitationStatus::Pending {
            return Err(InvitationError::NotPending(invitation.state(self.clock.now()).as_str()));
        }
        let next = Invitation {
            status: InvitationStatus::Revoked,
            updated_at: self.clock.now(),
            version: invitation.version + 1,
            ..invitation
        };
        self.invitations.update(&next, None, None).await?;
        Ok(next)
    }

    /// Rotates the token of a pending or expired invitation and renews its
    /// expiry by the original validity; same id and log.
    pub async fn resend(&self, actor: &Actor, id: InvitationId) -> Result<CreatedInvitation, InvitationError> {
        let invitation = self.manageable(actor, id).await?;
        if invitation.status != InvitationStatus::Pending {
            return Err(InvitationError::NotPending(invitation.state(self.clock.now()).as_str()));
        }
        let now = self.clock.now();
        let token = self.tokens.generate()?;
        let next = Invitation {
            token_hash: token.hash(),
            expires_at: now + invitation.valid_for,
            updated_at: now,
            version: invitation.version + 1,
            ..invitation
        };
        let mail = self.outbox_mail(actor, &next).await?;
        self.invitations.update(&next, None, mail).await?;
        Ok(CreatedInvitation { url: self.url(&token), invitation: next, token })
    }

    /// The organization's invitations (`org:moderator`), optionally in one state.
    pub async fn list(
        &self,
        actor: &Actor,
        org: OrganizationId,
        state: Option<InvitationState>,
    ) -> Result<Vec<Invitation>, InvitationError> {
        self.orgs.require(actor, org, OrgRole::Moderator).await?;
        Ok(self.invitations.list(org, state, self.clock.now()).await?)
    }

    /// Pending invitations addressed to the caller (their id, or their verified e-mail).
    pub async fn mine(&self, actor: &Actor) -> Result<Vec<(Invitation, Organization)>, InvitationError> {
        let invitee = self.org_repo.invitee(actor.user_id).await?.ok_or(InvitationError::NotFound)?;
        let email = invitee.email_verified.then_some(invitee.email);
        let mut out = Vec::new();
        for invitation in self.invitations.mine(actor.user_id, email, self.clock.now()).await? {
            if let Some(org) = self.org_repo.get(invitation.organization_id).await? {
                out.push((invitation, org));
            }
        }
        Ok(out)
    }

    /// The acceptance log of one invitation (`org:admin`), newest first.
    pub async fn acceptances(&self, actor: &Actor, id: InvitationId) -> Result<Vec<Acceptance>, InvitationError> {
        let invitation = self.invitations.find(id).await?.ok_or(InvitationError::NotFound)?;
        match self.orgs.require(actor, invitation.organization_id, OrgRole::Admin).await {
            Err(OrgError::NotMember) => return Err(InvitationError::NotFound),
            other => other?,
        };
        Ok(self.invitations.acceptances(id).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Invitee, TokenHash};
    use crate::ports::{MockInvitationRepository, MockNotifier, MockOrganizationRepository, OsTokenGenerator};
    use shared_kernel::{FixedClock, PlatformRole};
    use time::macros::datetime;

    const NOW: time::OffsetDateTime = datetime!(2026-06-14 10:00 UTC);

    fn actor(id: i64) -> Actor {
        Actor { user_id: UserId::new(id), role: PlatformRole::User }
    }

    fn invitation(org: OrganizationId, max_uses: u32) -> Invitation {
        Invitation {
            id: InvitationId::new(),
            organization_id: org,
            zone_id: None,
            role: OrgRole::Member,
            email: None,
            user_id: None,
            kind: InvitationKind::Internal,
            max_uses,
            use_count: 0,
            expires_at: NOW + Duration::days(1),
            valid_for: Duration::days(1),
            membership_duration: None,
            status: InvitationStatus::Pending,
            token_hash: TokenHash::from_hex(&"0".repeat(64)).unwrap(),
            created_by: UserId::new(1),
            created_at: NOW,
            updated_at: NOW,
            version: 1,
        }
    }

    fn service(orgs: MockOrganizationRepository, invitations: MockInvitationRepository) -> InvitationService {
        InvitationService::new(
            Arc::new(orgs),
            Arc::new(invitations),
            Arc::new(OsTokenGenerator),
            Arc::new(MockNotifier::new()),
            Arc::new(FixedClock::at(NOW)),
            "https://usher.test/",
        )
    }

    fn member_of(org: OrganizationId, user: i64, role: OrgRole) -> Membership {
        Membership::start(org, UserId::new(user), role, vec![], None, None, NOW - Duration::days(1))
    }

    #[tokio::test]
    async fn moderators_cannot_invite_moderators() {
        let org = OrganizationId::new();
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_active_membership().returning(move |_, _| Ok(Some(member_of(org, 1, OrgRole::Moderator))));
        let svc = service(orgs, MockInvitationRepository::new());
        let new = NewInvitation {
            organization_id: org,
            zone_id: None,
            role: OrgRole::Moderator,
            email: None,
            user_id: None,
            kind: InvitationKind::Internal,
            max_uses: 1,
            expires_in: Duration::days(7),
            membership_duration: None,
        };
        let err = svc.create(&actor(1), new).await.unwrap_err();
        assert!(matches!(err, InvitationError::Org(OrgError::RoleNotAllowed(OrgRole::Moderator))));
    }

    #[tokio::test]
    async fn created_links_carry_the_token_in_the_fragment_and_store_only_its_hash() {
        let org = OrganizationId::new();
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_active_membership().returning(move |_, _| Ok(Some(member_of(org, 1, OrgRole::Admin))));
        let mut invitations = MockInvitationRepository::new();
        invitations.expect_insert().times(1).returning(|_, mail| {
            assert!(mail.is_none(), "open links send no e-mail");
            Ok(())
        });
        let svc = service(orgs, invitations);
        let new = NewInvitation {
            organization_id: org,
            zone_id: None,
            role: OrgRole::Admin,
            email: None,
            user_id: None,
            kind: InvitationKind::Internal,
            max_uses: 10,
            expires_in: Duration::days(7),
            membership_duration: None,
        };
        let created = svc.create(&actor(1), new).await.unwrap();
        assert_eq!(created.url, format!("https://usher.test/dashboard/invite#token={}", created.token.expose()));
        assert_eq!(created.invitation.token_hash, created.token.hash());
        assert_eq!(created.invitation.expires_at, NOW + Duration::days(7));
    }

    #[tokio::test]
    async fn a_refused_accept_is_logged_and_consumes_nothing() {
        let org = OrganizationId::new();
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_invitee().returning(|_| {
            Ok(Some(Invitee {
                user_id: UserId::new(2),
                email: EmailAddress::parse("b@x.io").unwrap(),
                email_verified: true,
            }))
        });
        orgs.expect_active_membership().returning(|_, _| Ok(None));
        let mut invitations = MockInvitationRepository::new();
        let mut expired = invitation(org, 1);
        expired.expires_at = NOW;
        invitations.expect_find_by_hash().returning(move |_| Ok(Some(expired.clone())));
        invitations
            .expect_log()
            .withf(|a| a.outcome == Outcome::Failed && a.reason.as_deref() == Some("expired"))
            .times(1)
            .returning(|_| Ok(()));
        invitations.expect_accept().never();
        let svc = service(orgs, invitations);
        let token = InvitationToken::from_presented("abc");
        let err = svc.accept_token(&actor(2), &token, &ClientInfo::default()).await.unwrap_err();
        assert!(matches!(err, AcceptError::Refused(crate::model::Refusal::Expired)));
    }

    #[tokio::test]
    async fn a_lost_compare_and_set_reads_again_and_decides_again() {
        let org = OrganizationId::new();
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_invitee().returning(|_| {
            Ok(Some(Invitee {
                user_id: UserId::new(2),
                email: EmailAddress::parse("b@x.io").unwrap(),
                email_verified: true,
            }))
        });
        orgs.expect_active_membership().returning(|_, _| Ok(None));
        let mut invitations = MockInvitationRepository::new();
        let mut seq = mockall::Sequence::new();
        let fresh = invitation(org, 1);
        let mut taken = fresh.clone();
        taken.use_count = 1;
        taken.status = InvitationStatus::Accepted;
        invitations.expect_find_by_hash().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(fresh.clone())));
        invitations.expect_accept().times(1).in_sequence(&mut seq).returning(|_, _, _, _| Err(WriteError::Conflict));
        invitations.expect_find_by_hash().times(1).in_sequence(&mut seq).returning(move |_| Ok(Some(taken.clone())));
        invitations.expect_log().withf(|a| a.reason.as_deref() == Some("used_up")).times(1).returning(|_| Ok(()));
        let svc = service(orgs, invitations);
        let err = svc.accept_token(&actor(2), &InvitationToken::from_presented("t"), &ClientInfo::default()).await;
        assert!(matches!(err, Err(AcceptError::Refused(crate::model::Refusal::UsedUp))));
    }

    #[tokio::test]
    async fn a_link_whose_creator_ran_out_is_revoked_before_it_grants() {
        let org = OrganizationId::new();
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_invitee().returning(|_| {
            Ok(Some(Invitee {
                user_id: UserId::new(2),
                email: EmailAddress::parse("b@x.io").unwrap(),
                email_verified: true,
            }))
        });
        let mut seq = mockall::Sequence::new();
        // The creator (user 1) is a moderator whose membership ran out at NOW.
        orgs.expect_active_membership().times(1).in_sequence(&mut seq).returning(move |_, user| {
            assert_eq!(user, UserId::new(1), "the creator's membership is read first");
            let mut m = member_of(org, 1, OrgRole::Moderator);
            m.expires_at = Some(NOW);
            Ok(Some(m))
        });
        orgs.expect_update_membership()
            .withf(|m, cause, by, _| {
                m.status == crate::model::MembershipStatus::Inactive
                    && m.end_reason == Some(EndReason::Expired)
                    && *cause == HistoryCause::Expired
                    && by.is_none()
            })
            .times(1)
            .in_sequence(&mut seq)
            .returning(|_, _, _, _| Ok(()));
        orgs.expect_active_membership().returning(|_, _| Ok(None));
        let mut invitations = MockInvitationRepository::new();
        let pending = invitation(org, 5);
        let mut revoked = pending.clone();
        revoked.status = InvitationStatus::Revoked;
        let mut reads = mockall::Sequence::new();
        invitations
            .expect_find_by_hash()
            .times(1)
            .in_sequence(&mut reads)
            .returning(move |_| Ok(Some(pending.clone())));
        invitations
            .expect_find_by_hash()
            .times(1)
            .in_sequence(&mut reads)
            .returning(move |_| Ok(Some(revoked.clone())));
        invitations.expect_log().withf(|a| a.reason.as_deref() == Some("revoked")).times(1).returning(|_| Ok(()));
        invitations.expect_accept().never();
        let svc = service(orgs, invitations);
        let err = svc.accept_token(&actor(2), &InvitationToken::from_presented("t"), &ClientInfo::default()).await;
        assert!(matches!(err, Err(AcceptError::Refused(crate::model::Refusal::Revoked))));
    }

    #[tokio::test]
    async fn an_expired_membership_grants_nothing() {
        let org = OrganizationId::new();
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_active_membership().returning(move |_, _| {
            let mut m = member_of(org, 1, OrgRole::Admin);
            m.expires_at = Some(NOW);
            Ok(Some(m))
        });
        let svc = OrganizationService::new(Arc::new(orgs), Arc::new(FixedClock::at(NOW)));
        assert!(matches!(svc.require(&actor(1), org, OrgRole::Guest).await, Err(OrgError::NotMember)));
    }

    #[tokio::test]
    async fn a_moderator_cannot_remove_a_moderator() {
        let org = OrganizationId::new();
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_active_membership()
            .returning(move |_, user| Ok(Some(member_of(org, user.get(), OrgRole::Moderator))));
        orgs.expect_update_membership().never();
        let svc = OrganizationService::new(Arc::new(orgs), Arc::new(FixedClock::at(NOW)));
        let err = svc.remove(&actor(1), org, UserId::new(2)).await.unwrap_err();
        assert!(matches!(err, OrgError::RoleNotAllowed(OrgRole::Moderator)));
    }

    #[tokio::test]
    async fn a_failed_send_is_retried_later_and_never_sends_twice() {
        let mut invitations = MockInvitationRepository::new();
        let due = OutboxMail {
            id: OutboxId::new(),
            invitation_id: InvitationId::new(),
            mail: InvitationMail {
                to: EmailAddress::parse("b@x.io").unwrap(),
                organization: "Acme".into(),
                invited_by: "Ada".into(),
                role: OrgRole::Member,
                link: "https://usher.test/dashboard/invite?invitation=x".into(),
                expires_at: NOW + Duration::days(1),
            },
            attempts: 2,
            next_attempt_at: NOW,
        };
        let claimed = due.clone();
        let lost = OutboxMail { id: OutboxId::new(), ..due.clone() };
        let lost_id = lost.id;
        invitations.expect_due_mails().returning(move |_, _| Ok(vec![claimed.clone(), lost.clone()]));
        invitations.expect_claim_mail().returning(move |m, _| Ok(m.id != lost_id));
        invitations
            .expect_mail_failed()
            .withf(|_, attempts, retry_at, _, _| *attempts == 3 && *retry_at == Some(NOW + Duration::seconds(240)))
            .times(1)
            .returning(|_, _, _, _, _| Ok(()));
        invitations.expect_mail_sent().never();
        let mut notifier = MockNotifier::new();
        notifier.expect_send_invitation().times(1).returning(|_| Err(anyhow::anyhow!("connection refused")));
        let svc = InvitationService::new(
            Arc::new(MockOrganizationRepository::new()),
            Arc::new(invitations),
            Arc::new(OsTokenGenerator),
            Arc::new(notifier),
            Arc::new(FixedClock::at(NOW)),
            "https://usher.test",
        );
        assert_eq!(svc.drain_outbox(10).await.unwrap(), 0);
        assert_eq!(backoff(20), Duration::hours(1));
    }

    #[tokio::test]
    async fn open_links_cannot_be_rejected() {
        let org = OrganizationId::new();
        let mut orgs = MockOrganizationRepository::new();
        orgs.expect_invitee().returning(|_| {
            Ok(Some(Invitee {
                user_id: UserId::new(2),
                email: EmailAddress::parse("b@x.io").unwrap(),
                email_verified: true,
            }))
        });
        let mut invitations = MockInvitationRepository::new();
        let open = invitation(org, 5);
        let id = open.id;
        invitations.expect_find().returning(move |_| Ok(Some(open.clone())));
        let svc = service(orgs, invitations);
        let err = svc.reject(&actor(2), id, &ClientInfo::default()).await.unwrap_err();
        assert!(matches!(err, InvitationError::OpenLink));
    }
}
